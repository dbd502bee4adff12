package cases_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/gdpr"
	"github.com/kunding/kunding/internal/store"
)

func TestCreateRoutesToDefaultQueueWithDeadlines(t *testing.T) {
	// Thursday 2 April 2026 16:00 Berlin, before Easter.
	eachEnv(t, at(2026, 4, 2, 16, 0), func(t *testing.T, e *env) {
		cust := e.customer("C-1")
		c := e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Channel: "Phone", Subject: "Parcel never arrived",
			Description: "Ordered two weeks ago, nothing came.", Touchpoint: "delivery"})
		if c.Status != cases.StatusNew || c.Department != "Service" || c.Priority != "normal" || c.Version != 0 {
			t.Fatalf("case = %+v", c)
		}
		if c.Channel != "phone" || c.Origin != "api" || c.CreatedBy != "u_agent" {
			t.Errorf("channel %q origin %q createdBy %q", c.Channel, c.Origin, c.CreatedBy)
		}
		// normal: 8 h first response, 40 h resolution. Thu 16-18 (2 h),
		// Good Friday to Easter Monday closed, Tue 7 April 08:00 + 6 h.
		if want := at(2026, 4, 7, 14, 0); !c.FirstResponseDue.Equal(want) {
			t.Errorf("first response due %s, want %s", c.FirstResponseDue.In(berlin), want)
		}
		// 40 h: Thu 2, Tue 10 (12), Wed 10 (22), Thu 10 (32), Fri 10 April 8 h: 16:00.
		if want := at(2026, 4, 10, 16, 0); !c.ResolutionDue.Equal(want) {
			t.Errorf("resolution due %s, want %s", c.ResolutionDue.In(berlin), want)
		}
		h := e.history(c.ID)
		if got := strings.Join(actions(h), ","); got != "created,routed,deadlines" {
			t.Fatalf("history %s", got)
		}
		if r := h[1]; r.After["department"] != "Service" || !strings.Contains(r.Reason, "default queue") || r.Actor != "u_agent" {
			t.Errorf("routing entry %+v", r)
		}
		if d := h[2]; !strings.Contains(d.Reason, "SLA policy normal") || d.After["resolutionDue"] == "" {
			t.Errorf("deadline entry %+v", d)
		}
		got := e.get(c.ID)
		if got.Subject != c.Subject || got.CustomerID != cust || !got.ResolutionDue.Equal(c.ResolutionDue) {
			t.Errorf("stored %+v", got)
		}
		// Bad input changes nothing.
		for _, n := range []cases.NewCase{
			{CustomerID: cust, Type: "moan", Subject: "x"},
			{CustomerID: cust, Type: "complaint"},
			{Type: "complaint", Subject: "whose?"},
			{CustomerID: "c-nobody", Type: "complaint", Subject: "x"},
			{CustomerID: cust, Type: "complaint", Subject: "x", Priority: "asap"},
			{CustomerID: cust, Type: "complaint", Subject: "x", Owner: "u_nobody"},
			{CustomerID: cust, Type: "complaint", Subject: "x", Attachments: []store.Attachment{{Name: "a", URL: "javascript:alert(1)"}}},
		} {
			if _, err := e.svc.Create(e.ctx, n); !errors.Is(err, cases.ErrInvalid) {
				t.Errorf("create %+v: %v, want ErrInvalid", n, err)
			}
		}
		if n, _ := e.svc.Count(e.ctx, store.CaseFilter{}); n != 1 {
			t.Errorf("%d cases, want 1", n)
		}
	})
}

