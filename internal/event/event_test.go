package event

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var recv = time.Date(2026, 5, 6, 12, 0, 0, 123_456_789, time.UTC)

func fixedID() string { return "generated-id" }

func TestParseValid(t *testing.T) {
	cases := []struct {
		name  string
		typ   string // endpoint type, "" for batch items
		raw   string
		check func(t *testing.T, ev Event)
	}{
		{"track", "", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"revenue":9.5},"messageId":"m1"}`,
			func(t *testing.T, ev Event) {
				if ev.Type != Track || ev.UserID != "u1" || ev.Event != OrderCompleted || ev.MessageID != "m1" || string(ev.Properties) != `{"revenue":9.5}` {
					t.Errorf("%+v", ev)
				}
			}},
		{"endpoint type wins", Identify, `{"type":"track","anonymousId":"a1","traits":{"email":"x@y.z"}}`,
			func(t *testing.T, ev Event) {
				if ev.Type != Identify || ev.AnonymousID != "a1" || string(ev.Traits) != `{"email":"x@y.z"}` {
					t.Errorf("%+v", ev)
				}
			}},
		{"messageId generated", "", `{"type":"page","anonymousId":"a","name":"Home"}`,
			func(t *testing.T, ev Event) {
				if ev.MessageID != "generated-id" || ev.Name != "Home" {
					t.Errorf("%+v", ev)
				}
			}},
		{"numeric ids", "", `{"type":"alias","userId":42,"previousId":-1.5e3,"messageId":7}`,
			func(t *testing.T, ev Event) {
				if ev.UserID != "42" || ev.PreviousID != "-1.5e3" || ev.MessageID != "7" {
					t.Errorf("%+v", ev)
				}
			}},
		{"huge number id stays exact", "", `{"type":"track","userId":123456789012345678901234567890,"event":"x"}`,
			func(t *testing.T, ev Event) {
				if ev.UserID != "123456789012345678901234567890" {
					t.Errorf("%q", ev.UserID)
				}
			}},
		{"number beyond float64 range", "", `{"type":"track","userId":1e400,"event":"x"}`,
			func(t *testing.T, ev Event) {
				if ev.UserID != "1e400" {
					t.Errorf("%q", ev.UserID)
				}
			}},
		{"null fields", "", `{"type":"group","userId":"u","groupId":"g","traits":null,"context":null,"anonymousId":null}`,
			func(t *testing.T, ev Event) {
				if ev.Traits != nil || ev.Context != nil || ev.GroupID != "g" {
					t.Errorf("%+v", ev)
				}
			}},
		{"screen with category", Screen, `{"userId":"u","name":"Basket","category":"Shop"}`,
			func(t *testing.T, ev Event) {
				if ev.Type != Screen || ev.Category != "Shop" {
					t.Errorf("%+v", ev)
				}
			}},
		{"unknown fields are ignored", "", `{"type":"track","userId":"u","event":"x","channel":"server","version":2}`,
			func(t *testing.T, ev Event) {}},
		{"surrounding whitespace", "", " \n\t{\"type\":\"track\",\"userId\":\"u\",\"event\":\"x\"}\n ",
			func(t *testing.T, ev Event) {}},
		{"escaped backslash before u0000 is no NUL", "", `{"type":"track","userId":"u","event":"x","properties":{"path":"C:\\u0000"}}`,
			func(t *testing.T, ev Event) {
				var p struct{ Path string }
				if json.Unmarshal(ev.Properties, &p) != nil || p.Path != `C:\u0000` {
					t.Errorf("%s", ev.Properties)
				}
			}},
		{"unicode", "", `{"type":"identify","userId":"ü-1","traits":{"name":"Jürgen 🚀"}}`,
			func(t *testing.T, ev Event) {
				if ev.UserID != "ü-1" {
					t.Errorf("%q", ev.UserID)
				}
			}},
		{"receivedAt from the server", "", `{"type":"track","userId":"u","event":"x","receivedAt":"2000-01-01T00:00:00Z"}`,
			func(t *testing.T, ev Event) {
				if !ev.ReceivedAt.Equal(recv) || !ev.Timestamp.Equal(recv.Truncate(time.Millisecond)) {
					t.Errorf("receivedAt %v timestamp %v", ev.ReceivedAt, ev.Timestamp)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := Parse([]byte(tc.raw), tc.typ, Envelope{ReceivedAt: recv}, fixedID)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.check(t, ev)
			if _, err := json.Marshal(ev); err != nil {
				t.Errorf("re-encode: %v", err)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	cases := []struct {
		name, typ, raw string
		field, msg     string
	}{
		{"not JSON", "", `{"type":`, "", "invalid JSON"},
		{"array", "", `[1]`, "", "must be a JSON object, not JSON array"},
		{"number", "", `12`, "", "must be a JSON object, not JSON number"},
		{"null", "", `null`, "", "not null"},
		{"empty", "", ``, "", "JSON"},
		{"trailing data", "", `{"type":"track","userId":"u","event":"x"} {}`, "", "invalid JSON"},
		{"no type", "", `{"userId":"u"}`, "type", "missing"},
		{"unknown type", "", `{"type":"purchase","userId":"u"}`, "type", `"purchase" is not one of`},
		{"type is a number", "", `{"type":3,"userId":"u"}`, "type", "must be a string"},
		{"userId object", "", `{"type":"track","userId":{"a":1},"event":"x"}`, "userId", "must be a string, not JSON object"},
		{"userId array", "", `{"type":"track","userId":[1],"event":"x"}`, "userId", "must be a string, not JSON array"},
		{"anonymousId bool", "", `{"type":"track","anonymousId":false,"event":"x"}`, "anonymousId", "must be a string, not JSON bool"},
		{"messageId object", "", `{"type":"track","userId":"u","event":"x","messageId":{}}`, "messageId", "must be a string"},
		{"groupId array", Group, `{"userId":"u","groupId":["g"]}`, "groupId", "must be a string"},
		{"previousId bool", Alias, `{"userId":"u","previousId":true}`, "previousId", "must be a string"},
		{"event number", Track, `{"userId":"u","event":1}`, "event", "must be a string"},
		{"name object", Page, `{"userId":"u","name":{}}`, "name", "must be a string"},
		{"properties array", Track, `{"userId":"u","event":"x","properties":[]}`, "properties", "must be a JSON object"},
		{"properties string", Track, `{"userId":"u","event":"x","properties":"a"}`, "properties", "must be a JSON object"},
		{"traits number", Identify, `{"userId":"u","traits":5}`, "traits", "must be a JSON object"},
		{"context array", Identify, `{"userId":"u","context":[]}`, "context", "must be a JSON object"},
		{"integrations bool", Identify, `{"userId":"u","integrations":true}`, "integrations", "must be a JSON object"},
		{"timestamp text", Track, `{"userId":"u","event":"x","timestamp":"yesterday"}`, "timestamp", "not an ISO-8601"},
		{"timestamp number", Track, `{"userId":"u","event":"x","timestamp":1700000000}`, "timestamp", "must be a string"},
		{"timestamp year 0", Track, `{"userId":"u","event":"x","timestamp":"0000-01-01T00:00:00Z"}`, "timestamp", "out of range"},
		{"timestamp month 13", Track, `{"userId":"u","event":"x","timestamp":"2020-13-01T00:00:00Z"}`, "timestamp", "not an ISO-8601"},
		{"originalTimestamp text", Track, `{"userId":"u","event":"x","originalTimestamp":"now"}`, "originalTimestamp", "not an ISO-8601"},
		{"sentAt text", Track, `{"userId":"u","event":"x","sentAt":"soon","timestamp":"2020-01-01T00:00:00Z"}`, "sentAt", "not an ISO-8601"},
		{"no ids", Track, `{"event":"x"}`, "userId", "userId or anonymousId is required"},
		{"empty ids", Track, `{"event":"x","userId":"","anonymousId":null}`, "userId", "userId or anonymousId is required"},
		{"track without event", Track, `{"userId":"u"}`, "event", "required for track"},
		{"track with empty event", Track, `{"userId":"u","event":""}`, "event", "required for track"},
		{"group without groupId", Group, `{"userId":"u"}`, "groupId", "required"},
		{"alias without userId", Alias, `{"previousId":"p","anonymousId":"a"}`, "userId", "required for alias"},
		{"alias without previousId", Alias, `{"userId":"u"}`, "previousId", "required for alias"},
		{"NUL in userId", Track, `{"userId":"a\u0000b","event":"x"}`, "userId", "NUL"},
		{"NUL in event name", Track, `{"userId":"u","event":"Order\u0000Completed"}`, "event", "NUL"},
		{"NUL in messageId", Page, `{"userId":"u","messageId":"\u0000"}`, "messageId", "NUL"},
		{"NUL in a property", Track, `{"userId":"u","event":"x","properties":{"order_id":"o\u0000"}}`, "", "NUL"},
		{"NUL in a trait key", Identify, `{"userId":"u","traits":{"\u0000":1}}`, "", "NUL"},
		{"id too long", Track, `{"userId":"` + strings.Repeat("u", 513) + `","event":"x"}`, "userId", "longer than 512"},
		{"too big", Track, `{"userId":"u","event":"x","properties":{"p":"` + strings.Repeat("p", MaxEventBytes) + `"}}`, "", "the limit is 32768"},
		{"invalid UTF-8", Track, "{\"userId\":\"u\",\"event\":\"x\",\"properties\":{\"p\":\"\xff\xfe\"}}", "", "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.raw), tc.typ, Envelope{ReceivedAt: recv}, fixedID)
			if err == nil {
				t.Fatal("accepted")
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not an *event.Error", err)
			}
			if fe.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", fe.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

// TestClockSkew checks timestamp = receivedAt - (sentAt - originalTimestamp).
func TestClockSkew(t *testing.T) {
	ms := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	batchSent := ms("2026-05-06T12:10:00Z") // client clock 10 minutes fast
	cases := []struct {
		name     string
		raw      string
		env      *time.Time
		want     time.Time
		original string
	}{
		{"batch sentAt", `{"timestamp":"2026-05-06T12:09:55Z"}`, &batchSent, recv.Add(-5 * time.Second), "2026-05-06T12:09:55Z"},
		{"event sentAt wins", `{"timestamp":"2026-05-06T09:00:00Z","sentAt":"2026-05-06T09:00:30Z"}`, &batchSent, recv.Add(-30 * time.Second), "2026-05-06T09:00:00Z"},
		{"event sentAt alone", `{"timestamp":"2026-05-06T09:00:00Z","sentAt":"2026-05-06T09:01:00Z"}`, nil, recv.Add(-time.Minute), "2026-05-06T09:00:00Z"},
		{"originalTimestamp wins over timestamp", `{"originalTimestamp":"2026-05-06T12:09:00Z","timestamp":"2026-05-06T12:09:59Z"}`, &batchSent, recv.Add(-time.Minute), "2026-05-06T12:09:00Z"},
		{"client in the future of sentAt", `{"timestamp":"2026-05-06T12:10:02Z"}`, &batchSent, recv.Add(2 * time.Second), "2026-05-06T12:10:02Z"},
		{"no sentAt: timestamp as sent", `{"timestamp":"2019-01-02T03:04:05.678Z"}`, nil, ms("2019-01-02T03:04:05.678Z"), "2019-01-02T03:04:05.678Z"},
		{"no timestamp: receivedAt", `{}`, &batchSent, recv, ""},
		{"offsets", `{"timestamp":"2026-05-06T14:09:55+02:00"}`, &batchSent, recv.Add(-5 * time.Second), "2026-05-06T12:09:55Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := strings.Replace(tc.raw, "{", `{"type":"track","userId":"u","event":"x",`, 1)
			raw = strings.Replace(raw, ",}", "}", 1)
			ev, err := Parse([]byte(raw), "", Envelope{ReceivedAt: recv, SentAt: tc.env}, fixedID)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want.Truncate(time.Millisecond); !ev.Timestamp.Equal(want) {
				t.Errorf("timestamp %v, want %v", ev.Timestamp, want)
			}
			if ev.Timestamp.Location() != time.UTC || ev.ReceivedAt.Location() != time.UTC {
				t.Errorf("times not in UTC")
			}
			if tc.original == "" {
				if ev.OriginalTimestamp != nil {
					t.Errorf("originalTimestamp %v, want none", ev.OriginalTimestamp)
				}
			} else if ev.OriginalTimestamp == nil || !ev.OriginalTimestamp.Equal(ms(tc.original)) {
				t.Errorf("originalTimestamp %v, want %s", ev.OriginalTimestamp, tc.original)
			}
		})
	}
}

func TestTimeFormats(t *testing.T) {
	want := time.Date(2015, 2, 2, 0, 30, 8, 276_000_000, time.UTC)
	for _, s := range []string{
		"2015-02-02T00:30:08.276Z",
		"2015-2-02T00:30:08.276Z", // Segment's own batch example
		"2015-2-2T00:30:08.276Z",
		"2015-02-02T01:30:08.276+01:00",
		"2015-02-02T01:30:08.276+0100",
		"2015-02-02T00:30:08.276",
		"2015-02-02T00:30:08.276000000Z",
	} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if got, err := ParseTime("2015-02-02"); err != nil || !got.Equal(time.Date(2015, 2, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date only: %v %v", got, err)
	}
	for _, s := range []string{"", "02/02/2015", "2015-02-02 00:30:08", "1700000000", "2015-02-30T00:00:00Z", "1969-12-31T23:59:59Z", "T"} {
		if got, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", s, got)
		}
	}
}

func TestEnvelopeMerge(t *testing.T) {
	env := Envelope{ReceivedAt: recv,
		Context:      json.RawMessage(`{"library":{"name":"batch"},"ip":"1.2.3.4"}`),
		Integrations: json.RawMessage(`{"All":false,"Mixpanel":true}`)}
	cases := []struct {
		name, raw, context, integrations string
	}{
		{"event without", `{"type":"track","userId":"u","event":"x"}`, `{"ip":"1.2.3.4","library":{"name":"batch"}}`, `{"All":false,"Mixpanel":true}`},
		{"event keys win", `{"type":"track","userId":"u","event":"x","context":{"library":{"name":"own"},"locale":"de"},"integrations":{"Mixpanel":false}}`,
			`{"ip":"1.2.3.4","library":{"name":"own"},"locale":"de"}`, `{"All":false,"Mixpanel":false}`},
		{"null context", `{"type":"track","userId":"u","event":"x","context":null}`, `{"ip":"1.2.3.4","library":{"name":"batch"}}`, `{"All":false,"Mixpanel":true}`},
		{"empty objects", `{"type":"track","userId":"u","event":"x","context":{},"integrations":{}}`, `{"ip":"1.2.3.4","library":{"name":"batch"}}`, `{"All":false,"Mixpanel":true}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := Parse([]byte(tc.raw), "", env, fixedID)
			if err != nil {
				t.Fatal(err)
			}
			if got := canonical(t, ev.Context); got != tc.context {
				t.Errorf("context %s, want %s", got, tc.context)
			}
			if got := canonical(t, ev.Integrations); got != tc.integrations {
				t.Errorf("integrations %s, want %s", got, tc.integrations)
			}
		})
	}
}

