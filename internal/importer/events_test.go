package importer

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/store"
)

const goodLines = `{"type":"identify","userId":"u1","traits":{"email":"u1@example.com","name":"Ulla"},"timestamp":"2023-03-01T10:00:00Z"}
{"type":"track","userId":"u1","event":"Order Completed","properties":{"revenue":12.5,"currency":"EUR"},"timestamp":"2023-03-02T10:00:00Z"}

{"type":"page","anonymousId":"a1","name":"Home","messageId":"given-1","timestamp":"2023-03-03T10:00:00Z"}
{"type":"track","userId":"u1","event":"Viewed","timestamp":"2023-03-04T10:00:00Z"}
{"type":"track","userId":"u1","event":"Viewed","timestamp":"2023-03-04T10:00:00Z"}
  {"type":"alias","userId":"u1","previousId":"a1","timestamp":"2023-03-05T10:00:00Z"}  ` + "\r\n"

const badLines = `{"type":"track","userId":"u2","event":"Order Completed","properties":{"revenue":3},"timestamp":"2023-03-06T10:00:00Z"}
{"type":"track","userId":"u2"}
not json
{"type":"shout","userId":"u2"}
{"type":"page","name":"no one"}
{"type":"page","userId":"u2","timestamp":"yesterday"}
{"type":"identify","userId":"u2","traits":{"plan":"pro"},"timestamp":"2023-03-07T10:00:00Z"}
`

func TestImportEvents(t *testing.T) { eachStore(t, testImportEvents) }

