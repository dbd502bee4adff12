package touchpoint

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/satisfaction"
	"github.com/kunding/kunding/internal/store"
)

// Query selects a period (From inclusive, To exclusive, whole UTC days) and
// a segment ("all", "tier:high", "trait:country=de", ...).
type Query struct {
	From, To time.Time
	Segment  string
}

// MinKDA is the fewest customers with both answers for a derived importance.
const MinKDA = 5

// Figures are one touchpoint's figures over a period and segment.
type Figures struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Channel    string `json:"channel"`
	Stage      string `json:"stage"`
	Media      string `json:"media"`
	Department string `json:"department,omitempty"`
	Status     string `json:"status"`

	Reach    int64 `json:"reach"` // distinct customers
	Contacts int64 `json:"contacts"`

	// Performance: the mean of the satisfaction answers given there,
	// normalised to 0..100; if none, the mean sentiment mapped to 0..100.
	Performance      satisfaction.Num `json:"performance"`
	PerformanceBasis string           `json:"performanceBasis"` // answers, sentiment, none
	Answers          int64            `json:"answers"`
	NPS              satisfaction.Num `json:"nps"` // % promoters − % detractors
	NPSN             int64            `json:"npsN"`
	CSAT             satisfaction.Num `json:"csat"` // % answers 4–5
	CSATMean         satisfaction.Num `json:"csatMean"`
	CSATN            int64            `json:"csatN"`
	CES              satisfaction.Num `json:"ces"` // mean 1..7
	CESN             int64            `json:"cesN"`
	Sentiment        satisfaction.Num `json:"sentiment"` // mean −1..1
	SentimentN       int64            `json:"sentimentN"`
	NegativeShare    satisfaction.Num `json:"negativeShare"` // % of texts negative
	Complaints       int64            `json:"complaints"`
	ComplaintRate    satisfaction.Num `json:"complaintRate"` // per 1,000 contacts

	// Conversion: share (%) of customer-days with a contact followed by an
	// order within ConversionDays.
	Conversion     satisfaction.Num `json:"conversion"`
	ConversionDays int64            `json:"conversionDays"`

	StatedImportance satisfaction.Num `json:"statedImportance"` // 0..100
	StatedN          int64            `json:"statedN"`
	KeyDriver        Regression       `json:"keyDriver"` // overall satisfaction on satisfaction here

	CostPerContact satisfaction.Num `json:"costPerContact"` // currency units
	Cost           satisfaction.Num `json:"cost"`           // in the period
	Currency       string           `json:"currency"`

	sk Sketch
	a  store.TouchpointAgg
}

func num(v float64) satisfaction.Num {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nan
	}
	return satisfaction.Num(v)
}

func ratio(a, b float64) satisfaction.Num {
	if b == 0 {
		return nan
	}
	return num(a / b)
}

// monthRanges splits [from, to) (day numbers) into the full months inside
// it and the days before and after them.
func monthRanges(from, to int64) (mFrom, mTo int64, days [][2]int64) {
	firstDay := func(m int64) int64 {
		return Day(time.Date(int(m/12), time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC))
	}
	mFrom = MonthOfDay(from)
	if firstDay(mFrom) < from {
		mFrom++
	}
	mTo = MonthOfDay(to)
	if mTo <= mFrom {
		return 0, 0, [][2]int64{{from, to}}
	}
	return mFrom, mTo, [][2]int64{{from, firstDay(mFrom)}, {firstDay(mTo), to}}
}

