package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/metrics"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/sqlite"
)

// slowStore is the real SQLite store whose appends wait until the test
// lets them go, or fail while fail is set: a disk that is slow or broken.
type slowStore struct {
	store.Store
	entered chan struct{} // one value per Append call that started
	release chan struct{} // closed to let appends proceed
	fail    atomic.Bool
	poison  atomic.Value // a messageId the database refuses, as if its data were bad
	calls   atomic.Int32
}

func (s *slowStore) Append(ctx context.Context, recs []store.Record) ([]bool, error) {
	s.calls.Add(1)
	if s.fail.Load() {
		return nil, fmt.Errorf("%w: disk I/O error", store.ErrUnavailable) // as the SQLite store reports it
	}
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p, _ := s.poison.Load().(string); p != "" {
		for _, r := range recs {
			if r.Event.MessageID == p {
				return nil, errors.New("value violates a check constraint")
			}
		}
	}
	return s.Store.Append(ctx, recs)
}

type rig struct {
	st  *slowStore
	ap  *Appender
	m   *metrics.Metrics
	src store.Source
	url string
}

func newRig(t testing.TB, queue int) *rig {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kunding.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	src, err := source.Create(ctx, db, "shop", "shop")
	if err != nil {
		t.Fatal(err)
	}
	st := &slowStore{Store: db, entered: make(chan struct{}, 16), release: make(chan struct{})}
	m := metrics.New()
	ap := NewAppender(st, m, queue, nil)
	c := &Collector{Store: db, Appender: ap, Metrics: m, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	mux := http.NewServeMux()
	c.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		ap.Close()
	})
	return &rig{st: st, ap: ap, m: m, src: src, url: hs.URL}
}

type answer struct {
	code       int
	retryAfter string
	body       map[string]any
}

func (r *rig) post(t *testing.T, path, body string) answer {
	req, _ := http.NewRequest(http.MethodPost, r.url+path, bytes.NewReader([]byte(body)))
	req.SetBasicAuth(r.src.WriteKey, "")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST %s: %v", path, err)
		return answer{}
	}
	defer res.Body.Close()
	a := answer{code: res.StatusCode, retryAfter: res.Header.Get("Retry-After")}
	if err := json.NewDecoder(res.Body).Decode(&a.body); err != nil {
		t.Errorf("POST %s: answer is not JSON: %v", path, err)
	}
	return a
}

