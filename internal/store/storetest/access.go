package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

// testUsersAndSessions: users, departments and sessions as package auth
// uses them.
func testUsersAndSessions(t *testing.T, s store.Store) {
	ds, err := s.Departments(ctx)
	if err != nil || len(ds) != 5 {
		t.Fatalf("default departments: %v %v", ds, err)
	}
	if err := s.CreateDepartment(ctx, store.Department{Name: "Sales", CreatedAt: base}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate department: %v", err)
	}
	u := store.User{ID: "u1", Email: "a@example.org", Name: "A", Role: "agent", Department: "Sales", PasswordHash: "$argon2id$x", CreatedAt: base, UpdatedAt: base}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	dup := u
	dup.ID = "u2"
	if err := s.CreateUser(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate e-mail: %v", err)
	}
	if n, _ := s.CountUsers(ctx, "agent"); n != 1 {
		t.Fatalf("count agents: %d", n)
	}
	u.Role, u.Disabled = "admin", true
	if err := s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountUsers(ctx, "admin"); n != 0 {
		t.Fatalf("a disabled admin counted: %d", n)
	}
	if err := s.UpdateUser(ctx, store.User{ID: "nobody"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update nobody: %v", err)
	}
	got, err := s.UserByEmail(ctx, "a@example.org")
	if err != nil || got.Role != "admin" || !got.Disabled || got.PasswordHash != u.PasswordHash || !got.CreatedAt.Equal(base) {
		t.Fatalf("user: %+v %v", got, err)
	}
	if _, err := s.UserByID(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	se := store.Session{TokenHash: "h1", UserID: "u1", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.CreateSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	s.CreateSession(ctx, store.Session{TokenHash: "h2", UserID: "u1", CreatedAt: base, ExpiresAt: base.Add(2 * time.Hour)})
	gs, gu, err := s.SessionByHash(ctx, "h1")
	if err != nil || gs.UserID != "u1" || !gs.ExpiresAt.Equal(se.ExpiresAt) || gu.Email != "a@example.org" {
		t.Fatalf("session: %+v %+v %v", gs, gu, err)
	}
	if err := s.DeleteExpiredSessions(ctx, base.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session kept: %v", err)
	}
	if err := s.DeleteUserSessions(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionByHash(ctx, "h2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of the user kept: %v", err)
	}
}

func testAPIKeysAndLoginFailures(t *testing.T, s store.Store) {
	k := store.APIKey{ID: "k1", Name: "CRM", KeyHash: "hash1", Scopes: []string{"read", "write"}, CreatedBy: "u1", CreatedAt: base}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.APIKeyByHash(ctx, "hash1")
	if err != nil || fmt.Sprint(got.Scopes) != "[read write]" || !got.RevokedAt.IsZero() || !got.LastUsedAt.IsZero() {
		t.Fatalf("key: %+v %v", got, err)
	}
	s.TouchAPIKey(ctx, "k1", base.Add(time.Minute))
	if err := s.RevokeAPIKey(ctx, "k1", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, "k1", base.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}
	ks, _ := s.APIKeys(ctx)
	if len(ks) != 1 || !ks[0].RevokedAt.Equal(base.Add(time.Hour)) || !ks[0].LastUsedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("keys: %+v", ks)
	}
	for i := 0; i < 3; i++ {
		if err := s.AddLoginFailure(ctx, "email:x", base.Add(time.Duration(i)*time.Minute), base.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n, oldest, err := s.LoginFailures(ctx, "email:x", base.Add(30*time.Second))
	if err != nil || n != 2 || !oldest.Equal(base.Add(time.Minute)) {
		t.Fatalf("failures: %d %v %v", n, oldest, err)
	}
	// Old failures are forgotten by the next one.
	s.AddLoginFailure(ctx, "email:y", base.Add(time.Hour), base.Add(90*time.Second))
	if n, _, _ := s.LoginFailures(ctx, "email:x", time.Time{}); n != 1 {
		t.Fatalf("failures after forgetting: %d", n)
	}
	s.ClearLoginFailures(ctx, "email:y")
	if n, _, _ := s.LoginFailures(ctx, "email:y", time.Time{}); n != 0 {
		t.Fatalf("cleared failures: %d", n)
	}
}

func testAuditLog(t *testing.T, s store.Store) {
	var last int64
	for i, e := range []store.AuditEntry{
		{At: base, Actor: "u1", Action: "customer.view", Target: "c1"},
		{At: base.Add(time.Minute), Actor: "u2", Action: "customer.view", Target: "c2"},
		{At: base.Add(2 * time.Minute), Actor: "u1", Action: "customer.export", Target: "c1", Detail: "3 events"},
	} {
		id, err := s.AppendAudit(ctx, e)
		if err != nil || id <= last {
			t.Fatalf("entry %d: id %d after %d, %v", i, id, last, err)
		}
		last = id
	}
	for _, tc := range []struct {
		f    store.AuditFilter
		want string
	}{
		{store.AuditFilter{}, "[customer.export customer.view customer.view]"},
		{store.AuditFilter{Target: "c1"}, "[customer.export customer.view]"},
		{store.AuditFilter{Actor: "u2"}, "[customer.view]"},
		{store.AuditFilter{Action: "customer.export", Actor: "u1", Target: "c1"}, "[customer.export]"},
		{store.AuditFilter{Since: base.Add(time.Minute)}, "[customer.export customer.view]"},
		{store.AuditFilter{Before: last, Limit: 1}, "[customer.view]"},
	} {
		es, err := s.AuditEntries(ctx, tc.f)
		var got []string
		for _, e := range es {
			got = append(got, e.Action)
		}
		if err != nil || fmt.Sprint(got) != tc.want {
			t.Errorf("filter %+v: %v %v, want %s", tc.f, got, err, tc.want)
		}
	}
}

// testAuditConcurrent: entries appended at once (they share commits) each
// get their own id and are all kept; a cancelled caller does not fail the
// entries it was grouped with.
func testAuditConcurrent(t *testing.T, s store.Store) {
	const n = 64
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ctx
			if i%8 == 0 {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				c = cctx
			}
			ids[i], errs[i] = s.AppendAudit(c, store.AuditEntry{At: base, Actor: fmt.Sprintf("a%d", i), Action: "customer.view", Target: "c"})
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	ok := 0
	for i := range ids {
		if i%8 == 0 {
			continue // cancelled: may or may not be written
		}
		if errs[i] != nil || ids[i] <= 0 || seen[ids[i]] {
			t.Fatalf("entry %d: id %d, %v (ids so far %v)", i, ids[i], errs[i], seen)
		}
		seen[ids[i]] = true
		ok++
	}
	es, err := s.AuditEntries(ctx, store.AuditFilter{Target: "c", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[int64]bool{}
	for _, e := range es {
		listed[e.ID] = true
	}
	for id := range seen {
		if !listed[id] {
			t.Errorf("entry %d acknowledged but not listed", id)
		}
	}
	if len(es) < ok || len(es) > n {
		t.Errorf("%d entries listed, want %d to %d", len(es), ok, n)
	}
}

// testErase: what EraseCustomer deletes and refuses; the full proof is in
// package gdpr.
func testErase(t *testing.T, s store.Store) {
	src := mustSource(t, s, "shop")
	appendAll(t, s, records(t, src,
		ev(t, `{"type":"identify","userId":"u1","anonymousId":"a1","traits":{"email":"one@example.org"}}`, 0),
		ev(t, `{"type":"track","userId":"u1","event":"Order Completed","properties":{"revenue":3}}`, 1),
		ev(t, `{"type":"identify","userId":"u2","traits":{"email":"two@example.org"}}`, 2),
	))
	drain(t, s)
	one := customerOf(t, s, "user", "u1")
	if _, err := s.EraseCustomer(ctx, store.Erasure{CustomerID: "nobody"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("erase nobody: %v", err)
	}
	appendAll(t, s, records(t, src, ev(t, `{"type":"track","anonymousId":"a1","event":"Late"}`, 3)))
	pending := func(ids []store.Identifier, body []byte) bool { return true }
	if _, err := s.EraseCustomer(ctx, store.Erasure{CustomerID: one, Pending: pending}); !errors.Is(err, store.ErrPending) {
		t.Fatalf("erase with a pending event: %v", err)
	}
	drain(t, s)
	var reprofiled []string
	rep, err := s.EraseCustomer(ctx, store.Erasure{CustomerID: one, Pending: pending,
		Mentions: func([]store.Identifier, []byte) bool { return false },
		Reprofile: func(id string, evs []store.StoredEvent) (*profile.Profile, error) {
			reprofiled = append(reprofiled, id)
			return nil, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.CustomerID != one || rep.Events != 3 || rep.Identifiers != 3 || rep.Orders != 1 || rep.Profiles != 1 || len(reprofiled) != 0 {
		t.Fatalf("report %+v, reprofiled %v", rep, reprofiled)
	}
	if _, err := s.Customer(ctx, one); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("erased customer: %v", err)
	}
	if st, _ := s.Stats(ctx); st.Events != 1 || st.Customers != 1 || st.Orders != 0 {
		t.Fatalf("after erasure: %+v", st)
	}
	customerOf(t, s, "user", "u2")
}
