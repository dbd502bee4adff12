package collect_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/event"
)

// TestBadRequests sends requests that must be refused as a whole: each gets a
// 4xx JSON answer whose error says what is wrong, and nothing is stored.
func TestBadRequests(t *testing.T) { eachStore(t, testBadRequests) }

func testBadRequests(t *testing.T, db string) {
	srv := startServerDB(t, db)
	key := srv.Source.WriteKey
	good := func(id string) obj {
		return obj{"type": "track", "userId": "u-" + id, "event": "Tested", "messageId": id}
	}
	okBatch := batchOf(t, []obj{good("1")}, nil)

	var manyEvents []obj
	for i := range event.MaxBatchEvents + 1 {
		manyEvents = append(manyEvents, obj{"type": "track", "userId": "u", "event": "e", "messageId": fmt.Sprint(i)})
	}
	// About 600 KB of valid events.
	var bigEvents []obj
	pad := strings.Repeat("x", 20*1024)
	for i := range 30 {
		bigEvents = append(bigEvents, obj{"type": "track", "userId": "u", "event": "Big", "messageId": fmt.Sprint("big", i), "properties": obj{"pad": pad}})
	}
	bigBatch := batchOf(t, bigEvents, obj{"writeKey": key})
	// Incompressible, so that even gzipped the body is over the limit.
	noise := make([]byte, event.MaxBatchBytes)
	rand.Read(noise)
	noiseBatch := []byte(`{"batch":[{"type":"track","userId":"u","event":"e","properties":{"n":"` + hex.EncodeToString(noise) + `"}}]}`)
	// 10 MB of zeros compress to a few KB: the limit is on the decompressed body.
	bomb := append([]byte(`{"batch":[],"x":"`), bytes.Repeat([]byte("0"), 10<<20)...)
	bomb = append(bomb, `"}`...)
	trackTooBig := mustJSON(t, obj{"userId": "u", "event": "Big", "properties": obj{"pad": strings.Repeat("y", 40*1024)}})
	// Just over the event limit, but within the slack left for writeKey and sentAt.
	trackJustTooBig := mustJSON(t, obj{"userId": "u", "event": "Big", "properties": obj{"pad": strings.Repeat("y", event.MaxEventBytes)[:event.MaxEventBytes-20]}})

	cases := []struct {
		name    string
		req     request
		code    int
		errHas  string
		rejects int // refused events listed in the answer
	}{
		{"bad JSON in a batch", request{path: "/v1/batch", basicKey: key, body: []byte(`{"batch":[{"type":"track",}]}`)}, 400, "invalid JSON", 0},
		{"bad JSON, key in the body", request{path: "/v1/batch", body: []byte(`{"writeKey":"` + key + `","batch":[`)}, 400, "invalid JSON", 0},
		{"bad JSON in a single event", request{path: "/v1/track", basicKey: key, body: []byte(`{"userId":"u","event":"x"`)}, 400, "invalid JSON", 0},
		{"body is not an object", request{path: "/v1/batch", basicKey: key, body: []byte(`[{"type":"track"}]`)}, 400, "must be a JSON object", 0},
		{"empty body", request{path: "/v1/batch", basicKey: key}, 400, "JSON", 0},
		{"batch is not an array", request{path: "/v1/batch", basicKey: key, body: []byte(`{"batch":{"type":"track"}}`)}, 400, "batch: must be an array", 0},
		{"batch missing", request{path: "/v1/batch", basicKey: key, body: []byte(`{"events":[]}`)}, 400, "batch: missing", 0},
		{"batch context not an object", request{path: "/v1/batch", basicKey: key, body: batchOf(t, []obj{good("c")}, obj{"context": []int{1}})}, 400, "context: must be a JSON object", 0},
		{"batch sentAt not a date", request{path: "/v1/batch", basicKey: key, body: batchOf(t, []obj{good("s")}, obj{"sentAt": "yesterday"})}, 400, "sentAt", 0},
		{"userId is an object", request{path: "/v1/track", basicKey: key, body: []byte(`{"userId":{"id":1},"event":"x"}`)}, 400, "userId: must be a string, not JSON object", 0},
		{"anonymousId is a bool", request{path: "/v1/page", basicKey: key, body: []byte(`{"anonymousId":true}`)}, 400, "anonymousId: must be a string", 0},
		{"properties is an array", request{path: "/v1/track", basicKey: key, body: []byte(`{"userId":"u","event":"x","properties":[1,2]}`)}, 400, "properties: must be a JSON object", 0},
		{"traits is a string", request{path: "/v1/identify", basicKey: key, body: []byte(`{"userId":"u","traits":"vip"}`)}, 400, "traits: must be a JSON object", 0},
		{"timestamp is not a date", request{path: "/v1/track", basicKey: key, body: []byte(`{"userId":"u","event":"x","timestamp":"last tuesday"}`)}, 400, "timestamp", 0},
		{"timestamp is a number", request{path: "/v1/track", basicKey: key, body: []byte(`{"userId":"u","event":"x","timestamp":1700000000}`)}, 400, "timestamp: must be a string", 0},
		{"event name is a number", request{path: "/v1/track", basicKey: key, body: []byte(`{"userId":"u","event":42}`)}, 400, "event: must be a string", 0},
		{"track without event name", request{path: "/v1/track", basicKey: key, body: []byte(`{"userId":"u"}`)}, 400, "event: the event name is required", 0},
		{"identify without any id", request{path: "/v1/identify", basicKey: key, body: []byte(`{"traits":{"email":"a@b.c"}}`)}, 400, "userId or anonymousId is required", 0},
		{"alias without previousId", request{path: "/v1/alias", basicKey: key, body: []byte(`{"userId":"u"}`)}, 400, "previousId: required", 0},
		{"group without groupId", request{path: "/v1/group", basicKey: key, body: []byte(`{"userId":"u"}`)}, 400, "groupId: required", 0},
		{"batch over 500 KB", request{path: "/v1/batch", body: bigBatch}, 413, "larger than 512000 bytes", 0},
		{"gzipped batch over 500 KB", request{path: "/v1/batch", basicKey: key, body: noiseBatch, gzip: true}, 413, "larger than", 0},
		{"gzip bomb", request{path: "/v1/batch", basicKey: key, body: bomb, gzip: true}, 413, "larger than", 0},
		{"single event over 32 KB", request{path: "/v1/track", basicKey: key, body: trackTooBig}, 413, "larger than", 0},
		{"single event just over 32 KB", request{path: "/v1/track", basicKey: key, body: trackJustTooBig}, 400, "the limit is 32768", 0},
		{"more than 2500 events", request{path: "/v1/batch", basicKey: key, body: batchOf(t, manyEvents, nil)}, 400, "2501 events, the limit is 2500", 0},
		{"bad gzip", request{path: "/v1/batch", basicKey: key, body: okBatch, header: map[string]string{"Content-Encoding": "gzip"}}, 400, "not valid gzip", 0},
		{"truncated gzip", request{path: "/v1/batch", basicKey: key, body: gzipped(t, okBatch)[:20], header: map[string]string{"Content-Encoding": "gzip"}}, 400, "not valid gzip", 0},
		{"unsupported Content-Encoding", request{path: "/v1/batch", basicKey: key, body: okBatch, header: map[string]string{"Content-Encoding": "br"}}, 415, "Content-Encoding \"br\" is not supported", 0},
		{"missing write key", request{path: "/v1/batch", body: okBatch}, 401, "missing write key", 0},
		{"missing write key, single", request{path: "/v1/identify", body: []byte(`{"userId":"u"}`)}, 401, "missing write key", 0},
		{"wrong write key", request{path: "/v1/batch", basicKey: "wk_not-a-key", body: okBatch}, 401, "unknown write key", 0},
		{"wrong write key in the body", request{path: "/v1/track", body: []byte(`{"writeKey":"nope","userId":"u","event":"x"}`)}, 401, "unknown write key", 0},
		{"wrong write key, bad gzip", request{path: "/v1/batch", basicKey: "nope", body: okBatch, header: map[string]string{"Content-Encoding": "gzip"}}, 400, "gzip", 0},
		{"GET batch", request{method: http.MethodGet, path: "/v1/batch", basicKey: key}, 405, "use POST", 0},
		{"PUT track", request{method: http.MethodPut, path: "/v1/track", basicKey: key, body: []byte(`{"userId":"u","event":"x"}`)}, 405, "use POST", 0},
		{"all events invalid", request{path: "/v1/batch", basicKey: key, body: batchOf(t, []obj{
			{"type": "track", "userId": "u"},
			{"type": "identify"},
			{"type": "page", "userId": []int{1}},
		}, nil)}, 400, "all 3 events were rejected", 3},
		{"unknown type in a batch", request{path: "/v1/batch", basicKey: key, body: batchOf(t, []obj{{"type": "purchase", "userId": "u"}}, nil)}, 400, "all 1 events were rejected", 1},
		{"no type in a batch", request{path: "/v1/batch", basicKey: key, body: batchOf(t, []obj{{"userId": "u", "event": "x"}}, nil)}, 400, "all 1 events were rejected", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.stats(t)
			res := srv.do(t, tc.req)
			if res.code != tc.code {
				t.Fatalf("answer %s, want %d", res, tc.code)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if !strings.Contains(res.errText(), tc.errHas) {
				t.Errorf("error %q does not say %q", res.errText(), tc.errHas)
			}
			if res.body["success"] != false {
				t.Errorf("success = %v, want false", res.body["success"])
			}
			if tc.code == http.StatusMethodNotAllowed && res.header.Get("Allow") != "POST" {
				t.Errorf("Allow %q, want POST", res.header.Get("Allow"))
			}
			rej, _ := res.body["rejected"].([]any)
			if len(rej) != tc.rejects {
				t.Errorf("%d rejected events listed, want %d: %s", len(rej), tc.rejects, res.raw)
			}
			for _, r := range rej {
				m := r.(map[string]any)
				if _, ok := m["index"].(float64); !ok || m["error"] == "" {
					t.Errorf("rejected entry without index or error: %v", m)
				}
			}
			after := srv.stats(t)
			if after.Events != before.Events || after.LastSeq != before.LastSeq {
				t.Errorf("events %d -> %d: a refused request stored events", before.Events, after.Events)
			}
			if after.Customers != before.Customers || after.Identities != before.Identities {
				t.Errorf("customers %d -> %d: a refused request changed customers", before.Customers, after.Customers)
			}
		})
	}
	if st := srv.stats(t); st.Events != 0 {
		t.Errorf("%d events stored by refused requests", st.Events)
	}
}

