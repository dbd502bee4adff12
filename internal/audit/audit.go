// Package audit is the audit log of Kunding: who looked at which customer,
// who changed, exported or erased what, and when. Entries are appended to
// the store and never changed; they hold ids and counts, never personal data
// of customers, so that an erasure need not touch them.
package audit

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/store"
)

// Entry is one line of the audit log.
type Entry = store.AuditEntry

// Filter selects entries (see store.AuditFilter).
type Filter = store.AuditFilter

// Actions recorded by Kunding. Other packages may record more; an action is
// "<object>.<verb>" in lower case.
const (
	CustomerView     = "customer.view"
	CustomerSearch   = "customer.search"
	CustomerExport   = "customer.export"
	CustomerErase    = "customer.erase"
	UserCreate       = "user.create"
	UserUpdate       = "user.update"
	DepartmentCreate = "department.create"
	APIKeyCreate     = "apikey.create"
	APIKeyRevoke     = "apikey.revoke"
	SourceCreate     = "source.create"
	SourceRotateKey  = "source.rotate_key"
	Login            = "auth.login"
	LoginFailed      = "auth.login_failed"
	Logout           = "auth.logout"
)

// SystemActor is the actor of what Kunding does by itself.
const SystemActor = "system"

// MaxLimit is the largest page of List.
const MaxLimit = 1000

const (
	maxDetail    = 2000
	maxTarget    = 200
	maxActor     = 200
	defaultLimit = 100
)

var actionRE = regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z][a-z_]*)+$`)

type actorKey struct{}

// WithActor returns ctx carrying the actor that Record writes when an entry
// names none: a user id, "apikey:<id>", "bootstrap-key", "cli:<user>" or
// "system". Package auth sets it for every authenticated request.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor of ctx, or "system".
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return SystemActor
}

// ErrInvalid marks an entry that cannot be recorded.
var ErrInvalid = errors.New("invalid audit entry")

// Record appends e to the audit log. An empty Actor is taken from ctx, a
// zero At is now. Callers record before they answer, and refuse to answer
// when recording fails: an access that cannot be audited does not happen.
func Record(ctx context.Context, st store.Store, e Entry) error {
	if e.Actor == "" {
		e.Actor = ActorFrom(ctx)
	}
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	if !actionRE.MatchString(e.Action) {
		return fmt.Errorf("%w: action %q must look like object.verb", ErrInvalid, e.Action)
	}
	e.Actor = clip(e.Actor, maxActor)
	e.Target = clip(e.Target, maxTarget)
	e.Detail = clip(e.Detail, maxDetail)
	if _, err := st.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// List reads entries, newest first.
func List(ctx context.Context, st store.Store, f Filter) ([]Entry, error) {
	if f.Limit <= 0 {
		f.Limit = defaultLimit
	}
	if f.Limit > MaxLimit {
		f.Limit = MaxLimit
	}
	es, err := st.AuditEntries(ctx, f)
	if es == nil {
		es = []Entry{}
	}
	return es, err
}

// ParseFilter reads a filter from query parameters: actor, action, target,
// since (RFC 3339 time or YYYY-MM-DD), before (an entry id, for the next
// page) and limit (1 to 1000). It says what is wrong with a bad value.
func ParseFilter(q url.Values) (Filter, error) {
	var f Filter
	for k := range q {
		switch k {
		case "actor", "action", "target", "since", "before", "limit":
		default:
			return f, fmt.Errorf("unknown parameter %q: use actor, action, target, since, before, limit", k)
		}
	}
	f.Actor = strings.TrimSpace(q.Get("actor"))
	f.Action = strings.TrimSpace(q.Get("action"))
	f.Target = strings.TrimSpace(q.Get("target"))
	if len(f.Actor) > maxActor || len(f.Target) > maxTarget || len(f.Action) > 100 {
		return f, errors.New("actor, action and target are at most 200 characters")
	}
	if f.Action != "" && !actionRE.MatchString(f.Action) {
		return f, fmt.Errorf("action %q: an action looks like customer.view", f.Action)
	}
	if v := strings.TrimSpace(q.Get("since")); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t, err = time.Parse(time.DateOnly, v)
		}
		if err != nil {
			return f, fmt.Errorf("since %q: use an RFC 3339 time (2026-11-22T10:00:00Z) or a date (2026-11-22)", v)
		}
		f.Since = t
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, fmt.Errorf("before %q: use the id of the last entry of the previous page", v)
		}
		f.Before = n
	}
	f.Limit = defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return f, fmt.Errorf("limit must be a whole number from 1 to %d", MaxLimit)
		}
		f.Limit = n
	}
	return f, nil
}
