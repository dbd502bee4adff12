// Package storetest is the conformance suite every store implementation
// runs: the same tests on SQLite and PostgreSQL. It drives the pipeline too,
// because identity resolution and profiles are only as right as the
// transactions beneath them.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

// Opener returns a fresh, empty store; the suite closes it.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Settings", testSettings},
		{"Sources", testSources},
		{"RotateWriteKey", testRotateWriteKey},
		{"LatestEvents", testLatestEvents},
		{"AppendDedup", testAppendDedup},
		{"Rejected", testRejected},
		{"Leases", testLeases},
		{"CursorGuard", testCursorGuard},
		{"IdentifyLinksAnonymousHistory", testIdentifyLinks},
		{"AliasMerges", testAlias},
		{"TwoUserIDsNeverMergeAutomatically", testUserConflict},
		{"SharedEmailMerges", testSharedEmail},
		{"ProfileFigures", testProfileFigures},
		{"TimelinePaging", testTimelinePaging},
		{"TimelineCopies", testTimelineCopies},
		{"Search", testSearch},
		{"OrderIndependence", testOrderIndependence},
		{"RebuildReproduces", testRebuild},
		{"UsersAndSessions", testUsersAndSessions},
		{"APIKeysAndLoginFailures", testAPIKeysAndLoginFailures},
		{"AuditLog", testAuditLog},
		{"AuditConcurrent", testAuditConcurrent},
		{"Erase", testErase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustSource(t *testing.T, s store.Store, name string) store.Source {
	t.Helper()
	src := store.Source{ID: "src_" + name, Name: name, Kind: "web", WriteKey: "wk_" + name, CreatedAt: base}
	if err := s.CreateSource(ctx, src); err != nil {
		t.Fatalf("create source: %v", err)
	}
	return src
}

// ev builds a validated event from Segment-shaped JSON.
func ev(t *testing.T, raw string, minutes int) event.Event {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("test event %s: %v", raw, err)
	}
	m["timestamp"] = base.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339Nano)
	b, _ := json.Marshal(m)
	e, err := event.Parse(b, "", event.Envelope{ReceivedAt: base.Add(time.Duration(minutes) * time.Minute)}, func() string {
		return fmt.Sprintf("gen-%d", rand.Int63())
	})
	if err != nil {
		t.Fatalf("test event %s: %v", raw, err)
	}
	return e
}

func records(t *testing.T, src store.Source, evs ...event.Event) []store.Record {
	t.Helper()
	out := make([]store.Record, len(evs))
	for i, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = store.Record{SourceID: src.ID, Event: e, Body: b}
	}
	return out
}

func appendAll(t *testing.T, s store.Store, recs []store.Record) []bool {
	t.Helper()
	isNew, err := s.Append(ctx, recs)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return isNew
}

func drain(t *testing.T, s store.Store) {
	t.Helper()
	p := &pipeline.Pipeline{Store: s, BatchSize: 7}
	if _, err := p.Drain(ctx, nil); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
}

func customerOf(t *testing.T, s store.Store, kind, value string) string {
	t.Helper()
	p, err := s.CustomerByIdentifier(ctx, store.Identifier{Kind: kind, Value: value})
	if err != nil {
		t.Fatalf("customer of %s %s: %v", kind, value, err)
	}
	return p.CustomerID
}

