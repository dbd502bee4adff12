package predict

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Errors a fit can return; they are wrapped with details, test with errors.Is.
var (
	// ErrBadInput: a value that cannot be a customer history (negative, not
	// finite, t_x > T, a non-integer count, a non-positive amount, ...).
	ErrBadInput = errors.New("bad input")
	// ErrTooFewCustomers: fewer customers than FitOptions.MinCustomers.
	ErrTooFewCustomers = errors.New("too few customers to fit")
	// ErrNoRepeatBuyers: nobody bought twice, so the repeat-purchase process
	// cannot be identified (the likelihood has no interior maximum).
	ErrNoRepeatBuyers = errors.New("no repeat buyers to fit")
	// ErrNotConverged: the optimiser stopped without reaching a finite
	// maximum of the likelihood.
	ErrNotConverged = errors.New("optimisation did not converge")
)

// Customer is one customer's calibration history in a continuous-time model,
// in a time unit of the caller's choice (weeks in the papers):
// X repeat transactions (the first purchase is not counted), the last of them
// at Tx after the first purchase (0 if X is 0), observed for T after the first
// purchase. Weight is the number of customers with exactly this history
// (0 counts as 1), so identical rows can be passed once.
type Customer struct {
	X, Tx, T float64
	Weight   float64
}

func (c Customer) weight() float64 {
	if c.Weight == 0 {
		return 1
	}
	return c.Weight
}

// Validate reports why c cannot be a customer history, or nil.
func (c Customer) Validate() error {
	switch {
	case !finite(c.X) || !finite(c.Tx) || !finite(c.T) || !finite(c.Weight):
		return fmt.Errorf("%w: values must be finite (x %v, t_x %v, T %v, weight %v)", ErrBadInput, c.X, c.Tx, c.T, c.Weight)
	case c.X < 0 || c.Tx < 0 || c.T < 0 || c.Weight < 0:
		return fmt.Errorf("%w: negative value (x %v, t_x %v, T %v, weight %v)", ErrBadInput, c.X, c.Tx, c.T, c.Weight)
	case c.X != math.Trunc(c.X):
		return fmt.Errorf("%w: x %v is not a whole number of transactions", ErrBadInput, c.X)
	case c.Tx > c.T:
		return fmt.Errorf("%w: t_x %v after T %v (last purchase after the end of calibration)", ErrBadInput, c.Tx, c.T)
	case c.X == 0 && c.Tx != 0:
		return fmt.Errorf("%w: t_x %v with no repeat transactions (must be 0)", ErrBadInput, c.Tx)
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Compress merges identical (X, Tx, T) rows into one row whose Weight is the
// number of customers merged; fitting cost then grows with the number of
// distinct histories, not of customers. Rows of weight 0 count as 1. The
// result is sorted by X, Tx, T.
func Compress(data []Customer) []Customer {
	type key struct{ x, tx, t float64 }
	idx := make(map[key]int, len(data)/4+16)
	out := make([]Customer, 0, len(data)/4+16)
	for _, c := range data {
		k := key{c.X, c.Tx, c.T}
		if i, ok := idx[k]; ok {
			out[i].Weight += c.weight()
			continue
		}
		idx[k] = len(out)
		out = append(out, Customer{X: c.X, Tx: c.Tx, T: c.T, Weight: c.weight()})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.X != b.X {
			return a.X < b.X
		}
		if a.Tx != b.Tx {
			return a.Tx < b.Tx
		}
		return a.T < b.T
	})
	return out
}

// rows is compressed, validated data laid out for fast likelihood loops:
// one entry per distinct history, and the terms that depend on x alone
// computed once per distinct x.
type rows struct {
	x, tx, t, w []float64
	xi          []int     // index of the row's x in xs
	xs, xw      []float64 // distinct x values and their total weight
	n           float64   // customers (sum of weights)
	repeat      float64   // customers with x > 0
}

func prepare(data []Customer, opts FitOptions) (*rows, error) {
	for i, c := range data {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("customer %d: %w", i, err)
		}
	}
	comp := Compress(data)
	r := &rows{
		x: make([]float64, len(comp)), tx: make([]float64, len(comp)),
		t: make([]float64, len(comp)), w: make([]float64, len(comp)),
		xi: make([]int, len(comp)),
	}
	for i, c := range comp {
		r.x[i], r.tx[i], r.t[i], r.w[i] = c.X, c.Tx, c.T, c.Weight
		if len(r.xs) == 0 || r.xs[len(r.xs)-1] != c.X { // comp is sorted by x
			r.xs = append(r.xs, c.X)
			r.xw = append(r.xw, 0)
		}
		r.xi[i] = len(r.xs) - 1
		r.xw[len(r.xw)-1] += c.Weight
		r.n += c.Weight
		if c.X > 0 {
			r.repeat += c.Weight
		}
	}
	if r.n < float64(opts.minCustomers()) {
		return nil, fmt.Errorf("%w: %g customers, need at least %d", ErrTooFewCustomers, r.n, opts.minCustomers())
	}
	if r.repeat == 0 {
		return nil, fmt.Errorf("%w: all %g customers have x = 0", ErrNoRepeatBuyers, r.n)
	}
	return r, nil
}

// meanRate is total repeat transactions over total observed time, a rough
// purchase rate used to scale starting values to the caller's time unit.
func (r *rows) meanRate() float64 {
	var sx, st float64
	for i := range r.x {
		sx += r.w[i] * r.x[i]
		st += r.w[i] * r.t[i]
	}
	if st <= 0 || sx <= 0 {
		return 1
	}
	return sx / st
}
