package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/gdpr"
)

// me tells the caller who the API thinks it is.
func (a *API) me(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	out := map[string]any{"actor": p.Actor}
	switch {
	case p.User != nil:
		out["user"] = p.User
		out["csrfToken"] = auth.CSRFToken(r)
	case p.Bootstrap:
		out["bootstrapKey"] = true
		out["scopes"] = p.Scopes
	default:
		out["apiKeyId"] = p.APIKeyID
		out["scopes"] = p.Scopes
	}
	var perms []auth.Permission
	for _, x := range auth.Permissions() {
		if auth.Can(r.Context(), x) {
			perms = append(perms, x)
		}
	}
	out["permissions"] = perms
	writeJSON(w, http.StatusOK, out)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := a.Auth.Users(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var in auth.NewUser
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	u, err := a.Auth.CreateUser(r.Context(), in)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := a.Auth.UserByID(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	var ch auth.UserChange
	if err := decodeJSON(r, &ch); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if ch == (auth.UserChange{}) {
		writeError(w, http.StatusBadRequest, "nothing to change: give name, role, department, disabled or password")
		return
	}
	u, err := a.Auth.UpdateUser(r.Context(), r.PathValue("id"), ch)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (a *API) listDepartments(w http.ResponseWriter, r *http.Request) {
	ds, err := a.Auth.Departments(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"departments": ds})
}

func (a *API) createDepartment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	d, err := a.Auth.CreateDepartment(r.Context(), in.Name)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := a.Auth.APIKeys(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"apiKeys": ks})
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	scopes, err := auth.ParseScopes(strings.Join(in.Scopes, ","))
	if err != nil {
		a.fail(w, err)
		return
	}
	k, secret, err := a.Auth.CreateAPIKey(r.Context(), in.Name, scopes)
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"apiKey": k, "key": secret,
		"note": "the key is shown this once; Kunding keeps only its hash"})
}

func (a *API) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	if err := a.Auth.RevokeAPIKey(r.Context(), r.PathValue("id")); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": r.PathValue("id")})
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) {
	f, err := audit.ParseFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	es, err := audit.List(r.Context(), a.Store, f)
	if err != nil {
		a.fail(w, err)
		return
	}
	resp := map[string]any{"entries": es}
	if len(es) == f.Limit {
		resp["next"] = es[len(es)-1].ID
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *API) exportCustomer(w http.ResponseWriter, r *http.Request) {
	doc, err := gdpr.Export(r.Context(), a.Store, r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="kunding-export-%s.json"`, doc.CustomerID))
	writeJSON(w, http.StatusOK, doc)
}

func (a *API) eraseCustomer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in struct {
		Confirm string `json:"confirm"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if in.Confirm != id {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`erasure cannot be undone: confirm it with the body {"confirm": %q}`, id))
		return
	}
	rep, err := gdpr.Erase(r.Context(), a.Store, id, gdpr.EraseOptions{Wait: 10 * time.Second, Before: a.BeforeErase})
	if err != nil {
		a.fail(w, fmt.Errorf("erase customer %s: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