func testSettings(t *testing.T, s store.Store) {
	if _, err := s.Setting(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing setting: got %v, want ErrNotFound", err)
	}
	if ok, err := s.SetSettingIfAbsent(ctx, "k", "v1"); err != nil || !ok {
		t.Fatalf("first SetSettingIfAbsent = %v, %v", ok, err)
	}
	if ok, err := s.SetSettingIfAbsent(ctx, "k", "v2"); err != nil || ok {
		t.Fatalf("second SetSettingIfAbsent = %v, %v; want false", ok, err)
	}
	if v, _ := s.Setting(ctx, "k"); v != "v1" {
		t.Fatalf("setting = %q, want v1", v)
	}
	if err := s.SetSetting(ctx, "k", "v3"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Setting(ctx, "k"); v != "v3" {
		t.Fatalf("setting = %q, want v3", v)
	}
}

func testSources(t *testing.T, s store.Store) {
	a := mustSource(t, s, "shop")
	mustSource(t, s, "app")
	dup := a
	dup.ID, dup.WriteKey = "src_other", "wk_other"
	if err := s.CreateSource(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: got %v, want ErrConflict", err)
	}
	got, err := s.SourceByWriteKey(ctx, a.WriteKey)
	if err != nil || got.ID != a.ID || got.Name != "shop" || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("by key = %+v, %v", got, err)
	}
	if _, err := s.SourceByWriteKey(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if got, err := s.SourceByName(ctx, "app"); err != nil || got.ID != "src_app" {
		t.Fatalf("by name = %+v, %v", got, err)
	}
	if got, err := s.SourceByID(ctx, "src_shop"); err != nil || got.Name != "shop" {
		t.Fatalf("by id = %+v, %v", got, err)
	}
	all, err := s.Sources(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "app" {
		t.Fatalf("sources = %+v, %v", all, err)
	}
}

func testRotateWriteKey(t *testing.T, s store.Store) {
	a := mustSource(t, s, "shop")
	b := mustSource(t, s, "app")
	if err := s.RotateWriteKey(ctx, a.ID, "wk_new"); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if _, err := s.SourceByWriteKey(ctx, a.WriteKey); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old key still works: %v", err)
	}
	if got, err := s.SourceByWriteKey(ctx, "wk_new"); err != nil || got.ID != a.ID || got.Name != a.Name {
		t.Fatalf("by new key = %+v, %v", got, err)
	}
	if err := s.RotateWriteKey(ctx, b.ID, "wk_new"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taken key: got %v, want ErrConflict", err)
	}
	if got, _ := s.SourceByID(ctx, b.ID); got.WriteKey != b.WriteKey {
		t.Fatalf("failed rotation changed the key: %+v", got)
	}
	if err := s.RotateWriteKey(ctx, "src_nope", "wk_other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown source: got %v, want ErrNotFound", err)
	}
}

func testLatestEvents(t *testing.T, s store.Store) {
	web := mustSource(t, s, "web")
	crm := mustSource(t, s, "crm")
	if got, err := s.LatestEvents(ctx, web.ID, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty source = %+v, %v", got, err)
	}
	var wevs, cevs []event.Event
	for i := 0; i < 5; i++ {
		wevs = append(wevs, ev(t, fmt.Sprintf(`{"type":"track","event":"W%d","userId":"u1","messageId":"w%d"}`, i, i), i))
		cevs = append(cevs, ev(t, fmt.Sprintf(`{"type":"identify","userId":"u1","messageId":"c%d"}`, i), i))
	}
	// Interleaved in the log, so that a wrong filter shows.
	for i := range wevs {
		appendAll(t, s, records(t, web, wevs[i]))
		appendAll(t, s, records(t, crm, cevs[i]))
	}
	got, err := s.LatestEvents(ctx, web.ID, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("latest = %d, %v", len(got), err)
	}
	for i, e := range got {
		if want := fmt.Sprintf("w%d", 4-i); e.MessageID != want || e.SourceID != web.ID || e.Name != fmt.Sprintf("W%d", 4-i) {
			t.Fatalf("latest[%d] = %s %s %s, want %s of %s newest first", i, e.MessageID, e.SourceID, e.Name, want, web.ID)
		}
		if len(e.Body) == 0 || e.ReceivedAt.IsZero() {
			t.Fatalf("latest[%d] lacks body or receivedAt: %+v", i, e)
		}
	}
	if all, _ := s.LatestEvents(ctx, crm.ID, 100); len(all) != 5 || all[0].MessageID != "c4" {
		t.Fatalf("crm latest = %+v", all)
	}
}

