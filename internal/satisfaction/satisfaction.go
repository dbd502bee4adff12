// Package satisfaction computes the survey figures with their uncertainty:
// NPS with the adjusted-Wald interval of Rocks (2016), the CSAT share with
// the adjusted-Wald (Agresti–Coull) interval, the CES mean with a t
// interval, and the difference between two periods with its significance.
// It is pure: scores in, figures out (docs/surveys.md has the formulas).
package satisfaction

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// Kind is the type of a survey's score.
type Kind string

// The kinds of survey.
const (
	NPS  Kind = "nps"  // 0..10: promoters 9-10, passives 7-8, detractors 0-6
	CSAT Kind = "csat" // 1..5: satisfied 4-5
	CES  Kind = "ces"  // 1..7: customer effort, higher is easier
	Free Kind = "free" // no score
)

// Range returns the lowest and highest score of a kind (0, -1 for free).
func Range(k Kind) (int, int) {
	switch k {
	case NPS:
		return 0, 10
	case CSAT:
		return 1, 5
	case CES:
		return 1, 7
	}
	return 0, -1
}

// Valid reports whether k is a known kind.
func Valid(k Kind) bool { return k == NPS || k == CSAT || k == CES || k == Free }

// Category is the NPS group of a score: promoter, passive or detractor.
func Category(score int) string {
	switch {
	case score >= 9:
		return "promoter"
	case score >= 7:
		return "passive"
	}
	return "detractor"
}

// Num is a figure that may be undefined (no answers, one CES answer); it
// is NaN inside and null in JSON.
type Num float64

// MarshalJSON writes null for NaN and infinities, otherwise the number
// rounded to 4 decimals.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, math.Round(f*1e4)/1e4, 'f', -1, 64), nil
}

// UnmarshalJSON reads a number or null (NaN).
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Defined reports whether the figure has a value.
func (n Num) Defined() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

var nan = Num(math.NaN())

// Summary is the figure of a set of answers of one kind.
//
//   - NPS: Value = %promoters − %detractors (points, −100..100); Adjusted is
//     the adjusted-Wald NPS' the interval is centred on.
//   - CSAT: Value = % of answers 4 or 5; Adjusted is the adjusted-Wald p'.
//   - CES: Value = mean score; SD the sample standard deviation.
//
// Low and High bound the 95% confidence interval.
type Summary struct {
	Kind         Kind  `json:"kind"`
	N            int   `json:"n"`
	Value        Num   `json:"value"`
	Low          Num   `json:"low"`
	High         Num   `json:"high"`
	Adjusted     Num   `json:"adjusted,omitempty"`
	Promoters    int   `json:"promoters,omitempty"`
	Passives     int   `json:"passives,omitempty"`
	Detractors   int   `json:"detractors,omitempty"`
	Satisfied    int   `json:"satisfied,omitempty"`
	SD           Num   `json:"sd,omitempty"`
	Distribution []int `json:"distribution,omitempty"` // answers per score, lowest score first
	// variance of the adjusted estimate (NPS', p') or of the mean (CES):
	// what Compare needs.
	variance float64
	mean     float64
	sd       float64
}

// Summarize computes the figure of scores of kind k. Scores outside the
// kind's range are ignored (callers validate before storing).
func Summarize(k Kind, scores []int) Summary {
	lo, hi := Range(k)
	s := Summary{Kind: k, Value: nan, Low: nan, High: nan, Adjusted: nan, SD: nan, variance: math.NaN()}
	if hi >= lo {
		s.Distribution = make([]int, hi-lo+1)
	}
	var sum, sumSq float64
	for _, v := range scores {
		if v < lo || v > hi {
			if k == Free {
				s.N++
			}
			continue
		}
		s.N++
		s.Distribution[v-lo]++
		sum += float64(v)
		sumSq += float64(v) * float64(v)
		switch k {
		case NPS:
			switch Category(v) {
			case "promoter":
				s.Promoters++
			case "passive":
				s.Passives++
			default:
				s.Detractors++
			}
		case CSAT:
			if v >= 4 {
				s.Satisfied++
			}
		}
	}
	switch k {
	case NPS:
		s.npsFigures()
	case CSAT:
		s.csatFigures()
	case CES:
		s.cesFigures(sum, sumSq)
	}
	if k == CES || k == Free {
		s.Adjusted = nan
	}
	if k != CES {
		s.SD = nan
	}
	return s
}

