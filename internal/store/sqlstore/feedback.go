package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/store"
)

var _ store.FeedbackStore = (*Store)(nil)

// SaveFeedback writes the event and the feedback row in one transaction:
// the event log stays the truth, and the row (which the lists and filters
// read) can never be missing for an acknowledged event or exist without it.
func (s *Store) SaveFeedback(ctx context.Context, f store.Feedback, ev store.Record) (bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, s.wrap(err)
	}
	defer tx.Rollback()
	if s.d.BeginAppend != nil {
		if err := s.d.BeginAppend(ctx, tx); err != nil {
			return false, s.wrap(err)
		}
	}
	// Checked under the append lock (PostgreSQL) or in the single writer
	// (SQLite), so two nodes saving the same item do not both go on.
	var exists int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM feedback WHERE id = $1`, f.ID).Scan(&exists)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, s.wrap(err)
	}
	name := ev.Event.Event
	if name == "" {
		name = ev.Event.Name
	}
	var seq int64
	err = tx.QueryRowContext(ctx, `INSERT INTO events(source_id, message_id, type, name, ts, received_at, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (source_id, message_id) DO NOTHING RETURNING seq`,
		ev.SourceID, ev.Event.MessageID, ev.Event.Type, name, ms(ev.Event.Timestamp), ms(ev.Event.ReceivedAt), ev.Body).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		// The event is in the log but its row is not (a row deleted by
		// hand): the row is derived, so it is written again for that event.
		err = tx.QueryRowContext(ctx, `SELECT seq FROM events WHERE source_id = $1 AND message_id = $2`, ev.SourceID, ev.Event.MessageID).Scan(&seq)
	}
	if err != nil {
		return false, s.wrap(err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO feedback(id, portal, kind, external_id, author, rating, title, text, url, ts, received_at,
		language, sentiment, score, themes, analysis, customer_id, feed_id, source_id, message_id, seq)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		f.ID, f.Portal, f.Kind, f.ExternalID, f.Author, f.Rating, f.Title, f.Text, f.URL, ms(f.Timestamp), ms(f.ReceivedAt),
		f.Language, f.Sentiment, f.Score, joinThemes(f.Themes), string(f.Analysis), f.CustomerID, f.FeedID, ev.SourceID, ev.Event.MessageID, seq)
	if err != nil {
		if s.d.IsUnique != nil && s.d.IsUnique(err) {
			// Stored meanwhile by another node: the rollback also drops
			// this transaction's event, which that node has written.
			return false, nil
		}
		return false, s.wrap(err)
	}
	if err := tx.Commit(); err != nil {
		return false, s.wrap(err)
	}
	return true, nil
}

func joinThemes(ts []string) string {
	if len(ts) == 0 {
		return ""
	}
	return "," + strings.Join(ts, ",") + ","
}

func splitThemes(s string) []string {
	s = strings.Trim(s, ",")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

const feedbackCols = `id, portal, kind, external_id, author, rating, title, text, url, ts, received_at,
	language, sentiment, score, themes, analysis, customer_id, feed_id, source_id, message_id, seq`

func scanFeedback(row interface{ Scan(...any) error }) (store.Feedback, error) {
	var f store.Feedback
	var rating sql.NullFloat64
	var ts, rec int64
	var themes, analysis string
	err := row.Scan(&f.ID, &f.Portal, &f.Kind, &f.ExternalID, &f.Author, &rating, &f.Title, &f.Text, &f.URL, &ts, &rec,
		&f.Language, &f.Sentiment, &f.Score, &themes, &analysis, &f.CustomerID, &f.FeedID, &f.SourceID, &f.MessageID, &f.Seq)
	if err != nil {
		return f, err
	}
	if rating.Valid {
		v := rating.Float64
		f.Rating = &v
	}
	f.Timestamp, f.ReceivedAt = fromMS(ts), fromMS(rec)
	f.Themes = splitThemes(themes)
	if analysis != "" {
		f.Analysis = []byte(analysis)
	}
	return f, nil
}

func (s *Store) Feedback(ctx context.Context, id string) (store.Feedback, error) {
	f, err := scanFeedback(s.r.QueryRowContext(ctx, `SELECT `+feedbackCols+` FROM feedback WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, store.ErrNotFound
	}
	return f, s.wrap(err)
}

func (s *Store) FeedbackExists(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 100)
		args := make([]any, n)
		for i := range n {
			args[i] = ids[i]
		}
		rows, err := s.r.QueryContext(ctx, `SELECT id FROM feedback WHERE id IN (`+placeholders(n, 1)+`)`, args...)
		if err != nil {
			return nil, s.wrap(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, s.wrap(err)
		}
		ids = ids[n:]
	}
	return out, nil
}

