package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/gdpr"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
)

var now = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

type env struct {
	t   *testing.T
	st  store.Store
	svc *Service
	src store.Source
	pl  *pipeline.Pipeline
	ctx context.Context
}

var msgN atomic.Int64

func newEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	ctx := audit.WithActor(context.Background(), "u_marketing")
	src, err := source.Create(ctx, st, "Shop", "shop")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, src: src, pl: &pipeline.Pipeline{Store: st}, ctx: ctx}
	e.svc = &Service{Store: st, Now: func() time.Time { return now }}
	return e
}

func eachEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) { fn(t, newEnv(t, st)) })
}

func (e *env) send(evs ...event.Event) {
	e.t.Helper()
	var recs []store.Record
	for _, ev := range evs {
		ev.MessageID = fmt.Sprintf("m-%d", msgN.Add(1))
		if ev.ReceivedAt.IsZero() {
			ev.ReceivedAt = ev.Timestamp
		}
		body, _ := json.Marshal(ev)
		recs = append(recs, store.Record{SourceID: e.src.ID, Event: ev, Body: body})
	}
	if _, err := e.st.Append(e.ctx, recs); err != nil {
		e.t.Fatal(err)
	}
	e.drain()
}

func (e *env) drain() {
	e.t.Helper()
	if _, err := e.pl.Drain(e.ctx, nil); err != nil {
		e.t.Fatal(err)
	}
}

// person makes a customer with a user id, traits and orders; it returns
// the customer id.
func (e *env) person(userID string, traits map[string]any, orders int, revenue float64, lastOrder time.Time) string {
	e.t.Helper()
	tb, _ := json.Marshal(traits)
	evs := []event.Event{{Type: event.Identify, UserID: userID, Traits: tb, Timestamp: now.AddDate(0, -6, 0)}}
	for i := 0; i < orders; i++ {
		p, _ := json.Marshal(map[string]any{"order_id": fmt.Sprintf("%s-%d", userID, i), "revenue": revenue / float64(orders), "currency": "EUR"})
		evs = append(evs, event.Event{Type: event.Track, UserID: userID, Event: event.OrderCompleted, Properties: p,
			Timestamp: lastOrder.AddDate(0, 0, -7*i)})
	}
	e.send(evs...)
	p, err := e.st.CustomerByIdentifier(e.ctx, store.Identifier{Kind: "user", Value: userID})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.CustomerID
}