// rows reads the aggregate rows that cover [from, to): whole months from
// the month rows, the rest from the day rows.
func (s *Service) rows(ctx context.Context, ts store.TouchpointStore, seg string, from, to int64) ([]store.TouchpointAgg, error) {
	mFrom, mTo, days := monthRanges(from, to)
	var out []store.TouchpointAgg
	if mTo > mFrom {
		r, err := ts.TouchpointAggRange(ctx, seg, 1, mFrom, mTo)
		if err != nil {
			return nil, err
		}
		out = r
	}
	for _, d := range days {
		if d[1] <= d[0] {
			continue
		}
		r, err := ts.TouchpointAggRange(ctx, seg, 0, d[0], d[1])
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	return out, nil
}

func dayRange(q Query) (int64, int64) {
	return Day(q.From), Day(q.To.Add(-time.Nanosecond)) + 1
}

// AllFigures computes the figures of every touchpoint of the catalogue.
func (s *Service) AllFigures(ctx context.Context, q Query) ([]Figures, error) {
	ts, err := s.TS()
	if err != nil {
		return nil, err
	}
	tps, err := ts.Touchpoints(ctx)
	if err != nil {
		return nil, err
	}
	seg := q.Segment
	if seg == "" {
		seg = "all"
	}
	from, to := dayRange(q)
	rows, err := s.rows(ctx, ts, seg, from, to)
	if err != nil {
		return nil, err
	}
	// The key-driver sums of the months the period touches.
	kdaRows, err := ts.TouchpointKDARange(ctx, seg, MonthOfDay(from), MonthOfDay(to-1)+1)
	if err != nil {
		return nil, err
	}
	sums := map[string]*Sums{}
	for _, k := range kdaRows {
		s := sums[k.Touchpoint]
		if s == nil {
			s = &Sums{}
			sums[k.Touchpoint] = s
		}
		s.N, s.SX, s.SY, s.SXX, s.SYY, s.SXY = s.N+k.N, s.SX+k.SX, s.SY+k.SY, s.SXX+k.SXX, s.SYY+k.SYY, s.SXY+k.SXY
	}
	byID := map[string]*Figures{}
	out := make([]Figures, len(tps))
	for i, t := range tps {
		out[i] = Figures{ID: t.ID, Name: t.Name, Channel: t.Channel, Stage: t.Stage, Media: t.Media, Department: t.Department,
			Status: t.Status, Currency: t.Currency}
		byID[t.ID] = &out[i]
	}
	for i := range rows {
		f := byID[rows[i].Touchpoint]
		if f == nil {
			continue // deleted meanwhile
		}
		AddAgg(&f.a, &rows[i])
		sk := DecodeSketch(rows[i].Customers)
		f.sk.Merge(&sk)
	}
	months := float64(to-from) / (365.2425 / 12)
	for i, t := range tps {
		f := &out[i]
		a := &f.a
		f.Reach, f.Contacts = f.sk.Count(), a.Contacts
		f.Answers = a.PerfN
		f.NPSN, f.CSATN, f.CESN, f.SentimentN, f.StatedN, f.Complaints = a.NPSN, a.CSATN, a.CESN, a.SentN, a.ImpN, a.Complaints
		f.NPS = num(100 * float64(a.NPSPro-a.NPSDet) / float64(a.NPSN))
		f.CSAT = ratio(100*float64(a.CSATSat), float64(a.CSATN))
		f.CSATMean = ratio(a.CSATSum, float64(a.CSATN))
		f.CES = ratio(a.CESSum, float64(a.CESN))
		f.Sentiment = ratio(a.SentSum, float64(a.SentN))
		f.NegativeShare = ratio(100*float64(a.SentNeg), float64(a.SentN))
		f.ComplaintRate = ratio(1000*float64(a.Complaints), float64(a.Contacts))
		f.Conversion = ratio(100*float64(a.Conversions), float64(a.CustDays))
		f.ConversionDays = s.conversionDays()
		f.StatedImportance = ratio(a.ImpSum, float64(a.ImpN))
		switch {
		case a.PerfN > 0:
			f.Performance, f.PerformanceBasis = ratio(a.PerfSum, float64(a.PerfN)), "answers"
		case a.SentN > 0:
			f.Performance, f.PerformanceBasis = num((a.SentSum/float64(a.SentN)+1)*50), "sentiment"
		default:
			f.Performance, f.PerformanceBasis = nan, "none"
		}
		if k, ok := sums[t.ID]; ok {
			f.KeyDriver = RegressSums(*k)
		} else {
			f.KeyDriver = RegressSums(Sums{})
		}
		cost := float64(t.CostMicros) / 1e6
		if t.CostBasis == "month" {
			f.Cost = num(cost * months)
			f.CostPerContact = ratio(cost*months, float64(a.Contacts))
		} else {
			f.Cost = num(cost * float64(a.Contacts))
			if t.CostMicros > 0 {
				f.CostPerContact = num(cost)
			} else {
				f.CostPerContact = 0
			}
		}
	}
	return out, nil
}

// Quadrants of the importance–performance matrix.
const (
	Concentrate = "concentrate" // important, performs below the mean
	KeepUp      = "keep_up"     // important, performs well
	LowPriority = "low_priority"
	Overkill    = "overkill" // unimportant, performs well
)

// Point is one touchpoint in the matrix.
type Point struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Channel         string           `json:"channel"`
	Stage           string           `json:"stage"`
	Importance      float64          `json:"importance"`
	Performance     float64          `json:"performance"`
	Quadrant        string           `json:"quadrant"`
	RetireCandidate bool             `json:"retireCandidate"`
	Significant     bool             `json:"significant"` // derived importance with p < 0.05
	N               int              `json:"n"`           // customers behind the importance
	Reach           int64            `json:"reach"`
	Contacts        int64            `json:"contacts"`
	CostPerContact  satisfaction.Num `json:"costPerContact"`
	// Previous is the position in the comparison period, if it had one.
	Previous *Position `json:"previous,omitempty"`
}

