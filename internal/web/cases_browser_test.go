package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCasesBrowser is the walk in a real headless Chromium: an
// agent creates a case from the customer page, a lead reassigns it (in
// place, without a page reload), time passes on the case clock, the case
// escalates to the CCO, the CCO sees it on the overview, and the agent
// solves it with a resolution note.
func TestCasesBrowser(t *testing.T) {
	bctx := browserContext(t)
	a := startCaseApp(t, "")
	cust := a.customer("C-5005", "Emil Engel")
	start := time.Now()

	login := func(t *testing.T, email string) {
		t.Helper()
		do(t, bctx, "login page", chromedp.Navigate(a.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), password))
		if _, err := chromedp.RunResponse(bctx, chromedp.SendKeys(chromedp.ID("password"), "\r")); err != nil {
			t.Fatalf("log in %s: %v", email, err)
		}
	}
	logout := func(t *testing.T) {
		t.Helper()
		click(t, bctx, `form.logout button`)
	}
	var id string

	t.Run("agent creates a case on the customer page", func(t *testing.T) {
		login(t, "agent@kunding.test")
		do(t, bctx, "customer page", chromedp.Navigate(a.URL+"/customers/"+cust), chromedp.WaitVisible(chromedp.ID("no-customer-cases")))
		do(t, bctx, "open the form", chromedp.Click(chromedp.CSS("#new-case summary")), chromedp.WaitVisible(chromedp.ID("nc-subject")),
			chromedp.SendKeys(chromedp.ID("nc-subject"), "Rücksendung nicht erstattet"),
			chromedp.SendKeys(chromedp.ID("nc-desc"), "Paket am 20.2. zurückgeschickt, noch kein Geld."))
		screenshot(t, bctx, "case-create")
		click(t, bctx, `#create-case button[type="submit"]`)
		do(t, bctx, "case page", chromedp.WaitVisible(chromedp.ID("case-history")))
		path := eval[string](t, bctx, "location.pathname")
		if !strings.HasPrefix(path, "/cases/case_") {
			t.Fatalf("after create at %s", path)
		}
		id = strings.TrimPrefix(path, "/cases/")
		if got := text(t, bctx, "#case-department"); got != "Service" {
			t.Fatalf("department %q", got)
		}
		if got := text(t, bctx, "#case-deadlines"); !strings.Contains(got, "8 h 00 min left") {
			t.Fatalf("deadlines %q", got)
		}
		if got := text(t, bctx, "#case-history"); !strings.Contains(got, "default queue") {
			t.Fatalf("the routing decision is not explained: %q", got)
		}
		screenshot(t, bctx, "case-created")
		logout(t)
	})
	if id == "" {
		t.Fatal("no case")
	}

	t.Run("lead reassigns it", func(t *testing.T) {
		login(t, "lead@kunding.test")
		do(t, bctx, "board", chromedp.Navigate(a.URL+"/cases"), chromedp.WaitVisible(chromedp.CSS("#row-"+id)))
		if n := eval[float64](t, bctx, `document.querySelectorAll("#bulk input, #bulk select").length`); n == 0 {
			t.Fatal("the lead sees no bulk actions")
		}
		click(t, bctx, "#row-"+id+" a")
		do(t, bctx, "case page", chromedp.WaitVisible(chromedp.ID("assign-form")))
		// A marker on window survives an htmx swap but not a page load.
		do(t, bctx, "mark the page", chromedp.Evaluate[chromedp.Void]("window.kundingMarker = 42"),
			chromedp.SetValue(chromedp.ID("assign-owner"), a.Users["agent"].ID),
			chromedp.SendKeys(chromedp.ID("assign-reason"), "Aaron betreut Herrn Engel"),
			chromedp.Click(chromedp.CSS(`#assign-form button[type="submit"]`)))
		do(t, bctx, "reassigned", chromedp.WaitVisible(chromedp.ID("case-msg")))
		if got := text(t, bctx, "#case-owner"); got != "Aaron Agent" {
			t.Fatalf("owner %q", got)
		}
		if m := eval[float64](t, bctx, "window.kundingMarker || 0"); m != 42 {
			t.Fatal("the assignment reloaded the page instead of swapping the case in place")
		}
		if got := text(t, bctx, "#case-history li:first-child"); !strings.Contains(got, "Reassigned") || !strings.Contains(got, "Aaron betreut Herrn Engel") {
			t.Fatalf("history %q", got)
		}
		screenshot(t, bctx, "case-reassigned")
		logout(t)
	})

	t.Run("time passes and the case escalates to the CCO", func(t *testing.T) {
		a.Clock.Advance(14 * 24 * time.Hour)
		res, err := a.Srv.Cases.Tick(ctx)
		if err != nil || res.ToLead != 1 || res.ToCCO != 1 {
			t.Fatalf("escalation job: %+v %v", res, err)
		}
		login(t, "cco@kunding.test")
		do(t, bctx, "overview", chromedp.Navigate(a.URL+"/cases/overview"), chromedp.WaitVisible(chromedp.ID("esc-"+id)))
		if got := text(t, bctx, "#esc-"+id); !strings.Contains(got, "CCO") || !strings.Contains(got, "Rücksendung nicht erstattet") {
			t.Fatalf("overview row %q", got)
		}
		if got := text(t, bctx, "#overview-table tbody"); !strings.Contains(got, "Service") {
			t.Fatalf("overview table %q", got)
		}
		screenshot(t, bctx, "case-overview-cco")
		// The figures page draws its charts.
		do(t, bctx, "figures", chromedp.Navigate(a.URL+"/cases/figures?from=2026-03-01&to=2026-03-31"),
			chromedp.WaitReady(chromedp.CSS(`canvas#series-chart[data-rendered="true"]`)),
			chromedp.WaitReady(chromedp.CSS(`canvas#backlog-chart[data-rendered="true"]`)))
		if n := eval[float64](t, bctx, `Chart.getChart("backlog-chart").data.datasets.reduce((s, d) => s + d.data.reduce((a, b) => a + b, 0), 0)`); n != 1 {
			t.Fatalf("the backlog chart shows %v open cases, want 1", n)
		}
		screenshot(t, bctx, "case-figures")
		do(t, bctx, "back to the overview", chromedp.Navigate(a.URL+"/cases/overview"), chromedp.WaitVisible(chromedp.ID("esc-"+id)))
		click(t, bctx, "#esc-"+id+" a")
		do(t, bctx, "case page", chromedp.WaitVisible(chromedp.ID("case-level")))
		if got := text(t, bctx, "#case-history"); !strings.Contains(got, "lead of Service") || !strings.Contains(got, "cco") {
			t.Fatalf("escalations in the history: %q", got)
		}
		logout(t)
	})

	t.Run("agent solves it with a note", func(t *testing.T) {
		login(t, "agent@kunding.test")
		do(t, bctx, "case page", chromedp.Navigate(a.URL+"/cases/"+id), chromedp.WaitVisible(chromedp.ID("move-form")))
		if vis := eval[bool](t, bctx, `!document.getElementById("move-resolution").closest(".when").hidden`); vis {
			t.Fatal("the resolution field shows before 'solved' is chosen")
		}
		do(t, bctx, "choose solved", chromedp.SetValue(chromedp.ID("move-status"), "solved"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("move-status").dispatchEvent(new Event("change"))`),
			chromedp.WaitVisible(chromedp.ID("move-resolution")))
		if req := eval[bool](t, bctx, `document.getElementById("move-resolution").required`); !req {
			t.Fatal("the resolution note is not required for solving")
		}
		do(t, bctx, "resolution", chromedp.SendKeys(chromedp.ID("move-resolution"), "Erstattung angewiesen, Entschuldigung per E-Mail"),
			chromedp.Click(chromedp.CSS(`#move-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#case-status[data-status="solved"]`)))
		if got := text(t, bctx, "#case-resolution"); got != "Erstattung angewiesen, Entschuldigung per E-Mail" {
			t.Fatalf("resolution %q", got)
		}
		screenshot(t, bctx, "case-solved")
		do(t, bctx, "customer page", chromedp.Navigate(a.URL+"/customers/"+cust), chromedp.WaitVisible(chromedp.ID("no-customer-cases")))
	})
	t.Logf("case walk took %v", time.Since(start).Round(time.Millisecond))
}
