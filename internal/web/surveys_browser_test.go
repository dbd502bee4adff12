package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/survey"
)

// TestBrowserHostedSurvey answers an NPS survey on a phone-sized screen in
// a real headless Chromium: the page has no script, every score is a tap
// target of at least 44×44 CSS pixels with a label, and the answer is
// stored.
func TestBrowserHostedSurvey(t *testing.T) {
	bctx := browserContext(t)
	a := startApp(t, "")
	svc := &survey.Service{Store: a.Srv.Store}
	v, err := svc.Create(ctx, survey.Input{Name: ptrS("Phone"), Type: ptrS("nps"), QuestionDE: ptrS("Wie wahrscheinlich empfehlen Sie uns?"),
		QuestionEN: ptrS("How likely are you to recommend us?"), CommentDE: ptrS("Warum?"), CommentEN: ptrS("Why?")}, "test")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.AnonymousLink(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	do(t, bctx, "open on a phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(a.URL+survey.HostedPath(tok)+"?lang=de"),
		chromedp.WaitVisible(chromedp.ID("survey-form")))
	if n := eval[int](t, bctx, `document.scripts.length`); n != 0 {
		t.Errorf("%d scripts on the hosted page", n)
	}
	if n := eval[int](t, bctx, `document.querySelectorAll("label.scale-option input[type=radio][name=score]").length`); n != 11 {
		t.Fatalf("%d labelled scores, want 11", n)
	}
	small := eval[int](t, bctx, `[...document.querySelectorAll("label.scale-option")].filter(l => { const r = l.getBoundingClientRect(); return r.width < 44 || r.height < 44 }).length`)
	if small != 0 {
		t.Errorf("%d score targets smaller than 44×44 px", small)
	}
	if w := eval[int](t, bctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("page is %d px wide on a 390 px screen", w)
	}
	click9 := `document.querySelector("input[name=score][value='9']").closest("label").click(); document.querySelector("input[name=score][value='9']").checked`
	if !eval[bool](t, bctx, click9) {
		t.Fatal("tapping the label of 9 did not choose it")
	}
	do(t, bctx, "comment", chromedp.SendKeys(chromedp.ID("comment"), "Sehr freundlicher Service"))
	screenshot(t, bctx, "survey-phone")
	click(t, bctx, "button.hosted-submit")
	if got := text(t, bctx, "#survey-result"); !strings.Contains(got, "Vielen Dank") {
		t.Fatalf("after sending: %q", got)
	}
	rs, err := a.Srv.Store.(store.SurveyStore).SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID})
	if err != nil || len(rs) != 1 || *rs[0].Score != 9 || rs[0].Comment != "Sehr freundlicher Service" || rs[0].Language == "" {
		t.Fatalf("stored %+v %v", rs, err)
	}
}

func ptrS(s string) *string { return &s }