func (e *env) complaint(customerID string, status string) {
	e.t.Helper()
	cs := e.st.(store.CaseStore)
	c := store.Case{ID: "case-" + customerID + "-" + status, CustomerID: customerID, Type: "complaint", Channel: "phone", Priority: "normal",
		Status: status, Department: "Service", Subject: "broken", Origin: "api", CreatedAt: now, UpdatedAt: now, ClockStart: now, Version: 1}
	if err := cs.InsertCase(e.ctx, c, nil, nil); err != nil {
		e.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func (e *env) campaign(name, typ, channel string, target store.Target) store.Campaign {
	e.t.Helper()
	c, err := e.svc.Create(e.ctx, Input{Name: ptr(name), Department: ptr("Marketing"), Channel: ptr(channel), Type: ptr(typ),
		Subject: ptr(name + " subject"), Message: ptr("Dear customer, " + name), Offer: ptr("10 % off"),
		Start: ptr("2026-05-01"), End: ptr("2026-05-31"), Target: &target, ExpectedVolume: ptr(int64(5))})
	if err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
	return c
}

func (e *env) sendAll(id string) store.Campaign {
	e.t.Helper()
	if _, err := e.svc.Send(e.ctx, id); err != nil {
		e.t.Fatalf("send %s: %v", id, err)
	}
	if err := e.svc.Drain(e.ctx, "test"); err != nil {
		e.t.Fatalf("drain %s: %v", id, err)
	}
	e.drain()
	c, err := e.svc.Get(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	if c.Status != StatusSent {
		e.t.Fatalf("campaign %s is %s after the job", id, c.Status)
	}
	return c
}

// deliveries counts the campaign's delivery events on each customer's timeline.
func (e *env) deliveries(campaignID string, customers ...string) map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, c := range customers {
		tl, err := e.st.Timeline(e.ctx, c, store.TimelineCursor{}, 500)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, x := range tl {
			if x.Name == EventName && strings.Contains(string(x.Body), `"campaignId":"`+campaignID+`"`) {
				out[c]++
			}
		}
	}
	return out
}

func gold() store.Target {
	return store.Target{Kind: TargetFilter, Conditions: []store.Condition{{Field: "trait:plan", Op: "eq", Value: "gold"}}}
}

// TestContactPolicyOnDelivery: a promotional e-mail to the gold customers
// is held back from the one with an open complaint, the one over the
// frequency cap, the one without consent and the one who withdrew it; a
// service mailing to the same group reaches all of them.
func TestContactPolicyOnDelivery(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		yes := map[string]any{"email_marketing": true}
		ok := e.person("u1", map[string]any{"plan": "gold", "email": "u1@example.de", "consent": yes}, 2, 300, now.AddDate(0, 0, -3))
		e.person("u2", map[string]any{"plan": "silver", "consent": yes}, 1, 20, now.AddDate(0, 0, -3))
		withdrawn := e.person("u3", map[string]any{"plan": "gold", "consent": map[string]any{"email_marketing": false}}, 0, 0, now)
		missing := e.person("u4", map[string]any{"plan": "Gold"}, 0, 0, now)
		complaining := e.person("u5", map[string]any{"plan": "gold", "consent": yes}, 0, 0, now)
		capped := e.person("u6", map[string]any{"plan": "gold", "consent": yes}, 0, 0, now)
		e.complaint(complaining, "in_progress")
		e.complaint(ok, "solved") // a solved complaint holds nobody back
		// u6 got two promotional e-mails this week (uploaded lists).
		for i := 0; i < 2; i++ {
			c := e.campaign(fmt.Sprintf("Earlier %d", i), TypePromotional, "email", store.Target{Kind: TargetList})
			if _, err := e.svc.Upload(e.ctx, c.ID, strings.NewReader("userId\nu6\n")); err != nil {
				t.Fatal(err)
			}
			if got := e.sendAll(c.ID); got.Delivery.Delivered != 1 {
				t.Fatalf("earlier campaign %d: %+v", i, got.Delivery)
			}
		}

		c := e.campaign("Spring Sale", TypePromotional, "email", gold())
		pre, err := e.svc.Preview(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		c = e.sendAll(c.ID)
		d := c.Delivery
		want := map[string]int64{ReasonOpenComplaint: 1, ReasonFrequencyCap: 1, ReasonConsentMissing: 1, ReasonConsentWithdrawn: 1}
		if d.Scanned != 6 || d.Matched != 5 || d.Delivered != 1 || d.HeldBack != 4 || fmt.Sprint(d.Reasons) != fmt.Sprint(want) {
			t.Fatalf("delivery report: %+v", d)
		}
		if pre.Matched != 5 || pre.Delivered != 1 || pre.HeldBack != 4 || fmt.Sprint(pre.Reasons) != fmt.Sprint(want) {
			t.Fatalf("preview: %+v", pre)
		}
		for reason, id := range map[string]string{ReasonOpenComplaint: complaining, ReasonFrequencyCap: capped,
			ReasonConsentMissing: missing, ReasonConsentWithdrawn: withdrawn} {
			if !slices.Equal(d.Samples[reason], []string{id}) {
				t.Fatalf("samples of %s: %v, want %s", reason, d.Samples[reason], id)
			}
		}
		got := e.deliveries(c.ID, ok, withdrawn, missing, complaining, capped)
		if fmt.Sprint(got) != fmt.Sprint(map[string]int{ok: 1}) {
			t.Fatalf("timelines: %v", got)
		}

		// A service mailing needs no consent and ignores complaints and
		// the promotional cap.
		svc := e.sendAll(e.campaign("Terms update", TypeService, "email", gold()).ID)
		if svc.Delivery.Delivered != 5 || svc.Delivery.HeldBack != 0 {
			t.Fatalf("service mailing: %+v", svc.Delivery)
		}

		// The check API for an external sender says the same.
		res, err := e.svc.Check(e.ctx, CheckRequest{Channel: "email", Type: TypePromotional, Customers: []store.Identifier{
			{Kind: "user", Value: "u1"}, {Kind: "email", Value: "U1@Example.de"}, {Kind: "user", Value: "u3"}, {Kind: "user", Value: "u4"},
			{Kind: "customer", Value: complaining}, {Kind: "user", Value: "u6"}, {Kind: "user", Value: "nobody"}}})
		if err != nil {
			t.Fatal(err)
		}
		// u1 has now had one promotional e-mail (cap 2): still allowed.
		wantR := map[string]int{ReasonConsentWithdrawn: 1, ReasonConsentMissing: 1, ReasonOpenComplaint: 1, ReasonFrequencyCap: 1, ReasonUnknownCustomer: 1}
		if res.Allowed != 2 || res.HeldBack != 5 || fmt.Sprint(res.Reasons) != fmt.Sprint(wantR) {
			t.Fatalf("check: %+v", res)
		}
		if r := res.Results[6]; r.Allowed || r.Identifier.Value != "nobody" || r.Reasons[0] != ReasonUnknownCustomer {
			t.Fatalf("unknown customer: %+v", r)
		}
		if _, err := e.svc.Check(e.ctx, CheckRequest{Channel: "fax", Type: TypePromotional, Customers: []store.Identifier{{Kind: "user", Value: "u1"}}}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad channel: %v", err)
		}

		// Withdrawing consent through the service holds u1 back from then on.
		if _, err := e.svc.SetConsent(e.ctx, ok, ConsentInput{Purposes: map[string]bool{"email_marketing": false}, Source: "call centre"}); err != nil {
			t.Fatal(err)
		}
		e.drain()
		p, _ := e.st.Customer(e.ctx, ok)
		if c := p.Consent["email_marketing"]; c.Granted || c.Source != "call centre" {
			t.Fatalf("consent after withdrawal: %+v", p.Consent)
		}
		res, err = e.svc.Check(e.ctx, CheckRequest{Channel: "email", Type: TypePromotional, Customers: []store.Identifier{{Kind: "user", Value: "u1"}}})
		if err != nil || res.Allowed != 0 || res.Results[0].Reasons[0] != ReasonConsentWithdrawn {
			t.Fatalf("check after withdrawal: %+v %v", res, err)
		}

		// A stricter policy: no open-complaint rule for promotions, a cap of
		// one service e-mail a week.
		pol := DefaultPolicy()
		pol.HoldOpenComplaint[TypePromotional] = false
		pol.Caps = append(pol.Caps, Cap{Channel: "email", Types: []string{TypeService}, Max: 1, Days: 7})
		if _, err := e.svc.SetPolicy(e.ctx, pol); err != nil {
			t.Fatal(err)
		}
		res, err = e.svc.Check(e.ctx, CheckRequest{Channel: "email", Type: TypeService, Customers: []store.Identifier{{Kind: "user", Value: "u5"}, {Kind: "user", Value: "u2"}}})
		if err != nil || res.Allowed != 1 || res.Results[0].Reasons[0] != ReasonFrequencyCap || !res.Results[1].Allowed {
			t.Fatalf("service cap: %+v %v", res, err)
		}
		if _, err := e.svc.SetPolicy(e.ctx, Policy{Caps: []Cap{{Channel: "email", Max: 1, Days: 0}}}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad policy: %v", err)
		}

		// Erasing a held-back customer removes her from the report's
		// examples and from the delivery rows; the counts stay.
		if _, err := gdpr.Erase(e.ctx, e.st, withdrawn, gdpr.EraseOptions{}); err != nil {
			t.Fatal(err)
		}
		c, _ = e.svc.Get(e.ctx, c.ID)
		if len(c.Delivery.Samples[ReasonConsentWithdrawn]) != 0 || c.Delivery.Reasons[ReasonConsentWithdrawn] != 1 {
			t.Fatalf("after erasure: %+v", c.Delivery)
		}
		if rows, _ := e.st.(store.CampaignStore).CampaignDeliveriesSince(e.ctx, []string{ok}, now.AddDate(0, 0, -1)); len(rows) != 2 {
			t.Fatalf("deliveries of a kept customer: %+v", rows)
		}
	})
}

// TestDeliveryExactlyOnceAfterCrash: a crash after a batch's events are
// stored and before its progress is repeats the batch on the next run
// (another node, a fresh service), and every recipient still has the
// campaign once on the timeline; the report counts each once.
func TestDeliveryExactlyOnceAfterCrash(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		var ids []string
		for i := 0; i < 7; i++ {
			ids = append(ids, e.person(fmt.Sprintf("x%d", i), map[string]any{"plan": "gold"}, 0, 0, now))
		}
		c := e.campaign("Recall notice", TypeService, "letter", gold())
		if _, err := e.svc.Send(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		e.svc.BatchSize = 3
		batches := 0
		e.svc.afterAppend = func() error {
			batches++
			if batches == 2 {
				return errors.New("simulated crash")
			}
			return nil
		}
		if err := e.svc.Drain(e.ctx, "node-a"); err == nil || !strings.Contains(err.Error(), "simulated crash") {
			t.Fatalf("drain: %v", err)
		}
		mid, _ := e.svc.Get(e.ctx, c.ID)
		if mid.Status != StatusSending || mid.Delivery.Delivered != 3 || mid.Delivery.Cursor == "" {
			t.Fatalf("after the crash: %s %+v", mid.Status, mid.Delivery)
		}
		// Node A died holding the lease: node B waits for it to expire.
		if more, err := (&Service{Store: e.st, Now: e.svc.Now}).RunOnce(e.ctx, "node-b"); more || err != nil {
			t.Fatalf("node b ran while node a held the lease: %v %v", more, err)
		}
		e.st.ReleaseLease(e.ctx, LeaseName, "node-a")
		other := &Service{Store: e.st, Now: e.svc.Now, BatchSize: 3}
		if err := other.Drain(e.ctx, "node-b"); err != nil {
			t.Fatal(err)
		}
		e.drain()
		done, _ := e.svc.Get(e.ctx, c.ID)
		if done.Status != StatusSent || done.Delivery.Delivered != 7 || done.Delivery.Matched != 7 || done.Delivery.DoneAt.IsZero() {
			t.Fatalf("after the re-run: %s %+v", done.Status, done.Delivery)
		}
		got := e.deliveries(c.ID, ids...)
		for _, id := range ids {
			if got[id] != 1 {
				t.Fatalf("customer %s has the campaign %d times: %v", id, got[id], got)
			}
		}
		// Running the whole batch sequence again writes nothing new.
		st, _ := e.st.Stats(e.ctx)
		done.Status, done.Delivery.Cursor, done.Delivery.Delivered = StatusSending, "", 0
		cs := e.st.(store.CampaignStore)
		if err := cs.UpdateCampaign(e.ctx, &done); err != nil {
			t.Fatal(err)
		}
		if err := other.Drain(e.ctx, "node-b"); err != nil {
			t.Fatal(err)
		}
		st2, _ := e.st.Stats(e.ctx)
		if st2.Events != st.Events {
			t.Fatalf("a re-run stored %d more events", st2.Events-st.Events)
		}
		// The event: on the timeline as Kunding campaigns' "Campaign Delivered" with the message.
		tl, _ := e.st.Timeline(e.ctx, ids[0], store.TimelineCursor{}, 10)
		var body struct {
			Properties map[string]any `json:"properties"`
			Context    struct {
				Campaign map[string]string `json:"campaign"`
			} `json:"context"`
			Timestamp time.Time `json:"timestamp"`
		}
		json.Unmarshal(tl[0].Body, &body)
		if tl[0].SourceName != SourceName || body.Properties["message"] != "Dear customer, Recall notice" || body.Properties["campaignId"] != c.ID ||
			body.Properties["channel"] != "letter" || body.Properties["department"] != "Marketing" || body.Properties["offer"] != "10 % off" ||
			body.Context.Campaign["name"] != "Recall notice" || !body.Timestamp.Equal(done.Delivery.SentAt) {
			t.Fatalf("delivery event: %s %s", tl[0].SourceName, tl[0].Body)
		}
		// A sent campaign is not sent again.
		if _, err := e.svc.Send(e.ctx, c.ID); err == nil {
			t.Fatal("a sending campaign was sent again")
		}
	})
}