func canonical(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDecodeBatch(t *testing.T) {
	ok := []struct {
		name, raw string
		items     int
		check     func(t *testing.T, b Batch)
	}{
		{"full", `{"batch":[{"type":"track"}, {"type":"page"} ],"context":{"ip":"1.2.3.4"},"integrations":{"All":true},"sentAt":"2026-05-06T12:10:00Z","writeKey":"wk","messageId":"batch-id"}`, 2,
			func(t *testing.T, b Batch) {
				if b.Envelope.WriteKey != "wk" || b.Envelope.SentAt == nil || !b.Envelope.SentAt.Equal(time.Date(2026, 5, 6, 12, 10, 0, 0, time.UTC)) ||
					string(b.Envelope.Context) != `{"ip":"1.2.3.4"}` || string(b.Envelope.Integrations) != `{"All":true}` || !b.Envelope.ReceivedAt.Equal(recv) {
					t.Errorf("%+v", b.Envelope)
				}
				if string(b.Items[1]) != `{"type":"page"}` {
					t.Errorf("item not trimmed: %q", b.Items[1])
				}
			}},
		{"empty batch", `{"batch":[]}`, 0, nil},
		{"items of any JSON", `{"batch":[1,null,"x",[]]}`, 4, nil},
		{"null envelope fields", `{"batch":[],"context":null,"integrations":null,"sentAt":null,"writeKey":null}`, 0, nil},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			b, err := DecodeBatch([]byte(tc.raw), recv)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Items) != tc.items {
				t.Errorf("%d items, want %d", len(b.Items), tc.items)
			}
			if tc.check != nil {
				tc.check(t, b)
			}
		})
	}
	many := `{"batch":[` + strings.Repeat(`{},`, MaxBatchEvents) + `{}]}`
	bad := []struct{ name, raw, msg string }{
		{"not JSON", `{"batch":[`, "invalid JSON"},
		{"array", `[]`, "must be a JSON object"},
		{"missing batch", `{}`, "batch: missing"},
		{"null batch", `{"batch":null}`, "batch: missing"},
		{"batch object", `{"batch":{}}`, "batch: must be an array"},
		{"too many", many, "2501 events, the limit is 2500"},
		{"context array", `{"batch":[],"context":[]}`, "context: must be a JSON object"},
		{"integrations string", `{"batch":[],"integrations":"x"}`, "integrations: must be a JSON object"},
		{"sentAt bad", `{"batch":[],"sentAt":"x"}`, "sentAt"},
		{"sentAt number", `{"batch":[],"sentAt":1}`, "sentAt: must be a string"},
		{"writeKey number", `{"batch":[],"writeKey":1}`, "writeKey: must be a string"},
		{"context with NUL", `{"batch":[],"context":{"a":"\u0000"}}`, "context: contains a NUL"},
		{"context not UTF-8", "{\"batch\":[],\"context\":{\"a\":\"\xff\"}}", "context: not valid UTF-8"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBatch([]byte(tc.raw), recv)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one saying %q", err, tc.msg)
			}
		})
	}
}

