package predict

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// TrackingPoint is one period of the cumulative repeat-transaction tracking
// plot: the actual repeat transactions of the cohort up to and including the
// period's last day, and the model's forecast for the same.
type TrackingPoint struct {
	Period   int       // 1, 2, … counted in units from the cohort's Start
	End      time.Time // last day of the period
	Actual   float64   // cumulative repeat transactions
	Expected float64   // cumulative forecast
	Holdout  bool      // the period ends after the calibration period
}

// CumulativeTracking compares actual and forecast cumulative repeat
// transactions per period (weeks in the papers) from the cohort's first
// day to the end of the holdout (or calibration). The forecast for a period
// sums each customer's unconditional E[X(t)], t measured from that
// customer's own first purchase to the period's last day; customers not yet
// acquired contribute nothing. The model uses only the calibration fit, so
// the holdout periods are a true out-of-sample test.
func CumulativeTracking(m TransactionModel, c *Cohort) []TrackingPoint {
	days := len(c.repeatByDay)
	periods := (days + c.unitDays - 1) / c.unitDays
	// Customers acquired on the same day share E[X(t)]: count them per day.
	acquired := make([]float64, days)
	for _, f := range c.firstDay {
		acquired[f-c.startDay]++
	}
	calEnd := dayNumber(c.CalibrationEnd) - c.startDay
	out := make([]TrackingPoint, 0, periods)
	var actual float64
	day := 0
	for k := 1; k <= periods; k++ {
		end := min(k*c.unitDays-1, days-1)
		for ; day <= end; day++ {
			actual += c.repeatByDay[day]
		}
		var expected float64
		for f := 0; f <= end; f++ {
			if n := acquired[f]; n > 0 {
				expected += n * m.Expected(float64(end-f)/float64(c.unitDays))
			}
		}
		out = append(out, TrackingPoint{
			Period: k, End: dayTime(c.startDay + end),
			Actual: actual, Expected: expected, Holdout: end > calEnd,
		})
	}
	return out
}

// FrequencyRow compares, for the customers with X repeat calibration
// transactions (X or more in the last row), their mean actual holdout
// transactions with the model's mean conditional expectation.
type FrequencyRow struct {
	X         int
	OrMore    bool // the last row: X or more
	Customers int
	Actual    float64 // mean holdout transactions per customer
	Expected  float64 // mean conditional expectation per customer
}

// ErrNoHoldout: a holdout comparison was asked of a cohort without one.
var ErrNoHoldout = errors.New("cohort has no holdout period")

// ByFrequency groups customers by their calibration frequency 0 … maxX-1
// and maxX or more, as in the conditional-expectation plots of the papers.
func ByFrequency(m TransactionModel, c *Cohort, maxX int) ([]FrequencyRow, error) {
	t := c.HoldoutLength()
	if t == 0 {
		return nil, ErrNoHoldout
	}
	if maxX < 1 {
		return nil, fmt.Errorf("%w: maxX %d must be >= 1", ErrBadInput, maxX)
	}
	rows := make([]FrequencyRow, maxX+1)
	for i := range rows {
		rows[i].X = i
	}
	rows[maxX].OrMore = true
	for _, s := range c.Customers {
		i := min(int(s.X), maxX)
		rows[i].Customers++
		rows[i].Actual += s.HoldoutX
		rows[i].Expected += m.ConditionalExpected(s.Customer, t)
	}
	for i := range rows {
		if n := float64(rows[i].Customers); n > 0 {
			rows[i].Actual /= n
			rows[i].Expected /= n
		}
	}
	return rows, nil
}

// HoldoutEval sums up how well a model predicted each customer's holdout
// transactions from the calibration data.
type HoldoutEval struct {
	Customers int
	Actual    float64 // total holdout repeat transactions
	Expected  float64 // total of the customers' conditional expectations
	ErrorPct  float64 // 100·(Expected-Actual)/Actual
	MAE, RMSE float64 // per customer
}

// EvaluateHoldout compares each customer's conditional expectation for the
// holdout period with what they did; lower MAE/RMSE is the better model for
// individual predictions, ErrorPct near 0 the better one for totals.
func EvaluateHoldout(m TransactionModel, c *Cohort) (HoldoutEval, error) {
	t := c.HoldoutLength()
	if t == 0 {
		return HoldoutEval{}, ErrNoHoldout
	}
	var e HoldoutEval
	var abs, sq float64
	for _, s := range c.Customers {
		y := m.ConditionalExpected(s.Customer, t)
		e.Customers++
		e.Actual += s.HoldoutX
		e.Expected += y
		abs += math.Abs(y - s.HoldoutX)
		sq += (y - s.HoldoutX) * (y - s.HoldoutX)
	}
	n := float64(e.Customers)
	e.MAE, e.RMSE = abs/n, math.Sqrt(sq/n)
	if e.Actual > 0 {
		e.ErrorPct = 100 * (e.Expected - e.Actual) / e.Actual
	}
	return e, nil
}
