package touchpoint

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/kunding/kunding/internal/satisfaction"
	"github.com/kunding/kunding/internal/store"
)

// Regression is the least-squares line y = Intercept + Slope·x over N pairs
// with the Pearson correlation R, which is also the standardized
// coefficient (beta) of a regression on one predictor. T = R·√((N−2)/(1−R²))
// tests Slope = 0 with N−2 degrees of freedom (two-sided P); Low and High
// bound R's 95 % interval by Fisher's z (N > 3).
type Regression struct {
	N         int              `json:"n"`
	Slope     satisfaction.Num `json:"slope"`
	Intercept satisfaction.Num `json:"intercept"`
	R         satisfaction.Num `json:"r"`
	T         satisfaction.Num `json:"t"`
	P         satisfaction.Num `json:"p"`
	Low       satisfaction.Num `json:"low"`
	High      satisfaction.Num `json:"high"`
	// Significant: P < 0.05.
	Significant bool `json:"significant"`
}

var nan = satisfaction.Num(math.NaN())

// Regress fits y on x. With fewer than 3 pairs, or no spread in x or y, the
// figures are undefined (NaN, JSON null).
func Regress(x, y []float64) Regression {
	r := Regression{N: len(x), Slope: nan, Intercept: nan, R: nan, T: nan, P: nan, Low: nan, High: nan}
	n := float64(len(x))
	if len(x) < 3 || len(y) != len(x) {
		return r
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxx, syy, sxy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	if sxx == 0 || syy == 0 {
		return r
	}
	slope := sxy / sxx
	rho := sxy / math.Sqrt(sxx*syy)
	r.Slope, r.Intercept, r.R = satisfaction.Num(slope), satisfaction.Num(my-slope*mx), satisfaction.Num(rho)
	df := n - 2
	if 1-rho*rho <= 1e-15 {
		r.T, r.P = satisfaction.Num(math.Copysign(math.Inf(1), rho)), 0
	} else {
		t := rho * math.Sqrt(df/(1-rho*rho))
		r.T = satisfaction.Num(t)
		r.P = satisfaction.Num(2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t)))
	}
	if len(x) > 3 {
		z := math.Atanh(math.Max(-0.999999, math.Min(0.999999, rho)))
		se := 1 / math.Sqrt(n-3)
		r.Low, r.High = satisfaction.Num(math.Tanh(z-1.959964*se)), satisfaction.Num(math.Tanh(z+1.959964*se))
	}
	r.Significant = float64(r.P) < 0.05
	return r
}

// KeyDrivers regresses each customer's overall satisfaction (the mean of
// their overall answers, normalised 0..100) on their satisfaction with a
// touchpoint (the mean of their answers there), across the customers who
// gave both in the period: one regression per touchpoint.
func KeyDrivers(answers []store.TouchpointAnswer) map[string]Regression {
	type acc struct{ sum, n float64 }
	overall := map[string]*acc{}
	at := map[[2]string]*acc{}
	for _, a := range answers {
		if a.Touchpoint == "" {
			o := overall[a.CustomerID]
			if o == nil {
				o = &acc{}
				overall[a.CustomerID] = o
			}
			o.sum += a.Score
			o.n++
			continue
		}
		k := [2]string{a.Touchpoint, a.CustomerID}
		t := at[k]
		if t == nil {
			t = &acc{}
			at[k] = t
		}
		t.sum += a.Score
		t.n++
	}
	xs, ys := map[string][]float64{}, map[string][]float64{}
	for k, t := range at {
		o, ok := overall[k[1]]
		if !ok {
			continue
		}
		xs[k[0]] = append(xs[k[0]], t.sum/t.n)
		ys[k[0]] = append(ys[k[0]], o.sum/o.n)
	}
	out := make(map[string]Regression, len(xs))
	for tp := range xs {
		out[tp] = Regress(xs[tp], ys[tp])
	}
	return out
}
