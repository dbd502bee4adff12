package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/store"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "kunding_session"

// Options configure a Service; zero values take the defaults.
type Options struct {
	// Secure marks cookies Secure always (set it behind a TLS-terminating
	// proxy); without it they are Secure when the request came over TLS.
	Secure bool
	// SessionTTL is how long a login lasts (default 12 hours: a working day).
	SessionTTL time.Duration
	// MaxFailures is how many failed logins of one e-mail address within
	// FailureWindow lock further attempts (default 5).
	MaxFailures int
	// MaxFailuresPerIP is the same per client address (default 20: a call
	// centre behind one NAT address must not lock itself out).
	MaxFailuresPerIP int
	// FailureWindow is the window of the rate limit (default 15 minutes).
	FailureWindow time.Duration
	// TrustProxy takes the client address from the last X-Forwarded-For
	// entry and TLS from X-Forwarded-Proto. Only behind a proxy that sets them.
	TrustProxy bool
	// Log receives warnings (never secrets); default slog.Default().
	Log *slog.Logger
	// Now is the clock (tests move it); default time.Now.
	Now func() time.Time
}

// Service is the user system: logins, sessions, CSRF tokens, API keys and
// the checks of roles and scopes.
type Service struct {
	Store store.Store
	opts  Options

	mu      sync.Mutex
	csrfKey []byte
	hashing chan struct{} // bounds concurrent argon2 hashing (19 MiB each)
}

// NewService returns the user system on st.
func NewService(st store.Store, opts Options) *Service {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.MaxFailuresPerIP <= 0 {
		opts.MaxFailuresPerIP = 20
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = 15 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{Store: st, opts: opts, hashing: make(chan struct{}, 4)}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// hash hashes a password, at most four at a time: argon2id takes 19 MiB
// each, and a burst of logins must not take the server's memory.
func (s *Service) hash(pw string) (string, error) {
	s.hashing <- struct{}{}
	defer func() { <-s.hashing }()
	return HashPassword(pw)
}

func (s *Service) verify(hash, pw string) (bool, bool, error) {
	s.hashing <- struct{}{}
	defer func() { <-s.hashing }()
	return VerifyPassword(hash, pw)
}

// Login errors. Login wraps them; test with errors.Is.
var (
	ErrBadCredentials = errors.New("wrong e-mail or password")
	ErrUserDisabled   = errors.New("this user is disabled; ask an admin")
	ErrRateLimited    = errors.New("too many failed logins")
)

// RateLimitError says until when logins are refused.
type RateLimitError struct {
	RetryAt time.Time
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many failed logins; try again in %s", time.Until(e.RetryAt).Round(time.Second))
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// RetryAfter returns how long to wait after a rate-limited login.
func RetryAfter(err error) (time.Duration, bool) {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return max(time.Until(rl.RetryAt), time.Second), true
	}
	return 0, false
}

// failureKey names a rate-limit counter without storing the e-mail or
// address itself.
func failureKey(kind, v string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + v))
	return kind + ":" + hex.EncodeToString(h[:16])
}