// npsFigures: Rocks (2016), adjusted Wald. n' = n+3, p' = (P+3/4)/n',
// d' = (D+3/4)/n', NPS' = p'−d', Var = (p'+d'−(p'−d')²)/n', CI = NPS' ±
// 1.96·√Var. The interval exists even for n = 0 (it is then very wide); the
// NPS itself needs an answer.
func (s *Summary) npsFigures() {
	n := float64(s.N)
	if s.N > 0 {
		s.Value = Num(100 * (float64(s.Promoters) - float64(s.Detractors)) / n)
	}
	n1 := n + 3
	p := (float64(s.Promoters) + 0.75) / n1
	d := (float64(s.Detractors) + 0.75) / n1
	adj := p - d
	s.variance = (p + d - adj*adj) / n1
	half := z95 * math.Sqrt(s.variance)
	s.Adjusted = Num(100 * adj)
	s.Low = Num(100 * math.Max(-1, adj-half))
	s.High = Num(100 * math.Min(1, adj+half))
	s.mean = adj
	if s.N == 0 {
		s.Low, s.High, s.Adjusted = nan, nan, nan
	}
}

// csatFigures: adjusted Wald (Agresti–Coull). n' = n+z², p' = (x+z²/2)/n',
// CI = p' ± z·√(p'(1−p')/n').
func (s *Summary) csatFigures() {
	if s.N == 0 {
		return
	}
	n := float64(s.N)
	s.Value = Num(100 * float64(s.Satisfied) / n)
	z2 := z95 * z95
	n1 := n + z2
	p := (float64(s.Satisfied) + z2/2) / n1
	s.variance = p * (1 - p) / n1
	half := z95 * math.Sqrt(s.variance)
	s.Adjusted = Num(100 * p)
	s.Low = Num(100 * math.Max(0, p-half))
	s.High = Num(100 * math.Min(1, p+half))
	s.mean = p
}

// cesFigures: mean ± t(0.975, n−1)·s/√n with the sample standard deviation s.
func (s *Summary) cesFigures(sum, sumSq float64) {
	if s.N == 0 {
		return
	}
	n := float64(s.N)
	m := sum / n
	s.Value, s.mean = Num(m), m
	if s.N < 2 {
		return
	}
	v := (sumSq - n*m*m) / (n - 1)
	if v < 0 {
		v = 0 // rounding of equal scores
	}
	s.sd = math.Sqrt(v)
	s.SD = Num(s.sd)
	s.variance = v / n
	half := studentQuantile975(n-1) * math.Sqrt(s.variance)
	s.Low, s.High = Num(m-half), Num(m+half)
}

// Comparison is the change from period A to period B.
type Comparison struct {
	Kind Kind    `json:"kind"`
	A    Summary `json:"a"`
	B    Summary `json:"b"`
	// Diff = B − A of the reported figures (NPS points, CSAT %, CES mean).
	Diff Num `json:"diff"`
	// Low and High bound the 95% interval of the difference (of the
	// adjusted figures for NPS and CSAT).
	Low  Num    `json:"low"`
	High Num    `json:"high"`
	Test string `json:"test"`
	// Statistic is z (NPS, CSAT) or t (CES); DF the Welch degrees of freedom.
	Statistic   Num  `json:"statistic"`
	DF          Num  `json:"df,omitempty"`
	P           Num  `json:"p"`
	Significant bool `json:"significant"` // p < 0.05
}

