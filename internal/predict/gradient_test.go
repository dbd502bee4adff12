package predict

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mathext"
)

// TestHyp2F1Plus1 checks the series for 2F1(a, b; a+1; z) and its
// derivatives against gonum's 2F1 and finite differences of it.
func TestHyp2F1Plus1(t *testing.T) {
	for _, tt := range []struct{ a, b, z float64 }{
		{0.5, 1.6, 0}, {0.5, 1.6, 0.01}, {1.2, 1.6, 0.3}, {30, 1.6, 0.25}, {30, 27, 0.2},
		{0.8, 0.6, 0.85}, {3, 150, 0.5}, {0.7, 1.5, 0.95}, {250, 2, 0.6},
	} {
		f, fa, fb, fz := hyp2f1Plus1(tt.a, tt.b, tt.z, true)
		if v, _, _, _ := hyp2f1Plus1(tt.a, tt.b, tt.z, false); v != f && !within(v, f, 1e-14) {
			t.Errorf("2F1(%v, %v; a+1; %v): value alone %v, with derivatives %v", tt.a, tt.b, tt.z, v, f)
		}
		F := func(a, b, z float64) float64 { return mathext.Hypergeo(a, b, a+1, z) }
		want := F(tt.a, tt.b, tt.z)
		h := 1e-6
		wa := (F(tt.a+h, tt.b, tt.z) - F(tt.a-h, tt.b, tt.z)) / (2 * h)
		wb := (F(tt.a, tt.b+h, tt.z) - F(tt.a, tt.b-h, tt.z)) / (2 * h)
		wz := tt.a * tt.b / (tt.a + 1) * mathext.Hypergeo(tt.a+1, tt.b+1, tt.a+2, tt.z)
		if !within(f, want, 1e-13) || !near(fa, wa, 1e-6*math.Max(1, math.Abs(wa))) ||
			!near(fb, wb, 1e-6*math.Max(1, math.Abs(wb))) || !within(fz, wz, 1e-12) {
			t.Errorf("2F1(%v, %v; a+1; %v) = %v, ∂a %v, ∂b %v, ∂z %v; want %v, %v, %v, %v",
				tt.a, tt.b, tt.z, f, fa, fb, fz, want, wa, wb, wz)
		}
	}
}

// TestAnalyticGradients compares each objective's analytic gradient with
// central differences at points on both sides of α = β (Pareto/NBD's two
// branches) and away from the optimum.
func TestAnalyticGradients(t *testing.T) {
	d, err := prepare(cdnowSummary(t), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]objective{
		"bgnbd": bgObjective(d, false), "mbgnbd": bgObjective(d, true), "paretonbd": paretoObjective(d),
	}
	points := [][]float64{{0.25, 4.4, 0.8, 2.4}, {0.55, 10.6, 0.6, 11.7}, {0.6, 12, 0.5, 8}, {2, 1, 3, 0.5}, {0.1, 30, 0.2, 60}}
	for name, obj := range objs {
		for _, p := range points {
			lp := make([]float64, 4)
			for i, v := range p {
				lp[i] = math.Log(v)
			}
			got := make([]float64, 4)
			obj.grad(got, lp)
			want := fd.Gradient(nil, obj.f, lp, &fd.Settings{Formula: fd.Central, Step: 1e-5})
			for i := range got {
				if !near(got[i], want[i], 1e-6*math.Max(1, math.Abs(want[i]))) {
					t.Errorf("%s at %v: ∂/∂log p%d = %.10g, finite differences %.10g", name, p, i, got[i], want[i])
				}
			}
		}
	}
}
