package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/api"
	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/feeds"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/text"
	"github.com/kunding/kunding/internal/web/i18n"
)

// feedbackPage is how many entries the feedback page shows at once.
const feedbackPage = 50

type feedbackData struct {
	page
	Rows []feedbackRow
	// The filter form, as given.
	Portal, Kind, Sentiment, Theme, Customer, From, To string
	Kinds, Sentiments                                  []kindOption
	Next                                               string // URL of the next page
	Error                                              string
}

type feedbackRow struct {
	store.Feedback
	When, KindName, SentimentName, Stars string
	RatingLabel                          string
	Drivers                              string
	ThemeNames                           []themeLink
}

type themeLink struct{ ID, Name, Href string }

func (h *Handler) feedbackList(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "feedback.title", "feedback")
	q := r.URL.Query()
	d := feedbackData{page: p, Portal: q.Get("portal"), Kind: q.Get("kind"), Sentiment: q.Get("sentiment"), Theme: q.Get("theme"),
		Customer: q.Get("customer"), From: q.Get("from"), To: q.Get("to")}
	for _, k := range feedback.Kinds {
		d.Kinds = append(d.Kinds, kindOption{Value: k, Name: p.L.T("feedback.kind." + k), Selected: k == d.Kind})
	}
	for _, s := range []string{"positive", "negative", "neutral"} {
		d.Sentiments = append(d.Sentiments, kindOption{Value: s, Name: p.L.T("feedback.sentiment." + s), Selected: s == d.Sentiment})
	}
	fs, ok := h.cfg.Store.(store.FeedbackStore)
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "error.notFound")
		return
	}
	f, err := api.FeedbackFilterFrom(r)
	if err != nil {
		d.Error = p.L.T("feedback.errFilter")
		h.render(w, r, http.StatusBadRequest, "feedback", d)
		return
	}
	if f.CustomerID != "" {
		if c, err := h.cfg.Store.Customer(r.Context(), f.CustomerID); err == nil {
			f.CustomerID = c.CustomerID
		}
	}
	f.Limit = feedbackPage
	fbs, err := fs.ListFeedback(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	merged := map[string]string{}
	for _, fb := range fbs {
		row := feedbackRow{Feedback: fb, When: p.L.DateTime(fb.Timestamp.In(h.cfg.Location)), KindName: p.L.T("feedback.kind." + fb.Kind),
			SentimentName: p.L.T("feedback.sentiment." + fb.Sentiment)}
		if fb.Rating != nil {
			n := int(*fb.Rating + 0.5)
			row.Stars = strings.Repeat("★", n) + strings.Repeat("☆", 5-n)
			row.RatingLabel = p.L.T("feedback.rating", *fb.Rating)
		}
		if fb.CustomerID != "" {
			// Follow merges, so the link opens the surviving customer.
			id, ok := merged[fb.CustomerID]
			if !ok {
				id = fb.CustomerID
				if c, err := h.cfg.Store.Customer(r.Context(), fb.CustomerID); err == nil {
					id = c.CustomerID
				}
				merged[fb.CustomerID] = id
			}
			row.CustomerID = id
		}
		row.Drivers = drivers(fb)
		for _, th := range fb.Themes {
			v := url.Values{"theme": {th}}
			row.ThemeNames = append(row.ThemeNames, themeLink{ID: th, Name: themeName(p.L, th), Href: "/feedback?" + v.Encode()})
		}
		d.Rows = append(d.Rows, row)
	}
	if len(fbs) == feedbackPage {
		last := fbs[len(fbs)-1]
		nq := r.URL.Query()
		nq.Set("before", last.Timestamp.Format(time.RFC3339Nano)+"|"+last.ID)
		d.Next = "/feedback?" + nq.Encode()
	}
	h.render(w, r, http.StatusOK, "feedback", d)
}

// themeNames are the display names of the themes in use by language
// (built-in and --themes; set before the first request).
var themeNames = sync.OnceValue(func() map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, th := range text.Themes() {
		m[th.ID] = th.Names
	}
	return m
})

// themeName is a theme's name in the language; themes added by
// configuration without names show their id.
func themeName(l i18n.Lang, id string) string {
	if n := themeNames()[id][string(l)]; n != "" {
		return n
	}
	return strings.ReplaceAll(id, "_", " ")
}

// drivers lists the words behind the sentiment, as the analysis found them.
func drivers(fb store.Feedback) string {
	var a struct {
		Drivers []struct {
			Word   string  `json:"word"`
			Weight float64 `json:"weight"`
		} `json:"drivers"`
	}
	if len(fb.Analysis) == 0 || json.Unmarshal(fb.Analysis, &a) != nil {
		return ""
	}
	var out []string
	for i, d := range a.Drivers {
		if i == 5 {
			break
		}
		sign := "+"
		if d.Weight < 0 {
			sign = "−"
		}
		out = append(out, d.Word+" ("+sign+")")
	}
	return strings.Join(out, ", ")
}

type feedsData struct {
	page
	Feeds []feedRow
	Kinds []kindOption
	// The create form, as given.
	Name, URL, Portal, Kind, Interval string
	Error                             string
	Message                           string
}

type feedRow struct {
	store.Feed
	KindName, LastPollAt, LastSuccessAt, NextPollAt string
	IntervalMinutes                                 int
	ItemErrorLines                                  []string
}

func (h *Handler) feedsPage(w http.ResponseWriter, r *http.Request) {
	msg := ""
	switch r.URL.Query().Get("done") {
	case "created", "updated", "deleted", "polled":
		msg = i18n.FromRequest(r).T("feeds.done." + r.URL.Query().Get("done"))
	}
	h.renderFeeds(w, r, http.StatusOK, feedsData{Kind: "review", Interval: "15", Message: msg})
}

