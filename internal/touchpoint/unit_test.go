package touchpoint_test

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/touchpoint"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %v, want %v (±%v)", what, got, want, tol)
	}
}

// The textbook example x = 1..5, y = 2,4,5,4,5 worked by hand:
// Sxx = 10, Syy = 6, Sxy = 6, so slope 0.6, intercept 4 − 0.6·3 = 2.2,
// r = 6/√60 = 0.774597, t = r·√(3/(1−r²)) = 3/√2 = 2.121320; the two-sided
// p of Student's t with 3 degrees of freedom from its closed-form CDF
// F(t) = 1/2 + (t/(√3(1+t²/3)) + atan(t/√3))/π is 0.124027; Fisher's z
// interval tanh(atanh r ± 1.959964/√2) = (−0.340082, 0.984236).
func TestRegressKnown(t *testing.T) {
	r := touchpoint.Regress([]float64{1, 2, 3, 4, 5}, []float64{2, 4, 5, 4, 5})
	near(t, "slope", float64(r.Slope), 0.6, 1e-12)
	near(t, "intercept", float64(r.Intercept), 2.2, 1e-12)
	near(t, "r", float64(r.R), 6/math.Sqrt(60), 1e-12)
	near(t, "t", float64(r.T), 3/math.Sqrt2, 1e-9)
	near(t, "p", float64(r.P), 0.124027, 1e-5)
	near(t, "low", float64(r.Low), -0.340082, 1e-5)
	near(t, "high", float64(r.High), 0.984236, 1e-5)
	if r.Significant || r.N != 5 {
		t.Errorf("significant %v n %d", r.Significant, r.N)
	}
	// Undefined without spread or with too few pairs.
	if r := touchpoint.Regress([]float64{1, 1, 1}, []float64{1, 2, 3}); r.R.Defined() {
		t.Errorf("no spread in x: r %v", r.R)
	}
	if r := touchpoint.Regress([]float64{1, 2}, []float64{1, 2}); r.R.Defined() {
		t.Errorf("two pairs: r %v", r.R)
	}
}

// TestRegressAgainstGonum checks slope, intercept and r against gonum's
// independent implementation on random data.
func TestRegressAgainstGonum(t *testing.T) {
	rnd := rand.New(rand.NewSource(7))
	for k := 0; k < 20; k++ {
		n := 10 + rnd.Intn(200)
		x, y := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = rnd.Float64() * 100
			y[i] = 0.3*x[i] + rnd.NormFloat64()*20
		}
		r := touchpoint.Regress(x, y)
		alpha, beta := stat.LinearRegression(x, y, nil, false)
		near(t, "slope", float64(r.Slope), beta, 1e-9)
		near(t, "intercept", float64(r.Intercept), alpha, 1e-7)
		near(t, "r", float64(r.R), stat.Correlation(x, y, nil), 1e-12)
	}
}

func TestKeyDriversPairsCustomers(t *testing.T) {
	// Hotline satisfaction 25,100,75,50,0 against overall 40,90,80,60,20
	// (hand: Sxx 6250, Sxy 4500, slope 0.72, intercept 58 − 0.72·50 = 22).
	var as []store.TouchpointAnswer
	xs, ys := []float64{25, 100, 75, 50, 0}, []float64{40, 90, 80, 60, 20}
	for i := range xs {
		c := fmt.Sprintf("c%d", i)
		as = append(as, store.TouchpointAnswer{Touchpoint: "tp_h", CustomerID: c, Score: xs[i]},
			store.TouchpointAnswer{CustomerID: c, Score: ys[i]})
	}
	// A customer with only a touchpoint answer does not count; two overall
	// answers of one customer are averaged.
	as = append(as, store.TouchpointAnswer{Touchpoint: "tp_h", CustomerID: "lonely", Score: 100},
		store.TouchpointAnswer{CustomerID: "c0", Score: 40})
	kd := touchpoint.KeyDrivers(as)
	r := kd["tp_h"]
	if r.N != 5 {
		t.Fatalf("n %d", r.N)
	}
	near(t, "slope", float64(r.Slope), 0.72, 1e-12)
	near(t, "intercept", float64(r.Intercept), 22, 1e-9)
	near(t, "r", float64(r.R), 0.9938837346736189, 1e-12)
	near(t, "p", float64(r.P), 0.000573673, 1e-7)
	if !r.Significant {
		t.Error("not significant")
	}
}

