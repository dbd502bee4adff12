package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/satisfaction"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/survey"
)

// surveySvc is the survey service of the API (made on demand on Store).
func (a *API) surveySvc() *survey.Service {
	a.surveyOnce.Do(func() {
		if a.Surveys == nil {
			a.Surveys = &survey.Service{Store: a.Store}
		}
	})
	return a.Surveys
}

// surveyFail answers an error of the survey service.
func (a *API) surveyFail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, survey.ErrAnswered):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, survey.ErrInvalid), errors.Is(err, survey.ErrBadToken):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, survey.ErrExpired):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, survey.ErrClosed):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, survey.ErrGone):
		writeError(w, http.StatusGone, err.Error())
	case errors.Is(err, survey.ErrLimited):
		w.Header().Set("Retry-After", "3600")
		writeError(w, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, survey.ErrNoSurveys):
		writeError(w, http.StatusNotImplemented, err.Error())
	default:
		a.fail(w, err)
	}
}

// surveyView is a survey with its anonymous link.
type surveyView struct {
	store.Survey
	AnonymousLink string `json:"anonymousLink"`
}

// baseURL is the scheme and host the caller reached Kunding at, for links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (a *API) viewSurvey(r *http.Request, v store.Survey) (surveyView, error) {
	tok, err := a.surveySvc().AnonymousLink(r.Context(), v)
	if err != nil {
		return surveyView{}, err
	}
	return surveyView{Survey: v, AnonymousLink: baseURL(r) + survey.HostedPath(tok)}, nil
}

func (a *API) loadSurvey(w http.ResponseWriter, r *http.Request) (store.Survey, bool) {
	ss, err := a.surveySvc().Surveys()
	if err != nil {
		a.surveyFail(w, err)
		return store.Survey{}, false
	}
	v, err := ss.SurveyByID(r.Context(), r.PathValue("id"))
	if err != nil {
		a.surveyFail(w, err)
		return v, false
	}
	return v, true
}

func (a *API) listSurveys(w http.ResponseWriter, r *http.Request) {
	ss, err := a.surveySvc().Surveys()
	if err != nil {
		a.surveyFail(w, err)
		return
	}
	list, err := ss.Surveys(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	out := make([]surveyView, 0, len(list))
	for _, v := range list {
		sv, err := a.viewSurvey(r, v)
		if err != nil {
			a.fail(w, err)
			return
		}
		out = append(out, sv)
	}
	writeJSON(w, http.StatusOK, map[string]any{"surveys": out})
}

func (a *API) createSurvey(w http.ResponseWriter, r *http.Request) {
	var in survey.Input
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	v, err := a.surveySvc().Create(r.Context(), in, p.Actor)
	if err != nil {
		a.surveyFail(w, err)
		return
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: survey.AuditCreate, Target: v.ID, Detail: v.Type}); err != nil {
		a.fail(w, err)
		return
	}
	sv, err := a.viewSurvey(r, v)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, sv)
}

func (a *API) getSurvey(w http.ResponseWriter, r *http.Request) {
	v, ok := a.loadSurvey(w, r)
	if !ok {
		return
	}
	sv, err := a.viewSurvey(r, v)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sv)
}

func (a *API) updateSurvey(w http.ResponseWriter, r *http.Request) {
	var in survey.Input
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if in == (survey.Input{}) {
		writeError(w, http.StatusBadRequest, "nothing to change: give name, questionDe, questionEn, commentQuestionDe, commentQuestionEn, department, touchpoint or status")
		return
	}
	v, err := a.surveySvc().Update(r.Context(), r.PathValue("id"), in)
	if err != nil {
		a.surveyFail(w, err)
		return
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: survey.AuditUpdate, Target: v.ID, Detail: "status " + v.Status}); err != nil {
		a.fail(w, err)
		return
	}
	sv, err := a.viewSurvey(r, v)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sv)
}

func (a *API) deleteSurvey(w http.ResponseWriter, r *http.Request) {
	ss, err := a.surveySvc().Surveys()
	if err != nil {
		a.surveyFail(w, err)
		return
	}
	id := r.PathValue("id")
	if err := ss.DeleteSurvey(r.Context(), id); err != nil {
		a.surveyFail(w, err)
		return
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: survey.AuditDelete, Target: id}); err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) createSurveyLink(w http.ResponseWriter, r *http.Request) {
	v, ok := a.loadSurvey(w, r)
	if !ok {
		return
	}
	var in survey.LinkRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if v.Status != "active" {
		a.surveyFail(w, survey.ErrClosed)
		return
	}
	l, tok, err := a.surveySvc().PersonalLink(r.Context(), v, in)
	if err != nil {
		a.surveyFail(w, err)
		return
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: survey.AuditLink, Target: v.ID, Detail: "customer " + l.CustomerID}); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"token": tok, "url": baseURL(r) + survey.HostedPath(tok), "path": survey.HostedPath(tok),
		"surveyId": v.ID, "customerId": l.CustomerID, "touchpoint": l.Touchpoint, "triggerMessageId": l.Trigger,
		"expiresAt": time.Unix(l.Expires, 0).UTC(),
	})
}

