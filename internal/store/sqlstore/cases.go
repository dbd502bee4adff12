package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kunding/kunding/internal/store"
)

var _ store.CaseStore = (*Store)(nil)

// finished statuses: a case in one of them is not open.
func caseOpen(status string) int {
	switch status {
	case "solved", "rejected", "merged":
		return 0
	}
	return 1
}

func caseArgs(c *store.Case) ([]any, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	frDue := ms(c.FirstResponseDue)
	if !c.FirstResponseAt.IsZero() {
		frDue = 0
	}
	return []any{c.ID, c.CustomerID, c.Type, c.Channel, c.Priority, c.Status, caseOpen(c.Status), c.Department, c.Owner,
		c.Theme, c.EscalationLevel, ms(c.CreatedAt), ms(c.UpdatedAt), frDue, ms(c.ResolutionDue), c.Version, string(data)}, nil
}

func (s *Store) InsertCase(ctx context.Context, c store.Case, keys []string, hist []store.CaseChange) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_keys(key, case_id) VALUES ($1, $2)`, k, c.ID); err != nil {
			if s.d.IsUnique(err) {
				return fmt.Errorf("case for %s: %w", k, store.ErrConflict)
			}
			return s.wrap(err)
		}
	}
	args, err := caseArgs(&c)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cases(id, customer_id, type, channel, priority, status, open, department, owner,
		theme, escalation_level, created_at, updated_at, first_response_due, resolution_due, version, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`, args...); err != nil {
		if s.d.IsUnique(err) {
			return fmt.Errorf("case %s: %w", c.ID, store.ErrConflict)
		}
		return s.wrap(err)
	}
	if err := insertHistory(ctx, tx, hist); err != nil {
		return s.wrap(err)
	}
	return s.wrap(tx.Commit())
}

func insertHistory(ctx context.Context, tx *sql.Tx, hist []store.CaseChange) error {
	for _, h := range hist {
		data, err := json.Marshal(h)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_history(case_id, at, actor, action, data) VALUES ($1, $2, $3, $4, $5)`,
			h.CaseID, ms(h.At), h.Actor, h.Action, string(data)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) UpdateCases(ctx context.Context, cs []*store.Case, hist []store.CaseChange) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	olds := make([]int64, len(cs))
	for i, c := range cs {
		olds[i] = c.Version
	}
	done := false
	defer func() {
		if !done {
			for i, c := range cs {
				c.Version = olds[i]
			}
		}
	}()
	for _, c := range cs {
		old := c.Version
		c.Version = old + 1
		args, err := caseArgs(c)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE cases SET customer_id = $2, type = $3, channel = $4, priority = $5, status = $6, open = $7,
			department = $8, owner = $9, theme = $10, escalation_level = $11, created_at = $12, updated_at = $13,
			first_response_due = $14, resolution_due = $15, version = $16, data = $17 WHERE id = $1 AND version = $18`, append(args, old)...)
		if err != nil {
			return s.wrap(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var v int64
			err := tx.QueryRowContext(ctx, `SELECT version FROM cases WHERE id = $1`, c.ID).Scan(&v)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("case %s: %w", c.ID, store.ErrNotFound)
			}
			return fmt.Errorf("case %s (version %d, now %d): %w", c.ID, old, v, store.ErrVersion)
		}
	}
	if err := insertHistory(ctx, tx, hist); err != nil {
		return s.wrap(err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(err)
	}
	done = true
	return nil
}

func (s *Store) AppendCaseHistory(ctx context.Context, hist []store.CaseChange) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	if err := insertHistory(ctx, tx, hist); err != nil {
		return s.wrap(err)
	}
	return s.wrap(tx.Commit())
}

func scanCase(row interface{ Scan(...any) error }) (store.Case, error) {
	var c store.Case
	var data string
	var version int64
	if err := row.Scan(&data, &version); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, store.ErrNotFound
		}
		return c, err
	}
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return c, fmt.Errorf("case data: %w", err)
	}
	c.Version = version
	return c, nil
}

func (s *Store) Case(ctx context.Context, id string) (store.Case, error) {
	c, err := scanCase(s.r.QueryRowContext(ctx, `SELECT data, version FROM cases WHERE id = $1`, id))
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("case %s: %w", id, store.ErrNotFound)
	}
	return c, s.wrap(err)
}

func (s *Store) CaseByKey(ctx context.Context, key string) (store.Case, error) {
	c, err := scanCase(s.r.QueryRowContext(ctx, `SELECT c.data, c.version FROM case_keys k JOIN cases c ON c.id = k.case_id WHERE k.key = $1`, key))
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("case for %s: %w", key, store.ErrNotFound)
	}
	return c, s.wrap(err)
}