func testAppendDedup(t *testing.T, s store.Store) {
	src := mustSource(t, s, "web")
	other := mustSource(t, s, "crm")
	e1 := ev(t, `{"type":"track","event":"A","userId":"u1","messageId":"m1"}`, 0)
	e2 := ev(t, `{"type":"track","event":"B","userId":"u1","messageId":"m2"}`, 1)
	isNew := appendAll(t, s, records(t, src, e1, e2, e1))
	if fmt.Sprint(isNew) != "[true true false]" {
		t.Fatalf("first append new = %v", isNew)
	}
	isNew = appendAll(t, s, records(t, src, e2))
	if fmt.Sprint(isNew) != "[false]" {
		t.Fatalf("retry new = %v", isNew)
	}
	// The same messageId from another source is another event.
	isNew = appendAll(t, s, records(t, other, e1))
	if fmt.Sprint(isNew) != "[true]" {
		t.Fatalf("other source new = %v", isNew)
	}
	evs, err := s.Events(ctx, 0, 100)
	if err != nil || len(evs) != 3 {
		t.Fatalf("events = %d, %v", len(evs), err)
	}
	if evs[0].MessageID != "m1" || evs[1].MessageID != "m2" || evs[2].SourceID != other.ID {
		t.Fatalf("log order wrong: %+v", evs)
	}
	if evs[0].Seq >= evs[1].Seq || evs[1].Seq >= evs[2].Seq {
		t.Fatalf("seq not increasing")
	}
	if evs[0].Type != "track" || evs[0].Name != "A" || !evs[0].Timestamp.Equal(base) {
		t.Fatalf("stored columns wrong: %+v", evs[0])
	}
	var back event.Event
	if err := json.Unmarshal(evs[1].Body, &back); err != nil || back.Event != "B" || back.UserID != "u1" {
		t.Fatalf("body = %s, %v", evs[1].Body, err)
	}
	after, _ := s.Events(ctx, evs[0].Seq, 1)
	if len(after) != 1 || after[0].Seq != evs[1].Seq {
		t.Fatalf("Events(after) = %+v", after)
	}
	one, err := s.EventBySeq(ctx, evs[2].Seq)
	if err != nil || one.MessageID != "m1" {
		t.Fatalf("EventBySeq = %+v, %v", one, err)
	}
	if _, err := s.EventBySeq(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("EventBySeq missing: %v", err)
	}
	// A large append spans several statements and keeps per-record answers.
	var many []event.Event
	for i := 0; i < 1500; i++ {
		many = append(many, ev(t, fmt.Sprintf(`{"type":"page","anonymousId":"a%d","messageId":"bulk-%d"}`, i%10, i%1200), i))
	}
	isNew = appendAll(t, s, records(t, src, many...))
	n := 0
	for i, x := range isNew {
		if x {
			n++
		}
		if x != (i < 1200) {
			t.Fatalf("bulk record %d new = %v", i, x)
		}
	}
	st, _ := s.Stats(ctx)
	if st.Events != 1203 || n != 1200 {
		t.Fatalf("events = %d (new %d), want 1203", st.Events, n)
	}
}

