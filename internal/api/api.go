// Package api is the JSON management API under /api/. Every route needs a
// login or an API key (package auth) and a permission of its own (the
// route table). openapi.json documents the routes; a test keeps the two in
// step.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/campaign"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/feeds"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/scoring"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/survey"
	"github.com/kunding/kunding/internal/webhook"
)

//go:embed openapi.json
var OpenAPI []byte

// API serves /api/.
type API struct {
	Store store.Store
	Log   *slog.Logger
	// OnKeysChanged is called after a write key changed (to drop caches).
	OnKeysChanged func()
	// Auth authenticates requests and checks permissions; nil: a Service
	// with default options on Store.
	Auth *auth.Service
	// Surveys runs surveys (nil: made on demand on Store, without waking
	// the pipeline).
	Surveys    *survey.Service
	surveyOnce sync.Once
	// Feedback takes in reviews and posts, Feeds polls feeds (nil: made
	// on demand on Store).
	Feedback *feedback.Service
	Feeds    *feeds.Poller
	// Cases is the case service (nil: made on demand on Store).
	Cases *cases.Service
	// Webhooks manages webhook endpoints and their deliveries (nil: made
	// on demand on Store).
	Webhooks *webhook.Service
	// Campaigns runs campaigns and the contact policy (nil: made on demand
	// on Store, without waking the pipeline or the delivery job).
	Campaigns *campaign.Service
	// BeforeErase runs before an erasure (the server waits for its
	// journal); nil: nothing.
	BeforeErase func(ctx context.Context) error
}

// Route is one documented route of the API.
type Route struct {
	Method  string
	Pattern string
	handler func(*API, http.ResponseWriter, *http.Request)
	// Perm is what a caller needs: a role of a logged-in user or a scope
	// of an API key (see auth.Permission).
	Perm auth.Permission
}

// Routes lists every route; Register and the OpenAPI test both use it.
func Routes() []Route {
	return append([]Route{
		{"GET", "/api/openapi.json", (*API).openapi, auth.PermAuthenticated},
		{"GET", "/api/stats", (*API).stats, auth.PermRead},
		{"GET", "/api/sources", (*API).listSources, auth.PermSourcesRead},
		{"POST", "/api/sources", (*API).createSource, auth.PermSourcesWrite},
		{"GET", "/api/sources/{id}", (*API).getSource, auth.PermSourcesRead},
		{"GET", "/api/sources/{id}/rejected", (*API).rejected, auth.PermSourcesRead},
		{"GET", "/api/customers", (*API).searchCustomers, auth.PermCustomers},
		{"GET", "/api/customers/{id}", (*API).getCustomer, auth.PermCustomers},
		{"GET", "/api/customers/{id}/timeline", (*API).timeline, auth.PermCustomers},
		{"GET", "/api/customers/{id}/export", (*API).exportCustomer, auth.PermGDPR},
		{"POST", "/api/customers/{id}/erase", (*API).eraseCustomer, auth.PermGDPR},
		{"GET", "/api/me", (*API).me, auth.PermAuthenticated},
		{"GET", "/api/users", (*API).listUsers, auth.PermUsers},
		{"POST", "/api/users", (*API).createUser, auth.PermUsers},
		{"GET", "/api/users/{id}", (*API).getUser, auth.PermUsers},
		{"PATCH", "/api/users/{id}", (*API).updateUser, auth.PermUsers},
		{"GET", "/api/departments", (*API).listDepartments, auth.PermAuthenticated},
		{"POST", "/api/departments", (*API).createDepartment, auth.PermUsers},
		{"GET", "/api/apikeys", (*API).listAPIKeys, auth.PermUsers},
		{"POST", "/api/apikeys", (*API).createAPIKey, auth.PermUsers},
		{"DELETE", "/api/apikeys/{id}", (*API).revokeAPIKey, auth.PermUsers},
		{"GET", "/api/audit", (*API).listAudit, auth.PermAudit},
		{"GET", "/api/models", (*API).getModel, auth.PermRead},
		{"GET", "/api/surveys", (*API).listSurveys, auth.PermSurveysRead},
		{"POST", "/api/surveys", (*API).createSurvey, auth.PermSurveysWrite},
		{"GET", "/api/surveys/{id}", (*API).getSurvey, auth.PermSurveysRead},
		{"PATCH", "/api/surveys/{id}", (*API).updateSurvey, auth.PermSurveysWrite},
		{"DELETE", "/api/surveys/{id}", (*API).deleteSurvey, auth.PermSurveysWrite},
		{"POST", "/api/surveys/{id}/links", (*API).createSurveyLink, auth.PermSurveysSend},
		{"POST", "/api/surveys/{id}/responses", (*API).postSurveyResponse, auth.PermSurveysSend},
		{"GET", "/api/surveys/{id}/responses", (*API).listSurveyResponses, auth.PermCustomers},
		{"GET", "/api/surveys/{id}/stats", (*API).surveyStats, auth.PermSurveysRead},
		{"POST", "/api/feedback", (*API).postFeedback, auth.PermSourcesWrite},
		{"POST", "/api/feedback/batch", (*API).postFeedbackBatch, auth.PermSourcesWrite},
		{"GET", "/api/feedback", (*API).listFeedback, auth.PermCustomers},
		{"GET", "/api/feedback/{id}", (*API).getFeedback, auth.PermCustomers},
		{"GET", "/api/feeds", (*API).listFeeds, auth.PermSourcesRead},
		{"POST", "/api/feeds", (*API).createFeed, auth.PermSourcesWrite},
		{"GET", "/api/feeds/{id}", (*API).getFeed, auth.PermSourcesRead},
		{"PATCH", "/api/feeds/{id}", (*API).updateFeed, auth.PermSourcesWrite},
		{"DELETE", "/api/feeds/{id}", (*API).deleteFeed, auth.PermSourcesWrite},
		{"POST", "/api/feeds/{id}/poll", (*API).pollFeed, auth.PermSourcesWrite},
	}, append(append(append(caseRoutes(), webhookRoutes()...), touchpointRoutes()...), campaignRoutes()...)...)
}