func TestPlaceQuadrants(t *testing.T) {
	pts := []touchpoint.Point{
		{ID: "a", Importance: 0.8, Performance: 40, Reach: 100},                    // important, weak
		{ID: "b", Importance: 0.7, Performance: 80, Reach: 100},                    // important, strong
		{ID: "c", Importance: 0.1, Performance: 30, Reach: 100},                    // unimportant, weak
		{ID: "d", Importance: 0.2, Performance: 90, Reach: 10},                     // overkill, low reach
		{ID: "e", Importance: 0.2, Performance: 85, Reach: 500, CostPerContact: 1}, // overkill, reach high, cheap
	}
	im, pm := touchpoint.Place(pts)
	near(t, "importance mean", im, 0.4, 1e-12)
	near(t, "performance mean", pm, 65, 1e-12)
	want := map[string]string{"a": touchpoint.Concentrate, "b": touchpoint.KeepUp, "c": touchpoint.LowPriority, "d": touchpoint.Overkill, "e": touchpoint.Overkill}
	for _, p := range pts {
		if p.Quadrant != want[p.ID] {
			t.Errorf("%s: %s, want %s", p.ID, p.Quadrant, want[p.ID])
		}
		if p.RetireCandidate != (p.ID == "d") {
			t.Errorf("%s: retire candidate %v", p.ID, p.RetireCandidate)
		}
	}
	// On the border counts as high.
	pts = []touchpoint.Point{{ID: "x", Importance: 1, Performance: 1}, {ID: "y", Importance: 1, Performance: 1}}
	touchpoint.Place(pts)
	if pts[0].Quadrant != touchpoint.KeepUp {
		t.Errorf("border: %s", pts[0].Quadrant)
	}
}

func TestSketch(t *testing.T) {
	var s touchpoint.Sketch
	for i := 0; i < 200; i++ {
		s.Add(touchpoint.HashCustomer(fmt.Sprint("c", i%100)))
	}
	if s.Count() != 100 {
		t.Fatalf("exact: %d", s.Count())
	}
	b := touchpoint.DecodeSketch(s.Encode())
	if b.Count() != 100 {
		t.Fatalf("decoded: %d", b.Count())
	}
	// Union of day sketches past the exact limit: within 3 standard errors.
	var total touchpoint.Sketch
	for d := 0; d < 50; d++ {
		var day touchpoint.Sketch
		for i := 0; i < 2000; i++ {
			day.Add(touchpoint.HashCustomer(fmt.Sprint("c", (d*977+i*13)%60000)))
		}
		enc := day.Encode()
		dec := touchpoint.DecodeSketch(enc)
		total.Merge(&dec)
	}
	exact := map[int]bool{}
	for d := 0; d < 50; d++ {
		for i := 0; i < 2000; i++ {
			exact[(d*977+i*13)%60000] = true
		}
	}
	got, want := float64(total.Count()), float64(len(exact))
	if math.Abs(got-want)/want > 3*0.023 {
		t.Errorf("hll %v, exact %v", got, want)
	}
}

func facts(src, typ, name string, props, ctx string) touchpoint.Facts {
	ev := event.Event{Type: typ, Event: name}
	if typ != event.Track {
		ev.Event, ev.Name = "", name
	}
	if props != "" {
		ev.Properties = []byte(props)
	}
	if ctx != "" {
		ev.Context = []byte(ctx)
	}
	return touchpoint.FactsOf(src, &ev)
}

