package cases_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, berlin)
}

// env is a store with a source, a pipeline and the case service on a
// manual clock.
type env struct {
	t     *testing.T
	st    store.Store
	svc   *cases.Service
	clock *cases.ManualClock
	src   store.Source
	pl    *pipeline.Pipeline
	ctx   context.Context
}

var msgN atomic.Int64

func newEnv(t *testing.T, st store.Store, now time.Time) *env {
	t.Helper()
	ctx := audit.WithActor(context.Background(), "u_agent")
	clock := cases.NewManualClock(now)
	svc, err := cases.New(st, clock)
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.Create(ctx, st, "Shop", "shop")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, svc: svc, clock: clock, src: src, pl: &pipeline.Pipeline{Store: st}, ctx: ctx}
}

func eachEnv(t *testing.T, now time.Time, fn func(t *testing.T, e *env)) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) { fn(t, newEnv(t, st, now)) })
}

// track appends a track event of a user (and runs the pipeline) and
// returns its log position.
func (e *env) track(userID, name string, props map[string]any) int64 {
	e.t.Helper()
	p, _ := json.Marshal(props)
	now := e.clock.Now()
	ev := event.Event{Type: event.Track, MessageID: fmt.Sprintf("m-%d", msgN.Add(1)), UserID: userID, Event: name, Properties: p, Timestamp: now, ReceivedAt: now}
	if strings.HasPrefix(userID, "anon:") {
		ev.UserID, ev.AnonymousID = "", strings.TrimPrefix(userID, "anon:")
	}
	return e.appendEv(ev)
}

func (e *env) appendEv(ev event.Event) int64 {
	e.t.Helper()
	body, _ := json.Marshal(ev)
	if _, err := e.st.Append(e.ctx, []store.Record{{SourceID: e.src.ID, Event: ev, Body: body}}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.pl.Drain(e.ctx, nil); err != nil {
		e.t.Fatal(err)
	}
	st, _ := e.st.Stats(e.ctx)
	return st.LastSeq
}

// customer makes a customer with a user id and returns its id.
func (e *env) customer(userID string) string {
	e.t.Helper()
	e.track(userID, "Signed Up", nil)
	p, err := e.st.CustomerByIdentifier(e.ctx, store.Identifier{Kind: "user", Value: userID})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.CustomerID
}

func (e *env) create(n cases.NewCase) cases.Case {
	e.t.Helper()
	c, err := e.svc.Create(e.ctx, n)
	if err != nil {
		e.t.Fatalf("create %+v: %v", n, err)
	}
	return c
}

func (e *env) history(id string) []store.CaseChange {
	e.t.Helper()
	h, err := e.svc.History(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func (e *env) get(id string) cases.Case {
	e.t.Helper()
	c, err := e.svc.Get(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) setConfig(key string, v any) {
	e.t.Helper()
	raw, _ := json.Marshal(v)
	_, ver, err := e.svc.Config(e.ctx, key)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.SetConfig(e.ctx, key, raw, ver); err != nil {
		e.t.Fatalf("set %s: %v", key, err)
	}
}

func actions(h []store.CaseChange) []string {
	var out []string
	for _, x := range h {
		out = append(out, x.Action)
	}
	return out
}

func find(h []store.CaseChange, action string) (store.CaseChange, bool) {
	for _, x := range h {
		if x.Action == action {
			return x, true
		}
	}
	return store.CaseChange{}, false
}
