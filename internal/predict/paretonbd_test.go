package predict

import (
	"testing"
)

func TestParetoNBDCDNOWSample(t *testing.T) {
	m := sampleFit(t, "paretonbd").(ParetoNBD)
	t.Logf("Pareto/NBD r %.7f alpha %.7f s %.7f beta %.7f LL %.4f SE %.4g (%d rows, %d iterations, %d evaluations, %v)",
		m.R, m.Alpha, m.S, m.Beta, m.LogLik, m.SE, m.Rows, m.Iterations, m.Evaluations, m.Duration)
	checkParams(t, m, []float64{0.5532, 10.576, 0.6062, 11.67}, 0.005)
	if !near(m.LogLik, -9594.98, 0.05) {
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