// Register adds the routes to mux, each behind authentication (auth's
// APIAuth: API key, bootstrap key or session with CSRF token) and the
// route's permission.
func (a *API) Register(mux *http.ServeMux) {
	if a.Auth == nil {
		a.Auth = auth.NewService(a.Store, auth.Options{Log: a.Log})
	}
	for _, r := range Routes() {
		h := r.handler
		mux.Handle(r.Method+" "+r.Pattern, a.Auth.APIAuth(auth.RequirePermission(r.Perm)(
			http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { h(a, w, req) }))))
	}
	// Anything else under /api/ is a JSON 404 (after authentication, so that
	// the route table is not revealed to strangers).
	mux.Handle("/api/", a.Auth.APIAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// fail maps an error of a capability to a status code.
func (a *API) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrConflict), errors.Is(err, auth.ErrLastAdmin):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, auth.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, store.ErrPending):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, err.Error()+"; try again in a few seconds")
	default:
		log := a.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("api", "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "internal error; see the server log")
	}
}

func (a *API) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(OpenAPI)
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) {
	st, err := a.Store.Stats(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *API) listSources(w http.ResponseWriter, r *http.Request) {
	srcs, err := a.Store.Sources(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	if srcs == nil {
		srcs = []store.Source{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": srcs})
}

func (a *API) createSource(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	src, err := source.Create(r.Context(), a.Store, in.Name, in.Kind)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			a.fail(w, err)
			return
		}
		if strings.HasPrefix(err.Error(), "name ") || strings.HasPrefix(err.Error(), "kind ") {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		a.fail(w, err)
		return
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: audit.SourceCreate, Target: src.ID}); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, src)
}

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	return nil
}

func (a *API) getSource(w http.ResponseWriter, r *http.Request) {
	src, err := a.Store.SourceByID(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, fmt.Errorf("source %s: %w", r.PathValue("id"), err))
		return
	}
	writeJSON(w, http.StatusOK, src)
}

func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("%s must be a whole number from 1 to %d", name, max)
	}
	return n, nil
}

