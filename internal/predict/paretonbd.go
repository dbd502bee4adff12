package predict

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
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
		// Mean purchase rate as in the data. α = β puts the 2F1 argument
		// |α-β|/(max(α,β)+t) at 0, where its series is cheapest, and the
		// optimum of real data is rarely far from there.
		rate := d.meanRate()
		init = []float64{1, 1 / rate, 1, 1 / rate}
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

// paretoObjective is -LL/N in log-parameters with its analytic gradient.
// Per customer (Fader & Hardie's note, eq. 18),
//
//	L = Γ(r+x)α^r β^s/Γ(r) · [E1 + E2],
//	E1 = (α+T)^-(r+x) (β+T)^-s  (alive at T),  E2 = s/(r+s+x)·A0  (died in (t_x, T]),
//
// and the gradient of ln(E1+E2) is p·∇ln E1 + (1-p)·∇ln E2 with p = P(alive).
func paretoObjective(d *rows) objective {
	eval := func(g, lp []float64) float64 {
		m := ParetoNBD{R: math.Exp(lp[0]), Alpha: math.Exp(lp[1]), S: math.Exp(lp[2]), Beta: math.Exp(lp[3])}
		r, alpha, s, beta := m.R, m.Alpha, m.S, m.Beta
		var ll float64
		var grad [4]float64
		lgr := lgamma(r)
		la, lb := math.Log(alpha), math.Log(beta)
		base := r*la + s*lb - lgr
		var psiR float64
		if g != nil {
			psiR = mathext.Digamma(r)
		}
		for k, x := range d.xs {
			w := d.xw[k]
			ll += w * (lgamma(r+x) + base)
			if g != nil {
				grad[0] += w * (mathext.Digamma(r+x) - psiR + la)
				grad[1] += w * r / alpha
				grad[2] += w * lb
				grad[3] += w * s / beta
			}
		}
		var gA [4]float64
		gp := &gA
		if g == nil {
			gp = nil
		}
		for i, w := range d.w {
			x, T := d.x[i], d.t[i]
			rsx := r + s + x
			laT, lbT := math.Log(alpha+T), math.Log(beta+T)
			lE1 := -(r+x)*laT - s*lbT
			lE2 := math.Log(s) - math.Log(rsx) + m.logA0Grad(x, d.tx[i], T, gp)
			lsum := logAddExp(lE1, lE2)
			ll += w * lsum
			if g != nil && !math.IsInf(lE2, -1) {
				p := math.Exp(lE1 - lsum)
				q := 1 - p
				grad[0] += w * (-p*laT + q*(gA[0]-1/rsx))
				grad[1] += w * (-p*(r+x)/(alpha+T) + q*gA[1])
				grad[2] += w * (-p*lbT + q*(gA[2]+1/s-1/rsx))
				grad[3] += w * (-p*s/(beta+T) + q*gA[3])
			} else if g != nil {
				grad[0] -= w * laT
				grad[1] -= w * (r + x) / (alpha + T)
				grad[2] -= w * lbT
				grad[3] -= w * s / (beta + T)
			}
		}
		if g != nil {
			for j, v := range []float64{r, alpha, s, beta} {
				g[j] = -grad[j] * v / d.n
			}
		}
		return -ll / d.n
	}
	return objective{
		f:    func(lp []float64) float64 { return eval(nil, lp) },
		grad: func(g, lp []float64) { eval(g, lp) },
	}
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
// taken in logs, A0 = e^lg1 (1 - e^(lg2-lg1)), so nothing overflows.
func (m ParetoNBD) logA0(c Customer) float64 {
	return m.logA0Grad(c.X, c.Tx, c.T, nil)
}

// logA0Grad is logA0; if grad is not nil it also stores ∂ln A0/∂(r, α, s, β).
func (m ParetoNBD) logA0Grad(x, tx, T float64, grad *[4]float64) float64 {
	if tx >= T {
		return math.Inf(-1) // no time to die unseen
	}
	var g1, g2 [4]float64
	lg1 := m.logG(x, tx, &g1, grad != nil)
	lg2 := m.logG(x, T, &g2, grad != nil)
	if lg2 >= lg1 {
		return math.Inf(-1) // rounding: t_x indistinguishable from T
	}
	rho := math.Exp(lg2 - lg1)
	if grad != nil {
		for j := range grad {
			grad[j] = (g1[j] - rho*g2[j]) / (1 - rho)
		}
	}
	return lg1 + math.Log(-math.Expm1(lg2-lg1))
}

// logG is ln of one term of A0, 2F1(a, b2; a+1; z)·(m+τ)^-a with
// a = r+s+x and z = |α-β|/(m+τ); with withGrad it stores its partial
// derivatives in (r, α, s, β) in g.
func (m ParetoNBD) logG(x, tau float64, g *[4]float64, withGrad bool) float64 {
	r, alpha, s, beta := m.R, m.Alpha, m.S, m.Beta
	a := r + s + x
	first := alpha >= beta // m = α, b2 = s+1; otherwise m = β, b2 = r+x
	mx, diff, b2 := alpha, alpha-beta, s+1
	if !first {
		mx, diff, b2 = beta, beta-alpha, r+x
	}
	mt := mx + tau
	z := diff / mt
	lm := math.Log(mt)
	f, fa, fb, fz := hyp2f1Plus1(a, b2, z, withGrad)
	if withGrad {
		fa, fb, fz = fa/f, fb/f, fz/f
		g[0] = fa - lm // ∂a/∂r = 1
		g[2] = fa - lm // ∂a/∂s = 1
		if first {
			g[2] += fb // b2 = s+1
			g[1] = fz*(beta+tau)/(mt*mt) - a/mt
			g[3] = -fz / mt
		} else {
			g[0] += fb // b2 = r+x
			g[1] = -fz / mt
			g[3] = fz*(alpha+tau)/(mt*mt) - a/mt
		}
	}
	return math.Log(f) - a*lm
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
	var out [1]float64
	m.conditionalExpectedAt(c, []float64{t}, out[:])
	return out[0]
}

// conditionalExpectedAt sets out[j] = E[Y(ts[j]) | x, t_x, T] with P(alive)
// computed once.
func (m ParetoNBD) conditionalExpectedAt(c Customer, ts, out []float64) {
	bT := m.Beta + c.T
	scale := (m.R + c.X) * bT / (m.Alpha + c.T) * m.PAlive(c)
	for j, t := range ts {
		out[j] = 0
		if t > 0 {
			out[j] = scale * powRatio(bT/(bT+t), m.S-1)
		}
	}
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
