package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/metrics"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func source(t *testing.T, st store.Store) store.Source {
	t.Helper()
	src := store.Source{ID: "src1", Name: "shop", Kind: "web", WriteKey: "wk-journal", CreatedAt: time.Now().UTC()}
	if err := st.CreateSource(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	return src
}

// recs builds n track events with message ids prefix-0 .. prefix-(n-1).
func recs(src store.Source, prefix string, n int) []store.Record {
	out := make([]store.Record, n)
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for i := range out {
		ev := event.Event{Type: event.Track, MessageID: fmt.Sprintf("%s-%d", prefix, i), UserID: "u1",
			Event: "Product Viewed", Timestamp: at.Add(time.Duration(i) * time.Second), ReceivedAt: at}
		body := fmt.Sprintf(`{"type":"track","messageId":%q,"userId":"u1","event":"Product Viewed","timestamp":%q}`,
			ev.MessageID, ev.Timestamp.Format(time.RFC3339))
		out[i] = store.Record{SourceID: src.ID, Event: ev, Body: []byte(body)}
	}
	return out
}

func open(t *testing.T, opt Options) *Journal {
	t.Helper()
	if opt.Log == nil {
		opt.Log = quiet
	}
	j, err := Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func logged(t *testing.T, st store.Store) []store.StoredEvent {
	t.Helper()
	evs, err := st.Events(context.Background(), 0, 1000000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestAppendLoadsIntoLogOnce: acknowledged events reach the event log with
// their index fields and bodies intact, and repeats of a message id are
// stored once, on both stores.
func TestAppendLoadsIntoLogOnce(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		src := source(t, st)
		m := metrics.New()
		woken := 0
		var mu sync.Mutex
		j := open(t, Options{Dir: t.TempDir(), Store: st, Fsync: true, Metrics: m,
			After: func() { mu.Lock(); woken++; mu.Unlock() }})
		defer j.Close()
		ctx := context.Background()
		a := recs(src, "a", 250)
		isNew, err := j.Append(ctx, a)
		if err != nil || isNew != nil {
			t.Fatalf("Append = %v, %v; want nil, nil", isNew, err)
		}
		// The same 250 again (a client retrying) and 50 new ones.
		if _, err := j.Append(ctx, append(recs(src, "a", 250), recs(src, "b", 50)...)); err != nil {
			t.Fatal(err)
		}
		if err := j.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		evs := logged(t, st)
		if len(evs) != 300 {
			t.Fatalf("log has %d events, want 300", len(evs))
		}
		first := evs[0]
		if first.SourceID != src.ID || first.MessageID != "a-0" || first.Type != event.Track || first.Name != "Product Viewed" ||
			!first.Timestamp.Equal(a[0].Event.Timestamp) || string(first.Body) != string(a[0].Body) {
			t.Fatalf("first logged event %+v differs from what was appended %+v", first, a[0])
		}
		if recs, bytes := j.Backlog(); recs != 0 || bytes != 0 {
			t.Fatalf("backlog after Sync = %d records, %d bytes; want 0", recs, bytes)
		}
		mu.Lock()
		defer mu.Unlock()
		if woken == 0 {
			t.Fatal("After was never called")
		}
	})
}

// flaky is a store whose Append fails as if the database were away while
// down is set, and refuses any record whose message id is "poison".
type flaky struct {
	store.Store
	mu      sync.Mutex
	down    bool
	appends int
}

func (f *flaky) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }

func (f *flaky) Append(ctx context.Context, rs []store.Record) ([]bool, error) {
	f.mu.Lock()
	down := f.down
	f.appends++
	f.mu.Unlock()
	if down {
		return nil, fmt.Errorf("%w: connection refused", store.ErrUnavailable)
	}
	for _, r := range rs {
		if r.Event.MessageID == "poison" {
			return nil, errors.New("value too long for column")
		}
	}
	return f.Store.Append(ctx, rs)
}

// TestSurvivesRestartWhileDatabaseAway: events acknowledged while the
// database is away stay in the journal over a stop and are loaded at the
// next start; nothing is lost and nothing doubled.
func TestSurvivesRestartWhileDatabaseAway(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		src := source(t, st)
		dir := t.TempDir()
		fl := &flaky{Store: st, down: true}
		j := open(t, Options{Dir: dir, Store: fl, DrainTimeout: 200 * time.Millisecond})
		ctx := context.Background()
		if _, err := j.Append(ctx, recs(src, "x", 500)); err != nil {
			t.Fatal(err)
		}
		j.Close() // gives up draining: the database is away
		if n := len(logged(t, st)); n != 0 {
			t.Fatalf("log has %d events while the database was away", n)
		}
		// The next start loads them (and a repeat of some of them).
		j2 := open(t, Options{Dir: dir, Store: st})
		if recs, _ := j2.Backlog(); recs != 500 {
			t.Fatalf("backlog after restart = %d records, want 500", recs)
		}
		if _, err := j2.Append(ctx, recs(src, "x", 100)); err != nil {
			t.Fatal(err)
		}
		if err := j2.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		j2.Close()
		if n := len(logged(t, st)); n != 500 {
			t.Fatalf("log has %d events, want 500", n)
		}
		// The checkpoint is at the end: a third start loads nothing again.
		fl2 := &flaky{Store: st}
		j3 := open(t, Options{Dir: dir, Store: fl2})
		j3.Close()
		if fl2.appends != 0 {
			t.Fatalf("third start appended %d times; everything was loaded before", fl2.appends)
		}
	})
}

