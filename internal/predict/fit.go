package predict

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// FitOptions tune a maximum-likelihood fit. The zero value is a good default.
type FitOptions struct {
	// Init are starting values in the model's parameter order (natural
	// scale, all > 0). Nil: a start scaled to the data's purchase rate.
	Init []float64
	// MinCustomers refuses fits on fewer customers (default 10).
	MinCustomers int
	// MaxIterations bounds the optimiser's major iterations (default 1000).
	MaxIterations int
	// SkipSE leaves Fit.SE nil, saving the Hessian's evaluations.
	SkipSE bool
}

func (o FitOptions) minCustomers() int {
	if o.MinCustomers > 0 {
		return o.MinCustomers
	}
	return 10
}

// Fit describes a maximum-likelihood fit. Fitted models embed it, so
// m.LogLik and m.SE read directly.
type Fit struct {
	LogLik float64 // log-likelihood at the estimate (sum over customers)
	// SE are the standard errors of the parameters (model order), from the
	// inverse observed information in log-parameters mapped back by the
	// delta method: se(θ) = θ·se(log θ). NaN when the Hessian is not
	// positive definite (the estimate is then poorly determined).
	SE          []float64
	N           float64       // customers fitted (sum of weights)
	Rows        int           // distinct rows after compression
	Iterations  int           // optimiser major iterations
	Evaluations int           // likelihood and gradient evaluations
	Duration    time.Duration // wall time of the fit
}

// objective is a model's negative log-likelihood in log-parameters, scaled
// to one customer (divided by N) so that the optimiser sees values of order 1
// whatever the number of customers.
type objective struct {
	f    func(logp []float64) float64
	grad func(g, logp []float64) // nil: central finite differences
}

// maximise fits logp by BFGS, falling back to Nelder-Mead followed by BFGS
// when the line search fails, and fills in the Fit. n is the number of
// customers the objective was divided by.
func maximise(obj objective, init []float64, n float64, rows int, opts FitOptions) ([]float64, Fit, error) {
	start := time.Now()
	evals := 0
	f := func(x []float64) float64 {
		evals++
		for _, v := range x {
			// exp overflows beyond ~709; parameters this far out are no
			// candidate for a maximum, and Inf tells the line search so.
			if !finite(v) || math.Abs(v) > 300 {
				return math.Inf(1)
			}
		}
		v := obj.f(x)
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return v
	}
	grad := func(g, x []float64) { fd.Gradient(g, f, x, &fd.Settings{Formula: fd.Central}) }
	if obj.grad != nil {
		grad = func(g, x []float64) {
			evals++
			obj.grad(g, x)
		}
	}
	x0 := make([]float64, len(init))
	for i, v := range init {
		if !(v > 0) || !finite(v) {
			return nil, Fit{}, fmt.Errorf("%w: starting value %d is %v, must be > 0", ErrBadInput, i, v)
		}
		x0[i] = math.Log(v)
	}
	maxIter := opts.MaxIterations
	if maxIter <= 0 {
		maxIter = 1000
	}
	settings := func() *optimize.Settings {
		return &optimize.Settings{
			// The objective is per customer; 1e-8 per customer leaves the
			// parameters far more exact than their standard errors, and is
			// above the rounding noise of a sum over many customers.
			GradientThreshold: 1e-8,
			Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 25},
			MajorIterations:   maxIter,
		}
	}
	p := optimize.Problem{Func: f, Grad: grad}
	iters := 0
	res, err := optimize.Minimize(p, x0, settings(), &optimize.BFGS{})
	if res != nil {
		iters += res.MajorIterations
	}
	if res == nil || !acceptable(res, grad) {
		from := x0
		if res != nil && finite(res.F) {
			from = res.X
		}
		nm, err2 := optimize.Minimize(optimize.Problem{Func: f}, from, &optimize.Settings{
			Converger:       &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 200},
			MajorIterations: 20 * maxIter,
		}, &optimize.NelderMead{})
		if nm != nil {
			iters += nm.MajorIterations
		}
		if err2 != nil {
			err = err2
		}
		if nm != nil && finite(nm.F) {
			polished, err3 := optimize.Minimize(p, nm.X, settings(), &optimize.BFGS{})
			if polished != nil {
				iters += polished.MajorIterations
			}
			// Unless BFGS polished it, the simplex optimum stands if the
			// gradient there is small.
			res = nm
			if polished != nil && acceptable(polished, grad) {
				res = polished
			} else if err3 != nil {
				err = err3
			}
		}
	}
	if res == nil || !acceptable(res, grad) {
		detail := "no result"
		if res != nil {
			detail = fmt.Sprintf("status %v, -LL/N %v", res.Status, res.F)
		}
		if err != nil {
			detail += ": " + err.Error()
		}
		return nil, Fit{}, fmt.Errorf("%w: %s", ErrNotConverged, detail)
	}
	params := make([]float64, len(res.X))
	for i, v := range res.X {
		params[i] = math.Exp(v)
		if !(params[i] > 0) || !finite(params[i]) {
			return nil, Fit{}, fmt.Errorf("%w: parameter %d went to %v", ErrNotConverged, i, params[i])
		}
	}
	fit := Fit{LogLik: -res.F * n, N: n, Rows: rows, Iterations: iters}
	if !opts.SkipSE {
		var analytic func(g, x []float64)
		if obj.grad != nil {
			analytic = grad
		}
		fit.SE = standardErrors(f, analytic, res.X, params, n)
	}
	fit.Evaluations = evals
	fit.Duration = time.Since(start)
	return params, fit, nil
}

