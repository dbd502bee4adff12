package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
)

var ctx = context.Background()

// eachStore runs a test on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, st store.Store)) { storetest.EachStore(t, fn) }

// clock is a clock tests move.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const goodPassword = "a long enough password"

// app is a small web app on the service: the routes the web layer builds.
type app struct {
	t   *testing.T
	svc *auth.Service
	srv *httptest.Server
	clk *clock
}

func newApp(t *testing.T, st store.Store, opts auth.Options) *app {
	clk := &clock{t: time.Now()}
	opts.Now = clk.Now
	svc := auth.NewService(st, opts)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := svc.Login(w, r, r.PostFormValue("email"), r.PostFormValue("password"))
		switch {
		case errors.Is(err, auth.ErrRateLimited):
			d, _ := auth.RetryAfter(err)
			w.Header().Set("Retry-After", fmt.Sprint(int(d.Seconds())))
			http.Error(w, err.Error(), http.StatusTooManyRequests)
		case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrUserDisabled):
			http.Error(w, err.Error(), http.StatusUnauthorized)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			fmt.Fprint(w, u.ID)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Logout(w, r); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.UserFrom(r.Context())
		if !ok {
			fmt.Fprint(w, "anonymous")
			return
		}
		fmt.Fprintf(w, "%s %s %s", u.Email, u.Role, auth.CSRFToken(r))
	})
	mux.Handle("GET /private", svc.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "private") })))
	mux.Handle("GET /api/private", svc.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{}") })))
	mux.Handle("GET /admin", auth.RequireRole(auth.RoleAdmin, auth.RoleCCO)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "admin page") })))
	mux.Handle("POST /form", svc.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "posted") })))
	mux.Handle("POST /v1/t", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "collected") }))
	srv := httptest.NewServer(svc.Middleware(svc.CheckCSRF(mux)))
	t.Cleanup(srv.Close)
	return &app{t: t, svc: svc, srv: srv, clk: clk}
}

// client is a browser: it keeps cookies and does not follow redirects.
func (a *app) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (a *app) do(c *http.Client, method, path string, form url.Values, hdr map[string]string) (int, string, http.Header) {
	a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), resp.Header
}

func (a *app) login(c *http.Client, email, pw string) (int, string, http.Header) {
	return a.do(c, "POST", "/login", url.Values{"email": {email}, "password": {pw}}, nil)
}

func (a *app) mustUser(email string, role auth.Role) auth.User {
	a.t.Helper()
	u, err := a.svc.CreateUser(audit.WithActor(ctx, "test"), auth.NewUser{Email: email, Name: "Test " + string(role), Role: string(role), Department: "Service", Password: goodPassword})
	if err != nil {
		a.t.Fatalf("create user: %v", err)
	}
	return u
}

func TestLogin(t *testing.T) { eachStore(t, testLogin) }

