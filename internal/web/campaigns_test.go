package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/campaign"
	"github.com/kunding/kunding/internal/store"
)

// goldCustomers sends three customers: two on the gold plan (one with
// e-mail marketing consent, one who withdrew it) and one on silver. It
// returns their customer ids by user id.
func (a *app) goldCustomers() map[string]string {
	a.t.Helper()
	ts := time.Now().UTC().Add(-48 * time.Hour).Format(time.RFC3339)
	evs := []map[string]any{
		{"type": "identify", "userId": "G-1", "timestamp": ts, "traits": map[string]any{"name": "Greta Gold", "email": "greta@example.de", "plan": "gold",
			"consent": map[string]any{"email_marketing": true}}},
		{"type": "identify", "userId": "G-2", "timestamp": ts, "traits": map[string]any{"name": "Gustav Gold", "email": "gustav@example.de", "plan": "gold",
			"consent": map[string]any{"email_marketing": false}}},
		{"type": "identify", "userId": "S-1", "timestamp": ts, "traits": map[string]any{"name": "Silke Silber", "plan": "silver",
			"consent": map[string]any{"email_marketing": true}}},
	}
	if code := a.send(a.Shop.WriteKey, evs...); code != 200 {
		a.t.Fatalf("send: %d", code)
	}
	a.settle()
	out := map[string]string{}
	for _, u := range []string{"G-1", "G-2", "S-1"} {
		p, err := a.Srv.Store.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: u})
		if err != nil {
			a.t.Fatal(err)
		}
		out[u] = p.CustomerID
	}
	return out
}

