package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
)

func TestCasesAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		srv, st, key := setup(t, st)
		ctx := context.Background()
		src, err := source.Create(ctx, st, "Shop", "shop")
		if err != nil {
			t.Fatal(err)
		}
		ev := event.Event{Type: "identify", MessageID: "m1", UserID: "C-1", Traits: json.RawMessage(`{"name":"Anna"}`), Timestamp: time.Now(), ReceivedAt: time.Now()}
		body, _ := json.Marshal(ev)
		if _, err := st.Append(ctx, []store.Record{{SourceID: src.ID, Event: ev, Body: body}}); err != nil {
			t.Fatal(err)
		}
		if _, err := (&pipeline.Pipeline{Store: st}).Drain(ctx, nil); err != nil {
			t.Fatal(err)
		}
		p, _ := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "C-1"})
		cust := p.CustomerID

		code, m := do(t, srv, "POST", "/api/cases", key, fmt.Sprintf(`{"customerId":%q,"type":"complaint","channel":"phone","subject":"Parcel lost","theme":"delivery"}`, cust))
		if code != http.StatusCreated || m["status"] != "new" || m["department"] != "Service" || m["resolutionDue"] == nil {
			t.Fatalf("create: %d %v", code, m)
		}
		id := m["id"].(string)
		for _, bad := range []string{`{"type":"complaint","subject":"x"}`, `{"customerId":"nobody","type":"complaint","subject":"x"}`,
			`{"type":"gripe","contact":"x","subject":"x"}`, `{"type":"complaint","contact":"x","subject":"x","bogus":1}`, `not json`} {
			if code, m := do(t, srv, "POST", "/api/cases", key, bad); code != http.StatusBadRequest || m["error"] == "" {
				t.Errorf("create %s: %d %v", bad, code, m)
			}
		}
		code, m = do(t, srv, "GET", "/api/cases/"+id, key, "")
		if code != 200 || len(m["history"].([]any)) != 3 || m["case"].(map[string]any)["id"] != id || len(m["allowedStatuses"].([]any)) != 6 {
			t.Fatalf("get: %d %v", code, m)
		}
		if code, _ := do(t, srv, "GET", "/api/cases/case_nothing", key, ""); code != 404 {
			t.Errorf("get unknown: %d", code)
		}
		// Version is required; a stale one is a conflict.
		if code, m := do(t, srv, "POST", "/api/cases/"+id+"/transition", key, `{"status":"open"}`); code != 400 || !strings.Contains(m["error"].(string), "version") {
			t.Errorf("no version: %d %v", code, m)
		}
		if code, _ := do(t, srv, "POST", "/api/cases/"+id+"/transition", key, `{"version":5,"status":"open"}`); code != 409 {
			t.Errorf("stale: %d", code)
		}
		if code, m := do(t, srv, "POST", "/api/cases/"+id+"/transition", key, `{"version":0,"status":"solved"}`); code != 400 || !strings.Contains(m["error"].(string), "resolution") {
			t.Errorf("solve without note: %d %v", code, m)
		}
		code, m = do(t, srv, "POST", "/api/cases/"+id+"/assign", key, `{"version":0,"department":"Logistik","reason":"carrier"}`)
		if code != 200 || m["department"] != "Logistik" || m["version"] != 1.0 {
			t.Fatalf("assign: %d %v", code, m)
		}
		if code, _ := do(t, srv, "POST", "/api/cases/"+id+"/notes", key, `{"text":"Called the carrier","public":false}`); code != 201 {
			t.Errorf("note: %d", code)
		}
		if code, _ := do(t, srv, "PATCH", "/api/cases/"+id, key, `{"version":1,"priority":"high","reason":"VIP"}`); code != 200 {
			t.Errorf("patch: %d", code)
		}
		code, m = do(t, srv, "GET", "/api/cases?department=Logistik&open=true", key, "")
		if code != 200 || m["total"] != 1.0 {
			t.Errorf("list: %d %v", code, m)
		}
		if code, m := do(t, srv, "GET", "/api/cases?status=bogus", key, ""); code != 400 {
			t.Errorf("list bad status: %d %v", code, m)
		}
		code, m = do(t, srv, "GET", "/api/customers/"+cust+"/cases", key, "")
		if code != 200 || m["total"] != 1.0 {
			t.Errorf("customer cases: %d %v", code, m)
		}
		code, m = do(t, srv, "POST", "/api/cases/"+id+"/transition", key, `{"version":2,"status":"solved","resolution":"New parcel sent"}`)
		if code != 200 || m["status"] != "solved" {
			t.Fatalf("solve: %d %v", code, m)
		}
		if code, _ := do(t, srv, "POST", "/api/cases/"+id+"/transition", key, `{"version":3,"status":"waiting_customer"}`); code != 409 {
			t.Errorf("solved -> waiting: %d", code)
		}
		code, m = do(t, srv, "GET", "/api/customers/"+cust+"/cases", key, "")
		if code != 200 || m["total"] != 0.0 {
			t.Errorf("open customer cases after solve: %d %v", code, m)
		}
		code, m = do(t, srv, "GET", "/api/cases/figures?interval=day", key, "")
		if code != 200 || m["total"].(map[string]any)["solved"] != 1.0 || len(m["series"].([]any)) < 30 {
			t.Errorf("figures: %d %v", code, m)
		}
		if code, _ := do(t, srv, "GET", "/api/cases/figures?from=yesterday", key, ""); code != 400 {
			t.Errorf("figures bad from: %d", code)
		}
		// Configuration: read the default, replace it, stale version refused.
		code, m = do(t, srv, "GET", "/api/cases/config/routing", key, "")
		if code != 200 || m["version"] != 0.0 || m["config"].(map[string]any)["defaultDepartment"] != "Service" {
			t.Fatalf("routing: %d %v", code, m)
		}
		put := `{"version":0,"config":{"defaultDepartment":"Service","rules":[{"id":"app","when":{"channels":["app"]},"then":{"department":"Digital"}}]}}`
		if code, m := do(t, srv, "PUT", "/api/cases/config/routing", key, put); code != 200 || m["version"] != 1.0 {
			t.Fatalf("put routing: %d %v", code, m)
		}
		if code, _ := do(t, srv, "PUT", "/api/cases/config/routing", key, put); code != 409 {
			t.Errorf("stale config: %d", code)
		}
		if code, _ := do(t, srv, "PUT", "/api/cases/config/sla", key, `{"version":0,"config":{"calendars":[],"policies":[]}}`); code != 400 {
			t.Errorf("sla without default calendar: %d", code)
		}
		code, m = do(t, srv, "POST", "/api/cases", key, `{"contact":"walk-in","type":"request","channel":"app","subject":"Login fails"}`)
		if code != 201 || m["department"] != "Digital" {
			t.Errorf("routed by the new rule: %d %v", code, m)
		}
		code, m = do(t, srv, "GET", "/api/cases/holidays?year=2026&state=NW", key, "")
		if code != 200 || len(m["holidays"].([]any)) != 11 {
			t.Errorf("holidays: %d %v", code, m)
		}
		if code, m := do(t, srv, "POST", "/api/cases/escalate", key, ""); code != 200 || m["checked"] == nil {
			t.Errorf("escalate: %d %v", code, m)
		}
		code, m = do(t, srv, "GET", "/api/cases/overview", key, "")
		if code != 200 || len(m["departments"].([]any)) != 1 {
			t.Errorf("overview: %d %v", code, m)
		}
		// A read-only key reads but does not change; configuration needs admin.
		svc := auth.NewService(st, auth.Options{})
		_, readKey, err := svc.CreateAPIKey(ctx, "reader", []auth.Scope{auth.ScopeRead})
		if err != nil {
			t.Fatal(err)
		}
		_, writeKey, _ := svc.CreateAPIKey(ctx, "writer", []auth.Scope{auth.ScopeRead, auth.ScopeWrite})
		if code, _ := do(t, srv, "GET", "/api/cases", readKey, ""); code != 200 {
			t.Errorf("read key list: %d", code)
		}
		if code, _ := do(t, srv, "POST", "/api/cases", readKey, `{"contact":"x","type":"idea","subject":"x"}`); code != 403 {
			t.Errorf("read key create: %d", code)
		}
		if code, _ := do(t, srv, "POST", "/api/cases", writeKey, `{"contact":"x","type":"idea","subject":"x"}`); code != 201 {
			t.Errorf("write key create: %d", code)
		}
		if code, _ := do(t, srv, "PUT", "/api/cases/config/routing", writeKey, put); code != 403 {
			t.Errorf("write key config: %d", code)
		}
		// There is no way to delete a case.
		if code, _ := do(t, srv, "DELETE", "/api/cases/"+id, key, ""); code != 404 && code != 405 {
			t.Errorf("delete: %d", code)
		}
	})
}
