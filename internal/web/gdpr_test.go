package web_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/store"
)

func TestGDPR(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		id := a.anna(3)
		agent := a.client("en")
		agent.login("agent@kunding.test")
		p := agent.get("/customers/" + id)
		mustNotContain(t, p, `id="gdpr-export"`, `id="erase-form"`)
		if p := agent.get("/customers/" + id + "/export"); p.Code != http.StatusForbidden {
			t.Fatalf("agent export = %d", p.Code)
		}
		if p := agent.post("/customers/"+id+"/erase", url.Values{"csrf_token": {agent.csrf(p)}, "confirm": {id}}); p.Code != http.StatusForbidden {
			t.Fatalf("agent erase = %d", p.Code)
		}

		c := a.client("en")
		c.login("admin@kunding.test")
		p = c.get("/customers/" + id)
		mustContain(t, p, `href="/customers/`+id+`/export"`, `id="erase-form"`, "Download all data (JSON)")
		x := c.get("/customers/" + id + "/export")
		if x.Code != 200 || !strings.HasPrefix(x.Header.Get("Content-Type"), "application/json") ||
			!strings.HasPrefix(x.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("export = %d %v", x.Code, x.Header)
		}
		mustContain(t, x, id, "C-1001", "anna@example.de", "dev-anna")
		if es, err := a.Srv.Store.AuditEntries(ctx, store.AuditFilter{Action: "customer.export", Target: id, Limit: 10}); err != nil || len(es) != 1 || es[0].Actor == "" {
			t.Fatalf("export audit = %+v %v", es, err)
		}

		// A wrong confirmation erases nothing.
		tok := c.csrf(p)
		p = c.post("/customers/"+id+"/erase", url.Values{"csrf_token": {tok}, "confirm": {"C-1001"}})
		if p.Code != http.StatusBadRequest {
			t.Fatalf("wrong confirmation = %d", p.Code)
		}
		mustContain(t, p, `id="erase-error"`, "Nothing was erased")
		if _, err := a.Srv.Store.Customer(ctx, id); err != nil {
			t.Fatalf("customer after wrong confirmation: %v", err)
		}

		de := a.client("de")
		de.login("admin@kunding.test")
		p = de.get("/customers/" + id)
		mustContain(t, p, "Alle Daten herunterladen (JSON)", "Kunden löschen")
		p = de.post("/customers/"+id+"/erase", url.Values{"csrf_token": {de.csrf(p)}, "confirm": {""}})
		mustContain(t, p, "Nichts wurde gelöscht")

		p = c.post("/customers/"+id+"/erase", url.Values{"csrf_token": {tok}, "confirm": {id}})
		if p.Code != 200 {
			t.Fatalf("erase = %d:\n%s", p.Code, p.Body)
		}
		mustContain(t, p, `id="erased"`, id, "Orders", "<td class=\"num\">3</td>")
		mustNotContain(t, p, "Anna", "anna@example.de", "C-1001")
		if _, err := a.Srv.Store.Customer(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("customer after erasure: %v", err)
		}
		if es, err := a.Srv.Store.AuditEntries(ctx, store.AuditFilter{Action: "customer.erase", Target: id, Limit: 10}); err != nil || len(es) != 1 {
			t.Fatalf("erase audit = %+v %v", es, err)
		}
		if p := c.get("/customers/" + id); p.Code != http.StatusNotFound {
			t.Fatalf("erased customer page = %d", p.Code)
		}
	})
}
