package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/journal"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
)

// away is a store whose event log cannot be reached: events stay in the
// journal, as when a server stops before its loader caught up.
type away struct{ store.Store }

func (away) Append(context.Context, []store.Record) ([]bool, error) {
	return nil, fmt.Errorf("%w: stopped", store.ErrUnavailable)
}

// TestRebuildLoadsJournal: events a stopped server acknowledged into its
// journal but had not loaded are loaded by `kunding rebuild` before it
// replays the log, so the rebuilt profiles include them.
func TestRebuildLoadsJournal(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := server.OpenStore(ctx, data, true)
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.Create(ctx, st, "Shop", "shop")
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(journal.Options{Dir: journal.Dir(data), Store: away{st}, DrainTimeout: 50 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var recs []store.Record
	for i := 0; i < 30; i++ {
		ev := event.Event{Type: event.Track, MessageID: fmt.Sprintf("j-%d", i), UserID: fmt.Sprintf("u%d", i%3),
			Event: "Product Viewed", Timestamp: at, ReceivedAt: at}
		body, err := ev.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.Record{SourceID: src.ID, Event: ev, Body: body})
	}
	if _, err := j.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	j.Close()
	st.Close()

	code, out, errs := runCLI(t, "rebuild", "--data", data)
	if code != 0 || !strings.Contains(errs, "loaded 30 events from the journal") || !strings.Contains(out, "replayed 30 events") {
		t.Fatalf("rebuild: %d %s %s", code, out, errs)
	}
	st, err = server.OpenStore(ctx, data, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Events != 30 || stats.Customers != 3 {
		t.Fatalf("after rebuild: %+v; want 30 events of 3 customers", stats)
	}
	// Nothing is loaded twice on the next start.
	code, out, errs = runCLI(t, "rebuild", "--data", data)
	if code != 0 || strings.Contains(errs, "from the journal") || !strings.Contains(out, "replayed 30 events") {
		t.Fatalf("second rebuild: %d %s %s", code, out, errs)
	}
}