func TestMessageIDOf(t *testing.T) {
	for raw, want := range map[string]string{
		`{"messageId":"m-1","type":"nope"}`: "m-1",
		`{"messageId":17}`:                  "17",
		`{"messageId":{}}`:                  "",
		`{"userId":"u"}`:                    "",
		`not json`:                          "",
		`[1]`:                               "",
	} {
		if got := MessageIDOf([]byte(raw)); got != want {
			t.Errorf("MessageIDOf(%s) = %q, want %q", raw, got, want)
		}
	}
}

func TestWriteKeyOf(t *testing.T) {
	for raw, want := range map[string]string{
		`{"writeKey":"wk_1","userId":"u"}`: "wk_1",
		`{"writeKey":1}`:                   "",
		`{"userId":"u"}`:                   "",
		`{"writeKey":`:                     "",
	} {
		if got := WriteKeyOf([]byte(raw)); got != want {
			t.Errorf("WriteKeyOf(%s) = %q, want %q", raw, got, want)
		}
	}
}

// TestAppendJSONEscapes: strings with quotes, control characters, HTML,
// line separators and bytes that are not UTF-8 encode as json.Marshal
// encodes them (read back equal).
func TestAppendJSONEscapes(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	orig := at.Add(-time.Second)
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\ncr\r\x01\x1f", "<b>&amp;</b>", "ls\u2028ps\u2029", "bad\xffutf8", "Grüße 🚆"} {
		ev := Event{Type: Track, MessageID: s + "m", UserID: s, Event: s + "e", Properties: []byte(`{"a": [1, 2]}`),
			Timestamp: at, ReceivedAt: at, OriginalTimestamp: &orig}
		checkAppendJSON(t, ev)
	}
	far := Event{Type: Track, MessageID: "m", Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := far.AppendJSON(nil); err == nil {
		t.Fatal("a year beyond 9999 was encoded")
	}
}
