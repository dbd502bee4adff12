package predict

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// hyp2f1 is the Gaussian hypergeometric function 2F1(a, b; c; z), z < 1.
func hyp2f1(a, b, c, z float64) float64 {
	return mathext.Hypergeo(a, b, c, z)
}

// hyp2f1Plus1 is F = 2F1(a, b; a+1; z) for a > 0, 0 ≤ z < 1 — the form in
// the Pareto/NBD likelihood — with its partial derivatives in a, b and z,
// which the likelihood's analytic gradient needs and gonum does not give.
// It sums the series F = Σ_k a/(a+k)·(b)_k z^k/k!, whose terms are all
// positive (no cancellation) and shrink by about z each; beyond z = 0.9 or
// when the series is slow it falls back to mathext.Hypergeo with
// derivatives in a and b by central differences.
func hyp2f1Plus1(a, b, z float64, withGrad bool) (f, fa, fb, fz float64) {
	if z == 0 {
		return 1, 0, 0, a * b / (a + 1)
	}
	if z <= 0.9 && !withGrad {
		term := 1.0 // (b)_k z^k/k!
		for k := 0.0; k < 4000; k++ {
			f += a / (a + k) * term
			ratio := (b + k) * z / (k + 1)
			if ratio < 1 && term < 1e-17*f {
				return f, 0, 0, 0
			}
			term *= ratio
		}
	}
	if z <= 0.9 && withGrad {
		term, h := 1.0, 0.0 // (b)_k z^k/k!, Σ_{j<k} 1/(b+j)
		var sumZ float64    // Σ a/(a+k)·k·term_k, = z·∂F/∂z
		for k := 0.0; k < 4000; k++ {
			w := a / (a + k)
			f += w * term
			fa += k / ((a + k) * (a + k)) * term
			fb += w * term * h
			sumZ += w * k * term
			ratio := (b + k) * z / (k + 1)
			if ratio < 1 && term*(1+h+k) < 1e-17*f {
				return f, fa, fb, sumZ / z
			}
			h += 1 / (b + k)
			term *= ratio
		}
	}
	f = mathext.Hypergeo(a, b, a+1, z)
	if !withGrad {
		return f, 0, 0, 0
	}
	fz = a * b / (a + 1) * mathext.Hypergeo(a+1, b+1, a+2, z)
	ha, hb := 1e-5*math.Max(1, a), 1e-5*math.Max(1, b)
	fa = (mathext.Hypergeo(a+ha, b, a+ha+1, z) - mathext.Hypergeo(a-ha, b, a-ha+1, z)) / (2 * ha)
	fb = (mathext.Hypergeo(a, b+hb, a+1, z) - mathext.Hypergeo(a, b-hb, a+1, z)) / (2 * hb)
	return f, fa, fb, fz
}

// hyp2f1Many sets out[j] = 2F1(a, b; c; zs[j]) for one (a, b, c), summing
// the series at every z in one pass over k, so the coefficients
// (a)_k (b)_k / ((c)_k k!) are computed once: a customer's expected
// transactions at the twelve month-ends of a CLV horizon then cost little
// more than one. The callers pass parameters whose terms keep one sign
// after the first few (no cancellation to speak of); |z| beyond 0.85 (slow
// convergence) and c ≤ 0 go to mathext.Hypergeo.
func hyp2f1Many(a, b, c float64, zs, out []float64) {
	// The z's summed by series, compacted so the inner loop has no branch.
	var zbuf, pbuf, sbuf [64]float64
	var ibuf [64]int
	zz, pw, sum, idx := zbuf[:0], pbuf[:0], sbuf[:0], ibuf[:0]
	zmax := 0.0
	for j, z := range zs {
		switch {
		case z == 0:
			out[j] = 1
		case c <= 0 || math.Abs(z) > 0.85 || len(zz) == len(zbuf):
			out[j] = mathext.Hypergeo(a, b, c, z)
		default:
			zz, pw, sum, idx = append(zz, z), append(pw, 1), append(sum, 0), append(idx, j)
			zmax = math.Max(zmax, math.Abs(z))
		}
	}
	if len(zz) == 0 {
		return
	}
	coef, pmax := 1.0, 1.0 // pmax = zmax^k bounds every |z|^k
	for k := 0.0; k < 3000; k++ {
		for i, z := range zz {
			sum[i] += coef * pw[i]
			pw[i] *= z
		}
		ratio := (a + k) * (b + k) / ((c + k) * (k + 1))
		coef *= ratio
		pmax *= zmax
		// Once the terms shrink at the largest z they shrink at every z;
		// stop when the next term is below rounding for every sum.
		if math.Abs(ratio)*zmax < 1 && math.Abs(coef)*pmax <= 1e-17 && math.Abs(coef)*pmax <= 1e-17*minAbs(sum) {
			for i, j := range idx {
				out[j] = sum[i]
			}
			return
		}
	}
	for _, j := range idx { // not converged: leave it to gonum
		out[j] = mathext.Hypergeo(a, b, c, zs[j])
	}
}

// minAbs is the smallest |v[i]|; plain comparisons, as math.Min's care for
// NaN and signed zeros costs more than the series' own arithmetic here.
func minAbs(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		if x = math.Abs(x); x < m {
			m = x
		}
	}
	return m
}

// hyp2f1One is 2F1(a, b; c; z) by the series of hyp2f1Many.
func hyp2f1One(a, b, c, z float64) float64 {
	var out [1]float64
	hyp2f1Many(a, b, c, []float64{z}, out[:])
	return out[0]
}
