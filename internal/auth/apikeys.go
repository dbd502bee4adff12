package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/store"
)

// Scope is what an API key may do.
type Scope string

// The scopes of API keys. They are independent: a key has the ones it was
// given. read: GET routes; write: changing routes; admin: users, API keys,
// the audit log and GDPR export and erasure, whatever the method.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

// Scopes lists every scope.
var Scopes = []Scope{ScopeRead, ScopeWrite, ScopeAdmin}

// ParseScopes reads a comma-separated list of scopes ("read,write").
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, part := range strings.Split(s, ",") {
		sc := Scope(strings.ToLower(strings.TrimSpace(part)))
		if sc == "" {
			continue
		}
		if !slices.Contains(Scopes, sc) {
			return nil, invalid(fmt.Sprintf("scope %q: must be read, write or admin", strings.TrimSpace(part)))
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, invalid("scopes: give at least one of read, write, admin (comma-separated)")
	}
	slices.SortFunc(out, func(a, b Scope) int { return slices.Index(Scopes, a) - slices.Index(Scopes, b) })
	return out, nil
}

// Permission names something a route or page does. Each needs an API key
// scope, or for a logged-in user one of some roles.
type Permission string

// The permissions of Kunding (docs/security.md has the table).
const (
	PermAuthenticated    Permission = "authenticated"       // anyone who is logged in or has a key
	PermRead             Permission = "read"                // figures, the API description
	PermCustomers        Permission = "customers.read"      // search customers, the 360 view, timelines
	PermSourcesRead      Permission = "sources.read"        // sources with their write keys, rejected events
	PermSourcesWrite     Permission = "sources.write"       // create sources, rotate write keys
	PermAudit            Permission = "audit.read"          // the audit log
	PermGDPR             Permission = "gdpr"                // export and erase a person
	PermUsers            Permission = "users.manage"        // users, departments, API keys
	PermSurveysRead      Permission = "surveys.read"        // surveys, their links and statistics
	PermSurveysWrite     Permission = "surveys.write"       // create, change, close and delete surveys
	PermSurveysSend      Permission = "surveys.send"        // personal survey links, answers through the API
	PermCasesRead        Permission = "cases.read"          // cases, their history, boards and figures
	PermCasesWrite       Permission = "cases.write"         // create cases, change, assign, solve, reject, merge, notes
	PermCasesAdmin       Permission = "cases.admin"         // routing rules, SLA policies and calendars, case rules; run the escalation job
	PermTouchpointsRead  Permission = "touchpoints.read"    // the catalogue, figures, matrix, journey, proposals
	PermTouchpointsAdmin Permission = "touchpoints.admin"   // create, change, delete touchpoints; accept, merge, ignore proposals; rebuild
	PermCampaignsRead    Permission = "campaigns.read"      // campaigns, the campaign calendar, the contact policy and its check
	PermCampaignsWrite   Permission = "campaigns.write"     // register, change, upload recipients, schedule, send, cancel campaigns (own department)
	PermContactPolicy    Permission = "contactpolicy.admin" // change the contact policy
	PermConsentWrite     Permission = "consent.write"       // record a customer's consent or withdrawal
)

type rule struct {
	scope Scope // "" : any key
	roles []Role
}

var everyone = []Role{RoleAdmin, RoleCCO, RoleLead, RoleAgent, RoleAnalyst}

var rules = map[Permission]rule{
	PermAuthenticated:    {"", everyone},
	PermRead:             {ScopeRead, everyone},
	PermCustomers:        {ScopeRead, everyone},
	PermSourcesRead:      {ScopeRead, []Role{RoleAdmin, RoleAnalyst}},
	PermSourcesWrite:     {ScopeWrite, []Role{RoleAdmin}},
	PermAudit:            {ScopeAdmin, []Role{RoleAdmin, RoleCCO}},
	PermGDPR:             {ScopeAdmin, []Role{RoleAdmin, RoleCCO}},
	PermUsers:            {ScopeAdmin, []Role{RoleAdmin}},
	PermSurveysRead:      {ScopeRead, everyone},
	PermSurveysWrite:     {ScopeWrite, []Role{RoleAdmin, RoleCCO, RoleLead}},
	PermSurveysSend:      {ScopeWrite, []Role{RoleAdmin, RoleCCO, RoleLead, RoleAgent}},
	PermCasesRead:        {ScopeRead, everyone},
	PermCasesWrite:       {ScopeWrite, []Role{RoleAdmin, RoleCCO, RoleLead, RoleAgent}},
	PermCasesAdmin:       {ScopeAdmin, []Role{RoleAdmin, RoleCCO}},
	PermTouchpointsRead:  {ScopeRead, everyone},
	PermTouchpointsAdmin: {ScopeAdmin, []Role{RoleAdmin, RoleCCO}},
	PermCampaignsRead:    {ScopeRead, everyone},
	PermCampaignsWrite:   {ScopeWrite, []Role{RoleAdmin, RoleCCO, RoleLead, RoleAnalyst}},
	PermContactPolicy:    {ScopeAdmin, []Role{RoleAdmin, RoleCCO}},
	PermConsentWrite:     {ScopeWrite, []Role{RoleAdmin, RoleCCO, RoleLead, RoleAgent}},
}