// waitSent waits until the server's delivery job has sent a campaign and
// the pipeline has put it on the timelines.
func (a *app) waitSent(id string) store.Campaign {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := a.Srv.Store.(store.CampaignStore).Campaign(ctx, id)
		if err == nil && c.Status == campaign.StatusSent {
			a.settle()
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.t.Fatalf("campaign %s not sent within 20 s", id)
	return store.Campaign{}
}

// TestCampaignPages: an analyst of Marketing registers a promotional
// e-mail for the gold customers, checks it against the contact policy and
// sends it; the agent sees it in the calendar and on the recipient's
// timeline with its message, and may not register campaigns; bad input is
// refused with the form kept; German texts.
func TestCampaignPages(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		ids := a.goldCustomers()
		c := a.client("en")
		c.login("analyst@kunding.test")
		p := c.get("/campaigns")
		if p.Code != 200 {
			t.Fatalf("calendar: %d", p.Code)
		}
		mustContain(t, p, "Campaign calendar", `id="no-campaigns"`, `href="/campaigns/new"`)
		p = c.get("/campaigns/new")
		mustContain(t, p, `id="campaign-form"`, `<option value="Marketing" selected>`)
		csrf := c.csrf(p)
		today := time.Now().Format("2006-01-02")
		form := url.Values{"csrf_token": {csrf}, "name": {"Gold Weekend"}, "department": {"Marketing"}, "channel": {"email"}, "type": {"promotional"},
			"subject": {"Your gold weekend"}, "message": {"Double points for gold members this weekend."}, "offer": {"2x points"},
			"start": {today}, "end": {time.Now().AddDate(0, 0, 3).Format("2006-01-02")}, "expected": {"2"}, "target": {"filter"},
			"field0": {"trait"}, "arg0": {"plan"}, "op0": {"eq"}, "value0": {"gold"}}
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("end", "2000-01-01")
		p = c.post("/campaigns", bad)
		if p.Code != http.StatusBadRequest {
			t.Fatalf("bad campaign: %d", p.Code)
		}
		mustContain(t, p, `id="campaign-error"`, "must be after start", `value="Gold Weekend"`)
		if l, _ := a.Srv.Store.(store.CampaignStore).Campaigns(ctx, store.CampaignFilter{}); len(l) != 0 {
			t.Fatalf("a refused campaign was stored: %+v", l)
		}
		p = c.post("/campaigns", form)
		if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/campaigns/cmp_") {
			t.Fatalf("create: %d %s\n%s", p.Code, p.Location, p.Body)
		}
		id := strings.TrimPrefix(strings.Split(p.Location, "?")[0], "/campaigns/")
		p = c.get(p.Location)
		mustContain(t, p, "Gold Weekend", "Draft", "registered as a draft", "Trait plan is gold", "Double points")
		p = c.post("/campaigns/"+id+"/preview", url.Values{"csrf_token": {csrf}})
		mustContain(t, p, `id="preview-report"`, "Consent withdrawn", "/customers/"+ids["G-2"])
		p = c.post("/campaigns/"+id+"/status", url.Values{"csrf_token": {csrf}, "action": {"send"}})
		if p.Code != http.StatusSeeOther {
			t.Fatalf("send: %d %s", p.Code, p.Body)
		}
		sent := a.waitSent(id)
		if sent.Delivery.Delivered != 1 || sent.Delivery.HeldBack != 1 || sent.Delivery.Reasons[campaign.ReasonConsentWithdrawn] != 1 {
			t.Fatalf("delivery: %+v", sent.Delivery)
		}
		p = c.get("/campaigns/" + id)
		mustContain(t, p, "Sent", `class="reason-consent_withdrawn"`)

		// The agent: sees the calendar and the campaign on Greta's
		// timeline, may not register a campaign.
		ag := a.client("en")
		ag.login("agent@kunding.test")
		p = ag.get("/campaigns?channel=email")
		mustContain(t, p, `id="cal-`+id+`"`, "Gold Weekend", "Marketing")
		p = ag.get("/campaigns?department=Sales")
		mustNotContain(t, p, "Gold Weekend")
		if p := ag.get("/campaigns/new"); p.Code != http.StatusForbidden {
			t.Fatalf("agent opens the form: %d", p.Code)
		}
		p = ag.get("/customers/" + ids["G-1"])
		mustContain(t, p, "Gold Weekend", "Double points for gold members this weekend.", "Kunding campaigns", `class="badge badge-mailing"`)
		p = ag.get("/customers/" + ids["G-2"])
		mustNotContain(t, p, "Gold Weekend")
		if p := ag.post("/campaigns/"+id+"/status", url.Values{"csrf_token": {ag.csrf(ag.get("/campaigns"))}, "action": {"cancel"}}); p.Code != http.StatusForbidden {
			t.Fatalf("agent cancels: %d", p.Code)
		}

		// A list campaign: pasted identifiers with an unknown one.
		form.Set("name", "Service letter")
		form.Set("target", "list")
		form.Set("channel", "letter")
		form.Set("type", "service")
		p = c.post("/campaigns", form)
		lid := strings.TrimPrefix(strings.Split(p.Location, "?")[0], "/campaigns/")
		p = c.post("/campaigns/"+lid+"/recipients", url.Values{"csrf_token": {csrf}, "ids": {"email\ngreta@example.de\nnobody@example.de\n"}})
		if p.Code != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", p.Code, p.Body)
		}
		p = c.get("/campaigns/" + lid)
		mustContain(t, p, "2 identifiers read, 1 customers found, 1 unknown.", "email:nobody@example.de")

		// Changing: the list campaign's form comes prefilled; a sent
		// campaign cannot be changed.
		p = c.get("/campaigns/" + lid + "/edit")
		mustContain(t, p, `action="/campaigns/`+lid+`"`, `value="Service letter"`, `id="c-target-list" checked`)
		form.Set("name", "Service letter (new terms)")
		if p = c.post("/campaigns/"+lid, form); p.Code != http.StatusSeeOther {
			t.Fatalf("update: %d %s", p.Code, p.Body)
		}
		mustContain(t, c.get(p.Location), "Service letter (new terms)", "The campaign is changed.")
		if p = c.post("/campaigns/"+id, form); p.Code != http.StatusBadRequest {
			t.Fatalf("update a sent campaign: %d", p.Code)
		}
		mustContain(t, p, "only a draft or a scheduled campaign can be changed")

		// German.
		de := a.client("de")
		de.login("agent@kunding.test")
		p = de.get("/campaigns/" + id)
		mustContain(t, p, "Kampagnenkalender", "Versendet", "Einwilligung widerrufen")
	})
}