// Position is a point's place in another period.
type Position struct {
	Importance  float64 `json:"importance"`
	Performance float64 `json:"performance"`
	Quadrant    string  `json:"quadrant"`
}

// Unplaced is a touchpoint without enough data for the matrix.
type Unplaced struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Reason string `json:"reason"` // no_performance, no_importance
}

// Matrix is the importance–performance matrix of a period.
type Matrix struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Segment    string    `json:"segment"`
	Importance string    `json:"importance"` // derived, stated
	// The quadrant borders: the means of the placed touchpoints.
	ImportanceMean  float64    `json:"importanceMean"`
	PerformanceMean float64    `json:"performanceMean"`
	Points          []Point    `json:"points"`
	Unplaced        []Unplaced `json:"unplaced"`
	CompareFrom     *time.Time `json:"compareFrom,omitempty"`
	CompareTo       *time.Time `json:"compareTo,omitempty"`
}

// MatrixQuery is a Query with the kind of importance and an optional
// comparison period.
type MatrixQuery struct {
	Query
	Importance             string // derived (default) or stated
	CompareFrom, CompareTo time.Time
}

// importanceOf is a touchpoint's importance on the matrix scale: derived,
// the correlation r of overall satisfaction with satisfaction there (when
// at least MinKDA customers gave both); stated, the mean answer to its
// importance question (0..100).
func importanceOf(f *Figures, kind string) (float64, bool) {
	if kind == "stated" {
		return float64(f.StatedImportance), f.StatedN > 0
	}
	return float64(f.KeyDriver.R), f.KeyDriver.N >= MinKDA && f.KeyDriver.R.Defined()
}

// Place assigns quadrants: borders at the means of the placed points
// (a point on a border counts as high); an overkill point is a retire
// candidate when its reach is below the median reach of all placed points
// or its cost per contact above their median.
func Place(points []Point) (impMean, perfMean float64) {
	if len(points) == 0 {
		return 0, 0
	}
	for _, p := range points {
		impMean += p.Importance
		perfMean += p.Performance
	}
	impMean /= float64(len(points))
	perfMean /= float64(len(points))
	var reaches, costs []float64
	for _, p := range points {
		reaches = append(reaches, float64(p.Reach))
		if p.CostPerContact.Defined() && p.CostPerContact > 0 {
			costs = append(costs, float64(p.CostPerContact))
		}
	}
	medReach, medCost := median(reaches), median(costs)
	for i := range points {
		p := &points[i]
		p.Quadrant = quadrant(p.Importance, p.Performance, impMean, perfMean)
		p.RetireCandidate = p.Quadrant == Overkill && (float64(p.Reach) < medReach ||
			(len(costs) > 0 && p.CostPerContact.Defined() && float64(p.CostPerContact) > medCost))
	}
	return impMean, perfMean
}

