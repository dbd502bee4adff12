package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/web/i18n"
)

// liveLimit is how many of the newest events and of the newest rejected
// events the debugger shows.
const liveLimit = 50

type sourcesData struct {
	page
	Sources []sourceRow
	Kinds   []kindOption
	Name    string
	Kind    string
	Error   string
}

type sourceRow struct {
	store.Source
	KindName, Created string
}

type kindOption struct {
	Value, Name string
	Selected    bool
}

func (h *Handler) sources(w http.ResponseWriter, r *http.Request) {
	h.renderSources(w, r, http.StatusOK, "", "", "")
}

func (h *Handler) renderSources(w http.ResponseWriter, r *http.Request, code int, name, kind, errMsg string) {
	p := h.page(r, "sources.title", "sources")
	srcs, err := h.cfg.Store.Sources(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := sourcesData{page: p, Name: name, Kind: kind, Error: errMsg}
	for _, s := range srcs {
		d.Sources = append(d.Sources, sourceRow{Source: s, KindName: p.L.T("kind." + s.Kind), Created: p.L.DateTime(s.CreatedAt.In(h.cfg.Location))})
	}
	d.Kinds = kindOptions(p.L, kind)
	h.render(w, r, code, "sources", d)
}

func kindOptions(l i18n.Lang, selected string) []kindOption {
	out := make([]kindOption, 0, len(source.Kinds))
	for _, k := range source.Kinds {
		out = append(out, kindOption{Value: k, Name: l.T("kind." + k), Selected: k == selected})
	}
	return out
}

func (h *Handler) createSource(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	name, kind := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("kind")
	src, err := source.Create(r.Context(), h.cfg.Store, name, kind)
	if err == nil {
		if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: audit.SourceCreate, Target: src.ID, Detail: "web: " + src.Name + " (" + src.Kind + ")"}); err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/sources/"+url.PathEscape(src.ID)+"?created=1", http.StatusSeeOther)
		return
	}
	l := i18n.FromRequest(r)
	// source.Create names the field it refuses at the start of its message.
	switch {
	case errors.Is(err, store.ErrConflict):
		h.renderSources(w, r, http.StatusConflict, name, kind, l.T("sources.errExists", name))
	case strings.HasPrefix(err.Error(), "name "):
		h.renderSources(w, r, http.StatusBadRequest, name, kind, l.T("sources.errName"))
	case strings.HasPrefix(err.Error(), "kind "):
		h.renderSources(w, r, http.StatusBadRequest, name, kind, l.T("sources.errKind"))
	default:
		h.fail(w, r, err)
	}
}

type sourceData struct {
	page
	Src      sourceRow
	Created  bool
	Rotated  bool
	Error    string
	Endpoint string
	Live     liveData
}

func (h *Handler) source(w http.ResponseWriter, r *http.Request) {
	h.renderSource(w, r, http.StatusOK, "")
}

func (h *Handler) renderSource(w http.ResponseWriter, r *http.Request, code int, errMsg string) {
	src, err := h.cfg.Store.SourceByID(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "source.title", "sources")
	p.Title = p.L.T("source.title", src.Name)
	q := r.URL.Query()
	d := sourceData{page: p, Created: q.Get("created") != "", Rotated: q.Get("rotated") != "", Error: errMsg,
		Src: sourceRow{Source: src, KindName: p.L.T("kind." + src.Kind), Created: p.L.DateTime(src.CreatedAt.In(h.cfg.Location))}}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	d.Endpoint = scheme + "://" + r.Host + "/v1/track"
	if d.Live, err = h.live(r, p.L, src.ID, q.Get("paused") != "", -1, -1); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, code, "source", d)
}

func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if r.PostFormValue("confirm") != "yes" {
		h.renderSource(w, r, http.StatusBadRequest, i18n.FromRequest(r).T("source.rotateConfirmMissing"))
		return
	}
	src, err := source.RotateKey(r.Context(), h.cfg.Store, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: audit.SourceRotateKey, Target: src.ID, Detail: "web"}); err != nil {
		h.fail(w, r, err)
		return
	}
	// The collection API caches keys for 10 s; dropping the cache makes the
	// old key stop at once on this node (other nodes within those 10 s).
	if h.cfg.OnKeysChanged != nil {
		h.cfg.OnKeysChanged()
	}
	http.Redirect(w, r, "/sources/"+url.PathEscape(src.ID)+"?rotated=1", http.StatusSeeOther)
}

