package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/sqlite"
	"github.com/kunding/kunding/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "x", "1"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen (migrations must be idempotent): %v", err)
	}
	defer s.Close()
	if v, err := s.Setting(ctx, "x"); err != nil || v != "1" {
		t.Fatalf("setting after reopen = %q, %v", v, err)
	}
}

// TestTimelineReadsNoLog checks the layout the customer lookup relies on:
// the pipeline writes every timeline row with its copy of the event, and
// reading a timeline does not visit the event log (one page per event at
// scale, as the log is in arrival order).
func TestTimelineReadsNoLog(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	src := store.Source{ID: "src_web", Name: "web", Kind: "web", WriteKey: "wk", CreatedAt: time.Now()}
	if err := s.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	var recs []store.Record
	for i := 0; i < 30; i++ {
		body := fmt.Sprintf(`{"type":"track","event":"E%d","userId":"u%d","messageId":"m%d","timestamp":"2026-11-01T10:%02d:00Z","receivedAt":"2026-11-01T10:%02d:00Z"}`, i, i%3, i, i, i)
		ev, err := event.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.Record{SourceID: src.ID, Event: ev, Body: []byte(body)})
	}
	if _, err := s.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := (&pipeline.Pipeline{Store: s, BatchSize: 8}).Drain(ctx, nil); err != nil {
		t.Fatal(err)
	}
	db := s.Writer()
	var rows, without int
	if err := db.QueryRow(`SELECT count(*), count(*) - count(body) FROM timeline`).Scan(&rows, &without); err != nil {
		t.Fatal(err)
	}
	if rows != 30 || without != 0 {
		t.Fatalf("timeline has %d rows, %d without a copy; want 30, 0", rows, without)
	}
	// With the log gone, the timeline still lists every event in full.
	if _, err := db.Exec(`DELETE FROM events`); err != nil {
		t.Fatal(err)
	}
	p, err := s.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.Timeline(ctx, p.CustomerID, store.TimelineCursor{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 10 {
		t.Fatalf("%d entries, want 10", len(es))
	}
	for _, e := range es {
		var want store.Record
		for _, r := range recs {
			if r.Event.Event == e.Name {
				want = r
			}
		}
		if want.Body == nil || !bytes.Equal(e.Body, want.Body) || e.Type != "track" || e.SourceName != "web" {
			t.Errorf("entry %d = %s %q %s %s, want the body %s", e.Seq, e.Type, e.Name, e.SourceName, e.Body, want.Body)
		}
	}
}
