package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCampaignsBrowser: in a real Chromium, an analyst of Marketing
// registers a campaign for the gold customers, checks it and sends it; the
// calendar shows it; an agent opens a recipient and sees "received
// campaign X" with its message at the top and on the timeline.
func TestCampaignsBrowser(t *testing.T) {
	bctx := browserContext(t)
	a := startApp(t, "")
	ids := a.goldCustomers()
	start := time.Now()

	login := func(t *testing.T, email string) {
		t.Helper()
		do(t, bctx, "login page", chromedp.Navigate(a.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), password))
		if _, err := chromedp.RunResponse(bctx, chromedp.SendKeys(chromedp.ID("password"), "\r")); err != nil {
			t.Fatalf("log in %s: %v", email, err)
		}
	}
	var id string

	t.Run("register and send a campaign for a target group", func(t *testing.T) {
		login(t, "analyst@kunding.test")
		do(t, bctx, "calendar", chromedp.Navigate(a.URL+"/campaigns"), chromedp.WaitVisible(chromedp.ID("no-campaigns")))
		click(t, bctx, "#new-campaign")
		do(t, bctx, "fill the form", chromedp.WaitVisible(chromedp.ID("c-name")),
			chromedp.SendKeys(chromedp.ID("c-name"), "Goldwochenende"),
			chromedp.SetValue(chromedp.ID("c-channel"), "email"),
			chromedp.SetValue(chromedp.ID("c-type"), "service"),
			chromedp.SendKeys(chromedp.ID("c-subject"), "Ihr Goldwochenende"),
			chromedp.SendKeys(chromedp.ID("c-message"), "Doppelte Punkte für Goldkunden an diesem Wochenende."),
			chromedp.SetValue(chromedp.ID("c-field0"), "trait"),
			chromedp.SendKeys(chromedp.ID("c-arg0"), "plan"),
			chromedp.SetValue(chromedp.ID("c-op0"), "eq"),
			chromedp.SendKeys(chromedp.ID("c-value0"), "gold"))
		screenshot(t, bctx, "campaign-new")
		click(t, bctx, "#c-submit")
		do(t, bctx, "campaign page", chromedp.WaitVisible(chromedp.ID("campaign-status")))
		path := eval[string](t, bctx, "location.pathname")
		if !strings.HasPrefix(path, "/campaigns/cmp_") {
			t.Fatalf("after create at %s", path)
		}
		id = strings.TrimPrefix(path, "/campaigns/")
		if got := text(t, bctx, "#campaign-audience"); !strings.Contains(got, "plan is gold") {
			t.Fatalf("audience %q", got)
		}
		click(t, bctx, "#preview-button")
		do(t, bctx, "preview", chromedp.WaitVisible(chromedp.ID("preview-report")))
		if got := text(t, bctx, "#preview-report .r-matched"); got != "2" {
			t.Fatalf("preview matched %q", got)
		}
		click(t, bctx, "#send-button")
		do(t, bctx, "sending", chromedp.WaitVisible(chromedp.ID("campaign-msg")))
		a.waitSent(id)
		do(t, bctx, "reload", chromedp.Navigate(a.URL+path), chromedp.WaitVisible(chromedp.ID("delivery-report")))
		if got := text(t, bctx, "#delivery-report .r-delivered"); got != "2" {
			t.Fatalf("delivered %q", got)
		}
		screenshot(t, bctx, "campaign-sent")
		do(t, bctx, "calendar", chromedp.Navigate(a.URL+"/campaigns"), chromedp.WaitVisible(chromedp.ID("cal-"+id)))
		if n := eval[int](t, bctx, `document.querySelectorAll("#cal-`+id+` svg rect").length`); n != 1 {
			t.Fatalf("calendar bar: %d rects", n)
		}
		screenshot(t, bctx, "campaign-calendar")
		click(t, bctx, `form.logout button`)
	})

	t.Run("agent sees it on the recipient's timeline", func(t *testing.T) {
		if id == "" {
			t.Skip("no campaign")
		}
		login(t, "agent@kunding.test")
		do(t, bctx, "customer page", chromedp.Navigate(a.URL+"/customers/"+ids["G-1"]), chromedp.WaitVisible(chromedp.CSS("ol.timeline li.ev")))
		recent := text(t, bctx, "section.recent")
		if !strings.Contains(recent, "Goldwochenende") {
			t.Fatalf("recent touches %q", recent)
		}
		first := text(t, bctx, "ol.timeline li.ev:first-child")
		for _, want := range []string{"Campaign Delivered", "Goldwochenende", "Doppelte Punkte für Goldkunden", "Kunding campaigns", "MAILING"} {
			if !strings.Contains(first, want) {
				t.Fatalf("first timeline entry lacks %q: %q", want, first)
			}
		}
		screenshot(t, bctx, "campaign-on-timeline")
	})
	if d := time.Since(start); d > 45*time.Second {
		t.Errorf("the campaign browser test took %s", d)
	}
}
