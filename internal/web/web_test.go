package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/web"
)

// Every page but the login page, the language switch and the assets
// refuses anonymous visitors with a redirect to the login page that
// comes back.
func TestAnonymousRefused(t *testing.T) {
	a := startApp(t, "")
	h, err := web.New(web.Config{Store: a.Srv.Store, Auth: a.Auth})
	if err != nil {
		t.Fatal(err)
	}
	routes := h.PrivateRoutes()
	if len(routes) < 10 {
		t.Fatalf("only %d private routes: %v", len(routes), routes)
	}
	routes = append(routes, "GET /no/such/page", "POST /no/such/page")
	c := a.client("")
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		path := strings.ReplaceAll(strings.ReplaceAll(pattern, "{id}", a.Shop.ID), "{$}", "")
		p := c.do(method, path, url.Values{})
		if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?next=") {
			t.Errorf("anonymous %s %s = %d %q, want 303 to /login", method, path, p.Code, p.Location)
		}
		if strings.Contains(p.Body, a.Shop.WriteKey) {
			t.Errorf("anonymous %s %s shows the write key", method, path)
		}
	}
	// A poll of the live debugger after the session ended sends the whole
	// page to the login page (htmx follows HX-Redirect).
	req, _ := http.NewRequest("GET", a.URL+"/sources/"+a.Shop.ID+"/live", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Current-URL", a.URL+"/sources/"+a.Shop.ID)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("HX-Redirect") != "/login?next="+url.QueryEscape("/sources/"+a.Shop.ID) {
		t.Errorf("anonymous htmx poll = %d, HX-Redirect %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	for _, path := range []string{"/login", "/assets/app.css", "/assets/vendor/htmx/htmx.min.js", "/assets/vendor/chartjs/chart.umd.min.js"} {
		if p := c.get(path); p.Code != 200 {
			t.Errorf("public %s = %d", path, p.Code)
		}
	}
	if p := c.get("/lang?to=de&next=/customers"); p.Code != http.StatusSeeOther || p.Location != "/customers" {
		t.Errorf("/lang = %d %q", p.Code, p.Location)
	}
}

func TestLoginLogout(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		c := a.client("en")
		// The login page returns where the visitor wanted to go.
		p := c.get("/customers?q=x")
		if p.Code != http.StatusSeeOther {
			t.Fatalf("anonymous search = %d", p.Code)
		}
		p = c.get(p.Location)
		mustContain(t, p, `<html lang="en">`, "Log in to Kunding", `name="next" value="/customers?q=x"`, `autocomplete="current-password"`)
		tok := c.csrf(p)
		p = c.post("/login", url.Values{"email": {"admin@kunding.test"}, "password": {"wrong password!!"}, "csrf_token": {tok}})
		if p.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password = %d", p.Code)
		}
		mustContain(t, p, "Wrong e-mail address or password.", `value="admin@kunding.test"`)
		p = c.post("/login", url.Values{"email": {"admin@kunding.test"}, "password": {password}, "csrf_token": {tok}, "next": {"https://evil.example/"}})
		if p.Code != http.StatusSeeOther || p.Location != "/" {
			t.Fatalf("login with a foreign next = %d %q, want 303 to /", p.Code, p.Location)
		}
		p = c.get("/")
		if p.Code != 200 {
			t.Fatalf("home = %d", p.Code)
		}
		mustContain(t, p, "Ada Admin", "Find a customer", `href="/sources"`)
		// Logout is a form with the CSRF token; without it, it is refused.
		if p2 := c.post("/logout", url.Values{}); p2.Code != http.StatusForbidden {
			t.Fatalf("logout without CSRF token = %d", p2.Code)
		}
		p = c.post("/logout", url.Values{"csrf_token": {c.csrf(p)}})
		if p.Code != http.StatusSeeOther || p.Location != "/login" {
			t.Fatalf("logout = %d %q", p.Code, p.Location)
		}
		if p = c.get("/"); p.Code != http.StatusSeeOther {
			t.Fatalf("after logout / = %d", p.Code)
		}
	})
}

