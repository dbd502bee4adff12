package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/store"
)

// caseServices holds the case service made on demand for an API without
// one (tests that build an API on a store).
var caseServices sync.Map // *API -> *cases.Service

// caseSvc returns the case service of the API.
func (a *API) caseSvc() (*cases.Service, error) {
	if a.Cases != nil {
		return a.Cases, nil
	}
	if s, ok := caseServices.Load(a); ok {
		return s.(*cases.Service), nil
	}
	s, err := cases.New(a.Store, nil)
	if err != nil {
		return nil, err
	}
	if a.Log != nil {
		s.Log = a.Log
	}
	v, _ := caseServices.LoadOrStore(a, s)
	return v.(*cases.Service), nil
}

// caseFail answers an error of the case service: 400 for bad input, 409
// for a status change the case's state does not allow or a stale version.
func (a *API) caseFail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, cases.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, cases.ErrTransition), errors.Is(err, store.ErrVersion):
		writeError(w, http.StatusConflict, err.Error())
	default:
		a.fail(w, err)
	}
}

// withCases runs fn with the case service.
func (a *API) withCases(w http.ResponseWriter, fn func(s *cases.Service)) {
	s, err := a.caseSvc()
	if err != nil {
		a.fail(w, err)
		return
	}
	fn(s)
}

func caseTimeParam(name, v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s %q: want a date (2026-03-01) or an RFC 3339 time", name, v)
}

func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	default:
		return false, fmt.Errorf("%s %q: want true or false", name, v)
	}
}

var caseZone = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.UTC
	}
	return l
}()

// caseFilter reads the filters of GET /api/cases.
func caseFilter(r *http.Request) (store.CaseFilter, bool, error) {
	q := r.URL.Query()
	f := store.CaseFilter{Department: q.Get("department"), Owner: q.Get("owner"), Type: q.Get("type"),
		Priority: q.Get("priority"), Theme: q.Get("theme"), Channel: q.Get("channel")}
	if f.Owner == "me" {
		p, _ := auth.PrincipalFrom(r.Context())
		if p.User == nil {
			return f, false, fmt.Errorf("owner=me needs a logged-in user, not an API key")
		}
		f.Owner = p.User.ID
	}
	if c := q.Get("customer"); c != "" {
		f.CustomerIDs = []string{c}
	}
	if s := q.Get("status"); s != "" {
		for _, x := range strings.Split(s, ",") {
			x = strings.TrimSpace(x)
			known := false
			for _, st := range cases.Statuses {
				known = known || st == x
			}
			if !known {
				return f, false, fmt.Errorf("status %q: want one or more of %s, comma-separated", x, strings.Join(cases.Statuses, ", "))
			}
			f.Statuses = append(f.Statuses, x)
		}
	}
	var err error
	if f.Open, err = boolParam(r, "open"); err != nil {
		return f, false, err
	}
	if f.Escalated, err = boolParam(r, "escalated"); err != nil {
		return f, false, err
	}
	overdue, err := boolParam(r, "overdue")
	if err != nil {
		return f, false, err
	}
	if f.From, err = caseTimeParam("from", q.Get("from"), caseZone); err != nil {
		return f, false, err
	}
	if f.To, err = caseTimeParam("to", q.Get("to"), caseZone); err != nil {
		return f, false, err
	}
	if f.Limit, err = intParam(r, "limit", 100, 1000); err != nil {
		return f, false, err
	}
	if v := q.Get("offset"); v != "" {
		if f.Offset, err = strconv.Atoi(v); err != nil || f.Offset < 0 {
			return f, false, fmt.Errorf("offset must be a whole number from 0")
		}
	}
	return f, overdue, nil
}

// CaseList is the answer of GET /api/cases.
type CaseList struct {
	Cases []cases.Case `json:"cases"`
	Total int          `json:"total"` // matching cases, all pages
}

