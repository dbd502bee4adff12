package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/kunding/kunding/internal/audit"
)

// auditPage is how many entries the audit log page shows at once.
const auditPage = 50

type auditData struct {
	page
	Actor, Action, Target string
	Actions               []string // known actions, for the filter's suggestions
	Entries               []auditRow
	Error                 string
	Next                  string // URL of the next (older) page
	Paged                 bool   // not the newest page
}

type auditRow struct {
	audit.Entry
	Time, ISO string
}

// auditLog shows the newest audit entries, filtered by actor, action and
// target, paged backwards by entry id.
func (h *Handler) auditLog(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "audit.title", "audit")
	q := r.URL.Query()
	d := auditData{page: p, Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"),
		Actions: []string{audit.CustomerView, audit.CustomerSearch, audit.CustomerExport, audit.CustomerErase,
			audit.UserCreate, audit.UserUpdate, audit.DepartmentCreate, audit.APIKeyCreate, audit.APIKeyRevoke,
			audit.SourceCreate, audit.SourceRotateKey, audit.Login, audit.LoginFailed, audit.Logout}}
	// Only the form's fields (and the page cursor) are read.
	in := url.Values{}
	for _, k := range []string{"actor", "action", "target", "before"} {
		if v := q.Get(k); v != "" {
			in.Set(k, v)
		}
	}
	f, err := audit.ParseFilter(in)
	if err != nil {
		switch {
		case d.Action != "" && !validAction(d.Action):
			d.Error = p.L.T("audit.errAction")
		default:
			d.Error = p.L.T("audit.errFilter")
		}
		h.render(w, r, http.StatusBadRequest, "audit", d)
		return
	}
	f.Limit = auditPage
	d.Paged = f.Before > 0
	es, err := audit.List(r.Context(), h.cfg.Store, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, e := range es {
		t := e.At.In(h.cfg.Location)
		d.Entries = append(d.Entries, auditRow{Entry: e, Time: p.L.DateTime(t), ISO: t.Format("2006-01-02T15:04:05Z07:00")})
	}
	if len(es) == auditPage {
		in.Set("before", strconv.FormatInt(es[len(es)-1].ID, 10))
		d.Next = "/audit?" + in.Encode()
	}
	h.render(w, r, http.StatusOK, "audit", d)
}

// validAction reports whether a filter's action parses on its own.
func validAction(a string) bool {
	_, err := audit.ParseFilter(url.Values{"action": {a}})
	return err == nil
}