// ClientIP is the address of the client of r.
func (s *Service) ClientIP(r *http.Request) string {
	if s.opts.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Service) isTLS(r *http.Request) bool {
	return s.opts.Secure || r.TLS != nil || s.opts.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// checkRate refuses when the e-mail address or the client address has too
// many recent failures.
func (s *Service) checkRate(ctx context.Context, keys []string, limits []int) error {
	since := s.now().Add(-s.opts.FailureWindow)
	var until time.Time
	for i, k := range keys {
		n, oldest, err := s.Store.LoginFailures(ctx, k, since)
		if err != nil {
			return err
		}
		if n >= limits[i] {
			if t := oldest.Add(s.opts.FailureWindow); t.After(until) {
				until = t
			}
		}
	}
	if !until.IsZero() {
		return &RateLimitError{RetryAt: until}
	}
	return nil
}

func (s *Service) recordFailure(ctx context.Context, keys []string) {
	now := s.now()
	for _, k := range keys {
		if err := s.Store.AddLoginFailure(ctx, k, now, now.Add(-s.opts.FailureWindow)); err != nil {
			s.opts.Log.Warn("record failed login", "err", err)
		}
	}
}

// Login checks e-mail and password, starts a session and sets its cookie.
// Failed attempts are counted per e-mail address and per client address;
// past the limit Login refuses (a *RateLimitError, errors.Is ErrRateLimited)
// without checking the password.
func (s *Service) Login(w http.ResponseWriter, r *http.Request, email, password string) (User, error) {
	ctx := r.Context()
	email = strings.ToLower(strings.TrimSpace(email))
	keys := []string{failureKey("email", email), failureKey("ip", s.ClientIP(r))}
	if err := s.checkRate(ctx, keys, []int{s.opts.MaxFailures, s.opts.MaxFailuresPerIP}); err != nil {
		return User{}, err
	}
	u, err := s.Store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		burnHash(password)
		s.recordFailure(ctx, keys)
		// The address tried is not recorded: people type passwords into
		// the e-mail field.
		audit.Record(ctx, s.Store, audit.Entry{Actor: "anonymous", Action: audit.LoginFailed, Detail: "unknown e-mail address"})
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, err
	}
	ok, rehash, err := s.verify(u.PasswordHash, password)
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", u.ID, err)
	}
	if !ok {
		s.recordFailure(ctx, keys)
		audit.Record(ctx, s.Store, audit.Entry{Actor: "anonymous", Action: audit.LoginFailed, Target: u.ID, Detail: "wrong password"})
		return User{}, ErrBadCredentials
	}
	if u.Disabled {
		audit.Record(ctx, s.Store, audit.Entry{Actor: u.ID, Action: audit.LoginFailed, Target: u.ID, Detail: "user disabled"})
		return User{}, ErrUserDisabled
	}
	if rehash {
		if h, err := s.hash(password); err == nil {
			u.PasswordHash, u.UpdatedAt = h, s.now()
			if err := s.Store.UpdateUser(ctx, u); err != nil {
				s.opts.Log.Warn("renew password hash", "user", u.ID, "err", err)
			}
		}
	}
	// A session cookie the browser brought along is replaced, never reused
	// (no session fixation).
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		s.Store.DeleteSession(ctx, tokenHash(c.Value))
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return User{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	se := store.Session{TokenHash: tokenHash(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.opts.SessionTTL)}
	if err := s.Store.DeleteExpiredSessions(ctx, now); err != nil {
		s.opts.Log.Warn("delete expired sessions", "err", err)
	}
	if err := s.Store.CreateSession(ctx, se); err != nil {
		return User{}, err
	}
	if err := s.Store.ClearLoginFailures(ctx, keys[0]); err != nil {
		s.opts.Log.Warn("clear failed logins", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: se.ExpiresAt,
		MaxAge: int(s.opts.SessionTTL / time.Second), HttpOnly: true, Secure: s.isTLS(r), SameSite: http.SameSiteLaxMode})
	if err := audit.Record(ctx, s.Store, audit.Entry{Actor: u.ID, Action: audit.Login, Target: u.ID}); err != nil {
		return User{}, err
	}
	return userOf(u), nil
}

// Logout ends the session of r (if any) and clears its cookie.
func (s *Service) Logout(w http.ResponseWriter, r *http.Request) error {
	s.clearCookie(w, r)
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	h := tokenHash(c.Value)
	if _, u, err := s.Store.SessionByHash(r.Context(), h); err == nil {
		audit.Record(r.Context(), s.Store, audit.Entry{Actor: u.ID, Action: audit.Logout, Target: u.ID})
	}
	return s.Store.DeleteSession(r.Context(), h)
}

func (s *Service) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
		HttpOnly: true, Secure: s.isTLS(r), SameSite: http.SameSiteLaxMode})
}

// tokenHash is how a session token is stored: SHA-256, hex. A token is 32
// random bytes, so a fast hash is enough.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// principal is who makes a request: a session's user, an API key or the
// bootstrap admin key.
type principal struct {
	user        *User
	sessionHash string
	csrf        string
	keyID       string
	bootstrap   bool
	scopes      []Scope
}

func (p *principal) actor() string {
	switch {
	case p.user != nil:
		return p.user.ID
	case p.bootstrap:
		return "bootstrap-key"
	default:
		return "apikey:" + p.keyID
	}
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *principal) context.Context {
	return audit.WithActor(context.WithValue(ctx, principalKey{}, p), p.actor())
}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// UserFrom returns the logged-in user of a request context (set by
// Middleware or APIAuth for a session; not for API keys).
func UserFrom(ctx context.Context) (User, bool) {
	if p := principalFrom(ctx); p != nil && p.user != nil {
		return *p.user, true
	}
	return User{}, false
}

