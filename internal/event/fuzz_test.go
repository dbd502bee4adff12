package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// seedEvents are realistic events as SDKs send them, and some that are not.
var seedEvents = []string{
	`{"type":"identify","userId":"019mr8mf4r","traits":{"email":"pgibbons@example.com","name":"Peter Gibbons","industry":"Technology"},"context":{"ip":"24.5.68.47"},"timestamp":"2012-12-02T00:30:08.276Z"}`,
	`{"type":"track","userId":"019mr8mf4r","event":"Item Purchased","properties":{"name":"Leap to Conclusions Mat","revenue":14.99},"context":{"ip":"24.5.68.47"},"timestamp":"2012-12-02T00:30:12.984Z"}`,
	`{"type":"page","userId":"019mr8mf4r","name":"Tracking HTTP API","timestamp":"2012-12-02T00:31:29.738Z"}`,
	`{"type":"screen","userId":"019mr8mf4r","name":"Tracking HTTP API","timestamp":"2012-12-02T00:31:29.738Z"}`,
	`{"type":"group","userId":"019mr8mf4r","groupId":"8e9df332ac","traits":{"name":"Initech","industry":"Technology","employees":420},"timestamp":"2012-12-02T00:31:38.208Z"}`,
	`{"type":"alias","previousId":"39239-239239-239239-23923","userId":"019mr8mf4r","timestamp":"2012-12-02T00:31:29.738Z"}`,
	`{"type":"track","messageId":"ajs-next-1f3e","anonymousId":"5b8e5b2a-2f1c-4a6b-9d3e-1c2b3a4d5e6f","event":"Order Completed","properties":{"order_id":"50314b8e","total":27.5,"revenue":25,"currency":"USD","products":[{"product_id":"507f1f77","sku":"45790-32","price":19,"quantity":1}]},"context":{"library":{"name":"analytics.js","version":"next-1.70.0"},"page":{"path":"/checkout","url":"https://shop.example/checkout"},"userAgent":"Mozilla/5.0"},"integrations":{"All":true},"originalTimestamp":"2024-03-01T10:00:00.000Z","sentAt":"2024-03-01T10:00:01.000Z","writeKey":"wk_abc"}`,
	`{"type":"identify","userId":12345,"anonymousId":null,"traits":{"phone":"+49 30 1234567"},"context":{"externalIds":[{"id":"cus_1","type":"stripe_id","collection":"users","encoding":"none"}]},"timestamp":"2015-2-02T00:30:08.276Z"}`,
	`{"type":"track","userId":{"id":1},"event":42,"properties":[],"timestamp":"yesterday"}`,
	`{"type":"unknown","userId":"u"}`,
	`{"type":"track","userId":"u","event":"x","timestamp":"9999-12-31T23:59:59Z","sentAt":"1970-01-01T00:00:00Z"}`,
	`{"type":"track","userId":"u","event":"x","timestamp":"1970-01-01T00:00:00Z","sentAt":"9999-12-31T23:59:59Z"}`,
	`{"type":"track","userId":"u","event":"x","context":{"traits":{"email":"a@b.c"}},"integrations":{"Salesforce":false}}`,
	// Regression seeds of bugs fixed: ids of a wrong type not named, JSON
	// numbers beyond float64, NUL in ids and names, bytes that are not UTF-8.
	`{"type":"track","userId":{},"event":"x"}`,
	`{"type":"track","userId":1e400,"event":"x"}`,
	`{"type":"track","userId":"a\u0000","event":"Order\u0000Completed"}`,
	"{\"type\":\"track\",\"userId\":\"u\",\"event\":\"x\",\"properties\":{\"p\":\"\xff\"}}",
	`null`, `[]`, `{}`, `1`, `"x"`, `{"type":"track"`,
}

func FuzzParse(f *testing.F) {
	for _, s := range seedEvents {
		for _, typ := range []string{"", Track, Alias} {
			f.Add([]byte(s), typ, `{"library":{"name":"analytics-go"}}`, "2024-03-01T10:00:02Z")
		}
	}
	f.Add([]byte(`{"type":"page","anonymousId":"a"}`), "", `null`, "")
	f.Add([]byte(`{"type":"page","anonymousId":"a","context":{"x":1}}`), "", `{"x":2,"y":[1]}`, "bad time")
	f.Fuzz(func(t *testing.T, raw []byte, typ, batchContext, batchSentAt string) {
		env := Envelope{ReceivedAt: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}
		// The envelope as DecodeBatch would hand it over, or none.
		if b, err := DecodeBatch([]byte(`{"batch":[],"context":`+nonEmpty(batchContext)+`,"sentAt":`+quoteTime(batchSentAt)+`}`), env.ReceivedAt); err == nil {
			env = b.Envelope
		}
		if typ != "" && !IsType(typ) {
			typ = ""
		}
		ev, err := Parse(raw, typ, env, func() string { return "generated" })
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not an *event.Error", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		checkAccepted(t, ev, typ)
		checkAppendJSON(t, ev)
	})
}

