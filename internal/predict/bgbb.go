package predict

import (
	"fmt"
	"math"
)

// Opportunity is one customer's history in a discrete-time setting (one
// transaction opportunity per period: a yearly donation, a renewal): X
// transactions in the N opportunities after the first, the last of them at
// opportunity Tx (0 if X is 0). Weight counts identical rows (0 counts as 1).
type Opportunity struct {
	X, Tx, N int
	Weight   float64
}

// Validate reports why o cannot be a discrete-time history, or nil.
func (o Opportunity) Validate() error {
	switch {
	case o.N < 1:
		return fmt.Errorf("%w: n %d must be >= 1", ErrBadInput, o.N)
	case o.X < 0 || o.Tx < 0 || o.Tx > o.N:
		return fmt.Errorf("%w: x %d, t_x %d out of range for n %d", ErrBadInput, o.X, o.Tx, o.N)
	case o.X > o.Tx:
		return fmt.Errorf("%w: x %d transactions cannot fit in the first t_x %d opportunities", ErrBadInput, o.X, o.Tx)
	case o.X == 0 && o.Tx != 0:
		return fmt.Errorf("%w: t_x %d with no transactions (must be 0)", ErrBadInput, o.Tx)
	case !finite(o.Weight) || o.Weight < 0:
		return fmt.Errorf("%w: weight %v", ErrBadInput, o.Weight)
	}
	return nil
}

// BGBB is the beta-geometric/beta-Bernoulli model (Fader, Hardie & Shang
// 2010): while alive a customer transacts at each opportunity with
// probability p ~ Beta(Alpha, Beta), and dies before each opportunity with
// probability θ ~ Beta(Gamma, Delta).
type BGBB struct {
	Alpha, Beta, Gamma, Delta float64
	Fit
}

// FitBGBB fits BG/BB by maximum likelihood on the recency/frequency table.
func FitBGBB(data []Opportunity, opts FitOptions) (BGBB, error) {
	type key struct{ x, tx, n int }
	idx := map[key]int{}
	var rows []Opportunity
	var n, repeat float64
	for i, o := range data {
		if err := o.Validate(); err != nil {
			return BGBB{}, fmt.Errorf("fit BG/BB: row %d: %w", i, err)
		}
		w := o.Weight
		if w == 0 {
			w = 1
		}
		n += w
		if o.X > 0 {
			repeat += w
		}
		k := key{o.X, o.Tx, o.N}
		if j, ok := idx[k]; ok {
			rows[j].Weight += w
			continue
		}
		idx[k] = len(rows)
		o.Weight = w
		rows = append(rows, o)
	}
	if n < float64(opts.minCustomers()) {
		return BGBB{}, fmt.Errorf("fit BG/BB: %w: %g customers, need at least %d", ErrTooFewCustomers, n, opts.minCustomers())
	}
	if repeat == 0 {
		return BGBB{}, fmt.Errorf("fit BG/BB: %w", ErrNoRepeatBuyers)
	}
	init := opts.Init
	if init == nil {
		init = []float64{1, 1, 1, 1}
	}
	if len(init) != 4 {
		return BGBB{}, fmt.Errorf("fit BG/BB: %w: %d starting values, want 4", ErrBadInput, len(init))
	}
	obj := objective{f: func(lp []float64) float64 {
		m := BGBB{Alpha: math.Exp(lp[0]), Beta: math.Exp(lp[1]), Gamma: math.Exp(lp[2]), Delta: math.Exp(lp[3])}
		var ll float64
		for _, o := range rows {
			ll += o.Weight * m.CustomerLogLik(o)
		}
		return -ll / n
	}}
	p, fit, err := maximise(obj, init, n, len(rows), opts)
	if err != nil {
		return BGBB{}, fmt.Errorf("fit BG/BB: %w", err)
	}
	return BGBB{Alpha: p[0], Beta: p[1], Gamma: p[2], Delta: p[3], Fit: fit}, nil
}

// CustomerLogLik is the log-likelihood of one history (eq. 5 of the paper):
//
//	B(α+x, β+n-x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
//	+ Σ_{i=0..n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)
//
// (alive throughout, or dead after opportunity t_x+i), summed in logs.
func (m BGBB) CustomerLogLik(o Opportunity) float64 {
	a, b, g, d := m.Alpha, m.Beta, m.Gamma, m.Delta
	x, tx, n := float64(o.X), float64(o.Tx), float64(o.N)
	lab, lgd := lbeta(a, b), lbeta(g, d)
	ll := lbeta(a+x, b+n-x) - lab + lbeta(g, d+n) - lgd
	for i := 0.0; i <= n-tx-1; i++ {
		ll = logAddExp(ll, lbeta(a+x, b+tx-x+i)-lab+lbeta(g+1, d+tx+i)-lgd)
	}
	return ll
}

