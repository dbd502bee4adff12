package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/gdpr"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/pgtest"
	"github.com/kunding/kunding/internal/store/postgres"
	"github.com/kunding/kunding/internal/store/sqlite"
	"github.com/kunding/kunding/internal/webhook"
)

var ctx = context.Background()

// eachDB runs fn on a fresh SQLite file and a fresh PostgreSQL schema;
// open opens another store on the same database (a restart, another node).
func eachDB(t *testing.T, fn func(t *testing.T, open func() store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k.db")
		fn(t, func() store.Store {
			st, err := sqlite.Open(ctx, path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		fn(t, func() store.Store {
			st, err := postgres.Open(ctx, url, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

// receiver is an endpoint that checks signatures and counts what it got.
type receiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	got    []webhook.Payload
	byDel  map[string]int // delivery id -> requests
	bad    []string
	// answer decides the status of the n-th request (from 1).
	answer func(n int) int
	n      atomic.Int64
	delay  time.Duration
}

func newReceiver(t *testing.T, secret string, answer func(n int) int) *receiver {
	rc := &receiver{secret: secret, answer: answer, byDel: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(rc.n.Add(1))
		body, _ := io.ReadAll(r.Body)
		if rc.delay > 0 {
			time.Sleep(rc.delay)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.byDel[r.Header.Get("Kunding-Delivery")]++
		if err := webhook.Verify(rc.secret, r.Header.Get(webhook.SignatureHeader), body, 0, time.Now()); err != nil {
			rc.bad = append(rc.bad, err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil || p.Type != r.Header.Get("Kunding-Event") || p.ID != r.Header.Get("Kunding-Event-Id") {
			rc.bad = append(rc.bad, fmt.Sprintf("payload %s (%v) does not fit its headers", body, err))
		}
		code := http.StatusOK
		if rc.answer != nil {
			code = rc.answer(n)
		}
		if code == http.StatusOK {
			rc.got = append(rc.got, p)
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "answer %d", code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) payloads() []webhook.Payload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]webhook.Payload(nil), rc.got...)
}

// clock is a movable time for attempts and back-off.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newService(t *testing.T, st store.Store, holder string, clk *clock) *webhook.Service {
	t.Helper()
	s, err := webhook.New(st, holder)
	if err != nil {
		t.Fatal(err)
	}
	if clk != nil {
		s.Now = clk.Now
	}
	s.Backoff = func(n int) time.Duration { return time.Duration(n) * time.Minute }
	s.Timeout = 2 * time.Second
	return s
}

func TestSignVerify(t *testing.T) {
	now := time.Unix(1767254400, 0)
	body := []byte(`{"id":"evt_1","type":"case.created"}`)
	h := webhook.Sign("whsec_test", now, body)
	if !strings.HasPrefix(h, "t=1767254400,v1=") || len(h) != len("t=1767254400,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := webhook.Verify("whsec_test", h, body, 0, now.Add(time.Minute)); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// A second v1 (e.g. during a secret rotation on the receiver's side) is allowed.
	if err := webhook.Verify("whsec_test", "t=1767254400,v1=00,"+strings.Split(h, ",")[1], body, 0, now); err != nil {
		t.Fatalf("verify with two signatures: %v", err)
	}
	for name, tc := range map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
	}{
		"wrong secret":  {"whsec_other", h, body, now},
		"changed body":  {"whsec_test", h, []byte(`{"id":"evt_1","type":"case.solved"}`), now},
		"replayed late": {"whsec_test", h, body, now.Add(6 * time.Minute)},
		"no signature":  {"whsec_test", "t=1767254400", body, now},
		"garbage":       {"whsec_test", "hello", body, now},
	} {
		if err := webhook.Verify(tc.secret, tc.header, tc.body, 0, tc.now); !errors.Is(err, webhook.ErrSignature) {
			t.Errorf("%s: verify = %v, want ErrSignature", name, err)
		}
	}
}

// caseService returns a case service whose changes go to the webhooks.
func caseService(t *testing.T, st store.Store, wh *webhook.Service) *cases.Service {
	t.Helper()
	cs, err := cases.New(st, cases.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	cs.AddHook(wh.CaseHook)
	return cs
}

func TestDeliverySigned(t *testing.T) {
	eachDB(t, func(t *testing.T, open func() store.Store) {
		st := open()
		rc := newReceiver(t, "whsec_0123456789abcdef", nil)
		wh := newService(t, st, "node-1", nil)
		if _, err := wh.Create(ctx, webhook.Endpoint{URL: rc.srv.URL + "/hook", Events: []string{"case.solved", "case.created"},
			Secret: rc.secret}); err != nil {
			t.Fatal(err)
		}
		other := newReceiver(t, "whsec_other_secret_123", nil)
		if _, err := wh.Create(ctx, webhook.Endpoint{URL: other.srv.URL, Events: []string{"case.updated"}, Secret: other.secret}); err != nil {
			t.Fatal(err)
		}
		cs := caseService(t, st, wh)
		c, err := cs.Create(ctx, cases.NewCase{Contact: "max@example.com", Type: "complaint", Subject: "Paket nicht angekommen"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.AddNote(ctx, c.ID, "Rufe morgen an", false); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Transition(ctx, c.ID, cases.Move{Version: c.Version, Status: "solved", Resolution: "Neu versandt"}); err != nil {
			t.Fatal(err)
		}
		if n, err := wh.DeliverDue(ctx); err != nil || n != 3 {
			t.Fatalf("DeliverDue = %d, %v; want 3 attempts (created and solved; the note to the other)", n, err)
		}
		if len(rc.bad)+len(other.bad) > 0 {
			t.Fatalf("refused: %v %v", rc.bad, other.bad)
		}
		got := rc.payloads()
		if len(got) != 2 {
			t.Fatalf("the receiver got %d events, want created and solved", len(got))
		}
		types := map[string]webhook.Payload{}
		for _, p := range got {
			types[p.Type] = p
		}
		if p := types["case.created"]; p.Data.Case.ID != c.ID || p.Data.Case.Subject != "Paket nicht angekommen" || !strings.HasPrefix(p.ID, "evt_") {
			t.Fatalf("created payload %+v", p)
		}
		if p := types["case.solved"]; p.Data.Case.Status != "solved" || p.Data.Case.Resolution != "Neu versandt" {
			t.Fatalf("solved payload %+v", p)
		}
		if o := other.payloads(); len(o) != 1 || o[0].Type != "case.updated" || o[0].Data.Change.Note != "Rufe morgen an" {
			t.Fatalf("the case.updated endpoint got %+v, want the note", o)
		}
		log, err := wh.Deliveries(ctx, store.WebhookDeliveryFilter{CaseID: c.ID})
		if err != nil || len(log) != 3 {
			t.Fatalf("delivery log %d, %v", len(log), err)
		}
		for _, d := range log {
			if d.Status != store.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != 200 || d.DeliveredAt.IsZero() {
				t.Fatalf("delivery %+v", d)
			}
		}
		// Nothing is due any more.
		if n, err := wh.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("second round = %d, %v", n, err)
		}
	})
}

func TestRetryWithBackoff(t *testing.T) {
	eachDB(t, func(t *testing.T, open func() store.Store) {
		st := open()
		clk := &clock{t: time.Now()}
		// The receiver fails twice, then takes the delivery.
		rc := newReceiver(t, "whsec_0123456789abcdef", func(n int) int {
			if n <= 2 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		wh := newService(t, st, "node-1", clk)
		ep, err := wh.Create(ctx, webhook.Endpoint{URL: rc.srv.URL, Events: []string{"case.created"}, Secret: rc.secret})
		if err != nil {
			t.Fatal(err)
		}
		cs := caseService(t, st, wh)
		c, err := cs.Create(ctx, cases.NewCase{Contact: "max@example.com", Type: "request", Subject: "Rechnung bitte"})
		if err != nil {
			t.Fatal(err)
		}
		one := func() store.WebhookDelivery {
			t.Helper()
			ds, err := wh.Deliveries(ctx, store.WebhookDeliveryFilter{EndpointID: ep.ID})
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries %v, %v", ds, err)
			}
			return ds[0]
		}
		if n, _ := wh.DeliverDue(ctx); n != 1 {
			t.Fatalf("first attempt: %d", n)
		}
		d := one()
		if d.Status != store.DeliveryPending || d.Attempts != 1 || d.LastStatus != 503 || !strings.Contains(d.LastError, "HTTP 503") ||
			!d.NextAttempt.Equal(clk.Now().Truncate(time.Millisecond).Add(time.Minute)) {
			t.Fatalf("after a failure: %+v", d)
		}
		// Not due before its back-off is over.
		clk.Advance(59 * time.Second)
		if n, _ := wh.DeliverDue(ctx); n != 0 {
			t.Fatalf("attempted %d before the back-off ended", n)
		}
		clk.Advance(time.Second)
		wh.DeliverDue(ctx)
		if d = one(); d.Attempts != 2 || d.Status != store.DeliveryPending ||
			!d.NextAttempt.Equal(clk.Now().Truncate(time.Millisecond).Add(2*time.Minute)) {
			t.Fatalf("second failure: %+v (the wait doubles)", d)
		}
		clk.Advance(2 * time.Minute)
		wh.DeliverDue(ctx)
		if d = one(); d.Status != store.DeliveryDelivered || d.Attempts != 3 || d.LastStatus != 200 || d.LastError != "" {
			t.Fatalf("after success: %+v", d)
		}
		if got := rc.payloads(); len(got) != 1 || got[0].Data.Case.ID != c.ID {
			t.Fatalf("received %+v", got)
		}
		// The same event id on every attempt, so receivers can drop repeats.
		if rc.n.Load() != 3 {
			t.Fatalf("%d requests", rc.n.Load())
		}
	})
}

func TestGivesUpAndRetriesByHand(t *testing.T) {
	eachDB(t, func(t *testing.T, open func() store.Store) {
		st := open()
		clk := &clock{t: time.Now()}
		failing := true
		var mu sync.Mutex
		rc := newReceiver(t, "whsec_0123456789abcdef", func(int) int {
			mu.Lock()
			defer mu.Unlock()
			if failing {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		})
		wh := newService(t, st, "node-1", clk)
		wh.MaxAttempts = 3
		ep, _ := wh.Create(ctx, webhook.Endpoint{URL: rc.srv.URL, Events: []string{"case.created"}, Secret: rc.secret})
		cs := caseService(t, st, wh)
		if _, err := cs.Create(ctx, cases.NewCase{Contact: "x", Type: "idea", Subject: "Dunkelmodus"}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			wh.DeliverDue(ctx)
			clk.Advance(time.Hour)
		}
		ds, _ := wh.Deliveries(ctx, store.WebhookDeliveryFilter{EndpointID: ep.ID})
		if len(ds) != 1 || ds[0].Status != store.DeliveryFailed || ds[0].Attempts != 3 || !strings.Contains(ds[0].LastError, "500") {
			t.Fatalf("after giving up: %+v", ds)
		}
		mu.Lock()
		failing = false
		mu.Unlock()
		if err := wh.Retry(ctx, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		wh.DeliverDue(ctx)
		ds, _ = wh.Deliveries(ctx, store.WebhookDeliveryFilter{EndpointID: ep.ID})
		if ds[0].Status != store.DeliveryDelivered || ds[0].Attempts != 1 || ds[0].LastStatus != 204 {
			t.Fatalf("after retry by hand: %+v", ds[0])
		}
		if err := wh.Retry(ctx, ds[0].ID); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("retrying a delivered delivery: %v", err)
		}
	})
}

func TestTimeout(t *testing.T) {
	eachDB(t, func(t *testing.T, open func() store.Store) {
		st := open()
		rc := newReceiver(t, "whsec_0123456789abcdef", nil)
		rc.delay = 700 * time.Millisecond
		wh := newService(t, st, "node-1", nil)
		wh.Timeout = 100 * time.Millisecond
		ep, _ := wh.Create(ctx, webhook.Endpoint{URL: rc.srv.URL, Events: []string{"case.created"}, Secret: rc.secret})
		cs := caseService(t, st, wh)
		cs.Create(ctx, cases.NewCase{Contact: "x", Type: "idea", Subject: "Langsam"})
		start := time.Now()
		wh.DeliverDue(ctx)
		if el := time.Since(start); el > 600*time.Millisecond {
			t.Fatalf("the attempt took %v despite a 100 ms timeout", el)
		}
		ds, _ := wh.Deliveries(ctx, store.WebhookDeliveryFilter{EndpointID: ep.ID})
		if len(ds) != 1 || ds[0].Status != store.DeliveryPending || !strings.Contains(ds[0].LastError, "no answer within 100ms") {
			t.Fatalf("after a timeout: %+v", ds)
		}
	})
}

// A pending delivery survives a restart, and one that a node claimed and
// then died with is sent by the next node once the lease has run out.
func TestRestartLosesNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, open func() store.Store) {
		clk := &clock{t: time.Now()}
		rc := newReceiver(t, "whsec_0123456789abcdef", nil)
		st1 := open()
		wh1 := newService(t, st1, "node-1", clk)
		if _, err := wh1.Create(ctx, webhook.Endpoint{URL: rc.srv.URL, Events: []string{"case.created"}, Secret: rc.secret}); err != nil {
			t.Fatal(err)
		}
		cs := caseService(t, st1, wh1)
		for _, subj := range []string{"Erster Fall", "Zweiter Fall"} {
			if _, err := cs.Create(ctx, cases.NewCase{Contact: "x", Type: "complaint", Subject: subj}); err != nil {
				t.Fatal(err)
			}
		}
		// node-1 claims one delivery and dies before sending it.
		ws1 := st1.(store.WebhookStore)
		claimed, err := ws1.ClaimWebhookDeliveries(ctx, "node-1", clk.Now(), time.Minute, 1)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		st1.Close()

		st2 := open()
		wh2 := newService(t, st2, "node-2", clk)
		if n, err := wh2.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("after restart: %d, %v; want the unclaimed one", n, err)
		}
		if len(rc.payloads()) != 1 {
			t.Fatalf("received %d", len(rc.payloads()))
		}
		if n, _ := wh2.DeliverDue(ctx); n != 0 {
			t.Fatalf("the leased delivery was taken while its lease ran: %d", n)
		}
		clk.Advance(time.Minute + time.Millisecond)
		if n, err := wh2.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("after the lease ran out: %d, %v", n, err)
		}
		got := rc.payloads()
		if len(got) != 2 || got[0].Data.Case.Subject == got[1].Data.Case.Subject {
			t.Fatalf("received %+v", got)
		}
		// The dead node's late outcome does not count.
		d := claimed[0]
		d.Status, d.Attempts = store.DeliveryFailed, 1
		st3 := open()
		if err := st3.(store.WebhookStore).FinishWebhookAttempt(ctx, d, "node-1"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("late finish of a lost lease: %v", err)
		}
	})
}

// Two nodes on one database send every delivery exactly once.
func TestTwoNodesDeliverOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, open func() store.Store) {
		rc := newReceiver(t, "whsec_0123456789abcdef", nil)
		rc.delay = 5 * time.Millisecond
		st1, st2 := open(), open()
		wh1, wh2 := newService(t, st1, "node-1", nil), newService(t, st2, "node-2", nil)
		wh1.Batch, wh2.Batch = 3, 3
		if _, err := wh1.Create(ctx, webhook.Endpoint{URL: rc.srv.URL, Events: []string{"case.created"}, Secret: rc.secret}); err != nil {
			t.Fatal(err)
		}
		cs := caseService(t, st1, wh1)
		const n = 30
		for i := 0; i < n; i++ {
			if _, err := cs.Create(ctx, cases.NewCase{Contact: "x", Type: "request", Subject: fmt.Sprintf("Fall %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var attempted [2]int
		for i, wh := range []*webhook.Service{wh1, wh2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k, err := wh.DeliverDue(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if k == 0 {
						return
					}
					attempted[i] += k
				}
			}()
		}
		wg.Wait()
		if attempted[0]+attempted[1] != n {
			t.Fatalf("attempted %v, want %d in all", attempted, n)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if len(rc.byDel) != n {
			t.Fatalf("%d distinct deliveries received, want %d", len(rc.byDel), n)
		}
		for id, k := range rc.byDel {
			if k != 1 {
				t.Fatalf("delivery %s sent %d times", id, k)
			}
		}
		t.Logf("node-1 sent %d, node-2 sent %d", attempted[0], attempted[1])
	})
}

func TestEndpointValidation(t *testing.T) {
	eachDB(t, func(t *testing.T, open func() store.Store) {
		st := open()
		wh := newService(t, st, "node-1", nil)
		for name, e := range map[string]webhook.Endpoint{
			"no url":       {Events: []string{"case.created"}},
			"ftp":          {URL: "ftp://example.com/x", Events: []string{"case.created"}},
			"relative":     {URL: "/hook", Events: []string{"case.created"}},
			"credentials":  {URL: "https://u:p@example.com/", Events: []string{"case.created"}},
			"no events":    {URL: "https://example.com/"},
			"bad event":    {URL: "https://example.com/", Events: []string{"case.deleted"}},
			"short secret": {URL: "https://example.com/", Events: []string{"case.created"}, Secret: "abc"},
		} {
			if _, err := wh.Create(ctx, e); !errors.Is(err, webhook.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
		if es, _ := wh.Endpoints(ctx); len(es) != 0 {
			t.Fatalf("refused endpoints were stored: %v", es)
		}
		e, err := wh.Create(ctx, webhook.Endpoint{URL: "https://example.com/hook", Events: []string{"case.solved", "case.created", "case.solved"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.Secret, "whsec_") || strings.Join(e.Events, ",") != "case.created,case.solved" || !e.Enabled {
			t.Fatalf("created %+v", e)
		}
		off := false
		e2, err := wh.Update(ctx, e.ID, webhook.Endpoint{Enabled: &off, Events: []string{"case.escalated"}})
		if err != nil || e2.Enabled || strings.Join(e2.Events, ",") != "case.escalated" || e2.Secret != e.Secret {
			t.Fatalf("updated %+v, %v", e2, err)
		}
		e3, err := wh.RotateSecret(ctx, e.ID)
		if err != nil || e3.Secret == e.Secret {
			t.Fatalf("rotated %+v, %v", e3, err)
		}
		if err := wh.Delete(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := wh.Endpoint(ctx, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted endpoint: %v", err)
		}
		entries, err := st.AuditEntries(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for _, en := range entries {
			acts = append(acts, en.Action)
		}
		for _, want := range []string{"webhook.create", "webhook.update", "webhook.delete"} {
			if !strings.Contains(strings.Join(acts, " "), want) {
				t.Errorf("audit log lacks %s: %v", want, acts)
			}
		}
	})
}

// A GDPR erasure deletes the deliveries of the person's cases: their
// payloads hold the case.
func TestErasureDeletesDeliveries(t *testing.T) {
	eachDB(t, func(t *testing.T, open func() store.Store) {
		st := open()
		src, err := source.Create(ctx, st, "Shop", "shop")
		if err != nil {
			t.Fatal(err)
		}
		for i, uid := range []string{"C-1", "C-2"} {
			ev := event.Event{Type: "identify", MessageID: fmt.Sprintf("m%d", i), UserID: uid, Traits: json.RawMessage(`{"name":"X"}`),
				Timestamp: time.Now(), ReceivedAt: time.Now()}
			body, _ := json.Marshal(ev)
			if _, err := st.Append(ctx, []store.Record{{SourceID: src.ID, Event: ev, Body: body}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := (&pipeline.Pipeline{Store: st}).Drain(ctx, nil); err != nil {
			t.Fatal(err)
		}
		wh := newService(t, st, "node-1", nil)
		if _, err := wh.Create(ctx, webhook.Endpoint{URL: "https://example.com/hook", Events: []string{"case.created"}}); err != nil {
			t.Fatal(err)
		}
		cs := caseService(t, st, wh)
		var keep string
		for _, uid := range []string{"C-1", "C-2"} {
			p, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: uid})
			if err != nil {
				t.Fatal(err)
			}
			c, err := cs.Create(ctx, cases.NewCase{CustomerID: p.CustomerID, Type: "complaint", Subject: "Beschwerde " + uid})
			if err != nil {
				t.Fatal(err)
			}
			if uid == "C-2" {
				keep = c.ID
			}
		}
		p1, _ := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "C-1"})
		if _, err := gdpr.Erase(ctx, st, p1.CustomerID, gdpr.EraseOptions{}); err != nil {
			t.Fatal(err)
		}
		ds, err := wh.Deliveries(ctx, store.WebhookDeliveryFilter{})
		if err != nil || len(ds) != 1 || ds[0].CaseID != keep {
			t.Fatalf("after erasure: %+v %v; want only the other customer's delivery", ds, err)
		}
	})
}
