package cases

import (
	"context"
	"sort"
	"time"

	"github.com/kunding/kunding/internal/store"
)

// FigureQuery selects the cases the figures count: created in [From, To),
// of one department if given, split into periods of Interval ("day",
// "week", "month"; "" : no series).
type FigureQuery struct {
	From, To   time.Time
	Department string
	Interval   string
}

// Figure holds the figures of a set of cases. Times are business hours of
// each case's calendar; medians and means over the cases that have them.
type Figure struct {
	Cases                 int     `json:"cases"`
	Open                  int     `json:"open"`
	Solved                int     `json:"solved"`
	Rejected              int     `json:"rejected"`
	Merged                int     `json:"merged"`
	Responded             int     `json:"responded"`
	FirstResponseHoursAvg float64 `json:"firstResponseHoursAvg"`
	FirstResponseHoursMed float64 `json:"firstResponseHoursMedian"`
	ResolutionHoursAvg    float64 `json:"resolutionHoursAvg"`
	ResolutionHoursMed    float64 `json:"resolutionHoursMedian"`
	SolvedWithinTarget    int     `json:"solvedWithinTarget"`
	// Shares are 0..1 of the solved cases (NaN-free: 0 when none).
	WithinTargetShare     float64 `json:"withinTargetShare"`
	FirstContactResolved  int     `json:"firstContactResolved"`
	FirstContactShare     float64 `json:"firstContactResolutionShare"`
	Reopened              int     `json:"reopened"`
	ReopenRate            float64 `json:"reopenRate"` // reopened / solved or rejected at least once
	Escalated             int     `json:"escalated"`
	CasesPer1000Customers float64 `json:"casesPer1000Customers"`

	fr, res      []float64
	everFinished int
}

// DepartmentFigure is the figures of one department.
type DepartmentFigure struct {
	Department string `json:"department"`
	Figure
}

// PeriodFigure is the figures of the cases created in one period.
type PeriodFigure struct {
	Start time.Time `json:"start"`
	Figure
}

// Backlog counts the open cases of a department by age (calendar days
// since creation).
type Backlog struct {
	Department string         `json:"department"`
	Open       int            `json:"open"`
	Overdue    int            `json:"overdue"`
	ByAge      map[string]int `json:"byAge"` // "0-1d", "1-3d", "3-7d", "7-30d", "30d+"
}

// Figures is the answer of Figures.
type Figures struct {
	From        time.Time          `json:"from"`
	To          time.Time          `json:"to"`
	Customers   int64              `json:"customers"`
	Total       Figure             `json:"total"`
	Departments []DepartmentFigure `json:"departments"`
	Series      []PeriodFigure     `json:"series,omitempty"`
	Backlog     []Backlog          `json:"backlog"`
}

// AgeBuckets are the keys of Backlog.ByAge, youngest first.
var AgeBuckets = []string{"0-1d", "1-3d", "3-7d", "7-30d", "30d+"}

// AgeBucket names the AgeBuckets entry of a case of age d.
func AgeBucket(d time.Duration) string {
	days := d.Hours() / 24
	switch {
	case days < 1:
		return "0-1d"
	case days < 3:
		return "1-3d"
	case days < 7:
		return "3-7d"
	case days < 30:
		return "7-30d"
	}
	return "30d+"
}

func (f *Figure) add(c *Case, cal *Calendar) {
	f.Cases++
	switch c.Status {
	case StatusSolved:
		f.Solved++
	case StatusRejected:
		f.Rejected++
	case StatusMerged:
		f.Merged++
	default:
		f.Open++
	}
	if !c.FirstResponseAt.IsZero() {
		f.Responded++
		f.fr = append(f.fr, cal.Between(c.CreatedAt, c.FirstResponseAt).Hours())
	}
	if c.Status == StatusSolved {
		f.res = append(f.res, (cal.Between(c.CreatedAt, c.SolvedAt) - time.Duration(c.PausedMS)*time.Millisecond).Hours())
		if !c.SolvedAt.After(c.ResolutionDue) {
			f.SolvedWithinTarget++
		}
		if c.Reopened == 0 && c.Handoffs == 0 && !c.Waited {
			f.FirstContactResolved++
		}
	}
	if c.Reopened > 0 {
		f.Reopened++
	}
	if c.Reopened > 0 || c.Status == StatusSolved || c.Status == StatusRejected {
		f.everFinished++
	}
	if c.EscalationLevel > 0 {
		f.Escalated++
	}
}

func avgMed(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	sort.Float64s(xs)
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	med := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		med = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return sum / float64(len(xs)), med
}

