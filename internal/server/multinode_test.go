package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/pgtest"
	"github.com/kunding/kunding/internal/store/sqlite"
)

// person is one customer of the multi-node test and how to find them.
type person struct {
	user, email string
	anons       []string
}

// multiNodeEvents makes, for n people, overlapping identities and orders:
// anonymous visits, identifies that link devices, e-mail seen from a device
// before login, an alias from a legacy id, and orders.
func multiNodeEvents(n int) ([]map[string]any, []person) {
	r := rand.New(rand.NewSource(42))
	var evs []map[string]any
	var people []person
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func() string { return t0.Add(time.Duration(r.Intn(90*24*60)) * time.Minute).Format(time.RFC3339) }
	for i := 0; i < n; i++ {
		p := person{user: fmt.Sprintf("u%05d", i), email: fmt.Sprintf("p%05d@example.com", i)}
		for d := 0; d < 2; d++ {
			p.anons = append(p.anons, fmt.Sprintf("a%05d-%d", i, d))
		}
		people = append(people, p)
		id := func(k string) string { return fmt.Sprintf("%s-%s", p.user, k) }
		evs = append(evs,
			map[string]any{"type": "page", "messageId": id("p0"), "anonymousId": p.anons[0], "name": "Home", "timestamp": at()},
			map[string]any{"type": "identify", "messageId": id("i0"), "anonymousId": p.anons[0], "userId": p.user, "timestamp": at(),
				"traits": map[string]any{"name": fmt.Sprintf("Person %d", i), "tier": r.Intn(3)}},
			// The second device is known only by the e-mail it reveals.
			map[string]any{"type": "track", "messageId": id("t1"), "anonymousId": p.anons[1], "event": "Newsletter Opened", "timestamp": at(),
				"context": map[string]any{"traits": map[string]any{"email": strings.ToUpper(p.email)}}},
			map[string]any{"type": "identify", "messageId": id("i1"), "userId": p.user, "timestamp": at(), "traits": map[string]any{"email": p.email}},
		)
		for o := 0; o < 1+i%3; o++ {
			evs = append(evs, map[string]any{"type": "track", "messageId": id(fmt.Sprint("o", o)), "userId": p.user, "event": "Order Completed",
				"timestamp": at(), "properties": map[string]any{"revenue": float64(r.Intn(10000)) / 100, "currency": "EUR"}})
		}
		if i%10 == 0 {
			legacy := "legacy-" + p.user
			evs = append(evs,
				map[string]any{"type": "track", "messageId": id("l"), "userId": legacy, "event": "Legacy", "timestamp": at()},
				map[string]any{"type": "alias", "messageId": id("al"), "userId": p.user, "previousId": legacy, "timestamp": at()})
		}
	}
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	return evs, people
}

// summary is what must be equal between one node and many: per person the
// set of identifiers of their customer, the counts and the sums.
func summary(t *testing.T, s store.Store, people []person) (string, store.Stats) {
	t.Helper()
	ctx := context.Background()
	var lines []string
	for _, p := range people {
		pr, err := s.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: p.user})
		if err != nil {
			t.Fatalf("customer of %s: %v", p.user, err)
		}
		ids, err := s.Identities(ctx, pr.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		var idl []string
		for _, id := range ids {
			idl = append(idl, id.Kind+":"+id.Value)
		}
		sort.Strings(idl)
		lines = append(lines, fmt.Sprintf("%s %v events=%d orders=%d rev=%d name=%s first=%d last=%d",
			p.user, idl, pr.Events, pr.Orders, pr.RevenueMicros, pr.Name, pr.FirstSeen.Unix(), pr.LastSeen.Unix()))
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n"), st
}

// TestThreeNodesEqualOne runs three nodes on one PostgreSQL database with
// concurrent writers sending overlapping identities and orders for 10,000
// people (and retrying some batches at another node), and checks that every
// count, sum and grouping equals what a single node computes from the same
// events.
func TestThreeNodesEqualOne(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	const people = 10000
	evs, ps := multiNodeEvents(people)
	phase0 := time.Now()

	// The single-node answer: one embedded store, one pipeline.
	single, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "single.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	var recs []store.Record
	for _, m := range evs {
		raw, _ := json.Marshal(m)
		e, err := event.Parse(raw, "", event.Envelope{ReceivedAt: time.Now()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(e)
		recs = append(recs, store.Record{SourceID: "src", Event: e, Body: body})
	}
	if _, err := single.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := (&pipeline.Pipeline{Store: single, BatchSize: 5000}).Drain(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want, wantStats := summary(t, single, ps)
	phase := time.Now()
	t.Logf("one node: %v", time.Since(phase0))

	// Three nodes on one database.
	var nodes []*server.Server
	for i := 0; i < 3; i++ {
		srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: url})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Shutdown(context.Background())
		nodes = append(nodes, srv)
	}
	src, err := source.Create(ctx, nodes[0].Store, "Multi", "web")
	if err != nil {
		t.Fatal(err)
	}
	const writers, batchSize = 6, 100
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w)))
			for start := w * batchSize; start < len(evs); start += writers * batchSize {
				batch := evs[start:min(start+batchSize, len(evs))]
				body, _ := json.Marshal(map[string]any{"batch": batch})
				sends := 1
				if r.Intn(10) == 0 {
					sends = 2 // an SDK retry, to another node behind the load balancer
				}
				for k := 0; k < sends; k++ {
					node := nodes[r.Intn(len(nodes))]
					if err := postUntilOK(node.Addr, src.WriteKey, body); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("three nodes accepted everything: %v", time.Since(phase))
	phase = time.Now()
	// Every node's pipeline competes for the work; wait until it is done.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		st, err := nodes[1].Store.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Events == int64(len(evs)) && st.Processed == st.LastSeq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline did not finish: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("pipeline caught up: %v", time.Since(phase))
	phase = time.Now()
	got, gotStats := summary(t, nodes[2].Store, ps)
	t.Logf("summary: %v", time.Since(phase))
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range wl {
			if gl[i] != wl[i] {
				t.Fatalf("three nodes differ from one node, first at %d:\n got %s\nwant %s", i, gl[i], wl[i])
			}
		}
	}
	if gotStats.Customers != wantStats.Customers || gotStats.Orders != wantStats.Orders ||
		gotStats.Identities != wantStats.Identities || gotStats.Events != wantStats.Events {
		t.Fatalf("stats: three nodes %+v, one node %+v", gotStats, wantStats)
	}
	if gotStats.Customers != people {
		t.Fatalf("customers = %d, want %d", gotStats.Customers, people)
	}
	// Merges were applied once: every merge record moves a different customer.
	for _, p := range ps[:200] {
		pr, _ := nodes[0].Store.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: p.user})
		ms, err := nodes[0].Store.Merges(ctx, pr.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, m := range ms {
			if seen[m.From] {
				t.Fatalf("customer %s merged twice: %+v", m.From, ms)
			}
			seen[m.From] = true
		}
	}
	t.Logf("%d events from %d writers through 3 nodes: %d customers, %d orders, %d merges (one node: %d merges)",
		len(evs), writers, gotStats.Customers, gotStats.Orders, gotStats.Merges, wantStats.Merges)
}

// postUntilOK sends a batch, retrying on 5xx as SDKs do.
func postUntilOK(addr, key string, body []byte) error {
	for attempt := 0; attempt < 50; attempt++ {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/batch", bytes.NewReader(body))
		req.SetBasicAuth(key, "")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			if resp.StatusCode < 500 {
				return fmt.Errorf("batch answered %d", resp.StatusCode)
			}
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
	return fmt.Errorf("batch not accepted after 50 attempts")
}