func testLogin(t *testing.T, st store.Store) {
	a := newApp(t, st, auth.Options{})
	u := a.mustUser("Agent@Example.org", auth.RoleAgent)
	if u.Email != "agent@example.org" || u.Department != "Service" || u.Role != auth.RoleAgent {
		t.Fatalf("created %+v", u)
	}
	c := a.client()
	if code, body, _ := a.do(c, "GET", "/whoami", nil, nil); body != "anonymous" {
		t.Fatalf("before login: %d %s", code, body)
	}
	for _, tc := range []struct{ email, pw string }{{"agent@example.org", "wrong password!"}, {"nobody@example.org", goodPassword}, {"agent@example.org", ""}} {
		if code, body, _ := a.login(c, tc.email, tc.pw); code != 401 || !strings.Contains(body, "wrong e-mail or password") {
			t.Errorf("login %s/%q: %d %s", tc.email, tc.pw, code, body)
		}
	}
	code, body, hdr := a.login(c, " AGENT@example.org ", goodPassword)
	if code != 200 || body != u.ID {
		t.Fatalf("login: %d %s", code, body)
	}
	ck := hdr.Get("Set-Cookie")
	for _, want := range []string{auth.SessionCookie + "=", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=43200"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Errorf("cookie over plain HTTP without Options.Secure is Secure: %q", ck)
	}
	token := strings.TrimPrefix(strings.Split(ck, ";")[0], auth.SessionCookie+"=")
	if len(token) < 43 {
		t.Errorf("session token %q is shorter than 32 random bytes", token)
	}
	code, body, _ = a.do(c, "GET", "/whoami", nil, nil)
	if f := strings.Fields(body); code != 200 || len(f) != 3 || f[0] != "agent@example.org" || f[1] != "agent" || f[2] == "" {
		t.Fatalf("whoami: %d %s", code, body)
	}
	// Only the hash of the token is stored.
	if _, _, err := st.SessionByHash(ctx, token); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session found by its raw token: %v", err)
	}
	// Logout ends the session on the server, not only in the browser.
	if code, _, _ := a.do(c, "POST", "/logout", url.Values{auth.CSRFField: {strings.Fields(body)[2]}}, nil); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	c2 := a.client()
	srvURL, _ := url.Parse(a.srv.URL)
	c2.Jar.SetCookies(srvURL, []*http.Cookie{{Name: auth.SessionCookie, Value: token}})
	if _, body, _ := a.do(c2, "GET", "/whoami", nil, nil); body != "anonymous" {
		t.Fatalf("the old token still works after logout: %s", body)
	}
	// Secure cookies when asked.
	b := newApp(t, st, auth.Options{Secure: true})
	if _, _, hdr := b.login(b.client(), "agent@example.org", goodPassword); !strings.Contains(hdr.Get("Set-Cookie"), "Secure") {
		t.Errorf("Options.Secure: cookie %q", hdr.Get("Set-Cookie"))
	}
	// The audit log has the logins and the failures, never the e-mail tried.
	es, err := st.AuditEntries(ctx, store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var logins, failed int
	for _, e := range es {
		switch e.Action {
		case audit.Login:
			logins++
		case audit.LoginFailed:
			failed++
			if strings.Contains(e.Detail, "nobody@") {
				t.Errorf("audit entry holds the e-mail tried: %+v", e)
			}
		}
	}
	if logins != 2 || failed != 3 {
		t.Errorf("audit: %d logins, %d failures; want 2 and 3", logins, failed)
	}
}

func TestDisabledUser(t *testing.T) { eachStore(t, testDisabledUser) }