// Principal describes who makes a request.
type Principal struct {
	User      *User   `json:"user,omitempty"`
	APIKeyID  string  `json:"apiKeyId,omitempty"`
	Bootstrap bool    `json:"bootstrapKey,omitempty"`
	Scopes    []Scope `json:"scopes,omitempty"`
	Actor     string  `json:"actor"` // as the audit log names it
}

// PrincipalFrom returns who makes the request of ctx, if anyone.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p := principalFrom(ctx)
	if p == nil {
		return Principal{}, false
	}
	out := Principal{APIKeyID: p.keyID, Bootstrap: p.bootstrap, Scopes: p.scopes, Actor: p.actor()}
	if p.user != nil {
		u := *p.user
		out.User = &u
	}
	return out, true
}

// errNoSession means the request has no (valid) session.
var errNoSession = errors.New("no session")

// session loads the session of r's cookie. A missing, unknown or expired
// session, or one of a disabled user, is errNoSession.
func (s *Service) session(r *http.Request) (*principal, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, errNoSession
	}
	h := tokenHash(c.Value)
	se, u, err := s.Store.SessionByHash(r.Context(), h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	if !s.now().Before(se.ExpiresAt) {
		s.Store.DeleteSession(r.Context(), h)
		return nil, errNoSession
	}
	if u.Disabled {
		return nil, errNoSession
	}
	key, err := s.csrfSecret(r.Context())
	if err != nil {
		return nil, err
	}
	user := userOf(u)
	return &principal{user: &user, sessionHash: h, csrf: csrfFor(key, h)}, nil
}

// Middleware loads the session of the request (if any) into its context,
// where UserFrom, CSRFToken and the Require checks find it. A session that
// cannot be read because the database is down is answered 503.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if principalFrom(r.Context()) == nil {
			p, err := s.session(r)
			switch {
			case err == nil:
				r = r.WithContext(withPrincipal(r.Context(), p))
			case errors.Is(err, errNoSession):
				if _, cerr := r.Cookie(SessionCookie); cerr == nil {
					s.clearCookie(w, r)
				}
			default:
				s.opts.Log.Error("load session", "err", err)
				refuse(w, r, http.StatusServiceUnavailable, "the database does not answer; try again in a moment")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isAPI tells requests that get JSON errors.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// refuse answers an error: JSON under /api/, plain text elsewhere.
func refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	if isAPI(r) {
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kunding"`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, "%d %s\n\n%s\n", code, http.StatusText(code), msg)
}

// loginRequired answers an anonymous request: 401 JSON under /api/, else a
// redirect to the login page that comes back here.
func loginRequired(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		refuse(w, r, http.StatusUnauthorized, "login required: log in, or send Authorization: Bearer <API key>")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/login?next="+url.QueryEscape(SafeNext(r.URL.RequestURI())), http.StatusSeeOther)
}

// RequireUser refuses anonymous requests: 401 JSON under /api/, otherwise a
// 303 redirect to /login?next=<path>. It needs Middleware before it.
func (s *Service) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := UserFrom(r.Context()); !ok {
			loginRequired(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireRole lets only users of the given roles through: anonymous
// requests as RequireUser, other roles 403 (JSON under /api/, a plain page
// otherwise).
func RequireRole(roles ...Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, ok := UserFrom(r.Context())
			if !ok {
				loginRequired(w, r)
				return
			}
			for _, role := range roles {
				if u.Role == role {
					next.ServeHTTP(w, r)
					return
				}
			}
			names := make([]string, len(roles))
			for i, x := range roles {
				names[i] = string(x)
			}
			refuse(w, r, http.StatusForbidden, fmt.Sprintf("your role %s may not do this; it needs %s", u.Role, strings.Join(names, " or ")))
		})
	}
}

// SafeNext returns next if it is a path on this site, else "/": the target
// of a redirect after login must not lead elsewhere.
func SafeNext(next string) string {
	if next == "" || len(next) > 2000 || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
