package predict

import (
	"fmt"
	"math"
)

// ParetoNBD is the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).
// While alive a customer buys as a Poisson process of rate λ ~ Gamma(R,
// Alpha); the lifetime is exponential with rate μ ~ Gamma(S, Beta). Alpha
// and Beta are in the time unit of the data.
type ParetoNBD struct {
	R, Alpha, S, Beta float64
	Fit
}

// FitParetoNBD fits Pareto/NBD by maximum likelihood.
func FitParetoNBD(data []Customer, opts FitOptions) (ParetoNBD, error) {
	d, err := prepare(data, opts)
	if err != nil {
		return ParetoNBD{}, fmt.Errorf("fit Pareto/NBD: %w", err)
	}
	init := opts.Init
	if init == nil {
		// Mean purchase rate as in the data, mean lifetime ~ 10 purchases.
		rate := d.meanRate()
		init = []float64{1, 1 / rate, 1, 10 / rate}
	}
	if len(init) != 4 {
		return ParetoNBD{}, fmt.Errorf("fit Pareto/NBD: %w: %d starting values, want 4", ErrBadInput, len(init))
	}
	p, fit, err := maximise(paretoObjective(d), init, d.n, len(d.x), opts)
	if err != nil {
		return ParetoNBD{}, fmt.Errorf("fit Pareto/NBD: %w", err)
	}
	return ParetoNBD{R: p[0], Alpha: p[1], S: p[2], Beta: p[3], Fit: fit}, nil
}

// paretoObjective is -LL/N in log-parameters; its gradient is taken by
// central differences.
func paretoObjective(d *rows) objective {
	return objective{f: func(lp []float64) float64 {
		m := ParetoNBD{R: math.Exp(lp[0]), Alpha: math.Exp(lp[1]), S: math.Exp(lp[2]), Beta: math.Exp(lp[3])}
		var ll float64
		lgr := lgamma(m.R)
		base := m.R*math.Log(m.Alpha) + m.S*math.Log(m.Beta) - lgr
		for k, x := range d.xs {
			ll += d.xw[k] * (lgamma(m.R+x) + base)
		}
		for i, w := range d.w {
			c := Customer{X: d.x[i], Tx: d.tx[i], T: d.t[i]}
			ll += w * m.logBracket(c)
		}
		return -ll / d.n
	}}
}

// logA0 is ln A0 of Fader & Hardie's Pareto/NBD note (eqs. 19-20), the
// integral over possible death times between t_x and T in terms of 2F1,
// with the Gaussian hypergeometric argument kept in [0, 1) by branching on
// the larger of α and β:
//
//	A0 = 2F1(r+s+x, b2; r+s+x+1; |α-β|/(m+t_x)) / (m+t_x)^(r+s+x)
//	   - 2F1(r+s+x, b2; r+s+x+1; |α-β|/(m+T))   / (m+T)^(r+s+x)
//
// with m = max(α, β), b2 = s+1 if α ≥ β, r+x otherwise. The difference is
// taken in logs, A0 = e^la (1 - e^(lb-la)), so nothing overflows.
func (m ParetoNBD) logA0(c Customer) float64 {
	r, alpha, s, beta, x := m.R, m.Alpha, m.S, m.Beta, c.X
	rsx := r + s + x
	mx, diff, b2 := alpha, alpha-beta, s+1
	if alpha < beta {
		mx, diff, b2 = beta, beta-alpha, r+x
	}
	la := math.Log(hyp2f1(rsx, b2, rsx+1, diff/(mx+c.Tx))) - rsx*math.Log(mx+c.Tx)
	if c.Tx == c.T {
		return math.Inf(-1)
	}
	lb := math.Log(hyp2f1(rsx, b2, rsx+1, diff/(mx+c.T))) - rsx*math.Log(mx+c.T)
	if lb >= la {
		return math.Inf(-1) // rounding: t_x indistinguishable from T
	}
	return la + math.Log(-math.Expm1(lb-la))
}

// logBracket is ln of the part of the likelihood that depends on t_x and T
// (note eq. 18): (α+T)^-(r+x) (β+T)^-s + s/(r+s+x)·A0.
func (m ParetoNBD) logBracket(c Customer) float64 {
	alive := -(m.R+c.X)*math.Log(m.Alpha+c.T) - m.S*math.Log(m.Beta+c.T)
	dead := math.Log(m.S) - math.Log(m.R+m.S+c.X) + m.logA0(c)
	return logAddExp(alive, dead)
}

func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// CustomerLogLik is the log-likelihood of one customer's history.
func (m ParetoNBD) CustomerLogLik(c Customer) float64 {
	return lgamma(m.R+c.X) - lgamma(m.R) + m.R*math.Log(m.Alpha) + m.S*math.Log(m.Beta) + m.logBracket(c)
}