// TestLoaderWaitsForDatabase: while the database is away the loader
// retries; when it is back the events arrive.
func TestLoaderWaitsForDatabase(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		src := source(t, st)
		fl := &flaky{Store: st, down: true}
		j := open(t, Options{Dir: t.TempDir(), Store: fl})
		defer j.Close()
		ctx := context.Background()
		if _, err := j.Append(ctx, recs(src, "w", 50)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		fl.setDown(false)
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := j.Sync(sctx); err != nil {
			t.Fatal(err)
		}
		if n := len(logged(t, st)); n != 50 {
			t.Fatalf("log has %d events, want 50", n)
		}
	})
}

// TestTornTailIsCutOff: a frame half written when the process died is cut
// off at the next start; the whole frames before it are loaded and new
// appends follow them.
func TestTornTailIsCutOff(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		src := source(t, st)
		dir := t.TempDir()
		fl := &flaky{Store: st, down: true}
		j := open(t, Options{Dir: dir, Store: fl, DrainTimeout: 100 * time.Millisecond})
		ctx := context.Background()
		if _, err := j.Append(ctx, recs(src, "t", 10)); err != nil {
			t.Fatal(err)
		}
		j.Close()
		// Half a frame: the beginning of the next record's encoding.
		half := appendFrame(nil, &recs(src, "torn", 1)[0])
		seg := filepath.Join(dir, segName(1))
		f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(half[:len(half)/2])
		f.Close()

		j2 := open(t, Options{Dir: dir, Store: st})
		if _, err := j2.Append(ctx, recs(src, "after", 5)); err != nil {
			t.Fatal(err)
		}
		if err := j2.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		j2.Close()
		evs := logged(t, st)
		if len(evs) != 15 {
			t.Fatalf("log has %d events, want the 10 whole ones and 5 new", len(evs))
		}
		for _, e := range evs {
			if e.MessageID == "torn-0" {
				t.Fatal("the torn frame was loaded")
			}
		}
	})
}

// TestSegmentsRotateAndAreRemoved: with small segments, many appends end
// up in the log in order and loaded segments are deleted.
func TestSegmentsRotateAndAreRemoved(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		src := source(t, st)
		dir := t.TempDir()
		j := open(t, Options{Dir: dir, Store: st, SegmentSize: 4096, LoadBatch: 37})
		ctx := context.Background()
		var wg sync.WaitGroup
		for c := 0; c < 8; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				for k := 0; k < 10; k++ {
					if _, err := j.Append(ctx, recs(src, fmt.Sprintf("c%d-%d", c, k), 20)); err != nil {
						t.Error(err)
					}
				}
			}(c)
		}
		wg.Wait()
		if err := j.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		j.Close()
		if n := len(logged(t, st)); n != 8*10*20 {
			t.Fatalf("log has %d events, want %d", n, 8*10*20)
		}
		segs, err := segments(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != 1 || segs[0] < 10 {
			t.Fatalf("segments left: %v; want only the last of many", segs)
		}
	})
}

// TestRefusedEventKeptAsRejected: an event the log refuses after it was
// acknowledged is kept as a rejected event with the reason; its neighbours
// are loaded.
func TestRefusedEventKeptAsRejected(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		src := source(t, st)
		fl := &flaky{Store: st}
		j := open(t, Options{Dir: t.TempDir(), Store: fl})
		defer j.Close()
		ctx := context.Background()
		rs := recs(src, "n", 9)
		rs[4].Event.MessageID = "poison"
		if _, err := j.Append(ctx, rs); err != nil {
			t.Fatal(err)
		}
		if err := j.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(logged(t, st)); n != 8 {
			t.Fatalf("log has %d events, want the 8 good ones", n)
		}
		rej, err := st.RejectedEvents(ctx, src.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rej) != 1 || rej[0].MessageID != "poison" || rej[0].Reason == "" {
			t.Fatalf("rejected = %+v; want the poison event with a reason", rej)
		}
	})
}

// TestBacklogLimitRefuses: past the backlog limit Append answers
// ErrOverloaded (the client gets 503 and retries) instead of filling the disk.
func TestBacklogLimitRefuses(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		src := source(t, st)
		fl := &flaky{Store: st, down: true}
		j := open(t, Options{Dir: t.TempDir(), Store: fl, MaxBacklog: 1000, DrainTimeout: 100 * time.Millisecond})
		defer j.Close()
		ctx := context.Background()
		if _, err := j.Append(ctx, recs(src, "f", 20)); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Append(ctx, recs(src, "g", 1)); !errors.Is(err, store.ErrOverloaded) {
			t.Fatalf("Append past the limit = %v, want ErrOverloaded", err)
		}
	})
}

