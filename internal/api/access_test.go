package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/api"
	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

const pw = "a long enough password"

// accessSetup serves the API with a test login route (the web app's job)
// on the same auth service.
func accessSetup(t *testing.T, st store.Store) (*httptest.Server, *auth.Service) {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	svc := auth.NewService(st, auth.Options{})
	mux := http.NewServeMux()
	(&api.API{Store: st, Auth: svc}).Register(mux)
	mux.HandleFunc("POST /test-login", func(w http.ResponseWriter, r *http.Request) {
		if _, err := svc.Login(w, r, r.PostFormValue("email"), r.PostFormValue("password")); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	})
	srv := httptest.NewServer(svc.Middleware(mux))
	t.Cleanup(srv.Close)
	return srv, svc
}

// session is a logged-in browser with its CSRF token.
type session struct {
	c     *http.Client
	token string
}

func login(t *testing.T, srv *httptest.Server, email string) *session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(srv.URL+"/test-login", map[string][]string{"email": {email}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login %s: %d", email, resp.StatusCode)
	}
	s := &session{c: c}
	code, m := s.do(t, srv, "GET", "/api/me", "", false)
	if code != 200 || m["csrfToken"] == nil {
		t.Fatalf("/api/me: %d %v", code, m)
	}
	s.token = m["csrfToken"].(string)
	return s
}

func (s *session) do(t *testing.T, srv *httptest.Server, method, path, body string, csrf bool) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if csrf {
		req.Header.Set(auth.CSRFHeader, s.token)
	}
	resp, err := s.c.Do(req)
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

// TestPermissionsOfEveryRoute walks every route as a user of every role and
// with an API key of every scope: what the permission table forbids is 403,
// what it allows gets past authorisation.
func TestPermissionsOfEveryRoute(t *testing.T) { eachStore(t, permissionsOfEveryRoute) }

func permissionsOfEveryRoute(t *testing.T, st store.Store) {
	srv, svc := accessSetup(t, st)
	ctx := context.Background()
	sessions := map[auth.Role]*session{}
	for _, role := range auth.Roles {
		email := string(role) + "@example.org"
		if _, err := svc.CreateUser(ctx, auth.NewUser{Email: email, Name: string(role), Role: string(role), Department: "Sales", Password: pw}); err != nil {
			t.Fatal(err)
		}
		sessions[role] = login(t, srv, email)
	}
	keys := map[auth.Scope]string{}
	for _, sc := range auth.Scopes {
		_, key, err := svc.CreateAPIKey(ctx, "only "+string(sc), []auth.Scope{sc})
		if err != nil {
			t.Fatal(err)
		}
		keys[sc] = key
	}
	allowedCode := func(code int) bool { return code != 401 && code != 403 }
	for _, r := range api.Routes() {
		path := param.ReplaceAllString(r.Pattern, "x")
		for role, s := range sessions {
			code, m := s.do(t, srv, r.Method, path, "{}", true)
			if want := auth.RoleCan(role, r.Perm); want != allowedCode(code) || !want && code != 403 {
				t.Errorf("%s %s as %s: %d %v; permission %s allowed=%v", r.Method, path, role, code, m, r.Perm, want)
			}
		}
		for sc, key := range keys {
			code, m := do(t, srv, r.Method, path, key, "{}")
			need := auth.PermissionScope(r.Perm)
			if want := need == "" || need == sc; want != allowedCode(code) || !want && code != 403 {
				t.Errorf("%s %s with a %s key: %d %v; needs scope %q", r.Method, path, sc, code, m, need)
			}
		}
	}
	// A session's changes need the CSRF token; an API key's do not.
	admin := sessions[auth.RoleAdmin]
	if code, m := admin.do(t, srv, "POST", "/api/departments", `{"name":"Finance"}`, false); code != 403 || !strings.Contains(fmt.Sprint(m["error"]), "CSRF") {
		t.Errorf("session POST without CSRF token: %d %v", code, m)
	}
	if code, m := admin.do(t, srv, "POST", "/api/departments", `{"name":"Finance"}`, true); code != 201 {
		t.Errorf("session POST with CSRF token: %d %v", code, m)
	}
	_, adminKey, _ := svc.CreateAPIKey(ctx, "admin", []auth.Scope{auth.ScopeAdmin})
	if code, m := do(t, srv, "POST", "/api/departments", adminKey, `{"name":"Legal"}`); code != 201 {
		t.Errorf("API key POST without CSRF token: %d %v", code, m)
	}
}