func (a *API) rejected(w http.ResponseWriter, r *http.Request) {
	src, err := a.Store.SourceByID(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, fmt.Errorf("source %s: %w", r.PathValue("id"), err))
		return
	}
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rs, err := a.Store.RejectedEvents(r.Context(), src.ID, limit)
	if err != nil {
		a.fail(w, err)
		return
	}
	if rs == nil {
		rs = []store.Rejected{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rejected": rs})
}

// customerSummary is a profile as listed by search.
type customerSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	LastSeen  time.Time `json:"lastSeen"`
	Orders    int64     `json:"orders"`
	Revenue   float64   `json:"revenue"`
	EventsCnt int64     `json:"events"`
}

func (a *API) searchCustomers(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		writeError(w, http.StatusBadRequest, "q is required: a customer id, user id, e-mail, phone or the start of a name")
		return
	}
	limit, err := intParam(r, "limit", 20, 200)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// A phone number is searched in its normalised form as well.
	ps, err := a.Store.SearchCustomers(r.Context(), q, limit)
	if err == nil && len(ps) == 0 {
		if p := identity.NormalizePhone(q); p != "" && p != q {
			ps, err = a.Store.SearchCustomers(r.Context(), p, limit)
		}
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	out := make([]customerSummary, 0, len(ps))
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, customerSummary{ID: p.CustomerID, Name: p.Name, Email: p.Email, Phone: p.Phone,
			LastSeen: p.LastSeen, Orders: p.Orders, Revenue: p.Revenue(), EventsCnt: p.Events})
		ids = append(ids, p.CustomerID)
	}
	// Who saw which customers in a result list; the query itself may be a
	// person's e-mail address and is not recorded.
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: audit.CustomerSearch,
		Detail: fmt.Sprintf("%d results: %s", len(ids), strings.Join(ids, " "))}); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"customers": out})
}

// Customer is the full view of one customer in the API.
type Customer struct {
	ID                string                     `json:"id"`
	RequestedID       string                     `json:"requestedId,omitempty"`
	Name              string                     `json:"name,omitempty"`
	Email             string                     `json:"email,omitempty"`
	Phone             string                     `json:"phone,omitempty"`
	Traits            map[string]json.RawMessage `json:"traits"`
	FirstSeen         time.Time                  `json:"firstSeen"`
	LastSeen          time.Time                  `json:"lastSeen"`
	Events            int64                      `json:"events"`
	CountsByType      map[string]int64           `json:"countsByType"`
	CountsByEvent     map[string]int64           `json:"countsByEvent"`
	Orders            int64                      `json:"orders"`
	Revenue           float64                    `json:"revenue"`
	RevenueByCurrency map[string]float64         `json:"revenueByCurrency"`
	FirstOrder        *time.Time                 `json:"firstOrder,omitempty"`
	LastOrder         *time.Time                 `json:"lastOrder,omitempty"`
	RFM               *profile.RFM               `json:"rfm,omitempty"`
	Identities        []store.IdentityRow        `json:"identities"`
	Merges            []store.Merge              `json:"merges"`
	Conflicts         []store.Conflict           `json:"conflicts"`
	// Predictions are absent until a model is fitted (kunding models fit).
	Predictions *store.Prediction `json:"predictions,omitempty"`
	// LastSurvey is the latest survey answer per type (nps, csat, ces).
	LastSurvey map[string]profile.SurveyAnswer `json:"lastSurvey,omitempty"`
}