func TestCancelStopsDelivery(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		for i := 0; i < 5; i++ {
			e.person(fmt.Sprintf("y%d", i), map[string]any{"plan": "gold"}, 0, 0, now)
		}
		c := e.campaign("Stop me", TypeService, "email", gold())
		e.svc.Send(e.ctx, c.ID)
		e.svc.BatchSize = 2
		if _, err := e.svc.RunOnce(e.ctx, "n"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Cancel(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Drain(e.ctx, "n"); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.Get(e.ctx, c.ID)
		if got.Status != StatusCancelled || got.Delivery.Delivered != 2 {
			t.Fatalf("cancelled: %s %+v", got.Status, got.Delivery)
		}
	})
}

// TestTargetsListsAndCalendar: filters on profile fields and predictions,
// an uploaded list with unknown identifiers, and the calendar.
func TestTargetsListsAndCalendar(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		a := e.person("a", map[string]any{"plan": "gold", "city": "Berlin-Mitte", "email": "a@example.de"}, 3, 1200, now.AddDate(0, 0, -10))
		b := e.person("b", map[string]any{"plan": "silver", "city": "Hamburg", "phone": "+49 40 123456"}, 1, 50, now.AddDate(0, -6, 0))
		c := e.person("c", map[string]any{"plan": "gold"}, 0, 0, now)
		e.send(event.Event{Type: event.Track, UserID: "c", Event: "Survey Answered", Timestamp: now.AddDate(0, 0, -1),
			Properties: json.RawMessage(`{"surveyId":"s1","surveyType":"nps","score":2,"category":"detractor","responseId":"r1"}`)})
		if err := e.st.(store.PredictionStore).SavePredictions(e.ctx, []store.Prediction{
			{CustomerID: a, Model: "bgnbd", CLV: 900, CLVPercentile: 95, ChurnRisk: 0.1, ComputedAt: now},
			{CustomerID: b, Model: "bgnbd", CLV: 30, CLVPercentile: 20, ChurnRisk: 0.8, ComputedAt: now}}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			conds []store.Condition
			want  []string
		}{
			{"trait eq", []store.Condition{{Field: "trait:plan", Op: "eq", Value: "GOLD"}}, []string{a, c}},
			{"trait contains", []store.Condition{{Field: "trait:city", Op: "contains", Value: "berlin"}}, []string{a}},
			{"orders >= 1 and revenue > 100", []store.Condition{{Field: "orders", Op: "gte", Value: "1"}, {Field: "revenue", Op: "gt", Value: "100"}}, []string{a}},
			{"last order before 90 days", []store.Condition{{Field: "lastOrder", Op: "before", Value: "90d"}}, []string{b}},
			{"last order after a date", []store.Condition{{Field: "lastOrder", Op: "after", Value: "2026-04-01"}}, []string{a}},
			{"never ordered", []store.Condition{{Field: "lastOrder", Op: "missing"}}, []string{c}},
			{"revenue tier", []store.Condition{{Field: "tier", Op: "eq", Value: "high"}}, []string{a}},
			{"value tier", []store.Condition{{Field: "valueTier", Op: "eq", Value: "high"}}, []string{a}},
			{"no prediction", []store.Condition{{Field: "valueTier", Op: "eq", Value: "none"}}, []string{c}},
			{"churn risk", []store.Condition{{Field: "churnRisk", Op: "gte", Value: "0.5"}}, []string{b}},
			{"clv", []store.Condition{{Field: "clv", Op: "gte", Value: "100"}}, []string{a}},
			{"nps detractor", []store.Condition{{Field: "nps", Op: "eq", Value: "detractor"}}, []string{c}},
			{"has a phone", []store.Condition{{Field: "phone", Op: "exists"}}, []string{b}},
			{"consent missing", []store.Condition{{Field: "consent:email_marketing", Op: "eq", Value: "missing"}}, []string{a, b, c}},
		}
		for _, tc := range cases {
			cmp := e.campaign("T "+tc.name, TypeInformation, "letter", store.Target{Kind: TargetFilter, Conditions: tc.conds})
			pre, err := e.svc.Preview(e.ctx, cmp.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			cs := e.st.(store.CampaignStore)
			all, _ := cs.ProfilesAfter(e.ctx, "", 100)
			preds, _ := cs.PredictionsOf(e.ctx, []string{a, b, c})
			for _, p := range all {
				var pr *store.Prediction
				if x, ok := preds[p.CustomerID]; ok {
					pr = &x
				}
				if Matches(cmp.Target, &p, pr, now) {
					got = append(got, p.CustomerID)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) || pre.Matched != int64(len(want)) {
				t.Errorf("%s: matched %v (preview %d), want %v", tc.name, got, pre.Matched, want)
			}
		}
		// Invalid conditions are refused.
		for _, bad := range []store.Condition{{Field: "shoe", Op: "eq", Value: "x"}, {Field: "orders", Op: "contains", Value: "1"},
			{Field: "orders", Op: "gte", Value: "many"}, {Field: "tier", Op: "eq", Value: "platinum"}, {Field: "lastOrder", Op: "before", Value: "soon"}} {
			_, err := e.svc.Create(e.ctx, Input{Name: ptr("bad"), Department: ptr("Marketing"), Channel: ptr("email"), Type: ptr("promotional"),
				Start: ptr("2026-05-01"), End: ptr("2026-05-02"), Target: &store.Target{Kind: TargetFilter, Conditions: []store.Condition{bad}}})
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("condition %+v: %v", bad, err)
			}
		}

		// An uploaded list: header row, e-mail in any case, a phone, a
		// customer id, duplicates, unknown identifiers, an empty cell.
		l := e.campaign("List", TypeService, "email", store.Target{Kind: TargetList})
		csv := "userId;email;phone\na;;\n;A@Example.DE;\n;;+49 40 123456\nghost;;\n;nobody@example.de;\n;;\n"
		l, err := e.svc.Upload(e.ctx, l.ID, strings.NewReader(csv))
		if err != nil {
			t.Fatal(err)
		}
		if l.List.Rows != 5 || l.List.Customers != 2 || l.List.Unknown != 2 ||
			!slices.Equal(l.List.Samples, []string{"user:ghost", "email:nobody@example.de"}) {
			t.Fatalf("list: %+v", l.List)
		}
		// Without a header: kinds guessed.
		l2 := e.campaign("List 2", TypeService, "email", store.Target{Kind: TargetList})
		l2, err = e.svc.Upload(e.ctx, l2.ID, strings.NewReader(c+"\nb\nwho@example.de\n"))
		if err != nil || l2.List.Customers != 2 || l2.List.Unknown != 1 {
			t.Fatalf("list 2: %+v %v", l2.List, err)
		}
		if _, err := e.svc.Upload(e.ctx, l2.ID, strings.NewReader("\n\n")); !errors.Is(err, ErrInvalid) {
			t.Fatalf("empty list: %v", err)
		}
		sent := e.sendAll(l.ID)
		if sent.Delivery.Delivered != 2 {
			t.Fatalf("list delivery: %+v", sent.Delivery)
		}
		if got := e.deliveries(l.ID, a, b, c); got[a] != 1 || got[b] != 1 || got[c] != 0 {
			t.Fatalf("list timelines: %v", got)
		}

		// The calendar: what runs when, by department and channel.
		mk := func(name, dept, channel, start, end string) string {
			x, err := e.svc.Create(e.ctx, Input{Name: ptr(name), Department: ptr(dept), Channel: ptr(channel), Type: ptr("information"),
				Start: ptr(start), End: ptr(end), Target: &store.Target{Kind: TargetFilter}})
			if err != nil {
				t.Fatal(err)
			}
			return x.ID
		}
		june := mk("June letter", "Service", "letter", "2026-06-10", "2026-06-12")
		across := mk("Summer calls", "Sales", "phone", "2026-05-25", "2026-07-05")
		july := mk("July mail", "Marketing", "email", "2026-07-01", "2026-07-02")
		cancelled := mk("Dropped", "Sales", "phone", "2026-06-01", "2026-06-02")
		e.svc.Cancel(e.ctx, cancelled)
		from, to := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
		cal, err := e.svc.Calendar(e.ctx, from, to, "", "")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, x := range cal {
			names = append(names, x.ID)
		}
		if !slices.Equal(names, []string{across, june}) {
			t.Fatalf("june calendar: %v (june %s, across %s, july %s)", names, june, across, july)
		}
		if cal, _ := e.svc.Calendar(e.ctx, from, to, "Sales", "phone"); len(cal) != 1 || cal[0].ID != across || cal[0].Audience != "all customers" {
			t.Fatalf("sales calendar: %+v", cal)
		}
		if cal, _ := e.svc.Calendar(e.ctx, from, to, "", "email"); len(cal) != 0 {
			t.Fatalf("no e-mails in june: %+v", cal)
		}
	})
}

func TestParseListGuesses(t *testing.T) {
	ids, bad, err := ParseList(strings.NewReader("\ufeffanna@example.de\n+49 (30) 1234567\nc0123456789abcdef0123\nK-1001\n,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, x := range ids {
		kinds = append(kinds, x.Kind+"="+x.Value)
	}
	want := []string{"email=anna@example.de", "phone=+49301234567", "customer=c0123456789abcdef0123", "user=K-1001"}
	if !slices.Equal(kinds, want) || len(bad) != 0 {
		t.Fatalf("got %v %v", kinds, bad)
	}
	if _, _, err := ParseList(strings.NewReader("email\n\"broken\n")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("broken csv: %v", err)
	}
}