func testRejected(t *testing.T, s store.Store) {
	for i := 0; i < 5; i++ {
		err := s.AppendRejected(ctx, []store.Rejected{{SourceID: "src_a", MessageID: fmt.Sprint(i), ReceivedAt: base, Reason: "bad " + fmt.Sprint(i), Body: `{"x":1}`}})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.AppendRejected(ctx, []store.Rejected{{SourceID: "src_b", ReceivedAt: base, Reason: "other", Body: "{"}})
	rs, err := s.RejectedEvents(ctx, "src_a", 3)
	if err != nil || len(rs) != 3 || rs[0].Reason != "bad 4" || rs[0].Body != `{"x":1}` || !rs[0].ReceivedAt.Equal(base) {
		t.Fatalf("rejected = %+v, %v", rs, err)
	}
	if err := s.PruneRejected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	rs, _ = s.RejectedEvents(ctx, "src_a", 10)
	if len(rs) != 2 || rs[1].Reason != "bad 3" {
		t.Fatalf("after prune = %+v", rs)
	}
	all, _ := s.RejectedEvents(ctx, "", 10)
	if len(all) != 3 {
		t.Fatalf("all rejected = %d, want 3", len(all))
	}
}

func testLeases(t *testing.T, s store.Store) {
	ok, err := s.AcquireLease(ctx, "job", "a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("a acquire = %v, %v", ok, err)
	}
	if ok, _ := s.AcquireLease(ctx, "job", "b", time.Minute); ok {
		t.Fatal("b got a lease a holds")
	}
	if ok, _ := s.AcquireLease(ctx, "job", "a", time.Minute); !ok {
		t.Fatal("a could not renew")
	}
	if err := s.ReleaseLease(ctx, "job", "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AcquireLease(ctx, "job", "b", time.Millisecond); !ok {
		t.Fatal("b could not take a released lease")
	}
	time.Sleep(10 * time.Millisecond)
	if ok, _ := s.AcquireLease(ctx, "job", "c", time.Minute); !ok {
		t.Fatal("c could not take an expired lease")
	}
}

func testCursorGuard(t *testing.T, s store.Store) {
	src := mustSource(t, s, "web")
	appendAll(t, s, records(t, src, ev(t, `{"type":"track","event":"A","userId":"u1"}`, 0)))
	if err := s.Process(ctx, func(tx store.Tx) error { return tx.AdvanceCursor("c", 0, 5) }); err != nil {
		t.Fatal(err)
	}
	err := s.Process(ctx, func(tx store.Tx) error { return tx.AdvanceCursor("c", 0, 7) })
	if !errors.Is(err, store.ErrCursorMoved) {
		t.Fatalf("second worker from 0: %v, want ErrCursorMoved", err)
	}
	if cur, _ := s.Cursor(ctx, "c"); cur != 5 {
		t.Fatalf("cursor = %d, want 5", cur)
	}
	// A failing transaction changes nothing.
	err = s.Process(ctx, func(tx store.Tx) error {
		if err := tx.AdvanceCursor("c", 5, 9); err != nil {
			return err
		}
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("error not returned")
	}
	if cur, _ := s.Cursor(ctx, "c"); cur != 5 {
		t.Fatalf("cursor after rollback = %d, want 5", cur)
	}
}

func testIdentifyLinks(t *testing.T, s store.Store) {
	src := mustSource(t, s, "web")
	appendAll(t, s, records(t, src,
		ev(t, `{"type":"page","anonymousId":"anon-1","name":"Home"}`, 0),
		ev(t, `{"type":"track","anonymousId":"anon-1","event":"Product Viewed"}`, 1)))
	drain(t, s)
	anonCust := customerOf(t, s, "anon", "anon-1")
	appendAll(t, s, records(t, src,
		ev(t, `{"type":"identify","anonymousId":"anon-1","userId":"user-1","traits":{"email":" Ann@Example.COM ","name":"Ann"}}`, 2),
		ev(t, `{"type":"track","userId":"user-1","event":"Order Completed","properties":{"revenue":10}}`, 3)))
	drain(t, s)
	c := customerOf(t, s, "user", "user-1")
	if customerOf(t, s, "anon", "anon-1") != c || customerOf(t, s, "email", "ann@example.com") != c {
		t.Fatal("anonymous id and e-mail not on the user's customer")
	}
	p, err := s.Customer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Events != 4 || p.CountsByType["page"] != 1 || p.Orders != 1 || p.Name != "Ann" {
		t.Fatalf("profile = %+v", p)
	}
	tl, _ := s.Timeline(ctx, c, store.TimelineCursor{}, 50)
	if len(tl) != 4 || tl[3].Name != "Home" || tl[0].SourceName != "web" {
		t.Fatalf("timeline = %+v", tl)
	}
	// The anonymous customer was the same one or was merged into the user's.
	if anonCust != c {
		p2, err := s.Customer(ctx, anonCust)
		if err != nil || p2.CustomerID != c {
			t.Fatalf("merged-away id resolves to %q, %v; want %q", p2.CustomerID, err, c)
		}
	}
}

func testAlias(t *testing.T, s store.Store) {
	src := mustSource(t, s, "web")
	appendAll(t, s, records(t, src,
		ev(t, `{"type":"track","userId":"old-id","event":"A"}`, 0),
		ev(t, `{"type":"track","userId":"new-id","event":"B"}`, 1)))
	drain(t, s)
	if customerOf(t, s, "user", "old-id") == customerOf(t, s, "user", "new-id") {
		t.Fatal("two user ids merged without alias")
	}
	appendAll(t, s, records(t, src, ev(t, `{"type":"alias","userId":"new-id","previousId":"old-id","messageId":"alias-1"}`, 2)))
	drain(t, s)
	c := customerOf(t, s, "user", "new-id")
	if customerOf(t, s, "user", "old-id") != c {
		t.Fatal("alias did not merge")
	}
	ms, err := s.Merges(ctx, c)
	if err != nil || len(ms) != 1 || ms[0].Into != c || !strings.Contains(ms[0].Reason, "alias") {
		t.Fatalf("merges = %+v, %v", ms, err)
	}
	p, _ := s.Customer(ctx, c)
	if p.Events != 3 || p.CountsByName["A"] != 1 || p.CountsByName["B"] != 1 {
		t.Fatalf("merged profile = %+v", p)
	}
	st, _ := s.Stats(ctx)
	if st.Customers != 1 || st.Merges != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func testUserConflict(t *testing.T, s store.Store) {
	src := mustSource(t, s, "web")
	appendAll(t, s, records(t, src,
		ev(t, `{"type":"identify","userId":"u1","anonymousId":"shared-device"}`, 0),
		ev(t, `{"type":"identify","userId":"u2","anonymousId":"shared-device"}`, 1)))
	drain(t, s)
	c1, c2 := customerOf(t, s, "user", "u1"), customerOf(t, s, "user", "u2")
	if c1 == c2 {
		t.Fatal("two user ids merged automatically")
	}
	cs, err := s.Conflicts(ctx, c2)
	if err != nil || len(cs) == 0 {
		t.Fatalf("conflict not recorded: %+v, %v", cs, err)
	}
	st, _ := s.Stats(ctx)
	if st.Customers != 2 || st.Merges != 0 || st.Conflicts == 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func testSharedEmail(t *testing.T, s store.Store) {
	src := mustSource(t, s, "web")
	crm := mustSource(t, s, "crm")
	appendAll(t, s, records(t, src, ev(t, `{"type":"identify","anonymousId":"a1","traits":{"email":"x@y.de"}}`, 0)))
	appendAll(t, s, records(t, crm, ev(t, `{"type":"identify","anonymousId":"crm-7","traits":{"phone":"+49 171 1234567"}}`, 1)))
	drain(t, s)
	if customerOf(t, s, "anon", "a1") == customerOf(t, s, "anon", "crm-7") {
		t.Fatal("merged without a shared identifier")
	}
	// One event that carries both identifiers joins the two.
	appendAll(t, s, records(t, crm, ev(t, `{"type":"identify","anonymousId":"crm-7","traits":{"email":"X@y.de","phone":"0049 171 1234567"}}`, 2)))
	drain(t, s)
	c := customerOf(t, s, "email", "x@y.de")
	if customerOf(t, s, "phone", "+491711234567") != c || customerOf(t, s, "anon", "a1") != c {
		t.Fatal("shared e-mail did not merge")
	}
	ms, _ := s.Merges(ctx, c)
	if len(ms) != 1 || ms[0].Reason == "" {
		t.Fatalf("merge not recorded with a reason: %+v", ms)
	}
}

func testProfileFigures(t *testing.T, s store.Store) {
	src := mustSource(t, s, "shop")
	appendAll(t, s, records(t, src,
		// Traits: the newest by event time wins, whatever the arrival order.
		ev(t, `{"type":"identify","userId":"u","traits":{"plan":"gold","city":"Köln"}}`, 60),
		ev(t, `{"type":"identify","userId":"u","traits":{"plan":"silver"}}`, 10),
		ev(t, `{"type":"track","userId":"u","event":"Order Completed","properties":{"order_id":"o1","revenue":"19.99","currency":"eur"}}`, 20),
		ev(t, `{"type":"track","userId":"u","event":"Order Completed","properties":{"total":5.01,"currency":"EUR"}}`, 30),
		ev(t, `{"type":"track","userId":"u","event":"Order Completed","properties":{"products":[{"price":2.5,"quantity":2},{"price":1}]}}`, 40),
		ev(t, `{"type":"page","userId":"u","name":"Cart"}`, 5)))
	drain(t, s)
	p, err := s.Customer(ctx, customerOf(t, s, "user", "u"))
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Traits["plan"].Value) != `"gold"` || string(p.Traits["city"].Value) != `"Köln"` {
		t.Fatalf("traits = %+v", p.Traits)
	}
	if p.Orders != 3 || p.RevenueMicros != 31_000_000 {
		t.Fatalf("orders = %d revenue = %d", p.Orders, p.RevenueMicros)
	}
	if p.ByCurrency["EUR"] != 25_000_000 || p.ByCurrency[""] != 6_000_000 {
		t.Fatalf("by currency = %v", p.ByCurrency)
	}
	if !p.FirstSeen.Equal(base.Add(5*time.Minute)) || !p.LastSeen.Equal(base.Add(60*time.Minute)) {
		t.Fatalf("first/last seen = %v %v", p.FirstSeen, p.LastSeen)
	}
	if !p.FirstOrder.Equal(base.Add(20*time.Minute)) || !p.LastOrder.Equal(base.Add(40*time.Minute)) {
		t.Fatalf("first/last order = %v %v", p.FirstOrder, p.LastOrder)
	}
	if p.CountsByType["identify"] != 2 || p.CountsByName["Order Completed"] != 3 || p.Events != 6 {
		t.Fatalf("counts = %v %v", p.CountsByType, p.CountsByName)
	}
	rfm := p.RFMAt(base.Add(40*time.Minute + 48*time.Hour))
	if rfm == nil || rfm.RecencyDays != 2 || rfm.Frequency != 3 || rfm.Monetary != 10.33 {
		t.Fatalf("rfm = %+v", rfm)
	}
	os, _ := s.Orders(ctx, p.CustomerID)
	if len(os) != 3 || os[0].OrderID != "o1" || os[0].Currency != "EUR" || os[0].RevenueMicros != 19_990_000 {
		t.Fatalf("orders = %+v", os)
	}
}

func testTimelinePaging(t *testing.T, s store.Store) {
	src := mustSource(t, s, "web")
	var evs []event.Event
	for i := 0; i < 25; i++ {
		evs = append(evs, ev(t, fmt.Sprintf(`{"type":"track","userId":"u","event":"E%d"}`, i), i/2)) // pairs share a time
	}
	appendAll(t, s, records(t, src, evs...))
	drain(t, s)
	c := customerOf(t, s, "user", "u")
	var all []store.TimelineEntry
	var cur store.TimelineCursor
	for page := 0; page < 10; page++ {
		es, err := s.Timeline(ctx, c, cur, 10)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, es...)
		if len(es) < 10 {
			break
		}
		last := es[len(es)-1]
		cur = store.TimelineCursor{Timestamp: last.Timestamp, Seq: last.Seq}
	}
	if len(all) != 25 {
		t.Fatalf("paged %d entries, want 25", len(all))
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Timestamp.Before(b.Timestamp) || (a.Timestamp.Equal(b.Timestamp) && a.Seq <= b.Seq) {
			t.Fatalf("not newest first at %d: %+v then %+v", i, a, b)
		}
	}
	if all[0].Name != "E24" || all[24].Name != "E0" {
		t.Fatalf("first/last = %s %s", all[0].Name, all[24].Name)
	}
}

// testTimelineCopies checks that the timeline's own copy of each event is
// the event as logged (also after a merge moved it), and that rows without a
// copy (written before the timeline kept copies) are read from the log.
func testTimelineCopies(t *testing.T, s store.Store) {
	web, crm := mustSource(t, s, "web"), mustSource(t, s, "crm")
	appendAll(t, s, records(t, web,
		ev(t, `{"type":"page","anonymousId":"a1","name":"Start","properties":{"title":"Grüße – 100 €"}}`, 0),
		ev(t, `{"type":"track","anonymousId":"a1","event":"Product Viewed","properties":{"sku":"S-1","price":9.5}}`, 1)))
	appendAll(t, s, records(t, crm, ev(t, `{"type":"identify","userId":"u1","traits":{"email":"a@b.de"}}`, 2)))
	drain(t, s)
	// The anonymous history joins u1's customer by a later identify.
	appendAll(t, s, records(t, web, ev(t, `{"type":"identify","anonymousId":"a1","userId":"u1"}`, 3)))
	drain(t, s)
	c := customerOf(t, s, "user", "u1")
	check := func(when string) {
		t.Helper()
		es, err := s.Timeline(ctx, c, store.TimelineCursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 4 {
			t.Fatalf("%s: %d entries, want 4", when, len(es))
		}
		for _, e := range es {
			logged, err := s.EventBySeq(ctx, e.Seq)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(e.Body, logged.Body) || e.Type != logged.Type || e.Name != logged.Name || e.SourceID != logged.SourceID || !e.Timestamp.Equal(logged.Timestamp) {
				t.Errorf("%s: entry %d = %s %q %s %s, log has %s %q %s %s", when, e.Seq, e.Type, e.Name, e.SourceID, e.Body,
					logged.Type, logged.Name, logged.SourceID, logged.Body)
			}
			want := map[string]string{web.ID: "web", crm.ID: "crm"}[e.SourceID]
			if e.SourceName != want {
				t.Errorf("%s: entry %d source name %q, want %q", when, e.Seq, e.SourceName, want)
			}
		}
		if es[0].Type != "identify" || es[3].Name != "Start" {
			t.Errorf("%s: order %s … %s", when, es[0].Type, es[3].Name)
		}
	}
	check("with copies")

	// A row written without a copy, as stores before migration 011 have.
	err := s.Process(ctx, func(tx store.Tx) error {
		return tx.AddTimeline([]store.TimelineRow{{CustomerID: "c_without_copies", Timestamp: base, Seq: 1}})
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.Timeline(ctx, "c_without_copies", store.TimelineCursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := s.EventBySeq(ctx, 1)
	if len(es) != 1 || !bytes.Equal(es[0].Body, first.Body) || es[0].Name != "Start" || es[0].SourceName != "web" || es[0].Type != "page" {
		t.Fatalf("row without a copy read as %+v, log has %s", es, first.Body)
	}
}

func testSearch(t *testing.T, s store.Store) {
	src := mustSource(t, s, "crm")
	appendAll(t, s, records(t, src,
		ev(t, `{"type":"identify","userId":"C-100","traits":{"firstName":"Maria","lastName":"Müller","email":"maria@example.de","phone":"+49 30 1234567"}}`, 0),
		ev(t, `{"type":"identify","userId":"C-200","traits":{"name":"Mario Rossi","email":"mario@example.it"}}`, 1),
		ev(t, `{"type":"identify","userId":"C-300","traits":{"name":"100% Real_Name"}}`, 2)))
	drain(t, s)
	cases := []struct {
		q    string
		want []string
	}{
		{"C-100", []string{"Maria Müller"}},
		{"maria@example.de", []string{"Maria Müller"}},
		{"MARIA@EXAMPLE.DE", []string{"Maria Müller"}},
		{"+49301234567", []string{"Maria Müller"}},
		{"mari", []string{"Maria Müller", "Mario Rossi"}},
		{"mario@", []string{"Mario Rossi"}},
		{"100%", []string{"100% Real_Name"}},
		{"1%", nil},
		{"_", nil},
		{"nobody", nil},
	}
	for _, tc := range cases {
		ps, err := s.SearchCustomers(ctx, tc.q, 10)
		if err != nil {
			t.Fatalf("search %q: %v", tc.q, err)
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
		}
		sort.Strings(names)
		if fmt.Sprint(names) != fmt.Sprint(tc.want) {
			t.Errorf("search %q = %v, want %v", tc.q, names, tc.want)
		}
	}
	c := customerOf(t, s, "user", "C-100")
	ps, _ := s.SearchCustomers(ctx, c, 10)
	if len(ps) != 1 || ps[0].CustomerID != c {
		t.Errorf("search by customer id = %+v", ps)
	}
}

// world is the order-independent summary of the derived models: customers as
// sets of identifiers with their figures.
func world(t *testing.T, s store.Store, probe []store.Identifier) string {
	t.Helper()
	byCust := map[string][]string{}
	for _, id := range probe {
		p, err := s.CustomerByIdentifier(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		byCust[p.CustomerID] = append(byCust[p.CustomerID], id.Kind+":"+id.Value)
	}
	var lines []string
	for c, ids := range byCust {
		sort.Strings(ids)
		p, err := s.Customer(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		tl, _ := s.Timeline(ctx, c, store.TimelineCursor{}, 1000)
		traits, _ := json.Marshal(p.Traits)
		lines = append(lines, fmt.Sprintf("%v events=%d timeline=%d orders=%d rev=%d first=%s last=%s types=%v names=%v traits=%s",
			ids, p.Events, len(tl), p.Orders, p.RevenueMicros, p.FirstSeen.Format(time.RFC3339), p.LastSeen.Format(time.RFC3339),
			p.CountsByType, p.CountsByName, traits))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func orderIndependenceEvents(t *testing.T) ([]event.Event, []store.Identifier) {
	var evs []event.Event
	var probe []store.Identifier
	r := rand.New(rand.NewSource(7))
	for u := 0; u < 12; u++ {
		user := fmt.Sprintf("u%d", u)
		probe = append(probe, store.Identifier{Kind: "user", Value: user})
		for a := 0; a < 3; a++ {
			anon := fmt.Sprintf("a%d-%d", u, a)
			probe = append(probe, store.Identifier{Kind: "anon", Value: anon})
			evs = append(evs, ev(t, fmt.Sprintf(`{"type":"page","anonymousId":%q,"name":"P%d"}`, anon, r.Intn(3)), r.Intn(500)))
			evs = append(evs, ev(t, fmt.Sprintf(`{"type":"track","anonymousId":%q,"event":"Viewed"}`, anon), r.Intn(500)))
			if a < 2 { // the third device stays anonymous
				evs = append(evs, ev(t, fmt.Sprintf(`{"type":"identify","anonymousId":%q,"userId":%q,"traits":{"tier":"t%d"}}`, anon, user, r.Intn(5)), r.Intn(500)))
			}
		}
		email := fmt.Sprintf("p%d@example.com", u)
		probe = append(probe, store.Identifier{Kind: "email", Value: email})
		evs = append(evs, ev(t, fmt.Sprintf(`{"type":"identify","userId":%q,"traits":{"email":%q,"name":"N%d"}}`, user, email, r.Intn(3)), r.Intn(500)))
		// An anonymous visitor known only by e-mail joins through the e-mail.
		lone := fmt.Sprintf("lone-%d", u)
		probe = append(probe, store.Identifier{Kind: "anon", Value: lone})
		evs = append(evs, ev(t, fmt.Sprintf(`{"type":"track","anonymousId":%q,"event":"Newsletter Opened","context":{"traits":{"email":%q}}}`, lone, strings.ToUpper(email)), r.Intn(500)))
		for o := 0; o < u%4; o++ {
			evs = append(evs, ev(t, fmt.Sprintf(`{"type":"track","userId":%q,"event":"Order Completed","properties":{"revenue":%d.%02d}}`, user, r.Intn(100), r.Intn(100)), r.Intn(500)))
		}
		if u%3 == 0 {
			old := fmt.Sprintf("legacy-%d", u)
			probe = append(probe, store.Identifier{Kind: "user", Value: old})
			evs = append(evs, ev(t, fmt.Sprintf(`{"type":"track","userId":%q,"event":"Legacy"}`, old), r.Intn(500)))
			evs = append(evs, ev(t, fmt.Sprintf(`{"type":"alias","userId":%q,"previousId":%q}`, user, old), r.Intn(500)))
		}
	}
	return evs, probe
}

func testOrderIndependence(t *testing.T, s store.Store) {
	evs, probe := orderIndependenceEvents(t)
	src := mustSource(t, s, "web")
	appendAll(t, s, records(t, src, evs...))
	drain(t, s)
	want := world(t, s, probe)
	if strings.Count(want, "\n")+1 != 24 { // 12 people, each with one device never identified
		t.Fatalf("expected 24 customers, got:\n%s", want)
	}
	for trial := 0; trial < 3; trial++ {
		// Replay the same events in another order: a fresh source keeps
		// messageIds unique, and the log's order is the arrival order.
		shuffled := append([]event.Event(nil), evs...)
		rand.New(rand.NewSource(int64(trial))).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		other := mustSource(t, s, fmt.Sprintf("replay%d", trial))
		if err := s.ResetDerived(ctx); err != nil {
			t.Fatal(err)
		}
		recs := records(t, other, shuffled...)
		appendAll(t, s, recs)
		// Skip the earlier copies: process only the new ones.
		evsAll, _ := s.Events(ctx, 0, 1<<30)
		skip := evsAll[len(evsAll)-len(recs)-1].Seq
		if err := s.Process(ctx, func(tx store.Tx) error { return tx.AdvanceCursor(pipeline.CursorName, 0, skip) }); err != nil {
			t.Fatal(err)
		}
		drain(t, s)
		if got := world(t, s, probe); got != want {
			t.Fatalf("arrival order %d changed the result:\n got %s\nwant %s", trial, got, want)
		}
	}
}

func testRebuild(t *testing.T, s store.Store) {
	evs, probe := orderIndependenceEvents(t)
	src := mustSource(t, s, "web")
	appendAll(t, s, records(t, src, evs...))
	drain(t, s)
	want := world(t, s, probe)
	before, _ := s.Stats(ctx)
	if err := s.ResetDerived(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Stats(ctx); st.Customers != 0 || st.Identities != 0 || st.Events != before.Events {
		t.Fatalf("after reset: %+v", st)
	}
	drain(t, s)
	if got := world(t, s, probe); got != want {
		t.Fatalf("rebuild differs:\n got %s\nwant %s", got, want)
	}
	after, _ := s.Stats(ctx)
	if after != before {
		t.Fatalf("stats after rebuild %+v, before %+v", after, before)
	}
}