// PAlive is the probability that a customer with history c is alive at T
// (note eq. 37).
func (m ParetoNBD) PAlive(c Customer) float64 {
	z := math.Log(m.S) - math.Log(m.R+m.S+c.X) + (m.R+c.X)*math.Log(m.Alpha+c.T) + m.S*math.Log(m.Beta+c.T) + m.logA0(c)
	return 1 / (1 + math.Exp(z))
}

// ConditionalExpected is the expected number of transactions in (T, T+t]
// of a customer with history c (note eq. 41):
//
//	(r+x)(β+T) / ((α+T)(s-1)) · [1 - ((β+T)/(β+T+t))^(s-1)] · P(alive)
func (m ParetoNBD) ConditionalExpected(c Customer, t float64) float64 {
	if t <= 0 {
		return 0
	}
	bT := m.Beta + c.T
	return (m.R + c.X) * bT / (m.Alpha + c.T) * powRatio(bT/(bT+t), m.S-1) * m.PAlive(c)
}

// powRatio is (1 - u^k)/k, continuous through k = 0 (where it is -ln u).
func powRatio(u, k float64) float64 {
	lu := math.Log(u)
	if math.Abs(k*lu) < 1e-12 {
		return -lu
	}
	return -math.Expm1(k*lu) / k
}

// Expected is E[X(t)] for a new customer (note eq. 27):
// rβ/(α(s-1)) · [1 - (β/(β+t))^(s-1)].
func (m ParetoNBD) Expected(t float64) float64 {
	if t <= 0 {
		return 0
	}
	return m.R * m.Beta / m.Alpha * powRatio(m.Beta/(m.Beta+t), m.S-1)
}

// ProbN is P(X(t) = n) for a new customer (Fader & Hardie, "Deriving an
// Expression for P(X(t)=x) under the Pareto/NBD Model", note 012):
//
//	Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))^n (β/(β+t))^s
//	+ α^r β^s B(r+n, s+1)/B(r,s) · [B1 - Σ_{i=0..n} Γ(r+s+i)/(Γ(r+s) i!) t^i B2(i)]
//
// where, for α ≥ β, B1 = 2F1(r+s, s+1; r+s+n+1; (α-β)/α)/α^(r+s) and
// B2(i) = 2F1(r+s+i, s+1; r+s+n+1; (α-β)/(α+t))/(α+t)^(r+s+i); for α < β the
// roles of α and β swap and the second 2F1 parameter is r+n.
func (m ParetoNBD) ProbN(n int, t float64) float64 {
	if n < 0 {
		return 0
	}
	if t <= 0 {
		if n == 0 {
			return 1
		}
		return 0
	}
	r, alpha, s, beta := m.R, m.Alpha, m.S, m.Beta
	fn := float64(n)
	alive := lgamma(r+fn) - lgamma(r) - lgamma(fn+1) + r*math.Log(alpha/(alpha+t)) + fn*math.Log(t/(alpha+t)) + s*math.Log(beta/(beta+t))
	mx, diff, b2 := alpha, alpha-beta, s+1
	if alpha < beta {
		mx, diff, b2 = beta, beta-alpha, r+fn
	}
	c := r + s + fn + 1
	// Everything in logs relative to the common factor, then one exp: the
	// bracket is a difference of similar numbers for large n.
	b1 := math.Log(hyp2f1(r+s, b2, c, diff/mx)) - (r+s)*math.Log(mx)
	var sum float64
	lgrs := lgamma(r + s)
	for i := 0; i <= n; i++ {
		fi := float64(i)
		l := lgamma(r+s+fi) - lgrs - lgamma(fi+1) + fi*math.Log(t) +
			math.Log(hyp2f1(r+s+fi, b2, c, diff/(mx+t))) - (r+s+fi)*math.Log(mx+t)
		sum += math.Exp(l - b1)
	}
	coef := r*math.Log(alpha) + s*math.Log(beta) + lbeta(r+fn, s+1) - lbeta(r, s) + b1
	dead := math.Exp(coef) * (1 - sum)
	if dead < 0 {
		dead = 0 // rounding when the bracket is all but 0
	}
	return math.Exp(alive) + dead
}

// Name is "paretonbd".
func (m ParetoNBD) Name() string { return "paretonbd" }

// ParamNames are r, alpha, s, beta.
func (m ParetoNBD) ParamNames() []string { return []string{"r", "alpha", "s", "beta"} }

// Params are R, Alpha, S, Beta.
func (m ParetoNBD) Params() []float64 { return []float64{m.R, m.Alpha, m.S, m.Beta} }

// Fitted returns the fit statistics (zero for a model restored from values).
func (m ParetoNBD) Fitted() Fit { return m.Fit }
