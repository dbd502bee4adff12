package sqlite_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/bench"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/sqlite"
)

// BenchmarkAppend measures one Append (one transaction, one commit) of n
// new records, as one group commit of the collection API writes them.
// With fsync the commit waits for the disk; the figure then depends on it.
func BenchmarkAppend(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		for _, n := range []int{100, 1000} {
			b.Run("fsync="+strconv.FormatBool(fsync)+"/records="+strconv.Itoa(n), func(b *testing.B) {
				benchAppend(b, fsync, n)
			})
		}
	}
}

func benchAppend(b *testing.B, fsync bool, n int) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "kunding.db"), sqlite.Options{Fsync: fsync})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	src := store.Source{ID: "src_bench", Name: "bench", Kind: "web", WriteKey: "wk_bench", CreatedAt: time.Now()}
	if err := st.CreateSource(ctx, src); err != nil {
		b.Fatal(err)
	}
	recs, err := bench.NewGenerator(1, max(n/20, 10), "b").Records(n, src.ID, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range recs {
		ids[i] = recs[i].Event.MessageID
	}
	var bytes int64
	for _, r := range recs {
		bytes += int64(len(r.Body))
	}
	b.SetBytes(bytes)
	cpu0, _ := bench.ProcessCPU(0)
	for i := 0; b.Loop(); i++ {
		// New messageIds each round, so every record is inserted, not
		// skipped as a duplicate; the log grows as it does in production.
		b.StopTimer()
		suffix := "-" + strconv.Itoa(i)
		for j := range recs {
			recs[j].Event.MessageID = ids[j] + suffix
		}
		b.StartTimer()
		isNew, err := st.Append(ctx, recs)
		if err != nil {
			b.Fatal(err)
		}
		if !isNew[0] || !isNew[n-1] {
			b.Fatal("records not new")
		}
	}
	cpu1, _ := bench.ProcessCPU(0)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/event")
	// CPU time per event is what the store costs the server even when the
	// machine is shared and wall time is disturbed.
	b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(n*b.N), "cpu-ns/event")
}