func TestRoutingRules(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		vip := e.customer("VIP")
		plain := e.customer("PLAIN")
		ps := e.st.(store.PredictionStore)
		if err := ps.SavePredictions(e.ctx, []store.Prediction{{CustomerID: vip, Model: "t", CLV: 2500, CLVPercentile: 97, ComputedAt: e.clock.Now()},
			{CustomerID: plain, Model: "t", CLV: 40, CLVPercentile: 20, ComputedAt: e.clock.Now()}}); err != nil {
			t.Fatal(err)
		}
		minCLV := 1000.0
		e.setConfig(cases.ConfigRouting, cases.RoutingConfig{DefaultDepartment: "Service-Queue", Rules: []cases.Rule{
			{ID: "vip", Name: "Valuable customers", When: cases.Condition{MinCLV: &minCLV}, Then: cases.Action{Department: "Key Account", Priority: "high"}},
			{ID: "delivery", Name: "Delivery", When: cases.Condition{Themes: []string{"delivery"}}, Then: cases.Action{Department: "Logistik"}},
			{ID: "app", Name: "App", When: cases.Condition{Channels: []string{"app"}}, Then: cases.Action{Priority: "low"}, Continue: true},
			{ID: "en", Name: "English", When: cases.Condition{Languages: []string{"en"}}, Then: cases.Action{Department: "International"}},
			{ID: "off", Disabled: true, When: cases.Condition{}, Then: cases.Action{Department: "Nowhere"}},
		}})
		c := e.create(cases.NewCase{CustomerID: vip, Type: "complaint", Subject: "x", Theme: "delivery"})
		if c.Department != "Key Account" || c.Priority != "high" || c.Policy != "high" {
			t.Errorf("vip: %s %s %s", c.Department, c.Priority, c.Policy)
		}
		r, _ := find(e.history(c.ID), "routed")
		if !strings.Contains(r.Reason, `rule vip "Valuable customers" matched (CLV 2500.00 >= 1000.00)`) {
			t.Errorf("explanation %q", r.Reason)
		}
		c = e.create(cases.NewCase{CustomerID: plain, Type: "complaint", Subject: "x", Theme: "delivery"})
		if c.Department != "Logistik" || c.Priority != "normal" {
			t.Errorf("delivery: %s %s", c.Department, c.Priority)
		}
		// continue: priority from "app", department from "en".
		c = e.create(cases.NewCase{CustomerID: plain, Type: "request", Channel: "app", Subject: "x", Theme: "billing", Language: "en"})
		if c.Department != "International" || c.Priority != "low" {
			t.Errorf("continue: %s %s", c.Department, c.Priority)
		}
		r, _ = find(e.history(c.ID), "routed")
		if !strings.Contains(r.Reason, "rule app") || !strings.Contains(r.Reason, "rule en") {
			t.Errorf("explanation %q", r.Reason)
		}
		// No rule: the default queue, explained.
		c = e.create(cases.NewCase{Contact: "walk-in customer", Type: "idea", Subject: "x", Theme: "price", Language: "de"})
		r, _ = find(e.history(c.ID), "routed")
		if c.Department != "Service-Queue" || !strings.Contains(r.Reason, "no routing rule matched") || !strings.Contains(r.Reason, "default queue: department Service-Queue") {
			t.Errorf("default: %s %q", c.Department, r.Reason)
		}
		// What the creator gives wins over rules.
		c = e.create(cases.NewCase{CustomerID: vip, Type: "complaint", Subject: "x", Department: "Vorstand"})
		if c.Department != "Vorstand" || c.Priority != "high" {
			t.Errorf("fixed: %s %s", c.Department, c.Priority)
		}
		// Invalid rules are refused.
		_, ver, _ := e.svc.Config(e.ctx, cases.ConfigRouting)
		for _, raw := range []string{`{"defaultDepartment":"","rules":[]}`, `{"defaultDepartment":"a","rules":[{"then":{}}]}`,
			`{"defaultDepartment":"a","rules":[{"when":{"types":["x"]},"then":{"department":"b"}}]}`, `{"defaultDepartment":"a","bogus":1}`} {
			if _, err := e.svc.SetConfig(e.ctx, cases.ConfigRouting, []byte(raw), ver); !errors.Is(err, cases.ErrInvalid) {
				t.Errorf("%s: %v", raw, err)
			}
		}
		if _, err := e.svc.SetConfig(e.ctx, cases.ConfigRouting, []byte(`{"defaultDepartment":"a"}`), ver-1); !errors.Is(err, store.ErrVersion) {
			t.Errorf("stale version: %v", err)
		}
	})
}

