package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/webhook"
)

// caseStart is Monday 2 March 2026, 09:00 in Berlin: a working day.
var caseStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CET", 3600))

// caseApp is a real server whose case clock the test moves, with the
// people of a service department: an agent, their lead, the CCO and an
// admin.
type caseApp struct {
	*app
	Clock *cases.ManualClock
	Users map[string]auth.User // by role
}

func startCaseApp(t testing.TB, db string) *caseApp {
	t.Helper()
	clk := cases.NewManualClock(caseStart)
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: db,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), CaseClock: clk, CaseEscalateEvery: time.Hour})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	a := &caseApp{app: &app{t: t, URL: "http://" + srv.Addr, Srv: srv, Auth: srv.Auth}, Clock: clk, Users: map[string]auth.User{}}
	actx := audit.WithActor(ctx, "test")
	for _, u := range []auth.NewUser{
		{Email: "admin@kunding.test", Name: "Ada Admin", Role: "admin", Department: "Service", Password: password},
		{Email: "agent@kunding.test", Name: "Aaron Agent", Role: "agent", Department: "Service", Password: password},
		{Email: "lead@kunding.test", Name: "Lena Lead", Role: "lead", Department: "Service", Password: password},
		{Email: "cco@kunding.test", Name: "Carla CCO", Role: "cco", Department: "Service", Password: password},
		{Email: "analyst@kunding.test", Name: "Anja Analyst", Role: "analyst", Department: "Marketing", Password: password},
	} {
		nu, err := a.Auth.CreateUser(actx, u)
		if err != nil {
			t.Fatalf("create user %s: %v", u.Email, err)
		}
		a.Users[u.Role] = nu
	}
	if a.Shop, err = source.Create(ctx, srv.Store, "Web shop", "shop"); err != nil {
		t.Fatal(err)
	}
	return a
}

// customer sends one identified customer and returns her id.
func (a *caseApp) customer(userID, name string) string {
	a.t.Helper()
	if code := a.send(a.Shop.WriteKey, map[string]any{"type": "identify", "userId": userID, "traits": map[string]any{"name": name}}); code != 200 {
		a.t.Fatalf("send: %d", code)
	}
	a.settle()
	p, err := a.Srv.Store.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: userID})
	if err != nil {
		a.t.Fatal(err)
	}
	return p.CustomerID
}

var caseIDRE = regexp.MustCompile(`/cases/(case_[0-9a-f]+)`)

