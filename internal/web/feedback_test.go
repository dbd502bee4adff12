package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/store"
)

func TestFeedbackAndFeedsPages(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		anna := a.anna(0)
		var broken atomic.Bool
		feedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if broken.Load() {
				http.Error(w, "down", http.StatusBadGateway)
				return
			}
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel>
				<item><guid>f-1</guid><title>Zug wieder zu spät</title><description>Schon wieder Verspätung, das ist schrecklich und ärgerlich.</description><author>pendler</author></item>
				<item><guid>f-2</guid><title></title><description></description></item></channel></rss>`)
		}))
		defer feedSrv.Close()

		// Anna's review arrives through the intake, linked by her e-mail.
		svc := &feedback.Service{Store: a.Srv.Store}
		if _, err := svc.Submit(ctx, feedback.Input{Portal: "trustpilot", Author: "Anna S.", Rating: ptrF(5), Title: "Wonderful",
			Text: "Excellent service and a very friendly staff. Great!", Email: "anna@example.de"}); err != nil {
			t.Fatal(err)
		}

		admin := a.client("en")
		admin.login("admin@kunding.test")
		p := admin.get("/feeds")
		mustContain(t, p, `href="/feeds" aria-current="page"`, `id="feeds-none"`, `id="create-feed"`)
		// Without the CSRF token nothing is created.
		if p := admin.post("/feeds", url.Values{"name": {"X"}, "url": {feedSrv.URL}}); p.Code != http.StatusForbidden {
			t.Fatalf("POST /feeds without CSRF = %d", p.Code)
		}
		tok := admin.csrf(p)
		p = admin.post("/feeds", url.Values{"name": {"Bahnforum"}, "url": {"ftp://nope"}, "kind": {"forum"}, "interval": {"15"}, "csrf_token": {tok}})
		if p.Code != http.StatusBadRequest {
			t.Fatalf("bad URL = %d", p.Code)
		}
		mustContain(t, p, `id="feeds-error"`, "complete http or https address", `value="Bahnforum"`)
		p = admin.post("/feeds", url.Values{"name": {"Bahnforum"}, "url": {feedSrv.URL + "/rss"}, "portal": {"bahnforum.example"}, "kind": {"forum"}, "interval": {"15"}, "csrf_token": {tok}})
		if p.Code != http.StatusSeeOther {
			t.Fatalf("create feed = %d:\n%s", p.Code, p.Body)
		}
		feeds, err := a.Srv.Store.(store.FeedbackStore).Feeds(ctx)
		if err != nil || len(feeds) != 1 {
			t.Fatalf("feeds: %v %v", feeds, err)
		}
		id := feeds[0].ID
		p = admin.post("/feeds/"+id, url.Values{"action": {"poll"}, "csrf_token": {tok}})
		if p.Code != http.StatusSeeOther {
			t.Fatalf("poll = %d:\n%s", p.Code, p.Body)
		}
		p = admin.get("/feeds?done=polled")
		mustContain(t, p, `id="feeds-done"`, "Bahnforum", "working", "Last fetch: 2 items, 1 new. Stored in all: 1.", "1 items skipped", "no text and no title")

		// The feed breaks: its row says so, with the error.
		broken.Store(true)
		admin.post("/feeds/"+id, url.Values{"action": {"poll"}, "csrf_token": {tok}})
		mustContain(t, admin.get("/feeds"), "failing (1 in a row)", "HTTP 502 Bad Gateway")
		admin.post("/feeds/"+id, url.Values{"action": {"disable"}, "csrf_token": {tok}})
		mustContain(t, admin.get("/feeds"), "switched off", ">Switch on<")
		if p := admin.post("/feeds/"+id, url.Values{"action": {"interval"}, "interval": {"0"}, "csrf_token": {tok}}); p.Code != http.StatusBadRequest {
			t.Fatalf("interval 0 = %d", p.Code)
		}

		// The feedback page: both texts, their sentiment, Anna's link.
		p = admin.get("/feedback")
		mustContain(t, p, `id="feedback-table"`, "Wonderful", "Zug wieder zu spät", `href="/customers/`+anna+`"`, "not linked",
			`badge badge-ok">positive`, `badge badge-rejected">negative`, "★★★★★")
		p = admin.get("/feedback?sentiment=negative")
		mustContain(t, p, "Zug wieder zu spät")
		mustNotContain(t, p, "Wonderful")
		p = admin.get("/feedback?customer=" + anna)
		mustContain(t, p, "Wonderful")
		mustNotContain(t, p, "Zug wieder")
		if p := admin.get("/feedback?from=gestern"); p.Code != http.StatusBadRequest {
			t.Fatalf("bad filter = %d", p.Code)
		}
		// In German.
		de := a.client("de")
		de.login("admin@kunding.test")
		mustContain(t, de.get("/feedback"), "Bewertungen und Beiträge", "nicht zugeordnet", "Forenbeitrag")
		mustContain(t, de.get("/feeds"), "RSS- und Atom-Feeds", "ausgeschaltet")

		// The review is on Anna's timeline.
		a.settle()
		mustContain(t, admin.get("/customers/"+anna), "Feedback Received")

		// An agent reads feedback but not the feeds; an analyst sees the
		// feeds without the buttons.
		agent := a.client("en")
		agent.login("agent@kunding.test")
		mustContain(t, agent.get("/feedback"), "Wonderful")
		if p := agent.get("/feeds"); p.Code != http.StatusForbidden {
			t.Fatalf("agent /feeds = %d", p.Code)
		}
		analyst := a.client("en")
		analyst.login("analyst@kunding.test")
		p = analyst.get("/feeds")
		mustContain(t, p, "Bahnforum")
		mustNotContain(t, p, `id="create-feed"`, "Poll now")

		admin.post("/feeds/"+id, url.Values{"action": {"delete"}, "csrf_token": {tok}})
		mustContain(t, admin.get("/feeds"), `id="feeds-none"`)
		// Every change is in the audit log.
		entries, err := a.Srv.Store.AuditEntries(ctx, store.AuditFilter{Target: id, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Action)
		}
		if want := "[feed.delete feed.update feed.poll feed.poll feed.create]"; fmt.Sprint(got) != want {
			t.Errorf("audit: %v, want %s", got, want)
		}
	})
}

func ptrF(v float64) *float64 { return &v }