// TestClosedRefuses: after Close, Append fails with ErrClosed, and a second
// journal on the same directory is refused while the first is open.
func TestClosedRefuses(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		dir := t.TempDir()
		j := open(t, Options{Dir: dir, Store: st})
		if _, err := Open(Options{Dir: dir, Store: st, Log: quiet}); err == nil {
			t.Fatal("a second journal opened the same directory")
		}
		j.Close()
		j.Close()
		if _, err := j.Append(context.Background(), nil); !errors.Is(err, store.ErrClosed) {
			t.Fatalf("Append after Close = %v, want ErrClosed", err)
		}
	})
}

// TestFrameRoundTrip: what a frame holds comes back unchanged, and a
// damaged byte is detected.
func TestFrameRoundTrip(t *testing.T) {
	r := store.Record{SourceID: "s", Body: []byte(`{"a":1}`), Event: event.Event{MessageID: "m-ü", Type: event.Page,
		Name: "Home", Timestamp: time.UnixMilli(1700000000123).UTC(), ReceivedAt: time.UnixMilli(1700000000456).UTC()}}
	b := appendFrame(nil, &r)
	got, err := decodePayload(b[frameHeader:])
	if err != nil {
		t.Fatal(err)
	}
	if got.SourceID != r.SourceID || got.Event.MessageID != r.Event.MessageID || got.Event.Type != r.Event.Type ||
		got.Event.Event != "Home" || !got.Event.Timestamp.Equal(r.Event.Timestamp) ||
		!got.Event.ReceivedAt.Equal(r.Event.ReceivedAt) || string(got.Body) != string(r.Body) {
		t.Fatalf("round trip: got %+v, want %+v", got, r)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, segName(1))
	b[len(b)-2] ^= 0xff
	os.WriteFile(path, b, 0o600)
	end, n, err := validEnd(path, 0)
	if err != nil || end != 0 || n != 0 {
		t.Fatalf("validEnd of a damaged frame = %d, %d, %v; want 0, 0, nil", end, n, err)
	}
}

// TestCheckpointBeyondSegments: a checkpoint naming a segment that no
// longer exists (removed by hand) does not stop the start; writing goes on
// in a fresh segment and is loaded.
func TestCheckpointBeyondSegments(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		src := source(t, st)
		dir := t.TempDir()
		j := open(t, Options{Dir: dir, Store: st})
		ctx := context.Background()
		if _, err := j.Append(ctx, recs(src, "p", 3)); err != nil {
			t.Fatal(err)
		}
		if err := j.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		j.Close()
		if err := writeCheckpoint(dir, Pos{Seg: 7, Off: 100}); err != nil {
			t.Fatal(err)
		}
		j2 := open(t, Options{Dir: dir, Store: st})
		if _, err := j2.Append(ctx, recs(src, "q", 4)); err != nil {
			t.Fatal(err)
		}
		if err := j2.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		j2.Close()
		if n := len(logged(t, st)); n != 7 {
			t.Fatalf("log has %d events, want 7", n)
		}
	})
}

// TestLoaderYieldsToBursts: while requests queue for the journal, loading
// waits, but no longer than BurstDefer per batch, and not at all once a
// quarter of MaxBacklog waits to be loaded.
func TestLoaderYieldsToBursts(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		src := source(t, st)
		ctx := context.Background()
		loadedWithin := func(j *Journal, d time.Duration) time.Duration {
			t.Helper()
			start := time.Now()
			sctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			if err := j.Sync(sctx); err != nil {
				t.Fatalf("not loaded within %v: %v", d, err)
			}
			return time.Since(start)
		}

		const deferFor = 600 * time.Millisecond
		j := open(t, Options{Dir: t.TempDir(), Store: st, Fsync: true, BurstDefer: deferFor, MaxBacklog: 1 << 30})
		// Two requests waiting for the group commit: a burst.
		j.waiting.Add(2)
		// Timed from the request, not the answer: the loader starts waiting
		// once the group is written, and on a busy disk the fsync before the
		// answer can take most of deferFor.
		sent := time.Now()
		if _, err := j.Append(ctx, recs(src, "burst", 10)); err != nil {
			t.Fatal(err)
		}
		loadedWithin(j, 30*time.Second)
		if took := time.Since(sent); took < deferFor {
			t.Errorf("loaded %v after the request during a burst; it should wait %v", took, deferFor)
		}
		j.waiting.Add(-2)
		j.Close()

		// The same burst, but a quarter of the allowed backlog is used: the
		// journal must not fill up, so loading does not wait.
		j = open(t, Options{Dir: t.TempDir(), Store: st, Fsync: true, BurstDefer: time.Hour, MaxBacklog: 1024})
		defer j.Close()
		j.waiting.Add(2)
		if _, err := j.Append(ctx, recs(src, "full", 10)); err != nil {
			t.Fatal(err)
		}
		loadedWithin(j, 30*time.Second)
		j.waiting.Add(-2)
		if n := len(logged(t, st)); n != 20 {
			t.Fatalf("%d events in the log, want 20", n)
		}
	})
}
