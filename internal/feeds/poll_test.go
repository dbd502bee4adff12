package feeds_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/feeds"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/pgtest"
	"github.com/kunding/kunding/internal/store/postgres"
	"github.com/kunding/kunding/internal/store/sqlite"
	"github.com/kunding/kunding/internal/store/storetest"
)

// feedServer serves feed documents from testdata by path, each in a mode
// that the test switches: ok (with ETag and 304), 500, badxml, slow.
type feedServer struct {
	mu   sync.Mutex
	file map[string]string
	mode map[string]string
	hits map[string]int
	cond map[string]int // conditional requests seen
}

func newFeedServer(t *testing.T) (*feedServer, *httptest.Server) {
	fs := &feedServer{file: map[string]string{}, mode: map[string]string{}, hits: map[string]int{}, cond: map[string]int{}}
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	return fs, srv
}

func (s *feedServer) set(path, file, mode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.file[path], s.mode[path] = file, mode
}

func (s *feedServer) count(path string) (hits, conditional int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path], s.cond[path]
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	file, mode := s.file[r.URL.Path], s.mode[r.URL.Path]
	s.hits[r.URL.Path]++
	if r.Header.Get("If-None-Match") != "" {
		s.cond[r.URL.Path]++
	}
	s.mu.Unlock()
	switch mode {
	case "500":
		http.Error(w, "internal error", 500)
		return
	case "badxml":
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><item><title>cut off`))
		return
	case "slow":
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
		return
	case "big":
		w.Write([]byte(`<rss><channel>` + strings.Repeat("<item><title>x</title></item>", 10000) + `</channel></rss>`))
		return
	}
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		http.Error(w, err.Error(), 404)
		return
	}
	etag := fmt.Sprintf(`"%s-%d"`, file, len(data))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/xml")
	w.Write(data)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func ptr[T any](v T) *T { return &v }

func mustFeed(t *testing.T, st store.Store, name, url, kind string) store.Feed {
	t.Helper()
	f, err := feeds.Create(context.Background(), st, feeds.Settings{Name: ptr(name), URL: ptr(url), Kind: ptr(kind), IntervalSeconds: ptr(900)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func feedState(t *testing.T, st store.Store, id string) store.Feed {
	t.Helper()
	f, err := st.(store.FeedbackStore).Feed(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func byFeed(reps []feeds.Report) map[string]feeds.Report {
	m := map[string]feeds.Report{}
	for _, r := range reps {
		m[r.FeedID] = r
	}
	return m
}

func counts(t *testing.T, st store.Store) (events, rows int) {
	t.Helper()
	s, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fbs, err := st.(store.FeedbackStore).ListFeedback(context.Background(), store.FeedbackFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return int(s.Events), len(fbs)
}

// TestPolling walks RSS and Atom feeds through new items, repeated items,
// a broken item, a feed that answers 500, then broken XML, then not in
// time, and its recovery; the status of each step is visible on the feed.
func TestPolling(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		srv, ts := newFeedServer(t)
		srv.set("/reviews.rss", "reviews.rss", "ok")
		srv.set("/forum.atom", "forum.atom", "ok")
		clk := &clock{t: time.Now().Add(time.Second)}
		p := &feeds.Poller{Store: st, Intake: &feedback.Service{Store: st}, Holder: "node-1", Now: clk.now, Timeout: 300 * time.Millisecond, MaxBytes: 64 << 10}
		rss := mustFeed(t, st, "Reviews", ts.URL+"/reviews.rss", "review")
		atom := mustFeed(t, st, "Fan forum", ts.URL+"/forum.atom", "forum")
		if rss.Portal != "127.0.0.1" {
			t.Errorf("portal from the URL: %q", rss.Portal)
		}

		// 1. New items; the broken item is skipped and reported, its
		// neighbours are stored.
		reps, err := p.PollDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r := byFeed(reps)
		if got := r[rss.ID]; got.Items != 3 || got.New != 2 || got.Skipped != 1 || got.Error != "" {
			t.Fatalf("rss poll 1: %+v", got)
		}
		if got := r[atom.ID]; got.Items != 2 || got.New != 2 || got.Error != "" {
			t.Fatalf("atom poll 1: %+v", got)
		}
		f := feedState(t, st, rss.ID)
		if f.LastSuccess == nil || f.LastError != "" || f.LastItems != 3 || f.LastNew != 2 || f.LastSkipped != 1 ||
			!strings.Contains(f.ItemErrors, "rev-broken") || !strings.Contains(f.ItemErrors, "no text") || f.TotalNew != 2 ||
			!f.NextPoll.Equal(clk.now().Add(15*time.Minute).Truncate(time.Millisecond)) {
			t.Fatalf("rss state after poll 1: %+v", f)
		}
		fbs, err := st.(store.FeedbackStore).ListFeedback(ctx, store.FeedbackFilter{FeedID: atom.ID, Limit: 10})
		if err != nil || len(fbs) != 2 || fbs[0].Kind != "forum" || fbs[0].Author != "Rita R." || fbs[0].Sentiment != "negative" || fbs[1].Author != "mo" {
			t.Fatalf("atom feedback: %+v %v", fbs, err)
		}
		if ev, rows := counts(t, st); ev != 4 || rows != 4 {
			t.Fatalf("after poll 1: %d events, %d rows", ev, rows)
		}

		// Not due yet: nothing is fetched.
		reps, _ = p.PollDue(ctx)
		if len(reps) != 0 {
			t.Fatalf("polled before due: %+v", reps)
		}

		// 2. The RSS feed has one new and two repeated items; the Atom
		// feed did not change (304 on the conditional GET).
		srv.set("/reviews.rss", "reviews2.rss", "ok")
		clk.add(16 * time.Minute)
		r = byFeed(must(p.PollDue(ctx)))
		if got := r[rss.ID]; got.Items != 3 || got.New != 1 || got.Duplicates != 2 || got.Skipped != 0 {
			t.Fatalf("rss poll 2: %+v", got)
		}
		if got := r[atom.ID]; !got.NotModified || got.New != 0 {
			t.Fatalf("atom poll 2: %+v", got)
		}
		if _, cond := srv.count("/forum.atom"); cond != 1 {
			t.Errorf("atom: %d conditional requests, want 1", cond)
		}
		if ev, rows := counts(t, st); ev != 5 || rows != 5 {
			t.Fatalf("after poll 2: %d events, %d rows", ev, rows)
		}

		// 3. The feed breaks: HTTP 500, then invalid XML, then a timeout.
		// Each is recorded; the wait doubles; the other feed goes on.
		step := func(mode, want string, failures int, wait time.Duration) {
			t.Helper()
			srv.set("/reviews.rss", "reviews2.rss", mode)
			f := feedState(t, st, rss.ID)
			clk.t = f.NextPoll.Add(time.Second)
			r := byFeed(must(p.PollDue(ctx)))
			if got := r[rss.ID]; !strings.Contains(got.Error, want) {
				t.Fatalf("%s: report %+v, want error %q", mode, got, want)
			}
			f = feedState(t, st, rss.ID)
			if !strings.Contains(f.LastError, want) || f.Failures != failures || f.LastPoll == nil ||
				!f.NextPoll.Equal(clk.now().Add(wait).Truncate(time.Millisecond)) {
				t.Fatalf("%s: state %+v", mode, f)
			}
		}
		step("500", "HTTP 500", 1, 15*time.Minute)
		step("badxml", "invalid XML", 2, 30*time.Minute)
		step("slow", "timeout", 3, 60*time.Minute)
		step("big", "larger than", 4, 120*time.Minute)
		if f := feedState(t, st, atom.ID); f.Failures != 0 || f.LastError != "" {
			t.Errorf("the good feed suffered: %+v", f)
		}
		if ev, rows := counts(t, st); ev != 5 || rows != 5 {
			t.Fatalf("broken polls stored something: %d events, %d rows", ev, rows)
		}

		// 4. It recovers.
		srv.set("/reviews.rss", "reviews.rss", "ok")
		clk.t = feedState(t, st, rss.ID).NextPoll.Add(time.Second)
		r = byFeed(must(p.PollDue(ctx)))
		if got := r[rss.ID]; got.Error != "" || got.New != 0 || got.Duplicates != 2 || got.Skipped != 1 {
			t.Fatalf("recovery: %+v", got)
		}
		f = feedState(t, st, rss.ID)
		if f.Failures != 0 || f.LastError != "" || !f.LastSuccess.Equal(*f.LastPoll) || f.TotalNew != 3 {
			t.Fatalf("state after recovery: %+v", f)
		}

		// A disabled feed is not polled; a forced poll still is.
		if _, err := feeds.Update(ctx, st, atom.ID, feeds.Settings{Enabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		clk.add(48 * time.Hour)
		if r := byFeed(must(p.PollDue(ctx))); r[atom.ID].Polled {
			t.Error("disabled feed polled")
		}
		if rep, err := p.PollFeed(ctx, atom.ID, true); err != nil || !rep.Polled {
			t.Errorf("forced poll: %+v %v", rep, err)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestTwoNodes runs two pollers on one database at the same time: one
// fetch per feed and poll time (the lease), and no item stored twice even
// when the same feed was configured twice (the feedback id).
func TestTwoNodes(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		// One SQLite store is one node; two pollers still share it.
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		twoNodes(t, st, st)
	})
	t.Run("postgres", func(t *testing.T) {
		// Two nodes: two connection pools on one database.
		url := pgtest.URL(t)
		var nodes [2]store.Store
		for i := range nodes {
			st, err := postgres.Open(context.Background(), url, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			nodes[i] = st
		}
		twoNodes(t, nodes[0], nodes[1])
	})
}

func twoNodes(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	srv, ts := newFeedServer(t)
	srv.set("/reviews.rss", "reviews.rss", "ok")
	srv.set("/copy.rss", "reviews.rss", "ok")
	clk := &clock{t: time.Now().Add(time.Second)}
	f := mustFeed(t, a, "Reviews", ts.URL+"/reviews.rss", "review")
	// The same reviews under a second feed of the same portal.
	if _, err := feeds.Create(ctx, a, feeds.Settings{Name: ptr("Copy"), URL: ptr(ts.URL + "/copy.rss"), Portal: ptr(f.Portal)}); err != nil {
		t.Fatal(err)
	}
	pollers := []*feeds.Poller{
		{Store: a, Intake: &feedback.Service{Store: a}, Holder: "node-a", Now: clk.now},
		{Store: b, Intake: &feedback.Service{Store: b}, Holder: "node-b", Now: clk.now},
	}
	for round := range 3 {
		if round == 1 {
			srv.set("/reviews.rss", "reviews2.rss", "ok")
			srv.set("/copy.rss", "reviews2.rss", "ok")
		}
		var wg sync.WaitGroup
		for _, p := range pollers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := p.PollDue(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if hits, _ := srv.count("/reviews.rss"); hits != round+1 {
			t.Fatalf("round %d: the feed was fetched %d times, want %d", round, hits, round+1)
		}
		clk.add(16 * time.Minute)
	}
	// rev-1001, rev-1002 and rev-1003, once each, with one event each.
	for _, st := range []store.Store{a, b} {
		if ev, rows := counts(t, st); ev != 3 || rows != 3 {
			t.Fatalf("%d events, %d rows; want 3 each", ev, rows)
		}
	}
}
