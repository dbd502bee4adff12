package web_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"testing"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
)

func TestAuditPage(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		agent := a.client("en")
		agent.login("agent@kunding.test")
		if p := agent.get("/audit"); p.Code != http.StatusForbidden {
			t.Fatalf("agent /audit = %d", p.Code)
		}
		mustNotContain(t, agent.get("/"), `href="/audit"`)

		for i := 0; i < 60; i++ {
			if err := audit.Record(audit.WithActor(ctx, "robot"), a.Srv.Store, audit.Entry{Action: audit.CustomerView, Target: fmt.Sprintf("cus_%02d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.Auth.CreateUser(ctx, auth.NewUser{Email: "cco@kunding.test", Name: "Clara CCO", Role: "cco", Department: "Service", Password: password}); err != nil {
			t.Fatal(err)
		}
		c := a.client("en")
		c.login("cco@kunding.test")
		p := c.get("/audit")
		if p.Code != 200 {
			t.Fatalf("/audit = %d", p.Code)
		}
		mustContain(t, p, `href="/audit" aria-current="page"`, `id="audit-table"`, "auth.login", "cco@kunding.test", `id="audit-next"`)
		mustNotContain(t, p, `href="/users"`)

		p = c.get("/audit?action=customer.view&actor=robot")
		mustContain(t, p, "cus_59", "cus_10", `value="robot"`)
		mustNotContain(t, p, "cus_09", "auth.login</code>")
		next := regexp.MustCompile(`href="([^"]*)" rel="next"`).FindStringSubmatch(p.Body)
		if next == nil || next[1] == "" {
			t.Fatalf("no next link:\n%s", p.Body)
		}
		p = c.get(html.UnescapeString(next[1]))
		mustContain(t, p, "cus_09", "cus_00", "Newest entries")
		mustNotContain(t, p, "cus_10", `id="audit-next"`)

		p = c.get("/audit?target=cus_42")
		mustContain(t, p, "cus_42")
		mustNotContain(t, p, "cus_41")
		p = c.get("/audit?target=nobody")
		mustContain(t, p, `id="audit-none"`)
		p = c.get("/audit?action=DROP+TABLE")
		if p.Code != http.StatusBadRequest {
			t.Fatalf("bad action = %d", p.Code)
		}
		mustContain(t, p, `id="audit-error"`, "customer.view", `value="DROP TABLE"`)

		de := a.client("de")
		de.login("admin@kunding.test")
		p = de.get("/audit")
		mustContain(t, p, `<html lang="de">`, "Audit-Log", "Ältere Einträge", `href="/users"`)
		p = de.get("/audit?action=x")
		mustContain(t, p, "Eine Aktion sieht aus wie customer.view")
	})
}
