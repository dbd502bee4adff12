package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/api"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
)

// eachStore runs a test on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, st store.Store)) { storetest.EachStore(t, fn) }

func setup(t *testing.T, st store.Store) (*httptest.Server, store.Store, string) {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	key, err := auth.EnsureAdminKey(context.Background(), st)
	if err != nil || key == "" {
		t.Fatalf("admin key: %q %v", key, err)
	}
	mux := http.NewServeMux()
	(&api.API{Store: st, Log: nil}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, st, key
}

func do(t *testing.T, srv *httptest.Server, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %s", method, path, b)
	}
	return resp.StatusCode, m
}

var param = regexp.MustCompile(`\{[a-z]+\}`)

// TestEveryRouteNeedsTheKey walks every registered route anonymously and
// with wrong credentials of every kind: no header, a wrong bootstrap key, a
// wrong or revoked API key, another auth scheme, a forged session cookie.
// Every one is refused with 401 and a JSON error.
func TestEveryRouteNeedsTheKey(t *testing.T) {
	eachStore(t, everyRouteNeedsTheKey)
}

func everyRouteNeedsTheKey(t *testing.T, st store.Store) {
	srv, _, _ := setup(t, st)
	svc := auth.NewService(st, auth.Options{})
	k, revoked, err := svc.CreateAPIKey(context.Background(), "revoked", []auth.Scope{auth.ScopeRead, auth.ScopeWrite, auth.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RevokeAPIKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	routes := api.Routes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes: the walk would prove little", len(routes))
	}
	routes = append(routes, api.Route{Method: "GET", Pattern: "/api/unknown"}, api.Route{Method: "DELETE", Pattern: "/api/"})
	creds := []map[string]string{
		{},
		{"Authorization": "Bearer kdg_admin_wrong"},
		{"Authorization": "Bearer kdg_key_wrong"},
		{"Authorization": "Bearer " + revoked},
		{"Authorization": "Bearer "},
		{"Authorization": "Basic YWRtaW46YWRtaW4="},
		{"Cookie": auth.SessionCookie + "=forged-session-token"},
		{"Cookie": auth.SessionCookie + "="},
	}
	for _, r := range routes {
		path := param.ReplaceAllString(r.Pattern, "x")
		for _, hdr := range creds {
			code, m := doHeaders(t, srv, r.Method, path, hdr, "{}")
			if code != http.StatusUnauthorized || m["error"] == nil || m["error"] == "" {
				t.Errorf("%s %s with %v: %d %v, want 401 with error", r.Method, path, hdr, code, m)
			}
		}
	}
}

// doHeaders is do with arbitrary request headers.
func doHeaders(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %s", method, path, b)
	}
	return resp.StatusCode, m
}

// TestOpenAPIMatchesRoutes keeps openapi.json true: every route documented,
// nothing documented that does not exist.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Permission auth.Permission `json:"x-kunding-permission"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var documented, registered []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	for _, r := range api.Routes() {
		registered = append(registered, r.Method+" "+r.Pattern)
		if got := doc.Paths[r.Pattern][strings.ToLower(r.Method)].Permission; got != r.Perm {
			t.Errorf("%s %s: openapi.json says x-kunding-permission %q, the route needs %q", r.Method, r.Pattern, got, r.Perm)
		}
	}
	sort.Strings(documented)
	sort.Strings(registered)
	if fmt.Sprint(documented) != fmt.Sprint(registered) {
		t.Fatalf("openapi.json documents\n%v\nbut the API registers\n%v", documented, registered)
	}
}

func TestSourcesAndCustomers(t *testing.T) {
	eachStore(t, sourcesAndCustomers)
}

