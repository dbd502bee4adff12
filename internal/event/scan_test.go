package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// sameEvent fails unless the fast path's event is the slow path's: every
// field equal, context and integrations as JSON values (a merge may order
// their keys differently).
func sameEvent(t *testing.T, fast, slow Event) {
	t.Helper()
	for _, p := range []struct {
		name string
		a, b json.RawMessage
	}{{"context", fast.Context, slow.Context}, {"integrations", fast.Integrations, slow.Integrations}} {
		if (p.a == nil) != (p.b == nil) {
			t.Fatalf("%s: fast %s, slow %s", p.name, p.a, p.b)
		}
		if p.a == nil {
			continue
		}
		var x, y any
		if err := json.Unmarshal(p.a, &x); err != nil {
			t.Fatalf("%s of the fast path is not JSON: %q", p.name, p.a)
		}
		json.Unmarshal(p.b, &y)
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("%s: fast %s, slow %s", p.name, p.a, p.b)
		}
	}
	fast.Context, slow.Context, fast.Integrations, slow.Integrations = nil, nil, nil, nil
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast %+v\nslow %+v", fast, slow)
	}
}

// FuzzFastPath: where the fast path answers, it answers as encoding/json.
func FuzzFastPath(f *testing.F) {
	for _, s := range seedEvents {
		f.Add([]byte(s), "", `{"library":{"name":"analytics-go"},"ip":"1.2.3.4"}`, "2024-03-01T10:00:02Z")
		f.Add([]byte(s), Track, ``, "")
	}
	f.Add([]byte(`{"type":"page","anonymousId":"a","context":{"x":1, "y" : 2 }}`), "", `{"x":2,"z":[1]}`, "")
	f.Add([]byte(`{"Type":"page","anonymousId":"a"}`), "", ``, "")
	f.Add([]byte(`{"type":"page","anonymousId":"a","anonymousId":"b"}`), "", ``, "")
	f.Add([]byte(` {"type":"page","anonymousId":-0.5e+7,"name":null} `), "", ``, "")
	f.Add([]byte(`{"type":"page","anonymousId":"a","context":{}}`), "", `{"a":{"b":[true,false,null]}}`, "")
	f.Fuzz(func(t *testing.T, raw []byte, typ, batchContext, batchSentAt string) {
		env := Envelope{ReceivedAt: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}
		if b, err := decodeBatchSlow([]byte(`{"batch":[],"context":`+nonEmpty(batchContext)+`,"sentAt":`+quoteTime(batchSentAt)+`}`), env.ReceivedAt); err == nil {
			env = b.Envelope
		}
		if typ != "" && !IsType(typ) {
			typ = ""
		}
		id := func() string { return "generated" }
		fast, ok := parseFast(raw, typ, env, id)
		slow, err := parseSlow(raw, typ, env, id)
		if ok {
			if err != nil {
				t.Fatalf("fast path accepted what encoding/json refuses (%v): %q", err, raw)
			}
			sameEvent(t, fast, slow)
		}

		// The same bytes as a whole batch body, and inside one.
		for _, body := range [][]byte{raw, []byte(`{"sentAt":"2024-03-01T10:00:00Z","batch":[` + string(raw) + `],"writeKey":"k"}`)} {
			fb, ok := decodeBatchFast(body, env.ReceivedAt)
			sb, err := decodeBatchSlow(body, env.ReceivedAt)
			if !ok {
				continue
			}
			if err != nil {
				t.Fatalf("fast batch accepted what encoding/json refuses (%v): %q", err, body)
			}
			if !reflect.DeepEqual(fb.Envelope, sb.Envelope) || len(fb.Items) != len(sb.Items) {
				t.Fatalf("batch fast %+v\nslow %+v", fb, sb)
			}
			for i := range fb.Items {
				if !bytes.Equal(fb.Items[i], sb.Items[i]) {
					t.Fatalf("item %d: fast %q, slow %q", i, fb.Items[i], sb.Items[i])
				}
			}
		}
	})
}

// Exported for the external tests, which use the bench generator (an
// import cycle from inside the package).
var (
	ParseFast       = parseFast
	ParseSlow       = parseSlow
	DecodeBatchFast = decodeBatchFast
	DecodeBatchSlow = decodeBatchSlow
	SameEvent       = sameEvent
	SeedEvents      = seedEvents
)

// FuzzDecode: Decode reads a stored event as json.Unmarshal does, and the
// events AppendJSON writes take the fast path.
func FuzzDecode(f *testing.F) {
	for _, s := range seedEvents {
		f.Add([]byte(s))
		if ev, err := parseSlow([]byte(s), "", Envelope{ReceivedAt: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}, func() string { return "g" }); err == nil {
			b, _ := ev.AppendJSON(nil)
			f.Add(b)
		}
	}
	f.Add([]byte(`{"type":null,"timestamp":"2024-03-01T10:00:00+02:00","receivedAt":null,"properties":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeFast(body)
		var slow Event
		err := json.Unmarshal(body, &slow)
		if ok {
			if err != nil {
				t.Fatalf("fast decode accepted what encoding/json refuses (%v): %q", err, body)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("fast %+v\nslow %+v", fast, slow)
			}
		}
		// What AppendJSON writes of an accepted event is always decoded fast.
		ev, perr := parseSlow(body, "", Envelope{ReceivedAt: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}, func() string { return "g" })
		if perr != nil {
			return
		}
		stored, err := ev.AppendJSON(nil)
		if err != nil {
			return
		}
		back, ok := decodeFast(stored)
		if !ok {
			if bytes.IndexByte(stored, '\\') < 0 {
				t.Fatalf("stored event without escapes declined: %s", stored)
			}
			return
		}
		var want Event
		json.Unmarshal(stored, &want)
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("stored event decoded as %+v, want %+v", back, want)
		}
	})
}
