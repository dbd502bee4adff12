package collect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const isoMillis = "2006-01-02T15:04:05.000Z07:00"

// TestWriteKey accepts the write key where Segment documents it: as the
// Basic user name (with or without the colon) and as writeKey in the body.
func TestWriteKey(t *testing.T) { eachStore(t, testWriteKey) }

func testWriteKey(t *testing.T, db string) {
	srv := startServerDB(t, db)
	key := srv.Source.WriteKey
	other := srv.newSource(t, "call centre")
	cases := []struct {
		name   string
		path   string
		body   string
		header map[string]string
		code   int
		source string
	}{
		{"basic key:", "/v1/track", `{"userId":"u","event":"A"}`, map[string]string{"Authorization": basicHeader(key + ":")}, 200, srv.Source.ID},
		{"basic key without colon", "/v1/track", `{"userId":"u","event":"B"}`, map[string]string{"Authorization": basicHeader(key)}, 200, srv.Source.ID},
		{"basic :key", "/v1/track", `{"userId":"u","event":"C"}`, map[string]string{"Authorization": basicHeader(":" + key)}, 200, srv.Source.ID},
		{"basic, lower-case scheme", "/v1/track", `{"userId":"u","event":"D"}`, map[string]string{"Authorization": "basic " + strings.TrimPrefix(basicHeader(key+":"), "Basic ")}, 200, srv.Source.ID},
		{"body writeKey, single", "/v1/track", `{"userId":"u","event":"E","writeKey":"` + key + `"}`, nil, 200, srv.Source.ID},
		{"body writeKey, batch", "/v1/batch", `{"writeKey":"` + key + `","batch":[{"type":"track","userId":"u","event":"F"}]}`, nil, 200, srv.Source.ID},
		{"body writeKey, import", "/v1/import", `{"writeKey":"` + key + `","batch":[{"type":"track","userId":"u","event":"G"}]}`, nil, 200, srv.Source.ID},
		{"header wins over body", "/v1/track", `{"userId":"u","event":"H","writeKey":"` + key + `"}`, map[string]string{"Authorization": basicHeader(other.WriteKey + ":")}, 200, other.ID},
		{"bearer token with key in body", "/v1/track", `{"userId":"u","event":"I","writeKey":"` + key + `"}`, map[string]string{"Authorization": "Bearer some-oauth-token"}, 200, srv.Source.ID},
		{"basic with garbage", "/v1/track", `{"userId":"u","event":"J"}`, map[string]string{"Authorization": "Basic %%%"}, 401, ""},
		{"wrong key in header, right in body", "/v1/track", `{"userId":"u","event":"K","writeKey":"` + key + `"}`, map[string]string{"Authorization": basicHeader("wrong:")}, 401, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.stats(t).Events
			res := srv.do(t, request{path: tc.path, body: []byte(tc.body), header: tc.header})
			if res.code != tc.code {
				t.Fatalf("answer %s, want %d", res, tc.code)
			}
			evs := srv.events(t)
			if tc.code != 200 {
				if int64(len(evs)) != before {
					t.Errorf("a refused request stored an event")
				}
				return
			}
			if res.body["success"] != true {
				t.Errorf("answer %s", res.raw)
			}
			if int64(len(evs)) != before+1 {
				t.Fatalf("%d events, want %d", len(evs), before+1)
			}
			if last := evs[len(evs)-1]; last.SourceID != tc.source {
				t.Errorf("event stored for source %s, want %s", last.SourceID, tc.source)
			}
			if strings.Contains(string(evs[len(evs)-1].Raw), key) {
				t.Errorf("the stored event holds the write key: %s", evs[len(evs)-1].Raw)
			}
		})
	}
}

// TestSingleEndpoints checks each /v1/<type> endpoint: the path decides the type.
func TestSingleEndpoints(t *testing.T) { eachStore(t, testSingleEndpoints) }