func TestStatusMachineAndAudit(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		cust := e.customer("C-1")
		c := e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Subject: "Broken lid"})
		// Solving needs a resolution note.
		if _, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "solved"}); !errors.Is(err, cases.ErrInvalid) {
			t.Fatalf("solve without note: %v", err)
		}
		// Rejecting needs a reason.
		if _, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "rejected", Note: "no"}); !errors.Is(err, cases.ErrInvalid) {
			t.Fatalf("reject without reason: %v", err)
		}
		if _, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "closed"}); !errors.Is(err, cases.ErrInvalid) {
			t.Fatalf("unknown status: %v", err)
		}
		e.clock.Advance(30 * time.Minute)
		c, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "open", Note: "looking into it"})
		if err != nil || c.Status != "open" || c.Version != 1 {
			t.Fatalf("open: %v %+v", err, c)
		}
		// Optimistic concurrency: a stale version is refused, nothing changes.
		if _, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: 0, Status: "solved", Resolution: "x"}); !errors.Is(err, store.ErrVersion) || !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale: %v", err)
		}
		if _, err := e.svc.Assign(e.ctx, c.ID, 0, "Logistik", "", "x"); !errors.Is(err, store.ErrVersion) {
			t.Fatalf("stale assign: %v", err)
		}
		c, err = e.svc.Assign(e.ctx, c.ID, c.Version, "Logistik", "", "the carrier lost it")
		if err != nil || c.Department != "Logistik" || c.Handoffs != 1 {
			t.Fatalf("assign: %v %+v", err, c)
		}
		e.clock.Advance(time.Hour)
		c, err = e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "solved", Resolution: "Replacement sent"})
		if err != nil || c.Status != "solved" || c.Resolution != "Replacement sent" || c.SolvedAt.IsZero() || c.FirstResponseAt.IsZero() {
			t.Fatalf("solve: %v %+v", err, c)
		}
		// Solved -> waiting is not allowed; reopening is.
		if _, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "waiting_customer"}); !errors.Is(err, cases.ErrTransition) {
			t.Fatalf("solved -> waiting: %v", err)
		}
		e.clock.Advance(time.Hour)
		c, err = e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "open", Note: "customer called again"})
		if err != nil || c.Reopened != 1 || !c.ClosedAt.IsZero() || !c.ClockStart.Equal(e.clock.Now().UTC()) {
			t.Fatalf("reopen: %v %+v", err, c)
		}
		c, err = e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "rejected", Reason: "Damage caused by misuse"})
		if err != nil || c.RejectReason != "Damage caused by misuse" {
			t.Fatalf("reject: %v %+v", err, c)
		}
		// The history tells who did what, when, before/after and why.
		h := e.history(c.ID)
		want := "created,routed,deadlines,status,assigned,status,status,deadlines,status"
		if got := strings.Join(actions(h), ","); got != want {
			t.Fatalf("history\n%s\nwant\n%s", got, want)
		}
		if x := h[3]; x.Before["status"] != "new" || x.After["status"] != "open" || x.Note != "looking into it" || x.Actor != "u_agent" ||
			!x.At.Equal(at(2026, 3, 16, 9, 30)) {
			t.Errorf("open entry %+v", x)
		}
		if x := h[4]; x.Before["department"] != "Service" || x.After["department"] != "Logistik" || x.Reason != "the carrier lost it" {
			t.Errorf("assign entry %+v", x)
		}
		if x := h[5]; x.After["status"] != "solved" || x.After["resolution"] != "Replacement sent" || x.After["firstResponseAt"] == "" {
			t.Errorf("solve entry %+v", x)
		}
		if x := h[8]; x.After["status"] != "rejected" || x.Reason != "Damage caused by misuse" {
			t.Errorf("reject entry %+v", x)
		}
		for i := 1; i < len(h); i++ {
			if h[i].ID <= h[i-1].ID || h[i].At.Before(h[i-1].At) {
				t.Errorf("history out of order at %d", i)
			}
		}
	})
}

