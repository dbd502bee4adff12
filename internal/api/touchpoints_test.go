package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/store"
)

// TestTouchpointsAPI: catalogue CRUD with bad input refused and nothing
// changed, the audit trail, the matrix's parameters, proposals, and a read
// key that may look but not change; on both stores.
func TestTouchpointsAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		srv, st, key := setup(t, st)
		code, m := do(t, srv, "POST", "/api/touchpoints", key, `{"name":"Hotline","channel":"phone","stage":"service","cost":4.5,
			"rules":[{"source":"Call centre","event":"Call Completed"}]}`)
		if code != 201 || m["costMicros"].(float64) != 4_500_000 || m["status"] != "active" || m["media"] != "owned" {
			t.Fatalf("create: %d %v", code, m)
		}
		id := m["id"].(string)
		for _, tc := range []struct{ method, path, body, want string }{
			{"POST", "/api/touchpoints", `{"name":"Hotline"}`, "already exists"},
			{"POST", "/api/touchpoints", `{"channel":"web"}`, "name is required"},
			{"POST", "/api/touchpoints", `{"name":"X","channel":"pigeon"}`, "channel"},
			{"POST", "/api/touchpoints", `{"name":"X","rules":[{}]}`, "at least one condition"},
			{"POST", "/api/touchpoints", `{"name":"X","rules":[{"pathPattern":"[x"}]}`, "pathPattern"},
			{"POST", "/api/touchpoints", `{"name":"X","cost":-1}`, "cost"},
			{"POST", "/api/touchpoints", `{"name":"X","extra":1}`, "unknown field"},
			{"PATCH", "/api/touchpoints/" + id, `{"name":"Y","version":7}`, "changed by someone else"},
			{"PATCH", "/api/touchpoints/nope", `{"name":"Y"}`, "not found"},
			{"GET", "/api/touchpoints/matrix?segment=everyone", ``, "segment"},
			{"GET", "/api/touchpoints/matrix?importance=felt", ``, "importance"},
			{"GET", "/api/touchpoints/matrix?from=2026-05-01&to=2026-04-01", ``, "before"},
			{"GET", "/api/touchpoints/matrix?compareFrom=2026-01-01", ``, "both"},
			{"POST", "/api/touchpoints/proposals/ignore", `{"key":"event|x|y"}`, "not found"},
			{"POST", "/api/touchpoints/proposals/merge", `{"key":"event|x|y"}`, "touchpoint is required"},
		} {
			code, m := do(t, srv, tc.method, tc.path, key, tc.body)
			if code/100 != 4 || !strings.Contains(fmt.Sprint(m["error"]), tc.want) {
				t.Errorf("%s %s %s: %d %v, want an error with %q", tc.method, tc.path, tc.body, code, m, tc.want)
			}
		}
		_, m = do(t, srv, "GET", "/api/touchpoints", key, "")
		if l := m["touchpoints"].([]any); len(l) != 1 || l[0].(map[string]any)["name"] != "Hotline" {
			t.Fatalf("after refused input: %v", m)
		}
		code, m = do(t, srv, "PATCH", "/api/touchpoints/"+id, key, `{"status":"retired","version":1}`)
		if code != 200 || m["status"] != "retired" || m["version"].(float64) != 2 {
			t.Fatalf("patch: %d %v", code, m)
		}
		for _, path := range []string{"/api/touchpoints/matrix?from=2026-01-01&to=2026-03-31&segment=tier:high&compareFrom=2025-01-01&compareTo=2025-03-31",
			"/api/touchpoints/figures?segment=trait:country=de", "/api/touchpoints/journey", "/api/touchpoints/progress", "/api/touchpoints/proposals",
			"/api/touchpoints/" + id + "/events"} {
			if code, m := do(t, srv, "GET", path, key, ""); code != 200 {
				t.Errorf("GET %s: %d %v", path, code, m)
			}
		}
		_, m = do(t, srv, "GET", "/api/touchpoints/figures", key, "")
		if f := m["touchpoints"].([]any)[0].(map[string]any); f["reach"].(float64) != 0 || f["performance"] != nil || f["performanceBasis"] != "none" {
			t.Errorf("figures without events: %v", f)
		}
		_, m = do(t, srv, "GET", "/api/audit?action=touchpoint.update", key, "")
		if fmt.Sprint(m) == "" || !strings.Contains(fmt.Sprint(m), id) {
			t.Errorf("audit: %v", m)
		}
		// A read-only key sees the matrix but may not change the catalogue.
		_, m = do(t, srv, "POST", "/api/apikeys", key, `{"name":"Reporting","scopes":["read"]}`)
		ro := m["key"].(string)
		if code, _ := do(t, srv, "GET", "/api/touchpoints/matrix", ro, ""); code != 200 {
			t.Errorf("read key, matrix: %d", code)
		}
		if code, _ := do(t, srv, "POST", "/api/touchpoints", ro, `{"name":"Z"}`); code != 403 {
			t.Errorf("read key, create: %d", code)
		}
		req, _ := http.NewRequest("DELETE", srv.URL+"/api/touchpoints/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
			t.Fatalf("delete: %v %v", resp, err)
		}
		if code, _ := do(t, srv, "GET", "/api/touchpoints/"+id, key, ""); code != 404 {
			t.Errorf("deleted: %d", code)
		}
	})
}