func sourcesAndCustomers(t *testing.T, st store.Store) {
	srv, st, key := setup(t, st)
	code, m := do(t, srv, "POST", "/api/sources", key, `{"name":"Web shop","kind":"shop"}`)
	if code != 201 || !strings.HasPrefix(fmt.Sprint(m["writeKey"]), "wk_") {
		t.Fatalf("create source: %d %v", code, m)
	}
	srcID := m["id"].(string)
	for _, tc := range []struct{ body, want string }{
		{`{"name":"Web shop","kind":"shop"}`, "already exists"},
		{`{"name":"","kind":"shop"}`, "name"},
		{`{"name":"X","kind":"spaceship"}`, "kind"},
		{`{"name":"X","kind":"web","extra":1}`, "unknown field"},
		{`not json`, "invalid JSON"},
	} {
		code, m := do(t, srv, "POST", "/api/sources", key, tc.body)
		if code/100 != 4 || !strings.Contains(fmt.Sprint(m["error"]), tc.want) {
			t.Errorf("POST %s: %d %v, want 4xx mentioning %q", tc.body, code, m, tc.want)
		}
	}
	code, m = do(t, srv, "GET", "/api/sources", key, "")
	if code != 200 || len(m["sources"].([]any)) != 1 {
		t.Fatalf("list sources: %d %v", code, m)
	}

	// Two events for one person, through the store and the pipeline.
	now := time.Now()
	var recs []store.Record
	for i, raw := range []string{
		`{"type":"identify","userId":"u-1","anonymousId":"a-1","traits":{"name":"Jo Doe","email":"jo@example.org"}}`,
		`{"type":"track","anonymousId":"a-1","event":"Order Completed","properties":{"revenue":42.5}}`,
	} {
		e, err := event.Parse([]byte(raw), "", event.Envelope{ReceivedAt: now.Add(time.Duration(i) * time.Second)}, func() string { return fmt.Sprint("m", i) })
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(e)
		recs = append(recs, store.Record{SourceID: srcID, Event: e, Body: b})
	}
	if _, err := st.Append(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if _, err := (&pipeline.Pipeline{Store: st}).Drain(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	code, m = do(t, srv, "GET", "/api/customers?q=jo@example.org", key, "")
	cs := m["customers"].([]any)
	if code != 200 || len(cs) != 1 {
		t.Fatalf("search: %d %v", code, m)
	}
	id := cs[0].(map[string]any)["id"].(string)
	code, m = do(t, srv, "GET", "/api/customers/"+id, key, "")
	if code != 200 || m["name"] != "Jo Doe" || m["revenue"] != 42.5 || m["orders"] != 1.0 || len(m["identities"].([]any)) != 3 {
		t.Fatalf("customer: %d %v", code, m)
	}
	code, m = do(t, srv, "GET", "/api/customers/"+id+"/timeline?limit=1", key, "")
	evs := m["events"].([]any)
	if code != 200 || len(evs) != 1 || evs[0].(map[string]any)["name"] != "Order Completed" || m["next"] == nil {
		t.Fatalf("timeline page 1: %d %v", code, m)
	}
	if evs[0].(map[string]any)["sourceName"] != "Web shop" {
		t.Fatalf("timeline source: %v", evs[0])
	}
	code, m = do(t, srv, "GET", "/api/customers/"+id+"/timeline?limit=1&before="+m["next"].(string), key, "")
	evs = m["events"].([]any)
	if code != 200 || len(evs) != 1 || evs[0].(map[string]any)["type"] != "identify" {
		t.Fatalf("timeline page 2: %d %v", code, m)
	}
	for _, p := range []string{"/api/customers", "/api/customers?q=x&limit=0", "/api/customers/" + id + "/timeline?before=zz", "/api/customers/" + id + "/timeline?limit=9999"} {
		if code, m := do(t, srv, "GET", p, key, ""); code != 400 || m["error"] == "" {
			t.Errorf("GET %s: %d %v, want 400 with error", p, code, m)
		}
	}
	if code, m := do(t, srv, "GET", "/api/customers/nobody", key, ""); code != 404 || !strings.Contains(fmt.Sprint(m["error"]), "not found") {
		t.Errorf("unknown customer: %d %v", code, m)
	}
	if code, _ := do(t, srv, "GET", "/api/sources/"+srcID+"/rejected", key, ""); code != 200 {
		t.Errorf("rejected list: %d", code)
	}
	if code, m := do(t, srv, "GET", "/api/stats", key, ""); code != 200 || m["customers"] != 1.0 || m["events"] != 2.0 {
		t.Errorf("stats: %d %v", code, m)
	}
}