func (a *API) listCases(w http.ResponseWriter, r *http.Request) {
	f, overdue, err := caseFilter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		now := s.Clock.Now()
		if overdue {
			// Overdue: a deadline passed, not finished, not paused.
			f.Open, f.DueBefore = true, now
			if len(f.Statuses) == 0 {
				f.Statuses = []string{cases.StatusNew, cases.StatusOpen, cases.StatusWaitingDepartment}
			}
		}
		list, err := s.List(r.Context(), f)
		if err != nil {
			a.fail(w, err)
			return
		}
		cf := f
		cf.Limit, cf.Offset = 0, 0
		total, err := s.Count(r.Context(), cf)
		if err != nil {
			a.fail(w, err)
			return
		}
		if list == nil {
			list = []cases.Case{}
		}
		writeJSON(w, http.StatusOK, CaseList{Cases: list, Total: total})
	})
}

func (a *API) createCase(w http.ResponseWriter, r *http.Request) {
	var in cases.NewCase
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		in.Origin = "api"
		c, err := s.Create(r.Context(), in)
		if err != nil {
			a.caseFail(w, err)
			return
		}
		w.Header().Set("Location", "/api/cases/"+c.ID)
		writeJSON(w, http.StatusCreated, c)
	})
}

// CaseDetail is the answer of GET /api/cases/{id}.
type CaseDetail struct {
	Case             cases.Case              `json:"case"`
	History          []store.CaseChange      `json:"history"`
	MergeSuggestions []store.MergeSuggestion `json:"mergeSuggestions"`
	// AllowedStatuses are the statuses the case may move to now.
	AllowedStatuses []string `json:"allowedStatuses"`
	Overdue         bool     `json:"overdue"`
}

func (a *API) caseDetail(w http.ResponseWriter, r *http.Request, s *cases.Service, code int, id string) {
	c, err := s.Get(r.Context(), id)
	if err != nil {
		a.fail(w, err)
		return
	}
	h, err := s.History(r.Context(), id)
	if err != nil {
		a.fail(w, err)
		return
	}
	sug, err := s.Suggestions(r.Context(), id)
	if err != nil {
		a.fail(w, err)
		return
	}
	if sug == nil {
		sug = []store.MergeSuggestion{}
	}
	allowed := cases.Allowed(c.Status)
	if allowed == nil {
		allowed = []string{}
	}
	writeJSON(w, code, CaseDetail{Case: c, History: h, MergeSuggestions: sug, AllowedStatuses: allowed, Overdue: cases.Overdue(&c, s.Clock.Now())})
}

func (a *API) getCase(w http.ResponseWriter, r *http.Request) {
	a.withCases(w, func(s *cases.Service) { a.caseDetail(w, r, s, http.StatusOK, r.PathValue("id")) })
}

func (a *API) caseHistory(w http.ResponseWriter, r *http.Request) {
	a.withCases(w, func(s *cases.Service) {
		h, err := s.History(r.Context(), r.PathValue("id"))
		if err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"history": h})
	})
}

func needVersion(v *int64) error {
	if v == nil {
		return fmt.Errorf("version is required: send the version of the case you read, so that nobody's change is overwritten")
	}
	return nil
}

