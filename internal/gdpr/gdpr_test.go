package gdpr_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/gdpr"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/sqlstore"
	"github.com/kunding/kunding/internal/store/storetest"
)

var ctx = audit.WithActor(context.Background(), "test")

// eachStore runs a test on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, st store.Store)) { storetest.EachStore(t, fn) }

var base = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

type world struct {
	t   *testing.T
	st  store.Store
	src store.Source
	n   int
}

// send appends events (Segment JSON) to the log, one minute apart.
func (w *world) send(raws ...string) {
	w.t.Helper()
	var recs []store.Record
	for _, raw := range raws {
		w.n++
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			w.t.Fatalf("%s: %v", raw, err)
		}
		m["timestamp"] = base.Add(time.Duration(w.n) * time.Minute).Format(time.RFC3339)
		m["messageId"] = fmt.Sprintf("msg-%d", w.n)
		b, _ := json.Marshal(m)
		e, err := event.Parse(b, "", event.Envelope{ReceivedAt: base.Add(time.Duration(w.n) * time.Minute)}, nil)
		if err != nil {
			w.t.Fatalf("%s: %v", raw, err)
		}
		body, _ := json.Marshal(e)
		recs = append(recs, store.Record{SourceID: w.src.ID, Event: e, Body: body})
	}
	if _, err := w.st.Append(ctx, recs); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) drain() {
	w.t.Helper()
	if _, err := (&pipeline.Pipeline{Store: w.st, BatchSize: 3}).Drain(ctx, nil); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) customerOf(kind, value string) (string, error) {
	p, err := w.st.CustomerByIdentifier(ctx, store.Identifier{Kind: kind, Value: value})
	return p.CustomerID, err
}

// The person to be erased and everything that identifies them, as written
// in events; the proof looks for each of these strings in every column of
// every table.
var person = []string{
	"u-erika-4711",                // user id
	"anon-erika-7f3k9",            // anonymous id (first visits, merged later)
	"erika.mustermann@example.de", // e-mail
	"+491705550123",               // phone, normalised
	"CRM-998877",                  // external id
	"Mustermann",                  // the name
	"Hauptstraße 5",               // an address in the traits
}

func TestErasureLeavesNoTrace(t *testing.T) { eachStore(t, erasureLeavesNoTrace) }

