package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kunding/kunding/internal/store"
)

// browserContext starts the one headless Chromium of this package's tests.
// Without Chromium the tests are skipped loudly, or fail when
// KUNDING_REQUIRE_BROWSER=1 (CI), so a CI run cannot pass without them.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		msg := "BROWSER TESTS NOT RUN: no chromium on PATH (Debian: apt-get install -y chromium)"
		if os.Getenv("KUNDING_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip("!!! " + msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// The whole browser test must stay well under a minute.
	tctx, cancelTimeout := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(tctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return tctx
}

// artifacts is where screenshots go: $KUNDING_TEST_ARTIFACTS, else a folder
// in the system's temporary directory.
func artifacts(t *testing.T) string {
	dir := os.Getenv("KUNDING_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "kunding-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the whole page as a PNG in the artifacts folder.
func screenshot(t *testing.T, bctx context.Context, name string) {
	t.Helper()
	saveShot(t, bctx, name, chromedp.FullScreenshot(100))
}

func saveShot(t *testing.T, bctx context.Context, name string, shot chromedp.Action[[]byte]) {
	t.Helper()
	buf, err := chromedp.Run(bctx, shot)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

// eval runs JavaScript in the page and returns its value.
func eval[T any](t *testing.T, bctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(bctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func do(t *testing.T, bctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(bctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// click clicks and waits for the page it leads to.
func click(t *testing.T, bctx context.Context, css string) {
	t.Helper()
	if _, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		t.Fatalf("click %s: %v", css, err)
	}
}

func text(t *testing.T, bctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

// TestBrowser walks the web app as an agent and an admin would, in a real
// headless Chromium: log in, find a customer, read the 360 page with its
// mailing and chart, switch to German, create a source and watch its events
// arrive in the live debugger, download a customer's GDPR export and erase
// her, look at the users and the audit log, log out, and log in as an agent
// who is refused the admin pages and sees no GDPR controls.
func TestBrowser(t *testing.T) {
	bctx := browserContext(t)
	a := startApp(t, "")
	annaID := a.anna(60)
	start := time.Now()

	t.Run("login", func(t *testing.T) {
		do(t, bctx, "open", chromedp.Navigate(a.URL+"/"), chromedp.WaitVisible(chromedp.ID("email")))
		if loc := eval[string](t, bctx, "location.pathname"); loc != "/login" {
			t.Fatalf("anonymous / went to %s, want /login", loc)
		}
		// The skip link comes first in the keyboard's order; the e-mail
		// field has the focus.
		if cls := eval[string](t, bctx, `document.querySelector("a[href], button, input:not([type=hidden]), select, summary").className`); cls != "skip" {
			t.Errorf("first focusable element is %q, want the skip link", cls)
		}
		if id := eval[string](t, bctx, "document.activeElement.id"); id != "email" {
			t.Errorf("focus on %q, want the e-mail field", id)
		}
		do(t, bctx, "fill login form",
			chromedp.SendKeys(chromedp.ID("email"), "admin@kunding.test"),
			chromedp.SendKeys(chromedp.ID("password"), password))
		screenshot(t, bctx, "login")
		// Enter in the password field logs in, as on any form.
		if _, err := chromedp.RunResponse(bctx, chromedp.SendKeys(chromedp.ID("password"), "\r")); err != nil {
			t.Fatalf("submit login with Enter: %v", err)
		}
		if got := text(t, bctx, ".user"); !strings.Contains(got, "Ada Admin") {
			t.Fatalf("after login the header shows %q", got)
		}
	})

	t.Run("search", func(t *testing.T) {
		do(t, bctx, "search", chromedp.SendKeys(chromedp.ID("q"), "anna sch"))
		click(t, bctx, `form.search button[type="submit"]`)
		do(t, bctx, "results", chromedp.WaitVisible(chromedp.CSS("table.results a")))
		if got := text(t, bctx, "table.results a"); got != "Anna Schmidt" {
			t.Fatalf("first hit = %q", got)
		}
		screenshot(t, bctx, "search")
		click(t, bctx, "table.results a")
	})

	t.Run("customer360", func(t *testing.T) {
		do(t, bctx, "360 page", chromedp.WaitVisible(chromedp.CSS("ol.timeline li.ev")))
		if h := text(t, bctx, "h1"); h != "Anna Schmidt" {
			t.Fatalf("heading = %q", h)
		}
		// The newest entry is the mailing, marked so that it stands out.
		first := text(t, bctx, "ol.timeline li.ev:first-child")
		if !strings.Contains(first, "Frühlingsmailing") || !strings.Contains(first, "MAILING") {
			t.Fatalf("first timeline entry = %q", first)
		}
		styles := eval[[]string](t, bctx, `(() => {
			const m = document.querySelector("li.touch-mailing"), p = document.querySelector("li.ev:not(.touch)");
			return [getComputedStyle(m).backgroundColor, getComputedStyle(p).backgroundColor,
				getComputedStyle(m).borderLeftColor, getComputedStyle(p).borderLeftColor];
		})()`)
		if styles[0] == styles[1] || styles[2] == styles[3] {
			t.Fatalf("the mailing looks like any event: %v", styles)
		}
		// The purchases chart is drawn by Chart.js from the page's data.
		do(t, bctx, "chart", chromedp.WaitReady(chromedp.CSS(`canvas#purchases-chart[data-rendered="true"]`)))
		orders := eval[float64](t, bctx, `Chart.getChart("purchases-chart").data.datasets[0].data.reduce((a, b) => a + b, 0)`)
		if orders != 3 {
			t.Fatalf("the chart shows %v orders, want 3", orders)
		}
		if w := eval[float64](t, bctx, `document.getElementById("purchases-chart").getBoundingClientRect().width`); w < 200 {
			t.Fatalf("chart width %v", w)
		}
		screenshot(t, bctx, "customer-360")
		saveShot(t, bctx, "customer-360-top", chromedp.CaptureScreenshot())
		// Older events load in place (htmx).
		do(t, bctx, "older events", chromedp.Click(chromedp.CSS("li.more a")),
			chromedp.WaitReady(chromedp.CSS("ol.timeline li.ev:nth-child(60)")))
		if loc := eval[string](t, bctx, "location.search"); loc != "" {
			t.Fatalf("older events navigated to %q instead of loading in place", loc)
		}
	})

	t.Run("phone", func(t *testing.T) {
		do(t, bctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(),
			chromedp.WaitVisible(chromedp.CSS("ol.timeline li.ev")))
		if over := eval[bool](t, bctx, "document.documentElement.scrollWidth > window.innerWidth + 1"); over {
			t.Fatalf("the 360 page is wider than a phone: %v > %v", eval[float64](t, bctx, "document.documentElement.scrollWidth"), eval[float64](t, bctx, "window.innerWidth"))
		}
		// What a phone shows first, not the whole long page.
		do(t, bctx, "scroll up", chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, 0)"))
		saveShot(t, bctx, "customer-360-phone", chromedp.CaptureScreenshot())
		do(t, bctx, "laptop viewport", chromedp.EmulateReset(), chromedp.EmulateViewport(1280, 900))
	})

	t.Run("german", func(t *testing.T) {
		click(t, bctx, `a[data-lang="de"]`)
		if lang := eval[string](t, bctx, "document.documentElement.lang"); lang != "de" {
			t.Fatalf("lang = %q", lang)
		}
		for css, want := range map[string]string{"#timeline-h": "Zeitleiste", "#chart-h": "Käufe im Zeitverlauf", "#consent-h": "Einwilligungen", `.sections a[href="/customers"]`: "Kunden"} {
			if got := text(t, bctx, css); got != want {
				t.Errorf("%s = %q, want %q", css, got, want)
			}
		}
		if first := text(t, bctx, "ol.timeline li.ev:first-child"); !strings.Contains(first, "Betreff: 20 % auf Schuhe") {
			t.Fatalf("first entry in German = %q", first)
		}
		screenshot(t, bctx, "customer-360-de")
	})

	t.Run("sources and live debugger", func(t *testing.T) {
		do(t, bctx, "sources page", chromedp.Navigate(a.URL+"/sources"), chromedp.WaitVisible(chromedp.ID("src-name")),
			chromedp.SendKeys(chromedp.ID("src-name"), "Browser Shop"),
			chromedp.SetValue(chromedp.ID("src-kind"), "web"))
		click(t, bctx, `#create-source button[type="submit"]`)
		if h := text(t, bctx, "h1"); h != "Quelle Browser Shop" {
			t.Fatalf("after create: heading %q", h)
		}
		key, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.ID("write-key")))
		if err != nil || !strings.HasPrefix(key, "wk_") {
			t.Fatalf("write key %q, %v", key, err)
		}
		do(t, bctx, "empty debugger", chromedp.WaitVisible(chromedp.CSS("#live li.empty")))
		if code := a.send(key, map[string]any{"type": "track", "userId": "browser-1", "event": "Browser Test Event"}); code != 200 {
			t.Fatalf("send = %d", code)
		}
		sent := time.Now()
		do(t, bctx, "event arrives", chromedp.WaitVisible(chromedp.CSS("#live li.accepted")))
		t.Logf("event shown %v after sending", time.Since(sent).Round(time.Millisecond))
		if got := text(t, bctx, "#live li.accepted"); !strings.Contains(got, "Browser Test Event") || !strings.Contains(got, "browser-1") {
			t.Fatalf("debugger entry = %q", got)
		}
		a.send(key, map[string]any{"type": "track", "userId": "browser-2"})
		do(t, bctx, "rejected event arrives", chromedp.WaitVisible(chromedp.CSS("#live li.rejected .reason-text")))
		if reason := text(t, bctx, "#live li.rejected .reason-text"); !strings.Contains(reason, "event") {
			t.Fatalf("rejection reason = %q", reason)
		}
		// An opened event stays open while the list refreshes.
		do(t, bctx, "open event", chromedp.Click(chromedp.CSS("#live li.accepted summary")))
		time.Sleep(2500 * time.Millisecond)
		if open := eval[bool](t, bctx, `document.querySelector("#live li.accepted details").open`); !open {
			t.Fatal("the refresh closed the opened event")
		}
		screenshot(t, bctx, "live-debugger")
	})

	t.Run("models", func(t *testing.T) {
		a.importSample()
		do(t, bctx, "models page", chromedp.Navigate(a.URL+"/models?calibration_end=1997-09-30&holdout_end=1998-06-30&model=bgnbd"),
			chromedp.WaitReady(chromedp.CSS(`canvas#tracking-chart[data-rendered="true"]`)))
		if n := eval[float64](t, bctx, `Chart.getChart("tracking-chart").data.datasets.length`); n != 2 {
			t.Fatalf("the tracking chart has %v lines, want actual and BG/NBD", n)
		}
		if last := eval[float64](t, bctx, `Chart.getChart("tracking-chart").data.datasets[0].data.at(-1)`); last != 4339 {
			t.Fatalf("actual at the end = %v, want 4339", last)
		}
		screenshot(t, bctx, "models")
	})

	t.Run("gdpr export and erasure", func(t *testing.T) {
		do(t, bctx, "360 page", chromedp.Navigate(a.URL+"/customers/"+annaID), chromedp.WaitVisible(chromedp.ID("gdpr-export")),
			chromedp.WaitVisible(chromedp.ID("erase-form")))
		// The export link downloads the customer's JSON with the browser's session.
		export, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(async () => {
			const r = await fetch(document.getElementById("gdpr-export").href);
			return [String(r.status), r.headers.get("Content-Type") || "", r.headers.get("Content-Disposition") || "", await r.text()];
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("fetch export: %v", err)
		}
		if export[0] != "200" || !strings.HasPrefix(export[1], "application/json") || !strings.HasPrefix(export[2], "attachment;") {
			t.Fatalf("export = %v", export[:3])
		}
		for _, want := range []string{annaID, "C-1001", "anna@example.de"} {
			if !strings.Contains(export[3], want) {
				t.Fatalf("the export lacks %q", want)
			}
		}
		do(t, bctx, "confirm erasure", chromedp.SendKeys(chromedp.ID("erase-confirm"), annaID))
		click(t, bctx, `#erase-form button[type="submit"]`)
		do(t, bctx, "erase result", chromedp.WaitVisible(chromedp.ID("erased")))
		if got := text(t, bctx, "#erased"); !strings.Contains(got, annaID) {
			t.Fatalf("erase result = %q", got)
		}
		if body := eval[string](t, bctx, "document.body.innerText"); strings.Contains(body, "Anna") || strings.Contains(body, "anna@example.de") {
			t.Fatal("the erase result page shows the erased customer's data")
		}
		screenshot(t, bctx, "gdpr-erased")
		resp, err := chromedp.Run(bctx, chromedp.NavigateResponse(a.URL+"/customers/"+annaID))
		if err != nil || resp.Status != 404 {
			t.Fatalf("erased customer page: %v %v", resp, err)
		}
	})

	t.Run("users and audit", func(t *testing.T) {
		do(t, bctx, "users page", chromedp.Navigate(a.URL+"/users"), chromedp.WaitVisible(chromedp.ID("create-user")))
		if body := eval[string](t, bctx, "document.body.innerText"); !strings.Contains(body, "Aaron Agent") {
			t.Fatal("the users page does not list the agent")
		}
		screenshot(t, bctx, "users")
		do(t, bctx, "audit page", chromedp.Navigate(a.URL+"/audit"), chromedp.WaitVisible(chromedp.ID("audit-table")))
		if got := text(t, bctx, "#audit-table"); !strings.Contains(got, "customer.erase") || !strings.Contains(got, "customer.export") {
			t.Fatalf("the audit page lacks the export and the erasure: %q", got)
		}
		screenshot(t, bctx, "audit")
	})

	t.Run("logout", func(t *testing.T) {
		click(t, bctx, `form.logout button`)
		if loc := eval[string](t, bctx, "location.pathname"); loc != "/login" {
			t.Fatalf("after logout at %s", loc)
		}
		do(t, bctx, "private page", chromedp.Navigate(a.URL+"/sources"))
		if loc := eval[string](t, bctx, "location.pathname"); loc != "/login" {
			t.Fatalf("after logout /sources shows %s", loc)
		}
	})
	t.Run("agent", func(t *testing.T) {
		if code := a.send(a.Shop.WriteKey, map[string]any{"type": "identify", "userId": "C-2002", "traits": map[string]any{"name": "Ben Becker"}}); code != 200 {
			t.Fatalf("send = %d", code)
		}
		a.settle()
		ben, err := a.Srv.Store.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "C-2002"})
		if err != nil {
			t.Fatal(err)
		}
		do(t, bctx, "login as agent", chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), "agent@kunding.test"),
			chromedp.SendKeys(chromedp.ID("password"), password))
		if _, err := chromedp.RunResponse(bctx, chromedp.SendKeys(chromedp.ID("password"), "\r")); err != nil {
			t.Fatalf("submit login: %v", err)
		}
		if got := text(t, bctx, ".user"); !strings.Contains(got, "Aaron Agent") {
			t.Fatalf("after login the header shows %q", got)
		}
		do(t, bctx, "360 page", chromedp.Navigate(a.URL+"/customers/"+ben.CustomerID), chromedp.WaitVisible(chromedp.CSS("h1")))
		if h := text(t, bctx, "h1"); h != "Ben Becker" {
			t.Fatalf("heading = %q", h)
		}
		if n := eval[float64](t, bctx, `document.querySelectorAll("#gdpr, #gdpr-export, #erase-form").length`); n != 0 {
			t.Fatalf("the agent sees %v GDPR controls", n)
		}
		forbidden := map[string]string{
			"en": "Your role may not open this page.",
			"de": "Ihre Rolle darf diese Seite nicht öffnen.",
		}
		for _, path := range []string{"/users", "/audit"} {
			resp, err := chromedp.Run(bctx, chromedp.NavigateResponse(a.URL+path))
			if err != nil || resp.Status != 403 {
				t.Fatalf("agent %s: %v %v", path, resp, err)
			}
			lang := eval[string](t, bctx, "document.documentElement.lang")
			want, ok := forbidden[lang]
			if !ok {
				t.Fatalf("403 page lang = %q", lang)
			}
			if body := eval[string](t, bctx, "document.body.innerText"); !strings.Contains(body, want) {
				t.Fatalf("agent %s shows %q, want %q", path, body, want)
			}
		}
		screenshot(t, bctx, "forbidden")
	})
	t.Logf("browser walk took %v", time.Since(start).Round(time.Millisecond))
}