func TestLoginRateLimited(t *testing.T) {
	a := startApp(t, "")
	c := a.client("de")
	var p page
	for i := 0; i < 10; i++ {
		p = c.post("/login", url.Values{"email": {"agent@kunding.test"}, "password": {"not the password"}})
		if p.Code == http.StatusTooManyRequests {
			break
		}
	}
	if p.Code != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Fatalf("after many wrong passwords = %d, Retry-After %q", p.Code, p.Header.Get("Retry-After"))
	}
	mustContain(t, p, "Zu viele Versuche")
}

func TestSearchAndCustomer360(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		id := a.anna(60)
		ps, ok := a.Srv.Store.(store.PredictionStore)
		if !ok {
			t.Fatal("the store keeps no predictions")
		}
		if err := ps.SavePredictions(ctx, []store.Prediction{{CustomerID: id, Model: "bgnbd", Expected90d: 1.26, PAlive: 0.8,
			ChurnRisk: 0.2, ExpectedSpend: 70, CLV: 412.5, CLVPercentile: 93, ComputedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		c := a.client("en")
		c.login("agent@kunding.test")
		for _, q := range []string{"anna", "Anna Sch", "anna@example.de", "+49 171 1234567", "0049171 1234567", "C-1001", id} {
			p := c.get("/customers?q=" + url.QueryEscape(q))
			if p.Code != 200 {
				t.Fatalf("search %q = %d", q, p.Code)
			}
			mustContain(t, p, `href="/customers/`+id+`"`, "1 found in")
		}
		p := c.get("/customers?q=nobody-like-this")
		mustContain(t, p, "No customer found")

		p = c.get("/customers/" + id)
		if p.Code != 200 {
			t.Fatalf("360 = %d", p.Code)
		}
		mustContain(t, p,
			"<h1>Anna Schmidt</h1>", "anna@example.de",
			// identities, traits and consent
			"User id", "C-1001", "Anonymous id", "dev-anna", "Köln",
			// consent per purpose with the date of the decision
			`<dt>email</dt><dd>yes (20`, `<dt>phone</dt><dd>no (20`,
			// figures: three orders, revenue, RFM
			"<dt>Orders</dt><dd>3</dd>", "EUR 215.40", "Recency", "Frequency", "Monetary", "71.80",
			// predictions of the purchase model
			"<dt>Churn risk</dt><dd>20 %</dd>", "<dt>Customer lifetime value</dt><dd>412.50</dd>", "higher than 93 % of customers",
			"<dt>Expected orders</dt><dd>1.3</dd>",
			// the chart's data and its table
			`id="purchases-chart"`, "data-chart=", "Show as table",
			// the timeline with its sources
			"Timeline", "via Web shop (Shop)", "Page viewed: Product 0",
			// the next page of the timeline
			"Show older events")
		// The mailing stands out: the newest entry, marked and labelled.
		first := regexp.MustCompile(`(?s)<ol class="timeline">\s*<li class="([^"]*)"[^>]*>(.*?)</li>`).FindStringSubmatch(p.Body)
		if first == nil || !strings.Contains(first[1], "touch-mailing") || !strings.Contains(first[2], "Frühlingsmailing") ||
			!strings.Contains(first[2], "20 % auf Schuhe") || !strings.Contains(first[2], `badge-mailing">Mailing<`) {
			t.Fatalf("first timeline entry is not the highlighted mailing: %q", first)
		}
		mustContain(t, p, `touch-campaign`, "Campaign: spring-ads")
		// ... and the newest campaign touches are listed at the top of the side column.
		recent := regexp.MustCompile(`(?s)<section class="card recent".*?</section>`).FindString(p.Body)
		if !strings.Contains(recent, "Frühlingsmailing") || !strings.Contains(recent, "spring-ads") || !strings.Contains(recent, `href="#ev-`) {
			t.Fatalf("recent campaigns card = %q", recent)
		}
		// The second page comes from the "older" link, as htmx loads it.
		more := regexp.MustCompile(`hx-get="(/customers/[^"]+/timeline\?before=[^"]+)"`).FindStringSubmatch(p.Body)
		if more == nil {
			t.Fatal("no link to older events")
		}
		p2 := c.get(html.UnescapeString(more[1]))
		if p2.Code != 200 || strings.Contains(p2.Body, "<html") {
			t.Fatalf("timeline fragment = %d:\n%s", p2.Code, p2.Body)
		}
		mustContain(t, p2, "Order Completed", "Identified, profile data updated")
		if n := strings.Count(p.Body, `<li class="ev`) + strings.Count(p2.Body, `<li class="ev`); n != 66 {
			t.Fatalf("timeline pages hold %d events, want 66", n)
		}
		// The audit log knows who opened her page and that someone searched,
		// but not what was searched for.
		views, err := audit.List(ctx, a.Srv.Store, audit.Filter{Action: audit.CustomerView, Target: id})
		if err != nil || len(views) == 0 || !strings.HasPrefix(views[0].Actor, "u_") {
			t.Fatalf("audit of the 360 page = %+v, %v", views, err)
		}
		searches, _ := audit.List(ctx, a.Srv.Store, audit.Filter{Action: audit.CustomerSearch})
		if len(searches) < 8 || strings.Contains(searches[0].Detail, "anna") || strings.Contains(searches[0].Detail, "1234567") {
			t.Fatalf("audit of searches = %+v", searches)
		}
		// Unknown customers are a 404 page, damaged cursors a 400.
		if p := c.get("/customers/nope"); p.Code != http.StatusNotFound {
			t.Fatalf("unknown customer = %d", p.Code)
		}
		if p := c.get("/customers/" + id + "?before=garbage"); p.Code != http.StatusBadRequest {
			t.Fatalf("bad cursor = %d", p.Code)
		}
	})
}

// Merges and open identity conflicts show on the 360 page; a merged-away
// id leads to the surviving customer.
func TestMergesAndConflicts(t *testing.T) {
	a := startApp(t, "")
	a.send(a.Shop.WriteKey,
		map[string]any{"type": "page", "anonymousId": "tablet", "name": "Home"},
		map[string]any{"type": "identify", "userId": "U-1", "traits": map[string]any{"name": "Uwe Eins", "email": "family@example.de"}},
		map[string]any{"type": "identify", "userId": "U-2", "traits": map[string]any{"name": "Ute Zwei", "email": "family@example.de"}},
	)
	a.settle()
	anon, err := a.Srv.Store.CustomerByIdentifier(ctx, store.Identifier{Kind: "anon", Value: "tablet"})
	if err != nil {
		t.Fatal(err)
	}
	a.send(a.Shop.WriteKey, map[string]any{"type": "alias", "previousId": "tablet", "userId": "U-1"})
	a.settle()
	uwe, err := a.Srv.Store.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "U-1"})
	if err != nil {
		t.Fatal(err)
	}
	if uwe.CustomerID == anon.CustomerID {
		t.Fatal("the alias did not merge two customers")
	}
	c := a.client("en")
	c.login("agent@kunding.test")
	p := c.get("/customers/" + anon.CustomerID)
	if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/customers/"+uwe.CustomerID+"?merged_from=") {
		t.Fatalf("merged-away id = %d %q", p.Code, p.Location)
	}
	p = c.get(p.Location)
	mustContain(t, p, "<h1>Uwe Eins</h1>", "which has been merged into this customer", "Merges", anon.CustomerID+" was merged into this customer",
		"Open identity conflicts", "family@example.de", "also belongs to")
}

