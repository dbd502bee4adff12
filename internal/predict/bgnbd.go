package predict

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// BGNBD is the beta-geometric/NBD model (Fader, Hardie & Lee 2005,
// "Counting Your Customers the Easy Way"). While alive a customer buys as a
// Poisson process of rate λ ~ Gamma(R, Alpha); after each repeat purchase
// they drop out with probability p ~ Beta(A, B). Alpha is in the time unit of
// the data (rate λ has mean R/Alpha purchases per unit).
type BGNBD struct {
	R, Alpha, A, B float64
	Fit
}

// MBGNBD is the modified BG/NBD (Batislam, Denizel & Filiztekin 2007): as
// BG/NBD, but a customer may also drop out right after the first purchase,
// so a customer without repeat purchases is not assumed alive.
type MBGNBD struct {
	R, Alpha, A, B float64
	Fit
}

// bgnbd holds the formulas both models share; modified selects MBG/NBD,
// whose dropout coin is tossed after every purchase including the first.
type bgnbd struct {
	r, alpha, a, b float64
	modified       bool
}

func (m BGNBD) core() bgnbd  { return bgnbd{m.R, m.Alpha, m.A, m.B, false} }
func (m MBGNBD) core() bgnbd { return bgnbd{m.R, m.Alpha, m.A, m.B, true} }

// FitBGNBD fits BG/NBD by maximum likelihood.
func FitBGNBD(data []Customer, opts FitOptions) (BGNBD, error) {
	p, fit, err := fitBG(data, opts, false)
	if err != nil {
		return BGNBD{}, fmt.Errorf("fit BG/NBD: %w", err)
	}
	return BGNBD{R: p[0], Alpha: p[1], A: p[2], B: p[3], Fit: fit}, nil
}

// FitMBGNBD fits MBG/NBD by maximum likelihood.
func FitMBGNBD(data []Customer, opts FitOptions) (MBGNBD, error) {
	p, fit, err := fitBG(data, opts, true)
	if err != nil {
		return MBGNBD{}, fmt.Errorf("fit MBG/NBD: %w", err)
	}
	return MBGNBD{R: p[0], Alpha: p[1], A: p[2], B: p[3], Fit: fit}, nil
}

func fitBG(data []Customer, opts FitOptions, modified bool) ([]float64, Fit, error) {
	d, err := prepare(data, opts)
	if err != nil {
		return nil, Fit{}, err
	}
	init := opts.Init
	if init == nil {
		// r = 1 makes the mean rate 1/alpha; dropout starts near 1/4.
		init = []float64{1, 1 / d.meanRate(), 1, 3}
	}
	if len(init) != 4 {
		return nil, Fit{}, fmt.Errorf("%w: %d starting values, want 4", ErrBadInput, len(init))
	}
	return maximise(bgObjective(d, modified), init, d.n, len(d.x), opts)
}

// bgObjective is -LL/N of BG/NBD or MBG/NBD with its analytic gradient, in
// log-parameters. Per customer (eq. 6 of Fader, Hardie & Lee 2005, in the
// overflow-free arrangement of Fader & Hardie's note 027),
//
//	L = Γ(r+x)α^r/Γ(r) · B(a, b+x+m)/B(a,b) · (α+t_x)^-(r+x) · (c + e^-u)
//
// with u = (r+x)·ln((α+T)/(α+t_x)) ≥ 0, and c = a/(b+x-1) for x > 0 (0 for
// x = 0) in BG/NBD, c = a/(b+x) and m = 1 in MBG/NBD. Terms in x alone are
// summed once per distinct x.
func bgObjective(d *rows, modified bool) objective {
	m := 0.0
	if modified {
		m = 1
	}
	nx := len(d.xs)
	cx := make([]float64, nx)  // c per distinct x
	qx := make([]float64, nx)  // Σ w·q per distinct x, q = c/(c+e^-u)
	dcb := make([]float64, nx) // ∂ln c/∂b per distinct x
	eval := func(g, lp []float64) float64 {
		r, alpha, a, b := math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2]), math.Exp(lp[3])
		var ll, dr, dalpha, da, db float64
		lga, lab := lgamma(r), lgamma(a+b)
		lgb := lgamma(b)
		lnAlpha := math.Log(alpha)
		var psiR, psiAB, psiB float64
		if g != nil {
			psiR, psiAB, psiB = mathext.Digamma(r), mathext.Digamma(a+b), mathext.Digamma(b)
		}
		for k, x := range d.xs {
			w := d.xw[k]
			bx := b + x + m
			ll += w * (lgamma(r+x) - lga + r*lnAlpha + lab - lgb + lgamma(bx) - lgamma(a+bx))
			if g != nil {
				dr += w * (mathext.Digamma(r+x) - psiR + lnAlpha)
				dalpha += w * r / alpha
				pabx := mathext.Digamma(a + bx)
				da += w * (psiAB - pabx)
				db += w * (mathext.Digamma(bx) - psiB + psiAB - pabx)
			}
			switch {
			case modified:
				cx[k], dcb[k] = a/(b+x), -1/(b+x)
			case x > 0:
				cx[k], dcb[k] = a/(b+x-1), -1/(b+x-1)
			default:
				cx[k], dcb[k] = 0, 0
			}
			qx[k] = 0
		}
		for i, w := range d.w {
			k := d.xi[i]
			rx := r + d.x[i]
			aT := alpha + d.t[i]
			lT := math.Log(aT)
			c := cx[k]
			if c == 0 {
				ll -= w * rx * lT
				if g != nil {
					dr -= w * lT
					dalpha -= w * rx / aT
				}
				continue
			}
			at := alpha + d.tx[i]
			lt := math.Log(at)
			e := math.Exp(-rx * (lT - lt))
			s := c + e
			ll += w * (math.Log(s) - rx*lt)
			if g != nil {
				p := e / s // weight of "still alive", = P(alive)
				q := 1 - p
				dr -= w * (q*lt + p*lT)
				dalpha -= w * rx * (q/at + p/aT)
				qx[k] += w * q
			}
		}
		if g != nil {
			for k := range d.xs {
				da += qx[k] / a // ∂ln c/∂a = 1/a
				db += qx[k] * dcb[k]
			}
			// Chain rule to log-parameters, sign and scale to -LL/N.
			g[0] = -dr * r / d.n
			g[1] = -dalpha * alpha / d.n
			g[2] = -da * a / d.n
			g[3] = -db * b / d.n
		}
		return -ll / d.n
	}
	return objective{
		f:    func(lp []float64) float64 { return eval(nil, lp) },
		grad: func(g, lp []float64) { eval(g, lp) },
	}
}

