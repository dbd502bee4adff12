package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/feeds"
	"github.com/kunding/kunding/internal/store"
)

// Audit actions of feeds.
const (
	auditFeedCreate = "feed.create"
	auditFeedUpdate = "feed.update"
	auditFeedDelete = "feed.delete"
	auditFeedPoll   = "feed.poll"
)

func (a *API) feedbackService() *feedback.Service {
	if a.Feedback != nil {
		return a.Feedback
	}
	return &feedback.Service{Store: a.Store}
}

func (a *API) feedPoller() *feeds.Poller {
	if a.Feeds != nil {
		// Its own lease holder: a manual poll must not renew (and then
		// release) the lease of this node's background poll of the feed.
		p := *a.Feeds
		p.Holder += " manual"
		return &p
	}
	return &feeds.Poller{Store: a.Store, Intake: a.feedbackService(), Log: a.Log, Holder: "api"}
}

func (a *API) feedbackStore(w http.ResponseWriter) (store.FeedbackStore, bool) {
	fs, ok := a.Store.(store.FeedbackStore)
	if !ok {
		writeError(w, http.StatusNotImplemented, "this store does not keep feedback")
	}
	return fs, ok
}

// linkCustomers replaces the customer ids of fbs by the surviving customer
// after merges.
func (a *API) linkCustomers(r *http.Request, fbs []store.Feedback) {
	seen := map[string]string{}
	for i := range fbs {
		id := fbs[i].CustomerID
		if id == "" {
			continue
		}
		now, ok := seen[id]
		if !ok {
			now = id
			if p, err := a.Store.Customer(r.Context(), id); err == nil {
				now = p.CustomerID
			} else if errors.Is(err, store.ErrNotFound) {
				now = "" // erased
			}
			seen[id] = now
		}
		fbs[i].CustomerID = now
	}
}

func (a *API) feedbackError(w http.ResponseWriter, err error) {
	if errors.Is(err, feedback.ErrInvalid) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.fail(w, err)
}

func (a *API) postFeedback(w http.ResponseWriter, r *http.Request) {
	var in feedback.Input
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := a.feedbackService().Submit(r.Context(), in)
	if err != nil {
		a.feedbackError(w, err)
		return
	}
	fbs := []store.Feedback{res.Feedback}
	a.linkCustomers(r, fbs)
	if res.Duplicate {
		writeJSON(w, http.StatusOK, map[string]any{"status": "duplicate", "feedback": fbs[0]})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"status": "created", "feedback": fbs[0]})
}

type batchResult struct {
	Index  int    `json:"index"`
	Status string `json:"status"` // created, duplicate, rejected
	ID     string `json:"id,omitempty"`
	Error  string `json:"error,omitempty"`
}