func TestRoles(t *testing.T) {
	a := startApp(t, "")
	agent := a.client("en")
	agent.login("agent@kunding.test")
	p := agent.get("/")
	mustNotContain(t, p, `href="/sources"`)
	for _, path := range []string{"/sources", "/sources/" + a.Shop.ID, "/sources/" + a.Shop.ID + "/live"} {
		if p := agent.get(path); p.Code != http.StatusForbidden {
			t.Fatalf("agent GET %s = %d, want 403", path, p.Code)
		} else {
			mustContain(t, p, "Your role may not open this page.")
			mustNotContain(t, p, a.Shop.WriteKey)
		}
	}
	analyst := a.client("en")
	analyst.login("analyst@kunding.test")
	p = analyst.get("/sources")
	if p.Code != 200 {
		t.Fatalf("analyst /sources = %d", p.Code)
	}
	mustNotContain(t, p, `action="/sources"`)
	if p := analyst.post("/sources", url.Values{"name": {"X"}, "kind": {"web"}, "csrf_token": {analyst.csrf(p)}}); p.Code != http.StatusForbidden {
		t.Fatalf("analyst creates a source: %d, want 403", p.Code)
	}
	p = analyst.get("/sources/" + a.Shop.ID)
	mustNotContain(t, p, `id="rotate-key"`)
}