func (a *API) updateCase(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Version *int64 `json:"version"`
		Reason  string `json:"reason"`
		cases.Patch
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := needVersion(in.Version); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		c, err := s.Update(r.Context(), r.PathValue("id"), *in.Version, in.Patch, in.Reason)
		if err != nil {
			a.caseFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}

func (a *API) transitionCase(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Version    *int64 `json:"version"`
		Status     string `json:"status"`
		Note       string `json:"note"`
		Resolution string `json:"resolution"`
		Reason     string `json:"reason"`
		MergeInto  string `json:"mergeInto"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := needVersion(in.Version); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		c, err := s.Transition(r.Context(), r.PathValue("id"), cases.Move{Version: *in.Version, Status: in.Status, Note: in.Note,
			Resolution: in.Resolution, Reason: in.Reason, MergeInto: in.MergeInto})
		if err != nil {
			a.caseFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}

func (a *API) assignCase(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Version    *int64 `json:"version"`
		Department string `json:"department"`
		Owner      string `json:"owner"`
		Reason     string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := needVersion(in.Version); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		c, err := s.Assign(r.Context(), r.PathValue("id"), *in.Version, in.Department, in.Owner, in.Reason)
		if err != nil {
			a.caseFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}

func (a *API) mergeCase(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Version *int64 `json:"version"`
		Into    string `json:"into"`
		Note    string `json:"note"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := needVersion(in.Version); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		c, err := s.Merge(r.Context(), r.PathValue("id"), *in.Version, in.Into, in.Note)
		if err != nil {
			a.caseFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}

func (a *API) addCaseNote(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text   string `json:"text"`
		Public bool   `json:"public"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		h, err := s.AddNote(r.Context(), r.PathValue("id"), in.Text, in.Public)
		if err != nil {
			a.caseFail(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, h)
	})
}

func (a *API) addCaseAttachment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name        string `json:"name"`
		ContentType string `json:"contentType"`
		Size        int64  `json:"size"`
		URL         string `json:"url"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		c, err := s.AddAttachment(r.Context(), r.PathValue("id"), store.Attachment{Name: in.Name, ContentType: in.ContentType, Size: in.Size, URL: in.URL})
		if err != nil {
			a.caseFail(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, c)
	})
}

func (a *API) dismissSuggestion(w http.ResponseWriter, r *http.Request) {
	a.withCases(w, func(s *cases.Service) {
		if err := s.DismissSuggestion(r.Context(), r.PathValue("id"), r.PathValue("target")); err != nil {
			a.caseFail(w, err)
			return
		}
		a.caseDetail(w, r, s, http.StatusOK, r.PathValue("id"))
	})
}

func (a *API) customerCases(w http.ResponseWriter, r *http.Request) {
	all, err := boolParam(r, "all")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		list, err := s.CustomerCases(r.Context(), r.PathValue("id"), !all)
		if err != nil {
			a.fail(w, fmt.Errorf("customer %s: %w", r.PathValue("id"), err))
			return
		}
		if list == nil {
			list = []cases.Case{}
		}
		writeJSON(w, http.StatusOK, CaseList{Cases: list, Total: len(list)})
	})
}

func (a *API) caseOverview(w http.ResponseWriter, r *http.Request) {
	a.withCases(w, func(s *cases.Service) {
		ov, err := s.Overview(r.Context())
		if err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"departments": ov})
	})
}

func (a *API) caseFigures(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err := caseTimeParam("from", q.Get("from"), caseZone)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	to, err := caseTimeParam("to", q.Get("to"), caseZone)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withCases(w, func(s *cases.Service) {
		f, err := s.Figures(r.Context(), cases.FigureQuery{From: from, To: to, Department: q.Get("department"), Interval: q.Get("interval")})
		if err != nil {
			a.caseFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, f)
	})
}

func (a *API) runEscalation(w http.ResponseWriter, r *http.Request) {
	a.withCases(w, func(s *cases.Service) {
		res, err := s.Tick(r.Context())
		if err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

func (a *API) caseHolidays(w http.ResponseWriter, r *http.Request) {
	year := time.Now().In(caseZone).Year()
	if v := r.URL.Query().Get("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 1900 || y > 2200 {
			writeError(w, http.StatusBadRequest, "year must be a year from 1900 to 2200")
			return
		}
		year = y
	}
	state := strings.ToUpper(r.URL.Query().Get("state"))
	if state != "" {
		ok := false
		for _, s := range cases.States {
			ok = ok || s == state
		}
		if !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("state %q: want one of %s", state, strings.Join(cases.States, ", ")))
			return
		}
	}
	type day struct {
		Date string `json:"date"`
		Name string `json:"name"`
	}
	out := []day{}
	for _, h := range cases.Holidays(year, state) {
		out = append(out, day{h.Date.Format("2006-01-02"), h.Name})
	}
	writeJSON(w, http.StatusOK, map[string]any{"year": year, "state": state, "holidays": out, "states": cases.States})
}

