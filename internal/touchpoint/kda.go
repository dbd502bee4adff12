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
	if len(y) != len(x) {
		return RegressSums(Sums{})
	}
	var k Sums
	for i := range x {
		k.Add(x[i], y[i], 1)
	}
	return RegressSums(k)
}

// Sums are the sufficient statistics of a simple regression.
type Sums struct{ N, SX, SY, SXX, SYY, SXY float64 }

// Add adds (sign 1) or removes (sign −1) the pair (x, y).
func (k *Sums) Add(x, y, sign float64) {
	k.N += sign
	k.SX += sign * x
	k.SY += sign * y
	k.SXX += sign * x * x
	k.SYY += sign * y * y
	k.SXY += sign * x * y
}

// RegressSums fits y on x from the sums of the pairs.
func RegressSums(k Sums) Regression {
	n := math.Round(k.N)
	r := Regression{N: int(n), Slope: nan, Intercept: nan, R: nan, T: nan, P: nan, Low: nan, High: nan}
	if n < 3 {
		return r
	}
	mx, my := k.SX/n, k.SY/n
	sxx, syy, sxy := k.SXX-k.SX*mx, k.SYY-k.SY*my, k.SXY-k.SX*my
	// Sums of equal values leave rounding dust, not spread.
	if sxx <= 1e-9*math.Max(1, k.SXX) || syy <= 1e-9*math.Max(1, k.SYY) {
		return r
	}
	slope := sxy / sxx
	rho := math.Max(-1, math.Min(1, sxy/math.Sqrt(sxx*syy)))
	r.Slope, r.Intercept, r.R = satisfaction.Num(slope), satisfaction.Num(my-slope*mx), satisfaction.Num(rho)
	df := n - 2
	if 1-rho*rho <= 1e-15 {
		r.T, r.P = satisfaction.Num(math.Copysign(math.Inf(1), rho)), 0
	} else {
		t := rho * math.Sqrt(df/(1-rho*rho))
		r.T = satisfaction.Num(t)
		r.P = satisfaction.Num(2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t)))
	}
	if n > 3 {
		z := math.Atanh(math.Max(-0.999999, math.Min(0.999999, rho)))
		se := 1 / math.Sqrt(n-3)
		r.Low, r.High = satisfaction.Num(math.Tanh(z-1.959964*se)), satisfaction.Num(math.Tanh(z+1.959964*se))
	}
	r.Significant = float64(r.P) < 0.05
	return r
}

// Contributions are a customer-month's observations: per touchpoint, the
// mean of the customer's answers there (x) and the mean of their overall
// answers (y); none without an overall answer.
func Contributions(answers []store.TouchpointAnswer) map[string][2]float64 {
	var oy, on float64
	xs := map[string][2]float64{}
	for _, a := range answers {
		if a.Touchpoint == "" {
			oy += a.Score
			on++
			continue
		}
		v := xs[a.Touchpoint]
		xs[a.Touchpoint] = [2]float64{v[0] + a.Score, v[1] + 1}
	}
	if on == 0 {
		return nil
	}
	out := make(map[string][2]float64, len(xs))
	for tp, v := range xs {
		out[tp] = [2]float64{v[0] / v[1], oy / on}
	}
	return out
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