func testDisabledUser(t *testing.T, st store.Store) {
	a := newApp(t, st, auth.Options{})
	a.mustUser("admin@example.org", auth.RoleAdmin)
	u := a.mustUser("lead@example.org", auth.RoleLead)
	c := a.client()
	if code, _, _ := a.login(c, "lead@example.org", goodPassword); code != 200 {
		t.Fatal("login")
	}
	yes := true
	if _, err := a.svc.UpdateUser(ctx, u.ID, auth.UserChange{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, body, _ := a.do(c, "GET", "/whoami", nil, nil); body != "anonymous" {
		t.Fatalf("a disabled user's session still works: %s", body)
	}
	if code, body, _ := a.login(a.client(), "lead@example.org", goodPassword); code != 401 || !strings.Contains(body, "disabled") {
		t.Fatalf("disabled user logs in: %d %s", code, body)
	}
	// The last admin can be neither demoted nor disabled.
	admins, _ := a.svc.Users(ctx)
	var admin auth.User
	for _, x := range admins {
		if x.Role == auth.RoleAdmin {
			admin = x
		}
	}
	agent := "agent"
	if _, err := a.svc.UpdateUser(ctx, admin.ID, auth.UserChange{Role: &agent}); !errors.Is(err, auth.ErrLastAdmin) {
		t.Fatalf("demote last admin: %v", err)
	}
	if _, err := a.svc.UpdateUser(ctx, admin.ID, auth.UserChange{Disabled: &yes}); !errors.Is(err, auth.ErrLastAdmin) {
		t.Fatalf("disable last admin: %v", err)
	}
}

func TestRateLimit(t *testing.T) { eachStore(t, testRateLimit) }

func testRateLimit(t *testing.T, st store.Store) {
	a := newApp(t, st, auth.Options{MaxFailures: 5, MaxFailuresPerIP: 8, FailureWindow: 15 * time.Minute})
	a.mustUser("cco@example.org", auth.RoleCCO)
	c := a.client()
	for i := 0; i < 5; i++ {
		if code, _, _ := a.login(c, "cco@example.org", "guess number "+fmt.Sprint(i)); code != 401 {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	// Locked: even the right password is refused, with a retry time.
	code, body, hdr := a.login(c, "cco@example.org", goodPassword)
	if code != 429 || !strings.Contains(body, "too many failed logins") || hdr.Get("Retry-After") == "" {
		t.Fatalf("sixth attempt: %d %s %v", code, body, hdr)
	}
	// The window passes: the right password works and clears the count.
	a.clk.Add(16 * time.Minute)
	if code, body, _ := a.login(c, "cco@example.org", goodPassword); code != 200 {
		t.Fatalf("after the window: %d %s", code, body)
	}
	// Per client address: many addresses tried from one place.
	a.clk.Add(time.Hour)
	c = a.client() // logged out: a logged-in browser's posts need the CSRF token
	for i := 0; i < 8; i++ {
		a.login(c, fmt.Sprintf("user%d@example.org", i), goodPassword)
	}
	if code, _, _ := a.login(c, "cco@example.org", goodPassword); code != 429 {
		t.Fatalf("after 8 failures from one address: %d, want 429", code)
	}
	// Failures are stored under hashes, not as addresses.
	db := rawDB(t, st)
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM login_failures WHERE key LIKE '%example%' OR key LIKE '%127.0.0.1%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("login_failures holds plain addresses: %d %v", n, err)
	}
}

func TestSessionsExpire(t *testing.T) { eachStore(t, testSessionsExpire) }

func testSessionsExpire(t *testing.T, st store.Store) {
	a := newApp(t, st, auth.Options{SessionTTL: time.Hour})
	a.mustUser("analyst@example.org", auth.RoleAnalyst)
	c := a.client()
	a.login(c, "analyst@example.org", goodPassword)
	a.clk.Add(59 * time.Minute)
	if code, body, _ := a.do(c, "GET", "/private", nil, nil); code != 200 || body != "private" {
		t.Fatalf("within the TTL: %d %s", code, body)
	}
	a.clk.Add(2 * time.Minute)
	code, _, hdr := a.do(c, "GET", "/private?x=1", nil, nil)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/login?next="+url.QueryEscape("/private?x=1") {
		t.Fatalf("expired session: %d %s", code, hdr.Get("Location"))
	}
	if code, body, _ := a.do(c, "GET", "/api/private", nil, nil); code != 401 || !strings.Contains(body, `"error"`) {
		t.Fatalf("expired session under /api/: %d %s", code, body)
	}
}

func TestRoles(t *testing.T) { eachStore(t, testRoles) }

func testRoles(t *testing.T, st store.Store) {
	a := newApp(t, st, auth.Options{})
	for _, role := range auth.Roles {
		a.mustUser(string(role)+"@example.org", role)
		c := a.client()
		a.login(c, string(role)+"@example.org", goodPassword)
		code, body, _ := a.do(c, "GET", "/admin", nil, nil)
		allowed := role == auth.RoleAdmin || role == auth.RoleCCO
		if allowed && (code != 200 || body != "admin page") || !allowed && (code != 403 || !strings.Contains(body, "your role "+string(role))) {
			t.Errorf("%s on an admin/cco page: %d %s", role, code, body)
		}
	}
	if code, _, hdr := a.do(a.client(), "GET", "/admin", nil, nil); code != 303 || !strings.HasPrefix(hdr.Get("Location"), "/login?next=") {
		t.Errorf("anonymous on a role page: %d %s", code, hdr.Get("Location"))
	}
	// Bad input is refused with what is wrong, and nothing is stored.
	for _, tc := range []struct {
		n    auth.NewUser
		want string
	}{
		{auth.NewUser{Email: "x", Name: "X", Role: "agent", Department: "Sales", Password: goodPassword}, "email"},
		{auth.NewUser{Email: "x@example.org", Name: "X", Role: "boss", Department: "Sales", Password: goodPassword}, "role"},
		{auth.NewUser{Email: "x@example.org", Name: "X", Role: "agent", Department: "Moon", Password: goodPassword}, "department"},
		{auth.NewUser{Email: "x@example.org", Name: "X", Role: "agent", Department: "Sales", Password: "short"}, "password"},
		{auth.NewUser{Email: "x@example.org", Name: "", Role: "agent", Department: "Sales", Password: goodPassword}, "name"},
		{auth.NewUser{Email: "admin@example.org", Name: "X", Role: "agent", Department: "Sales", Password: goodPassword}, "already exists"},
	} {
		_, err := a.svc.CreateUser(ctx, tc.n)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("create %+v: %v, want an error about %s", tc.n, err, tc.want)
		}
	}
	if us, _ := a.svc.Users(ctx); len(us) != len(auth.Roles) {
		t.Errorf("%d users after refused creations, want %d", len(us), len(auth.Roles))
	}
	// Departments are data.
	if _, err := a.svc.CreateDepartment(ctx, "Finance"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.CreateDepartment(ctx, "finance"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate department: %v", err)
	}
	ds, _ := a.svc.Departments(ctx)
	var names []string
	for _, d := range ds {
		names = append(names, d.Name)
	}
	if fmt.Sprint(names) != "[Finance Logistics Marketing Product development Sales Service]" {
		t.Fatalf("departments: %v", names)
	}
	if _, err := a.svc.CreateUser(ctx, auth.NewUser{Email: "f@example.org", Name: "F", Role: "lead", Department: "FINANCE", Password: goodPassword}); err != nil {
		t.Fatalf("user in a new department: %v", err)
	}
}

func TestCSRF(t *testing.T) { eachStore(t, testCSRF) }

func testCSRF(t *testing.T, st store.Store) {
	a := newApp(t, st, auth.Options{})
	a.mustUser("agent@example.org", auth.RoleAgent)
	c := a.client()
	a.login(c, "agent@example.org", goodPassword)
	_, who, _ := a.do(c, "GET", "/whoami", nil, nil)
	token := strings.Fields(who)[2]

	other := a.client()
	a.mustUser("agent2@example.org", auth.RoleAgent)
	a.login(other, "agent2@example.org", goodPassword)
	_, who2, _ := a.do(other, "GET", "/whoami", nil, nil)
	otherToken := strings.Fields(who2)[2]
	if otherToken == token {
		t.Fatal("two sessions share a CSRF token")
	}
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  map[string]string
		want int
	}{
		{"no token", url.Values{"x": {"1"}}, nil, 403},
		{"wrong token", url.Values{auth.CSRFField: {"forged"}}, nil, 403},
		{"token of another session", url.Values{auth.CSRFField: {otherToken}}, nil, 403},
		{"form field", url.Values{auth.CSRFField: {token}}, nil, 200},
		{"header", url.Values{}, map[string]string{auth.CSRFHeader: token}, 200},
		{"cross-site browser request with the token", url.Values{auth.CSRFField: {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"foreign origin", url.Values{auth.CSRFField: {token}}, map[string]string{"Origin": "https://evil.example"}, 403},
	} {
		code, body, _ := a.do(c, "POST", "/form", tc.form, tc.hdr)
		if code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
		if tc.want == 403 && !strings.Contains(body, "403") {
			t.Errorf("%s: refusal is not a plain 403 page: %s", tc.name, body)
		}
	}
	// The login form itself is protected against cross-site posts.
	if code, _, _ := a.do(a.client(), "POST", "/login", url.Values{"email": {"agent@example.org"}, "password": {goodPassword}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); code != 403 {
		t.Errorf("cross-site login post: %d, want 403", code)
	}
	// The collection API is cross-origin by design.
	if code, body, _ := a.do(c, "POST", "/v1/t", url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site"}); code != 200 {
		t.Errorf("/v1/ under CheckCSRF: %d %s", code, body)
	}
	// Anonymous form posts (no session) pass CSRF; RequireUser refuses them.
	if code, _, _ := a.do(a.client(), "POST", "/form", url.Values{}, nil); code != 303 {
		t.Errorf("anonymous post: %d, want the login redirect", code)
	}
}
