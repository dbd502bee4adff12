package predict

import (
	"errors"
	"math"
	"testing"
)

func TestFitBadInput(t *testing.T) {
	good := cdnowSummary(t)[:200]
	with := func(c Customer) []Customer { return append([]Customer{c}, good...) }
	noRepeat := make([]Customer, 100)
	for i := range noRepeat {
		noRepeat[i] = Customer{T: float64(10 + i%20)}
	}
	tests := []struct {
		name string
		data []Customer
		opts FitOptions
		want error
	}{
		{"t_x after T", with(Customer{X: 2, Tx: 40, T: 30}), FitOptions{}, ErrBadInput},
		{"negative x", with(Customer{X: -1, T: 30}), FitOptions{}, ErrBadInput},
		{"negative T", with(Customer{T: -3}), FitOptions{}, ErrBadInput},
		{"negative weight", with(Customer{X: 1, Tx: 2, T: 30, Weight: -2}), FitOptions{}, ErrBadInput},
		{"fractional x", with(Customer{X: 1.5, Tx: 2, T: 30}), FitOptions{}, ErrBadInput},
		{"t_x without repeat purchases", with(Customer{Tx: 2, T: 30}), FitOptions{}, ErrBadInput},
		{"NaN", with(Customer{X: 1, Tx: math.NaN(), T: 30}), FitOptions{}, ErrBadInput},
		{"infinite T", with(Customer{X: 1, Tx: 1, T: math.Inf(1)}), FitOptions{}, ErrBadInput},
		{"too few", good[:5], FitOptions{}, ErrTooFewCustomers},
		{"fewer than asked", good, FitOptions{MinCustomers: 1000}, ErrTooFewCustomers},
		{"none", nil, FitOptions{}, ErrTooFewCustomers},
		{"no repeat buyers", noRepeat, FitOptions{}, ErrNoRepeatBuyers},
		{"bad start", good, FitOptions{Init: []float64{1, -1, 1, 1}}, ErrBadInput},
		{"start of wrong length", good, FitOptions{Init: []float64{1, 1}}, ErrBadInput},
		{"iteration limit", good, FitOptions{MaxIterations: 1}, ErrNotConverged},
	}
	for _, name := range Models {
		for _, tt := range tests {
			_, err := FitTransactionModel(name, tt.data, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Errorf("%s, %s: err = %v, want %v", name, tt.name, err, tt.want)
			}
		}
	}
	if _, err := FitTransactionModel("nbd", good, FitOptions{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("unknown model: err = %v", err)
	}
}

// TestCompressedFitIsTheSame: weights stand for repeated rows exactly.
func TestCompressedFitIsTheSame(t *testing.T) {
	data := cdnowSummary(t)
	comp := Compress(data)
	var n float64
	for _, c := range comp {
		n += c.Weight
	}
	if n != 2357 || len(comp) >= len(data) {
		t.Fatalf("compressed to %d rows of %v customers", len(comp), n)
	}
	a, err := FitBGNBD(data, FitOptions{SkipSE: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := FitBGNBD(comp, FitOptions{SkipSE: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.R != b.R || a.Alpha != b.Alpha || a.A != b.A || a.B != b.B || a.LogLik != b.LogLik || b.SE != nil {
		t.Errorf("fit on rows %+v, on compressed rows %+v", a, b)
	}
	if ll := LogLik(a, comp); !near(ll, a.LogLik, 1e-6) {
		t.Errorf("LogLik %v, fit %v", ll, a.LogLik)
	}
}

func TestModelChoice(t *testing.T) {
	var fitted []TransactionModel
	for _, name := range Models {
		m := sampleFit(t, name)
		if m.Name() != name {
			t.Errorf("model %q is named %q", name, m.Name())
		}
		// Restoring from stored values gives the same predictions.
		r, err := NewTransactionModel(name, m.Params())
		if err != nil {
			t.Fatal(err)
		}
		c := Customer{X: 3, Tx: 20, T: 35}
		if r.PAlive(c) != m.PAlive(c) || r.ConditionalExpected(c, 39) != m.ConditionalExpected(c, 39) {
			t.Errorf("%s restored predicts differently", name)
		}
		// The optimised likelihood (terms grouped by x, analytic gradient)
		// equals the sum of the per-customer one.
		if ll := LogLik(m, cdnowSummary(t)); !near(ll, m.Fitted().LogLik, 1e-6) {
			t.Errorf("%s: Σ CustomerLogLik %v, fit %v", name, ll, m.Fitted().LogLik)
		}
		if bic := BIC(m); !near(bic, 4*math.Log(2357)-2*m.Fitted().LogLik, 1e-9) || AIC(m) >= bic {
			t.Errorf("%s: BIC %v, AIC %v", name, bic, AIC(m))
		}
		fitted = append(fitted, m)
	}
	// On the CDNOW sample MBG/NBD has the best likelihood, Pareto/NBD the
	// worst (Batislam et al. 2007; Fader, Hardie & Lee 2005).
	if !(BIC(fitted[1]) < BIC(fitted[0]) && BIC(fitted[0]) < BIC(fitted[2])) {
		t.Errorf("BIC bgnbd %.2f, mbgnbd %.2f, paretonbd %.2f", BIC(fitted[0]), BIC(fitted[1]), BIC(fitted[2]))
	}
	for _, bad := range []struct {
		name   string
		params []float64
	}{
		{"bgnbd", []float64{1, 2, 3}}, {"bgnbd", []float64{1, 2, 3, 0}}, {"paretonbd", []float64{1, math.Inf(1), 1, 1}},
		{"mbgnbd", []float64{1, math.NaN(), 1, 1}}, {"pnbd", []float64{1, 1, 1, 1}},
	} {
		if _, err := NewTransactionModel(bad.name, bad.params); !errors.Is(err, ErrBadInput) {
			t.Errorf("NewTransactionModel(%q, %v): err = %v", bad.name, bad.params, err)
		}
	}
}

// TestTimeUnitInvariance: the same customers in days instead of weeks give
// the same shape parameters and 7 times the scale parameters (α, β), so
// the starting values and convergence do not depend on the unit.
func TestTimeUnitInvariance(t *testing.T) {
	weeks := cdnowSummary(t)
	days := make([]Customer, len(weeks))
	for i, c := range weeks {
		days[i] = Customer{X: c.X, Tx: 7 * c.Tx, T: 7 * c.T}
	}
	scale := map[string][]float64{"bgnbd": {1, 7, 1, 1}, "mbgnbd": {1, 7, 1, 1}, "paretonbd": {1, 7, 1, 7}}
	for _, name := range Models {
		w := sampleFit(t, name)
		d, err := FitTransactionModel(name, days, FitOptions{SkipSE: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range d.Params() {
			if want := w.Params()[i] * scale[name][i]; !within(v, want, 1e-4) {
				t.Errorf("%s in days: %s = %v, want %v", name, d.ParamNames()[i], v, want)
			}
		}
	}
}
