package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/touchpoint"
)

func touchpointRoutes() []Route {
	return []Route{
		{"GET", "/api/touchpoints", (*API).listTouchpoints, auth.PermTouchpointsRead},
		{"POST", "/api/touchpoints", (*API).createTouchpoint, auth.PermTouchpointsAdmin},
		{"GET", "/api/touchpoints/matrix", (*API).touchpointMatrix, auth.PermTouchpointsRead},
		{"GET", "/api/touchpoints/figures", (*API).touchpointFigures, auth.PermTouchpointsRead},
		{"GET", "/api/touchpoints/journey", (*API).touchpointJourney, auth.PermTouchpointsRead},
		{"GET", "/api/touchpoints/progress", (*API).touchpointProgress, auth.PermTouchpointsRead},
		{"POST", "/api/touchpoints/rebuild", (*API).touchpointRebuild, auth.PermTouchpointsAdmin},
		{"GET", "/api/touchpoints/proposals", (*API).listProposals, auth.PermTouchpointsRead},
		{"POST", "/api/touchpoints/proposals/accept", (*API).acceptProposal, auth.PermTouchpointsAdmin},
		{"POST", "/api/touchpoints/proposals/merge", (*API).mergeProposal, auth.PermTouchpointsAdmin},
		{"POST", "/api/touchpoints/proposals/ignore", (*API).ignoreProposal, auth.PermTouchpointsAdmin},
		{"GET", "/api/touchpoints/{id}", (*API).getTouchpoint, auth.PermTouchpointsRead},
		{"PATCH", "/api/touchpoints/{id}", (*API).updateTouchpoint, auth.PermTouchpointsAdmin},
		{"DELETE", "/api/touchpoints/{id}", (*API).deleteTouchpoint, auth.PermTouchpointsAdmin},
		{"GET", "/api/touchpoints/{id}/events", (*API).touchpointEvents, auth.PermTouchpointsRead},
	}
}

func (a *API) tpSvc() *touchpoint.Service { return &touchpoint.Service{Store: a.Store} }

func (a *API) tpFail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, touchpoint.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, touchpoint.ErrNoTouchpoints):
		writeError(w, http.StatusNotImplemented, err.Error())
	default:
		a.fail(w, err)
	}
}

func (a *API) tpAudit(w http.ResponseWriter, r *http.Request, action, target, detail string) bool {
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: action, Target: target, Detail: detail}); err != nil {
		a.fail(w, err)
		return false
	}
	return true
}

func (a *API) listTouchpoints(w http.ResponseWriter, r *http.Request) {
	l, err := a.tpSvc().List(r.Context())
	if err != nil {
		a.tpFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"touchpoints": l})
}

func (a *API) createTouchpoint(w http.ResponseWriter, r *http.Request) {
	var in touchpoint.Input
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	t, err := a.tpSvc().Create(r.Context(), in, p.Actor)
	if err != nil {
		a.tpFail(w, err)
		return
	}
	if a.tpAudit(w, r, touchpoint.AuditCreate, t.ID, t.Name) {
		writeJSON(w, http.StatusCreated, t)
	}
}

func (a *API) getTouchpoint(w http.ResponseWriter, r *http.Request) {
	t, err := a.tpSvc().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.tpFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (a *API) updateTouchpoint(w http.ResponseWriter, r *http.Request) {
	var in touchpoint.Input
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	t, err := a.tpSvc().Update(r.Context(), r.PathValue("id"), in)
	if err != nil {
		a.tpFail(w, err)
		return
	}
	if a.tpAudit(w, r, touchpoint.AuditUpdate, t.ID, t.Name+" status "+t.Status) {
		writeJSON(w, http.StatusOK, t)
	}
}

func (a *API) deleteTouchpoint(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.tpSvc().Delete(r.Context(), id); err != nil {
		a.tpFail(w, err)
		return
	}
	if a.tpAudit(w, r, touchpoint.AuditDelete, id, "") {
		w.WriteHeader(http.StatusNoContent)
	}
}

func (a *API) touchpointEvents(w http.ResponseWriter, r *http.Request) {
	t, err := a.tpSvc().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.tpFail(w, err)
		return
	}
	limit, err := intParam(r, "limit", 20, 200)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	seqs, err := a.Store.(store.TouchpointStore).TouchpointEvents(r.Context(), t.ID, limit)
	if err != nil {
		a.fail(w, err)
		return
	}
	type ev struct {
		Seq       int64     `json:"seq"`
		SourceID  string    `json:"sourceId"`
		Type      string    `json:"type"`
		Name      string    `json:"name"`
		Timestamp time.Time `json:"timestamp"`
	}
	out := []ev{}
	for _, q := range seqs {
		e, err := a.Store.EventBySeq(r.Context(), q)
		if err != nil {
			continue // erased
		}
		out = append(out, ev{Seq: e.Seq, SourceID: e.SourceID, Type: e.Type, Name: e.Name, Timestamp: e.Timestamp})
	}
	writeJSON(w, http.StatusOK, map[string]any{"touchpoint": t.ID, "events": out})
}

var segmentRE = regexp.MustCompile(`^(all|tier:(none|low|mid|high)|trait:[^=|]{1,60}=[^|]{1,40})$`)

