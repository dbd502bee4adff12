package predict

import (
	"fmt"
	"math"
)

// TransactionModel is what the continuous-time models (BG/NBD, MBG/NBD,
// Pareto/NBD) have in common, so the product can fit several and keep the
// one with the lowest BIC or holdout error. Times are in the unit of the
// data the model was fitted on.
type TransactionModel interface {
	Name() string         // "bgnbd", "mbgnbd", "paretonbd"
	ParamNames() []string // in the order of Params
	Params() []float64
	Fitted() Fit // fit statistics; zero for a model restored with NewTransactionModel

	// CustomerLogLik is the log-likelihood of one customer's history.
	CustomerLogLik(c Customer) float64
	// PAlive is P(alive at T | x, t_x, T).
	PAlive(c Customer) float64
	// ConditionalExpected is E[Y(t) | x, t_x, T], the expected number of
	// transactions in (T, T+t].
	ConditionalExpected(c Customer, t float64) float64
	// Expected is E[X(t)], the expected repeat transactions in the first t
	// after a new customer's first purchase.
	Expected(t float64) float64
	// ProbN is P(X(t) = n) for a new customer.
	ProbN(n int, t float64) float64
}

var (
	_ TransactionModel = BGNBD{}
	_ TransactionModel = MBGNBD{}
	_ TransactionModel = ParetoNBD{}
)

// Models lists the names FitTransactionModel and NewTransactionModel accept.
var Models = []string{"bgnbd", "mbgnbd", "paretonbd"}

// FitTransactionModel fits the model called name (see Models).
func FitTransactionModel(name string, data []Customer, opts FitOptions) (TransactionModel, error) {
	switch name {
	case "bgnbd":
		return FitBGNBD(data, opts)
	case "mbgnbd":
		return FitMBGNBD(data, opts)
	case "paretonbd":
		return FitParetoNBD(data, opts)
	}
	return nil, fmt.Errorf("%w: unknown model %q (known: %v)", ErrBadInput, name, Models)
}

// NewTransactionModel restores a model from stored parameter values, in the
// order of its ParamNames.
func NewTransactionModel(name string, params []float64) (TransactionModel, error) {
	if len(params) != 4 {
		return nil, fmt.Errorf("%w: model %q has 4 parameters, got %d", ErrBadInput, name, len(params))
	}
	for i, v := range params {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: model %q parameter %d is %v, must be finite and > 0", ErrBadInput, name, i, v)
		}
	}
	p := params
	switch name {
	case "bgnbd":
		return BGNBD{R: p[0], Alpha: p[1], A: p[2], B: p[3]}, nil
	case "mbgnbd":
		return MBGNBD{R: p[0], Alpha: p[1], A: p[2], B: p[3]}, nil
	case "paretonbd":
		return ParetoNBD{R: p[0], Alpha: p[1], S: p[2], Beta: p[3]}, nil
	}
	return nil, fmt.Errorf("%w: unknown model %q (known: %v)", ErrBadInput, name, Models)
}

// BIC is the Bayesian information criterion of a fitted model,
// k·ln(N) - 2·LL; lower is better. Compare only fits on the same data.
func BIC(m TransactionModel) float64 {
	f := m.Fitted()
	return float64(len(m.Params()))*math.Log(f.N) - 2*f.LogLik
}

// AIC is Akaike's information criterion, 2k - 2·LL; lower is better.
func AIC(m TransactionModel) float64 {
	return 2*float64(len(m.Params())) - 2*m.Fitted().LogLik
}

// LogLik is the total log-likelihood of data under m (weights counted), for
// comparing models on data they were not fitted on.
func LogLik(m TransactionModel, data []Customer) float64 {
	var ll float64
	for _, c := range data {
		ll += c.weight() * m.CustomerLogLik(c)
	}
	return ll
}
