package predict

import (
	"errors"
	"testing"
)

func TestGammaGammaCDNOW(t *testing.T) {
	data := cdnowSpend(t)
	m, err := FitGammaGamma(data, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Gamma-Gamma p %.6f q %.6f gamma %.6f LL %.4f SE %.4g (%g repeat buyers, %v)", m.P, m.Q, m.Gamma, m.LogLik, m.SE, m.N, m.Duration)
	if m.N != 946 {
		t.Errorf("fitted on %g repeat buyers, want 946", m.N)
	}
	checkParams(t, m, []float64{6.25, 3.74, 15.44}, 0.005)
	if !near(m.LogLik, -4055.92, 0.05) {
		t.Errorf("LL = %.4f, want -4055.92", m.LogLik)
	}
	// The conditional expectation shrinks a customer's mean towards the
	// population mean, less so the more transactions there are.
	pop := m.ExpectedSpend()
	one, many := m.ConditionalExpectedSpend(1, 100), m.ConditionalExpectedSpend(20, 100)
	if !(pop < one && one < many && many < 100) {
		t.Errorf("population %.2f, x=1 %.2f, x=20 %.2f: want increasing towards 100", pop, one, many)
	}
	if got := m.ConditionalExpectedSpend(0, 0); got != pop {
		t.Errorf("x = 0: %v, want the population mean %v", got, pop)
	}
}

func TestGammaGammaBadInput(t *testing.T) {
	good := make([]SpendCustomer, 20)
	for i := range good {
		good[i] = SpendCustomer{X: float64(1 + i%4), MeanSpend: float64(10 + i)}
	}
	tests := []struct {
		name string
		data []SpendCustomer
		want error
	}{
		{"zero amount", append([]SpendCustomer{{X: 2, MeanSpend: 0}}, good...), ErrBadInput},
		{"negative amount", append([]SpendCustomer{{X: 1, MeanSpend: -5}}, good...), ErrBadInput},
		{"fractional x", append([]SpendCustomer{{X: 1.5, MeanSpend: 5}}, good...), ErrBadInput},
		{"no repeat buyers", []SpendCustomer{{X: 0}, {X: 0}}, ErrNoRepeatBuyers},
		{"too few", good[:3], ErrTooFewCustomers},
	}
	for _, tt := range tests {
		if _, err := FitGammaGamma(tt.data, FitOptions{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Customers without repeat purchases are skipped, whatever their spend.
	if _, err := FitGammaGamma(append([]SpendCustomer{{X: 0, MeanSpend: 0}}, good...), FitOptions{}); err != nil {
		t.Errorf("x = 0 row: %v", err)
	}
}
