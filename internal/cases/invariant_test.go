package cases_test

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/store"
)

// checkCase is the invariant: a case that is not finished has an owner
// department and deadlines; a finished one says how it ended.
func checkCase(t *testing.T, c *cases.Case) {
	t.Helper()
	if !cases.Finished(c.Status) {
		if c.Department == "" || c.ResolutionDue.IsZero() || c.FirstResponseAt.IsZero() && c.FirstResponseDue.IsZero() {
			t.Fatalf("unfinished case without department or deadline: %+v", c)
		}
		if c.Status == cases.StatusWaitingCustomer && c.WaitingSince.IsZero() {
			t.Fatalf("waiting case without start of the pause: %+v", c)
		}
		return
	}
	switch {
	case c.Status == cases.StatusSolved && c.Resolution == "",
		c.Status == cases.StatusRejected && c.RejectReason == "",
		c.Status == cases.StatusMerged && c.MergedInto == "",
		c.ClosedAt.IsZero():
		t.Fatalf("finished case without its reason: %+v", c)
	}
}

// TestInvariantUnderRandomLoad creates thousands of cases and changes them
// at random (status changes, reassignments, merges, priority changes,
// notes, stale and forbidden changes, time passing, escalation runs): at
// every moment every unfinished case has an owner department and a
// deadline, the stored status is the one the test expects, and no case
// disappears.
func TestInvariantUnderRandomLoad(t *testing.T) {
	nCases, nOps := 2000, 3000
	if testing.Short() {
		nCases, nOps = 300, 600
	}
	eachEnv(t, at(2026, 3, 2, 8, 0), func(t *testing.T, e *env) {
		rng := rand.New(rand.NewSource(7))
		var custs []string
		for i := 0; i < 20; i++ {
			custs = append(custs, e.customer(fmt.Sprintf("C-%d", i)))
		}
		e.setConfig(cases.ConfigRouting, cases.RoutingConfig{DefaultDepartment: "Service", Rules: []cases.Rule{
			{ID: "d", When: cases.Condition{Themes: []string{"delivery"}}, Then: cases.Action{Department: "Logistik"}},
			{ID: "u", When: cases.Condition{Priorities: []string{"urgent"}}, Then: cases.Action{Department: "Eskalation"}},
		}})
		types, prios := cases.Types, cases.Priorities
		themes := []string{"delivery", "price", "staff", "billing", ""}
		depts := []string{"Service", "Logistik", "Vertrieb", "Produkt"}
		status := map[string]string{}
		var ids []string
		create := func() {
			n := cases.NewCase{Type: types[rng.Intn(len(types))], Priority: prios[rng.Intn(len(prios))], Theme: themes[rng.Intn(len(themes))],
				Subject: fmt.Sprintf("case %d", len(ids)), Channel: "phone", Language: "de", Sentiment: "neutral"}
			if rng.Intn(10) == 0 {
				n.Priority = ""
			}
			if rng.Intn(4) == 0 {
				n.CustomerID = custs[rng.Intn(len(custs))]
			} else {
				n.Contact = fmt.Sprintf("contact %d", rng.Intn(500))
			}
			c := e.create(n)
			checkCase(t, &c)
			ids = append(ids, c.ID)
			status[c.ID] = c.Status
		}
		for i := 0; i < nCases; i++ {
			create()
			if i%50 == 0 {
				e.clock.Advance(time.Duration(rng.Intn(120)) * time.Minute)
			}
		}
		fullCheck := func() {
			all, err := e.svc.List(e.ctx, store.CaseFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != len(ids) {
				t.Fatalf("%d cases stored, %d created", len(all), len(ids))
			}
			for i := range all {
				checkCase(t, &all[i])
				if want, ok := status[all[i].ID]; !ok || all[i].Status != want {
					t.Fatalf("case %s: status %s, want %s", all[i].ID, all[i].Status, want)
				}
			}
			open, _ := e.svc.Count(e.ctx, store.CaseFilter{Open: true})
			wantOpen := 0
			for _, s := range status {
				if !cases.Finished(s) {
					wantOpen++
				}
			}
			if open != wantOpen {
				t.Fatalf("%d open, want %d", open, wantOpen)
			}
		}
		fullCheck()
		refused := 0
		for op := 0; op < nOps; op++ {
			id := ids[rng.Intn(len(ids))]
			c := e.get(id)
			var err error
			var got cases.Case
			expect := c.Status
			switch k := rng.Intn(100); {
			case k < 45: // a status change the machine allows
				allowed := cases.Allowed(c.Status)
				if len(allowed) == 0 {
					continue
				}
				m := cases.Move{Version: c.Version, Status: allowed[rng.Intn(len(allowed))], Note: "n"}
				switch m.Status {
				case cases.StatusSolved:
					m.Resolution = "fixed"
				case cases.StatusRejected:
					m.Reason = "not our fault"
				case cases.StatusMerged:
					m.MergeInto = ids[rng.Intn(len(ids))]
					if m.MergeInto == c.ID || status[m.MergeInto] == cases.StatusMerged {
						continue
					}
				}
				got, err = e.svc.Transition(e.ctx, id, m)
				expect = m.Status
			case k < 55: // a forbidden or incomplete change: refused, nothing changes
				m := cases.Move{Version: c.Version, Status: cases.Statuses[rng.Intn(len(cases.Statuses))]}
				if cases.CanMove(c.Status, m.Status) && m.Status != cases.StatusSolved && m.Status != cases.StatusRejected && m.Status != cases.StatusMerged {
					m.Version++ // stale instead
				}
				if _, err := e.svc.Transition(e.ctx, id, m); err == nil {
					t.Fatalf("change %+v of %s accepted", m, c.Status)
				}
				refused++
				if got = e.get(id); got.Version != c.Version {
					t.Fatalf("refused change of %s changed the version", id)
				}
			case k < 70:
				got, err = e.svc.Assign(e.ctx, id, c.Version, depts[rng.Intn(len(depts))], "", "load")
				if errors.Is(err, cases.ErrTransition) && c.Status == cases.StatusMerged {
					err = nil
					got = c
				}
			case k < 80:
				p := prios[rng.Intn(len(prios))]
				got, err = e.svc.Update(e.ctx, id, c.Version, cases.Patch{Priority: &p}, "load")
				if errors.Is(err, cases.ErrTransition) && c.Status == cases.StatusMerged {
					err = nil
					got = c
				}
			case k < 88:
				_, err = e.svc.AddNote(e.ctx, id, "note", rng.Intn(2) == 0)
				got = e.get(id)
			case k < 93:
				e.clock.Advance(time.Duration(rng.Intn(600)) * time.Minute)
				got = c
			case k < 94:
				if _, err := e.svc.Tick(e.ctx); err != nil {
					t.Fatal(err)
				}
				got = e.get(id)
			default:
				create()
				continue
			}
			if err != nil {
				t.Fatalf("op %d on %s (%s): %v", op, id, c.Status, err)
			}
			status[id] = expect
			checkCase(t, &got)
			if got.Status != expect {
				t.Fatalf("op %d: status %s, want %s", op, got.Status, expect)
			}
			if op%1000 == 999 {
				fullCheck()
			}
		}
		fullCheck()
		if refused == 0 {
			t.Error("no forbidden change was tried")
		}
		// The history of every case starts with its creation.
		for _, id := range ids[:50] {
			h := e.history(id)
			if len(h) < 3 || h[0].Action != "created" {
				t.Fatalf("history of %s: %v", id, actions(h))
			}
		}
	})
}