func quadrant(imp, perf, impMean, perfMean float64) string {
	switch {
	case imp >= impMean && perf < perfMean:
		return Concentrate
	case imp >= impMean:
		return KeepUp
	case perf < perfMean:
		return LowPriority
	default:
		return Overkill
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = append([]float64(nil), v...)
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (s *Service) points(ctx context.Context, q Query, kind string) ([]Point, []Unplaced, error) {
	figs, err := s.AllFigures(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	points, unplaced := []Point{}, []Unplaced{}
	for i := range figs {
		f := &figs[i]
		if f.Status == "retired" && f.Contacts == 0 {
			continue
		}
		imp, okI := importanceOf(f, kind)
		switch {
		case !f.Performance.Defined():
			unplaced = append(unplaced, Unplaced{ID: f.ID, Name: f.Name, Reason: "no_performance"})
		case !okI:
			unplaced = append(unplaced, Unplaced{ID: f.ID, Name: f.Name, Reason: "no_importance"})
		default:
			points = append(points, Point{ID: f.ID, Name: f.Name, Channel: f.Channel, Stage: f.Stage, Importance: imp,
				Performance: float64(f.Performance), Significant: kind != "stated" && f.KeyDriver.Significant,
				N: importanceN(f, kind), Reach: f.Reach, Contacts: f.Contacts, CostPerContact: f.CostPerContact})
		}
	}
	return points, unplaced, nil
}

func importanceN(f *Figures, kind string) int {
	if kind == "stated" {
		return int(f.StatedN)
	}
	return f.KeyDriver.N
}

// Matrix computes the importance–performance matrix.
func (s *Service) Matrix(ctx context.Context, q MatrixQuery) (Matrix, error) {
	kind := strings.ToLower(q.Importance)
	if kind == "" {
		kind = "derived"
	}
	if kind != "derived" && kind != "stated" {
		return Matrix{}, invalid("importance", "importance %q: derived or stated", q.Importance)
	}
	if q.Segment == "" {
		q.Segment = "all"
	}
	points, unplaced, err := s.points(ctx, q.Query, kind)
	if err != nil {
		return Matrix{}, err
	}
	m := Matrix{From: q.From, To: q.To, Segment: q.Segment, Importance: kind, Points: points, Unplaced: unplaced}
	m.ImportanceMean, m.PerformanceMean = Place(m.Points)
	if !q.CompareFrom.IsZero() && q.CompareTo.After(q.CompareFrom) {
		prev, _, err := s.points(ctx, Query{From: q.CompareFrom, To: q.CompareTo, Segment: q.Segment}, kind)
		if err != nil {
			return Matrix{}, err
		}
		pi, pp := Place(prev)
		byID := map[string]Point{}
		for _, p := range prev {
			byID[p.ID] = p
		}
		for i := range m.Points {
			if p, ok := byID[m.Points[i].ID]; ok {
				m.Points[i].Previous = &Position{Importance: p.Importance, Performance: p.Performance,
					Quadrant: quadrant(p.Importance, p.Performance, pi, pp)}
			}
		}
		cf, ct := q.CompareFrom, q.CompareTo
		m.CompareFrom, m.CompareTo = &cf, &ct
	}
	return m, nil
}

// Cell is one stage × channel cell of the journey view.
type Cell struct {
	Stage       string           `json:"stage"`
	Channel     string           `json:"channel"`
	Touchpoints []string         `json:"touchpoints"` // names
	Reach       int64            `json:"reach"`
	Contacts    int64            `json:"contacts"`
	Performance satisfaction.Num `json:"performance"` // mean of answers, 0..100
	Answers     int64            `json:"answers"`
	Sentiment   satisfaction.Num `json:"sentiment"` // mean −1..1
}

// Journey is the stages × channels grid.
type Journey struct {
	Stages   []string `json:"stages"`
	Channels []string `json:"channels"` // those with touchpoints
	Cells    []Cell   `json:"cells"`
}

// Journey aggregates the touchpoints' figures by journey stage and channel.
func (s *Service) Journey(ctx context.Context, q Query) (Journey, error) {
	figs, err := s.AllFigures(ctx, q)
	if err != nil {
		return Journey{}, err
	}
	type acc struct {
		c  Cell
		sk Sketch
		a  store.TouchpointAgg
	}
	cells := map[[2]string]*acc{}
	chans := map[string]bool{}
	for i := range figs {
		f := &figs[i]
		k := [2]string{f.Stage, f.Channel}
		c := cells[k]
		if c == nil {
			c = &acc{c: Cell{Stage: f.Stage, Channel: f.Channel}}
			cells[k] = c
		}
		chans[f.Channel] = true
		c.c.Touchpoints = append(c.c.Touchpoints, f.Name)
		c.sk.Merge(&f.sk)
		AddAgg(&c.a, &f.a)
	}
	j := Journey{Stages: Stages, Channels: []string{}, Cells: []Cell{}}
	for _, ch := range Channels {
		if chans[ch] {
			j.Channels = append(j.Channels, ch)
		}
	}
	for _, st := range Stages {
		for _, ch := range j.Channels {
			c := cells[[2]string{st, ch}]
			if c == nil {
				continue
			}
			c.c.Reach, c.c.Contacts, c.c.Answers = c.sk.Count(), c.a.Contacts, c.a.PerfN
			c.c.Performance = ratio(c.a.PerfSum, float64(c.a.PerfN))
			c.c.Sentiment = ratio(c.a.SentSum, float64(c.a.SentN))
			j.Cells = append(j.Cells, c.c)
		}
	}
	return j, nil
}