func testSingleEndpoints(t *testing.T, db string) {
	srv := startServerDB(t, db)
	bodies := map[string]string{
		"identify": `{"userId":"u1","traits":{"email":"u1@example.com"}}`,
		"track":    `{"userId":"u1","event":"Clicked","properties":{"x":1}}`,
		"page":     `{"anonymousId":"a1","name":"Home","properties":{"url":"https://x.example/"}}`,
		"screen":   `{"userId":"u1","name":"Settings"}`,
		"group":    `{"userId":"u1","groupId":"g1","traits":{"name":"Initech"}}`,
		"alias":    `{"userId":"u1","previousId":"a1"}`,
	}
	for typ, body := range bodies {
		t.Run(typ, func(t *testing.T) {
			// A contradicting "type" in the body loses against the path.
			b := strings.Replace(body, "{", `{"type":"track","messageId":"single-`+typ+`",`, 1)
			res := srv.do(t, request{path: "/v1/" + typ, basicKey: srv.Source.WriteKey, body: []byte(b)})
			if res.code != http.StatusOK || res.body["success"] != true {
				t.Fatalf("answer %s", res)
			}
			if e := srv.eventByMessageID(t, "single-"+typ); e.Type != typ {
				t.Errorf("stored type %q, want %q", e.Type, typ)
			}
		})
	}
	if res := srv.do(t, request{path: "/v1/purchase", basicKey: srv.Source.WriteKey, body: []byte(`{}`)}); res.code != http.StatusNotFound || !strings.Contains(res.errText(), "/v1/purchase") {
		t.Errorf("unknown endpoint: %s", res)
	}
}

// TestGzip accepts gzipped bodies, as the RudderStack Node SDK sends them.
func TestGzip(t *testing.T) { eachStore(t, testGzip) }

