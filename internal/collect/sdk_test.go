package collect_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
)

// sdkResults records what the SDK reports per message.
type sdkResults struct {
	mu        sync.Mutex
	succeeded []string
	failed    []string
}

func (r *sdkResults) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.succeeded) + len(r.failed)
}

func messageID(m analytics.Message) string {
	b, _ := json.Marshal(m)
	var v struct {
		MessageID string `json:"messageId"`
	}
	json.Unmarshal(b, &v)
	return v.MessageID
}

func (r *sdkResults) Success(m analytics.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.succeeded = append(r.succeeded, messageID(m))
}

func (r *sdkResults) Failure(m analytics.Message, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, messageID(m)+": "+err.Error())
}

func newSDK(t *testing.T, endpoint, writeKey string, batchSize int, cb analytics.Callback) analytics.Client {
	t.Helper()
	client, err := analytics.NewWithConfig(writeKey, analytics.Config{
		Endpoint:   endpoint,
		BatchSize:  batchSize,
		Interval:   50 * time.Millisecond,
		Verbose:    false,
		Logger:     analytics.StdLogger(log.New(io.Discard, "", 0)),
		Callback:   cb,
		RetryAfter: func(int) time.Duration { return 10 * time.Millisecond },
	})
	if err != nil {
		t.Fatalf("analytics.NewWithConfig: %v", err)
	}
	return client
}

// TestSegmentGoSDK drives the official Segment Go SDK against a real server:
// every call type arrives once and identity resolution ties them to one
// customer.
func TestSegmentGoSDK(t *testing.T) { eachStore(t, testSegmentGoSDK) }