// caseConfigHandlers serve GET and PUT of one configuration document.
func caseConfigGet(key string) func(*API, http.ResponseWriter, *http.Request) {
	return func(a *API, w http.ResponseWriter, r *http.Request) {
		a.withCases(w, func(s *cases.Service) {
			v, ver, err := s.Config(r.Context(), key)
			if err != nil {
				a.fail(w, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"version": ver, "config": v})
		})
	}
}

func caseConfigPut(key string) func(*API, http.ResponseWriter, *http.Request) {
	return func(a *API, w http.ResponseWriter, r *http.Request) {
		var in struct {
			Version *int64          `json:"version"`
			Config  json.RawMessage `json:"config"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if in.Version == nil || len(in.Config) == 0 {
			writeError(w, http.StatusBadRequest, "send {\"version\": <the version you read, 0 for the default>, \"config\": {...}}")
			return
		}
		a.withCases(w, func(s *cases.Service) {
			ver, err := s.SetConfig(r.Context(), key, in.Config, *in.Version)
			if err != nil {
				a.caseFail(w, err)
				return
			}
			if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: "cases.config_update", Target: key, Detail: fmt.Sprintf("version %d", ver)}); err != nil {
				a.fail(w, err)
				return
			}
			v, ver, err := s.Config(r.Context(), key)
			if err != nil {
				a.fail(w, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"version": ver, "config": v})
		})
	}
}

// caseRoutes are the routes of cases (issue 7), listed in Routes.
func caseRoutes() []Route {
	return []Route{
		{"GET", "/api/cases", (*API).listCases, auth.PermCasesRead},
		{"POST", "/api/cases", (*API).createCase, auth.PermCasesWrite},
		{"GET", "/api/cases/overview", (*API).caseOverview, auth.PermCasesRead},
		{"GET", "/api/cases/figures", (*API).caseFigures, auth.PermCasesRead},
		{"GET", "/api/cases/holidays", (*API).caseHolidays, auth.PermCasesRead},
		{"POST", "/api/cases/escalate", (*API).runEscalation, auth.PermCasesAdmin},
		{"GET", "/api/cases/config/routing", caseConfigGet(cases.ConfigRouting), auth.PermCasesRead},
		{"PUT", "/api/cases/config/routing", caseConfigPut(cases.ConfigRouting), auth.PermCasesAdmin},
		{"GET", "/api/cases/config/sla", caseConfigGet(cases.ConfigSLA), auth.PermCasesRead},
		{"PUT", "/api/cases/config/sla", caseConfigPut(cases.ConfigSLA), auth.PermCasesAdmin},
		{"GET", "/api/cases/config/intake", caseConfigGet(cases.ConfigIntake), auth.PermCasesRead},
		{"PUT", "/api/cases/config/intake", caseConfigPut(cases.ConfigIntake), auth.PermCasesAdmin},
		{"GET", "/api/cases/{id}", (*API).getCase, auth.PermCasesRead},
		{"PATCH", "/api/cases/{id}", (*API).updateCase, auth.PermCasesWrite},
		{"GET", "/api/cases/{id}/history", (*API).caseHistory, auth.PermCasesRead},
		{"POST", "/api/cases/{id}/transition", (*API).transitionCase, auth.PermCasesWrite},
		{"POST", "/api/cases/{id}/assign", (*API).assignCase, auth.PermCasesWrite},
		{"POST", "/api/cases/{id}/merge", (*API).mergeCase, auth.PermCasesWrite},
		{"POST", "/api/cases/{id}/notes", (*API).addCaseNote, auth.PermCasesWrite},
		{"POST", "/api/cases/{id}/attachments", (*API).addCaseAttachment, auth.PermCasesWrite},
		{"POST", "/api/cases/{id}/suggestions/{target}/dismiss", (*API).dismissSuggestion, auth.PermCasesWrite},
		{"GET", "/api/customers/{id}/cases", (*API).customerCases, auth.PermCasesRead},
	}
}
