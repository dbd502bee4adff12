package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/pgtest"
)

var ctx = context.Background()

// stores runs a test on the embedded SQLite store and on PostgreSQL.
func stores(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.URL(t)) })
}

const password = "correct horse battery staple"

// app is a real Kunding server (collection API, pipeline, web app) with
// three users and a shop source.
type app struct {
	t    testing.TB
	URL  string
	Srv  *server.Server
	Auth *auth.Service
	Shop store.Source
}

func startApp(t testing.TB, db string) *app {
	t.Helper()
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: db,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	a := &app{t: t, URL: "http://" + srv.Addr, Srv: srv, Auth: srv.Auth}
	for _, u := range []auth.NewUser{
		{Email: "admin@kunding.test", Name: "Ada Admin", Role: "admin", Department: "Service", Password: password},
		{Email: "agent@kunding.test", Name: "Aaron Agent", Role: "agent", Department: "Service", Password: password},
		{Email: "analyst@kunding.test", Name: "Anja Analyst", Role: "analyst", Department: "Marketing", Password: password},
	} {
		if _, err := a.Auth.CreateUser(ctx, u); err != nil {
			t.Fatalf("create user %s: %v", u.Email, err)
		}
	}
	if a.Shop, err = source.Create(ctx, srv.Store, "Web shop", "shop"); err != nil {
		t.Fatal(err)
	}
	return a
}

// send posts a batch to the collection API with a write key and returns
// the status code.
func (a *app) send(key string, events ...map[string]any) int {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"batch": events})
	req, _ := http.NewRequest("POST", a.URL+"/v1/batch", bytes.NewReader(body))
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("send: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// With the journal the events reach the log right behind the answer;
	// the tests look at the log (the live debugger) next.
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := a.Srv.Flush(fctx); err != nil {
		a.t.Fatalf("journal: %v", err)
	}
	return resp.StatusCode
}

// settle waits until every acknowledged event is in the log (the journal
// loads them right behind the answer) and the pipeline has processed them.
func (a *app) settle() {
	a.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	fctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if err := a.Srv.Flush(fctx); err != nil {
		a.t.Fatalf("journal: %v", err)
	}
	for time.Now().Before(deadline) {
		st, err := a.Srv.Store.Stats(ctx)
		if err == nil && st.Processed >= st.LastSeq {
			return
		}
		a.Srv.Pipeline.Wake()
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatal("pipeline did not catch up in 15 s")
}

// anna sends the events of one customer: who she is, her consent, three
// orders in three months, a mailing, a campaign visit and many page views
// (more than a timeline page). It returns her customer id.
func (a *app) anna(pageViews int) string {
	a.t.Helper()
	now := time.Now().UTC()
	at := func(days int) string { return now.AddDate(0, 0, -days).Format(time.RFC3339) }
	evs := []map[string]any{
		{"type": "identify", "userId": "C-1001", "anonymousId": "dev-anna", "timestamp": at(120), "traits": map[string]any{
			"name": "Anna Schmidt", "email": "anna@example.de", "phone": "+49 171 1234567", "city": "Köln",
			"consent": map[string]any{"email": true, "phone": false}}},
		{"type": "track", "userId": "C-1001", "event": "Order Completed", "timestamp": at(100),
			"properties": map[string]any{"order_id": "A-1", "revenue": 59.90, "currency": "EUR"}},
		{"type": "track", "userId": "C-1001", "event": "Order Completed", "timestamp": at(40),
			"properties": map[string]any{"order_id": "A-2", "revenue": 120.00, "currency": "EUR"}},
		{"type": "track", "userId": "C-1001", "event": "Order Completed", "timestamp": at(5),
			"properties": map[string]any{"order_id": "A-3", "revenue": 35.50, "currency": "EUR"}},
		{"type": "page", "anonymousId": "dev-anna", "name": "Spring", "timestamp": at(3),
			"context": map[string]any{"page": map[string]any{"url": "https://shop.example/spring?utm_source=google&utm_medium=cpc&utm_campaign=spring-ads"}}},
	}
	for i := 0; i < pageViews; i++ {
		evs = append(evs, map[string]any{"type": "page", "anonymousId": "dev-anna", "name": fmt.Sprintf("Product %d", i),
			"timestamp": now.Add(-time.Duration(48+i) * time.Hour).Format(time.RFC3339)})
	}
	// The newest event: the mailing the agent must see at once.
	evs = append(evs, map[string]any{"type": "track", "userId": "C-1001", "event": "Email Delivered", "timestamp": now.Add(-time.Hour).Format(time.RFC3339),
		"properties": map[string]any{"campaign_name": "Frühlingsmailing", "email_subject": "20 % auf Schuhe"}})
	if code := a.send(a.Shop.WriteKey, evs...); code != 200 {
		a.t.Fatalf("send anna: %d", code)
	}
	a.settle()
	p, err := a.Srv.Store.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "C-1001"})
	if err != nil {
		a.t.Fatalf("anna: %v", err)
	}
	return p.CustomerID
}

// client is a browser-like HTTP client: cookies, no automatic redirects.
type client struct {
	t    testing.TB
	a    *app
	http *http.Client
	lang string
}

func (a *app) client(lang string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: a.t, a: a, lang: lang, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	Code     int
	Body     string
	Location string
	Header   http.Header
}

func (c *client) do(method, path string, form url.Values) page {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.a.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{Code: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Header: resp.Header}
}

func (c *client) get(path string) page { return c.do("GET", path, nil) }

func (c *client) post(path string, form url.Values) page { return c.do("POST", path, form) }

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// csrf reads the CSRF token of the forms of a page.
func (c *client) csrf(p page) string {
	c.t.Helper()
	m := csrfRE.FindStringSubmatch(p.Body)
	if m == nil {
		c.t.Fatalf("no CSRF field on the page:\n%s", p.Body)
	}
	return m[1]
}

// login logs the client in and fails the test if that does not work.
func (c *client) login(email string) {
	c.t.Helper()
	p := c.get("/login")
	if p.Code != 200 {
		c.t.Fatalf("GET /login = %d", p.Code)
	}
	p = c.post("/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {c.csrf(p)}, "next": {"/"}})
	if p.Code != http.StatusSeeOther || p.Location != "/" {
		c.t.Fatalf("login %s = %d %s:\n%s", email, p.Code, p.Location, p.Body)
	}
}

func mustContain(t testing.TB, p page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page (%d) lacks %q:\n%s", p.Code, s, p.Body)
		}
	}
}

func mustNotContain(t testing.TB, p page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.Body, s) {
			t.Fatalf("page (%d) has %q but should not:\n%s", p.Code, s, p.Body)
		}
	}
}
