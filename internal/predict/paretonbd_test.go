package predict

import (
	"math"
	"testing"
)

func TestParetoNBDCDNOWSample(t *testing.T) {
	m := sampleFit(t, "paretonbd").(ParetoNBD)
	t.Logf("Pareto/NBD r %.7f alpha %.7f s %.7f beta %.7f LL %.4f SE %.4g (%d rows, %d iterations, %d evaluations, %v)",
		m.R, m.Alpha, m.S, m.Beta, m.LogLik, m.SE, m.Rows, m.Iterations, m.Evaluations, m.Duration)
	checkParams(t, m, []float64{0.5532, 10.576, 0.6062, 11.67}, 0.005)
	if !near(m.LogLik, -9594.98, 0.01) {
		t.Errorf("LL = %.4f, want -9594.98", m.LogLik)
	}
	for i, se := range m.SE {
		if !(se > 0) || se > m.Params()[i] {
			t.Errorf("SE[%d] = %v, want positive and smaller than the estimate", i, se)
		}
	}
}

func TestParetoNBDPredictions(t *testing.T) {
	c := Customer{X: 26, Tx: 30.857, T: 31}
	// BTYD's estimates on the exact weekly data and ours on the summary file
	// must both give the published predictions.
	for _, m := range []ParetoNBD{
		{R: 0.5534, Alpha: 10.5802, S: 0.6061, Beta: 11.6562},
		sampleFit(t, "paretonbd").(ParetoNBD),
	} {
		if got := m.PAlive(c); !near(got, 0.997874, 0.0001) {
			t.Errorf("%v: P(alive|x=26,t_x=30.857,T=31) = %.7f, want 0.997874", m.Params(), got)
		}
		if got := m.ConditionalExpected(c, 52); !near(got, 25.45647, 0.05) {
			t.Errorf("%v: E[Y(52)|x=26,t_x=30.857,T=31] = %.5f, want 25.45647 ± 0.05", m.Params(), got)
		}
	}
}

func TestMBGNBDCDNOWSample(t *testing.T) {
	m := sampleFit(t, "mbgnbd").(MBGNBD)
	t.Logf("MBG/NBD r %.7f alpha %.7f a %.7f b %.7f LL %.4f SE %.4g (%d rows, %d iterations, %v)",
		m.R, m.Alpha, m.A, m.B, m.LogLik, m.SE, m.Rows, m.Iterations, m.Duration)
	checkParams(t, m, []float64{0.525, 6.183, 0.891, 1.614}, 0.005)
}

// TestParetoNBDProbNIntegral checks the closed form of P(X(t)=n) against a
// direct numerical integration over the time of death:
//
//	P = NBD(n; r, α, t)·(β/(β+t))^s
//	  + s β^s α^r Γ(r+n)/(Γ(r) n!) ∫_0^t τ^n (α+τ)^-(r+n) (β+τ)^-(s+1) dτ
func TestParetoNBDProbNIntegral(t *testing.T) {
	for _, m := range []ParetoNBD{
		{R: 0.5533, Alpha: 10.5776, S: 0.6062, Beta: 11.668},
		{R: 0.6, Alpha: 12, S: 0.7, Beta: 8},
		{R: 2, Alpha: 10, S: 1.5, Beta: 40},
	} {
		for _, tt := range []struct {
			n int
			t float64
		}{{0, 39}, {1, 39}, {3, 10}, {7, 78}, {20, 52}} {
			r, a, s, b, n := m.R, m.Alpha, m.S, m.Beta, float64(tt.n)
			nbd := math.Exp(lgamma(r+n) - lgamma(r) - lgamma(n+1) + r*math.Log(a/(a+tt.t)) + n*math.Log(tt.t/(a+tt.t)))
			alive := nbd * math.Pow(b/(b+tt.t), s)
			f := func(tau float64) float64 {
				return math.Pow(tau, n) * math.Pow(a+tau, -(r+n)) * math.Pow(b+tau, -(s+1))
			}
			const steps = 20000 // Simpson's rule
			h := tt.t / steps
			sum := f(0) + f(tt.t)
			for i := 1; i < steps; i++ {
				sum += float64(2+2*(i%2)) * f(float64(i)*h)
			}
			integral := sum * h / 3
			want := alive + s*math.Pow(b, s)*math.Pow(a, r)*math.Exp(lgamma(r+n)-lgamma(r)-lgamma(n+1))*integral
			if got := m.ProbN(tt.n, tt.t); !within(got, want, 1e-7) {
				t.Errorf("%v: P(X(%g)=%d) = %.10g, integral %.10g", m.Params(), tt.t, tt.n, got, want)
			}
		}
	}
}
