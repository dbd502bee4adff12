package collect_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/bench"
	"github.com/kunding/kunding/internal/collect"
	"github.com/kunding/kunding/internal/journal"
	"github.com/kunding/kunding/internal/metrics"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/sqlite"
)

// BenchmarkBatchHandler is POST /v1/batch end to end in one process, without
// the network: authentication, decoding, validation, the group commit to a
// SQLite file and the answer, from 32 concurrent requests. Each request
// carries 100 new events (600 to 1000 bytes each).
func BenchmarkBatchHandler(b *testing.B) {
	for _, w := range []string{"appender", "journal", "journal-held"} {
		for _, fsync := range []bool{false, true} {
			b.Run("writer="+w+"/fsync="+strconv.FormatBool(fsync), func(b *testing.B) { benchBatchHandler(b, w, fsync) })
		}
	}
}

// held is a store whose Append waits until release is closed: the journal's
// loader then does nothing, and the figures are those of the
// acknowledgement alone.
type held struct {
	store.Store
	release chan struct{}
}

func (h held) Append(ctx context.Context, recs []store.Record) ([]bool, error) {
	select {
	case <-h.release:
		return h.Store.Append(ctx, recs)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: held", store.ErrUnavailable)
	}
}

// benchBatchHandler: writer "appender" commits each group to SQLite before
// the answer; "journal" appends it to the journal and loads it into SQLite
// behind the answer (the loader's CPU is counted); "journal-held" holds the
// loader back, measuring the acknowledgement path alone.
func benchBatchHandler(b *testing.B, writer string, fsync bool) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "kunding.db"), sqlite.Options{Fsync: fsync})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	src, err := source.Create(ctx, st, "bench", "web")
	if err != nil {
		b.Fatal(err)
	}
	m := metrics.New()
	var w collect.Writer
	switch writer {
	case "appender":
		ap := collect.NewAppender(st, m, 2048, nil)
		defer ap.Close()
		w = ap
	default:
		var target store.Store = st
		drain := 30 * time.Second
		if writer == "journal-held" {
			release := make(chan struct{})
			defer close(release)
			target = held{Store: st, release: release}
			// Nothing is loaded: closing need not wait for it.
			drain = time.Millisecond
		}
		j, err := journal.Open(journal.Options{Dir: b.TempDir(), Fsync: fsync, Store: target, Metrics: m,
			Log: slog.New(slog.DiscardHandler), MaxBacklog: 1 << 40, DrainTimeout: drain})
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		w = j
	}
	c := &collect.Collector{Store: st, Appender: w, Metrics: m, Log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	c.Register(mux)

	// One template body; each request gets its own messageIds by replacing
	// the run token, so every event is new (a duplicate costs less).
	const n = 100
	const token = "RUN0000000"
	tmpl := bench.NewGenerator(1, 500, token).Batch(nil, n, time.Now())
	var seq atomic.Int64
	b.SetBytes(int64(len(tmpl)))
	b.SetParallelism(16) // 32 concurrent requests on 2 cores, as kunding bench ingest
	cpu0, _ := bench.ProcessCPU(0)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bytes.ReplaceAll(tmpl, []byte(token), fmt.Appendf(nil, "R%09d", seq.Add(1)))
			req := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(body))
			req.SetBasicAuth(src.WriteKey, "")
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"accepted":100`)) {
				b.Errorf("HTTP %d: %s", rec.Code, rec.Body.Bytes())
				return
			}
		}
	})
	b.StopTimer()
	el := time.Since(start)
	cpu1, _ := bench.ProcessCPU(0)
	events := float64(n) * float64(b.N)
	b.ReportMetric(events/el.Seconds(), "events/s")
	b.ReportMetric(float64(el.Nanoseconds())/events, "ns/event")
	// CPU per event holds when the machine is shared and wall time is not.
	b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/events, "cpu-ns/event")
}
