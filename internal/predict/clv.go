package predict

import (
	"fmt"
	"math"
)

// CLVOptions configure the customer lifetime value.
type CLVOptions struct {
	// Horizon is how far ahead to count, in the model's time unit (e.g.
	// 52 for a year when the unit is weeks). Required.
	Horizon float64
	// Period is the length of one discounting period in the model's time
	// unit (e.g. 52/12 for months when the unit is weeks); 0 means 1 unit.
	Period float64
	// DiscountRate is the discount rate per Period (0.01 for 1% a month);
	// must be > -1.
	DiscountRate float64
	// Margin is the share of revenue that is profit, in (0, 1]. Required,
	// so a forgotten margin is an error rather than a CLV of revenue.
	Margin float64
}

func (o CLVOptions) validate() error {
	switch {
	case !(o.Horizon > 0) || math.IsInf(o.Horizon, 0):
		return fmt.Errorf("%w: CLV horizon %v must be > 0", ErrBadInput, o.Horizon)
	case o.Period < 0 || !finite(o.Period):
		return fmt.Errorf("%w: CLV period %v must be > 0", ErrBadInput, o.Period)
	case !(o.DiscountRate > -1) || !finite(o.DiscountRate):
		return fmt.Errorf("%w: CLV discount rate %v must be > -1", ErrBadInput, o.DiscountRate)
	case !(o.Margin > 0 && o.Margin <= 1):
		return fmt.Errorf("%w: CLV margin %v must be in (0, 1]", ErrBadInput, o.Margin)
	}
	return nil
}

// CLV is the expected discounted margin of a customer with history c over
// the horizon: the horizon is cut into periods; the expected transactions in
// period k, E[Y(k·P) | c] - E[Y((k-1)·P) | c], times the expected spend per
// transaction (e.g. GammaGamma.ConditionalExpectedSpend) and the margin, are
// discounted by (1+d)^k, as if paid at the end of the period:
//
//	CLV = Σ_k margin · spend · ΔE[Y]_k / (1+d)^k
//
// A last period shorter than Period counts for what it covers.
func CLV(m TransactionModel, c Customer, spend float64, o CLVOptions) (float64, error) {
	if err := o.validate(); err != nil {
		return 0, err
	}
	if !finite(spend) || spend < 0 {
		return 0, fmt.Errorf("%w: CLV spend %v must be >= 0", ErrBadInput, spend)
	}
	p := o.Period
	if p == 0 {
		p = 1
	}
	periods := int(math.Ceil(o.Horizon/p - 1e-9))
	var tbuf, cbuf [64]float64
	ts, cum := tbuf[:0], cbuf[:0]
	if periods > len(tbuf) {
		ts, cum = make([]float64, 0, periods), make([]float64, 0, periods)
	}
	for k := range periods {
		ts = append(ts, math.Min(float64(k+1)*p, o.Horizon))
		cum = append(cum, 0)
	}
	// Concrete types, not an interface, so the buffers stay on the stack.
	switch mm := m.(type) {
	case BGNBD:
		mm.core().conditionalExpectedAt(c, ts, cum)
	case MBGNBD:
		mm.core().conditionalExpectedAt(c, ts, cum)
	case ParetoNBD:
		mm.conditionalExpectedAt(c, ts, cum)
	default:
		for k, t := range ts {
			cum[k] = m.ConditionalExpected(c, t)
		}
	}
	var value, prev float64
	disc := 1.0
	for _, e := range cum {
		disc /= 1 + o.DiscountRate
		value += (e - prev) * disc
		prev = e
	}
	return value * spend * o.Margin, nil
}