// logLik is one customer's log-likelihood.
func (m bgnbd) logLik(c Customer) float64 {
	r, alpha, a, b, x := m.r, m.alpha, m.a, m.b, c.X
	mm, cc := 0.0, 0.0
	switch {
	case m.modified:
		mm, cc = 1, a/(b+x)
	case x > 0:
		cc = a / (b + x - 1)
	}
	ll := lgamma(r+x) - lgamma(r) + r*math.Log(alpha) + lbeta(a, b+x+mm) - lbeta(a, b)
	lT := math.Log(alpha + c.T)
	if cc == 0 {
		return ll - (r+x)*lT
	}
	lt := math.Log(alpha + c.Tx)
	return ll - (r+x)*lt + math.Log(cc+math.Exp(-(r+x)*(lT-lt)))
}

// pAlive is P(alive at T | x, t_x, T) (eq. A.4 of the BG/NBD paper's
// technical appendix; for MBG/NBD the x = 0 customers are not exempt).
func (m bgnbd) pAlive(c Customer) float64 {
	x := c.X
	var cc float64
	switch {
	case m.modified:
		cc = m.a / (m.b + x)
	case x > 0:
		cc = m.a / (m.b + x - 1)
	default:
		return 1
	}
	// 1/(1 + c·((α+T)/(α+t_x))^(r+x)) computed as a logistic of logs so a
	// long silence cannot overflow.
	z := math.Log(cc) + (m.r+x)*(math.Log(m.alpha+c.T)-math.Log(m.alpha+c.Tx))
	return 1 / (1 + math.Exp(z))
}

// conditionalExpected is E[Y(t) | x, t_x, T], the expected transactions in
// (T, T+t] (eq. 10 of the BG/NBD paper; Batislam et al. eq. 12 for MBG/NBD):
//
//	(a+b+x-1+m)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ·
//	  2F1(r+x, b+x+m; a+b+x-1+m; t/(α+T+t))] · P(alive)
//
// Euler's transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z)
// turns the bracket into 1 - (1-z)^(a-1) · 2F1(a+b-1+m-r, a-1; a+b+x-1+m; z),
// with 1-z = (α+T)/(α+T+t): the power of x cancels and the series' terms
// fall off like k^-(r+x+2-a) instead of growing like k^(r+x-a), so it needs
// a few dozen terms even for heavy buyers.
func (m bgnbd) conditionalExpected(c Customer, t float64) float64 {
	var out [1]float64
	m.conditionalExpectedAt(c, []float64{t}, out[:])
	return out[0]
}

// conditionalExpectedAt sets out[j] = E[Y(ts[j]) | x, t_x, T], with the
// work that does not depend on t (P(alive), the 2F1 series) shared.
func (m bgnbd) conditionalExpectedAt(c Customer, ts, out []float64) {
	mm := 0.0
	if m.modified {
		mm = 1
	}
	r, alpha, a, b, x := m.r, m.alpha, m.a, m.b, c.X
	aT := alpha + c.T
	var buf [64]float64
	zs := buf[:0]
	if len(ts) > len(buf) {
		zs = make([]float64, 0, len(ts))
	}
	for _, t := range ts {
		t = math.Max(t, 0)
		zs = append(zs, t/(aT+t))
	}
	hyp2f1Many(a+b-1+mm-r, a-1, a+b+x-1+mm, zs, out)
	scale := (a + b + x - 1 + mm) / (a - 1) * m.pAlive(c)
	for j, z := range zs {
		out[j] = scale * (1 - math.Exp((a-1)*math.Log1p(-z))*out[j])
	}
}

