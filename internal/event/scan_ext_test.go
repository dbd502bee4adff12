package event_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/bench"
	"github.com/kunding/kunding/internal/event"
)

// TestFastPathTaken: the events SDKs really send take the fast path (else
// the fuzz test above would pass without testing anything), and give what
// encoding/json gives.
func TestFastPathTaken(t *testing.T) {
	recv := time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)
	body := bench.NewGenerator(7, 50, "t").Batch(nil, 300, recv.Add(-time.Second))
	// analytics-go puts its library into a batch-level context.
	body = append(body[:len(body)-1], `,"context":{"library":{"name":"analytics-go","version":"3.3.0"},"extra":1}}`...)
	fb, ok := event.DecodeBatchFast(body, recv)
	if !ok {
		t.Fatalf("a generated batch declined by the fast path")
	}
	sb, err := event.DecodeBatchSlow(body, recv)
	if err != nil || len(sb.Items) != 300 || len(fb.Items) != 300 {
		t.Fatalf("slow: %d items, %v; fast %d items", len(sb.Items), err, len(fb.Items))
	}
	id := func() string { return "generated" }
	for i, it := range fb.Items {
		fast, ok := event.ParseFast(it, "", fb.Envelope, id)
		if !ok {
			t.Fatalf("event %d declined by the fast path: %s", i, it)
		}
		slow, err := event.ParseSlow(sb.Items[i], "", sb.Envelope, id)
		if err != nil {
			t.Fatal(err)
		}
		event.SameEvent(t, fast, slow)
		if !bytes.Contains(fast.Context, []byte(`"extra":1`)) {
			t.Fatalf("batch context not merged: %s", fast.Context)
		}
	}
	taken := 0
	for _, s := range event.SeedEvents {
		if _, ok := event.ParseFast([]byte(s), "", event.Envelope{ReceivedAt: recv}, id); ok {
			taken++
		}
	}
	if taken < 8 {
		t.Fatalf("only %d of the seed events took the fast path", taken)
	}
	// What must decline: each is decided (and its error worded) by encoding/json.
	for _, s := range []string{
		`{"type":"track","UserId":"u","event":"x"}`,
		`{"type":"track","userId":"u","event":"x","ſentAt":"2024-01-01T00:00:00Z"}`, // Unicode folding: encoding/json fills sentAt              // another letter case
		`{"type":"track","userId":"u","userId":"v","event":"x"}`,                    // duplicate
		`{"type":"track","userId":"u\n","event":"x"}`,                               // escape in an id
		`{"type":"track","userId":"u","event":"x","properties":{"a":"\u0000"}}`,
		"{\"type\":\"track\",\"userId\":\"u\",\"event\":\"\xff\"}",
		`{"type":"track","userId":"u","event":"x"} x`,
		`{"type":"track","userId":"u","event":"x","timestamp":"yesterday"}`,
	} {
		if _, ok := event.ParseFast([]byte(s), "", event.Envelope{ReceivedAt: recv}, id); ok {
			t.Errorf("fast path took %s", s)
		}
	}
}

// TestParseOwnsItsMemory: an event does not change when the caller reuses
// the buffer it was parsed from (the importer and the generators do).
func TestParseOwnsItsMemory(t *testing.T) {
	buf := []byte(`{"type":"identify","userId":"u1","traits":{"email":"a@example.com"},"context":{"ip":"1.2.3.4"},"properties":{"p":1}}`)
	ev, err := event.Parse(buf, "", event.Envelope{ReceivedAt: time.Now()}, func() string { return "m" })
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := ev.AppendJSON(nil)
	for i := range buf {
		buf[i] = 'x'
	}
	if string(ev.Traits) != `{"email":"a@example.com"}` || string(ev.Context) != `{"ip":"1.2.3.4"}` || string(ev.Properties) != `{"p":1}` {
		t.Fatalf("event changed with its input buffer: %s %s %s", ev.Traits, ev.Context, ev.Properties)
	}
	back, err := event.Decode(stored)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stored {
		stored[i] = 'x'
	}
	if string(back.Traits) != `{"email":"a@example.com"}` {
		t.Fatalf("decoded event changed with its input buffer: %s", back.Traits)
	}
}

// TestBatchContextBounded: a batch-level context is copied into every event,
// so it may not exceed the size of one event; one with many keys is merged
// (by encoding/json's maps) without quadratic cost.
func TestBatchContextBounded(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", event.MaxEventBytes) + `"}`
	_, err := event.DecodeBatch([]byte(`{"batch":[],"context":`+big+`}`), time.Now())
	if err == nil || !strings.Contains(err.Error(), "batch-level context") {
		t.Fatalf("a batch-level context over %d bytes: %v", event.MaxEventBytes, err)
	}
	var keys []string
	for i := 0; i < 2000; i++ {
		keys = append(keys, fmt.Sprintf(`"k%d":%d`, i, i))
	}
	ctx := "{" + strings.Join(keys, ",") + "}"
	b, err := event.DecodeBatch([]byte(`{"batch":[{"type":"page","anonymousId":"a","context":{"k1":"own","ip":"1.2.3.4"}}],"context":`+ctx+`}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.Parse(b.Items[0], "", b.Envelope, func() string { return "m" })
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(ev.Context, &m); err != nil || len(m) != 2001 || m["k1"] != "own" || m["k1999"] != 1999.0 {
		t.Fatalf("merged context: %d keys, k1=%v, err %v", len(m), m["k1"], err)
	}
}