func formOf(c *client, p page, kv ...string) url.Values {
	f := url.Values{"csrf_token": {c.csrf(p)}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

var versionRE = regexp.MustCompile(`name="version" value="(\d+)"`)

func version(t testing.TB, p page) string {
	t.Helper()
	m := versionRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no version on the case page:\n%s", p.Body)
	}
	return m[1]
}

// TestCasePages walks the case pages over HTTP on both stores: an agent
// opens a case on the customer page, the board shows it, the case page
// changes it (with refusals), a lead moves several at once, deadlines
// escalate, the overview, the figures and German texts.
func TestCasePages(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startCaseApp(t, db)
		cust := a.customer("C-3003", "Clara Christ")

		agent := a.client("en")
		agent.login("agent@kunding.test")
		p := agent.get("/customers/" + cust)
		mustContain(t, p, `id="cases"`, "No open cases.", `action="/customers/`+cust+`/cases"`)
		// Refused without a subject: back on the customer page with the reason.
		p = agent.post("/customers/"+cust+"/cases", formOf(agent, p, "type", "complaint", "channel", "phone", "subject", ""))
		if p.Code != http.StatusSeeOther || !strings.Contains(p.Location, "case_err=invalid") {
			t.Fatalf("create without subject: %d %s", p.Code, p.Location)
		}
		mustContain(t, agent.get(p.Location), `id="case-create-error"`, "subject or description is required")
		p = agent.post("/customers/"+cust+"/cases", formOf(agent, agent.get("/customers/"+cust), "type", "complaint", "channel", "phone",
			"subject", "Lieferung kam beschädigt an", "description", "Karton eingedrückt, Vase zerbrochen."))
		m := caseIDRE.FindStringSubmatch(p.Location)
		if p.Code != http.StatusSeeOther || m == nil {
			t.Fatalf("create: %d %s\n%s", p.Code, p.Location, p.Body)
		}
		id := m[1]
		p = agent.get(p.Location)
		mustContain(t, p, "Lieferung kam beschädigt an", "The case was created.", "Service", "Clara Christ",
			"Routed", "default queue", "First response due", "8 h 00 min left", "Resolution due", "40 h 00 min left", "Deadlines set")
		// The customer page lists the open case.
		mustContain(t, agent.get("/customers/"+cust), `href="/cases/`+id+`"`, "Lieferung kam beschädigt an")

		// The board of the agent's department: new and open, not mine yet.
		p = agent.get("/cases")
		mustContain(t, p, "Cases of Service", `href="/cases/`+id+`"`, `data-view="new"`)
		mustNotContain(t, p, `id="bulk"`) // agents do not act in bulk
		mustContain(t, agent.get("/cases?view=mine"), `id="no-cases"`)
		mustContain(t, agent.get("/cases?view=new&type=complaint&age=0-1d"), `href="/cases/`+id+`"`)
		mustContain(t, agent.get("/cases?type=request"), `id="no-cases"`)
		mustContain(t, agent.get("/cases?owner=none"), `href="/cases/`+id+`"`)
		// htmx asks for the board alone.
		req, _ := http.NewRequest("GET", a.URL+"/cases?view=open", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", "board")
		resp, err := agent.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `id="board"`) || strings.Contains(string(body), "<html") ||
			!strings.Contains(string(body), `name="back" value="/cases?view=open"`) {
			t.Fatalf("htmx board part: %s", body)
		}

		// Solving needs a resolution note; an old version is refused.
		p = agent.get("/cases/" + id)
		p = agent.post("/cases/"+id+"/transition", formOf(agent, p, "version", version(t, p), "status", "solved"))
		mustContain(t, agent.get(p.Location), `id="case-err"`, "resolution note")
		p = agent.get("/cases/" + id)
		p = agent.post("/cases/"+id+"/transition", formOf(agent, p, "version", "99", "status", "open"))
		mustContain(t, agent.get(p.Location), "Someone changed the case meanwhile")
		p = agent.get("/cases/" + id)
		p = agent.post("/cases/"+id+"/note", formOf(agent, p, "note", "Kundin angerufen, Foto angefordert", "public", "1"))
		mustContain(t, agent.get(p.Location), "The note was added.", "Kundin angerufen, Foto angefordert", "answer to customer", "First response")

		// The lead reassigns to the agent and raises the priority of both
		// the case and a second one, in bulk.
		second, err := a.Srv.Cases.Create(audit.WithActor(ctx, a.Users["agent"].ID), cases.NewCase{CustomerID: cust, Type: "request", Subject: "Rechnung als PDF"})
		if err != nil {
			t.Fatal(err)
		}
		lead := a.client("en")
		lead.login("lead@kunding.test")
		p = lead.get("/cases")
		mustContain(t, p, `id="bulk"`, `href="/cases/`+second.ID+`"`)
		p = lead.post("/cases/bulk", formOf(lead, p, "ids", id, "ids", second.ID, "action", "assign", "department", "Service",
			"owner", a.Users["agent"].ID, "reason", "Aaron kennt die Kundin", "back", "/cases?view=open"))
		if p.Code != http.StatusSeeOther || !strings.Contains(p.Location, "msg=bulkDone") || !strings.Contains(p.Location, "n=2%2F2") {
			t.Fatalf("bulk assign: %d %s", p.Code, p.Location)
		}
		mustContain(t, lead.get(p.Location), "Changed: 2/2 cases.")
		p = lead.post("/cases/bulk", formOf(lead, lead.get("/cases"), "ids", id, "ids", second.ID, "action", "priority", "priority", "high", "reason", "VIP"))
		mustContain(t, lead.get(p.Location), "Changed: 2/2 cases.")
		mustContain(t, agent.get("/cases?view=mine&priority=high"), `href="/cases/`+id+`"`, `href="/cases/`+second.ID+`"`)
		// A bulk status change: solving without a resolution note is refused
		// per case and counted; waiting for the department is fine.
		p = lead.post("/cases/bulk", formOf(lead, lead.get("/cases"), "ids", second.ID, "action", "transition", "status", "solved", "back", "/cases?view=mine"))
		if !strings.Contains(p.Location, "n=0%2F1") || !strings.Contains(p.Location, "err=invalid") || !strings.HasPrefix(p.Location, "/cases?") {
			t.Fatalf("bulk solve without note: %s", p.Location)
		}
		mustContain(t, lead.get(p.Location), "Changed: 0/1 cases.", "resolution note")
		p = lead.post("/cases/bulk", formOf(lead, lead.get("/cases"), "ids", second.ID, "action", "transition", "status", "waiting_department", "reason", "Buchhaltung"))
		mustContain(t, lead.get(p.Location), "Changed: 1/1 cases.")
		if c, _ := a.Srv.Cases.Get(ctx, second.ID); c.Status != "waiting_department" {
			t.Fatalf("bulk transition: status %s", c.Status)
		}
		// Agents may not act in bulk.
		if p := agent.post("/cases/bulk", formOf(agent, agent.get("/cases"), "ids", id, "action", "priority", "priority", "low")); p.Code != http.StatusForbidden {
			t.Fatalf("agent bulk: %d", p.Code)
		}
		p = agent.get("/cases/" + id)
		mustContain(t, p, "Reassigned", "Aaron kennt die Kundin", "Aaron Agent", "Lena Lead", "VIP", "<del>Normal</del>", "<ins>High</ins>")

		// Time passes: three weeks later the case is overdue and escalates
		// to the lead and then to the CCO.
		a.Clock.Advance(21 * 24 * time.Hour)
		res, err := a.Srv.Cases.Tick(ctx)
		if err != nil || res.ToCCO != 2 {
			t.Fatalf("escalation: %+v %v", res, err)
		}
		p = agent.get("/cases/" + id)
		mustContain(t, p, `id="case-level"`, "CCO", "overdue by", "Escalated", "lead of Service", "Notified", "Lena Lead", "Carla CCO")
		cco := a.client("de")
		cco.login("cco@kunding.test")
		p = cco.get("/cases/overview")
		mustContain(t, p, "Eskalationen über alle Abteilungen", `id="esc-`+id+`"`, "Lieferung kam beschädigt an", "Service")
		mustContain(t, cco.get("/cases?dept=&view=escalated"), `href="/cases/`+id+`"`, "Fälle")
		p = cco.get("/cases/" + id)
		mustContain(t, p, "Verlauf", "Eskaliert", "überfällig", "Abteilungsleitung", "Lösung fällig")

		// The agent solves the case with a note; it leaves the boards and the customer page.
		p = agent.get("/cases/" + id)
		p = agent.post("/cases/"+id+"/transition", formOf(agent, p, "version", version(t, p), "status", "solved", "resolution", "Ersatz verschickt, Gutschein 10 €"))
		p = agent.get(p.Location)
		mustContain(t, p, "Solved", "Ersatz verschickt, Gutschein 10 €", `data-status="solved"`)
		mustNotContain(t, agent.get("/customers/"+cust), `href="/cases/`+id+`"`)
		mustNotContain(t, cco.get("/cases/overview"), `id="esc-`+id+`"`)

		// The figures page counts the cases.
		p = cco.get("/cases/figures?from=2026-03-01&to=2026-03-31&interval=week")
		if p.Code != 200 {
			t.Fatalf("figures: %d\n%s", p.Code, p.Body)
		}
		mustContain(t, p, "Kennzahlen der Fälle", `id="series-chart"`, `id="backlog-chart"`, "Erstlösungsquote", `id="dept-table"`)
		if p := cco.get("/cases/figures?from=gestern"); p.Code != http.StatusUnprocessableEntity {
			t.Fatalf("figures with a bad date: %d", p.Code)
		}
		// Analysts read but do not change cases.
		an := a.client("en")
		an.login("analyst@kunding.test")
		if p := an.get("/cases/" + id); p.Code != 200 || strings.Contains(p.Body, `id="move-form"`) {
			t.Fatalf("analyst case page: %d", p.Code)
		}
		if p := an.post("/cases/"+id+"/note", formOf(an, an.get("/cases/"+id), "note", "x")); p.Code != http.StatusForbidden {
			t.Fatalf("analyst note: %d", p.Code)
		}
		if p := agent.get("/cases/case_nothing"); p.Code != 404 {
			t.Fatalf("unknown case: %d", p.Code)
		}
	})
}

