package predict

import (
	"fmt"
	"math"
	"sync"
	"testing"
)

var (
	sampleFits   sync.Map // model name -> TransactionModel fitted on cdnow_customers_summary.csv
	sampleFitsMu sync.Mutex
)

// sampleFit fits a model on the CDNOW summary once per test run.
func sampleFit(t *testing.T, name string) TransactionModel {
	t.Helper()
	sampleFitsMu.Lock()
	defer sampleFitsMu.Unlock()
	if m, ok := sampleFits.Load(name); ok {
		return m.(TransactionModel)
	}
	m, err := FitTransactionModel(name, cdnowSummary(t), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sampleFits.Store(name, m)
	return m
}

// checkParams asserts fitted parameters within rel of the published ones.
func checkParams(t *testing.T, m interface {
	ParamNames() []string
	Params() []float64
}, want []float64, rel float64) {
	t.Helper()
	for i, name := range m.ParamNames() {
		if got := m.Params()[i]; !within(got, want[i], rel) {
			t.Errorf("%s = %.6g, want %.6g (±%.2g%%)", name, got, want[i], rel*100)
		}
	}
}

func TestBGNBDCDNOWSample(t *testing.T) {
	m := sampleFit(t, "bgnbd").(BGNBD)
	t.Logf("BG/NBD r %.7f alpha %.7f a %.7f b %.7f LL %.4f SE %.4g (%d rows, %d iterations, %d evaluations, %v)",
		m.R, m.Alpha, m.A, m.B, m.LogLik, m.SE, m.Rows, m.Iterations, m.Evaluations, m.Duration)
	// Fader, Hardie & Lee (2005); BTYD from the unrounded data.
	checkParams(t, m, []float64{0.2426, 4.414, 0.7930, 2.426}, 0.005)
	checkParams(t, m, []float64{0.2425982, 4.4136842, 0.7929899, 2.4261667}, 0.005)
	// The summary file rounds weeks to 2 decimals: LL -9582.4256 there
	// (README), -9582.429 on exact weeks.
	if !near(m.LogLik, -9582.4256, 0.01) {
		t.Errorf("LL = %.4f, want -9582.43", m.LogLik)
	}
	for i, se := range m.SE {
		if !(se > 0) || se > m.Params()[i] {
			t.Errorf("SE[%d] = %v, want positive and smaller than the estimate", i, se)
		}
	}
}

func TestBGNBDPredictions(t *testing.T) {
	type check struct {
		name      string
		got, want float64
		tol       float64
	}
	// BTYD's estimates on exact weeks and ours on the summary file must both
	// give the published predictions.
	for _, m := range []BGNBD{
		{R: 0.2425982, Alpha: 4.4136842, A: 0.7929899, B: 2.4261667},
		sampleFit(t, "bgnbd").(BGNBD),
	} {
		for _, tt := range []check{
			{"E[Y(39)|x=2,t_x=30.43,T=38.86]", m.ConditionalExpected(Customer{X: 2, Tx: 30.43, T: 38.86}, 39), 1.226, 0.001},
			{"E[X(1)]", m.Expected(1), 0.0532, 0.001},
			{"E[X(3)]", m.Expected(3), 0.1506, 0.001},
			{"E[X(32)]", m.Expected(32), 1.0437, 0.001},
			{"E[X(52)]", m.Expected(52), 1.444004, 0.001},
			{"E[X(78)]", m.Expected(78), 1.8576, 0.001},
			{"P(alive|x=26,t_x=30.857,T=31)", m.PAlive(Customer{X: 26, Tx: 30.857, T: 31}), 0.9688523, 0.00001},
			{"E[Y(52)|x=26,t_x=30.857,T=31]", m.ConditionalExpected(Customer{X: 26, Tx: 30.857, T: 31}, 52), 25.75659, 0.01},
		} {
			if !near(tt.got, tt.want, tt.tol) {
				t.Errorf("%v: %s = %.8g, want %.8g ± %g", m.Params(), tt.name, tt.got, tt.want, tt.tol)
			}
		}
	}
	// BTYD's manual computes these with the published, rounded estimates.
	published := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	tests := []check{
		{"P(X(2)=10)", published.ProbN(10, 2), 1.07869e-7, 1e-12},
		{"P(X(39)=0)", published.ProbN(0, 39), 0.5737864, 1e-7},
	}
	// BTYD's P(X(30)=n), n = 11 … 20.
	for i, want := range []float64{0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
		0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260} {
		n := 11 + i
		tests = append(tests, check{fmt.Sprintf("P(X(30)=%d)", n), published.ProbN(n, 30), want, 1e-10})
	}
	for _, tt := range tests {
		if !near(tt.got, tt.want, tt.tol) {
			t.Errorf("%s = %.8g, want %.8g ± %g", tt.name, tt.got, tt.want, tt.tol)
		}
	}
}

// TestTransactionModelConsistency checks each model's predictions against
// each other: P(X(t)=n) sums to 1 with mean E[X(t)], a new customer's
// conditional expectation equals the unconditional one (BG/NBD: a
// customer with x = 0 at T = 0 is a new customer), and P(alive) is a
// probability that falls with a longer silence.
func TestTransactionModelConsistency(t *testing.T) {
	models := []TransactionModel{
		BGNBD{R: 0.2425982, Alpha: 4.4136842, A: 0.7929899, B: 2.4261667},
		MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614},
		ParetoNBD{R: 0.5533, Alpha: 10.5776, S: 0.6061, Beta: 11.6650},
		ParetoNBD{R: 0.6, Alpha: 8, S: 0.7, Beta: 12}, // α < β branch
		ParetoNBD{R: 0.6, Alpha: 12, S: 0.7, Beta: 8}, // α > β branch
		ParetoNBD{R: 0.6, Alpha: 10, S: 1, Beta: 10},  // s = 1, α = β
		BGNBD{R: 2, Alpha: 10, A: 1.5, B: 4},          // a > 1
		MBGNBD{R: 0.3, Alpha: 2, A: 2.5, B: 5},        // a > 1
		ParetoNBD{R: 2, Alpha: 10, S: 1.5, Beta: 40},  // s > 1
	}
	for _, m := range models {
		for _, horizon := range []float64{0.5, 13, 39, 78} {
			var sum, mean float64
			for n := 0; n < 300; n++ {
				p := m.ProbN(n, horizon)
				if p < 0 || p > 1 || math.IsNaN(p) {
					t.Fatalf("%s %v: P(X(%g)=%d) = %v", m.Name(), m.Params(), horizon, n, p)
				}
				sum += p
				mean += float64(n) * p
			}
			if !near(sum, 1, 1e-6) {
				t.Errorf("%s %v: Σ P(X(%g)=n) = %.9f, want 1", m.Name(), m.Params(), horizon, sum)
			}
			if e := m.Expected(horizon); !within(mean, e, 1e-5) {
				t.Errorf("%s %v: Σ n·P(X(%g)=n) = %.9f, E[X] = %.9f", m.Name(), m.Params(), horizon, mean, e)
			}
		}
		fresh := Customer{X: 0, Tx: 0, T: 0}
		if _, mbg := m.(MBGNBD); !mbg { // MBG/NBD's x = 0 customer may be dead at T = 0
			if got, want := m.ConditionalExpected(fresh, 26), m.Expected(26); !within(got, want, 1e-9) {
				t.Errorf("%s: E[Y(26)|new] = %v, E[X(26)] = %v", m.Name(), got, want)
			}
		}
		prev := 1.0
		for _, T := range []float64{5, 10, 20, 40, 80} {
			p := m.PAlive(Customer{X: 3, Tx: 5, T: T})
			if !(p > 0 && p <= prev) {
				t.Errorf("%s: P(alive|x=3,t_x=5,T=%g) = %v, not in (0, %v]", m.Name(), T, p, prev)
			}
			prev = p
		}
	}
}
