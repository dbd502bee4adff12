package web

import (
	"context"
	"net/http"

	"github.com/kunding/kunding/internal/auth"
)

// Auth is what the web app needs of the user system; *auth.Service is it.
// Users, passwords, sessions and CSRF tokens are auth's business; the web
// app asks auth.UserFrom who is there and auth.CSRFToken what forms carry.
type Auth interface {
	// Middleware loads the session's user (if any) into the request context.
	Middleware(http.Handler) http.Handler
	// RequireUser refuses anonymous requests (a redirect to /login).
	RequireUser(http.Handler) http.Handler
	// CheckCSRF refuses unsafe requests without the session's CSRF token.
	CheckCSRF(http.Handler) http.Handler
	// Login checks the credentials and starts a session.
	Login(w http.ResponseWriter, r *http.Request, email, password string) (auth.User, error)
	// Logout ends the session.
	Logout(w http.ResponseWriter, r *http.Request) error
	// User management (the /users page); the audit log names the actor.
	Users(ctx context.Context) ([]auth.User, error)
	Departments(ctx context.Context) ([]auth.Department, error)
	CreateUser(ctx context.Context, n auth.NewUser) (auth.User, error)
	UpdateUser(ctx context.Context, id string, ch auth.UserChange) (auth.User, error)
}

var _ Auth = (*auth.Service)(nil)
