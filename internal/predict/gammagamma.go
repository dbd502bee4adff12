package predict

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// SpendCustomer is one customer's spend history for the Gamma-Gamma model:
// X repeat transactions whose values average MeanSpend. Weight counts
// identical rows (0 counts as 1).
type SpendCustomer struct {
	X, MeanSpend float64
	Weight       float64
}

// GammaGamma is the Gamma-Gamma model of spend per transaction (Fader,
// Hardie & Lee 2005, "RFM and CLV", and Fader & Hardie's note 025): a
// customer's transaction values are Gamma(P, ν) with ν ~ Gamma(Q, Gamma)
// across customers, independent of the transaction process. Gamma is in the
// currency of the data.
type GammaGamma struct {
	P, Q, Gamma float64
	Fit
}

// FitGammaGamma fits the Gamma-Gamma model on the mean spend of repeat
// buyers. Rows with X = 0 carry no spend information and are skipped; a
// repeat buyer's MeanSpend must be positive (the model has no zero or
// negative values: leave such customers out, or refunds netted out, first).
func FitGammaGamma(data []SpendCustomer, opts FitOptions) (GammaGamma, error) {
	type key struct{ x, z float64 }
	idx := map[key]int{}
	var xs, zs, ws []float64
	var n float64
	for i, c := range data {
		switch {
		case !finite(c.X) || c.X < 0 || c.X != math.Trunc(c.X):
			return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: customer %d: %w: x %v must be a whole number >= 0", i, ErrBadInput, c.X)
		case !finite(c.Weight) || c.Weight < 0:
			return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: customer %d: %w: weight %v", i, ErrBadInput, c.Weight)
		case c.X == 0:
			continue
		case !finite(c.MeanSpend) || c.MeanSpend <= 0:
			return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: customer %d: %w: mean spend %v must be > 0", i, ErrBadInput, c.MeanSpend)
		}
		w := c.Weight
		if w == 0 {
			w = 1
		}
		n += w
		k := key{c.X, c.MeanSpend}
		if j, ok := idx[k]; ok {
			ws[j] += w
			continue
		}
		idx[k] = len(xs)
		xs, zs, ws = append(xs, c.X), append(zs, c.MeanSpend), append(ws, w)
	}
	if n == 0 {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w", ErrNoRepeatBuyers)
	}
	if n < float64(opts.minCustomers()) {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w: %g repeat buyers, need at least %d", ErrTooFewCustomers, n, opts.minCustomers())
	}
	init := opts.Init
	if init == nil {
		// Mean spend as p·γ/(q-1) with p = 1, q = 2: start where the
		// population mean matches the data's.
		var sz float64
		for i := range zs {
			sz += ws[i] * zs[i]
		}
		init = []float64{1, 2, sz / n}
	}
	if len(init) != 3 {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w: %d starting values, want 3", ErrBadInput, len(init))
	}
	lx, lz := make([]float64, len(xs)), make([]float64, len(xs))
	for i := range xs {
		lx[i], lz[i] = math.Log(xs[i]), math.Log(zs[i])
	}
	// Log-density of the mean of x Gamma(p, ν) values, ν ~ Gamma(q, γ)
	// (note 025, eq. 3), with its analytic gradient.
	eval := func(g, lp []float64) float64 {
		p, q, gm := math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2])
		lgq, lgm := lgamma(q), math.Log(gm)
		var ll, dp, dq, dg, psiQ float64
		if g != nil {
			psiQ = mathext.Digamma(q)
		}
		for i, x := range xs {
			w, px := ws[i], p*x
			lgx := math.Log(gm + x*zs[i])
			ll += w * (lgamma(px+q) - lgamma(px) - lgq + q*lgm + (px-1)*lz[i] + px*lx[i] - (px+q)*lgx)
			if g != nil {
				psiPQ := mathext.Digamma(px + q)
				dp += w * x * (psiPQ - mathext.Digamma(px) + lz[i] + lx[i] - lgx)
				dq += w * (psiPQ - psiQ + lgm - lgx)
				dg += w * (q/gm - (px+q)/(gm+x*zs[i]))
			}
		}
		if g != nil {
			g[0], g[1], g[2] = -dp*p/n, -dq*q/n, -dg*gm/n
		}
		return -ll / n
	}
	obj := objective{
		f:    func(lp []float64) float64 { return eval(nil, lp) },
		grad: func(g, lp []float64) { eval(g, lp) },
	}
	p, fit, err := maximise(obj, init, n, len(xs), opts)
	if err != nil {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w", err)
	}
	return GammaGamma{P: p[0], Q: p[1], Gamma: p[2], Fit: fit}, nil
}

// ConditionalExpectedSpend is the expected value of a customer's future
// transactions given x repeat transactions averaging meanSpend (note 025,
// eq. 5): a weighted mean of the population mean and the customer's own,
// p(γ + x·z̄)/(px + q - 1). With x = 0 it is the population mean.
func (m GammaGamma) ConditionalExpectedSpend(x, meanSpend float64) float64 {
	if x <= 0 {
		return m.ExpectedSpend()
	}
	return m.P * (m.Gamma + x*meanSpend) / (m.P*x + m.Q - 1)
}

// ExpectedSpend is the population mean spend per transaction, pγ/(q-1);
// +Inf when q ≤ 1 (the mean does not exist).
func (m GammaGamma) ExpectedSpend() float64 {
	if m.Q <= 1 {
		return math.Inf(1)
	}
	return m.P * m.Gamma / (m.Q - 1)
}

// ParamNames are p, q, gamma.
func (m GammaGamma) ParamNames() []string { return []string{"p", "q", "gamma"} }

// Params are P, Q, Gamma.
func (m GammaGamma) Params() []float64 { return []float64{m.P, m.Q, m.Gamma} }