// responseIn is an answer sent to the API.
type responseIn struct {
	survey.Customer
	Token          string   `json:"token,omitempty"`
	Score          *float64 `json:"score,omitempty"`
	Comment        string   `json:"comment,omitempty"`
	Language       string   `json:"language,omitempty"`
	Touchpoint     string   `json:"touchpoint,omitempty"`
	Trigger        string   `json:"triggerMessageId,omitempty"`
	IdempotencyKey string   `json:"idempotencyKey,omitempty"`
}

func (a *API) postSurveyResponse(w http.ResponseWriter, r *http.Request) {
	v, ok := a.loadSurvey(w, r)
	if !ok {
		return
	}
	var in responseIn
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sub := survey.Submission{Comment: in.Comment, Language: in.Language, Customer: in.Customer, IdempotencyKey: in.IdempotencyKey,
		Touchpoint: in.Touchpoint, Trigger: in.Trigger, Via: survey.ViaAPI}
	if in.Score != nil {
		f := float64(*in.Score)
		if f != float64(int(f)) || f < -1e6 || f > 1e6 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("score %v: must be a whole number", f))
			return
		}
		s := int(f)
		sub.Score = &s
	}
	if in.Language != "" && in.Language != "de" && in.Language != "en" {
		writeError(w, http.StatusBadRequest, "language: de or en")
		return
	}
	if in.Token != "" {
		if in.Customer != (survey.Customer{}) || in.IdempotencyKey != "" || in.Touchpoint != "" || in.Trigger != "" {
			writeError(w, http.StatusBadRequest, "with a token, give only score, comment and language: the token names the customer, touchpoint and trigger")
			return
		}
		l, err := a.surveySvc().Parse(r.Context(), in.Token)
		if err != nil {
			a.surveyFail(w, err)
			return
		}
		if l.SurveyID != v.ID {
			writeError(w, http.StatusBadRequest, "the token belongs to another survey")
			return
		}
		sub.Link = &l
	}
	resp, err := a.surveySvc().Answer(r.Context(), v, sub)
	if err != nil {
		if errors.Is(err, survey.ErrAnswered) {
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error(), "responseId": resp.ID})
			return
		}
		a.surveyFail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, responseView(resp))
}

// responseOut is a response in the API, with the analysis of its comment.
type responseOut struct {
	store.SurveyResponse
	Analysis any `json:"analysis,omitempty"`
}

func responseView(r store.SurveyResponse) responseOut {
	out := responseOut{SurveyResponse: r}
	if len(r.Analysis) > 0 {
		out.Analysis = jsonRaw(r.Analysis)
	}
	return out
}

type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) { return j, nil }

func (a *API) listSurveyResponses(w http.ResponseWriter, r *http.Request) {
	v, ok := a.loadSurvey(w, r)
	if !ok {
		return
	}
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	from, to, err := timeRange(r, "from", "to")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ss, _ := a.surveySvc().Surveys()
	rs, err := ss.SurveyResponses(r.Context(), store.ResponseFilter{SurveyID: v.ID, From: from, To: to, Limit: limit})
	if err != nil {
		a.fail(w, err)
		return
	}
	out := make([]responseOut, 0, len(rs))
	for _, x := range rs {
		out = append(out, responseView(x))
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: audit.CustomerView, Target: v.ID, Detail: fmt.Sprintf("%d survey responses", len(out))}); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": out})
}

// parseDay reads a date (2006-01-02, the day's start in UTC) or an RFC 3339 time.
func parseDay(name, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: a date (2025-03-31) or an RFC 3339 time", name, v)
}

// timeRange reads two optional query parameters; a date as the end means
// the end of that day (the range includes it).
func timeRange(r *http.Request, fromName, toName string) (time.Time, time.Time, error) {
	var from, to time.Time
	var err error
	q := r.URL.Query()
	if v := q.Get(fromName); v != "" {
		if from, err = parseDay(fromName, v); err != nil {
			return from, to, err
		}
	}
	if v := q.Get(toName); v != "" {
		if to, err = parseDay(toName, v); err != nil {
			return from, to, err
		}
		if _, e := time.Parse("2006-01-02", strings.TrimSpace(v)); e == nil {
			to = to.AddDate(0, 0, 1)
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, fmt.Errorf("%s must be before %s", fromName, toName)
	}
	return from, to, nil
}

func (a *API) surveyStats(w http.ResponseWriter, r *http.Request) {
	v, ok := a.loadSurvey(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var sq survey.Query
	var err error
	if sq.FromT, sq.ToT, err = timeRange(r, "from", "to"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if sq.CompareFrom, sq.CompareTo, err = timeRange(r, "compareFrom", "compareTo"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sq.By = satisfaction.Period(q.Get("by"))
	sq.Group = q.Get("group")
	sq.SegmentTrait = q.Get("segmentTrait")
	st, err := a.surveySvc().Stats(r.Context(), v, sq)
	if err != nil {
		a.surveyFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