// TestPartlyInvalidBatch stores the valid events of a batch, lists the
// invalid ones with index and reason, keeps them for inspection and counts
// them.
func TestPartlyInvalidBatch(t *testing.T) { eachStore(t, testPartlyInvalidBatch) }

func testPartlyInvalidBatch(t *testing.T, db string) {
	srv := startServerDB(t, db)
	key := srv.Source.WriteKey
	events := []obj{
		{"type": "identify", "userId": "u-1", "traits": obj{"email": "one@example.com"}, "messageId": "ok-0"},
		{"type": "track", "event": "No Ids", "messageId": "bad-1"},                                                                                    // no id
		{"type": "track", "userId": "u-1", "event": "Viewed", "messageId": "ok-2"},                                                                    // fine
		{"type": "track", "userId": obj{"nested": true}, "event": "Viewed", "messageId": "bad-3"},                                                     // wrong type
		{"type": "track", "userId": "u-1", "messageId": "bad-4"},                                                                                      // no event name
		{"type": "purchase", "userId": "u-1", "messageId": "bad-5"},                                                                                   // unknown type
		{"type": "page", "anonymousId": "a-1", "name": "Home", "messageId": "ok-6"},                                                                   // fine
		{"type": "track", "userId": "u-1", "event": "Huge", "messageId": "bad-7", "properties": obj{"pad": strings.Repeat("z", event.MaxEventBytes)}}, // > 32 KB
		nil, // null
		{"type": "track", "userId": "u-1", "event": "Dated", "timestamp": "not a date", "messageId": "bad-9"},
		{"type": "alias", "userId": "u-1", "messageId": "bad-10"},
		{"type": "group", "userId": "u-1", "groupId": 77, "messageId": "ok-11"}, // numeric id accepted
		{"type": "track", "userId": "u-1", "event": "Nul", "messageId": "bad-12", "properties": obj{"order_id": "o-\x00"}},
	}
	wantBad := map[int]string{1: "userId or anonymousId is required", 3: "userId: must be a string", 4: "event: the event name is required",
		5: `type: "purchase" is not one of`, 7: "the limit is 32768", 8: "not null", 9: "timestamp", 10: "previousId: required", 12: "NUL character"}
	res := srv.do(t, request{path: "/v1/batch", body: batchOf(t, events, obj{"writeKey": key})})
	if res.code != http.StatusOK {
		t.Fatalf("answer %s, want 200", res)
	}
	if res.body["success"] != true || res.body["accepted"] != float64(len(events)-len(wantBad)) || (srv.Journal == nil && res.body["duplicates"] != 0.0) {
		t.Errorf("answer %s", res.raw)
	}
	rej, _ := res.body["rejected"].([]any)
	if len(rej) != len(wantBad) {
		t.Fatalf("%d rejected listed, want %d: %s", len(rej), len(wantBad), res.raw)
	}
	for _, r := range rej {
		m := r.(map[string]any)
		i := int(m["index"].(float64))
		want, ok := wantBad[i]
		if !ok {
			t.Errorf("event %d rejected, though valid: %v", i, m["error"])
			continue
		}
		if !strings.Contains(m["error"].(string), want) {
			t.Errorf("event %d rejected for %q, want a reason saying %q", i, m["error"], want)
		}
		if i != 8 && m["messageId"] != fmt.Sprint("bad-", i) {
			t.Errorf("event %d listed with messageId %v", i, m["messageId"])
		}
	}

	st := srv.stats(t)
	if st.Events != int64(len(events)-len(wantBad)) {
		t.Errorf("%d events stored, want %d", st.Events, len(events)-len(wantBad))
	}
	for _, e := range srv.events(t) {
		if !strings.HasPrefix(e.MessageID, "ok-") {
			t.Errorf("invalid event %s was stored", e.MessageID)
		}
	}
	if g := srv.eventByMessageID(t, "ok-11"); g.GroupID != "77" {
		t.Errorf("numeric groupId stored as %q, want \"77\"", g.GroupID)
	}

	// Kept for inspection, in the store and in the API, without the write key.
	kept, err := srv.Store.RejectedEvents(context.Background(), srv.Source.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != len(wantBad) || st.Rejected != int64(len(wantBad)) {
		t.Fatalf("%d rejected events kept (stats %d), want %d", len(kept), st.Rejected, len(wantBad))
	}
	var viaAPI struct {
		Rejected []struct {
			SourceID  string `json:"sourceId"`
			MessageID string `json:"messageId"`
			Reason    string `json:"reason"`
			Body      string `json:"body"`
		} `json:"rejected"`
	}
	if code := srv.api(t, "/api/sources/"+srv.Source.ID+"/rejected", &viaAPI); code != http.StatusOK {
		t.Fatalf("GET rejected: %d", code)
	}
	if len(viaAPI.Rejected) != len(wantBad) {
		t.Fatalf("API lists %d rejected events, want %d", len(viaAPI.Rejected), len(wantBad))
	}
	byID := map[string]string{}
	for _, r := range viaAPI.Rejected {
		if r.SourceID != srv.Source.ID || r.Reason == "" || r.Body == "" {
			t.Errorf("rejected entry incomplete: %+v", r)
		}
		if strings.Contains(r.Body, key) {
			t.Errorf("a kept rejected body shows the write key: %.200s", r.Body)
		}
		if len(r.Body) > 4096+len("…") {
			t.Errorf("kept body is %d bytes; it should be cut", len(r.Body))
		}
		byID[r.MessageID] = r.Reason
	}
	if !strings.Contains(byID["bad-4"], "event name is required") || !strings.Contains(byID["bad-3"], "userId") {
		t.Errorf("kept reasons: %v", byID)
	}
	if got := srv.metricSum(t, "kunding_events_rejected_total"); got != float64(len(wantBad)) {
		t.Errorf("kunding_events_rejected_total sums to %v, want %d", got, len(wantBad))
	}
	if got := srv.metric(t, "kunding_events_rejected_total", `reason="invalid_event"`); got != 1 {
		t.Errorf(`kunding_events_rejected_total{reason="invalid_event"} = %v, want 1`, got)
	}
	if got := srv.metric(t, "kunding_events_received_total", ""); got != float64(len(events)) {
		t.Errorf("kunding_events_received_total = %v, want %d", got, len(events))
	}
	if got := srv.metric(t, "kunding_events_accepted_total", ""); got != float64(len(events)-len(wantBad)) {
		t.Errorf("kunding_events_accepted_total = %v, want %d", got, len(events)-len(wantBad))
	}

	// A refused single event is kept as well, without the key from its body.
	res = srv.do(t, request{path: "/v1/track", body: []byte(`{"writeKey":"` + key + `","userId":"u-1","messageId":"single-bad"}`)})
	if res.code != http.StatusBadRequest {
		t.Fatalf("single invalid event: %s", res)
	}
	kept, _ = srv.Store.RejectedEvents(context.Background(), srv.Source.ID, 1)
	if len(kept) != 1 || !strings.Contains(kept[0].Reason, "event name") || strings.Contains(kept[0].Body, key) || !strings.Contains(kept[0].Body, "[write key]") {
		t.Errorf("kept single event: %+v", kept)
	}
}
