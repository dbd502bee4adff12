package predict

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Transaction is one dated purchase of one customer. Only the calendar date
// of Time (in Time's own location) matters: purchases on the same day are
// one transaction, their amounts summed.
type Transaction struct {
	Customer string
	Time     time.Time
	Amount   float64
}

// SummaryOptions define the calibration and holdout periods.
type SummaryOptions struct {
	// CalibrationEnd is the last day of the calibration period (the whole
	// day belongs to it).
	CalibrationEnd time.Time
	// HoldoutEnd is the last day of the holdout period; zero for none.
	HoldoutEnd time.Time
	// Unit is the time unit of x, t_x, T: a whole number of days (7 days
	// for weeks, as in the papers).
	Unit time.Duration
}

// CustomerSummary is one customer of a cohort: the model input (x, t_x, T)
// for the calibration period, spend, and what happened in the holdout.
type CustomerSummary struct {
	ID    string
	First time.Time // day of the first purchase
	Customer
	FirstSpend   float64 // value of the first purchase (same-day rows summed)
	MeanSpend    float64 // mean value of the repeat purchases in calibration; 0 if X is 0
	HoldoutX     float64 // repeat transactions in the holdout period
	HoldoutSpend float64 // their total value
}

// Cohort is the output of Summarize: every customer whose first purchase
// falls in the calibration period, and the daily counts of repeat
// transactions that calibration/holdout tracking compares against.
type Cohort struct {
	Customers      []CustomerSummary // sorted by ID
	Start          time.Time         // day of the earliest first purchase
	CalibrationEnd time.Time         // last day of calibration
	HoldoutEnd     time.Time         // last day of holdout; zero for none
	Unit           time.Duration
	// Late counts customers left out because their first purchase came
	// after the calibration period.
	Late int

	unitDays    int
	startDay    int       // day number of Start
	firstDay    []int     // per customer, day number of the first purchase
	repeatByDay []float64 // repeat transactions per day since Start, to the last day tracked
}

// Data returns the model input of every customer, in the order of Customers.
func (c *Cohort) Data() []Customer {
	out := make([]Customer, len(c.Customers))
	for i, s := range c.Customers {
		out[i] = s.Customer
	}
	return out
}

// SpendData returns the Gamma-Gamma input of every customer.
func (c *Cohort) SpendData() []SpendCustomer {
	out := make([]SpendCustomer, len(c.Customers))
	for i, s := range c.Customers {
		out[i] = SpendCustomer{X: s.X, MeanSpend: s.MeanSpend}
	}
	return out
}

// HoldoutLength is the length of the holdout period in units (0 without one).
func (c *Cohort) HoldoutLength() float64 {
	if c.HoldoutEnd.IsZero() {
		return 0
	}
	return float64(dayNumber(c.HoldoutEnd)-dayNumber(c.CalibrationEnd)) / float64(c.unitDays)
}

// dayNumber counts calendar days since 1970-01-01 of t's date in its own
// location, so a purchase at 23:30 local time is not moved to the next day.
func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dayTime(n int) time.Time { return time.Unix(int64(n)*86400, 0).UTC() }

// Summarize turns dated transactions into per-customer calibration
// summaries as in the papers: same-day purchases merged into one, the first
// purchase not counted in x, t_x and T measured from the first purchase's
// day to the last repeat purchase's day and to the last calibration day.
// Transactions after HoldoutEnd (or, without a holdout, after
// CalibrationEnd) are ignored. The order of txs does not matter.
func Summarize(txs []Transaction, o SummaryOptions) (*Cohort, error) {
	day := 24 * time.Hour
	if o.Unit < day || o.Unit%day != 0 {
		return nil, fmt.Errorf("summarize: %w: unit %v must be a whole number of days", ErrBadInput, o.Unit)
	}
	if o.CalibrationEnd.IsZero() {
		return nil, fmt.Errorf("summarize: %w: no calibration end", ErrBadInput)
	}
	calEnd := dayNumber(o.CalibrationEnd)
	lastDay := calEnd
	if !o.HoldoutEnd.IsZero() {
		lastDay = dayNumber(o.HoldoutEnd)
		if lastDay <= calEnd {
			return nil, fmt.Errorf("summarize: %w: holdout end %s not after calibration end %s",
				ErrBadInput, o.HoldoutEnd.Format(time.DateOnly), o.CalibrationEnd.Format(time.DateOnly))
		}
	}
	type dated struct {
		cust   string
		day    int
		amount float64
	}
	rows := make([]dated, 0, len(txs))
	for i, t := range txs {
		switch {
		case t.Customer == "":
			return nil, fmt.Errorf("summarize: transaction %d: %w: no customer", i, ErrBadInput)
		case t.Time.IsZero():
			return nil, fmt.Errorf("summarize: transaction %d (customer %s): %w: no date", i, t.Customer, ErrBadInput)
		case !finite(t.Amount) || t.Amount < 0:
			return nil, fmt.Errorf("summarize: transaction %d (customer %s): %w: amount %v must be >= 0", i, t.Customer, ErrBadInput, t.Amount)
		}
		rows = append(rows, dated{t.Customer, dayNumber(t.Time), t.Amount})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].cust != rows[j].cust {
			return rows[i].cust < rows[j].cust
		}
		return rows[i].day < rows[j].day
	})
	u := int(o.Unit / day)
	fu := float64(u)
	c := &Cohort{CalibrationEnd: dayTime(calEnd), Unit: o.Unit, unitDays: u, startDay: math.MaxInt}
	if !o.HoldoutEnd.IsZero() {
		c.HoldoutEnd = dayTime(lastDay)
	}
	var repeatDays []int // all repeat days, as absolute day numbers
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].cust == rows[i].cust {
			j++
		}
		first := rows[i].day
		if first > calEnd {
			c.Late++
			i = j
			continue
		}
		s := CustomerSummary{ID: rows[i].cust, First: dayTime(first)}
		s.T = float64(calEnd-first) / fu
		var calSpend float64
		for k := i; k < j; {
			d := rows[k].day
			var amount float64
			for k < j && rows[k].day == d {
				amount += rows[k].amount
				k++
			}
			switch {
			case d == first:
				s.FirstSpend = amount
			case d > lastDay:
			case d <= calEnd:
				s.X++
				s.Tx = float64(d-first) / fu
				calSpend += amount
				repeatDays = append(repeatDays, d)
			default:
				s.HoldoutX++
				s.HoldoutSpend += amount
				repeatDays = append(repeatDays, d)
			}
		}
		if s.X > 0 {
			s.MeanSpend = calSpend / s.X
		}
		c.Customers = append(c.Customers, s)
		c.firstDay = append(c.firstDay, first)
		c.startDay = min(c.startDay, first)
		i = j
	}
	if len(c.Customers) == 0 {
		return nil, fmt.Errorf("summarize: %w: no customer made a first purchase by %s", ErrTooFewCustomers, c.CalibrationEnd.Format(time.DateOnly))
	}
	c.Start = dayTime(c.startDay)
	c.repeatByDay = make([]float64, lastDay-c.startDay+1)
	for _, d := range repeatDays {
		c.repeatByDay[d-c.startDay]++
	}
	return c, nil
}
