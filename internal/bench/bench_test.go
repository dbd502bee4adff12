package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/store"
)

func noProgress(string, int64, int64) {}

func TestGeneratorEvents(t *testing.T) {
	g := NewGenerator(1, 50, "t")
	body := g.Batch(nil, 400, time.Now())
	recs, err := RecordsOf(body, "src", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 400 {
		t.Fatalf("%d records", len(recs))
	}
	per := float64(len(body)) / 400
	if per < 600 || per > 1000 {
		t.Errorf("%.0f bytes per event, want 600 to 1000 as real events", per)
	}
	types := map[string]int{}
	users, anons := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		types[r.Event.Type+"/"+r.Event.Event]++
		if r.Event.UserID != "" {
			users[r.Event.UserID] = true
		}
		anons[r.Event.AnonymousID] = true
		if !json.Valid(r.Body) {
			t.Fatalf("stored body is not JSON: %s", r.Body)
		}
	}
	for _, k := range []string{"identify/", "page/", "track/Order Completed", "track/Product Viewed"} {
		if types[k] == 0 {
			t.Errorf("no %s events in %v", k, types)
		}
	}
	// 400 events of 50 persons: ids repeat, as in production.
	if len(anons) > 80 || len(users) == 0 || len(users) > 50 {
		t.Errorf("%d anonymous ids, %d user ids: persons should overlap", len(anons), len(users))
	}
	if !bytes.Contains(body, []byte(`"userAgent":"Mozilla/5.0`)) || !bytes.Contains(body, []byte(`"library":{"name":"analytics.js"`)) {
		t.Error("context without userAgent or library")
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := Summarize(ds)
	if l.P50 != 50*time.Millisecond || l.P90 != 90*time.Millisecond || l.P99 != 99*time.Millisecond || l.Max != 100*time.Millisecond || l.N != 100 {
		t.Errorf("%+v", l)
	}
	if Summarize(nil).N != 0 {
		t.Error("empty")
	}
}

func TestIngestTiny(t *testing.T) {
	for _, after := range []bool{false, true} {
		ctx := context.Background()
		dir := t.TempDir()
		st, src, err := Prepare(ctx, "", dir, false)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		cfg := IngestConfig{WriteKey: src.WriteKey, Events: 1050, Clients: 4, Batch: 100, Seed: 1, Store: st, Progress: noProgress}
		if after {
			if cfg.ReleasePipeline, err = HoldPipeline(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dir, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		cfg.URL = "http://" + srv.Addr
		res, err := Ingest(ctx, cfg)
		srv.Shutdown(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 1050 || res.Duplicates != 0 || res.Batches != 11 || res.Latency.N != 11 {
			t.Errorf("accepted %d, duplicates %d, batches %d, latencies %d", res.Accepted, res.Duplicates, res.Batches, res.Latency.N)
		}
		if res.EventsPerSecond() <= 0 || res.PipelineEvents != 1050 || res.PipelineEventsPerSecond() <= 0 {
			t.Errorf("rates: %+v", res)
		}
		// 1050 events of 52 persons, 60% of them known: fewer customers
		// than events, more than none.
		if res.Customers < 10 || res.Customers > 200 {
			t.Errorf("%d customers", res.Customers)
		}
		var out bytes.Buffer
		res.Print(&out)
		if !bytes.Contains(out.Bytes(), []byte("events/s (durable ack)")) {
			t.Errorf("output:\n%s", out.String())
		}
	}
}

// TestBulkBuildMatchesPipeline checks that the fast build of the lookup
// benchmark writes what the pipeline writes from the same events.
func TestBulkBuildMatchesPipeline(t *testing.T) {
	ctx := context.Background()
	d := LookupData{Customers: 60, Events: 45000} // more than two chunks
	if testing.Short() {
		d.Events = 2000
	}
	build := func(bulk bool) store.Store {
		st, src, err := Prepare(ctx, "", t.TempDir(), false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		b := BuildLookup
		if bulk {
			b = BuildLookupBulk
		}
		bs, err := b(ctx, st, src, d, noProgress)
		if err != nil {
			t.Fatal(err)
		}
		if bs.Events != int64(d.Events) || !d.Built(ctx, st) {
			t.Fatalf("built %d events", bs.Events)
		}
		// Every timeline row carries its copy of the event (else the
		// lookup would read the log and measure the wrong layout).
		var without int
		if err := st.(writerDB).Writer().QueryRow(`SELECT count(*) - count(body) FROM timeline`).Scan(&without); err != nil || without != 0 {
			t.Fatalf("bulk=%v: %d timeline rows without a copy (%v)", bulk, without, err)
		}
		return st
	}
	ref, bulk := build(false), build(true)
	rs, err := ref.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bs, _ := bulk.Stats(ctx)
	if rs != bs {
		t.Errorf("stats differ:\npipeline %+v\nbulk     %+v", rs, bs)
	}
	if rs.Customers != int64(d.Customers) || rs.Processed != int64(d.Events) {
		t.Errorf("stats %+v", rs)
	}
	same := func(what string, a, b any) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("%s differs:\npipeline %.2000s\nbulk     %.2000s", what, ja, jb)
		}
	}
	for i := 0; i < d.Customers; i++ {
		id := d.CustomerID(i)
		for _, st := range []store.Store{ref, bulk} {
			if _, err := st.Customer(ctx, id); err != nil {
				t.Fatalf("customer %d: %v", i, err)
			}
		}
		p1, _ := ref.Customer(ctx, id)
		p2, _ := bulk.Customer(ctx, id)
		same("profile", p1, p2)
		i1, _ := ref.Identities(ctx, id)
		i2, _ := bulk.Identities(ctx, id)
		same("identities", i1, i2)
		o1, _ := ref.Orders(ctx, id)
		o2, _ := bulk.Orders(ctx, id)
		same("orders", o1, o2)
		t1, _ := ref.Timeline(ctx, id, store.TimelineCursor{}, 50)
		t2, _ := bulk.Timeline(ctx, id, store.TimelineCursor{}, 50)
		same("timeline", timelineKeys(t1), timelineKeys(t2))
		if len(t1) == 0 {
			t.Errorf("customer %d has no timeline", i)
		}
	}
}

// timelineKeys leaves out the source, which differs between the two stores.
func timelineKeys(es []store.TimelineEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%d %s %s %s %x", e.Seq, e.Type, e.Name, e.Timestamp.Format(time.RFC3339Nano), sha256.Sum256(e.Body)))
	}
	return out
}

func TestLookupTiny(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, src, err := Prepare(ctx, "", dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := LookupData{Customers: 100, Events: 2000}
	if _, err := BuildLookupBulk(ctx, st, src, d, noProgress); err != nil {
		t.Fatal(err)
	}
	for _, conc := range []int{1, 4} {
		r, err := MeasureLookups(ctx, "store", d, StoreLookup(st), 200, conc, 1)
		if err != nil {
			t.Fatal(err)
		}
		if r.Latency.N != 200 || r.Latency.P99 <= 0 || r.Events < 200*5 {
			t.Errorf("%s", r)
		}
	}
	key, err := auth.RotateAdminKey(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: filepath.Clean(dir), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	r, err := MeasureLookups(ctx, "http", d, HTTPLookup("http://"+srv.Addr, key, 4), 100, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Latency.N != 100 || r.Events < 100*5 {
		t.Errorf("%s", r)
	}
}
