package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/kunding/kunding/internal/auth"
)

type loginData struct {
	page
	Email string
	Next  string
	Error string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	next := auth.SafeNext(r.URL.Query().Get("next"))
	if _, ok := auth.UserFrom(r.Context()); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", loginData{page: h.page(r, "login.title", ""), Next: next})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := auth.SafeNext(r.PostFormValue("next"))
	_, err := h.cfg.Auth.Login(w, r, email, r.PostFormValue("password"))
	if err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d := loginData{page: h.page(r, "login.title", ""), Email: email, Next: next}
	code := http.StatusUnauthorized
	switch {
	case errors.Is(err, auth.ErrRateLimited):
		code, d.Error = http.StatusTooManyRequests, d.L.T("login.rateLimited")
		if wait, ok := auth.RetryAfter(err); ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.5)))
		}
	case errors.Is(err, auth.ErrBadCredentials) || errors.Is(err, auth.ErrUserDisabled):
		// Disabled users hear the same as wrong passwords: the page does
		// not tell strangers which addresses have accounts.
		d.Error = d.L.T("login.wrong")
	default:
		h.log.Error("web: login", "err", err)
		code, d.Error = http.StatusServiceUnavailable, d.L.T("error.unavailable")
	}
	h.render(w, r, code, "login", d)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Auth.Logout(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
