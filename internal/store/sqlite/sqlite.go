// Package sqlite is the embedded store of Kunding: one SQLite file in WAL
// mode, one writer connection (SQLite allows one writer at a time; queueing
// in Go is cheaper than SQLite's busy-wait) and a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/migrate"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver: no C toolchain needed
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options choose the durability of a commit.
type Options struct {
	// Fsync makes every commit wait for fsync (synchronous=FULL): safe
	// against power loss. Without it (synchronous=NORMAL) a commit is safe
	// against a crash of the process but not of the machine.
	Fsync bool
	// Readers is the size of the reader pool (default 4).
	Readers int
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	w    *sql.DB // the single writer
	r    *sql.DB // readers
	path string
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	sync := "NORMAL"
	if opt.Fsync {
		sync = "FULL"
	}
	dsn := func(extra string) string {
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous("+sync+")")
		q.Add("_pragma", "foreign_keys(ON)")
		q.Add("_pragma", "cache_size(-65536)")
		q.Add("_txlock", "immediate")
		if extra != "" {
			q.Add("_pragma", extra)
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	ms, err := migrate.Load(migrations, "migrations")
	if err != nil {
		w.Close()
		return nil, err
	}
	if err := migrate.Apply(ctx, w, ms, time.Now().UTC().Format(time.RFC3339)); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("query_only(ON)"))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := opt.Readers
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &Store{w: w, r: r, path: path}, nil
}

// Close closes both pools; the WAL is checkpointed by SQLite on the last close.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return v, err
}

func (s *Store) SetSettingIfAbsent(ctx context.Context, key, value string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func (s *Store) CreateSource(ctx context.Context, src store.Source) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sources(id, name, kind, write_key, created_at) VALUES ($1, $2, $3, $4, $5)`,
		src.ID, src.Name, src.Kind, src.WriteKey, ms(src.CreatedAt))
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return fmt.Errorf("source %q: %w", src.Name, store.ErrConflict)
	}
	return err
}

const sourceCols = `id, name, kind, write_key, created_at`

func scanSource(row interface{ Scan(...any) error }) (store.Source, error) {
	var src store.Source
	var created int64
	err := row.Scan(&src.ID, &src.Name, &src.Kind, &src.WriteKey, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return src, store.ErrNotFound
	}
	src.CreatedAt = fromMS(created)
	return src, err
}

func (s *Store) Sources(ctx context.Context) ([]store.Source, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sourceCols+` FROM sources ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Source
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

func (s *Store) SourceByWriteKey(ctx context.Context, key string) (store.Source, error) {
	return scanSource(s.r.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE write_key = $1`, key))
}

func (s *Store) SourceByName(ctx context.Context, name string) (store.Source, error) {
	return scanSource(s.r.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE name = $1`, name))
}

