package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/web"
)

// benchDataEnv names a data directory prepared by `kunding bench lookup
// --data DIR` (for instance 1,000,000 customers). With it the benchmarks
// run against that store: the first run adds Bea with 10,000 events and the
// bench users to it, later runs reuse them. Without it they build the small
// store of benchApp in a temporary directory.
const benchDataEnv = "KUNDING_WEB_BENCH_DATA"

// benchEnv is what the benchmarks measure against: the running server, a
// logged-in agent, the web handler for in-process calls (server time, no
// network), the big customer's id and search terms that hit the store.
type benchEnv struct {
	a       *app
	c       *client
	h       http.Handler
	cookies []*http.Cookie
	big     string
	names   []string // name prefixes
	emails  []string
	phones  []string
}

// get calls the web handler in process with the agent's session.
func (e *benchEnv) get(b *testing.B, path string) int {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Accept-Language", "de")
	for _, c := range e.cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w.Code
}

func newBenchEnv(b *testing.B, events int) *benchEnv {
	dir := os.Getenv(benchDataEnv)
	var e benchEnv
	if dir == "" {
		e.c, _ = benchApp(b, events, 1000)
		e.a = e.c.a
		e.names = []string{"Other 000", "Other 001", "Other 002", "Other 003", "Other 004"}
		for i := 0; i < 5; i++ {
			e.emails = append(e.emails, fmt.Sprintf("o%d@example.de", i*97))
			e.phones = append(e.phones, fmt.Sprintf("+49151%08d", i*97))
		}
	} else {
		e.a = openBenchData(b, dir, events)
		e.c = e.a.client("de")
		e.c.login("agent@kunding.test")
		e.names = []string{"Anna Mü", "Lukas Sch", "Jürgen W", "Zoë K", "Mehmet Y"}
		e.emails = sampleIdentifiers(b, e.a, identity.Email, 50)
		e.phones = sampleIdentifiers(b, e.a, identity.Phone, 50)
	}
	e.h = web.MustNew(web.Config{Store: e.a.Srv.Store, Auth: e.a.Srv.Auth, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	u, _ := url.Parse(e.a.URL)
	e.cookies = e.c.http.Jar.Cookies(u)
	p := e.c.get("/customers?q=bea%40example.de")
	id := regexpID.FindStringSubmatch(p.Body)
	if p.Code != 200 || id == nil {
		b.Fatalf("big customer not found: %d", p.Code)
	}
	e.big = id[1]
	for _, q := range []string{e.names[0], e.emails[0], e.phones[0]} {
		if p := e.c.get("/customers?q=" + url.QueryEscape(q)); p.Code != 200 || !regexpID.MatchString(p.Body) {
			b.Fatalf("search %q finds nobody: %d", q, p.Code)
		}
	}
	return &e
}

// openBenchData starts a server on a prepared data directory and adds to
// it, once, the bench users, a source and Bea with events events.
func openBenchData(b *testing.B, dir string, events int) *app {
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dir,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatalf("start server on %s: %v", dir, err)
	}
	b.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	a := &app{t: b, URL: "http://" + srv.Addr, Srv: srv, Auth: srv.Auth}
	if _, err := a.Auth.CreateUser(ctx, auth.NewUser{Email: "agent@kunding.test", Name: "Aaron Agent", Role: "agent", Department: "Service", Password: password}); err != nil {
		b.Logf("agent not created (a reused directory): %v", err)
	}
	if ps, err := srv.Store.SearchCustomers(ctx, "bea@example.de", 1); err != nil {
		b.Fatal(err)
	} else if len(ps) > 0 {
		return a
	}
	if a.Shop, err = source.Create(ctx, srv.Store, "Web bench shop", "shop"); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	addBea(b, a, events)
	b.Logf("added Bea with %d events in %v", events, time.Since(start).Round(time.Millisecond))
	return a
}

// sampleIdentifiers returns n identifiers of a kind spread over the store.
func sampleIdentifiers(b *testing.B, a *app, kind string, n int) []string {
	w, ok := a.Srv.Store.(interface{ Writer() *sql.DB })
	if !ok {
		b.Fatal("store has no SQL writer")
	}
	rows, err := w.Writer().QueryContext(ctx, `SELECT value FROM identities WHERE kind = $1 ORDER BY value LIMIT $2`, kind, n)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			b.Fatal(err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		b.Fatalf("no %s identifiers in the store", kind)
	}
	return out
}
