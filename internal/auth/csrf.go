package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/kunding/kunding/internal/store"
)

// CSRFField and CSRFHeader carry the CSRF token of a form or a script.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

const csrfSecretSetting = "csrf_secret"

// csrfSecret returns the server's CSRF key, created on first use and kept
// in settings so that every node computes the same tokens.
func (s *Service) csrfSecret(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.csrfKey != nil {
		return s.csrfKey, nil
	}
	key, err := store.SharedSecret(ctx, s.Store, csrfSecretSetting)
	if err != nil {
		return nil, err
	}
	s.csrfKey = key
	return key, nil
}

// csrfFor is the CSRF token of a session: an HMAC of the session's stored
// hash. It needs no storage, changes with every login and is worthless
// without the server's key.
func csrfFor(key []byte, sessionHash string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("csrf\x00" + sessionHash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CSRFToken returns the CSRF token of the request's session ("" without
// one). Forms carry it in the field csrf_token, scripts in the header
// X-CSRF-Token. It needs Middleware (or APIAuth) before it.
func CSRFToken(r *http.Request) string {
	if p := principalFrom(r.Context()); p != nil {
		return p.csrf
	}
	return ""
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions && m != http.MethodTrace
}

var crossOrigin = http.NewCrossOriginProtection()

// csrfError says what is wrong with an unsafe request of a session, or nil.
func csrfError(r *http.Request, p *principal) string {
	if err := crossOrigin.Check(r); err != nil {
		return "cross-origin request refused"
	}
	if p == nil || p.sessionHash == "" {
		return ""
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	if got == "" || !hmac.Equal([]byte(got), []byte(p.csrf)) {
		return "missing or wrong CSRF token: reload the page (forms send the field " + CSRFField + ", scripts the header " + CSRFHeader + ")"
	}
	return ""
}

// CheckCSRF refuses (403) unsafe requests (POST, PUT, PATCH, DELETE) of a
// session that lack its CSRF token, and unsafe cross-origin requests of
// browsers (Sec-Fetch-Site / Origin) even without a session, which covers
// the login form. Requests that carry an API key (Authorization: Bearer)
// are not cookie-authenticated and pass to APIAuth; so does the collection
// API under /v1/, which is cross-origin by design. It needs Middleware
// before it.
func (s *Service) CheckCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !unsafeMethod(r.Method) || strings.HasPrefix(r.URL.Path, "/v1/") || isBearer(r) {
			next.ServeHTTP(w, r)
			return
		}
		p := principalFrom(r.Context())
		if p == nil {
			var err error
			if p, err = s.session(r); err != nil && !errors.Is(err, errNoSession) {
				refuse(w, r, http.StatusServiceUnavailable, "the database does not answer; try again in a moment")
				return
			}
		}
		if msg := csrfError(r, p); msg != "" {
			refuse(w, r, http.StatusForbidden, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isBearer(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ")
}
