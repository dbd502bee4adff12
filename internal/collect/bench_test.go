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
	"github.com/kunding/kunding/internal/metrics"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store/sqlite"
)

// BenchmarkBatchHandler is POST /v1/batch end to end in one process, without
// the network: authentication, decoding, validation, the group commit to a
// SQLite file and the answer, from 32 concurrent requests. Each request
// carries 100 new events (600 to 1000 bytes each).
func BenchmarkBatchHandler(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run("fsync="+strconv.FormatBool(fsync), func(b *testing.B) { benchBatchHandler(b, fsync) })
	}
}

func benchBatchHandler(b *testing.B, fsync bool) {
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
	ap := collect.NewAppender(st, m, 2048, nil)
	defer ap.Close()
	c := &collect.Collector{Store: st, Appender: ap, Metrics: m, Log: slog.New(slog.DiscardHandler)}
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
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"accepted":100`)) {
				b.Errorf("HTTP %d: %s", w.Code, w.Body.Bytes())
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