// postFeedbackBatch takes up to feedback.MaxBatch items; each is stored or
// refused on its own, as with the collection API's batch.
func (a *API) postFeedbackBatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Items []json.RawMessage `json:"items"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid JSON body: %v", err))
		return
	}
	if in.Items == nil {
		writeError(w, http.StatusBadRequest, `items: missing: the body must hold an array "items" of feedback`)
		return
	}
	if len(in.Items) > feedback.MaxBatch {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("items: %d, the limit is %d per batch", len(in.Items), feedback.MaxBatch))
		return
	}
	svc := a.feedbackService()
	out := make([]batchResult, len(in.Items))
	var created, dups, rejected int
	for i, raw := range in.Items {
		out[i].Index = i
		var item feedback.Input
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.DisallowUnknownFields()
		if err := d.Decode(&item); err != nil {
			out[i].Status, out[i].Error = "rejected", fmt.Sprintf("invalid JSON: %v", err)
			rejected++
			continue
		}
		res, err := svc.Submit(r.Context(), item)
		switch {
		case errors.Is(err, feedback.ErrInvalid):
			out[i].Status, out[i].Error = "rejected", err.Error()
			rejected++
		case err != nil:
			// The store failed: what was stored stays stored (a retry of
			// the whole batch answers those as duplicates).
			a.fail(w, err)
			return
		case res.Duplicate:
			out[i].Status, out[i].ID = "duplicate", res.Feedback.ID
			dups++
		default:
			out[i].Status, out[i].ID = "created", res.Feedback.ID
			created++
		}
	}
	code := http.StatusOK
	if rejected == len(in.Items) && rejected > 0 {
		code = http.StatusBadRequest
	}
	writeJSON(w, code, map[string]any{"created": created, "duplicates": dups, "rejected": rejected, "results": out})
}

// parseTimeParam reads an RFC 3339 time or a date (YYYY-MM-DD, UTC).
func parseTimeParam(r *http.Request, name string) (time.Time, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s %q: give an RFC 3339 time or a date YYYY-MM-DD", name, v)
}

// FeedbackFilterFrom reads the filters of GET /api/feedback (shared with
// the web page).
func FeedbackFilterFrom(r *http.Request) (store.FeedbackFilter, error) {
	q := r.URL.Query()
	f := store.FeedbackFilter{
		Portal:     feedback.NormalizePortal(q.Get("portal")),
		Kind:       strings.TrimSpace(q.Get("kind")),
		Sentiment:  strings.TrimSpace(q.Get("sentiment")),
		Theme:      strings.TrimSpace(q.Get("theme")),
		CustomerID: strings.TrimSpace(q.Get("customer")),
		FeedID:     strings.TrimSpace(q.Get("feed")),
	}
	switch f.Sentiment {
	case "", "positive", "negative", "neutral":
	default:
		return f, fmt.Errorf("sentiment %q: must be positive, negative or neutral", f.Sentiment)
	}
	var err error
	if f.From, err = parseTimeParam(r, "from"); err != nil {
		return f, err
	}
	if f.To, err = parseTimeParam(r, "to"); err != nil {
		return f, err
	}
	if b := q.Get("before"); b != "" {
		ts, id, ok := strings.Cut(b, "|")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil || id == "" {
			return f, fmt.Errorf("before %q: use the value of \"next\" from the previous page", b)
		}
		f.Before = &store.FeedbackCursor{Timestamp: t, ID: id}
	}
	return f, nil
}

func (a *API) listFeedback(w http.ResponseWriter, r *http.Request) {
	fs, ok := a.feedbackStore(w)
	if !ok {
		return
	}
	f, err := FeedbackFilterFrom(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if f.Limit, err = intParam(r, "limit", 50, 1000); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if f.CustomerID != "" {
		// Feedback of a merged-away id is the survivor's.
		if p, err := a.Store.Customer(r.Context(), f.CustomerID); err == nil {
			f.CustomerID = p.CustomerID
		}
	}
	fbs, err := fs.ListFeedback(r.Context(), f)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.linkCustomers(r, fbs)
	resp := map[string]any{"feedback": fbs}
	if len(fbs) == f.Limit {
		last := fbs[len(fbs)-1]
		resp["next"] = last.Timestamp.Format(time.RFC3339Nano) + "|" + last.ID
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *API) getFeedback(w http.ResponseWriter, r *http.Request) {
	fs, ok := a.feedbackStore(w)
	if !ok {
		return
	}
	fb, err := fs.Feedback(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, fmt.Errorf("feedback %s: %w", r.PathValue("id"), err))
		return
	}
	fbs := []store.Feedback{fb}
	a.linkCustomers(r, fbs)
	writeJSON(w, http.StatusOK, fbs[0])
}

func (a *API) feedError(w http.ResponseWriter, err error) {
	if errors.Is(err, feeds.ErrInvalid) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.fail(w, err)
}

func (a *API) listFeeds(w http.ResponseWriter, r *http.Request) {
	fs, ok := a.feedbackStore(w)
	if !ok {
		return
	}
	all, err := fs.Feeds(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"feeds": all})
}

func (a *API) createFeed(w http.ResponseWriter, r *http.Request) {
	var in feeds.Settings
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f, err := feeds.Create(r.Context(), a.Store, in)
	if err != nil {
		a.feedError(w, err)
		return
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: auditFeedCreate, Target: f.ID}); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (a *API) getFeed(w http.ResponseWriter, r *http.Request) {
	fs, ok := a.feedbackStore(w)
	if !ok {
		return
	}
	f, err := fs.Feed(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, fmt.Errorf("feed %s: %w", r.PathValue("id"), err))
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (a *API) updateFeed(w http.ResponseWriter, r *http.Request) {
	var in feeds.Settings
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id := r.PathValue("id")
	f, err := feeds.Update(r.Context(), a.Store, id, in)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("feed %s: %w", id, err)
		}
		a.feedError(w, err)
		return
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: auditFeedUpdate, Target: f.ID}); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (a *API) deleteFeed(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := feeds.Delete(r.Context(), a.Store, id); err != nil {
		a.fail(w, fmt.Errorf("feed %s: %w", id, err))
		return
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: auditFeedDelete, Target: id}); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": true, "id": id})
}

// pollFeed polls a feed at once (when no other node is polling it).
func (a *API) pollFeed(w http.ResponseWriter, r *http.Request) {
	fs, ok := a.feedbackStore(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if _, err := fs.Feed(r.Context(), id); err != nil {
		a.fail(w, fmt.Errorf("feed %s: %w", id, err))
		return
	}
	rep, err := a.feedPoller().PollFeed(r.Context(), id, true)
	if err != nil {
		a.fail(w, err)
		return
	}
	if !rep.Polled {
		writeError(w, http.StatusConflict, "the feed is being polled right now (by this or another node); try again in a minute")
		return
	}
	if err := audit.Record(r.Context(), a.Store, audit.Entry{Action: auditFeedPoll, Target: id}); err != nil {
		a.fail(w, err)
		return
	}
	f, err := fs.Feed(r.Context(), id)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"report": rep, "feed": f})
}
