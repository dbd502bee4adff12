package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/touchpoint"
)

// touchpointEvents sends six customers' events: three read the help pages
// (no rule matches them yet: a proposal), all six order (the Checkout
// touchpoint's rule), and each answers an overall NPS survey and CSAT
// surveys about the checkout and the help pages. Checkout satisfaction
// moves with overall satisfaction and is low: concentrate here; the help
// pages please everyone, move nothing and reach few: a retire candidate.
func (a *app) touchpointEvents() {
	a.t.Helper()
	now := time.Now().UTC().Add(-time.Hour)
	at := func(i int) string { return now.Add(time.Duration(i) * time.Second).Format(time.RFC3339) }
	overall := []int{2, 4, 6, 8, 9, 10}
	checkout := []int{1, 2, 2, 3, 3, 4}
	help := []int{5, 4, 5, 5, 4, 5}
	var evs []map[string]any
	for i := range overall {
		u := fmt.Sprintf("TP-%d", i)
		if i < 3 {
			evs = append(evs, map[string]any{"type": "page", "userId": u, "name": "Help", "timestamp": at(10 * i),
				"properties": map[string]any{"path": fmt.Sprintf("/help/topic-%d", i)}})
		}
		evs = append(evs,
			map[string]any{"type": "track", "userId": u, "event": "Order Completed", "timestamp": at(10*i + 1),
				"properties": map[string]any{"order_id": "TP-O-" + u, "revenue": 30, "currency": "EUR"}},
			map[string]any{"type": "track", "userId": u, "event": "Survey Answered", "timestamp": at(10*i + 2),
				"properties": map[string]any{"surveyId": "sv_nps", "surveyType": "nps", "score": overall[i]}},
			map[string]any{"type": "track", "userId": u, "event": "Survey Answered", "timestamp": at(10*i + 3),
				"properties": map[string]any{"surveyId": "sv_co", "surveyType": "csat", "score": checkout[i], "touchpoint": "Checkout"}},
			map[string]any{"type": "track", "userId": u, "event": "Survey Answered", "timestamp": at(10*i + 4),
				"properties": map[string]any{"surveyId": "sv_help", "surveyType": "csat", "score": help[i], "touchpoint": "Help pages"}})
	}
	if code := a.send(a.Shop.WriteKey, evs...); code != 200 {
		a.t.Fatalf("send: %d", code)
	}
	a.settle()
}

// tpSettle waits until the touchpoint consumer has caught up (and any
// rebuild is done).
func (a *app) tpSettle() {
	a.t.Helper()
	svc := &touchpoint.Service{Store: a.Srv.Store}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		a.Srv.Pipeline.Wake()
		p, err := svc.Progress(ctx)
		if err == nil && !p.Rebuilding && p.Cursor >= p.Target {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.t.Fatal("touchpoint consumer did not catch up in 20 s")
}

func (a *app) checkout() store.Touchpoint {
	a.t.Helper()
	name, ch, stage := "Checkout", "web", "purchase"
	rules := []store.TouchpointRule{{Type: "track", Event: "Order Completed"}}
	t, err := (&touchpoint.Service{Store: a.Srv.Store}).Create(ctx, touchpoint.Input{Name: &name, Channel: &ch, Stage: &stage, Rules: &rules}, "test")
	if err != nil {
		a.t.Fatal(err)
	}
	return t
}

// TestTouchpointPages: the pages on both stores through HTTP: the
// catalogue with the proposal, accepting it by form, the matrix with its
// recommendations in English and German, and an agent who may look but
// not change.
func TestTouchpointPages(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		a.checkout()
		a.touchpointEvents()
		a.tpSettle()
		admin := a.client("en")
		admin.login("admin@kunding.test")
		p := admin.get("/touchpoints")
		key := "path|" + a.Shop.ID + "|/help"
		mustContain(t, p, "Checkout", `data-key="`+key+`"`, "Page path: /help")
		p = admin.post("/touchpoints/proposals", url.Values{"csrf_token": {admin.csrf(p)}, "key": {key}, "action": {"accept"}, "name": {"Help pages"}})
		if p.Code != 303 || !strings.HasPrefix(p.Location, "/touchpoints/tp_") {
			t.Fatalf("accept: %d %s %s", p.Code, p.Location, p.Body)
		}
		a.tpSettle()
		p = admin.get("/touchpoints/matrix")
		mustContain(t, p, "Touchpoint matrix", "Concentrate here", "Invest here", "Retire candidate")
		p = admin.get(p.Location)
		de := a.client("de")
		de.login("admin@kunding.test")
		mustContain(t, de.get("/touchpoints/matrix"), "Hier konzentrieren", "Kandidat zum Einstellen", "Customer Journey")
		// Invalid form input changes nothing and says why.
		p = admin.get("/touchpoints")
		p = admin.post("/touchpoints", url.Values{"csrf_token": {admin.csrf(p)}, "name": {"Broken"}, "rules": {`[{}]`}})
		if p.Code != 422 || !strings.Contains(p.Body, "at least one condition") {
			t.Fatalf("invalid rule: %d", p.Code)
		}
		list, _ := (&touchpoint.Service{Store: a.Srv.Store}).List(ctx)
		if len(list) != 2 {
			t.Fatalf("%d touchpoints after a refused form", len(list))
		}
		agent := a.client("en")
		agent.login("agent@kunding.test")
		p = agent.get("/touchpoints/matrix")
		mustContain(t, p, "Touchpoint matrix")
		p = agent.get("/touchpoints")
		mustNotContain(t, p, "create-touchpoint")
		if p := agent.post("/touchpoints", url.Values{"csrf_token": {agent.csrf(p)}, "name": {"X"}}); p.Code != 403 {
			t.Fatalf("agent creates: %d", p.Code)
		}
	})
}

