package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/web/i18n"
)

type usersData struct {
	page
	Users       []userRow
	Roles       []kindOption
	Departments []kindOption
	New         auth.NewUser // the create form's values, kept after an error
	Error       string       // of the create form
	EditID      string       // the user whose edit form failed
	EditError   string
	Saved       bool
}

type userRow struct {
	auth.User
	RoleName    string
	Roles       []kindOption
	Departments []kindOption
}

func (h *Handler) users(w http.ResponseWriter, r *http.Request) {
	h.renderUsers(w, r, http.StatusOK, usersData{Saved: r.URL.Query().Get("saved") != ""})
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, code int, d usersData) {
	d.page = h.page(r, "users.title", "users")
	l := d.L
	us, err := h.cfg.Auth.Users(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ds, err := h.cfg.Auth.Departments(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	roles := func(sel string) []kindOption {
		out := make([]kindOption, 0, len(auth.Roles))
		for _, x := range auth.Roles {
			out = append(out, kindOption{Value: string(x), Name: l.T("role." + string(x)), Selected: string(x) == sel})
		}
		return out
	}
	depts := func(sel string) []kindOption {
		out := make([]kindOption, 0, len(ds))
		for _, x := range ds {
			out = append(out, kindOption{Value: x.Name, Name: x.Name, Selected: strings.EqualFold(x.Name, sel)})
		}
		return out
	}
	for _, u := range us {
		d.Users = append(d.Users, userRow{User: u, RoleName: l.T("role." + string(u.Role)), Roles: roles(string(u.Role)), Departments: depts(u.Department)})
	}
	role := d.New.Role
	if role == "" {
		role = string(auth.RoleAgent)
	}
	d.Roles, d.Departments = roles(role), depts(d.New.Department)
	h.render(w, r, code, "users", d)
}

// userError translates an error of auth's user functions; auth names the
// refused field at the start of its message.
func userError(l i18n.Lang, err error) (int, string, bool) {
	switch {
	case errors.Is(err, auth.ErrLastAdmin):
		return http.StatusConflict, l.T("users.errLastAdmin"), true
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, l.T("users.errExists"), true
	case !errors.Is(err, auth.ErrInvalid):
		return 0, "", false
	}
	for _, f := range []string{"email", "name", "role", "department", "password"} {
		if strings.HasPrefix(err.Error(), f+" ") || strings.HasPrefix(err.Error(), f+":") {
			return http.StatusBadRequest, l.T("users.err." + f), true
		}
	}
	return http.StatusBadRequest, l.T("users.errInvalid"), true
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	n := auth.NewUser{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: r.PostFormValue("role"), Department: r.PostFormValue("department"), Password: r.PostFormValue("password")}
	_, err := h.cfg.Auth.CreateUser(r.Context(), n)
	if err == nil {
		http.Redirect(w, r, "/users?saved=1", http.StatusSeeOther)
		return
	}
	code, msg, ok := userError(i18n.FromRequest(r), err)
	if !ok {
		h.fail(w, r, err)
		return
	}
	n.Password = "" // never sent back
	h.renderUsers(w, r, code, usersData{New: n, Error: msg})
}

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id := r.PathValue("id")
	role, dept := r.PostFormValue("role"), r.PostFormValue("department")
	disabled := r.PostFormValue("disabled") != ""
	_, err := h.cfg.Auth.UpdateUser(r.Context(), id, auth.UserChange{Role: &role, Department: &dept, Disabled: &disabled})
	if err == nil {
		http.Redirect(w, r, "/users?saved=1#user-"+id, http.StatusSeeOther)
		return
	}
	code, msg, ok := userError(i18n.FromRequest(r), err)
	if !ok {
		h.fail(w, r, err)
		return
	}
	h.renderUsers(w, r, code, usersData{EditID: id, EditError: msg})
}
