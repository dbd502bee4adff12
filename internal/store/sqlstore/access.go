package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/store"
)

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *Store) Departments(ctx context.Context) ([]store.Department, error) {
	rows, err := s.rs.query(ctx, `SELECT name, created_at FROM departments ORDER BY name`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.Department
	for rows.Next() {
		var d store.Department
		var at int64
		if err := rows.Scan(&d.Name, &at); err != nil {
			return nil, err
		}
		d.CreatedAt = fromMS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Store) CreateDepartment(ctx context.Context, d store.Department) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO departments(name, created_at) VALUES ($1, $2)`, d.Name, ms(d.CreatedAt))
	if err != nil && s.d.IsUnique(err) {
		return fmt.Errorf("department %q: %w", d.Name, store.ErrConflict)
	}
	return s.wrap(err)
}

const userCols = `id, email, name, role, department, password_hash, disabled, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var disabled, created, updated int64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Department, &u.PasswordHash, &disabled, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return u, store.ErrNotFound
	}
	u.Disabled, u.CreatedAt, u.UpdatedAt = disabled != 0, fromMS(created), fromMS(updated)
	return u, err
}

func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO users(`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.Email, u.Name, u.Role, u.Department, u.PasswordHash, boolInt(u.Disabled), ms(u.CreatedAt), ms(u.UpdatedAt))
	if err != nil && s.d.IsUnique(err) {
		return fmt.Errorf("user %s: %w", u.Email, store.ErrConflict)
	}
	return s.wrap(err)
}

func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET name = $1, role = $2, department = $3, password_hash = $4, disabled = $5, updated_at = $6 WHERE id = $7`,
		u.Name, u.Role, u.Department, u.PasswordHash, boolInt(u.Disabled), ms(u.UpdatedAt), u.ID)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("user %s: %w", u.ID, store.ErrNotFound)
	}
	return nil
}

func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	return scanUser(s.rs.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
}

func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return scanUser(s.rs.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = $1`, email))
}

func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.rs.query(ctx, `SELECT `+userCols+` FROM users ORDER BY email`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Store) CountUsers(ctx context.Context, role string) (int, error) {
	var n int
	var err error
	if role == "" {
		err = s.rs.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE disabled = 0`).Scan(&n)
	} else {
		err = s.rs.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE role = $1 AND disabled = 0`, role).Scan(&n)
	}
	return n, s.wrap(err)
}

func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		se.TokenHash, se.UserID, ms(se.CreatedAt), ms(se.ExpiresAt))
	return s.wrap(err)
}

func (s *Store) SessionByHash(ctx context.Context, tokenHash string) (store.Session, store.User, error) {
	var se store.Session
	var created, expires int64
	row := s.rs.queryRow(ctx, `SELECT s.token_hash, s.user_id, s.created_at, s.expires_at, `+prefixed("u.", userCols)+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, tokenHash)
	var u store.User
	var disabled, ucreated, uupdated int64
	err := row.Scan(&se.TokenHash, &se.UserID, &created, &expires,
		&u.ID, &u.Email, &u.Name, &u.Role, &u.Department, &u.PasswordHash, &disabled, &ucreated, &uupdated)
	if errors.Is(err, sql.ErrNoRows) {
		return se, u, store.ErrNotFound
	}
	if err != nil {
		return se, u, s.wrap(err)
	}
	se.CreatedAt, se.ExpiresAt = fromMS(created), fromMS(expires)
	u.Disabled, u.CreatedAt, u.UpdatedAt = disabled != 0, fromMS(ucreated), fromMS(uupdated)
	return se, u, nil
}

// prefixed qualifies every column of a column list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return s.wrap(err)
}

func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return s.wrap(err)
}

func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, ms(now))
	return s.wrap(err)
}

const apiKeyCols = `id, name, key_hash, scopes, created_by, created_at, last_used_at, revoked_at`

func scanAPIKey(row interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	var scopes string
	var created, used, revoked int64
	err := row.Scan(&k.ID, &k.Name, &k.KeyHash, &scopes, &k.CreatedBy, &created, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return k, store.ErrNotFound
	}
	if scopes != "" {
		k.Scopes = strings.Split(scopes, ",")
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMS(created), fromMS(used), fromMS(revoked)
	return k, err
}

func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_keys(`+apiKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Name, k.KeyHash, strings.Join(k.Scopes, ","), k.CreatedBy, ms(k.CreatedAt), ms(k.LastUsedAt), ms(k.RevokedAt))
	if err != nil && s.d.IsUnique(err) {
		return fmt.Errorf("API key %s: %w", k.ID, store.ErrConflict)
	}
	return s.wrap(err)
}