func erasureLeavesNoTrace(t *testing.T, st store.Store) {
	w := &world{t: t, st: st, src: store.Source{ID: "src_shop", Name: "Shop", Kind: "shop", WriteKey: "wk_shop", CreatedAt: base}}
	if err := st.CreateSource(ctx, w.src); err != nil {
		t.Fatal(err)
	}
	w.send(
		// Erika browses anonymously, then identifies: two customers, merged.
		`{"type":"page","anonymousId":"anon-erika-7f3k9","name":"Home"}`,
		`{"type":"identify","userId":"u-erika-4711","traits":{"name":"Erika Mustermann","email":"Erika.Mustermann@example.de","phone":"+49 170 5550123","address":{"street":"Hauptstraße 5"}},
		  "context":{"externalIds":[{"id":"CRM-998877","type":"crm","collection":"users","encoding":"none"}]}}`,
		`{"type":"track","userId":"u-erika-4711","anonymousId":"anon-erika-7f3k9","event":"Order Completed","properties":{"orderId":"o-1","revenue":99.5,"currency":"EUR"}}`,
		// Otto exists on his own ...
		`{"type":"identify","userId":"u-otto-1","traits":{"name":"Otto Normal","email":"otto@example.de"}}`,
		`{"type":"track","userId":"u-otto-1","event":"Order Completed","properties":{"orderId":"o-2","revenue":10,"currency":"EUR"}}`,
		// ... and once claims Erika's e-mail: an identity conflict.
		`{"type":"identify","userId":"u-otto-1","traits":{"email":"erika.mustermann@example.de"}}`,
		// Somebody unrelated.
		`{"type":"identify","userId":"u-klara-2","traits":{"name":"Klara Fall","email":"klara@example.de"}}`,
	)
	w.drain()
	if err := st.AppendRejected(ctx, []store.Rejected{
		{SourceID: w.src.ID, MessageID: "bad-1", ReceivedAt: base, Reason: "timestamp unreadable", Body: `{"type":"identify","userId":"u-erika-4711","timestamp":"gestern"}`},
		{SourceID: w.src.ID, MessageID: "bad-2", ReceivedAt: base, Reason: "not JSON", Body: `call back 0049 170 555-0123 please`},
		{SourceID: w.src.ID, MessageID: "bad-3", ReceivedAt: base, Reason: "not JSON", Body: `{"type":"track"`},
	}); err != nil {
		t.Fatal(err)
	}
	erika, err := w.customerOf("user", "u-erika-4711")
	if err != nil {
		t.Fatal(err)
	}
	anonCustomer, _ := w.customerOf("anon", "anon-erika-7f3k9")
	if anonCustomer != erika {
		t.Fatalf("anonymous history not merged: %s vs %s", anonCustomer, erika)
	}
	otto, _ := w.customerOf("user", "u-otto-1")
	if cs, _ := st.Conflicts(ctx, erika); len(cs) == 0 {
		t.Fatal("the scenario needs an identity conflict")
	}
	ottoBefore, _ := st.Customer(ctx, otto)
	if ottoBefore.Email != "erika.mustermann@example.de" {
		t.Fatalf("the scenario needs Otto's profile to hold Erika's e-mail, has %q", ottoBefore.Email)
	}
	if err := audit.Record(ctx, st, audit.Entry{Action: audit.CustomerView, Target: erika}); err != nil {
		t.Fatal(err)
	}

	// The export holds everything about her.
	doc, err := gdpr.Export(ctx, st, "c-does-not-matter")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("export of nobody: %v", err)
	}
	doc, err = gdpr.Export(ctx, st, erika)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Events) != 3 || len(doc.Identities) != 5 || len(doc.Orders) != 1 || len(doc.Merges) != 1 ||
		len(doc.MergedCustomers) != 1 || len(doc.Conflicts) != 1 || len(doc.RejectedEvents) != 2 || doc.Profile.Name != "Erika Mustermann" {
		t.Fatalf("export: %d events, %d identities, %d orders, %d merges %v, %d conflicts, %d rejected, name %q",
			len(doc.Events), len(doc.Identities), len(doc.Orders), len(doc.Merges), doc.MergedCustomers, len(doc.Conflicts), len(doc.RejectedEvents), doc.Profile.Name)
	}
	if len(doc.AuditLog) != 1 || doc.AuditLog[0].Action != audit.CustomerView {
		t.Fatalf("export audit entries: %+v", doc.AuditLog)
	}
	if !bytes.Contains(doc.Events[1].Body, []byte("Hauptstraße 5")) {
		t.Fatalf("export events lack their bodies: %s", doc.Events[1].Body)
	}
	if _, err := json.Marshal(doc); err != nil {
		t.Fatal(err)
	}

	// An event of hers not yet processed blocks the erasure (the pipeline
	// would bring her back), and nothing changes.
	w.send(`{"type":"track","userId":"u-erika-4711","event":"Newsletter Opened"}`)
	if _, err := gdpr.Erase(ctx, st, erika, gdpr.EraseOptions{Wait: 300 * time.Millisecond}); !errors.Is(err, store.ErrPending) {
		t.Fatalf("erase with a pending event: %v", err)
	}
	if _, err := st.Customer(ctx, erika); err != nil {
		t.Fatalf("a refused erasure changed something: %v", err)
	}
	w.drain()

	// Before: the search finds her in the log, the read models, the
	// rejected events (which shows that the search can find her).
	before := traces(t, st, person)
	for _, table := range []string{"events", "identities", "profiles", "rejected_events", "merges", "identity_conflicts"} {
		if !strings.Contains(strings.Join(before, "\n"), "table "+table+" ") {
			t.Errorf("before the erasure the search does not find her in %s", table)
		}
	}

	// The server's journal is waited for first: if it cannot be, the
	// erasure is refused and nothing changes.
	if _, err := gdpr.Erase(ctx, st, erika, gdpr.EraseOptions{Wait: 300 * time.Millisecond,
		Before: func(context.Context) error { return errors.New("journal not loaded") }}); !errors.Is(err, store.ErrPending) {
		t.Fatalf("erase while the journal cannot be loaded: %v", err)
	}
	if _, err := st.Customer(ctx, erika); err != nil {
		t.Fatalf("a refused erasure changed something: %v", err)
	}

	// Erase through the merged-away id: the whole person goes (after the
	// Before step ran).
	ran := false
	rep, err := gdpr.Erase(ctx, st, anonCustomer, gdpr.EraseOptions{Before: func(context.Context) error { ran = true; return nil }})
	if !ran {
		t.Fatal("Before did not run")
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.CustomerID != erika || len(rep.Customers) != 2 || rep.Customers[0] != erika || rep.Events != 5 || rep.Identifiers != 5 ||
		rep.Rejected != 2 || rep.Orders != 1 || rep.Merges != 1 || rep.Conflicts != 1 || len(rep.Reprofiled) != 1 || rep.Reprofiled[0] != otto {
		t.Fatalf("erasure report: %+v", rep)
	}

	// The proof: no column of any table holds any of her identifiers.
	proveGone(t, st, person)
	if len(before) == 0 {
		t.Fatal("the search found nothing before the erasure either: it proves nothing")
	}

	// Otto and Klara stay; Otto's profile no longer holds her e-mail.
	ottoAfter, err := st.Customer(ctx, otto)
	if err != nil || ottoAfter.Email != "otto@example.de" || ottoAfter.Name != "Otto Normal" || ottoAfter.Orders != 1 || ottoAfter.Events != 2 {
		t.Fatalf("Otto after the erasure: %+v %v", ottoAfter, err)
	}
	if _, err := w.customerOf("user", "u-klara-2"); err != nil {
		t.Fatalf("Klara: %v", err)
	}
	es, _ := st.AuditEntries(ctx, store.AuditFilter{Target: erika, Action: audit.CustomerErase})
	if len(es) != 1 || !strings.Contains(es[0].Detail, "5 events") {
		t.Fatalf("erasure audit entry: %+v", es)
	}

	// A rebuild replays the log: she does not come back.
	if err := st.ResetDerived(ctx); err != nil {
		t.Fatal(err)
	}
	w.drain()
	proveGone(t, st, person)
	if stt, _ := st.Stats(ctx); stt.Customers != 2 {
		t.Fatalf("after rebuild %d customers, want Otto and Klara", stt.Customers)
	}
	if o, _ := st.Customer(ctx, otto); o.Email != "otto@example.de" || o.Events != 2 {
		t.Fatalf("Otto after rebuild: %+v", o)
	}

	// She comes back as a new customer only if she sends events again.
	w.send(`{"type":"identify","userId":"u-erika-4711","traits":{"name":"E. M."}}`)
	w.drain()
	again, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "u-erika-4711"})
	if err != nil || again.Events != 1 || again.Orders != 0 || again.Email != "" {
		t.Fatalf("the returning person: %+v %v", again, err)
	}
}

