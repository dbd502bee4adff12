package survey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/satisfaction"
	"github.com/kunding/kunding/internal/store"
)

// Groupings of the breakdown.
const (
	ByTouchpoint = "touchpoint"
	BySource     = "source"
	ByDepartment = "department"
	BySegment    = "segment"
)

// Value tiers, the segments of customers (docs/surveys.md): from the
// customer's CLV percentile among scored customers.
const (
	SegmentHigh     = "value-high"   // CLV percentile >= 80
	SegmentMedium   = "value-medium" // 50 <= percentile < 80
	SegmentLow      = "value-low"    // percentile < 50
	SegmentUnscored = "unscored"     // a known customer without a prediction
	SegmentUnknown  = "anonymous"    // no customer (anonymous link)
)

// Query selects what Stats computes.
type Query struct {
	FromT time.Time           // inclusive; zero: from the first answer
	ToT   time.Time           // exclusive; zero: until now
	By    satisfaction.Period // trend buckets: week or month
	Group string              // "", touchpoint, source, department, segment
	// SegmentTrait, with Group segment, groups by the value of this profile
	// trait instead of the value tier.
	SegmentTrait string
	// CompareFrom/CompareTo, if set, is period A; [FromT, ToT) is period B.
	CompareFrom, CompareTo time.Time
}

// Stats are the figures of a survey in a period.
type Stats struct {
	SurveyID   string                   `json:"surveyId"`
	Type       string                   `json:"type"`
	From       time.Time                `json:"from,omitzero"`
	To         time.Time                `json:"to,omitzero"`
	Summary    satisfaction.Summary     `json:"summary"`
	Period     satisfaction.Period      `json:"period"`
	Trend      []satisfaction.Point     `json:"trend"`
	Group      string                   `json:"group,omitempty"`
	Groups     []satisfaction.Point     `json:"groups,omitempty"`
	Comparison *satisfaction.Comparison `json:"comparison,omitempty"`
	Sentiments map[string]int           `json:"sentiments"` // of the comments
}

// maxStatsResponses bounds what one statistics request reads.
const maxStatsResponses = 500000

// Stats computes the figures of survey v.
func (s *Service) Stats(ctx context.Context, v store.Survey, q Query) (Stats, error) {
	ss, err := s.Surveys()
	if err != nil {
		return Stats{}, err
	}
	if q.By == "" {
		q.By = satisfaction.Week
	}
	if q.By != satisfaction.Week && q.By != satisfaction.Month {
		return Stats{}, invalid("by", "by %q: must be week or month", q.By)
	}
	switch q.Group {
	case "", ByTouchpoint, BySource, ByDepartment, BySegment:
	default:
		return Stats{}, invalid("group", "group %q: must be touchpoint, source, department or segment", q.Group)
	}
	if q.SegmentTrait != "" && q.Group != BySegment {
		return Stats{}, invalid("segmentTrait", "segmentTrait works with group=segment only")
	}
	if !q.FromT.IsZero() && !q.ToT.IsZero() && !q.FromT.Before(q.ToT) {
		return Stats{}, invalid("to", "to must be after from")
	}
	if q.CompareFrom.IsZero() != q.CompareTo.IsZero() {
		return Stats{}, invalid("compare", "give both compareFrom and compareTo")
	}
	if !q.CompareFrom.IsZero() && !q.CompareFrom.Before(q.CompareTo) {
		return Stats{}, invalid("compare", "compareTo must be after compareFrom")
	}
	k := satisfaction.Kind(v.Type)
	rs, err := ss.SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID, From: q.FromT, To: q.ToT, Limit: maxStatsResponses + 1})
	if err != nil {
		return Stats{}, err
	}
	if len(rs) > maxStatsResponses {
		return Stats{}, invalid("to", "more than %d answers in the period; choose a shorter one", maxStatsResponses)
	}
	out := Stats{SurveyID: v.ID, Type: v.Type, From: q.FromT, To: q.ToT, Period: q.By, Group: q.Group, Sentiments: map[string]int{}}
	var groupOf func(r store.SurveyResponse) (string, error)
	switch q.Group {
	case ByTouchpoint:
		groupOf = func(r store.SurveyResponse) (string, error) { return r.Touchpoint, nil }
	case BySource:
		groupOf = func(r store.SurveyResponse) (string, error) { return r.Source, nil }
	case ByDepartment:
		groupOf = func(r store.SurveyResponse) (string, error) { return r.Department, nil }
	case BySegment:
		groupOf = s.segmenter(ctx, q.SegmentTrait)
	}
	answers := make([]satisfaction.Answer, 0, len(rs))
	scores := make([]int, 0, len(rs))
	for _, r := range rs {
		if r.Sentiment != "" {
			out.Sentiments[r.Sentiment]++
		}
		a := satisfaction.Answer{Score: -1, At: r.AnsweredAt}
		if r.Score != nil {
			a.Score = *r.Score
		}
		if groupOf != nil {
			if a.Group, err = groupOf(r); err != nil {
				return Stats{}, err
			}
		}
		answers = append(answers, a)
		scores = append(scores, a.Score)
	}
	out.Summary = satisfaction.Summarize(k, scores)
	out.Trend = satisfaction.Trend(k, answers, q.By)
	if groupOf != nil {
		out.Groups = satisfaction.Breakdown(k, answers)
	}
	if !q.CompareFrom.IsZero() {
		prev, err := ss.SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID, From: q.CompareFrom, To: q.CompareTo, Limit: maxStatsResponses})
		if err != nil {
			return Stats{}, err
		}
		a := make([]int, 0, len(prev))
		for _, r := range prev {
			if r.Score != nil {
				a = append(a, *r.Score)
			} else {
				a = append(a, -1)
			}
		}
		c := satisfaction.Compare(k, a, scores)
		out.Comparison = &c
	}
	return out, nil
}

// segmenter returns the segment of a response's customer: a trait value or
// the value tier, looked up once per customer.
func (s *Service) segmenter(ctx context.Context, trait string) func(r store.SurveyResponse) (string, error) {
	cache := map[string]string{}
	ps, _ := s.Store.(store.PredictionStore)
	return func(r store.SurveyResponse) (string, error) {
		if r.CustomerID == "" {
			return SegmentUnknown, nil
		}
		if seg, ok := cache[r.CustomerID]; ok {
			return seg, nil
		}
		p, err := s.Store.Customer(ctx, r.CustomerID)
		if errors.Is(err, store.ErrNotFound) {
			cache[r.CustomerID] = SegmentUnknown
			return SegmentUnknown, nil
		}
		if err != nil {
			return "", err
		}
		var seg string
		if trait != "" {
			seg = "(none)"
			if t, ok := p.Traits[trait]; ok {
				seg = strings.Trim(string(t.Value), `"`)
				if len(seg) > 60 {
					seg = seg[:60]
				}
			}
		} else {
			seg = SegmentUnscored
			if ps != nil {
				pr, err := ps.Prediction(ctx, p.CustomerID)
				switch {
				case err == nil:
					switch {
					case pr.CLVPercentile >= 80:
						seg = SegmentHigh
					case pr.CLVPercentile >= 50:
						seg = SegmentMedium
					default:
						seg = SegmentLow
					}
				case !errors.Is(err, store.ErrNotFound):
					return "", fmt.Errorf("prediction of %s: %w", p.CustomerID, err)
				}
			}
		}
		cache[r.CustomerID] = seg
		return seg, nil
	}
}