func (s *Store) APIKeyByHash(ctx context.Context, keyHash string) (store.APIKey, error) {
	k, err := scanAPIKey(s.rs.queryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE key_hash = $1`, keyHash))
	return k, s.wrap(err)
}

func (s *Store) APIKeys(ctx context.Context) ([]store.APIKey, error) {
	rows, err := s.rs.query(ctx, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0`, ms(at), id)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("API key %s (or already revoked): %w", id, store.ErrNotFound)
	}
	return nil
}

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, ms(at), id)
	return s.wrap(err)
}

func (s *Store) AddLoginFailure(ctx context.Context, key string, at, forgetBefore time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at < $1`, ms(forgetBefore)); err != nil {
		return s.wrap(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures(key, at) VALUES ($1, $2)`, key, ms(at)); err != nil {
		return s.wrap(err)
	}
	return s.wrap(tx.Commit())
}

func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	var n int
	var oldest int64
	err := s.rs.queryRow(ctx, `SELECT COUNT(*), COALESCE(MIN(at), 0) FROM login_failures WHERE key = $1 AND at >= $2`, key, ms(since)).Scan(&n, &oldest)
	return n, fromMS(oldest), s.wrap(err)
}

func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return s.wrap(err)
}

// AppendAudit writes e and returns its id once it is committed. Entries
// that arrive while a commit runs are written together in the next one
// (group commit): every customer view records one, and with fsync on, a
// commit per view would make views queue behind each other's fsync.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	req := &auditReq{e: e, done: make(chan struct{})}
	s.audit.mu.Lock()
	s.audit.queue = append(s.audit.queue, req)
	lead := !s.audit.writing
	s.audit.writing = true
	s.audit.mu.Unlock()
	if lead {
		// This caller writes its group (the entries that queued meanwhile
		// with it); its own cancellation must not fail the others' entries.
		wctx := context.WithoutCancel(ctx)
		if s.writeAuditGroup(wctx) {
			// More arrived while it wrote: they are written behind its
			// answer, not by holding it back.
			go func() {
				for s.writeAuditGroup(wctx) {
				}
			}()
		}
	}
	select {
	case <-req.done:
		return req.id, req.err
	case <-ctx.Done():
		// The entry may still be written: an audit log may say more than
		// happened, never less.
		return 0, ctx.Err()
	}
}

// auditQueue holds the audit entries waiting for the next commit.
type auditQueue struct {
	mu      sync.Mutex
	queue   []*auditReq
	writing bool // a caller is writing the queue
}

type auditReq struct {
	e    store.AuditEntry
	id   int64
	err  error
	done chan struct{}
}

// maxAuditGroup bounds one commit of audit entries.
const maxAuditGroup = 256

// writeAuditGroup commits the next group of queued entries and answers
// them; it reports whether more wait (false: the queue is empty and no one
// writes any more).
func (s *Store) writeAuditGroup(ctx context.Context) bool {
	s.audit.mu.Lock()
	n := min(len(s.audit.queue), maxAuditGroup)
	group := s.audit.queue[:n:n]
	s.audit.queue = s.audit.queue[n:]
	s.audit.mu.Unlock()
	if n > 0 {
		err := s.insertAudits(ctx, group)
		if err != nil && n > 1 {
			// One entry the database refuses must not fail the others.
			err = nil
			for _, r := range group {
				r.err = s.insertAudits(ctx, []*auditReq{r})
			}
		}
		for _, r := range group {
			if err != nil {
				r.err = err
			}
			if r.err != nil {
				r.id = 0
			}
			close(r.done)
		}
	}
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	if len(s.audit.queue) == 0 {
		s.audit.writing = false
		return false
	}
	return true
}

func (s *Store) insertAudits(ctx context.Context, group []*auditReq) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	for _, r := range group {
		e := &r.e
		// Not through the statement cache: preparing on the SQLite writer
		// pool waits for its one connection while holding the cache's
		// lock, which a pipeline transaction on that connection may need.
		if err := tx.QueryRowContext(ctx, `INSERT INTO audit_log(at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			ms(e.At), e.Actor, e.Action, e.Target, e.Detail).Scan(&r.id); err != nil {
			return s.wrap(err)
		}
	}
	return s.wrap(tx.Commit())
}

func (s *Store) AuditEntries(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	// The filters are fixed fragments with numbered parameters; values are
	// never part of the SQL text.
	q := `SELECT id, at, actor, action, target, detail FROM audit_log WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		q += " AND " + cond + " $" + itoa(len(args))
	}
	if f.Actor != "" {
		add("actor =", f.Actor)
	}
	if f.Action != "" {
		add("action =", f.Action)
	}
	if f.Target != "" {
		add("target =", f.Target)
	}
	if !f.Since.IsZero() {
		add("at >=", ms(f.Since))
	}
	if f.Before > 0 {
		add("id <", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	q += " ORDER BY id DESC LIMIT $" + itoa(len(args))
	rows, err := s.rs.query(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