// TestWebhooksPage registers an endpoint on the admin page, sees the
// secret once, follows a signed delivery into the log and switches the
// endpoint off.
func TestWebhooksPage(t *testing.T) {
	a := startCaseApp(t, "")
	var mu sync.Mutex
	var secret string
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), b, 0, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var pl webhook.Payload
		json.Unmarshal(b, &pl)
		got = append(got, pl.Type+" "+pl.Data.Case.Subject)
	}))
	defer recv.Close()

	agent := a.client("en")
	agent.login("agent@kunding.test")
	if p := agent.get("/webhooks"); p.Code != http.StatusForbidden {
		t.Fatalf("agent /webhooks: %d", p.Code)
	}
	admin := a.client("en")
	admin.login("admin@kunding.test")
	p := admin.get("/webhooks")
	mustContain(t, p, `id="no-webhooks"`, `href="/webhooks"`)
	p = admin.post("/webhooks", formOf(admin, p, "url", "ftp://nope", "events", "case.created"))
	if p.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad url: %d", p.Code)
	}
	mustContain(t, p, `id="webhooks-error"`, "ftp://nope")
	p = admin.post("/webhooks", formOf(admin, admin.get("/webhooks"), "url", recv.URL+"/kunding", "events", "case.created", "events", "case.solved",
		"description", "Ticketing"))
	if p.Code != http.StatusCreated {
		t.Fatalf("create: %d\n%s", p.Code, p.Body)
	}
	m := regexp.MustCompile(`<code id="secret-value">(whsec_[0-9a-f]+)</code>`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("the secret is not shown:\n%s", p.Body)
	}
	mu.Lock()
	secret = m[1]
	mu.Unlock()
	if strings.Contains(admin.get("/webhooks").Body, secret) {
		t.Fatal("the secret is shown again")
	}
	cust := a.customer("C-4004", "Dora Dietz")
	p = agent.post("/customers/"+cust+"/cases", formOf(agent, agent.get("/customers/"+cust), "type", "request", "channel", "email", "subject", "Adresse ändern"))
	if p.Code != http.StatusSeeOther {
		t.Fatalf("create case: %d", p.Code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got[0] != "case.created Adresse ändern" {
		t.Fatalf("received %v", got)
	}
	// The log shows the delivery (the dispatcher stores the outcome right after the answer).
	for time.Now().Before(deadline) {
		if p = admin.get("/webhooks?status=delivered"); strings.Contains(p.Body, `class="dl-delivered"`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustContain(t, p, "case.created", "delivered", "HTTP 200")
	eps, _ := a.Srv.Store.(store.WebhookStore).Webhooks(ctx)
	p = admin.post("/webhooks/"+eps[0].ID, formOf(admin, admin.get("/webhooks"), "action", "disable"))
	mustContain(t, admin.get(p.Location), "The endpoint is off.")
	entries, _ := a.Srv.Store.AuditEntries(ctx, store.AuditFilter{})
	var acts []string
	for _, e := range entries {
		acts = append(acts, e.Action)
	}
	if s := strings.Join(acts, " "); !strings.Contains(s, "webhook.create") || !strings.Contains(s, "webhook.update") {
		t.Fatalf("audit log: %v", acts)
	}
}