func TestMerge(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		cust := e.customer("C-1")
		a := e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Subject: "Late parcel", Theme: "delivery",
			Attachments: []store.Attachment{{Name: "photo.jpg", ContentType: "image/jpeg", Size: 1234, URL: "https://files.example/p.jpg"}}})
		b := e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Subject: "Where is my parcel?", Theme: "delivery"})
		other := e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Subject: "Price too high", Theme: "price"})
		// Duplicate detection: b suggests merging into a, not other.
		sug, err := e.svc.Suggestions(e.ctx, b.ID)
		if err != nil || len(sug) != 1 || sug[0].TargetID != a.ID || sug[0].Status != "open" || !strings.Contains(sug[0].Reason, "theme delivery") {
			t.Fatalf("suggestions of b: %v %+v", err, sug)
		}
		if s, _ := e.svc.Suggestions(e.ctx, other.ID); len(s) != 0 {
			t.Errorf("suggestions of other: %+v", s)
		}
		if _, ok := find(e.history(b.ID), "merge_suggested"); !ok {
			t.Error("no merge_suggested in history")
		}
		// Nothing was merged automatically.
		if got := e.get(b.ID); got.Status != "new" {
			t.Fatalf("b status %s", got.Status)
		}
		if _, err := e.svc.Merge(e.ctx, b.ID, b.Version, b.ID, ""); !errors.Is(err, cases.ErrInvalid) {
			t.Errorf("merge into itself: %v", err)
		}
		if _, err := e.svc.Merge(e.ctx, b.ID, b.Version, "case_nothing", ""); !errors.Is(err, cases.ErrInvalid) {
			t.Errorf("merge into nothing: %v", err)
		}
		if _, err := e.svc.Transition(e.ctx, b.ID, cases.Move{Version: b.Version, Status: "merged"}); !errors.Is(err, cases.ErrInvalid) {
			t.Errorf("merge without target: %v", err)
		}
		a, err = e.svc.Merge(e.ctx, a.ID, a.Version, b.ID, "same parcel")
		if err != nil || a.Status != "merged" || a.MergedInto != b.ID {
			t.Fatalf("merge: %v %+v", err, a)
		}
		b = e.get(b.ID)
		if len(b.Attachments) != 1 || b.Version != 1 {
			t.Errorf("target after merge: %+v", b)
		}
		if x, ok := find(e.history(b.ID), "merged_in"); !ok || x.After["case"] != a.ID {
			t.Errorf("merged_in entry %+v", x)
		}
		// A merged case is final and cannot be a target.
		if _, err := e.svc.Transition(e.ctx, a.ID, cases.Move{Version: a.Version, Status: "open"}); !errors.Is(err, cases.ErrTransition) {
			t.Errorf("reopen merged: %v", err)
		}
		if _, err := e.svc.Merge(e.ctx, other.ID, other.Version, a.ID, ""); !errors.Is(err, cases.ErrInvalid) {
			t.Errorf("merge into merged: %v", err)
		}
		// The customer's open cases: b and other.
		open, err := e.svc.CustomerCases(e.ctx, cust, true)
		if err != nil || len(open) != 2 {
			t.Errorf("open cases of customer: %v %d", err, len(open))
		}
		all, _ := e.svc.CustomerCases(e.ctx, cust, false)
		if len(all) != 3 {
			t.Errorf("all cases of customer: %d", len(all))
		}
	})
}