func testSegmentGoSDK(t *testing.T, db string) {
	srv := startServerDB(t, db)
	cb := &sdkResults{}
	// A batch size of 3 makes the SDK send several batches, concurrently.
	client := newSDK(t, srv.URL, srv.Source.WriteKey, 3, cb)

	day := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Millisecond)
	msgs := []analytics.Message{
		analytics.Page{MessageId: "sdk-page-1", AnonymousId: "anon-ada", Name: "Home",
			Properties: analytics.NewProperties().SetURL("https://shop.example/").SetTitle("Home")},
		analytics.Track{MessageId: "sdk-view-1", AnonymousId: "anon-ada", Event: "Product Viewed",
			Properties: analytics.NewProperties().Set("product_id", "p-42")},
		analytics.Identify{MessageId: "sdk-identify-1", AnonymousId: "anon-ada", UserId: "user-ada",
			Traits: analytics.NewTraits().SetEmail("Ada@Example.com").SetName("Ada Lovelace").Set("plan", "gold")},
		analytics.Track{MessageId: "sdk-order-1", UserId: "user-ada", Event: "Order Completed", Timestamp: day,
			Properties: analytics.NewProperties().SetOrderId("o-1001").SetRevenue(99.5).SetCurrency("EUR")},
		analytics.Group{MessageId: "sdk-group-1", UserId: "user-ada", GroupId: "acme",
			Traits: analytics.NewTraits().SetName("Acme Inc.")},
		analytics.Track{MessageId: "sdk-legacy-1", UserId: "legacy-7", Event: "Signed Up"},
		analytics.Alias{MessageId: "sdk-alias-1", PreviousId: "legacy-7", UserId: "user-ada"},
		analytics.Screen{MessageId: "sdk-screen-1", UserId: "user-ada", Name: "Basket"},
		// No messageId: the SDK makes one.
		analytics.Track{UserId: "user-ada", Event: "Basket Viewed"},
	}
	for _, m := range msgs {
		if err := client.Enqueue(m); err != nil {
			t.Fatalf("enqueue %T: %v", m, err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatalf("close SDK client: %v", err)
	}
	if len(cb.failed) != 0 {
		t.Fatalf("the SDK reports failures: %v", cb.failed)
	}
	if len(cb.succeeded) != len(msgs) {
		t.Fatalf("the SDK reports %d messages sent, want %d", len(cb.succeeded), len(msgs))
	}

	// Exactly once each, with the ids the SDK used.
	evs := srv.events(t)
	if len(evs) != len(msgs) {
		t.Fatalf("the log holds %d events, want %d", len(evs), len(msgs))
	}
	var stored, sent []string
	for _, e := range evs {
		stored = append(stored, e.MessageID)
	}
	sent = append(sent, cb.succeeded...)
	sort.Strings(stored)
	sort.Strings(sent)
	if !equalStrings(stored, sent) {
		t.Fatalf("stored messageIds %v, the SDK sent %v", stored, sent)
	}

	// The SDK sends its library in the batch-level context and sentAt at
	// the batch level; both reach every event.
	order := srv.eventByMessageID(t, "sdk-order-1")
	var lib struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(order.Context["library"], &lib); err != nil || lib.Name != "analytics-go" {
		t.Errorf("context.library of the order = %s, want the SDK's library info", order.Context["library"])
	}
	if order.SentAt == nil || order.OriginalTimestamp == nil || !order.OriginalTimestamp.Equal(day) {
		t.Errorf("order: sentAt %v, originalTimestamp %v; want sentAt set and originalTimestamp %v", order.SentAt, order.OriginalTimestamp, day)
	}
	// The historical timestamp survives skew correction (client and server
	// share a clock here, so the correction is below a second).
	if d := order.Timestamp.Sub(day); d < -time.Second || d > time.Second {
		t.Errorf("order timestamp %v, want about %v", order.Timestamp, day)
	}
	if order.Event != "Order Completed" || string(order.Properties["revenue"]) != "99.5" {
		t.Errorf("stored order: event %q revenue %s", order.Event, order.Properties["revenue"])
	}
	for want, id := range map[string]string{"page": "sdk-page-1", "identify": "sdk-identify-1", "group": "sdk-group-1", "alias": "sdk-alias-1", "screen": "sdk-screen-1"} {
		if e := srv.eventByMessageID(t, id); e.Type != want {
			t.Errorf("%s stored as type %q, want %q", id, e.Type, want)
		}
	}

	// One customer: the anonymous visitor identified as user-ada, and the
	// legacy user id aliased to her.
	st := srv.waitProcessed(t)
	if st.Customers != 1 {
		t.Errorf("%d customers, want 1 (anonymous id, user id and alias resolve to one)", st.Customers)
	}
	c := srv.customer(t, "user-ada")
	for _, id := range []struct{ kind, value string }{
		{"user", "user-ada"}, {"anon", "anon-ada"}, {"user", "legacy-7"}, {"email", "ada@example.com"},
	} {
		if !c.has(id.kind, id.value) {
			t.Errorf("customer %s lacks identifier %s %s: %+v", c.ID, id.kind, id.value, c.Identities)
		}
	}
	if c.Email != "Ada@Example.com" || c.Name != "Ada Lovelace" {
		t.Errorf("profile e-mail %q name %q", c.Email, c.Name)
	}
	if c.Orders != 1 || c.Revenue != 99.5 {
		t.Errorf("profile orders %d revenue %v, want 1 and 99.5", c.Orders, c.Revenue)
	}
	if c.Events != int64(len(msgs)) {
		t.Errorf("profile counts %d events, want %d", c.Events, len(msgs))
	}
	// Whether anon-ada and legacy-7 first got customers of their own (and
	// were merged) depends on the order in which the SDK's concurrent
	// batches arrive; the result may not.
	for _, m := range c.Merges {
		if m.Into != c.ID || m.Reason == "" {
			t.Errorf("merge %+v", m)
		}
	}
	for _, q := range []string{"ada@example.com", "ADA@EXAMPLE.COM", "anon-ada", "legacy-7"} {
		if got := srv.customer(t, q); got.ID != c.ID {
			t.Errorf("search %q leads to %s, want %s", q, got.ID, c.ID)
		}
	}
	var tl struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	if code := srv.api(t, "/api/customers/"+c.ID+"/timeline?limit=100", &tl); code != http.StatusOK || len(tl.Events) != len(msgs) {
		t.Errorf("timeline: %d, %d entries, want %d", code, len(tl.Events), len(msgs))
	}
}

// failingProxy forwards to the real server, lets it commit, and then
// answers the first len(failures) requests with a failure instead of the
// real answer.
type failingProxy struct {
	t        *testing.T
	target   string
	failures []string // "500", "503" or "close"
	n        atomic.Int32
	mu       sync.Mutex
	bodies   [][]byte
}

func (p *failingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	p.mu.Lock()
	p.bodies = append(p.bodies, body)
	p.mu.Unlock()
	req, _ := http.NewRequest(r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		p.t.Errorf("the real server answered %d: %s", res.StatusCode, answer)
	}
	i := int(p.n.Add(1)) - 1
	if i < len(p.failures) {
		switch p.failures[i] {
		case "close":
			// The commit happened; the client never hears of it.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				p.t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		case "503":
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
		return
	}
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	w.Write(answer)
}

// TestSegmentGoSDKRetries makes the SDK resend a batch that the server had
// already committed: every messageId is stored once and the duplicates
// are counted.
func TestSegmentGoSDKRetries(t *testing.T) { eachStore(t, testSegmentGoSDKRetries) }

func testSegmentGoSDKRetries(t *testing.T, db string) {
	srv := startServerDB(t, db)
	proxy := &failingProxy{t: t, target: srv.URL, failures: []string{"500", "close", "503"}}
	front := httptest.NewServer(proxy)
	defer front.Close()

	cb := &sdkResults{}
	const n = 5
	client := newSDK(t, front.URL, srv.Source.WriteKey, n, cb)
	for i := range n {
		msg := analytics.Track{MessageId: "retry-" + string(rune('a'+i)), UserId: "user-retry", Event: "Item Added",
			Properties: analytics.NewProperties().Set("i", i)}
		if err := client.Enqueue(msg); err != nil {
			t.Fatal(err)
		}
	}
	// The SDK abandons retries once closed: wait for its report first.
	deadline := time.Now().Add(10 * time.Second)
	for cb.count() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if len(cb.failed) != 0 || len(cb.succeeded) != n {
		t.Fatalf("SDK: %d sent, failures %v; want %d sent", len(cb.succeeded), cb.failed, n)
	}
	attempts := int(proxy.n.Load())
	if attempts != len(proxy.failures)+1 {
		t.Fatalf("the SDK made %d attempts, want %d", attempts, len(proxy.failures)+1)
	}
	for i, b := range proxy.bodies[1:] {
		if !bytes.Equal(b, proxy.bodies[0]) {
			t.Fatalf("attempt %d sent a different body than the first; the test needs a true resend", i+2)
		}
	}

	evs := srv.events(t)
	if len(evs) != n {
		t.Fatalf("the log holds %d events after %d attempts, want %d", len(evs), attempts, n)
	}
	seen := map[string]int{}
	for _, e := range evs {
		seen[e.MessageID]++
	}
	for i := range n {
		id := "retry-" + string(rune('a'+i))
		if seen[id] != 1 {
			t.Errorf("messageId %s stored %d times", id, seen[id])
		}
	}
	if got := srv.metric(t, "kunding_events_accepted_total", ""); got != n {
		t.Errorf("kunding_events_accepted_total = %v, want %d", got, n)
	}
	if got, want := srv.metric(t, "kunding_events_deduplicated_total", ""), float64(n*len(proxy.failures)); got != want {
		t.Errorf("kunding_events_deduplicated_total = %v, want %v", got, want)
	}
	srv.waitProcessed(t)
	if c := srv.customer(t, "user-retry"); c.Events != n || c.CountsByEvent["Item Added"] != n {
		t.Errorf("profile counts %d events (%v), want %d: retries must not count twice", c.Events, c.CountsByEvent, n)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