// Permissions lists every permission.
func Permissions() []Permission {
	return []Permission{PermAuthenticated, PermRead, PermCustomers, PermSourcesRead, PermSourcesWrite, PermAudit, PermGDPR, PermUsers,
		PermSurveysRead, PermSurveysWrite, PermSurveysSend, PermCasesRead, PermCasesWrite, PermCasesAdmin,
		PermTouchpointsRead, PermTouchpointsAdmin, PermCampaignsRead, PermCampaignsWrite, PermContactPolicy, PermConsentWrite}
}

// PermissionScope is the API key scope a permission needs ("" for any key).
func PermissionScope(p Permission) Scope { return rules[p].scope }

// RoleCan reports whether users of role have permission p.
func RoleCan(role Role, p Permission) bool {
	r, ok := rules[p]
	return ok && slices.Contains(r.roles, role)
}

func (p *principal) can(perm Permission) bool {
	r, ok := rules[perm]
	if !ok {
		return false
	}
	if p.user != nil {
		return slices.Contains(r.roles, p.user.Role)
	}
	return r.scope == "" || slices.Contains(p.scopes, r.scope)
}

// Can reports whether the request of ctx has permission p (for showing or
// hiding a button; the routes check by themselves).
func Can(ctx context.Context, p Permission) bool {
	pr := principalFrom(ctx)
	return pr != nil && pr.can(p)
}

// RequirePermission refuses requests without permission p: 401 when nobody
// is authenticated, 403 when the role or the key's scopes do not allow it.
// It needs APIAuth (or Middleware) before it.
func RequirePermission(perm Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := principalFrom(r.Context())
			switch {
			case p == nil:
				loginRequired(w, r)
			case p.can(perm):
				next.ServeHTTP(w, r)
			case p.user != nil:
				var names []string
				for _, x := range rules[perm].roles {
					names = append(names, string(x))
				}
				refuse(w, r, http.StatusForbidden, fmt.Sprintf("your role %s may not do this (%s): it needs %s", p.user.Role, perm, strings.Join(names, " or ")))
			default:
				refuse(w, r, http.StatusForbidden, fmt.Sprintf("this API key lacks the scope %s that this route needs", rules[perm].scope))
			}
		})
	}
}

// APIKey is a key of the management API as listed (never the key itself).
type APIKey = store.APIKey

// APIKeyPrefix starts every API key, so that leaked keys are recognisable.
const APIKeyPrefix = "kdg_key_"

// CreateAPIKey makes a key with the given scopes. The key is returned once
// and stored only as its SHA-256.
func (s *Service) CreateAPIKey(ctx context.Context, name string, scopes []Scope) (APIKey, string, error) {
	name, err := validName("name", name, 80)
	if err != nil {
		return APIKey{}, "", err
	}
	if len(scopes) == 0 {
		return APIKey{}, "", invalid("scopes: give at least one of read, write, admin")
	}
	var names []string
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return APIKey{}, "", invalid(fmt.Sprintf("scope %q: must be read, write or admin", sc))
		}
		if !slices.Contains(names, string(sc)) {
			names = append(names, string(sc))
		}
	}
	secret := NewSecret(APIKeyPrefix)
	k := APIKey{ID: "key_" + NewSecret("")[:12], Name: name, KeyHash: hash(secret), Scopes: names,
		CreatedBy: audit.ActorFrom(ctx), CreatedAt: s.now()}
	if err := s.Store.CreateAPIKey(ctx, k); err != nil {
		return APIKey{}, "", err
	}
	if err := audit.Record(ctx, s.Store, audit.Entry{Action: audit.APIKeyCreate, Target: k.ID, Detail: "scopes " + strings.Join(names, ",")}); err != nil {
		return APIKey{}, "", err
	}
	return k, secret, nil
}