func TestSourcesAndLiveDebugger(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		c := a.client("en")
		c.login("admin@kunding.test")
		p := c.get("/sources")
		mustContain(t, p, "Web shop", "Create a source", `<option value="call-centre">Call centre</option>`)
		tok := c.csrf(p)
		// Bad input is refused with a message and the form keeps what was typed.
		p = c.post("/sources", url.Values{"name": {"Web shop"}, "kind": {"web"}, "csrf_token": {tok}})
		if p.Code != http.StatusConflict {
			t.Fatalf("duplicate name = %d", p.Code)
		}
		mustContain(t, p, "already exists")
		p = c.post("/sources", url.Values{"name": {"!bad"}, "kind": {"web"}, "csrf_token": {tok}})
		if p.Code != http.StatusBadRequest {
			t.Fatalf("bad name = %d", p.Code)
		}
		mustContain(t, p, `value="!bad"`, "aria-invalid")
		if p = c.post("/sources", url.Values{"name": {"App"}, "kind": {"web"}}); p.Code != http.StatusForbidden {
			t.Fatalf("create without CSRF token = %d, want 403", p.Code)
		}
		p = c.post("/sources", url.Values{"name": {"Call centre Köln"}, "kind": {"call-centre"}, "csrf_token": {tok}})
		if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/sources/src_") {
			t.Fatalf("create = %d %q", p.Code, p.Location)
		}
		srcPath := strings.TrimSuffix(p.Location, "?created=1")
		p = c.get(p.Location)
		mustContain(t, p, "The source was created", "Live event debugger", "No events yet", `hx-trigger="every 2s"`)
		key := regexp.MustCompile(`id="write-key" class="secret">([^<]+)<`).FindStringSubmatch(p.Body)
		if key == nil {
			t.Fatal("write key not shown")
		}
		// An accepted and a rejected event appear in the debugger, the
		// rejected one with its reason.
		if code := a.send(key[1], map[string]any{"type": "track", "userId": "u-77", "event": "Call Answered"}); code != 200 {
			t.Fatalf("send = %d", code)
		}
		a.send(key[1], map[string]any{"type": "track", "userId": "u-78"})
		live := c.get(srcPath + "/live?seen=0&seenrej=0")
		if live.Code != 200 || strings.Contains(live.Body, "<html") {
			t.Fatalf("live fragment = %d", live.Code)
		}
		mustContain(t, live, "Call Answered", "u-77", "Accepted", "Rejected", "Reason:", `class="reason-text">`, "live-item accepted new")
		reason := regexp.MustCompile(`class="reason-text">([^<]+)<`).FindStringSubmatch(live.Body)
		if reason == nil || !strings.Contains(reason[1], "event") {
			t.Fatalf("rejection reason = %q", reason)
		}
		// The next poll marks nothing new; pausing stops the polling.
		next := regexp.MustCompile(`hx-get="([^"]*/live\?seen=[^"]*)" hx-trigger`).FindStringSubmatch(live.Body)
		again := c.get(html.UnescapeString(next[1]))
		mustNotContain(t, again, " new\"")
		paused := c.get(srcPath + "/live?paused=1")
		mustContain(t, paused, "Paused", "Resume")
		mustNotContain(t, paused, "hx-trigger")

		// Rotation needs the confirmation; afterwards the old key is refused
		// at once and the new one works.
		p = c.get(srcPath)
		if p2 := c.post(srcPath+"/rotate", url.Values{"csrf_token": {c.csrf(p)}}); p2.Code != http.StatusBadRequest {
			t.Fatalf("rotate without confirmation = %d", p2.Code)
		}
		p = c.post(srcPath+"/rotate", url.Values{"csrf_token": {c.csrf(p)}, "confirm": {"yes"}})
		if p.Code != http.StatusSeeOther {
			t.Fatalf("rotate = %d", p.Code)
		}
		p = c.get(p.Location)
		mustContain(t, p, "The write key was replaced")
		newKey := regexp.MustCompile(`id="write-key" class="secret">([^<]+)<`).FindStringSubmatch(p.Body)
		if newKey == nil || newKey[1] == key[1] {
			t.Fatalf("key after rotation: %q (was %q)", newKey, key[1])
		}
		if code := a.send(key[1], map[string]any{"type": "track", "userId": "u-77", "event": "Late"}); code != http.StatusUnauthorized {
			t.Fatalf("old key after rotation = %d, want 401", code)
		}
		if code := a.send(newKey[1], map[string]any{"type": "track", "userId": "u-77", "event": "Fresh"}); code != 200 {
			t.Fatalf("new key = %d", code)
		}
	})
}