func testImportEvents(t *testing.T, kind string) {
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	path := writeFile(t, "events.jsonl", goodLines+badLines)
	var errs []string
	opt := fileOptions(st, src, path)
	opt.OnError = func(le *LineError) { errs = append(errs, le.Error()) }
	sum, err := Events(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lines != 13 || sum.New != 8 || sum.Duplicates != 0 || sum.Rejected != 5 {
		t.Fatalf("summary %+v", sum)
	}
	want := []string{
		"events.jsonl:9: event: the event name is required for track",
		"events.jsonl:10: ",
		"events.jsonl:11: type: \"shout\" is not one of",
		"events.jsonl:12: userId: userId or anonymousId is required",
		"events.jsonl:13: timestamp: \"yesterday\" is not an ISO-8601",
	}
	if len(errs) != len(want) {
		t.Fatalf("errors %q", errs)
	}
	for i := range want {
		if !strings.HasPrefix(errs[i], want[i]) {
			t.Errorf("error %q, want prefix %q", errs[i], want[i])
		}
	}
	rej, err := st.RejectedEvents(ctx, src.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 5 || rej[4].Body != `{"type":"track","userId":"u2"}` || !strings.HasPrefix(rej[4].Reason, "events.jsonl:9: ") ||
		!strings.HasPrefix(rej[4].MessageID, "imp-") {
		t.Fatalf("rejected %+v", rej)
	}

	// The given messageId is kept; the two equal "Viewed" lines are two events.
	evs, err := st.Events(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range evs {
		ids[e.MessageID] = true
	}
	if len(ids) != 8 || !ids["given-1"] {
		t.Fatalf("message ids %v", ids)
	}

	process(t, st)
	s := stats(t, st)
	if s.Customers != 2 || s.Orders != 2 || s.Merges != 1 {
		t.Fatalf("stats %+v", s)
	}
	u1, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "email", Value: "u1@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if u1.Name != "Ulla" || u1.Events != 6 || u1.Orders != 1 || u1.RevenueMicros != 12_500000 {
		t.Fatalf("u1 %+v", u1)
	}
	if want := time.Date(2023, 3, 1, 10, 0, 0, 0, time.UTC); !u1.FirstSeen.Equal(want) {
		t.Fatalf("first seen %v, want %v", u1.FirstSeen, want)
	}

	// Importing again adds nothing, also after the file was reformatted
	// (CRLF, surrounding blanks).
	again, err := Events(ctx, fileOptions(st, src, writeFile(t, "again.jsonl", strings.ReplaceAll(goodLines, "\n", "  \r\n")+badLines)))
	if err != nil {
		t.Fatal(err)
	}
	if again.New != 0 || again.Duplicates != 8 || again.Rejected != 5 {
		t.Fatalf("second import %+v", again)
	}
	process(t, st)
	if s2 := stats(t, st); s2.Events != s.Events || s2.Customers != s.Customers || s2.Orders != s.Orders {
		t.Fatalf("second import changed %+v to %+v", s, s2)
	}

	// Another source with the same file gets its own events.
	other, err := Events(ctx, fileOptions(st, store.Source{ID: "src_other"}, path))
	if err != nil || other.New != 8 {
		t.Fatalf("other source: %+v %v", other, err)
	}
}

func TestImportEventsStrict(t *testing.T) { eachStore(t, testImportEventsStrict) }

func testImportEventsStrict(t *testing.T, kind string) {
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	opt := fileOptions(st, src, writeFile(t, "e.jsonl", goodLines+badLines))
	opt.Strict = true
	var n int
	opt.OnError = func(*LineError) { n++ }
	sum, err := Events(ctx, opt)
	if !errors.Is(err, ErrInvalid) || sum.Rejected != 5 || n != 5 {
		t.Fatalf("strict: %+v %v", sum, err)
	}
	wantErr(t, err, "5 of 13 lines are bad; nothing was stored")
	if s := stats(t, st); s.Events != 0 || s.Rejected != 0 {
		t.Fatalf("strict import stored %+v", s)
	}

	opt = fileOptions(st, src, writeFile(t, "e.jsonl", goodLines))
	opt.Strict = true
	sum, err = Events(ctx, opt)
	if err != nil || sum.New != 6 || sum.Lines != 6 {
		t.Fatalf("strict, all good: %+v %v", sum, err)
	}
}

func TestImportEventsHistoricSentAt(t *testing.T) { eachStore(t, testImportEventsHistoricSentAt) }

func testImportEventsHistoricSentAt(t *testing.T, kind string) {
	// Exports carry sentAt (and often receivedAt) from the time of the
	// event; the import must not move those events to today.
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	lines := `{"type":"track","userId":"u","event":"A","originalTimestamp":"2020-01-01T00:00:00Z","sentAt":"2020-01-01T00:00:05Z"}
{"type":"track","userId":"u","event":"B","originalTimestamp":"2020-01-01T00:00:00Z","sentAt":"2020-01-01T00:00:05Z","receivedAt":"2020-01-01T00:01:05Z"}
{"type":"track","userId":"u","event":"C","timestamp":"2020-01-01T00:00:00Z"}
{"type":"track","userId":"u","event":"D","sentAt":"2020-01-01T00:00:05Z"}
`
	sum, err := Events(ctx, fileOptions(st, src, writeFile(t, "h.jsonl", lines)))
	if err != nil || sum.New != 4 {
		t.Fatalf("%+v %v", sum, err)
	}
	evs, err := st.Events(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "2020-01-01T00:00:00Z", "B": "2020-01-01T00:01:00Z", "C": "2020-01-01T00:00:00Z", "D": "2020-01-01T00:00:05Z"}
	for _, e := range evs {
		if got := e.Timestamp.Format(time.RFC3339); got != want[e.Name] {
			t.Errorf("event %s at %s, want %s", e.Name, got, want[e.Name])
		}
		var body struct {
			ReceivedAt time.Time `json:"receivedAt"`
		}
		json.Unmarshal(e.Body, &body)
		if e.Name == "B" && !body.ReceivedAt.Equal(time.Date(2020, 1, 1, 0, 1, 5, 0, time.UTC)) {
			t.Errorf("B: receivedAt %v, want the exported one", body.ReceivedAt)
		}
		if e.Name == "A" && body.ReceivedAt.Year() != 2024 {
			t.Errorf("A: receivedAt %v, want the time of the import", body.ReceivedAt)
		}
	}
}

func TestImportEventsLongAndBadBytes(t *testing.T) { eachStore(t, testImportEventsLongAndBadBytes) }

func testImportEventsLongAndBadBytes(t *testing.T, kind string) {
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	long := `{"type":"track","userId":"u","event":"` + strings.Repeat("x", maxLine+10) + `"}`
	lines := long + "\n" + "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"caf\xe9\"}\n" + `{"type":"track","userId":"u","event":"ok"}`
	var errs []string
	opt := fileOptions(st, src, writeFile(t, "l.jsonl", lines))
	opt.OnError = func(le *LineError) { errs = append(errs, le.Error()) }
	sum, err := Events(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.New != 1 || sum.Rejected != 2 || len(errs) != 2 ||
		!strings.HasPrefix(errs[0], "l.jsonl:1: line longer than") || !strings.HasPrefix(errs[1], "l.jsonl:2: not valid UTF-8") {
		t.Fatalf("%+v %q", sum, errs)
	}
}

func TestMessageID(t *testing.T) {
	a := MessageID("src_1", "row", 0)
	if a != MessageID("src_1", "row", 0) {
		t.Fatal("not deterministic")
	}
	for _, b := range []string{MessageID("src_1", "row", 1), MessageID("src_2", "row", 0), MessageID("src_1", "row ", 0), MessageID("src_1row", "", 0)} {
		if a == b {
			t.Fatalf("collision %s", a)
		}
	}
	if len(a) > 64 {
		t.Fatalf("id %q is long", a)
	}
}

func TestProcessLease(t *testing.T) { eachStore(t, testProcessLease) }

func testProcessLease(t *testing.T, kind string) {
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	if _, err := Events(ctx, fileOptions(st, src, writeFile(t, "e.jsonl", goodLines))); err != nil {
		t.Fatal(err)
	}
	ok, err := st.AcquireLease(ctx, "pipeline", "server-node", time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	res, err := Process(ctx, st, "importer", nil)
	if err != nil || !res.Busy || res.Events != 0 {
		t.Fatalf("with the lease held elsewhere: %+v %v", res, err)
	}
	if err := st.ReleaseLease(ctx, "pipeline", "server-node"); err != nil {
		t.Fatal(err)
	}
	var last, total int64
	res, err = Process(ctx, st, "importer", func(d, tot int64) { last, total = d, tot })
	if err != nil || res.Busy || res.Events != 6 || last != 6 || total != 6 {
		t.Fatalf("%+v %v, progress %d/%d", res, err, last, total)
	}
	// The lease was given back.
	if ok, err := st.AcquireLease(ctx, "pipeline", "server-node", time.Minute); err != nil || !ok {
		t.Fatal("lease not released", ok, err)
	}
}