// expected is E[X(t)] for a customer just acquired (eq. 9 of the BG/NBD
// paper; for MBG/NBD b/(a-1)·[1 - (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))]),
// with the bracket Euler-transformed as in conditionalExpected.
func (m bgnbd) expected(t float64) float64 {
	if t <= 0 {
		return 0
	}
	r, alpha, a, b := m.r, m.alpha, m.a, m.b
	z := t / (alpha + t)
	pow := math.Exp((a - 1) * math.Log(alpha/(alpha+t)))
	if m.modified {
		return b / (a - 1) * (1 - pow*hyp2f1One(a+b-r, a-1, a+b, z))
	}
	return (a + b - 1) / (a - 1) * (1 - pow*hyp2f1One(a+b-1-r, a-1, a+b-1, z))
}

// probN is P(X(t) = n) for a customer just acquired (eq. 8 of the BG/NBD
// paper). The tail P(NBD ≥ n) is the regularised incomplete beta function
// I_{t/(α+t)}(n, r), exact even when it is tiny, instead of 1 minus a sum.
func (m bgnbd) probN(n int, t float64) float64 {
	if n < 0 {
		return 0
	}
	if t <= 0 {
		if n == 0 {
			return 1
		}
		return 0
	}
	r, alpha, a, b := m.r, m.alpha, m.a, m.b
	fn := float64(n)
	mm := 0.0
	if m.modified {
		mm = 1
	}
	// Alive throughout (0, t] with exactly n purchases.
	nbd := lgamma(r+fn) - lgamma(r) - lgamma(fn+1) + r*math.Log(alpha/(alpha+t)) + fn*math.Log(t/(alpha+t))
	p := math.Exp(lbeta(a, b+fn+mm) - lbeta(a, b) + nbd)
	// Dropped out right after the n-th purchase, which came before t.
	switch {
	case n == 0 && m.modified:
		p += math.Exp(lbeta(a+1, b) - lbeta(a, b))
	case n > 0:
		tail := mathext.RegIncBeta(fn, r, t/(alpha+t))
		p += math.Exp(lbeta(a+1, b+fn-1+mm)-lbeta(a, b)) * tail
	}
	return p
}

func (m bgnbd) params() []float64 { return []float64{m.r, m.alpha, m.a, m.b} }

// Name is "bgnbd".
func (m BGNBD) Name() string { return "bgnbd" }

// ParamNames are r, alpha, a, b.
func (m BGNBD) ParamNames() []string { return []string{"r", "alpha", "a", "b"} }

// Params are R, Alpha, A, B.
func (m BGNBD) Params() []float64 { return m.core().params() }

// Fitted returns the fit statistics (zero for a model restored from values).
func (m BGNBD) Fitted() Fit { return m.Fit }

// CustomerLogLik is the log-likelihood of one customer's history.
func (m BGNBD) CustomerLogLik(c Customer) float64 { return m.core().logLik(c) }

// PAlive is the probability that a customer with history c is alive at T.
func (m BGNBD) PAlive(c Customer) float64 { return m.core().pAlive(c) }

// ConditionalExpected is the expected number of transactions in (T, T+t]
// of a customer with history c.
func (m BGNBD) ConditionalExpected(c Customer, t float64) float64 {
	return m.core().conditionalExpected(c, t)
}

// Expected is E[X(t)], the expected repeat transactions in the first t after
// a new customer's first purchase.
func (m BGNBD) Expected(t float64) float64 { return m.core().expected(t) }

// ProbN is P(X(t) = n), the probability that a new customer makes exactly n
// repeat transactions in the first t after the first purchase.
func (m BGNBD) ProbN(n int, t float64) float64 { return m.core().probN(n, t) }

// Name is "mbgnbd".
func (m MBGNBD) Name() string { return "mbgnbd" }

// ParamNames are r, alpha, a, b.
func (m MBGNBD) ParamNames() []string { return []string{"r", "alpha", "a", "b"} }

// Params are R, Alpha, A, B.
func (m MBGNBD) Params() []float64 { return m.core().params() }

// Fitted returns the fit statistics (zero for a model restored from values).
func (m MBGNBD) Fitted() Fit { return m.Fit }

// CustomerLogLik is the log-likelihood of one customer's history.
func (m MBGNBD) CustomerLogLik(c Customer) float64 { return m.core().logLik(c) }

// PAlive is the probability that a customer with history c is alive at T.
func (m MBGNBD) PAlive(c Customer) float64 { return m.core().pAlive(c) }

// ConditionalExpected is the expected number of transactions in (T, T+t]
// of a customer with history c.
func (m MBGNBD) ConditionalExpected(c Customer, t float64) float64 {
	return m.core().conditionalExpected(c, t)
}

// Expected is E[X(t)] for a new customer.
func (m MBGNBD) Expected(t float64) float64 { return m.core().expected(t) }

// ProbN is P(X(t) = n) for a new customer.
func (m MBGNBD) ProbN(n int, t float64) float64 { return m.core().probN(n, t) }