// TestBootstrapKeyRetires: the admin key of the first start works until an
// admin user exists, then it is refused with a message that says why.
func TestBootstrapKeyRetires(t *testing.T) { eachStore(t, bootstrapKeyRetires) }

func bootstrapKeyRetires(t *testing.T, st store.Store) {
	srv, _, boot := setup(t, st)
	if code, m := do(t, srv, "GET", "/api/me", boot, ""); code != 200 || m["bootstrapKey"] != true {
		t.Fatalf("bootstrap key: %d %v", code, m)
	}
	// A non-admin user does not retire it.
	if code, m := do(t, srv, "POST", "/api/users", boot, `{"email":"agent@example.org","name":"A","role":"agent","department":"Service","password":"`+pw+`"}`); code != 201 {
		t.Fatalf("create agent: %d %v", code, m)
	}
	if code, _ := do(t, srv, "GET", "/api/stats", boot, ""); code != 200 {
		t.Fatalf("bootstrap key after an agent exists: %d", code)
	}
	code, m := do(t, srv, "POST", "/api/apikeys", boot, `{"name":"ops","scopes":["read","write","admin"]}`)
	if code != 201 || !strings.HasPrefix(fmt.Sprint(m["key"]), auth.APIKeyPrefix) {
		t.Fatalf("create API key: %d %v", code, m)
	}
	apiKey := m["key"].(string)
	if code, m := do(t, srv, "POST", "/api/users", boot, `{"email":"root@example.org","name":"Root","role":"admin","department":"Logistics","password":"`+pw+`"}`); code != 201 {
		t.Fatalf("create admin: %d %v", code, m)
	}
	code, m = do(t, srv, "GET", "/api/stats", boot, "")
	if code != 401 || !strings.Contains(fmt.Sprint(m["error"]), "bootstrap admin key no longer works because an admin user exists") {
		t.Fatalf("bootstrap key after an admin exists: %d %v", code, m)
	}
	if code, _ := do(t, srv, "GET", "/api/stats", apiKey, ""); code != 200 {
		t.Fatalf("API key after the bootstrap key retired: %d", code)
	}
	// The key's creator is in the audit log under the bootstrap key's name.
	code, m = do(t, srv, "GET", "/api/audit?action=apikey.create", apiKey, "")
	es, _ := m["entries"].([]any)
	if code != 200 || len(es) != 1 || es[0].(map[string]any)["actor"] != "bootstrap-key" {
		t.Fatalf("audit of key creation: %d %v", code, m)
	}
}

// TestUserManagement drives users, departments and API keys through the API
// with bad input refused (400, nothing changed).
func TestUserManagement(t *testing.T) { eachStore(t, userManagement) }

