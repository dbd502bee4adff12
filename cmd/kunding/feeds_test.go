package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/feeds"
	"github.com/kunding/kunding/internal/server"
)

func TestFeedsPollCommand(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `<rss version="2.0"><channel><item><guid>1</guid><description>Great shop!</description></item></channel></rss>`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	st, err := server.OpenStore(ctx, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"Good": "/rss", "Down": "/down"} {
		n, u := name, srv.URL+path
		if _, err := feeds.Create(ctx, st, feeds.Settings{Name: &n, URL: &u}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	var out, errOut bytes.Buffer
	code := run(ctx, []string{"feeds", "poll", "--data", dir}, &out, &errOut)
	if code == 0 || !strings.Contains(out.String(), "1 items, 1 new") || !strings.Contains(out.String(), "FAILED: HTTP 503") {
		t.Fatalf("poll: %d\n%s\n%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(ctx, []string{"feeds", "poll", "--data", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "no feed is due") {
		t.Fatalf("second poll: %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"feeds", "list", "--data", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "HTTP 503") {
		t.Fatalf("list: %d\n%s", code, out.String())
	}
}
