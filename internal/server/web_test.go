package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/server"
)

// The web app answers / and its pages; the collection API, the management
// API, /healthz and /metrics keep their own routes and answers (/metrics,
// like /api/, refuses anonymous access).
func TestWebMountedBesideTheAPIs(t *testing.T) {
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path, contentType, body string
		code                    int
	}{
		{"/", "", "", http.StatusSeeOther},
		{"/customers/x", "", "", http.StatusSeeOther},
		{"/login", "text/html", `<html lang=`, 200},
		{"/healthz", "application/json", `"ok"`, 200},
		{"/metrics", "text/plain", "missing credentials", 401},
		{"/v1/nope", "application/json", "no endpoint", 404},
		{"/api/stats", "application/json", "error", 401},
		{"/api/nope", "application/json", "error", 401},
	} {
		resp, err := noRedirect.Get("http://" + srv.Addr + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) || !strings.Contains(string(b), tc.body) {
			t.Errorf("GET %s = %d %s %.80q, want %d %s with %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.code, tc.contentType, tc.body)
		}
		if tc.code == http.StatusSeeOther && !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s redirects to %q, want the login page", tc.path, resp.Header.Get("Location"))
		}
	}
}