// APIKeys lists the keys, revoked ones included.
func (s *Service) APIKeys(ctx context.Context) ([]APIKey, error) {
	ks, err := s.Store.APIKeys(ctx)
	if ks == nil {
		ks = []APIKey{}
	}
	return ks, err
}

// RevokeAPIKey makes a key stop working at once.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) error {
	if err := s.Store.RevokeAPIKey(ctx, id, s.now()); err != nil {
		return err
	}
	return audit.Record(ctx, s.Store, audit.Entry{Action: audit.APIKeyRevoke, Target: id})
}

// Errors of API key authentication; APIAuth answers them with 401.
var (
	ErrKeyRevoked       = errors.New("this API key was revoked")
	ErrBootstrapRetired = errors.New("the bootstrap admin key no longer works because an admin user exists: log in, or use an API key ('kunding apikeys create')")
)

// keyPrincipal authenticates a bearer key: an API key, or the bootstrap
// admin key while no admin user exists.
func (s *Service) keyPrincipal(ctx context.Context, key string) (*principal, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > 200 {
		return nil, ErrUnauthorized
	}
	if strings.HasPrefix(key, AdminKeyPrefix) {
		if err := CheckAdminKey(ctx, s.Store, key); err != nil {
			return nil, err
		}
		has, err := s.HasAdmin(ctx)
		if err != nil {
			return nil, err
		}
		if has {
			return nil, ErrBootstrapRetired
		}
		return &principal{bootstrap: true, scopes: Scopes}, nil
	}
	k, err := s.Store.APIKeyByHash(ctx, hash(key))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	if !k.RevokedAt.IsZero() {
		return nil, ErrKeyRevoked
	}
	now := s.now()
	if now.Sub(k.LastUsedAt) > time.Minute {
		if err := s.Store.TouchAPIKey(ctx, k.ID, now); err != nil {
			s.opts.Log.Warn("note API key use", "key", k.ID, "err", err)
		}
	}
	p := &principal{keyID: k.ID}
	for _, sc := range k.Scopes {
		p.scopes = append(p.scopes, Scope(sc))
	}
	return p, nil
}

// APIAuth authenticates requests of the management API: a bearer API key,
// the bootstrap admin key (until an admin user exists), or a session cookie
// (unsafe methods then need the CSRF token). Anonymous requests get 401
// JSON. What a principal may do is checked per route by RequirePermission.
func (s *Service) APIAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if authz := r.Header.Get("Authorization"); authz != "" {
			key, ok := strings.CutPrefix(authz, "Bearer ")
			if !ok {
				refuse(w, r, http.StatusUnauthorized, "Authorization must be 'Bearer <API key>'")
				return
			}
			p, err := s.keyPrincipal(r.Context(), key)
			switch {
			case err == nil:
				next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
			case errors.Is(err, ErrUnauthorized):
				refuse(w, r, http.StatusUnauthorized, "wrong API key")
			case errors.Is(err, ErrKeyRevoked), errors.Is(err, ErrBootstrapRetired):
				refuse(w, r, http.StatusUnauthorized, err.Error())
			default:
				s.opts.Log.Error("check API key", "err", err)
				refuse(w, r, http.StatusServiceUnavailable, "the database does not answer; try again in a moment")
			}
			return
		}
		p := principalFrom(r.Context())
		if p == nil || p.sessionHash == "" {
			var err error
			p, err = s.session(r)
			if errors.Is(err, errNoSession) {
				refuse(w, r, http.StatusUnauthorized, "missing credentials: send Authorization: Bearer <API key>, or log in")
				return
			}
			if err != nil {
				s.opts.Log.Error("load session", "err", err)
				refuse(w, r, http.StatusServiceUnavailable, "the database does not answer; try again in a moment")
				return
			}
			r = r.WithContext(withPrincipal(r.Context(), p))
		}
		if unsafeMethod(r.Method) {
			if msg := csrfError(r, p); msg != "" {
				refuse(w, r, http.StatusForbidden, msg)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
