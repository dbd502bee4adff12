// Package sqlstore implements store.Store in SQL that SQLite and PostgreSQL
// both accept. The packages sqlite and postgres open the databases, run
// their own migrations and choose a Dialect for the few places that differ.
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

// Dialect holds what differs between the databases.
type Dialect struct {
	Name string
	// BeginAppend runs first in every append transaction. PostgreSQL takes
	// a lock there so that log positions (seq) are committed in order and
	// the pipeline, reading "seq > cursor", never skips a late commit.
	BeginAppend func(ctx context.Context, tx *sql.Tx) error
	// BulkAppend, if set, appends large batches (imports) by a faster path,
	// PostgreSQL's COPY; it marks new events in flags.
	BulkAppend func(ctx context.Context, db *sql.DB, recs []store.Record, flags *NewFlags) error
	// LockDerived, if set, runs first in every transaction that writes the
	// derived read models (the pipeline's, a rebuild's reset, a GDPR
	// erasure), so that they exclude each other. SQLite needs none: its
	// write transactions begin IMMEDIATE and so exclude each other already.
	LockDerived func(ctx context.Context, tx *sql.Tx) error
	// IsUnique tells a unique-constraint violation.
	IsUnique func(err error) bool
	// IsUnavailable tells an error of an unreachable database.
	IsUnavailable func(err error) bool
}

// Store is store.Store on database/sql.
type Store struct {
	w  *sql.DB // writes (SQLite: the single writer connection)
	r  *sql.DB // reads
	ws *stmts  // prepared statements of w
	rs *stmts  // prepared statements of r
	d  Dialect
	// audit groups concurrent audit entries into one commit.
	audit auditQueue
	// closers run on Close after the pools are closed.
	closers []func() error
}

var _ store.Store = (*Store)(nil)

// New returns a store on w (writes) and r (reads); they may be the same pool.
func New(w, r *sql.DB, d Dialect, closers ...func() error) *Store {
	return &Store{w: w, r: r, ws: newStmts(w), rs: newStmts(r), d: d, closers: closers}
}