// Compare tests whether the figure of b differs from that of a.
//
//   - NPS: z = (NPS'_B − NPS'_A)/√(Var_A+Var_B) with the adjusted-Wald
//     estimates and variances (Rocks 2016); CI = diff ± 1.96·√(Var_A+Var_B).
//   - CSAT: two-proportion z-test with the pooled share; the interval of
//     the difference is Agresti–Caffo (one success and one failure added
//     to each period).
//   - CES: Welch's t-test with Welch–Satterthwaite degrees of freedom; the
//     interval uses the t quantile of those degrees of freedom.
func Compare(k Kind, a, b []int) Comparison {
	sa, sb := Summarize(k, a), Summarize(k, b)
	c := Comparison{Kind: k, A: sa, B: sb, Diff: nan, Low: nan, High: nan, Statistic: nan, DF: nan, P: nan}
	if sa.N == 0 || sb.N == 0 {
		c.Test = "none: a period has no answers"
		return c
	}
	c.Diff = sb.Value - sa.Value
	switch k {
	case NPS:
		c.Test = "adjusted-Wald NPS difference, z-test"
		se := math.Sqrt(sa.variance + sb.variance)
		d := sb.mean - sa.mean
		c.Statistic = Num(d / se)
		c.P = Num(twoSidedNormalP(d / se))
		c.Low, c.High = Num(100*(d-z95*se)), Num(100*(d+z95*se))
	case CSAT:
		c.Test = "two-proportion z-test (pooled); Agresti–Caffo interval"
		na, nb := float64(sa.N), float64(sb.N)
		pa, pb := float64(sa.Satisfied)/na, float64(sb.Satisfied)/nb
		pool := float64(sa.Satisfied+sb.Satisfied) / (na + nb)
		se := math.Sqrt(pool * (1 - pool) * (1/na + 1/nb))
		if se > 0 {
			z := (pb - pa) / se
			c.Statistic, c.P = Num(z), Num(twoSidedNormalP(z))
		} else {
			// Every answer in both periods satisfied (or none): no difference.
			c.Statistic, c.P = 0, 1
		}
		qa, qb := (float64(sa.Satisfied)+1)/(na+2), (float64(sb.Satisfied)+1)/(nb+2)
		seAC := math.Sqrt(qa*(1-qa)/(na+2) + qb*(1-qb)/(nb+2))
		c.Low, c.High = Num(100*(qb-qa-z95*seAC)), Num(100*(qb-qa+z95*seAC))
	case CES:
		c.Test = "Welch t-test"
		if sa.N < 2 || sb.N < 2 {
			c.Test = "none: Welch's test needs two answers in each period"
			return c
		}
		va, vb := sa.variance, sb.variance // s²/n
		se := math.Sqrt(va + vb)
		d := sb.mean - sa.mean
		if se == 0 {
			if d == 0 {
				c.Statistic, c.P = 0, 1
				c.Low, c.High = 0, 0
			}
			return c
		}
		df := (va + vb) * (va + vb) / (va*va/float64(sa.N-1) + vb*vb/float64(sb.N-1))
		t := d / se
		c.Statistic, c.DF, c.P = Num(t), Num(df), Num(studentTail(t, df))
		q := studentQuantile975(df)
		c.Low, c.High = Num(d-q*se), Num(d+q*se)
	default:
		c.Test = "none: free-question surveys have no score"
		c.Diff = nan
		return c
	}
	c.Significant = c.P.Defined() && float64(c.P) < 0.05
	return c
}

// Answer is one scored answer for trends and breakdowns.
type Answer struct {
	Score int
	At    time.Time
	Group string // touchpoint, source, department or segment; "" is "(none)"
}

// Period is the bucket of a trend.
type Period string

// The trend periods.
const (
	Week  Period = "week"  // ISO 8601 week, "2024-W05"
	Month Period = "month" // calendar month, "2024-03"
)

// PeriodOf names the bucket of t (in UTC) and returns its first instant.
func PeriodOf(p Period, t time.Time) (string, time.Time) {
	t = t.UTC()
	if p == Month {
		start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start.Format("2006-01"), start
	}
	y, w := t.ISOWeek()
	wd := int(t.Weekday()+6) % 7 // Monday = 0
	start := time.Date(t.Year(), t.Month(), t.Day()-wd, 0, 0, 0, 0, time.UTC)
	return fmt.Sprintf("%04d-W%02d", y, w), start
}

// Point is one bucket of a trend, or one group of a breakdown.
type Point struct {
	Key   string    `json:"key"`
	Start time.Time `json:"start,omitzero"`
	Summary
}

// Trend summarizes the answers per period, oldest first; periods without
// answers are left out.
func Trend(k Kind, as []Answer, p Period) []Point {
	by := map[string][]int{}
	starts := map[string]time.Time{}
	for _, a := range as {
		key, start := PeriodOf(p, a.At)
		by[key] = append(by[key], a.Score)
		starts[key] = start
	}
	out := make([]Point, 0, len(by))
	for key, scores := range by {
		out = append(out, Point{Key: key, Start: starts[key], Summary: Summarize(k, scores)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Breakdown summarizes the answers per group, largest group first (ties
// by name).
func Breakdown(k Kind, as []Answer) []Point {
	by := map[string][]int{}
	for _, a := range as {
		by[a.Group] = append(by[a.Group], a.Score)
	}
	out := make([]Point, 0, len(by))
	for key, scores := range by {
		out = append(out, Point{Key: key, Summary: Summarize(k, scores)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}
