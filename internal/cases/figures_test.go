package cases_test

import (
	"math"
	"testing"

	"github.com/kunding/kunding/internal/cases"
)

func TestFigures(t *testing.T) {
	// Monday 2 March 2026 09:00.
	eachEnv(t, at(2026, 3, 2, 9, 0), func(t *testing.T, e *env) {
		cust := e.customer("C-1")
		e.customer("C-2")
		e.customer("C-3")
		e.customer("C-4") // 4 customers
		mk := func(dept string) cases.Case {
			return e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Subject: "x", Department: dept, Theme: dept})
		}
		// a: solved at first contact after 2 business hours.
		a := mk("Service")
		// b: waited, solved late (normal: 40 h).
		b := mk("Service")
		// c: handed to Logistik, solved, reopened, still open.
		c := mk("Service")
		// d: Logistik, open, untouched.
		d := mk("Logistik")
		e.clock.Set(at(2026, 3, 2, 11, 0))
		if _, err := e.svc.Transition(e.ctx, a.ID, cases.Move{Version: a.Version, Status: "solved", Resolution: "done"}); err != nil {
			t.Fatal(err)
		}
		b, _ = e.svc.Transition(e.ctx, b.ID, cases.Move{Version: b.Version, Status: "waiting_department"})
		c, _ = e.svc.Assign(e.ctx, c.ID, c.Version, "Logistik", "", "")
		// Monday 9 March 12:00: b is 53 business hours old (Mon 9, Tue-Fri
		// 40, Mon 4): late.
		e.clock.Set(at(2026, 3, 9, 12, 0))
		if _, err := e.svc.Transition(e.ctx, b.ID, cases.Move{Version: b.Version, Status: "solved", Resolution: "done"}); err != nil {
			t.Fatal(err)
		}
		c, _ = e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "solved", Resolution: "done"})
		if _, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "open"}); err != nil {
			t.Fatal(err)
		}
		_ = d
		f, err := e.svc.Figures(e.ctx, cases.FigureQuery{From: at(2026, 3, 1, 0, 0), To: at(2026, 3, 15, 0, 0), Interval: "week"})
		if err != nil {
			t.Fatal(err)
		}
		tot := f.Total
		if tot.Cases != 4 || tot.Solved != 2 || tot.Open != 2 || tot.Responded != 3 || f.Customers != 4 {
			t.Fatalf("total %+v", tot)
		}
		// First responses: a 2 h, b 53 h, c 53 h (its solve); mean 36, median 53.
		if math.Abs(tot.FirstResponseHoursAvg-36) > 1e-9 || tot.FirstResponseHoursMed != 53 {
			t.Errorf("first response avg %v median %v", tot.FirstResponseHoursAvg, tot.FirstResponseHoursMed)
		}
		if tot.SolvedWithinTarget != 1 || tot.WithinTargetShare != 0.5 {
			t.Errorf("within target %d %v", tot.SolvedWithinTarget, tot.WithinTargetShare)
		}
		if tot.FirstContactResolved != 1 || tot.FirstContactShare != 0.5 {
			t.Errorf("FCR %d %v", tot.FirstContactResolved, tot.FirstContactShare)
		}
		// Reopened 1 of the 3 cases that were ever finished.
		if tot.Reopened != 1 || math.Abs(tot.ReopenRate-1.0/3) > 1e-9 {
			t.Errorf("reopen %d %v", tot.Reopened, tot.ReopenRate)
		}
		if tot.CasesPer1000Customers != 1000 {
			t.Errorf("per 1000: %v", tot.CasesPer1000Customers)
		}
		// Departments in alphabetical order.
		if len(f.Departments) != 2 || f.Departments[0].Department != "Logistik" || f.Departments[1].Department != "Service" ||
			f.Departments[0].Cases != 2 || f.Departments[1].Cases != 2 {
			t.Errorf("departments %+v", f.Departments)
		}
		// Weeks from Monday 23 Feb (the week of 1 March) to the week of 9 March.
		if len(f.Series) != 3 || f.Series[1].Cases != 4 || f.Series[0].Cases != 0 || !f.Series[1].Start.Equal(at(2026, 3, 2, 0, 0)) {
			t.Errorf("series %+v", f.Series)
		}
		if len(f.Backlog) != 1 || f.Backlog[0].Department != "Logistik" || f.Backlog[0].Open != 2 || f.Backlog[0].ByAge["7-30d"] != 2 || f.Backlog[0].Overdue != 1 {
			t.Errorf("backlog %+v", f.Backlog)
		}
		if _, err := e.svc.Figures(e.ctx, cases.FigureQuery{From: at(2026, 3, 2, 0, 0), To: at(2026, 3, 1, 0, 0)}); err == nil {
			t.Error("from after to accepted")
		}
	})
}
