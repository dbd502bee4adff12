package predict

import (
	"errors"
	"math"
	"testing"
)

func TestCLV(t *testing.T) {
	models := []TransactionModel{
		BGNBD{R: 0.2425982, Alpha: 4.4136842, A: 0.7929899, B: 2.4261667},
		MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614},
		ParetoNBD{R: 0.5533, Alpha: 10.5776, S: 0.6062, Beta: 11.668},
	}
	customers := []Customer{{X: 0, T: 30}, {X: 4, Tx: 28.5, T: 38.86}, {X: 26, Tx: 30.857, T: 31}, {X: 2, Tx: 3, T: 38}}
	for _, m := range models {
		for _, c := range customers {
			// Without discounting the periods telescope to E[Y(horizon)].
			got, err := CLV(m, c, 1, CLVOptions{Horizon: 52, Period: 52.0 / 12, Margin: 1})
			if err != nil {
				t.Fatal(err)
			}
			if want := m.ConditionalExpected(c, 52); !within(got, want, 1e-12) {
				t.Errorf("%s %+v: undiscounted CLV %v, E[Y(52)] %v", m.Name(), c, got, want)
			}
			// Discounted, with a short last period and a long horizon (the
			// 2F1 argument beyond the series' range): the shared-series
			// path equals period-by-period ConditionalExpected.
			opts := CLVOptions{Horizon: 530, Period: 4, DiscountRate: 0.02, Margin: 0.25}
			got, err = CLV(m, c, 40, opts)
			if err != nil {
				t.Fatal(err)
			}
			var want, prev float64
			for k := 1; k <= 133; k++ {
				e := m.ConditionalExpected(c, math.Min(float64(k)*4, 530))
				want += (e - prev) / math.Pow(1.02, float64(k))
				prev = e
			}
			want *= 40 * 0.25
			if !within(got, want, 1e-9) || !(got < 40*0.25*prev) {
				t.Errorf("%s %+v: CLV %v, period by period %v (undiscounted %v)", m.Name(), c, got, want, 40*0.25*prev)
			}
		}
	}
	m := models[0]
	c := customers[1]
	for _, o := range []CLVOptions{
		{Horizon: 0, Margin: 0.3},
		{Horizon: 52, Margin: 0},
		{Horizon: 52, Margin: 1.5},
		{Horizon: 52, Margin: 0.3, DiscountRate: -1},
		{Horizon: 52, Margin: 0.3, Period: -1},
		{Horizon: math.NaN(), Margin: 0.3},
	} {
		if _, err := CLV(m, c, 10, o); !errors.Is(err, ErrBadInput) {
			t.Errorf("%+v: err = %v, want ErrBadInput", o, err)
		}
	}
	if _, err := CLV(m, c, -1, CLVOptions{Horizon: 52, Margin: 0.3}); !errors.Is(err, ErrBadInput) {
		t.Errorf("negative spend: err = %v", err)
	}
}

// TestHyp2F1Many checks the shared series against gonum's 2F1 in and beyond
// its range.
func TestHyp2F1Many(t *testing.T) {
	zs := []float64{0, 0.01, 0.2, 0.5, 0.8, 0.85, 0.9, 0.99}
	for _, p := range [][3]float64{{0.24, 2.43, 2.22}, {4.24, 6.43, 6.22}, {26.2, 28.4, 28.2}, {0.5, 1.6, 1.1},
		{2.98, -0.207, 6.22}, {2.98, -0.207, 32.2}, {-3.5, -0.4, 2.1}, {0.7, 0.3, 0.9}} {
		out := make([]float64, len(zs))
		hyp2f1Many(p[0], p[1], p[2], zs, out)
		for j, z := range zs {
			if want := hyp2f1(p[0], p[1], p[2], z); !within(out[j], want, 1e-12) {
				t.Errorf("2F1(%v; %v) = %v, gonum %v", p, z, out[j], want)
			}
		}
	}
}