func userManagement(t *testing.T, st store.Store) {
	srv, _, key := setup(t, st)
	code, m := do(t, srv, "POST", "/api/users", key, `{"email":"Anna@Example.org","name":"Anna Agent","role":"agent","department":"service","password":"`+pw+`"}`)
	if code != 201 || m["email"] != "anna@example.org" || m["department"] != "Service" || m["password"] != nil {
		t.Fatalf("create user: %d %v", code, m)
	}
	id := m["id"].(string)
	for _, tc := range []struct{ method, path, body, want string }{
		{"POST", "/api/users", `{"email":"anna@example.org","name":"A","role":"agent","department":"Service","password":"` + pw + `"}`, "already exists"},
		{"POST", "/api/users", `{"email":"b@example.org","name":"B","role":"king","department":"Service","password":"` + pw + `"}`, "role"},
		{"POST", "/api/users", `{"email":"b@example.org","name":"B","role":"agent","department":"Space","password":"` + pw + `"}`, "department"},
		{"POST", "/api/users", `{"email":"b@example.org","name":"B","role":"agent","department":"Service","password":"short"}`, "at least 12"},
		{"POST", "/api/users", `{"email":"b@example.org","name":"B","role":"agent","department":"Service","password":"` + pw + `","admin":true}`, "unknown field"},
		{"PATCH", "/api/users/" + id, `{}`, "nothing to change"},
		{"PATCH", "/api/users/" + id, `{"role":"emperor"}`, "role"},
		{"PATCH", "/api/users/nobody", `{"role":"cco"}`, "not found"},
		{"POST", "/api/apikeys", `{"name":"x","scopes":["root"]}`, "scope"},
		{"POST", "/api/apikeys", `{"name":"x","scopes":[]}`, "scope"},
		{"POST", "/api/departments", `{"name":"Sales"}`, "already exists"},
		{"POST", "/api/departments", `{"name":""}`, "department"},
		{"DELETE", "/api/apikeys/nokey", ``, "not found"},
		{"GET", "/api/audit?limit=0", ``, "limit"},
		{"GET", "/api/audit?since=yesterday", ``, "since"},
		{"GET", "/api/audit?colour=red", ``, "unknown parameter"},
	} {
		code, m := do(t, srv, tc.method, tc.path, key, tc.body)
		if code/100 != 4 || !strings.Contains(fmt.Sprint(m["error"]), tc.want) {
			t.Errorf("%s %s %s: %d %v, want 4xx mentioning %q", tc.method, tc.path, tc.body, code, m, tc.want)
		}
	}
	if _, m := do(t, srv, "GET", "/api/users", key, ""); len(m["users"].([]any)) != 1 {
		t.Fatalf("users after refused creations: %v", m)
	}
	code, m = do(t, srv, "PATCH", "/api/users/"+id, key, `{"role":"lead","department":"Sales"}`)
	if code != 200 || m["role"] != "lead" || m["department"] != "Sales" {
		t.Fatalf("change role: %d %v", code, m)
	}
	code, m = do(t, srv, "PATCH", "/api/users/"+id, key, `{"disabled":true}`)
	if code != 200 || m["disabled"] != true {
		t.Fatalf("disable: %d %v", code, m)
	}
	code, m = do(t, srv, "GET", "/api/users/"+id, key, "")
	if code != 200 || m["disabled"] != true || m["role"] != "lead" {
		t.Fatalf("get user: %d %v", code, m)
	}
	// API keys: shown once, listed without the key, revoked at once.
	code, m = do(t, srv, "POST", "/api/apikeys", key, `{"name":"Reporting","scopes":["read"]}`)
	if code != 201 {
		t.Fatalf("create key: %d %v", code, m)
	}
	readKey, keyID := m["key"].(string), m["apiKey"].(map[string]any)["id"].(string)
	_, m = do(t, srv, "GET", "/api/apikeys", key, "")
	if b, _ := json.Marshal(m); strings.Contains(string(b), readKey) || strings.Contains(string(b), "Hash") {
		t.Fatalf("key list shows the key or its hash: %s", b)
	}
	if code, _ := do(t, srv, "GET", "/api/stats", readKey, ""); code != 200 {
		t.Fatalf("read key: %d", code)
	}
	if code, _ := do(t, srv, "POST", "/api/sources", readKey, `{"name":"X","kind":"web"}`); code != 403 {
		t.Fatalf("read key writes: %d", code)
	}
	if code, m := do(t, srv, "DELETE", "/api/apikeys/"+keyID, key, ""); code != 200 {
		t.Fatalf("revoke: %d %v", code, m)
	}
	if code, m := do(t, srv, "GET", "/api/stats", readKey, ""); code != 401 || !strings.Contains(fmt.Sprint(m["error"]), "revoked") {
		t.Fatalf("revoked key: %d %v", code, m)
	}
	// The audit log, filtered and paged.
	code, m = do(t, srv, "GET", "/api/audit?action=user.update&target="+id+"&limit=1", key, "")
	es := m["entries"].([]any)
	if code != 200 || len(es) != 1 || m["next"] == nil || !strings.Contains(fmt.Sprint(es[0].(map[string]any)["detail"]), "disabled") {
		t.Fatalf("audit page 1: %d %v", code, m)
	}
	code, m = do(t, srv, "GET", fmt.Sprintf("/api/audit?action=user.update&target=%s&limit=1&before=%v", id, m["next"]), key, "")
	es = m["entries"].([]any)
	if code != 200 || len(es) != 1 || !strings.Contains(fmt.Sprint(es[0].(map[string]any)["detail"]), "role agent -> lead") {
		t.Fatalf("audit page 2: %d %v", code, m)
	}
	if _, m := do(t, srv, "GET", "/api/audit?since="+time.Now().Add(time.Hour).Format(time.RFC3339), key, ""); len(m["entries"].([]any)) != 0 {
		t.Fatalf("audit since the future: %v", m)
	}
}

// TestCustomerAccessIsAudited: viewing, searching, exporting and erasing a
// customer through the API leave audit entries naming who did it.
func TestCustomerAccessIsAudited(t *testing.T) { eachStore(t, customerAccessIsAudited) }