// proveGone fails if any column of any table holds one of values.
func proveGone(t *testing.T, st store.Store, values []string) {
	t.Helper()
	for _, f := range traces(t, st, values) {
		t.Error(f)
	}
}

// traces searches every text and binary column of every table for each
// value (case-insensitive) and describes every find.
func traces(t *testing.T, st store.Store, values []string) []string {
	t.Helper()
	var found []string
	s, ok := st.(*sqlstore.Store)
	if !ok {
		t.Fatalf("store %T", st)
	}
	db := s.Writer()
	var q string
	switch s.Dialect().Name {
	case "sqlite":
		q = `SELECT name FROM sqlite_master WHERE type = 'table'`
	default:
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	tables := strs(t, db, q)
	if len(tables) < 15 {
		t.Fatalf("only %d tables found: %v", len(tables), tables)
	}
	rowsSeen := 0
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM ` + table) // names come from the catalogue
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			rowsSeen++
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			for i, v := range vals {
				var text string
				switch x := v.(type) {
				case []byte:
					text = string(x)
				case string:
					text = x
				default:
					continue
				}
				lower := strings.ToLower(text)
				for _, p := range values {
					if strings.Contains(lower, strings.ToLower(p)) {
						found = append(found, fmt.Sprintf("table %s column %s holds %q: %.200s", table, cols[i], p, text))
					}
				}
			}
		}
		rows.Close()
	}
	if rowsSeen == 0 {
		t.Fatal("searched no rows")
	}
	return found
}

func strs(t *testing.T, db *sql.DB, q string) []string {
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func TestMentions(t *testing.T) {
	ids := []store.Identifier{{Kind: "email", Value: "jo@example.org"}, {Kind: "phone", Value: "+491705550123"}, {Kind: "anon", Value: "a1"}}
	for _, tc := range []struct {
		body string
		want bool
	}{
		{`{"email":"JO@Example.org"}`, true},
		{`call 0049 (170) 555-0123`, true},
		{`+49 170 5550123`, true},
		{`{"anonymousId":"a1"}`, true},
		{`{"anonymousId":"a12"}`, false},
		{`data1a1`, false},
		{`{"email":"someone@example.org"}`, false},
		{``, false},
	} {
		if got := gdpr.Mentions(ids, []byte(tc.body)); got != tc.want {
			t.Errorf("Mentions(%q) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

// FuzzMentions: rejected bodies are arbitrary bytes from outside.
func FuzzMentions(f *testing.F) {
	for _, s := range []string{`{"email":"jo@example.org"}`, "0049 170 555-0123", "\xff\xfe", `"a1"`, ""} {
		f.Add([]byte(s))
	}
	ids := []store.Identifier{{Kind: "email", Value: "jo@example.org"}, {Kind: "phone", Value: "+491705550123"}, {Kind: "anon", Value: "a1"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := gdpr.Mentions(ids, body)
		if bytes.Contains(bytes.ToLower(body), []byte("jo@example.org")) && !got {
			t.Fatalf("missed the e-mail in %q", body)
		}
		gdpr.Pending(ids, body)
	})
}