// caseWhere builds the WHERE clause of a filter.
func caseWhere(f store.CaseFilter) (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	in := func(col string, vals []string) {
		ps := make([]string, len(vals))
		for i, v := range vals {
			ps[i] = arg(v)
		}
		conds = append(conds, col+" IN ("+strings.Join(ps, ", ")+")")
	}
	if len(f.IDs) > 0 {
		in("id", f.IDs)
	}
	if len(f.Statuses) > 0 {
		in("status", f.Statuses)
	}
	if len(f.CustomerIDs) > 0 {
		in("customer_id", f.CustomerIDs)
	}
	if f.Open {
		conds = append(conds, "open = 1")
	}
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = "+arg(v))
		}
	}
	eq("department", f.Department)
	eq("owner", f.Owner)
	eq("type", f.Type)
	eq("priority", f.Priority)
	eq("theme", f.Theme)
	eq("channel", f.Channel)
	if f.Escalated {
		conds = append(conds, "escalation_level > 0")
	}
	if f.BelowLevel > 0 {
		conds = append(conds, "escalation_level < "+arg(f.BelowLevel))
	}
	if !f.DueBefore.IsZero() {
		p := arg(ms(f.DueBefore))
		conds = append(conds, "(resolution_due < "+p+" OR (first_response_due > 0 AND first_response_due < "+p+"))")
	}
	if !f.From.IsZero() {
		conds = append(conds, "created_at >= "+arg(ms(f.From)))
	}
	if !f.To.IsZero() {
		conds = append(conds, "created_at < "+arg(ms(f.To)))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func (s *Store) Cases(ctx context.Context, f store.CaseFilter) ([]store.Case, error) {
	where, args := caseWhere(f)
	q := `SELECT data, version FROM cases` + where + ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
		if f.Offset > 0 {
			q += fmt.Sprintf(" OFFSET %d", f.Offset)
		}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) CountCases(ctx context.Context, f store.CaseFilter) (int, error) {
	where, args := caseWhere(f)
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases`+where, args...).Scan(&n)
	return n, s.wrap(err)
}

func (s *Store) CaseHistory(ctx context.Context, caseID string) ([]store.CaseChange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, data FROM case_history WHERE case_id = $1 ORDER BY id`, caseID)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.CaseChange
	for rows.Next() {
		var id int64
		var data string
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		var h store.CaseChange
		if err := json.Unmarshal([]byte(data), &h); err != nil {
			return nil, fmt.Errorf("case history %d: %w", id, err)
		}
		h.ID = id
		out = append(out, h)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) SaveMergeSuggestion(ctx context.Context, m store.MergeSuggestion) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO case_merge_suggestions(case_id, target_id, reason, status, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (case_id, target_id) DO NOTHING`, m.CaseID, m.TargetID, m.Reason, m.Status, ms(m.CreatedAt))
	return s.wrap(err)
}

func (s *Store) MergeSuggestions(ctx context.Context, caseID string) ([]store.MergeSuggestion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT case_id, target_id, reason, status, created_at FROM case_merge_suggestions
		WHERE case_id = $1 OR target_id = $1 ORDER BY created_at, case_id, target_id`, caseID)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.MergeSuggestion
	for rows.Next() {
		var m store.MergeSuggestion
		var at int64
		if err := rows.Scan(&m.CaseID, &m.TargetID, &m.Reason, &m.Status, &at); err != nil {
			return nil, err
		}
		m.CreatedAt = fromMS(at)
		out = append(out, m)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) SetMergeSuggestionStatus(ctx context.Context, caseID, targetID, status string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE case_merge_suggestions SET status = $3 WHERE case_id = $1 AND target_id = $2`, caseID, targetID, status)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("merge suggestion %s -> %s: %w", caseID, targetID, store.ErrNotFound)
	}
	return nil
}

func (s *Store) CaseConfig(ctx context.Context, key string) (string, int64, error) {
	var v string
	var ver int64
	err := s.r.QueryRowContext(ctx, `SELECT value, version FROM case_config WHERE key = $1`, key).Scan(&v, &ver)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, fmt.Errorf("case configuration %s: %w", key, store.ErrNotFound)
	}
	return v, ver, s.wrap(err)
}

func (s *Store) SetCaseConfig(ctx context.Context, key, value string, old int64) error {
	var res sql.Result
	var err error
	if old == 0 {
		res, err = s.w.ExecContext(ctx, `INSERT INTO case_config(key, value, version) VALUES ($1, $2, 1) ON CONFLICT (key) DO NOTHING`, key, value)
	} else {
		res, err = s.w.ExecContext(ctx, `UPDATE case_config SET value = $2, version = version + 1 WHERE key = $1 AND version = $3`, key, value, old)
	}
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("case configuration %s (version %d): %w", key, old, store.ErrVersion)
	}
	return nil
}

const caseCursorName = "cases"

func (s *Store) CaseCursor(ctx context.Context) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT seq FROM case_cursor WHERE name = $1`, caseCursorName).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, s.wrap(err)
}

func (s *Store) AdvanceCaseCursor(ctx context.Context, old, new int64) error {
	var res sql.Result
	var err error
	if old == 0 {
		res, err = s.w.ExecContext(ctx, `INSERT INTO case_cursor(name, seq) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET seq = excluded.seq WHERE case_cursor.seq = 0`, caseCursorName, new)
	} else {
		res, err = s.w.ExecContext(ctx, `UPDATE case_cursor SET seq = $1 WHERE name = $2 AND seq = $3`, new, caseCursorName, old)
	}
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return store.ErrCursorMoved
	}
	return nil
}