func TestNotesAndFirstResponse(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		cust := e.customer("C-1")
		c := e.create(cases.NewCase{CustomerID: cust, Type: "request", Subject: "Invoice copy"})
		e.clock.Advance(90 * time.Minute)
		if _, err := e.svc.AddNote(e.ctx, c.ID, "  ", false); !errors.Is(err, cases.ErrInvalid) {
			t.Errorf("empty note: %v", err)
		}
		if _, err := e.svc.AddNote(e.ctx, c.ID, "internal: check archive", false); err != nil {
			t.Fatal(err)
		}
		if got := e.get(c.ID); !got.FirstResponseAt.IsZero() || got.Version != 0 {
			t.Errorf("internal note answered the customer: %+v", got)
		}
		if _, err := e.svc.AddNote(e.ctx, c.ID, "Dear customer, attached is the copy.", true); err != nil {
			t.Fatal(err)
		}
		got := e.get(c.ID)
		if !got.FirstResponseAt.Equal(at(2026, 3, 16, 10, 30)) {
			t.Errorf("first response at %s", got.FirstResponseAt)
		}
		h := e.history(c.ID)
		if n := h[len(h)-1]; n.Action != "note" || !n.Public || n.Note != "Dear customer, attached is the copy." {
			t.Errorf("note entry %+v", n)
		}
		if _, err := e.svc.AddAttachment(e.ctx, c.ID, store.Attachment{Name: "invoice.pdf", ContentType: "application/pdf", Size: 2048}); err != nil {
			t.Fatal(err)
		}
		if got := e.get(c.ID); len(got.Attachments) != 1 || got.Attachments[0].AddedBy != "u_agent" {
			t.Errorf("attachments %+v", got.Attachments)
		}
		// Update: a new priority recomputes the deadlines; a link to a customer.
		c = e.get(c.ID)
		high := "high"
		c2, err := e.svc.Update(e.ctx, c.ID, c.Version, cases.Patch{Priority: &high}, "customer is upset")
		if err != nil || c2.Policy != "high" || !c2.ResolutionDue.Before(c.ResolutionDue) {
			t.Fatalf("update: %v %+v", err, c2)
		}
		h = e.history(c.ID)
		if u, _ := find(h, "updated"); u.Before["priority"] != "normal" || u.After["priority"] != "high" || u.Reason != "customer is upset" {
			t.Errorf("update entry %+v", u)
		}
		anon := e.create(cases.NewCase{Contact: "Max M., phone 0170 123", Type: "complaint", Subject: "Rude staff"})
		cid := cust
		anon, err = e.svc.Update(e.ctx, anon.ID, anon.Version, cases.Patch{CustomerID: &cid}, "caller identified")
		if err != nil || anon.CustomerID != cust {
			t.Fatalf("link: %v %+v", err, anon)
		}
	})
}

func TestWaitingForCustomerPausesTheClock(t *testing.T) {
	// Monday 16 March 2026 09:00; normal: resolution 40 business hours =
	// Friday 20 March 09:00.
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		cust := e.customer("C-1")
		c := e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Subject: "Wrong size"})
		if want := at(2026, 3, 20, 9, 0); !c.ResolutionDue.Equal(want) {
			t.Fatalf("due %s, want %s", c.ResolutionDue.In(berlin), want)
		}
		e.clock.Set(at(2026, 3, 16, 11, 0))
		c, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "waiting_customer", Note: "asked for a photo"})
		if err != nil || c.WaitingSince.IsZero() || !c.FirstResponseAt.Equal(at(2026, 3, 16, 11, 0)) {
			t.Fatalf("wait: %v %+v", err, c)
		}
		// Waiting from Monday 11:00 to Wednesday 15:00: Mon 7 h + Tue 10 h +
		// Wed 7 h = 24 business hours paused; the escalation job leaves it
		// alone even after the old deadline.
		e.clock.Set(at(2026, 3, 20, 10, 0))
		if r, err := e.svc.Tick(e.ctx); err != nil || r.ToLead != 0 || r.Checked != 0 {
			t.Fatalf("tick while waiting: %v %+v", err, r)
		}
		e.clock.Set(at(2026, 3, 18, 15, 0))
		c, err = e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "open", Note: "photo received"})
		if err != nil {
			t.Fatal(err)
		}
		if c.PausedMS != (24 * time.Hour).Milliseconds() {
			t.Errorf("paused %s, want 24h", time.Duration(c.PausedMS)*time.Millisecond)
		}
		// 40 + 24 = 64 business hours from Monday 09:00: Mon 9, Tue 10 (19),
		// Wed 10 (29), Thu 10 (39), Fri 10 (49), Mon 23 10 (59), Tue 24 5 h: 13:00.
		if want := at(2026, 3, 24, 13, 0); !c.ResolutionDue.Equal(want) {
			t.Errorf("due after waiting %s, want %s", c.ResolutionDue.In(berlin), want)
		}
		h := e.history(c.ID)
		last := h[len(h)-1]
		if last.Before["resolutionDue"] == "" || !strings.Contains(last.Reason, "clock paused for 24h0m0s") {
			t.Errorf("entry %+v", last)
		}
	})
}