func (r *rig) stats(t *testing.T) store.Stats {
	t.Helper()
	st, err := r.st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func counter(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() == name {
			for _, mm := range f.GetMetric() {
				sum += mm.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// waitFor polls cond; the conditions it waits for are reached within
// microseconds, the deadline only bounds a broken test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestOverload fills the write queue: one request is being committed, one
// waits in the queue of one, and the next is answered 503 with Retry-After
// at once, without storing anything of it.
func TestOverload(t *testing.T) {
	r := newRig(t, 1)
	batch := func(id string) string {
		return `{"batch":[{"type":"track","userId":"u","event":"Load","messageId":"` + id + `"},{"type":"track","userId":"u"}]}`
	}

	var wg sync.WaitGroup
	answers := make([]answer, 2)
	wg.Go(func() { answers[0] = r.post(t, "/v1/batch", batch("first")) })
	<-r.st.entered // the first request is being committed and left the queue
	wg.Go(func() { answers[1] = r.post(t, "/v1/batch", batch("second")) })
	waitFor(t, "the second request to wait in the queue", func() bool { return len(r.ap.reqs) == 1 })

	for _, path := range []string{"/v1/batch", "/v1/track"} {
		body := batch("third")
		if path == "/v1/track" {
			body = `{"userId":"u","event":"Load","messageId":"fourth"}`
		}
		a := r.post(t, path, body)
		if a.code != http.StatusServiceUnavailable {
			t.Fatalf("%s with a full queue: %d %v, want 503", path, a.code, a.body)
		}
		if a.retryAfter == "" {
			t.Errorf("%s: 503 without Retry-After", path)
		}
		if msg, _ := a.body["error"].(string); msg == "" || a.body["success"] != false {
			t.Errorf("%s: 503 answer %v lacks an error", path, a.body)
		}
	}
	if got := counter(t, r.m, "kunding_requests_overloaded_total"); got != 2 {
		t.Errorf("kunding_requests_overloaded_total = %v, want 2", got)
	}

	close(r.st.release)
	wg.Wait()
	for i, a := range answers {
		if a.code != http.StatusOK || a.body["accepted"] != 1.0 {
			t.Errorf("queued request %d: %d %v", i+1, a.code, a.body)
		}
	}
	st := r.stats(t)
	if st.Events != 2 {
		t.Errorf("%d events stored, want 2 (the refused requests store nothing)", st.Events)
	}
	// The invalid event of each answered batch is kept once; the refused
	// batch's is kept when the client's retry gets its answer.
	if st.Rejected != 2 {
		t.Errorf("%d rejected events kept, want 2", st.Rejected)
	}
	if a := r.post(t, "/v1/batch", batch("third")); a.code != http.StatusOK || a.body["accepted"] != 1.0 {
		t.Errorf("retry after overload: %d %v", a.code, a.body)
	}
	if st := r.stats(t); st.Events != 3 || st.Rejected != 3 {
		t.Errorf("after the retry: %d events, %d rejected; want 3 and 3", st.Events, st.Rejected)
	}
}

// TestStoreUnavailable answers 503 with Retry-After when commits fail, after
// the appender's own retries, and stores nothing.
func TestStoreUnavailable(t *testing.T) {
	r := newRig(t, 4)
	close(r.st.release)
	r.st.fail.Store(true)
	a := r.post(t, "/v1/track", `{"userId":"u","event":"Lost?","messageId":"x"}`)
	if a.code != http.StatusServiceUnavailable || a.retryAfter == "" {
		t.Fatalf("failing store: %d Retry-After %q, want 503 with Retry-After", a.code, a.retryAfter)
	}
	if got := r.st.calls.Load(); got < 2 {
		t.Errorf("the appender tried %d times, want retries", got)
	}
	r.st.fail.Store(false)
	if a := r.post(t, "/v1/track", `{"userId":"u","event":"Lost?","messageId":"x"}`); a.code != http.StatusOK {
		t.Fatalf("after recovery: %d %v", a.code, a.body)
	}
	if st := r.stats(t); st.Events != 1 {
		t.Errorf("%d events, want 1", st.Events)
	}
}

// TestAppenderClose refuses appends after Close with ErrClosed, also when
// they race with it, and commits everything it accepted.
func TestAppenderClose(t *testing.T) {
	r := newRig(t, 64)
	close(r.st.release)
	var wg sync.WaitGroup
	var committed, closed atomic.Int32
	for i := range 200 {
		wg.Go(func() {
			ev := event.Event{Type: event.Track, MessageID: fmt.Sprint("c-", i), UserID: "u", Event: "E", Timestamp: time.Now(), ReceivedAt: time.Now()}
			body, _ := json.Marshal(ev)
			isNew, err := r.ap.Append(context.Background(), []store.Record{{SourceID: r.src.ID, Event: ev, Body: body}})
			switch {
			case err == nil && len(isNew) == 1 && isNew[0]:
				committed.Add(1)
			case errors.Is(err, ErrClosed), errors.Is(err, ErrOverloaded):
				closed.Add(1)
			default:
				t.Errorf("append %d: %v %v", i, isNew, err)
			}
		})
		if i == 100 {
			r.ap.Close()
		}
	}
	wg.Wait()
	r.ap.Close() // a second Close is harmless
	if _, err := r.ap.Append(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v, want ErrClosed", err)
	}
	if st := r.stats(t); st.Events != int64(committed.Load()) {
		t.Errorf("%d events stored, %d appends reported committed", st.Events, committed.Load())
	}
	if committed.Load()+closed.Load() != 200 {
		t.Errorf("%d committed + %d refused != 200", committed.Load(), closed.Load())
	}
	a := r.post(t, "/v1/track", `{"userId":"u","event":"Late"}`)
	if a.code != http.StatusServiceUnavailable || a.retryAfter == "" {
		t.Errorf("request after close: %d Retry-After %q, want 503", a.code, a.retryAfter)
	}
}

// TestRefusedDataFailsOnlyItsRequest: when the database refuses one
// request's data, the other requests of the same group commit are stored.
func TestRefusedDataFailsOnlyItsRequest(t *testing.T) {
	r := newRig(t, 64)
	r.st.poison.Store("bad")
	// Hold the first commit so that the next requests queue into one group.
	done := make(chan answer, 4)
	go func() { done <- r.post(t, "/v1/track", `{"userId":"u","event":"First","messageId":"first"}`) }()
	<-r.st.entered
	for _, id := range []string{"ok-1", "bad", "ok-2"} {
		id := id
		go func() { done <- r.post(t, "/v1/track", `{"userId":"u","event":"E","messageId":"`+id+`"}`) }()
	}
	time.Sleep(200 * time.Millisecond) // let the three queue behind the held commit
	close(r.st.release)
	codes := map[int]int{}
	for i := 0; i < 4; i++ {
		a := <-done
		codes[a.code]++
		if a.code == http.StatusInternalServerError && a.body["error"] == "" {
			t.Errorf("500 without an error text")
		}
	}
	if codes[200] != 3 || codes[500] != 1 {
		t.Fatalf("answers %v, want three 200 and one 500", codes)
	}
	if st := r.stats(t); st.Events != 3 {
		t.Fatalf("%d events stored, want 3", st.Events)
	}
}