// View assembles the API view of a customer.
func View(r *http.Request, s store.Store, p profile.Profile, now time.Time) (Customer, error) {
	c := Customer{ID: p.CustomerID, Name: p.Name, Email: p.Email, Phone: p.Phone, Traits: map[string]json.RawMessage{},
		FirstSeen: p.FirstSeen, LastSeen: p.LastSeen, Events: p.Events, CountsByType: p.CountsByType,
		CountsByEvent: p.CountsByName, Orders: p.Orders, Revenue: p.Revenue(), RevenueByCurrency: map[string]float64{},
		RFM: p.RFMAt(now), LastSurvey: p.LastSurvey}
	for k, t := range p.Traits {
		c.Traits[k] = t.Value
	}
	for cur, v := range p.ByCurrency {
		c.RevenueByCurrency[cur] = float64(v) / 1e6
	}
	if !p.FirstOrder.IsZero() {
		fo, lo := p.FirstOrder, p.LastOrder
		c.FirstOrder, c.LastOrder = &fo, &lo
	}
	var err error
	if c.Identities, err = s.Identities(r.Context(), p.CustomerID); err != nil {
		return c, err
	}
	if c.Merges, err = s.Merges(r.Context(), p.CustomerID); err != nil {
		return c, err
	}
	if c.Conflicts, err = s.Conflicts(r.Context(), p.CustomerID); err != nil {
		return c, err
	}
	if c.Identities == nil {
		c.Identities = []store.IdentityRow{}
	}
	if c.Merges == nil {
		c.Merges = []store.Merge{}
	}
	if c.Conflicts == nil {
		c.Conflicts = []store.Conflict{}
	}
	if ps, ok := s.(store.PredictionStore); ok {
		pr, err := ps.Prediction(r.Context(), p.CustomerID)
		switch {
		case err == nil:
			c.Predictions = &pr
		case !errors.Is(err, store.ErrNotFound):
			return c, err
		}
	}
	return c, nil
}

func (a *API) getCustomer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, err := a.Store.Customer(r.Context(), id)
	if err != nil {
		a.fail(w, fmt.Errorf("customer %s: %w", id, err))
		return
	}
	c, err := View(r, a.Store, p, time.Now())
	if err != nil {
		a.fail(w, err)
		return
	}
	if c.ID != id {
		c.RequestedID = id
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: audit.CustomerView, Target: c.ID}); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// TimelineEvent is one entry of a customer's timeline.
type TimelineEvent struct {
	Seq        int64           `json:"seq"`
	Type       string          `json:"type"`
	Name       string          `json:"name,omitempty"`
	Timestamp  time.Time       `json:"timestamp"`
	SourceID   string          `json:"sourceId"`
	SourceName string          `json:"sourceName"`
	Event      json.RawMessage `json:"event"`
}

func (a *API) timeline(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, err := a.Store.Customer(r.Context(), id)
	if err != nil {
		a.fail(w, fmt.Errorf("customer %s: %w", id, err))
		return
	}
	limit, err := intParam(r, "limit", 50, 500)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var before store.TimelineCursor
	if v := r.URL.Query().Get("before"); v != "" {
		tsPart, seqPart, ok := strings.Cut(v, ":")
		ts, err1 := strconv.ParseInt(tsPart, 10, 64)
		seq, err2 := strconv.ParseInt(seqPart, 10, 64)
		if !ok || err1 != nil || err2 != nil || seq <= 0 {
			writeError(w, http.StatusBadRequest, "before must be the next cursor of a previous page (millis:seq)")
			return
		}
		before = store.TimelineCursor{Timestamp: time.UnixMilli(ts), Seq: seq}
	}
	es, err := a.Store.Timeline(r.Context(), p.CustomerID, before, limit)
	if err != nil {
		a.fail(w, err)
		return
	}
	out := make([]TimelineEvent, 0, len(es))
	for _, e := range es {
		out = append(out, TimelineEvent{Seq: e.Seq, Type: e.Type, Name: e.Name, Timestamp: e.Timestamp,
			SourceID: e.SourceID, SourceName: e.SourceName, Event: e.Body})
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: audit.CustomerView, Target: p.CustomerID, Detail: "timeline"}); err != nil {
		a.fail(w, err)
		return
	}
	resp := map[string]any{"customerId": p.CustomerID, "events": out}
	if len(es) == limit {
		last := es[len(es)-1]
		resp["next"] = fmt.Sprintf("%d:%d", last.Timestamp.UnixMilli(), last.Seq)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *API) getModel(w http.ResponseWriter, r *http.Request) {
	m, err := scoring.Load(r.Context(), a.Store)
	if errors.Is(err, scoring.ErrNoModel) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}
