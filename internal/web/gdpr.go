package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/gdpr"
	"github.com/kunding/kunding/internal/web/i18n"
)

// exportCustomer downloads everything Kunding holds about a customer as
// JSON (GDPR Art. 15 and 20); gdpr.Export records it in the audit log.
func (h *Handler) exportCustomer(w http.ResponseWriter, r *http.Request) {
	doc, err := gdpr.Export(r.Context(), h.cfg.Store, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="kunding-export-%s.json"`, doc.CustomerID))
	w.Write(append(b, '\n'))
}

type erasedData struct {
	page
	CustomerID string
	Customers  int
	Counts     []kv
}

// eraseCustomer erases a customer (GDPR Art. 17) once the customer id has
// been typed as confirmation; gdpr.Erase records it in the audit log. The
// result page shows counts only, nothing about the person.
func (h *Handler) eraseCustomer(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id := r.PathValue("id")
	l := i18n.FromRequest(r)
	if strings.TrimSpace(r.PostFormValue("confirm")) != id {
		h.renderCustomer(w, r, http.StatusBadRequest, l.T("gdpr.errConfirm", id))
		return
	}
	rep, err := gdpr.Erase(r.Context(), h.cfg.Store, id, gdpr.EraseOptions{Wait: 10 * time.Second, Before: h.cfg.BeforeErase})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "gdpr.erasedTitle", "customers")
	d := erasedData{page: p, CustomerID: rep.CustomerID, Customers: len(rep.Customers)}
	for _, c := range []struct {
		key string
		n   int64
	}{{"gdpr.identifiers", rep.Identifiers}, {"gdpr.events", rep.Events}, {"gdpr.timeline", rep.Timeline},
		{"gdpr.orders", rep.Orders}, {"gdpr.profiles", rep.Profiles}, {"gdpr.merges", rep.Merges},
		{"gdpr.conflicts", rep.Conflicts}, {"gdpr.rejected", rep.Rejected}, {"gdpr.reprofiled", int64(len(rep.Reprofiled))}} {
		d.Counts = append(d.Counts, kv{l.T(c.key), l.Number(float64(c.n), 0)})
	}
	h.render(w, r, http.StatusOK, "erased", d)
}