func TestEscalationStepsInOrder(t *testing.T) {
	// Monday 16 March 2026 09:00, priority high: first response 4 h (13:00),
	// resolution 16 h (Tuesday 17 March 15:00); warn a quarter before; the
	// CCO 8 business hours after a deadline.
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		cust := e.customer("C-1")
		ctx := e.ctx
		for _, u := range []store.User{
			{ID: "u_lead", Email: "lead@x.de", Name: "Lea Lead", Role: "lead", Department: "Service"},
			{ID: "u_lead2", Email: "lead2@x.de", Name: "Other Lead", Role: "lead", Department: "Logistik"},
			{ID: "u_cco", Email: "cco@x.de", Name: "Chris CCO", Role: "cco", Department: "Vorstand"},
		} {
			u.PasswordHash, u.CreatedAt, u.UpdatedAt = "x", e.clock.Now(), e.clock.Now()
			if err := e.st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		var notices []string
		e.svc.AddHook(func(_ context.Context, n cases.Notice) { notices = append(notices, n.Action) })
		c := e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Subject: "Broken", Priority: "high"})
		tick := func(when time.Time) cases.TickResult {
			t.Helper()
			e.clock.Set(when)
			r, err := e.svc.Tick(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if r := tick(at(2026, 3, 16, 11, 0)); r.Warnings != 0 || r.ToLead != 0 {
			t.Fatalf("11:00 %+v", r)
		}
		if r := tick(at(2026, 3, 16, 12, 0)); r.Warnings != 1 || r.ToLead != 0 {
			t.Fatalf("12:00 (1 h left of 4): %+v", r)
		}
		if r := tick(at(2026, 3, 16, 12, 30)); r.Warnings != 0 {
			t.Fatalf("warning twice: %+v", r)
		}
		if r := tick(at(2026, 3, 16, 13, 0)); r.ToLead != 1 || r.ToCCO != 0 {
			t.Fatalf("13:00 first response overdue: %+v", r)
		}
		if r := tick(at(2026, 3, 16, 13, 5)); r.ToLead != 0 || r.ToCCO != 0 || r.Warnings != 0 {
			t.Fatalf("idempotent: %+v", r)
		}
		if r := tick(at(2026, 3, 17, 10, 59)); r.Warnings != 0 || r.ToCCO != 0 {
			t.Fatalf("Tue 10:59: %+v", r)
		}
		// Tuesday 11:00: 4 h left until the resolution deadline (Tue 15:00):
		// a warning; and 8 business hours since the first response was due
		// (Mon 13-18 5 h + Tue 8-11 3 h): the CCO.
		if r := tick(at(2026, 3, 17, 11, 0)); r.Warnings != 1 || r.ToCCO != 1 {
			t.Fatalf("Tue 11:00: %+v", r)
		}
		got := e.get(c.ID)
		if got.EscalationLevel != 2 {
			t.Fatalf("level after Tue 11:00 = %d, want 2 (Mon 13-18 5 h + Tue 8-11 3 h = 8 h)", got.EscalationLevel)
		}
		h := e.history(c.ID)
		var esc []store.CaseChange
		for _, x := range h {
			if x.Action == "escalated" {
				esc = append(esc, x)
			}
		}
		if len(esc) != 2 || esc[0].After["escalationLevel"] != "1" || esc[0].After["users"] != "u_lead" ||
			esc[1].After["escalationLevel"] != "2" || esc[1].After["users"] != "u_cco" || esc[0].ID > esc[1].ID {
			t.Fatalf("escalations %+v", esc)
		}
		if !strings.Contains(esc[0].Reason, "first response deadline") || esc[0].Actor != "system" {
			t.Errorf("reason %q actor %q", esc[0].Reason, esc[0].Actor)
		}
		if r := tick(at(2026, 3, 20, 11, 0)); r.ToLead+r.ToCCO+r.Warnings != 0 {
			t.Fatalf("after level 2: %+v", r)
		}
		if strings.Join(notices, ",") != "created,warning,escalated,warning,escalated" {
			t.Errorf("notices %v", notices)
		}
		esc2, _ := e.svc.List(ctx, store.CaseFilter{Escalated: true, Open: true})
		if len(esc2) != 1 {
			t.Errorf("escalated list %d", len(esc2))
		}
		ov, _ := e.svc.Overview(ctx)
		if len(ov) != 1 || ov[0].Overdue != 1 || ov[0].EscalatedTo != 1 {
			t.Errorf("overview %+v", ov)
		}
	})
}

