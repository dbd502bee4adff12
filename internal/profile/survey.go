package profile

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/event"
)

// SurveyAnsweredEvent is the track event of a survey answer (package survey).
const SurveyAnsweredEvent = "Survey Answered"

// SurveyAnswer is a customer's latest answer to one type of survey.
type SurveyAnswer struct {
	Score      int       `json:"score"`
	Category   string    `json:"category,omitempty"` // NPS: promoter, passive, detractor
	SurveyID   string    `json:"surveyId,omitempty"`
	SurveyName string    `json:"surveyName,omitempty"`
	ResponseID string    `json:"responseId,omitempty"`
	At         time.Time `json:"at"`
}

// newer reports whether a should replace b: the later answer wins; at the
// same instant the greater response id, so that the result does not depend
// on the order events arrive in.
func (a SurveyAnswer) newer(b SurveyAnswer) bool {
	if !a.At.Equal(b.At) {
		return a.At.After(b.At)
	}
	return a.ResponseID > b.ResponseID
}

// setSurvey keeps the newer answer of a survey type.
func (p *Profile) setSurvey(kind string, a SurveyAnswer) {
	if p.LastSurvey == nil {
		p.LastSurvey = map[string]SurveyAnswer{}
	}
	if old, ok := p.LastSurvey[kind]; ok && !a.newer(old) {
		return
	}
	p.LastSurvey[kind] = a
}

// applySurvey records a scored "Survey Answered" event (nps, csat, ces).
func (p *Profile) applySurvey(ev *event.Event) {
	if ev.Type != event.Track || ev.Event != SurveyAnsweredEvent || len(ev.Properties) == 0 {
		return
	}
	var pr struct {
		SurveyID   string          `json:"surveyId"`
		SurveyName string          `json:"surveyName"`
		SurveyType string          `json:"surveyType"`
		Score      json.RawMessage `json:"score"`
		Category   string          `json:"category"`
		ResponseID string          `json:"responseId"`
	}
	if json.Unmarshal(ev.Properties, &pr) != nil {
		return
	}
	kind := strings.ToLower(pr.SurveyType)
	if kind != "nps" && kind != "csat" && kind != "ces" {
		return
	}
	v, ok := number(pr.Score)
	if !ok || v != math.Trunc(v) || v < 0 || v > 10 {
		return
	}
	a := SurveyAnswer{Score: int(v), SurveyID: pr.SurveyID, SurveyName: pr.SurveyName, ResponseID: pr.ResponseID, At: ev.Timestamp}
	if kind == "nps" {
		switch {
		case a.Score >= 9:
			a.Category = "promoter"
		case a.Score >= 7:
			a.Category = "passive"
		default:
			a.Category = "detractor"
		}
	}
	p.setSurvey(kind, a)
}

// absorbSurveys keeps, per type, the newer answer of two profiles.
func (p *Profile) absorbSurveys(o *Profile) {
	for k, a := range o.LastSurvey {
		p.setSurvey(k, a)
	}
}