// tpQuery reads from, to (default: the last 90 days up to today) and
// segment.
func tpQuery(r *http.Request) (touchpoint.Query, error) {
	from, to, err := timeRange(r, "from", "to")
	if err != nil {
		return touchpoint.Query{}, err
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if to.IsZero() {
		to = today.AddDate(0, 0, 1)
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -90)
	}
	if !from.Before(to) {
		return touchpoint.Query{}, fmt.Errorf("from must be before to")
	}
	if to.Sub(from) > 20*366*24*time.Hour {
		return touchpoint.Query{}, fmt.Errorf("the period is longer than 20 years")
	}
	seg := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("segment")))
	if seg == "" {
		seg = "all"
	}
	if !segmentRE.MatchString(seg) {
		return touchpoint.Query{}, fmt.Errorf("segment %q: all, tier:none|low|mid|high or trait:<name>=<value>", seg)
	}
	return touchpoint.Query{From: from, To: to, Segment: seg}, nil
}

func (a *API) touchpointMatrix(w http.ResponseWriter, r *http.Request) {
	q, err := tpQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	mq := touchpoint.MatrixQuery{Query: q, Importance: r.URL.Query().Get("importance")}
	if mq.CompareFrom, mq.CompareTo, err = timeRange(r, "compareFrom", "compareTo"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if mq.CompareFrom.IsZero() != mq.CompareTo.IsZero() {
		writeError(w, http.StatusBadRequest, "give both compareFrom and compareTo, or neither")
		return
	}
	m, err := a.tpSvc().Matrix(r.Context(), mq)
	if err != nil {
		a.tpFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (a *API) touchpointFigures(w http.ResponseWriter, r *http.Request) {
	q, err := tpQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	figs, err := a.tpSvc().AllFigures(r.Context(), q)
	if err != nil {
		a.tpFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": q.From, "to": q.To, "segment": q.Segment, "touchpoints": figs})
}

func (a *API) touchpointJourney(w http.ResponseWriter, r *http.Request) {
	q, err := tpQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	j, err := a.tpSvc().Journey(r.Context(), q)
	if err != nil {
		a.tpFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (a *API) touchpointProgress(w http.ResponseWriter, r *http.Request) {
	p, err := a.tpSvc().Progress(r.Context())
	if err != nil {
		a.tpFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *API) touchpointRebuild(w http.ResponseWriter, r *http.Request) {
	g, err := a.tpSvc().Rebuild(r.Context())
	if err != nil {
		a.tpFail(w, err)
		return
	}
	if a.tpAudit(w, r, touchpoint.AuditRebuild, "touchpoints", fmt.Sprintf("generation %d", g)) {
		writeJSON(w, http.StatusAccepted, map[string]any{"generation": g})
	}
}

func (a *API) listProposals(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100, 500)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ps, err := a.tpSvc().Proposals(r.Context(), limit)
	if err != nil {
		a.tpFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"proposals": ps})
}

// proposalInput is the body of accept, merge and ignore.
type proposalInput struct {
	Key        string           `json:"key"`
	Touchpoint string           `json:"touchpoint"` // merge: into this touchpoint
	Fields     touchpoint.Input `json:"fields"`     // accept: overrides of the suggestion
}

func readProposal(w http.ResponseWriter, r *http.Request) (proposalInput, bool) {
	var in proposalInput
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return in, false
	}
	if strings.TrimSpace(in.Key) == "" {
		writeError(w, http.StatusBadRequest, "key is required (the proposal's key)")
		return in, false
	}
	return in, true
}

func (a *API) acceptProposal(w http.ResponseWriter, r *http.Request) {
	in, ok := readProposal(w, r)
	if !ok {
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	t, err := a.tpSvc().Accept(r.Context(), in.Key, in.Fields, p.Actor)
	if err != nil {
		a.tpFail(w, err)
		return
	}
	if a.tpAudit(w, r, touchpoint.AuditAccept, t.ID, in.Key) {
		writeJSON(w, http.StatusCreated, t)
	}
}

func (a *API) mergeProposal(w http.ResponseWriter, r *http.Request) {
	in, ok := readProposal(w, r)
	if !ok {
		return
	}
	if in.Touchpoint == "" {
		writeError(w, http.StatusBadRequest, "touchpoint is required (the id to merge into)")
		return
	}
	t, err := a.tpSvc().Merge(r.Context(), in.Key, in.Touchpoint)
	if err != nil {
		a.tpFail(w, err)
		return
	}
	if a.tpAudit(w, r, touchpoint.AuditMerge, t.ID, in.Key) {
		writeJSON(w, http.StatusOK, t)
	}
}

func (a *API) ignoreProposal(w http.ResponseWriter, r *http.Request) {
	in, ok := readProposal(w, r)
	if !ok {
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	if err := a.tpSvc().Ignore(r.Context(), in.Key, p.Actor); err != nil {
		a.tpFail(w, err)
		return
	}
	if a.tpAudit(w, r, touchpoint.AuditIgnore, "proposal", in.Key) {
		w.WriteHeader(http.StatusNoContent)
	}
}