func TestEscalationFarOverdueRecordsBothLevels(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		c := e.create(cases.NewCase{Contact: "x", Type: "complaint", Subject: "Broken", Priority: "urgent"})
		e.clock.Set(at(2026, 3, 30, 9, 0))
		r, err := e.svc.Tick(e.ctx)
		if err != nil || r.ToLead != 1 || r.ToCCO != 1 || r.Warnings != 0 {
			t.Fatalf("%v %+v", err, r)
		}
		h := e.history(c.ID)
		if got := strings.Join(actions(h[3:]), ","); got != "escalated,escalated" {
			t.Fatalf("history %s", got)
		}
		if h[3].After["escalationLevel"] != "1" || h[4].After["escalationLevel"] != "2" {
			t.Errorf("order %+v %+v", h[3].After, h[4].After)
		}
	})
}

func TestExportAndErasureOfCases(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		e.svc.Timeline = true
		gone := e.customer("C-1")
		kept := e.customer("C-2")
		a := e.create(cases.NewCase{CustomerID: gone, Type: "complaint", Subject: "Private matter", Theme: "billing"})
		e.create(cases.NewCase{CustomerID: gone, Type: "complaint", Subject: "Again", Theme: "billing"}) // suggests a merge into a
		if _, err := e.svc.AddNote(e.ctx, a.ID, "Customer said: ...", true); err != nil {
			t.Fatal(err)
		}
		b := e.create(cases.NewCase{CustomerID: kept, Type: "request", Subject: "Other person"})
		if _, err := e.pl.Drain(e.ctx, nil); err != nil {
			t.Fatal(err)
		}
		doc, err := gdpr.Collect(e.ctx, e.st, gone)
		if err != nil {
			t.Fatal(err)
		}
		if len(doc.Cases) != 2 || len(doc.Cases[0].History) < 3 {
			t.Fatalf("export: %d cases %+v", len(doc.Cases), doc.Cases)
		}
		if _, err := gdpr.Erase(e.ctx, e.st, gone, gdpr.EraseOptions{}); err != nil {
			t.Fatal(err)
		}
		all, _ := e.svc.List(e.ctx, store.CaseFilter{})
		if len(all) != 1 || all[0].ID != b.ID {
			t.Fatalf("cases after erasure: %+v", all)
		}
		if h, _ := e.st.(store.CaseStore).CaseHistory(e.ctx, a.ID); len(h) != 0 {
			t.Errorf("history left: %+v", h)
		}
		if s, _ := e.svc.Suggestions(e.ctx, a.ID); len(s) != 0 {
			t.Errorf("suggestions left: %+v", s)
		}
	})
}