// TestTouchpointBrowser: in Chromium, an admin creates a touchpoint from a
// discovered proposal and reads a recommendation in the matrix.
func TestTouchpointBrowser(t *testing.T) {
	bctx := browserContext(t)
	a := startApp(t, "")
	a.checkout()
	a.touchpointEvents()
	a.tpSettle()
	do(t, bctx, "login page", chromedp.Navigate(a.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "admin@kunding.test"), chromedp.SendKeys(chromedp.ID("password"), password))
	if _, err := chromedp.RunResponse(bctx, chromedp.SendKeys(chromedp.ID("password"), "\r")); err != nil {
		t.Fatal(err)
	}
	do(t, bctx, "touchpoints", chromedp.Navigate(a.URL+"/touchpoints"), chromedp.WaitVisible(chromedp.ID("proposal-table")))
	row := `#proposal-table tr[data-key="path|` + a.Shop.ID + `|/help"]`
	do(t, bctx, "name the proposal", chromedp.SetValue(chromedp.CSS(row+` form.accept input[name="name"]`), "Help pages"))
	screenshot(t, bctx, "touchpoint-proposals")
	click(t, bctx, row+` form.accept button`)
	if h := text(t, bctx, "h1"); h != "Help pages" {
		t.Fatalf("after accepting: heading %q", h)
	}
	a.tpSettle()
	do(t, bctx, "matrix", chromedp.Navigate(a.URL+"/touchpoints/matrix"), chromedp.WaitVisible(chromedp.ID("matrix-table")))
	if n := eval[float64](t, bctx, `Chart.getChart("matrix-chart").data.datasets[0].data.length`); n != 2 {
		t.Fatalf("the chart shows %v points, want 2", n)
	}
	advice := eval[string](t, bctx, `[...document.querySelectorAll("#matrix-table tbody tr")].find(r => r.querySelector("th").textContent === "Help pages").querySelector(".advice").textContent`)
	if !strings.HasPrefix(advice, "Retire candidate") {
		t.Fatalf("the help pages' recommendation: %q", advice)
	}
	advice = eval[string](t, bctx, `[...document.querySelectorAll("#matrix-table tbody tr")].find(r => r.querySelector("th").textContent === "Checkout").querySelector(".advice").textContent`)
	if !strings.HasPrefix(advice, "Invest here") {
		t.Fatalf("the checkout's recommendation: %q", advice)
	}
	screenshot(t, bctx, "touchpoint-matrix")
}
