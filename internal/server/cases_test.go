package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
)

// TestComplaintEventBecomesCaseAndEscalates: a complaint sent through the
// collection API becomes a case within seconds (the case rules follow the
// pipeline on the node holding the cases lease); when the controllable
// clock passes the deadlines, the escalation job escalates it to the lead
// and then the CCO; the case shows on the customer's timeline.
func TestComplaintEventBecomesCaseAndEscalates(t *testing.T) {
	for name, db := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			// Monday 16 March 2026 09:00 Berlin.
			clock := cases.NewManualClock(time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC))
			srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: db(t),
				CaseClock: clock, CaseEscalateEvery: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown(context.Background())
			src, err := source.Create(ctx, srv.Store, "Shop", "shop")
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("POST", "http://"+srv.Addr+"/v1/track", strings.NewReader(
				`{"userId":"C-1","event":"Complaint Submitted","properties":{"subject":"Broken lid","priority":"urgent"}}`))
			req.SetBasicAuth(src.WriteKey, "")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("track: %v %v", err, resp)
			}
			resp.Body.Close()
			var c cases.Case
			waitFor(t, "the case", func() bool {
				list, err := srv.Cases.List(ctx, store.CaseFilter{})
				if err != nil || len(list) == 0 {
					return false
				}
				c = list[0]
				return true
			})
			if c.Subject != "Broken lid" || c.Priority != "urgent" || c.Origin != cases.OriginComplaintEvent {
				t.Fatalf("case %+v", c)
			}
			// urgent: resolution within 8 business hours (Monday 17:00); the
			// CCO 8 business hours later (Tuesday 15:00).
			clock.Set(time.Date(2026, 3, 17, 15, 0, 0, 0, time.UTC))
			waitFor(t, "escalation to the CCO", func() bool {
				got, err := srv.Cases.Get(ctx, c.ID)
				return err == nil && got.EscalationLevel == cases.LevelCCO
			})
			h, _ := srv.Cases.History(ctx, c.ID)
			var levels []string
			for _, x := range h {
				if x.Action == "escalated" {
					levels = append(levels, x.After["escalationLevel"])
				}
			}
			if strings.Join(levels, ",") != "1,2" {
				t.Errorf("escalations %v", levels)
			}
			waitFor(t, "case events on the timeline", func() bool {
				tl, err := srv.Store.Timeline(ctx, c.CustomerID, store.TimelineCursor{}, 10)
				if err != nil {
					return false
				}
				n := 0
				for _, e := range tl {
					if e.Name == "Case Opened" || e.Name == "Case Escalated" {
						n++
					}
				}
				return n == 3
			})
		})
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 15 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