func share(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (f *Figure) finish(customers int64) {
	f.FirstResponseHoursAvg, f.FirstResponseHoursMed = avgMed(f.fr)
	f.ResolutionHoursAvg, f.ResolutionHoursMed = avgMed(f.res)
	f.WithinTargetShare = share(f.SolvedWithinTarget, f.Solved)
	f.FirstContactShare = share(f.FirstContactResolved, f.Solved)
	f.ReopenRate = share(f.Reopened, f.everFinished)
	if customers > 0 {
		f.CasesPer1000Customers = float64(f.Cases) * 1000 / float64(customers)
	}
}

// periodStart returns the start of the period of t in loc.
func periodStart(t time.Time, interval string, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	switch interval {
	case "day":
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	case "week":
		wd := (int(t.Weekday()) + 6) % 7 // Monday first
		return time.Date(y, m, d-wd, 0, 0, 0, 0, loc)
	default:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	}
}

// Figures computes the case figures of a period, per department and per
// sub-period, and the current backlog by department and age. Cases per
// 1,000 customers divide by the current number of customers.
func (s *Service) Figures(ctx context.Context, q FigureQuery) (Figures, error) {
	if q.To.IsZero() {
		q.To = s.now()
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -30)
	}
	if !q.To.After(q.From) {
		return Figures{}, invalidf("from must be before to")
	}
	if q.Interval != "" && q.Interval != "day" && q.Interval != "week" && q.Interval != "month" {
		return Figures{}, invalidf("interval %q: want day, week or month", q.Interval)
	}
	_, sla, _, err := s.load(ctx)
	if err != nil {
		return Figures{}, err
	}
	st, err := s.Store.Stats(ctx)
	if err != nil {
		return Figures{}, err
	}
	out := Figures{From: q.From.UTC(), To: q.To.UTC(), Customers: st.Customers}
	list, err := s.cs.Cases(ctx, store.CaseFilter{From: q.From, To: q.To, Department: q.Department})
	if err != nil {
		return out, err
	}
	depts := map[string]*DepartmentFigure{}
	periods := map[time.Time]*PeriodFigure{}
	loc := sla.CalendarOf("default").Location()
	for i := range list {
		c := &list[i]
		cal := sla.CalendarOf(c.Calendar)
		out.Total.add(c, cal)
		d := depts[c.Department]
		if d == nil {
			d = &DepartmentFigure{Department: c.Department}
			depts[c.Department] = d
		}
		d.add(c, cal)
		if q.Interval != "" {
			ps := periodStart(c.CreatedAt, q.Interval, loc)
			p := periods[ps]
			if p == nil {
				p = &PeriodFigure{Start: ps}
				periods[ps] = p
			}
			p.add(c, cal)
		}
	}
	out.Total.finish(st.Customers)
	out.Departments = []DepartmentFigure{}
	for _, d := range depts {
		d.finish(st.Customers)
		out.Departments = append(out.Departments, *d)
	}
	sort.Slice(out.Departments, func(i, j int) bool { return out.Departments[i].Department < out.Departments[j].Department })
	if q.Interval != "" {
		// Every period of the range, empty ones too, so a chart has no gaps.
		for ps := periodStart(q.From, q.Interval, loc); ps.Before(q.To); {
			p := periods[ps]
			if p == nil {
				p = &PeriodFigure{Start: ps}
			}
			p.finish(st.Customers)
			p.Start = p.Start.UTC()
			out.Series = append(out.Series, *p)
			y, m, d := ps.Date()
			switch q.Interval {
			case "day":
				ps = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
			case "week":
				ps = time.Date(y, m, d+7, 0, 0, 0, 0, loc)
			default:
				ps = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
			}
			if len(out.Series) > 1000 {
				return out, invalidf("too many periods; choose a longer interval")
			}
		}
	}
	open, err := s.cs.Cases(ctx, store.CaseFilter{Open: true, Department: q.Department})
	if err != nil {
		return out, err
	}
	now := s.now()
	bl := map[string]*Backlog{}
	for i := range open {
		c := &open[i]
		b := bl[c.Department]
		if b == nil {
			b = &Backlog{Department: c.Department, ByAge: map[string]int{}}
			for _, k := range AgeBuckets {
				b.ByAge[k] = 0
			}
			bl[c.Department] = b
		}
		b.Open++
		b.ByAge[AgeBucket(now.Sub(c.CreatedAt))]++
		if Overdue(c, now) {
			b.Overdue++
		}
	}
	out.Backlog = []Backlog{}
	for _, b := range bl {
		out.Backlog = append(out.Backlog, *b)
	}
	sort.Slice(out.Backlog, func(i, j int) bool { return out.Backlog[i].Department < out.Backlog[j].Department })
	return out, nil
}