// liveData is the live event debugger: the newest events of a source,
// accepted and rejected, newest first; the fragment replaces itself every
// two seconds (htmx) unless paused.
type liveData struct {
	L        i18n.Lang
	SourceID string
	Paused   bool
	Items    []liveItem
	SeenSeq  int64 // the newest event shown, so the next poll marks newer ones
	SeenRej  int64
	Updated  string
}

type liveItem struct {
	Key       string
	Rejected  bool
	Reason    string
	Time, ISO string
	Type      string
	Name      string
	MessageID string
	Who       string
	JSON      string
	New       bool
	at        time.Time
}

func (h *Handler) livePart(w http.ResponseWriter, r *http.Request) {
	src, err := h.cfg.Store.SourceByID(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	seen, err1 := strconv.ParseInt(q.Get("seen"), 10, 64)
	seenRej, err2 := strconv.ParseInt(q.Get("seenrej"), 10, 64)
	if err1 != nil || err2 != nil {
		seen, seenRej = -1, -1
	}
	ld, err := h.live(r, i18n.FromRequest(r), src.ID, q.Get("paused") != "", seen, seenRej)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderPart(w, r, "source", "live", ld)
}

// live reads the newest events of a source; those above seen (seenRej for
// rejected ones) are marked new. A negative seen marks none.
func (h *Handler) live(r *http.Request, l i18n.Lang, sourceID string, paused bool, seen, seenRej int64) (liveData, error) {
	ld := liveData{L: l, SourceID: sourceID, Paused: paused, SeenSeq: seen, SeenRej: seenRej,
		Updated: l.Clock(h.cfg.Now().In(h.cfg.Location))}
	evs, err := h.cfg.Store.LatestEvents(r.Context(), sourceID, liveLimit)
	if err != nil {
		return ld, err
	}
	rej, err := h.cfg.Store.RejectedEvents(r.Context(), sourceID, liveLimit)
	if err != nil {
		return ld, err
	}
	ld.SeenSeq, ld.SeenRej = max(seen, 0), max(seenRej, 0)
	for _, e := range evs {
		it := liveItem{Key: "e" + strconv.FormatInt(e.Seq, 10), Type: e.Type, Name: e.Name, MessageID: e.MessageID,
			JSON: prettyJSON(e.Body), New: seen >= 0 && e.Seq > seen, at: e.ReceivedAt}
		it.Who = whoOf(e.Body)
		ld.Items = append(ld.Items, it)
		ld.SeenSeq = max(ld.SeenSeq, e.Seq)
	}
	for _, x := range rej {
		it := liveItem{Key: "r" + strconv.FormatInt(x.ID, 10), Rejected: true, Reason: x.Reason, MessageID: x.MessageID,
			JSON: prettyJSON([]byte(x.Body)), New: seenRej >= 0 && x.ID > seenRej, at: x.ReceivedAt}
		// The body was refused, so it may not even be JSON: take what it tells.
		var b struct {
			Type  string `json:"type"`
			Event string `json:"event"`
			Name  string `json:"name"`
		}
		if json.Unmarshal([]byte(x.Body), &b) == nil {
			it.Type, it.Name = b.Type, b.Event
			if it.Name == "" {
				it.Name = b.Name
			}
		}
		it.Who = whoOf([]byte(x.Body))
		ld.Items = append(ld.Items, it)
		ld.SeenRej = max(ld.SeenRej, x.ID)
	}
	sort.SliceStable(ld.Items, func(i, j int) bool { return ld.Items[i].at.After(ld.Items[j].at) })
	if len(ld.Items) > liveLimit {
		ld.Items = ld.Items[:liveLimit]
	}
	for i := range ld.Items {
		t := ld.Items[i].at.In(h.cfg.Location)
		ld.Items[i].Time, ld.Items[i].ISO = l.Clock(t), t.Format(time.RFC3339)
		if !sameDay(t, h.cfg.Now().In(h.cfg.Location)) {
			ld.Items[i].Time = l.DateTime(t)
		}
	}
	return ld, nil
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// whoOf names the person of an event: its userId, else its anonymousId.
func whoOf(body []byte) string {
	var b struct {
		UserID      any `json:"userId"`
		AnonymousID any `json:"anonymousId"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	for _, v := range []any{b.UserID, b.AnonymousID} {
		switch x := v.(type) {
		case string:
			if x != "" {
				return x
			}
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	return ""
}
