package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/survey"
)

var (
	surveyIDRE = regexp.MustCompile(`^/surveys/(sv_[0-9a-f]+)$`)
	hostedRE   = regexp.MustCompile(`id="(?:anonymous|personal)-link" href="http://[^/"]+(/s/[A-Za-z0-9_\-.]+)"`)
)

// createSurvey fills in the web form and returns the new survey's page path.
func createSurvey(t *testing.T, c *client, typ, qde, qen string) string {
	t.Helper()
	p := c.get("/surveys")
	p = c.post("/surveys", url.Values{"csrf_token": {c.csrf(p)}, "name": {"Lieferung " + typ}, "type": {typ}, "questionDe": {qde},
		"questionEn": {qen}, "commentDe": {"Was war der wichtigste Grund?"}, "commentEn": {"What is the main reason?"}, "department": {"Service"}, "touchpoint": {"delivery"}})
	if p.Code != http.StatusSeeOther || !surveyIDRE.MatchString(p.Location) {
		t.Fatalf("create survey %s: %d %s\n%s", typ, p.Code, p.Location, p.Body)
	}
	return p.Location
}

func hostedLink(t *testing.T, p page, which string) string {
	t.Helper()
	for _, m := range hostedRE.FindAllStringSubmatch(p.Body, -1) {
		if strings.Contains(m[0], which+"-link") {
			return m[1]
		}
	}
	t.Fatalf("no %s link on the page:\n%s", which, p.Body)
	return ""
}