func testGzip(t *testing.T, db string) {
	srv := startServerDB(t, db)
	cases := []struct {
		name, path, encoding, body string
	}{
		{"batch", "/v1/batch", "gzip", `{"batch":[{"type":"track","userId":"u","event":"Zipped","messageId":"gz-1"}]}`},
		{"single", "/v1/identify", "gzip", `{"userId":"u","messageId":"gz-2","traits":{"name":"Zed"}}`},
		{"import, odd spelling", "/v1/import", " GZip ", `{"batch":[{"type":"page","userId":"u","messageId":"gz-3"}]}`},
		{"identity", "/v1/track", "identity", `{"userId":"u","event":"Plain","messageId":"gz-4"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			if strings.EqualFold(strings.TrimSpace(tc.encoding), "gzip") {
				body = gzipped(t, body)
			}
			res := srv.do(t, request{path: tc.path, basicKey: srv.Source.WriteKey, body: body, header: map[string]string{"Content-Encoding": tc.encoding}})
			if res.code != http.StatusOK {
				t.Fatalf("answer %s", res)
			}
		})
	}
	for _, id := range []string{"gz-1", "gz-2", "gz-3", "gz-4"} {
		srv.eventByMessageID(t, id)
	}
}

// TestBatchEnvelopeMerge merges batch-level context and integrations into
// each event; the event's own keys win.
func TestBatchEnvelopeMerge(t *testing.T) { eachStore(t, testBatchEnvelopeMerge) }

func testBatchEnvelopeMerge(t *testing.T, db string) {
	srv := startServerDB(t, db)
	body := batchOf(t, []obj{
		{"type": "track", "userId": "u", "event": "Own", "messageId": "m-own",
			"context":      obj{"library": obj{"name": "event-lib"}, "locale": "de-DE"},
			"integrations": obj{"Mixpanel": false}},
		{"type": "track", "userId": "u", "event": "Bare", "messageId": "m-bare"},
		{"type": "identify", "userId": "u", "messageId": "m-null", "context": nil, "integrations": nil},
	}, obj{
		"context":      obj{"library": obj{"name": "batch-lib", "version": "1"}, "ip": "203.0.113.7", "device": obj{"type": "phone"}},
		"integrations": obj{"All": false, "Mixpanel": true},
	})
	res := srv.do(t, request{path: "/v1/batch", basicKey: srv.Source.WriteKey, body: body})
	if res.code != http.StatusOK || res.body["accepted"] != 3.0 {
		t.Fatalf("answer %s", res)
	}
	cases := []struct {
		id       string
		context  map[string]string
		integral map[string]string
	}{
		{"m-own", map[string]string{"library": `{"name":"event-lib"}`, "locale": `"de-DE"`, "ip": `"203.0.113.7"`, "device": `{"type":"phone"}`},
			map[string]string{"All": "false", "Mixpanel": "false"}},
		{"m-bare", map[string]string{"library": `{"name":"batch-lib","version":"1"}`, "ip": `"203.0.113.7"`, "device": `{"type":"phone"}`},
			map[string]string{"All": "false", "Mixpanel": "true"}},
		{"m-null", map[string]string{"library": `{"name":"batch-lib","version":"1"}`, "ip": `"203.0.113.7"`},
			map[string]string{"All": "false", "Mixpanel": "true"}},
	}
	for _, tc := range cases {
		e := srv.eventByMessageID(t, tc.id)
		for k, want := range tc.context {
			if got := compact(e.Context[k]); got != want {
				t.Errorf("%s: context.%s = %s, want %s", tc.id, k, got, want)
			}
		}
		for k, want := range tc.integral {
			if got := compact(e.Integrations[k]); got != want {
				t.Errorf("%s: integrations.%s = %s, want %s", tc.id, k, got, want)
			}
		}
	}
}

func compact(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestTimestamps checks Segment's timestamps: receivedAt is the server's,
// and timestamp = receivedAt - (sentAt - originalTimestamp), with sentAt
// from the event or else from the batch; without sentAt the client's
// timestamp stands (historical import); without any, receivedAt.
func TestTimestamps(t *testing.T) { eachStore(t, testTimestamps) }

func testTimestamps(t *testing.T, db string) {
	srv := startServerDB(t, db)
	now := time.Now().UTC().Truncate(time.Millisecond)
	fast := now.Add(10 * time.Minute) // a client clock 10 minutes ahead
	slow := now.Add(-3 * time.Hour)   // and one 3 hours behind
	hist := time.Date(2019, 3, 4, 5, 6, 7, 891_000_000, time.UTC)
	f := func(t time.Time) string { return t.Format(isoMillis) }
	cases := []struct {
		name string
		ev   obj
		// want returns the expected timestamp given the stored receivedAt.
		want func(recv time.Time) time.Time
		orig *time.Time
	}{
		{"batch sentAt corrects a fast clock", obj{"timestamp": f(fast.Add(-5 * time.Second))},
			func(r time.Time) time.Time { return r.Add(-5 * time.Second) }, ptr(fast.Add(-5 * time.Second))},
		{"event sentAt wins over batch sentAt", obj{"timestamp": f(slow.Add(-90 * time.Second)), "sentAt": f(slow)},
			func(r time.Time) time.Time { return r.Add(-90 * time.Second) }, ptr(slow.Add(-90 * time.Second))},
		{"originalTimestamp (RudderStack)", obj{"originalTimestamp": f(slow.Add(-time.Minute)), "sentAt": f(slow)},
			func(r time.Time) time.Time { return r.Add(-time.Minute) }, ptr(slow.Add(-time.Minute))},
		{"offset notation", obj{"timestamp": fast.Add(-2 * time.Second).In(time.FixedZone("", 3600)).Format(isoMillis)},
			func(r time.Time) time.Time { return r.Add(-2 * time.Second) }, ptr(fast.Add(-2 * time.Second))},
		{"no timestamp: receivedAt", obj{},
			func(r time.Time) time.Time { return r }, nil},
		{"client receivedAt is ignored", obj{"receivedAt": "2001-01-01T00:00:00Z"},
			func(r time.Time) time.Time { return r }, nil},
	}
	var events []obj
	for i, tc := range cases {
		e := obj{"type": "track", "userId": "u", "event": "Timed", "messageId": fmt.Sprint("ts-", i)}
		for k, v := range tc.ev {
			e[k] = v
		}
		events = append(events, e)
	}
	before := time.Now()
	res := srv.do(t, request{path: "/v1/batch", basicKey: srv.Source.WriteKey, body: batchOf(t, events, obj{"sentAt": f(fast)})})
	after := time.Now()
	if res.code != http.StatusOK {
		t.Fatalf("answer %s", res)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := srv.eventByMessageID(t, fmt.Sprint("ts-", i))
			if e.ReceivedAt.Before(before.Add(-time.Millisecond)) || e.ReceivedAt.After(after) {
				t.Errorf("receivedAt %v is not the server's time of receipt (%v to %v)", e.ReceivedAt, before, after)
			}
			if want := tc.want(e.ReceivedAt).Truncate(time.Millisecond); !e.Timestamp.Equal(want) {
				t.Errorf("timestamp %v, want %v (off by %v)", e.Timestamp, want, e.Timestamp.Sub(want))
			}
			if (tc.orig == nil) != (e.OriginalTimestamp == nil) || (tc.orig != nil && !e.OriginalTimestamp.Equal(*tc.orig)) {
				t.Errorf("originalTimestamp %v, want %v", e.OriginalTimestamp, tc.orig)
			}
			if e.SentAt == nil {
				t.Errorf("sentAt not kept")
			}
		})
	}

	// Without sentAt a client's timestamp is taken as it is: historical imports.
	single := []struct {
		name, ts string
		want     time.Time
	}{
		{"RFC 3339", f(hist), hist},
		{"as in Segment's batch example", "2015-2-02T00:30:08.276Z", time.Date(2015, 2, 2, 0, 30, 8, 276_000_000, time.UTC)},
		{"no zone means UTC", "2019-03-04T05:06:07.891", hist},
		{"basic offset", "2019-03-04T07:06:07.891+0200", hist},
		{"date only", "2019-03-04", time.Date(2019, 3, 4, 0, 0, 0, 0, time.UTC)},
	}
	for i, tc := range single {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprint("hist-", i)
			res := srv.do(t, request{path: "/v1/track", basicKey: srv.Source.WriteKey,
				body: mustJSON(t, obj{"userId": "u", "event": "Old", "timestamp": tc.ts, "messageId": id})})
			if res.code != http.StatusOK {
				t.Fatalf("answer %s", res)
			}
			if e := srv.eventByMessageID(t, id); !e.Timestamp.Equal(tc.want) {
				t.Errorf("timestamp %v, want %v", e.Timestamp, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestMessageIDDeduplication stores an event once however often it is sent:
// retried batches, a messageId twice in one batch, concurrent retries. The
// messageId is unique per source.
func TestMessageIDDeduplication(t *testing.T) { eachStore(t, testMessageIDDeduplication) }

func testMessageIDDeduplication(t *testing.T, db string) {
	srv := startServerDB(t, db)
	key := srv.Source.WriteKey
	batch := batchOf(t, []obj{
		{"type": "track", "userId": "u", "event": "Paid", "messageId": "dup-1", "properties": obj{"n": 1}},
		{"type": "track", "userId": "u", "event": "Paid", "messageId": "dup-2"},
	}, nil)
	// With the journal (the SQLite server's default) an answer counts the
	// events received; repeats are dropped when loaded into the log, which
	// the check of the stored events at the end covers. Without it (the
	// PostgreSQL server) the answer counts new events and duplicates.
	journal := srv.Journal != nil
	for attempt := range 3 {
		res := srv.do(t, request{path: "/v1/batch", basicKey: key, body: batch})
		wantNew := 2.0
		if attempt > 0 && !journal {
			wantNew = 0
		}
		_, hasDups := res.body["duplicates"]
		if res.code != http.StatusOK || res.body["accepted"] != wantNew || (!journal && res.body["duplicates"] != 2-wantNew) || (journal && hasDups) {
			t.Fatalf("attempt %d: %s", attempt+1, res)
		}
	}
	// The single endpoint and /v1/import share the log.
	if res := srv.do(t, request{path: "/v1/track", basicKey: key, body: []byte(`{"userId":"u","event":"Paid","messageId":"dup-1"}`)}); res.code != http.StatusOK {
		t.Fatalf("single retry: %s", res)
	}
	if res := srv.do(t, request{path: "/v1/import", basicKey: key, body: batch}); res.code != http.StatusOK || (!journal && res.body["duplicates"] != 2.0) || (journal && res.body["accepted"] != 2.0) {
		t.Fatalf("import retry: %s", res)
	}

	// Twice in one batch: the first is kept.
	res := srv.do(t, request{path: "/v1/batch", basicKey: key, body: batchOf(t, []obj{
		{"type": "track", "userId": "u", "event": "First", "messageId": "twin"},
		{"type": "track", "userId": "u", "event": "Second", "messageId": "twin"},
	}, nil)})
	if res.code != http.StatusOK || (!journal && (res.body["accepted"] != 1.0 || res.body["duplicates"] != 1.0)) || (journal && res.body["accepted"] != 2.0) {
		t.Fatalf("twins: %s", res)
	}
	if e := srv.eventByMessageID(t, "twin"); e.Event != "First" {
		t.Errorf("of two events with one messageId, %q was kept; want the first", e.Event)
	}

	// Concurrent retries of one batch land in the same or in successive
	// group commits; either way once.
	conc := batchOf(t, []obj{
		{"type": "track", "userId": "u", "event": "C", "messageId": "conc-1"},
		{"type": "track", "userId": "u", "event": "C", "messageId": "conc-2"},
		{"type": "track", "userId": "u", "event": "C", "messageId": "conc-3"},
	}, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0.0
	for range 12 {
		wg.Go(func() {
			res := srv.do(t, request{path: "/v1/batch", basicKey: key, body: conc})
			if res.code != http.StatusOK {
				t.Errorf("concurrent: %s", res)
				return
			}
			mu.Lock()
			accepted += res.body["accepted"].(float64)
			mu.Unlock()
		})
	}
	wg.Wait()
	if !journal && accepted != 3 {
		t.Errorf("concurrent retries report %v events accepted in all, want 3", accepted)
	}
	if journal && accepted != 36 {
		t.Errorf("concurrent retries report %v events received in all, want 36", accepted)
	}

	// The same messageId from another source is another event.
	other := srv.newSource(t, "app")
	if res := srv.do(t, request{path: "/v1/batch", basicKey: other.WriteKey, body: batch}); res.code != http.StatusOK || res.body["accepted"] != 2.0 {
		t.Fatalf("other source: %s", res)
	}

	seen := map[string]int{}
	for _, e := range srv.events(t) {
		seen[e.SourceID+"/"+e.MessageID]++
	}
	want := map[string]int{}
	for _, id := range []string{"dup-1", "dup-2", "twin", "conc-1", "conc-2", "conc-3"} {
		want[srv.Source.ID+"/"+id] = 1
	}
	want[other.ID+"/dup-1"], want[other.ID+"/dup-2"] = 1, 1
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("stored %v, want %v", seen, want)
	}
	// 2+2 batch retries, 1 single retry, 2 import, 1 twin, 33 concurrent.
	if got := srv.metric(t, "kunding_events_deduplicated_total", ""); got != 2+2+1+2+1+33 {
		t.Errorf("kunding_events_deduplicated_total = %v, want 41", got)
	}
	if got := srv.metric(t, "kunding_events_accepted_total", ""); got != 8 {
		t.Errorf("kunding_events_accepted_total = %v, want 8", got)
	}
}

// TestImportIsBatch answers /v1/import like /v1/batch.
func TestImportIsBatch(t *testing.T) { eachStore(t, testImportIsBatch) }

func testImportIsBatch(t *testing.T, db string) {
	srv := startServerDB(t, db)
	body := batchOf(t, []obj{
		{"type": "identify", "userId": "imp-1", "traits": obj{"email": "imp@example.com"}, "timestamp": "2020-01-02T03:04:05Z", "messageId": "imp-a"},
		{"type": "track", "userId": "imp-1", "event": "Order Completed", "properties": obj{"revenue": 12.5, "currency": "EUR"}, "timestamp": "2020-01-03T00:00:00Z", "messageId": "imp-b"},
		{"type": "track", "messageId": "imp-bad"},
	}, obj{"writeKey": srv.Source.WriteKey})
	res := srv.do(t, request{path: "/v1/import", body: body})
	if res.code != http.StatusOK || res.body["accepted"] != 2.0 {
		t.Fatalf("answer %s", res)
	}
	if rej, _ := res.body["rejected"].([]any); len(rej) != 1 {
		t.Errorf("rejected %v, want the invalid third event", res.body["rejected"])
	}
	if e := srv.eventByMessageID(t, "imp-b"); !e.Timestamp.Equal(time.Date(2020, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("imported timestamp %v", e.Timestamp)
	}
	srv.waitProcessed(t)
	if c := srv.customer(t, "imp@example.com"); c.Orders != 1 || c.Revenue != 12.5 {
		t.Errorf("imported customer: %d orders, revenue %v", c.Orders, c.Revenue)
	}
	if res := srv.do(t, request{method: http.MethodGet, path: "/v1/import"}); res.code != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/import: %d", res.code)
	}
}

// TestNumericIDs accepts ids sent as JSON numbers, as loosely typed SDKs
// send them, and keeps their exact text.
func TestNumericIDs(t *testing.T) { eachStore(t, testNumericIDs) }

func testNumericIDs(t *testing.T, db string) {
	srv := startServerDB(t, db)
	body := `{"batch":[
		{"type":"identify","userId":12345,"traits":{"name":"Numeric Nina"},"messageId":1},
		{"type":"track","userId":12345678901234567890,"event":"Big","messageId":"n-2"},
		{"type":"group","anonymousId":-7,"groupId":3.5,"messageId":"n-3"},
		{"type":"alias","userId":12345,"previousId":999,"messageId":"n-4"}
	]}`
	res := srv.do(t, request{path: "/v1/batch", basicKey: srv.Source.WriteKey, body: []byte(body)})
	if res.code != http.StatusOK || res.body["accepted"] != 4.0 {
		t.Fatalf("answer %s", res)
	}
	if e := srv.eventByMessageID(t, "1"); e.UserID != "12345" {
		t.Errorf("userId %q, want \"12345\"", e.UserID)
	}
	if e := srv.eventByMessageID(t, "n-2"); e.UserID != "12345678901234567890" {
		t.Errorf("userId %q, want the exact digits", e.UserID)
	}
	if e := srv.eventByMessageID(t, "n-3"); e.AnonymousID != "-7" || e.GroupID != "3.5" {
		t.Errorf("anonymousId %q groupId %q", e.AnonymousID, e.GroupID)
	}
	if e := srv.eventByMessageID(t, "n-4"); e.PreviousID != "999" {
		t.Errorf("previousId %q", e.PreviousID)
	}
	srv.waitProcessed(t)
	c := srv.customer(t, "12345")
	if c.Name != "Numeric Nina" || !c.has("user", "999") {
		t.Errorf("customer of user 12345: %+v", c)
	}
}

// TestCORS lets browser SDKs send from any site.
func TestCORS(t *testing.T) { eachStore(t, testCORS) }

func testCORS(t *testing.T, db string) {
	srv := startServerDB(t, db)
	for _, path := range []string{"/v1/batch", "/v1/track", "/v1/import"} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodOptions, srv.URL+path, nil)
		req.Header.Set("Origin", "https://shop.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,anonymousid")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Errorf("preflight %s: %d", path, res.StatusCode)
		}
		h := res.Header
		if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
			t.Errorf("preflight %s headers: %v", path, h)
		}
	}
	res := srv.do(t, request{path: "/v1/track", body: []byte(`{"userId":"u","event":"Browser","writeKey":"` + srv.Source.WriteKey + `"}`),
		header: map[string]string{"Origin": "https://shop.example", "Content-Type": "text/plain"}})
	if res.code != http.StatusOK || res.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("POST from a browser: %s, Access-Control-Allow-Origin %q", res, res.header.Get("Access-Control-Allow-Origin"))
	}
	// An OPTIONS that is not a preflight is still refused.
	if res := srv.do(t, request{method: http.MethodOptions, path: "/v1/batch"}); res.code != http.StatusMethodNotAllowed {
		t.Errorf("plain OPTIONS: %d", res.code)
	}
}
