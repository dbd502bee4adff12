package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestUsersPage(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		agent := a.client("en")
		agent.login("agent@kunding.test")
		if p := agent.get("/users"); p.Code != http.StatusForbidden {
			t.Fatalf("agent /users = %d", p.Code)
		}
		mustNotContain(t, agent.get("/"), `href="/users"`)

		c := a.client("en")
		c.login("admin@kunding.test")
		p := c.get("/users")
		if p.Code != 200 {
			t.Fatalf("/users = %d", p.Code)
		}
		mustContain(t, p, `href="/users" aria-current="page"`, "Ada Admin", "agent@kunding.test", `id="create-user"`, "Department lead")
		tok := c.csrf(p)

		// A refused user keeps the form's values, never the password.
		p = c.post("/users", url.Values{"csrf_token": {tok}, "email": {"bea@kunding.test"}, "name": {"Bea Lead"},
			"role": {"lead"}, "department": {"Marketing"}, "password": {"short"}})
		if p.Code != http.StatusBadRequest {
			t.Fatalf("short password = %d", p.Code)
		}
		mustContain(t, p, `id="create-error"`, "at least 12 characters", `value="bea@kunding.test"`, `value="Bea Lead"`, `<option value="lead" selected>`)
		mustNotContain(t, p, `value="short"`)
		p = c.post("/users", url.Values{"csrf_token": {tok}, "email": {"agent@kunding.test"}, "name": {"Twin"},
			"role": {"agent"}, "department": {"Service"}, "password": {password}})
		mustContain(t, p, "exists already")

		p = c.post("/users", url.Values{"csrf_token": {tok}, "email": {"bea@kunding.test"}, "name": {"Bea Lead"},
			"role": {"lead"}, "department": {"Marketing"}, "password": {password}})
		if p.Code != http.StatusSeeOther {
			t.Fatalf("create = %d:\n%s", p.Code, p.Body)
		}
		bea, err := a.Srv.Store.UserByEmail(ctx, "bea@kunding.test")
		if err != nil || bea.Role != "lead" || bea.Department != "Marketing" {
			t.Fatalf("bea = %+v %v", bea, err)
		}
		p = c.post("/users/"+bea.ID, url.Values{"csrf_token": {tok}, "role": {"cco"}, "department": {"Service"}})
		if p.Code != http.StatusSeeOther {
			t.Fatalf("update = %d:\n%s", p.Code, p.Body)
		}
		if bea, _ = a.Srv.Store.UserByID(ctx, bea.ID); bea.Role != "cco" || bea.Department != "Service" || bea.Disabled {
			t.Fatalf("bea after update = %+v", bea)
		}
		mustContain(t, c.get("/users?saved=1"), `id="users-saved"`)

		// The last admin stays an admin.
		admin := userID(t, a, "admin@kunding.test")
		p = c.post("/users/"+admin, url.Values{"csrf_token": {tok}, "role": {"agent"}, "department": {"Service"}})
		if p.Code != http.StatusConflict {
			t.Fatalf("demote last admin = %d", p.Code)
		}
		mustContain(t, p, `id="edit-error"`, "last enabled admin")

		de := a.client("de")
		de.login("admin@kunding.test")
		p = de.get("/users")
		mustContain(t, p, `<html lang="de">`, "Benutzer anlegen", "Abteilungsleitung")
		p = de.post("/users/"+admin, url.Values{"csrf_token": {de.csrf(p)}, "role": {"agent"}, "department": {"Service"}, "disabled": {"1"}})
		mustContain(t, p, "letzte aktive Admin")
	})
}

func userID(t *testing.T, a *app, email string) string {
	t.Helper()
	u, err := a.Srv.Store.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