func TestMatchOrderAndConditions(t *testing.T) {
	tps := []store.Touchpoint{ // in matching order, as the store lists them
		{ID: "help", Priority: 0, Rules: []store.TouchpointRule{{Source: "Web shop", PathPrefix: "/help"}}},
		{ID: "spring", Priority: 0, Rules: []store.TouchpointRule{{Campaign: "spring"}}},
		{ID: "portal", Priority: 0, Rules: []store.TouchpointRule{{Event: "Feedback Received", Property: "portal", Equals: "trustpilot"}}},
		{ID: "pdp", Priority: 5, Rules: []store.TouchpointRule{{Type: "page", PathPattern: "/p/*/reviews"}}},
		{ID: "web", Priority: 10, Rules: []store.TouchpointRule{{Source: "src_web"}}},
	}
	m := touchpoint.NewMatcher(tps, []store.Source{{ID: "src_web", Name: "Web shop"}})
	cases := []struct {
		f    touchpoint.Facts
		want string
	}{
		{facts("src_web", "page", "Help", `{"path":"/help/returns"}`, ""), "help"},
		{facts("src_web", "page", "", `{"path":"/helpdesk"}`, ""), "web"}, // segment border
		{facts("src_web", "page", "", "", `{"page":{"path":"/help"}}`), "help"},
		{facts("src_web", "page", "", `{"path":"/x"}`, `{"campaign":{"name":"Spring"}}`), "spring"},
		{facts("src_web", "page", "", `{"url":"https://shop.example/x?utm_campaign=spring"}`, ""), "spring"},
		{facts("src_other", "track", "Feedback Received", `{"portal":"Trustpilot"}`, ""), "portal"},
		{facts("src_other", "track", "Feedback Received", `{"portal":"google"}`, ""), ""},
		{facts("src_other", "page", "", `{"path":"/p/42/reviews"}`, ""), "pdp"},
		{facts("src_web", "page", "", `{"path":"/p/42/reviews"}`, ""), "pdp"}, // priority 5 before 10
		{facts("src_web", "track", "Order Completed", "", ""), "web"},
		{facts("src_other", "track", "Order Completed", "", ""), ""},
	}
	for i, c := range cases {
		if got := m.Match(&c.f); got != c.want {
			t.Errorf("case %d: %q, want %q", i, got, c.want)
		}
	}
	// An event that names a catalogue touchpoint goes there before any rule.
	named := facts("src_web", "track", "Campaign Delivered", `{"touchpoint":"Spring"}`, "")
	if got := m.MatchEvent(&named); got != "spring" {
		t.Errorf("named touchpoint: %q", got)
	}
	unknown := facts("src_web", "track", "Campaign Delivered", `{"touchpoint":"Nowhere"}`, "")
	if got := m.MatchEvent(&unknown); got != "web" {
		t.Errorf("unknown named touchpoint: %q, want the rules' web", got)
	}
	if m.Resolve(" WEB ") != "web" {
		t.Error("resolve by id")
	}
}

func TestGroupOf(t *testing.T) {
	for _, c := range []struct {
		f                touchpoint.Facts
		key, kind, value string
	}{
		{facts("s1", "page", "", `{"path":"/blog/post-1"}`, ""), "path|s1|/blog", "path", "/blog"},
		{facts("s1", "track", "Email Opened", "", ""), "event|s1|email opened", "event", "Email Opened"},
		{facts("s1", "track", "Email Opened", "", `{"campaign":{"name":"Autumn"}}`), "campaign|autumn", "campaign", "Autumn"},
		{facts("s1", "screen", "Basket", "", ""), "screen|s1|basket", "screen", "Basket"},
	} {
		k, kind, v := touchpoint.GroupOf(&c.f)
		if k != c.key || kind != c.kind || v != c.value {
			t.Errorf("%q %q %q, want %q %q %q", k, kind, v, c.key, c.kind, c.value)
		}
	}
	u := store.TouchpointUnmatched{Kind: "path", SourceID: "s1", Value: "/blog"}
	f := facts("s1", "page", "", `{"path":"/blog/post-2"}`, "")
	m := touchpoint.NewMatcher([]store.Touchpoint{{ID: "blog", Rules: []store.TouchpointRule{touchpoint.RuleOf(u)}}}, nil)
	if m.Match(&f) != "blog" {
		t.Error("the proposal's rule does not match its events")
	}
}