// acceptable: the optimiser stopped at a finite point where the gradient of
// the per-customer objective is negligible. A line search that fails in the
// rounding noise right at the optimum returns an error but a good point, so
// the gradient decides, not the status.
func acceptable(res *optimize.Result, grad func(g, x []float64)) bool {
	if !finite(res.F) {
		return false
	}
	for _, v := range res.X {
		if !finite(v) {
			return false
		}
	}
	g := make([]float64, len(res.X))
	grad(g, res.X)
	for _, v := range g {
		if !(math.Abs(v) < 1e-6) {
			return false
		}
	}
	return true
}

// standardErrors inverts the observed information (the Hessian of -LL in
// log-parameters) and maps it back with the delta method. With an analytic
// gradient the Hessian is its central-difference Jacobian (2k gradients,
// more exact than second differences of f); otherwise second differences.
func standardErrors(f func([]float64) float64, grad func(g, x []float64), logp, params []float64, n float64) []float64 {
	k := len(logp)
	h := mat.NewSymDense(k, nil)
	if grad != nil {
		jac := mat.NewDense(k, k, nil)
		fd.Jacobian(jac, func(y, x []float64) { grad(y, x) }, logp, &fd.JacobianSettings{Formula: fd.Central})
		for i := range k {
			for j := i; j < k; j++ {
				h.SetSym(i, j, (jac.At(i, j)+jac.At(j, i))/2)
			}
		}
	} else {
		fd.Hessian(h, f, logp, &fd.Settings{Formula: fd.Central, Step: 1e-4})
	}
	h.ScaleSym(n, h) // f is per customer
	se := make([]float64, k)
	var chol mat.Cholesky
	if !chol.Factorize(h) {
		for i := range se {
			se[i] = math.NaN()
		}
		return se
	}
	var cov mat.SymDense
	if err := chol.InverseTo(&cov); err != nil {
		for i := range se {
			se[i] = math.NaN()
		}
		return se
	}
	for i := range se {
		v := cov.At(i, i)
		if v < 0 {
			se[i] = math.NaN()
			continue
		}
		se[i] = params[i] * math.Sqrt(v)
	}
	return se
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// lbeta is ln B(a, b) for a, b > 0.
func lbeta(a, b float64) float64 {
	return lgamma(a) + lgamma(b) - lgamma(a+b)
}