func (s *Store) SourceByID(ctx context.Context, id string) (store.Source, error) {
	return scanSource(s.r.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE id = $1`, id))
}

// appendChunk bounds the rows of one INSERT statement (8 parameters each).
const appendChunk = 400

func (s *Store) Append(ctx context.Context, recs []store.Record) ([]bool, error) {
	isNew := make([]bool, len(recs))
	if len(recs) == 0 {
		return isNew, nil
	}
	type key struct{ src, msg string }
	first := make(map[key]int, len(recs))
	for i, r := range recs {
		k := key{r.SourceID, r.Event.MessageID}
		if _, ok := first[k]; !ok {
			first[k] = i
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var sb strings.Builder
	args := make([]any, 0, appendChunk*8)
	for start := 0; start < len(recs); start += appendChunk {
		end := min(start+appendChunk, len(recs))
		sb.Reset()
		args = args[:0]
		sb.WriteString(`INSERT INTO events(source_id, message_id, type, name, ts, received_at, body) VALUES `)
		for i := start; i < end; i++ {
			r := &recs[i]
			if i > start {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?,?,?,?)")
			name := r.Event.Event
			if name == "" {
				name = r.Event.Name
			}
			args = append(args, r.SourceID, r.Event.MessageID, r.Event.Type, name, ms(r.Event.Timestamp), ms(r.Event.ReceivedAt), r.Body)
		}
		sb.WriteString(` ON CONFLICT (source_id, message_id) DO NOTHING RETURNING source_id, message_id`)
		rows, err := tx.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.src, &k.msg); err != nil {
				rows.Close()
				return nil, err
			}
			if i, ok := first[k]; ok {
				isNew[i] = true
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return isNew, nil
}

func (s *Store) AppendRejected(ctx context.Context, rs []store.Rejected) error {
	if len(rs) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, r := range rs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rejected_events(source_id, message_id, received_at, reason, body) VALUES ($1, $2, $3, $4, $5)`,
			r.SourceID, r.MessageID, ms(r.ReceivedAt), r.Reason, []byte(r.Body)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *Store) RejectedEvents(ctx context.Context, sourceID string, limit int) ([]store.Rejected, error) {
	q := `SELECT id, source_id, message_id, received_at, reason, body FROM rejected_events`
	var args []any
	if sourceID != "" {
		q += ` WHERE source_id = $1 ORDER BY id DESC LIMIT $2`
		args = []any{sourceID, limit}
	} else {
		q += ` ORDER BY id DESC LIMIT $1`
		args = []any{limit}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Rejected
	for rows.Next() {
		var r store.Rejected
		var at int64
		var body []byte
		if err := rows.Scan(&r.ID, &r.SourceID, &r.MessageID, &at, &r.Reason, &body); err != nil {
			return nil, err
		}
		r.ReceivedAt, r.Body = fromMS(at), string(body)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) PruneRejected(ctx context.Context, keep int) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM rejected_events WHERE id IN (
		SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY source_id ORDER BY id DESC) AS n FROM rejected_events) WHERE n > $1)`, keep)
	return err
}

const eventCols = `seq, source_id, message_id, type, name, ts, received_at, body`

func scanEvent(row interface{ Scan(...any) error }) (store.StoredEvent, error) {
	var e store.StoredEvent
	var ts, rec int64
	err := row.Scan(&e.Seq, &e.SourceID, &e.MessageID, &e.Type, &e.Name, &ts, &rec, &e.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return e, store.ErrNotFound
	}
	e.Timestamp, e.ReceivedAt = fromMS(ts), fromMS(rec)
	return e, err
}

func (s *Store) Events(ctx context.Context, afterSeq int64, limit int) ([]store.StoredEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventCols+` FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.StoredEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Store) EventBySeq(ctx context.Context, seq int64) (store.StoredEvent, error) {
	return scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE seq = $1`, seq))
}

func (s *Store) Cursor(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT seq FROM cursors WHERE name = $1`, name).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

func (s *Store) ResetDerived(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range []string{"customers", "identities", "profiles", "timeline", "orders", "merges", "identity_conflicts", "cursors"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return fmt.Errorf("reset %s: %w", t, err)
		}
	}
	return tx.Commit()
}

func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := time.Now()
	res, err := s.w.ExecContext(ctx, `INSERT INTO leases(name, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < $4`,
		name, holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder)
	return err
}

func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM events),
		(SELECT COUNT(*) FROM rejected_events),
		(SELECT COUNT(*) FROM customers WHERE merged_into IS NULL),
		(SELECT COUNT(*) FROM identities),
		(SELECT COUNT(*) FROM merges),
		(SELECT COUNT(*) FROM identity_conflicts),
		(SELECT COUNT(*) FROM orders),
		(SELECT COALESCE(MAX(seq), 0) FROM events),
		(SELECT COALESCE(MAX(seq), 0) FROM cursors WHERE name = 'pipeline')`).Scan(
		&st.Events, &st.Rejected, &st.Customers, &st.Identities, &st.Merges, &st.Conflicts, &st.Orders, &st.LastSeq, &st.Processed)
	return st, err
}