func TestLanguages(t *testing.T) {
	a := startApp(t, "")
	id := a.anna(0)
	c := a.client("de-DE,de;q=0.9,en;q=0.5")
	p := c.get("/login")
	mustContain(t, p, `<html lang="de">`, "Bei Kunding anmelden", "Passwort")
	c.login("admin@kunding.test")
	p = c.get("/customers/" + id)
	mustContain(t, p, `<html lang="de">`, "Zeitleiste", "Käufe im Zeitverlauf", "Einwilligungen", "215,40 EUR", "über Web shop (Shop)",
		`badge-mailing">Mailing<`, "Betreff: 20 % auf Schuhe")
	// The switch sets a cookie that beats the browser's language.
	p = c.get("/lang?to=en&next=" + url.QueryEscape("/customers/"+id))
	if p.Code != http.StatusSeeOther || p.Location != "/customers/"+id {
		t.Fatalf("switch = %d %q", p.Code, p.Location)
	}
	p = c.get("/customers/" + id)
	mustContain(t, p, `<html lang="en">`, "Timeline", "Purchases over time", "EUR 215.40")
	// Every page offers the switch back, returning to the same page.
	mustContain(t, p, fmt.Sprintf(`href="/lang?to=de&amp;next=%%2fcustomers%%2f%s"`, id))
	if p := c.get("/lang?to=de&next=//evil.example/"); p.Location != "/" {
		t.Fatalf("switch to a foreign site: %q", p.Location)
	}
}

func TestSecurityHeadersAndAssets(t *testing.T) {
	a := startApp(t, "")
	c := a.client("")
	p := c.get("/login")
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP = %q", csp)
	}
	if p.Header.Get("Cache-Control") != "no-store" || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("headers = %v", p.Header)
	}
	// No inline scripts or styles anywhere (the CSP would block them).
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|style="| on[a-z]+="`).MatchString(p.Body) {
		t.Fatalf("inline script or style on the login page:\n%s", p.Body)
	}
	css := regexp.MustCompile(`href="(/assets/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(p.Body)
	if css == nil {
		t.Fatal("no versioned stylesheet link")
	}
	asset := c.get(css[1])
	if asset.Code != 200 || !strings.Contains(asset.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(asset.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("asset = %d %v", asset.Code, asset.Header)
	}
	for _, path := range []string{"/assets/", "/assets/../web.go", "/assets/%2e%2e/web.go", "/assets/nope.js"} {
		if p := c.get(path); p.Code == http.StatusOK || strings.Contains(p.Body, "package web") {
			t.Errorf("%s = %d, want no file", path, p.Code)
		}
	}
}