// checkAppendJSON: the stored encoding says what json.Marshal says.
func checkAppendJSON(t *testing.T, ev Event) {
	t.Helper()
	want, werr := json.Marshal(ev)
	got, gerr := ev.AppendJSON(nil)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("AppendJSON error %v, json.Marshal error %v", gerr, werr)
	}
	if werr != nil {
		return
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("AppendJSON made invalid JSON %q: %v", got, err)
	}
	json.Unmarshal(want, &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("AppendJSON\n%s\njson.Marshal\n%s", got, want)
	}
	// What is read back is the event json.Marshal's encoding gives.
	var back, backWant Event
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(want, &backWant)
	if !back.Timestamp.Equal(backWant.Timestamp) || !back.ReceivedAt.Equal(backWant.ReceivedAt) || back.MessageID != backWant.MessageID ||
		back.UserID != backWant.UserID || back.Event != backWant.Event || back.Name != backWant.Name {
		t.Fatalf("read back %+v, want %+v", back, backWant)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	for i := 0; i < len(seedEvents); i += 3 {
		end := min(i+3, len(seedEvents))
		var items [][]byte
		for _, s := range seedEvents[i:end] {
			items = append(items, []byte(s))
		}
		f.Add([]byte(`{"batch":[` + string(bytes.Join(items, []byte(","))) + `],"context":{"library":{"name":"analytics-go","version":"3.0.0"}},"messageId":"b1","sentAt":"2024-03-01T10:00:01Z","writeKey":"wk"}`))
	}
	f.Add([]byte(`{"batch":[],"integrations":{"All":false}}`))
	f.Add([]byte(`{"batch":{}}`))
	f.Add([]byte(`{"batch":[null],"context":[]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		recv := time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)
		b, err := DecodeBatch(raw, recv)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not an *event.Error", err)
			}
			return
		}
		if len(b.Items) > MaxBatchEvents {
			t.Fatalf("%d items accepted", len(b.Items))
		}
		if !b.Envelope.ReceivedAt.Equal(recv) {
			t.Fatal("receivedAt not the server's")
		}
		for _, it := range b.Items {
			ev, err := Parse(it, "", b.Envelope, func() string { return "generated" })
			if err == nil {
				checkAccepted(t, ev, "")
			}
		}
	})
}

// checkAccepted checks what the spec demands of every accepted event and
// that it survives being stored as JSON and read back.
func checkAccepted(t *testing.T, ev Event, endpointType string) {
	t.Helper()
	if !IsType(ev.Type) || (endpointType != "" && ev.Type != endpointType) {
		t.Fatalf("accepted with type %q (endpoint %q)", ev.Type, endpointType)
	}
	if ev.MessageID == "" {
		t.Fatal("accepted without messageId")
	}
	switch ev.Type {
	case Alias:
		if ev.UserID == "" || ev.PreviousID == "" {
			t.Fatalf("alias without userId or previousId: %+v", ev)
		}
	default:
		if ev.UserID == "" && ev.AnonymousID == "" {
			t.Fatalf("accepted without userId and anonymousId: %+v", ev)
		}
	}
	if ev.Type == Track && ev.Event == "" {
		t.Fatal("track accepted without event name")
	}
	if ev.Type == Group && ev.GroupID == "" {
		t.Fatal("group accepted without groupId")
	}
	for _, id := range []string{ev.MessageID, ev.UserID, ev.AnonymousID, ev.PreviousID, ev.GroupID} {
		if len(id) > maxIDLength {
			t.Fatalf("id of %d bytes accepted", len(id))
		}
	}
	for _, s := range []string{ev.MessageID, ev.UserID, ev.AnonymousID, ev.PreviousID, ev.GroupID, ev.Event, ev.Name, ev.Category} {
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			t.Fatalf("id or name %q accepted", s)
		}
	}
	if ev.Timestamp.IsZero() || ev.ReceivedAt.IsZero() {
		t.Fatalf("times not set: %+v", ev)
	}
	for name, raw := range map[string]json.RawMessage{"properties": ev.Properties, "traits": ev.Traits, "context": ev.Context, "integrations": ev.Integrations} {
		if raw == nil {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s is not a JSON object: %s", name, raw)
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		// Only a skew correction beyond year 0..9999 may fail to encode;
		// the collector refuses such an event with a clear error.
		if y := ev.Timestamp.Year(); y >= 0 && y <= 9999 {
			t.Fatalf("accepted event does not encode: %v", err)
		}
		return
	}
	if hasNUL(body) {
		t.Fatalf("stored body holds a NUL character: %q", body)
	}
	if !utf8.Valid(body) || !json.Valid(body) {
		t.Fatalf("stored body is not valid UTF-8 JSON: %q", body)
	}
	var back Event
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatalf("stored body does not decode: %v", err)
	}
	if back.Type != ev.Type || back.MessageID != ev.MessageID || back.UserID != ev.UserID || back.AnonymousID != ev.AnonymousID ||
		back.Event != ev.Event || !back.Timestamp.Equal(ev.Timestamp) {
		t.Fatalf("stored body reads back as %+v, was %+v", back, ev)
	}
}

func nonEmpty(s string) string {
	if json.Valid([]byte(s)) {
		return s
	}
	return "null"
}

func quoteTime(s string) string {
	if s == "" {
		return "null"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
