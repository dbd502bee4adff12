package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store/pgtest"
)

// stores lists the stores every server test runs on.
func stores(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return pgtest.URL(t) },
	}
}

func TestHealthMetricsAndShutdown(t *testing.T) {
	for name, db := range stores(t) {
		t.Run(name, func(t *testing.T) { healthMetricsAndShutdown(t, db(t)) })
	}
}

func healthMetricsAndShutdown(t *testing.T, db string) {
	ctx := context.Background()
	data := t.TempDir()
	var adminKey string
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: data, DB: db, AdminKeyOut: func(k string) { adminKey = k }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(adminKey, "kdg_admin_") {
		t.Fatalf("admin key not handed out on first start: %q", adminKey)
	}
	base := "http://" + srv.Addr
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz: %d %s", code, body)
	}
	src, err := source.Create(ctx, srv.Store, "Shop", "shop")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/v1/batch", strings.NewReader(
		`{"batch":[{"type":"track","userId":"u","event":"Order Completed","messageId":"m1","properties":{"revenue":3}},{"type":"track","userId":"u"}]}`))
	req.SetBasicAuth(src.WriteKey, "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("batch: %v %v", err, resp)
	}
	resp.Body.Close()
	// The pipeline picks the event up without being asked.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := srv.Store.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Processed == st.LastSeq && st.Customers == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline did not process: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get("/metrics"); code != http.StatusUnauthorized {
		t.Fatalf("anonymous /metrics: %d, want 401", code)
	}
	mreq, _ := http.NewRequest("GET", base+"/metrics", nil)
	mreq.Header.Set("Authorization", "Bearer "+adminKey)
	mresp, err := http.DefaultClient.Do(mreq)
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	code, body := mresp.StatusCode, string(mb)
	for _, want := range []string{
		"kunding_events_received_total 2",
		"kunding_events_accepted_total 1",
		`kunding_events_rejected_total{reason="invalid_event"} 1`,
		`kunding_http_request_duration_seconds_bucket{code="200",route="/v1/batch"`,
		"kunding_pipeline_events_processed_total 1",
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// A second start on the same data does not hand out a new key.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	adminKey = ""
	srv2, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: data, DB: db, AdminKeyOut: func(k string) { adminKey = k }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Shutdown(context.Background())
	if adminKey != "" {
		t.Fatal("a new admin key was made on the second start")
	}
	st, _ := srv2.Store.Stats(ctx)
	if st.Events != 1 || st.Orders != 1 {
		t.Fatalf("after restart: %+v", st)
	}
}