func (s *Store) ListFeedback(ctx context.Context, f store.FeedbackFilter) ([]store.Feedback, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Portal != "" {
		where = append(where, "portal = "+arg(f.Portal))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(f.Kind))
	}
	if f.Sentiment != "" {
		where = append(where, "sentiment = "+arg(f.Sentiment))
	}
	if f.Theme != "" {
		where = append(where, "themes LIKE "+arg("%,"+f.Theme+",%"))
	}
	if f.FeedID != "" {
		where = append(where, "feed_id = "+arg(f.FeedID))
	}
	if f.CustomerID != "" {
		p := arg(f.CustomerID)
		where = append(where, "(customer_id = "+p+" OR seq IN (SELECT seq FROM timeline WHERE customer_id = "+p+"))")
	}
	if !f.From.IsZero() {
		where = append(where, "ts >= "+arg(ms(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "ts < "+arg(ms(f.To)))
	}
	if f.Before != nil {
		t := arg(ms(f.Before.Timestamp))
		where = append(where, "(ts < "+t+" OR (ts = "+t+" AND id < "+arg(f.Before.ID)+"))")
	}
	q := `SELECT ` + feedbackCols + ` FROM feedback`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q += " ORDER BY ts DESC, id DESC LIMIT " + arg(limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []store.Feedback{}
	for rows.Next() {
		fb, err := scanFeedback(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, fb)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) CreateFeed(ctx context.Context, f store.Feed) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO feeds(id, name, url, portal, kind, interval_seconds, enabled, created_at, updated_at, next_poll)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		f.ID, f.Name, f.URL, f.Portal, f.Kind, f.IntervalSeconds, boolInt(f.Enabled), ms(f.CreatedAt), ms(f.UpdatedAt), ms(f.NextPoll))
	if err != nil && s.d.IsUnique != nil && s.d.IsUnique(err) {
		return fmt.Errorf("feed name %q: %w", f.Name, store.ErrConflict)
	}
	return s.wrap(err)
}

func (s *Store) UpdateFeed(ctx context.Context, f store.Feed) error {
	res, err := s.w.ExecContext(ctx, `UPDATE feeds SET name = $2, url = $3, portal = $4, kind = $5, interval_seconds = $6, enabled = $7,
		updated_at = $8, next_poll = $9 WHERE id = $1`,
		f.ID, f.Name, f.URL, f.Portal, f.Kind, f.IntervalSeconds, boolInt(f.Enabled), ms(f.UpdatedAt), ms(f.NextPoll))
	if err != nil {
		if s.d.IsUnique != nil && s.d.IsUnique(err) {
			return fmt.Errorf("feed name %q: %w", f.Name, store.ErrConflict)
		}
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s *Store) DeleteFeed(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM feeds WHERE id = $1`, id)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

const feedCols = `id, name, url, portal, kind, interval_seconds, enabled, created_at, updated_at, etag, last_modified,
	last_poll, last_success, last_error, failures, next_poll, last_items, last_new, last_skipped, item_errors, total_new`

func scanFeed(row interface{ Scan(...any) error }) (store.Feed, error) {
	var f store.Feed
	var enabled int
	var created, updated, next int64
	var lastPoll, lastOK sql.NullInt64
	err := row.Scan(&f.ID, &f.Name, &f.URL, &f.Portal, &f.Kind, &f.IntervalSeconds, &enabled, &created, &updated, &f.ETag, &f.LastModified,
		&lastPoll, &lastOK, &f.LastError, &f.Failures, &next, &f.LastItems, &f.LastNew, &f.LastSkipped, &f.ItemErrors, &f.TotalNew)
	if err != nil {
		return f, err
	}
	f.Enabled = enabled != 0
	f.CreatedAt, f.UpdatedAt, f.NextPoll = fromMS(created), fromMS(updated), fromMS(next)
	if lastPoll.Valid {
		t := fromMS(lastPoll.Int64)
		f.LastPoll = &t
	}
	if lastOK.Valid {
		t := fromMS(lastOK.Int64)
		f.LastSuccess = &t
	}
	return f, nil
}

func (s *Store) Feed(ctx context.Context, id string) (store.Feed, error) {
	// Read from the writer pool: a poller re-reads the state right after
	// taking the feed's lease and must see what the last poller wrote.
	f, err := scanFeed(s.w.QueryRowContext(ctx, `SELECT `+feedCols+` FROM feeds WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, store.ErrNotFound
	}
	return f, s.wrap(err)
}

func (s *Store) Feeds(ctx context.Context) ([]store.Feed, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+feedCols+` FROM feeds ORDER BY name`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []store.Feed{}
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, s.wrap(rows.Err())
}

func nullMS(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func (s *Store) SaveFeedState(ctx context.Context, id string, st store.FeedState, newItems int) error {
	res, err := s.w.ExecContext(ctx, `UPDATE feeds SET etag = $2, last_modified = $3, last_poll = $4, last_success = $5, last_error = $6,
		failures = $7, next_poll = $8, last_items = $9, last_new = $10, last_skipped = $11, item_errors = $12, total_new = total_new + $13
		WHERE id = $1`,
		id, st.ETag, st.LastModified, nullMS(st.LastPoll), nullMS(st.LastSuccess), st.LastError, st.Failures, ms(st.NextPoll),
		st.LastItems, st.LastNew, st.LastSkipped, st.ItemErrors, newItems)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