func customerAccessIsAudited(t *testing.T, st store.Store) {
	srv, svc := accessSetup(t, st)
	ctx := context.Background()
	for _, u := range []struct{ email, role string }{{"agent@example.org", "agent"}, {"cco@example.org", "cco"}} {
		if _, err := svc.CreateUser(ctx, auth.NewUser{Email: u.email, Name: u.role, Role: u.role, Department: "Service", Password: pw}); err != nil {
			t.Fatal(err)
		}
	}
	agent, cco := login(t, srv, "agent@example.org"), login(t, srv, "cco@example.org")
	agentUser, _ := st.UserByEmail(ctx, "agent@example.org")
	ccoUser, _ := st.UserByEmail(ctx, "cco@example.org")

	src := store.Source{ID: "src_t", Name: "Shop", Kind: "shop", WriteKey: "wk_t", CreatedAt: time.Now()}
	if err := st.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	e, err := event.Parse([]byte(`{"type":"identify","userId":"u-9","traits":{"name":"Jo Doe","email":"jo@example.org"}}`), "", event.Envelope{ReceivedAt: time.Now()}, func() string { return "m1" })
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(e)
	if _, err := st.Append(ctx, []store.Record{{SourceID: src.ID, Event: e, Body: b}}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&pipeline.Pipeline{Store: st}).Drain(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, m := agent.do(t, srv, "GET", "/api/customers?q=jo@example.org", "", false)
	id := m["customers"].([]any)[0].(map[string]any)["id"].(string)
	if code, _ := agent.do(t, srv, "GET", "/api/customers/"+id, "", false); code != 200 {
		t.Fatal("view")
	}
	if code, _ := agent.do(t, srv, "GET", "/api/customers/"+id+"/timeline", "", false); code != 200 {
		t.Fatal("timeline")
	}
	// Agents may not export or erase; the CCO may.
	if code, _ := agent.do(t, srv, "GET", "/api/customers/"+id+"/export", "", false); code != 403 {
		t.Fatalf("agent export: %d", code)
	}
	code, m := cco.do(t, srv, "GET", "/api/customers/"+id+"/export", "", false)
	if code != 200 || m["format"] != "kunding-gdpr-export/1" || len(m["events"].([]any)) != 1 {
		t.Fatalf("export: %d %v", code, m)
	}
	if code, m := cco.do(t, srv, "POST", "/api/customers/"+id+"/erase", `{"confirm":"someone else"}`, true); code != 400 || !strings.Contains(fmt.Sprint(m["error"]), "confirm") {
		t.Fatalf("erase without confirmation: %d %v", code, m)
	}
	if code, _ := agent.do(t, srv, "GET", "/api/customers/"+id, "", false); code != 200 {
		t.Fatal("refused erasure changed something")
	}
	code, m = cco.do(t, srv, "POST", "/api/customers/"+id+"/erase", `{"confirm":"`+id+`"}`, true)
	if code != 200 || m["events"] != 1.0 || m["customerId"] != id {
		t.Fatalf("erase: %d %v", code, m)
	}
	if code, _ := agent.do(t, srv, "GET", "/api/customers/"+id, "", false); code != 404 {
		t.Fatalf("erased customer still there: %d", code)
	}
	// The audit log, read by the CCO: who looked, who exported, who erased.
	if code, _ := agent.do(t, srv, "GET", "/api/audit", "", false); code != 403 {
		t.Fatalf("agent reads the audit log: %d", code)
	}
	_, m = cco.do(t, srv, "GET", "/api/audit?target="+id, "", false)
	var got []string
	for _, x := range m["entries"].([]any) {
		e := x.(map[string]any)
		got = append(got, fmt.Sprint(e["action"], " by ", e["actor"]))
		if strings.Contains(fmt.Sprint(e["detail"]), "jo@example.org") || strings.Contains(fmt.Sprint(e["detail"]), "Jo Doe") {
			t.Errorf("audit entry holds personal data: %v", e)
		}
	}
	want := []string{
		audit.CustomerErase + " by " + ccoUser.ID,
		audit.CustomerView + " by " + agentUser.ID, // the check that the refused erasure changed nothing
		audit.CustomerExport + " by " + ccoUser.ID,
		audit.CustomerView + " by " + agentUser.ID, // the timeline
		audit.CustomerView + " by " + agentUser.ID,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("audit entries of the customer:\n%v\nwant\n%v", got, want)
	}
	_, m = cco.do(t, srv, "GET", "/api/audit?action=customer.search", "", false)
	if es := m["entries"].([]any); len(es) != 1 || !strings.Contains(fmt.Sprint(es[0].(map[string]any)["detail"]), id) {
		t.Fatalf("search audit: %v", m)
	}
}