// TestHostedSurveys answers every type of survey through the hosted page
// with plain form posts (no JavaScript, no login), in German and English,
// and walks the refusals: missing and forged values, a forged, tampered
// or expired token, a second answer to a personal link.
func TestHostedSurveys(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		annaID := a.anna(0)
		admin := a.client("en")
		admin.login("admin@kunding.test")

		// The management page refuses analysts nothing but writing.
		analyst := a.client("en")
		analyst.login("analyst@kunding.test")
		if p := analyst.get("/surveys"); p.Code != 200 || strings.Contains(p.Body, `id="create-survey"`) {
			t.Fatalf("analyst /surveys: %d", p.Code)
		}
		if p := analyst.post("/surveys", url.Values{"csrf_token": {analyst.csrf(analyst.get("/surveys"))}, "name": {"x"}}); p.Code != http.StatusForbidden {
			t.Fatalf("analyst creates a survey: %d", p.Code)
		}
		// A refused form keeps what was typed and says why.
		p := admin.get("/surveys")
		p = admin.post("/surveys", url.Values{"csrf_token": {admin.csrf(p)}, "name": {"Kept name"}, "type": {"nps"}, "questionDe": {""}, "questionEn": {"Q"}})
		if p.Code != http.StatusUnprocessableEntity {
			t.Fatalf("invalid survey: %d", p.Code)
		}
		mustContain(t, p, `id="create-error"`, `value="Kept name"`)

		npsPage := createSurvey(t, admin, "nps", "Wie wahrscheinlich empfehlen Sie uns weiter?", "How likely are you to recommend us?")
		// A personal link for Anna, made on the survey page.
		p = admin.get(npsPage)
		p = admin.post(npsPage+"/links", url.Values{"csrf_token": {admin.csrf(p)}, "customer": {"anna@example.de"}, "trigger": {"order-A-3"}, "touchpoint": {"parcel"}})
		if p.Code != 200 {
			t.Fatalf("personal link: %d\n%s", p.Code, p.Body)
		}
		personal := hostedLink(t, p, "personal")

		// The respondent: a phone browser without cookies of Kunding.
		anon := a.client("de-DE,de;q=0.9")
		p = anon.get(personal)
		if p.Code != 200 {
			t.Fatalf("hosted page: %d\n%s", p.Code, p.Body)
		}
		mustContain(t, p, `lang="de"`, "Wie wahrscheinlich empfehlen Sie uns weiter?", `<legend`, `type="radio" name="score" value="0"`,
			`value="10"`, `name="viewport"`, "Was war der wichtigste Grund?", `<label for="comment"`, "Antwort senden")
		mustNotContain(t, p, "<script")
		if p.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("Referrer-Policy %q", p.Header.Get("Referrer-Policy"))
		}
		// ?lang= switches to English.
		mustContain(t, anon.get(personal+"?lang=en"), "How likely are you to recommend us?", "Send answer", `lang="en"`)

		// No score: the form again, with the comment kept and the error said.
		p = anon.post(personal, url.Values{"lang": {"de"}, "comment": {"Der Fahrer war sehr freundlich"}})
		if p.Code != http.StatusUnprocessableEntity {
			t.Fatalf("no score: %d", p.Code)
		}
		mustContain(t, p, "Bitte wählen Sie einen Wert.", "Der Fahrer war sehr freundlich", `role="alert"`)
		for _, bad := range []string{"11", "-1", "abc", "7.5"} {
			if p := anon.post(personal, url.Values{"score": {bad}}); p.Code != http.StatusUnprocessableEntity {
				t.Fatalf("score %s: %d", bad, p.Code)
			}
		}
		if p := anon.post(personal, url.Values{"score": {"9"}, "comment": {strings.Repeat("x", survey.MaxComment+1)}}); p.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(p.Body, "5.000") {
			t.Fatalf("long comment: %d", p.Code)
		}
		ss := a.Srv.Store.(store.SurveyStore)
		surveyID := surveyIDRE.FindStringSubmatch(npsPage)[1]
		if rs, _ := ss.SurveyResponses(ctx, store.ResponseFilter{SurveyID: surveyID}); len(rs) != 0 {
			t.Fatalf("refused answers stored: %+v", rs)
		}
		// The answer, then a second one: refused, the first kept.
		p = anon.post(personal, url.Values{"lang": {"de"}, "score": {"4"}, "comment": {"Die Lieferung war schlecht und kam zu spät."}})
		if p.Code != 200 {
			t.Fatalf("answer: %d\n%s", p.Code, p.Body)
		}
		mustContain(t, p, "Vielen Dank! Ihre Antwort wurde gespeichert.")
		p = anon.post(personal, url.Values{"lang": {"de"}, "score": {"10"}})
		if p.Code != http.StatusConflict {
			t.Fatalf("second answer: %d", p.Code)
		}
		mustContain(t, p, "bereits beantwortet")
		if p := anon.get(personal + "?lang=en"); p.Code != http.StatusConflict || !strings.Contains(p.Body, "already been answered") {
			t.Fatalf("answered link: %d", p.Code)
		}
		rs, _ := ss.SurveyResponses(ctx, store.ResponseFilter{SurveyID: surveyID})
		if len(rs) != 1 || *rs[0].Score != 4 || rs[0].CustomerID != annaID || rs[0].TriggerMessageID != "order-A-3" || rs[0].Touchpoint != "parcel" {
			t.Fatalf("responses %+v", rs)
		}

		// Forged, tampered and expired tokens: an error page, nothing stored.
		tok := strings.TrimPrefix(personal, "/s/")
		payload, sig, _ := strings.Cut(tok, ".")
		for _, bad := range []string{"/s/garbage", "/s/" + payload + ".AAAAAAAAAAAAAAAAAAAAAA", "/s/" + payload[:len(payload)-3] + "xyz." + sig} {
			if p := anon.get(bad); p.Code != http.StatusBadRequest || !strings.Contains(p.Body, "beschädigt") {
				t.Fatalf("GET %s: %d", bad, p.Code)
			}
			if p := anon.post(bad, url.Values{"score": {"10"}}); p.Code != http.StatusBadRequest {
				t.Fatalf("POST %s: %d", bad, p.Code)
			}
		}
		old := &survey.Service{Store: a.Srv.Store, Now: func() time.Time { return time.Now().AddDate(0, 0, -40) }}
		v, _ := ss.SurveyByID(ctx, surveyID)
		_, expired, err := old.PersonalLink(ctx, v, survey.LinkRequest{Customer: survey.Customer{CustomerID: annaID}, Trigger: "order-old"})
		if err != nil {
			t.Fatal(err)
		}
		if p := anon.post(survey.HostedPath(expired), url.Values{"score": {"10"}}); p.Code != http.StatusForbidden || !strings.Contains(p.Body, "abgelaufen") {
			t.Fatalf("expired: %d", p.Code)
		}
		if rs, _ := ss.SurveyResponses(ctx, store.ResponseFilter{SurveyID: surveyID}); len(rs) != 1 {
			t.Fatalf("after forged tokens: %d responses", len(rs))
		}
		// A cross-origin post (another site's form) is refused.
		req, _ := http.NewRequest("POST", a.URL+personal, strings.NewReader("score=10"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site post: %v %v", resp.StatusCode, err)
		}

		// Every other type through its anonymous link, in English.
		en := a.client("en-GB,en;q=0.8")
		for _, c := range []struct{ typ, score, comment, want string }{
			{"csat", "5", "Great service, thank you", "very satisfied"},
			{"ces", "6", "", "very easy"},
			{"free", "", "Please offer gift wrapping", "How did we do?"},
		} {
			pg := createSurvey(t, admin, c.typ, "Wie war es?", "How did we do?")
			link := hostedLink(t, admin.get(pg), "anonymous")
			p := en.get(link)
			if p.Code != 200 {
				t.Fatalf("%s page: %d", c.typ, p.Code)
			}
			mustContain(t, p, c.want)
			form := url.Values{"comment": {c.comment}}
			if c.score != "" {
				form.Set("score", c.score)
			}
			if p := en.post(link, form); p.Code != 200 || !strings.Contains(p.Body, "Thank you!") {
				t.Fatalf("%s answer: %d\n%s", c.typ, p.Code, p.Body)
			}
			// Anonymous links take every submission.
			if p := en.post(link, form); p.Code != 200 {
				t.Fatalf("%s second anonymous answer: %d", c.typ, p.Code)
			}
			if c.typ == "free" {
				if p := en.post(link, url.Values{"comment": {" "}}); p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "Please write your answer.") {
					t.Fatalf("empty free answer: %d", p.Code)
				}
			}
			sp := admin.get(pg)
			mustContain(t, sp, `id="stats-summary"`)
		}

		// The answer is on Anna's timeline and profile.
		a.settle()
		cp := admin.get("/customers/" + annaID)
		mustContain(t, cp, `id="last-surveys"`, `id="last-nps"`, "Last NPS answer", "detractor", "Survey Answered")
		dp := a.client("de")
		dp.login("agent@kunding.test")
		mustContain(t, dp.get("/customers/"+annaID), "Letzte NPS-Antwort", "Kritiker")
		// Statistics on the survey page: 1 answer, NPS −100, a trend chart.
		sp := admin.get(npsPage + "?by=month&group=segment")
		// n = 1 detractor: NPS −100; n' = 4, p' = 0.1875, d' = 0.4375, NPS' = −0.25,
		// Var = (0.625 − 0.0625)/4 = 0.140625, CI = −0.25 ± 1.96·0.375 = [−98.5, 48.5].
		mustContain(t, sp, `id="trend-chart"`, `id="dist-chart"`, `id="group-table"`, "unscored", "-100.0", "-98.5 … 48.5")
		if p := admin.get(npsPage + "?from=yesterday"); p.Code != http.StatusUnprocessableEntity {
			t.Fatalf("bad date: %d", p.Code)
		}
	})
}
