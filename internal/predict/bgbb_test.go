package predict

import (
	"errors"
	"math"
	"testing"
)

func TestBGBBDonations(t *testing.T) {
	data := donations(t)
	m, err := FitBGBB(data, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BG/BB alpha %.6f beta %.6f gamma %.6f delta %.6f LL %.4f SE %.4g (%g donors, %v)",
		m.Alpha, m.Beta, m.Gamma, m.Delta, m.LogLik, m.SE, m.N, m.Duration)
	if m.N != 11104 {
		t.Errorf("fitted on %g donors, want 11104", m.N)
	}
	checkParams(t, m, []float64{1.204, 0.750, 0.657, 2.783}, 0.005)
	if !near(m.LogLik, -33225.58, 0.05) {
		t.Errorf("LL = %.4f, want -33225.58", m.LogLik)
	}
}

func TestBGBBPredictions(t *testing.T) {
	m := BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 0.657, Delta: 2.783}
	// The distribution of transactions in the first n opportunities sums to
	// one, its mean is E[X(n)], and the expected transactions over all
	// histories sum up as the unconditional ones do.
	for _, n := range []int{1, 6, 11} {
		var sum, mean float64
		for x := 0; x <= n; x++ {
			p := m.ProbN(x, n)
			sum += p
			mean += float64(x) * p
		}
		if !near(sum, 1, 1e-12) || !near(mean, m.Expected(n), 1e-10) {
			t.Errorf("n = %d: Σ P = %v, mean %v, E[X(n)] = %v", n, sum, mean, m.Expected(n))
		}
	}
	// E[X(n)] from its telescoped form equals the plain sum of survival.
	for _, n := range []int{3, 20} {
		var direct float64
		for k := 1; k <= n; k++ {
			direct += math.Exp(lbeta(m.Gamma, m.Delta+float64(k)) - lbeta(m.Gamma, m.Delta))
		}
		direct *= m.Alpha / (m.Alpha + m.Beta)
		if !near(m.Expected(n), direct, 1e-10) {
			t.Errorf("E[X(%d)] = %v, direct sum %v", n, m.Expected(n), direct)
		}
	}
	best := Opportunity{X: 6, Tx: 6, N: 6}
	lapsed := Opportunity{X: 1, Tx: 1, N: 6}
	if pb, pl := m.PAlive(best), m.PAlive(lapsed); !(pb > 0.9 && pl < 0.2) {
		t.Errorf("P(alive) of 6/6 donor %v, of donor silent since 1 %v", pb, pl)
	}
	eb, el := m.ConditionalExpected(best, 5), m.ConditionalExpected(lapsed, 5)
	if !(eb > 3 && eb < 5 && el < 0.2) {
		t.Errorf("expected donations in the next 5 years: 6/6 donor %v, lapsed donor %v", eb, el)
	}
	// A customer's likelihood over every possible history of n
	// opportunities sums to one.
	var total float64
	n := 6
	total += math.Exp(m.CustomerLogLik(Opportunity{N: n}))
	for tx := 1; tx <= n; tx++ {
		for x := 1; x <= tx; x++ {
			// histories with x transactions, the last at tx
			ways := math.Exp(lchoose(float64(tx-1), float64(x-1)))
			total += ways * math.Exp(m.CustomerLogLik(Opportunity{X: x, Tx: tx, N: n}))
		}
	}
	if !near(total, 1, 1e-12) {
		t.Errorf("likelihood over all histories sums to %v", total)
	}
}

func TestBGBBBadInput(t *testing.T) {
	tests := []struct {
		name string
		data []Opportunity
		want error
	}{
		{"x > t_x", []Opportunity{{X: 3, Tx: 2, N: 6}}, ErrBadInput},
		{"t_x > n", []Opportunity{{X: 1, Tx: 7, N: 6}}, ErrBadInput},
		{"no opportunities", []Opportunity{{N: 0}}, ErrBadInput},
		{"negative weight", []Opportunity{{X: 1, Tx: 1, N: 6, Weight: -1}}, ErrBadInput},
		{"no repeat", []Opportunity{{N: 6, Weight: 100}}, ErrNoRepeatBuyers},
		{"too few", []Opportunity{{X: 1, Tx: 1, N: 6}, {N: 6}}, ErrTooFewCustomers},
	}
	for _, tt := range tests {
		if _, err := FitBGBB(tt.data, FitOptions{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}