// PAlive is the probability that the customer is alive at opportunity n+1
// (eq. 11 of the paper).
func (m BGBB) PAlive(o Opportunity) float64 {
	return m.PAliveAt(o, 1)
}

// PAliveAt is the probability that the customer is alive at opportunity
// n+k, k ≥ 0.
func (m BGBB) PAliveAt(o Opportunity, k int) float64 {
	x, n := float64(o.X), float64(o.N)
	l := lbeta(m.Alpha+x, m.Beta+n-x) - lbeta(m.Alpha, m.Beta) +
		lbeta(m.Gamma, m.Delta+n+float64(k)) - lbeta(m.Gamma, m.Delta)
	return math.Exp(l - m.CustomerLogLik(o))
}

// ConditionalExpected is the expected number of transactions in the next
// nStar opportunities, n+1 … n+nStar (eq. 13 of the paper):
//
//	1/L · B(α+x+1, β+n-x)/B(α,β) · Σ_{k=1..n*} B(γ, δ+n+k)/B(γ,δ)
//
// where the sum telescopes to δ/(γ-1)·Γ(γ+δ)/Γ(1+δ)·[Γ(1+δ+n)/Γ(γ+δ+n) -
// Γ(1+δ+n+n*)/Γ(γ+δ+n+n*)]; near γ = 1 the sum is added up instead.
func (m BGBB) ConditionalExpected(o Opportunity, nStar int) float64 {
	if nStar <= 0 {
		return 0
	}
	a, b, g, d := m.Alpha, m.Beta, m.Gamma, m.Delta
	x, n := float64(o.X), float64(o.N)
	l := lbeta(a+x+1, b+n-x) - lbeta(a, b) - m.CustomerLogLik(o)
	return math.Exp(l) * survivalSum(g, d, n, nStar)
}

// survivalSum is Σ_{k=1..nStar} B(γ, δ+n+k)/B(γ,δ), the expected number of
// the next nStar opportunities a customer alive at n is still alive for.
func survivalSum(g, d, n float64, nStar int) float64 {
	if math.Abs(g-1) < 1e-6 || nStar <= 8 {
		var s float64
		lgd := lbeta(g, d)
		for k := 1; k <= nStar; k++ {
			s += math.Exp(lbeta(g, d+n+float64(k)) - lgd)
		}
		return s
	}
	ns := float64(nStar)
	c := math.Log(d) + lgamma(g+d) - lgamma(1+d)
	t1 := math.Exp(c + lgamma(1+d+n) - lgamma(g+d+n))
	t2 := math.Exp(c + lgamma(1+d+n+ns) - lgamma(g+d+n+ns))
	return (t1 - t2) / (g - 1)
}

// Expected is E[X(n)], the expected transactions of a new customer in the
// first n opportunities (eq. 8 of the paper): α/(α+β) times the expected
// number of opportunities alive.
func (m BGBB) Expected(n int) float64 {
	if n <= 0 {
		return 0
	}
	return m.Alpha / (m.Alpha + m.Beta) * survivalSum(m.Gamma, m.Delta, 0, n)
}

// ProbN is P(X(n) = x), the probability that a new customer makes exactly x
// transactions in the first n opportunities (eq. 7 of the paper).
func (m BGBB) ProbN(x, n int) float64 {
	if x < 0 || x > n || n < 0 {
		return 0
	}
	a, b, g, d := m.Alpha, m.Beta, m.Gamma, m.Delta
	fx, fn := float64(x), float64(n)
	lab, lgd := lbeta(a, b), lbeta(g, d)
	p := math.Exp(lchoose(fn, fx) + lbeta(a+fx, b+fn-fx) - lab + lbeta(g, d+fn) - lgd)
	for i := x; i < n; i++ {
		fi := float64(i)
		p += math.Exp(lchoose(fi, fx) + lbeta(a+fx, b+fi-fx) - lab + lbeta(g+1, d+fi) - lgd)
	}
	return p
}

func lchoose(n, k float64) float64 {
	return lgamma(n+1) - lgamma(k+1) - lgamma(n-k+1)
}

// ParamNames are alpha, beta, gamma, delta.
func (m BGBB) ParamNames() []string { return []string{"alpha", "beta", "gamma", "delta"} }

// Params are Alpha, Beta, Gamma, Delta.
func (m BGBB) Params() []float64 { return []float64{m.Alpha, m.Beta, m.Gamma, m.Delta} }