func (h *Handler) renderFeeds(w http.ResponseWriter, r *http.Request, code int, d feedsData) {
	d.page = h.page(r, "feeds.title", "feeds")
	fs, ok := h.cfg.Store.(store.FeedbackStore)
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "error.notFound")
		return
	}
	all, err := fs.Feeds(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	l := d.L
	at := func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return l.DateTime(t.In(h.cfg.Location))
	}
	for _, f := range all {
		row := feedRow{Feed: f, KindName: l.T("feedback.kind." + f.Kind), LastPollAt: at(f.LastPoll), LastSuccessAt: at(f.LastSuccess),
			NextPollAt: at(&f.NextPoll), IntervalMinutes: f.IntervalSeconds / 60}
		if f.ItemErrors != "" {
			row.ItemErrorLines = strings.Split(f.ItemErrors, "\n")
		}
		d.Feeds = append(d.Feeds, row)
	}
	for _, k := range feedback.Kinds {
		d.Kinds = append(d.Kinds, kindOption{Value: k, Name: l.T("feedback.kind." + k), Selected: k == d.Kind})
	}
	h.render(w, r, code, "feeds", d)
}

// feedErrorKey translates an error of feeds.Create or Update; the
// package names the field at the start of its message.
func feedErrorKey(err error) string {
	if errors.Is(err, store.ErrConflict) {
		return "feeds.errExists"
	}
	msg := err.Error()
	for _, f := range []struct{ prefix, key string }{
		{"name", "feeds.errName"}, {"url", "feeds.errURL"}, {"portal", "feeds.errPortal"}, {"kind", "feeds.errKind"}, {"intervalSeconds", "feeds.errInterval"},
	} {
		if strings.HasPrefix(msg, f.prefix) {
			return f.key
		}
	}
	return ""
}

// minutes reads the interval field of the forms (minutes); "" keeps nil.
func minutes(v string) (*int, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > feeds.MaxInterval/60 {
		return nil, false
	}
	s := n * 60
	return &s, true
}

func (h *Handler) createFeed(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	d := feedsData{Name: r.PostFormValue("name"), URL: r.PostFormValue("url"), Portal: r.PostFormValue("portal"),
		Kind: r.PostFormValue("kind"), Interval: r.PostFormValue("interval")}
	l := i18n.FromRequest(r)
	iv, ok := minutes(d.Interval)
	if !ok {
		d.Error = l.T("feeds.errInterval")
		h.renderFeeds(w, r, http.StatusBadRequest, d)
		return
	}
	s := feeds.Settings{Name: &d.Name, URL: &d.URL, Kind: &d.Kind, IntervalSeconds: iv}
	if strings.TrimSpace(d.Portal) != "" {
		s.Portal = &d.Portal
	}
	f, err := feeds.Create(r.Context(), h.cfg.Store, s)
	if err != nil {
		if key := feedErrorKey(err); key != "" {
			d.Error = l.T(key)
			code := http.StatusBadRequest
			if errors.Is(err, store.ErrConflict) {
				code = http.StatusConflict
			}
			h.renderFeeds(w, r, code, d)
			return
		}
		h.fail(w, r, err)
		return
	}
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: "feed.create", Target: f.ID, Detail: "web"}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/feeds?done=created", http.StatusSeeOther)
}

// updateFeed handles the buttons of a feed's row: enable, disable, a new
// interval, poll now, delete.
func (h *Handler) updateFeed(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id := r.PathValue("id")
	l := i18n.FromRequest(r)
	ctx := r.Context()
	var action, done string
	switch r.PostFormValue("action") {
	case "enable", "disable":
		on := r.PostFormValue("action") == "enable"
		if _, err := feeds.Update(ctx, h.cfg.Store, id, feeds.Settings{Enabled: &on}); err != nil {
			h.fail(w, r, err)
			return
		}
		action, done = "feed.update", "updated"
	case "interval":
		iv, ok := minutes(r.PostFormValue("interval"))
		if !ok || iv == nil {
			h.renderFeeds(w, r, http.StatusBadRequest, feedsData{Kind: "review", Interval: "15", Error: l.T("feeds.errInterval")})
			return
		}
		if _, err := feeds.Update(ctx, h.cfg.Store, id, feeds.Settings{IntervalSeconds: iv}); err != nil {
			if errors.Is(err, feeds.ErrInvalid) {
				h.renderFeeds(w, r, http.StatusBadRequest, feedsData{Kind: "review", Interval: "15", Error: l.T("feeds.errInterval")})
				return
			}
			h.fail(w, r, err)
			return
		}
		action, done = "feed.update", "updated"
	case "poll":
		if _, err := h.cfg.Store.(store.FeedbackStore).Feed(ctx, id); err != nil {
			h.fail(w, r, err)
			return
		}
		p := &feeds.Poller{Store: h.cfg.Store, Intake: &feedback.Service{Store: h.cfg.Store}, Log: h.log, Holder: "web"}
		if h.cfg.Feeds != nil {
			// Its own lease holder, as in the API's poll.
			cp := *h.cfg.Feeds
			cp.Holder += " manual"
			p = &cp
		}
		if _, err := p.PollFeed(ctx, id, true); err != nil {
			h.fail(w, r, err)
			return
		}
		action, done = "feed.poll", "polled"
	case "delete":
		if err := feeds.Delete(ctx, h.cfg.Store, id); err != nil {
			h.fail(w, r, err)
			return
		}
		action, done = "feed.delete", "deleted"
	default:
		h.errorPage(w, r, http.StatusBadRequest, "error.notFound")
		return
	}
	if err := audit.Record(ctx, h.cfg.Store, audit.Entry{Action: action, Target: id, Detail: "web"}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/feeds?done="+done+"#"+url.PathEscape(id), http.StatusSeeOther)
}