// Writer and Reader expose the pools to the implementation packages.
func (s *Store) Writer() *sql.DB { return s.w }

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// Close closes the pools.
func (s *Store) Close() error {
	s.ws.close()
	s.rs.close()
	errs := []error{s.r.Close()}
	if s.w != s.r {
		errs = append(errs, s.w.Close())
	}
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
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
	err := s.rs.queryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
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
	if err != nil && s.d.IsUnique(err) {
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
	rows, err := s.rs.query(ctx, `SELECT `+sourceCols+` FROM sources ORDER BY name`)
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
	return scanSource(s.rs.queryRow(ctx, `SELECT `+sourceCols+` FROM sources WHERE write_key = $1`, key))
}

func (s *Store) SourceByName(ctx context.Context, name string) (store.Source, error) {
	return scanSource(s.rs.queryRow(ctx, `SELECT `+sourceCols+` FROM sources WHERE name = $1`, name))
}

func (s *Store) SourceByID(ctx context.Context, id string) (store.Source, error) {
	return scanSource(s.rs.queryRow(ctx, `SELECT `+sourceCols+` FROM sources WHERE id = $1`, id))
}

func (s *Store) RotateWriteKey(ctx context.Context, sourceID, newKey string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE sources SET write_key = $1 WHERE id = $2`, newKey, sourceID)
	if err != nil {
		if s.d.IsUnique(err) {
			return fmt.Errorf("write key of source %s: %w", sourceID, store.ErrConflict)
		}
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("source %s: %w", sourceID, store.ErrNotFound)
	}
	return nil
}

// wrap marks errors of an unreachable database so callers can answer 503.
func (s *Store) wrap(err error) error {
	if err != nil && s.d.IsUnavailable != nil && s.d.IsUnavailable(err) && !errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return err
}

// NewFlags maps the (source, messageId) pairs an insert reports as new back
// to the records: only the first record of a pair within one append is new.
type NewFlags struct {
	IsNew []bool
	first map[[2]string]int
}

// NewFlagsFor prepares the flags of recs.
func NewFlagsFor(recs []store.Record) *NewFlags {
	f := &NewFlags{IsNew: make([]bool, len(recs)), first: make(map[[2]string]int, len(recs))}
	for i, r := range recs {
		k := [2]string{r.SourceID, r.Event.MessageID}
		if _, ok := f.first[k]; !ok {
			f.first[k] = i
		}
	}
	return f
}

// Mark records that the event (source, messageId) was inserted.
func (f *NewFlags) Mark(source, messageID string) {
	if i, ok := f.first[[2]string{source, messageID}]; ok {
		f.IsNew[i] = true
	}
}

// BulkAppendMin is the size from which a dialect's BulkAppend is used.
const BulkAppendMin = 1000

func (s *Store) Append(ctx context.Context, recs []store.Record) ([]bool, error) {
	if len(recs) == 0 {
		return []bool{}, nil
	}
	flags := NewFlagsFor(recs)
	if s.d.BulkAppend != nil && len(recs) >= BulkAppendMin {
		if err := s.d.BulkAppend(ctx, s.w, recs, flags); err != nil {
			return nil, s.wrap(err)
		}
		return flags.IsNew, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer tx.Rollback()
	if s.d.BeginAppend != nil {
		if err := s.d.BeginAppend(ctx, tx); err != nil {
			return nil, s.wrap(err)
		}
	}
	args := make([]any, 0, 100*7)
	start := 0
	for _, n := range shapes(len(recs)) {
		args = args[:0]
		for i := start; i < start+n; i++ {
			r := &recs[i]
			name := r.Event.Event
			if name == "" {
				name = r.Event.Name
			}
			args = append(args, r.SourceID, r.Event.MessageID, r.Event.Type, name, ms(r.Event.Timestamp), ms(r.Event.ReceivedAt), r.Body)
		}
		start += n
		rows, err := s.ws.txQuery(ctx, tx, appendSQL(n), args...)
		if err != nil {
			return nil, s.wrap(err)
		}
		for rows.Next() {
			var src, msg string
			if err := rows.Scan(&src, &msg); err != nil {
				rows.Close()
				return nil, s.wrap(err)
			}
			flags.Mark(src, msg)
		}
		if err := rows.Close(); err != nil {
			return nil, s.wrap(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrap(err)
	}
	return flags.IsNew, nil
}

var appendSQLs sync.Map // rows -> SQL

// appendSQL is the insert of n events that reports which were new.
func appendSQL(n int) string {
	if q, ok := appendSQLs.Load(n); ok {
		return q.(string)
	}
	q := multiRow(`INSERT INTO events(source_id, message_id, type, name, ts, received_at, body)`, 7, n) +
		` ON CONFLICT (source_id, message_id) DO NOTHING RETURNING source_id, message_id`
	appendSQLs.Store(n, q)
	return q
}

// multiRow returns head followed by VALUES with n rows of cols parameters.
func multiRow(head string, cols, n int) string {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(" VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		b.WriteString(placeholders(cols, i*cols+1))
		b.WriteByte(')')
	}
	return b.String()
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
	rows, err := s.rs.query(ctx, q, args...)
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
		SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY source_id ORDER BY id DESC) AS n FROM rejected_events) AS numbered WHERE n > $1)`, keep)
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
	rows, err := s.rs.query(ctx, `SELECT `+eventCols+` FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
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

// LatestEvents reads the newest events of one source from the index on
// (source_id, seq), so that polling it costs limit rows, not a scan.
func (s *Store) LatestEvents(ctx context.Context, sourceID string, limit int) ([]store.StoredEvent, error) {
	rows, err := s.rs.query(ctx, `SELECT `+eventCols+` FROM events WHERE source_id = $1 ORDER BY seq DESC LIMIT $2`, sourceID, limit)
	if err != nil {
		return nil, s.wrap(err)
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
	return scanEvent(s.rs.queryRow(ctx, `SELECT `+eventCols+` FROM events WHERE seq = $1`, seq))
}

func (s *Store) Cursor(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := s.rs.queryRow(ctx, `SELECT seq FROM cursors WHERE name = $1`, name).Scan(&seq)
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
	if s.d.LockDerived != nil {
		if err := s.d.LockDerived(ctx, tx); err != nil {
			return err
		}
	}
	for _, t := range []string{"customers", "identities", "profiles", "timeline", "orders", "merges", "identity_conflicts", "predictions", "cursors"} {
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
		return false, s.wrap(err)
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
	err := s.rs.queryRow(ctx, `SELECT
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
