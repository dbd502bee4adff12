package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/store"
)

var _ store.TouchpointStore = (*Store)(nil)

func (s *Store) CreateTouchpoint(ctx context.Context, t store.Touchpoint) error {
	t.Version = 1
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO touchpoints(id, name_lc, priority, created_at, version, data) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, strings.ToLower(t.Name), t.Priority, ms(t.CreatedAt), t.Version, string(data))
	if err != nil && s.d.IsUnique(err) {
		return fmt.Errorf("touchpoint %q: %w", t.Name, store.ErrConflict)
	}
	return s.wrap(err)
}

func (s *Store) UpdateTouchpoint(ctx context.Context, t store.Touchpoint) error {
	old := t.Version
	t.Version++
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE touchpoints SET name_lc = $1, priority = $2, version = $3, data = $4 WHERE id = $5 AND version = $6`,
		strings.ToLower(t.Name), t.Priority, t.Version, string(data), t.ID, old)
	if err != nil {
		if s.d.IsUnique(err) {
			return fmt.Errorf("touchpoint %q: %w", t.Name, store.ErrConflict)
		}
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if _, err := s.TouchpointByID(ctx, t.ID); err != nil {
			return err
		}
		return fmt.Errorf("touchpoint %s was changed by someone else meanwhile; reload it: %w", t.ID, store.ErrConflict)
	}
	return nil
}

func (s *Store) DeleteTouchpoint(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM touchpoints WHERE id = $1`, id)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("touchpoint %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func (s *Store) TouchpointByID(ctx context.Context, id string) (store.Touchpoint, error) {
	var data string
	err := s.r.QueryRowContext(ctx, `SELECT data FROM touchpoints WHERE id = $1`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Touchpoint{}, fmt.Errorf("touchpoint %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Touchpoint{}, s.wrap(err)
	}
	var t store.Touchpoint
	return t, json.Unmarshal([]byte(data), &t)
}

// Touchpoints lists the catalogue in matching order: priority, then
// creation, then id.
func (s *Store) Touchpoints(ctx context.Context) ([]store.Touchpoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT data FROM touchpoints ORDER BY priority, created_at, id`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.Touchpoint
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var t store.Touchpoint
		if err := json.Unmarshal([]byte(data), &t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) TouchpointState(ctx context.Context) (store.TouchpointState, error) {
	var st store.TouchpointState
	err := s.r.QueryRowContext(ctx, `SELECT cursor, generation, built, target FROM touchpoint_state WHERE id = 1`).
		Scan(&st.Cursor, &st.Generation, &st.Built, &st.Target)
	return st, s.wrap(err)
}

func (s *Store) RequestTouchpointRebuild(ctx context.Context) (int64, error) {
	if _, err := s.w.ExecContext(ctx, `UPDATE touchpoint_state SET generation = generation + 1 WHERE id = 1`); err != nil {
		return 0, s.wrap(err)
	}
	st, err := s.TouchpointState(ctx)
	return st.Generation, err
}

// derivedTouchpointTables are deleted by a rebuild; the catalogue and the
// ignored proposals stay.
var derivedTouchpointTables = []string{"touchpoint_matches", "touchpoint_aggs", "touchpoint_answers", "touchpoint_contacts", "touchpoint_unmatched", "touchpoint_kda"}

func (s *Store) ResetTouchpointDerived(ctx context.Context, built, generation, target int64) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE touchpoint_state SET cursor = 0, built = $1, target = $2 WHERE id = 1 AND built = $3`, generation, target, built)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return store.ErrCursorMoved
	}
	for _, t := range derivedTouchpointTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return s.wrap(err)
		}
	}
	return s.wrap(tx.Commit())
}

const aggCols = `touchpoint, segment, grain, period, contacts, cust_days, conversions, complaints, nps_n, nps_pro, nps_det,
	csat_n, csat_sum, csat_sat, ces_n, ces_sum, sent_n, sent_sum, sent_neg, perf_n, perf_sum, imp_n, imp_sum, customers`

func scanAgg(rows *sql.Rows) (store.TouchpointAgg, error) {
	var a store.TouchpointAgg
	err := rows.Scan(&a.Touchpoint, &a.Segment, &a.Grain, &a.Period, &a.Contacts, &a.CustDays, &a.Conversions, &a.Complaints,
		&a.NPSN, &a.NPSPro, &a.NPSDet, &a.CSATN, &a.CSATSum, &a.CSATSat, &a.CESN, &a.CESSum, &a.SentN, &a.SentSum, &a.SentNeg,
		&a.PerfN, &a.PerfSum, &a.ImpN, &a.ImpSum, &a.Customers)
	return a, err
}

func aggArgs(a *store.TouchpointAgg) []any {
	c := a.Customers
	if c == nil {
		c = []byte{}
	}
	return []any{a.Touchpoint, a.Segment, a.Grain, a.Period, a.Contacts, a.CustDays, a.Conversions, a.Complaints,
		a.NPSN, a.NPSPro, a.NPSDet, a.CSATN, a.CSATSum, a.CSATSat, a.CESN, a.CESSum, a.SentN, a.SentSum, a.SentNeg,
		a.PerfN, a.PerfSum, a.ImpN, a.ImpSum, c}
}

func (s *Store) TouchpointAggs(ctx context.Context, keys []store.AggKey) (map[store.AggKey]store.TouchpointAgg, error) {
	out := make(map[store.AggKey]store.TouchpointAgg, len(keys))
	start := 0
	for _, n := range shapes(len(keys)) {
		args := make([]any, 0, 4*n)
		for _, k := range keys[start : start+n] {
			args = append(args, k.Segment, k.Grain, k.Period, k.Touchpoint)
		}
		start += n
		rows, err := s.rs.query(ctx, `SELECT `+aggCols+` FROM touchpoint_aggs WHERE (segment, grain, period, touchpoint) IN (`+
			strings.TrimPrefix(multiRow("", 4, n), " VALUES ")+`)`, args...)
		if err != nil {
			return nil, s.wrap(err)
		}
		for rows.Next() {
			a, err := scanAgg(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[store.AggKey{Touchpoint: a.Touchpoint, Segment: a.Segment, Grain: a.Grain, Period: a.Period}] = a
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) TouchpointAggRange(ctx context.Context, segment string, grain int, from, to int64) ([]store.TouchpointAgg, error) {
	rows, err := s.rs.query(ctx, `SELECT `+aggCols+` FROM touchpoint_aggs WHERE segment = $1 AND grain = $2 AND period >= $3 AND period < $4`,
		segment, grain, from, to)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.TouchpointAgg
	for rows.Next() {
		a, err := scanAgg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *Store) TouchpointContacts(ctx context.Context, customerIDs []string) ([]store.TouchpointContact, error) {
	var out []store.TouchpointContact
	t := &tx{ctx: ctx, c: s.rs}
	err := t.forIn(`SELECT customer_id, touchpoint, day, converted, segments FROM touchpoint_contacts WHERE customer_id IN (%s)`, customerIDs,
		func(rows *sql.Rows) error {
			var c store.TouchpointContact
			var conv int64
			if err := rows.Scan(&c.CustomerID, &c.Touchpoint, &c.Day, &conv, &c.Segments); err != nil {
				return err
			}
			c.Converted = conv != 0
			out = append(out, c)
			return nil
		})
	return out, s.wrap(err)
}

func (s *Store) TouchpointAnswers(ctx context.Context, segment string, from, to int64) ([]store.TouchpointAnswer, error) {
	q := `SELECT seq, touchpoint, customer_id, day, score, segments FROM touchpoint_answers WHERE day >= $1 AND day < $2`
	args := []any{from, to}
	if segment != "" && segment != "all" {
		q += ` AND segments LIKE $3`
		args = append(args, "%|"+segment+"|%")
	}
	rows, err := s.rs.query(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.TouchpointAnswer
	for rows.Next() {
		var a store.TouchpointAnswer
		if err := rows.Scan(&a.Seq, &a.Touchpoint, &a.CustomerID, &a.Day, &a.Score, &a.Segments); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *Store) TouchpointAnswersOf(ctx context.Context, customerIDs []string, fromDay int64) ([]store.TouchpointAnswer, error) {
	var out []store.TouchpointAnswer
	t := &tx{ctx: ctx, c: s.rs}
	err := t.forIn(`SELECT seq, touchpoint, customer_id, day, score, segments FROM touchpoint_answers WHERE customer_id IN (%s) AND day >= `+
		fmt.Sprint(fromDay), customerIDs, func(rows *sql.Rows) error {
		var a store.TouchpointAnswer
		if err := rows.Scan(&a.Seq, &a.Touchpoint, &a.CustomerID, &a.Day, &a.Score, &a.Segments); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, s.wrap(err)
}

func (s *Store) TouchpointKDARange(ctx context.Context, segment string, from, to int64) ([]store.TouchpointKDA, error) {
	rows, err := s.rs.query(ctx, `SELECT touchpoint, segment, month, n, sx, sy, sxx, syy, sxy FROM touchpoint_kda
		WHERE segment = $1 AND month >= $2 AND month < $3`, segment, from, to)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.TouchpointKDA
	for rows.Next() {
		var k store.TouchpointKDA
		if err := rows.Scan(&k.Touchpoint, &k.Segment, &k.Month, &k.N, &k.SX, &k.SY, &k.SXX, &k.SYY, &k.SXY); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *Store) CommitTouchpointBatch(ctx context.Context, b store.TouchpointBatch) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer sqlTx.Rollback()
	res, err := sqlTx.ExecContext(ctx, `UPDATE touchpoint_state SET cursor = $1 WHERE id = 1 AND cursor = $2 AND built = $3`, b.To, b.From, b.Generation)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return store.ErrCursorMoved
	}
	t := &tx{ctx: ctx, tx: sqlTx, c: s.ws}
	if len(b.Matches) > 0 {
		seqs := make([]int64, 0, len(b.Matches))
		for q := range b.Matches {
			seqs = append(seqs, q)
		}
		if err := t.insertRows(`INSERT INTO touchpoint_matches(seq, touchpoint)`, 2, len(seqs), func(i int) []any {
			return []any{seqs[i], b.Matches[seqs[i]]}
		}); err != nil {
			return s.wrap(err)
		}
	}
	if err := t.insertRows(`INSERT INTO touchpoint_answers(seq, touchpoint, customer_id, day, score, segments)`, 6, len(b.Answers), func(i int) []any {
		a := &b.Answers[i]
		return []any{a.Seq, a.Touchpoint, a.CustomerID, a.Day, a.Score, a.Segments}
	}); err != nil {
		return s.wrap(err)
	}
	for i := range b.Aggs {
		if _, err := t.c.txExec(ctx, sqlTx, `INSERT INTO touchpoint_aggs(`+aggCols+`) VALUES (`+placeholders(24, 1)+`)
			ON CONFLICT (segment, grain, period, touchpoint) DO UPDATE SET contacts = excluded.contacts, cust_days = excluded.cust_days,
			conversions = excluded.conversions, complaints = excluded.complaints, nps_n = excluded.nps_n, nps_pro = excluded.nps_pro,
			nps_det = excluded.nps_det, csat_n = excluded.csat_n, csat_sum = excluded.csat_sum, csat_sat = excluded.csat_sat,
			ces_n = excluded.ces_n, ces_sum = excluded.ces_sum, sent_n = excluded.sent_n, sent_sum = excluded.sent_sum,
			sent_neg = excluded.sent_neg, perf_n = excluded.perf_n, perf_sum = excluded.perf_sum, imp_n = excluded.imp_n,
			imp_sum = excluded.imp_sum, customers = excluded.customers`, aggArgs(&b.Aggs[i])...); err != nil {
			return s.wrap(err)
		}
	}
	for _, c := range b.Contacts {
		conv := 0
		if c.Converted {
			conv = 1
		}
		if _, err := t.c.txExec(ctx, sqlTx, `INSERT INTO touchpoint_contacts(customer_id, touchpoint, day, converted, segments) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (customer_id, touchpoint, day) DO UPDATE SET converted = excluded.converted`,
			c.CustomerID, c.Touchpoint, c.Day, conv, c.Segments); err != nil {
			return s.wrap(err)
		}
	}
	for _, k := range b.KDA {
		if _, err := t.c.txExec(ctx, sqlTx, `INSERT INTO touchpoint_kda(touchpoint, segment, month, n, sx, sy, sxx, syy, sxy)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (segment, month, touchpoint) DO UPDATE SET n = touchpoint_kda.n + excluded.n, sx = touchpoint_kda.sx + excluded.sx,
			sy = touchpoint_kda.sy + excluded.sy, sxx = touchpoint_kda.sxx + excluded.sxx, syy = touchpoint_kda.syy + excluded.syy,
			sxy = touchpoint_kda.sxy + excluded.sxy`, k.Touchpoint, k.Segment, k.Month, k.N, k.SX, k.SY, k.SXX, k.SYY, k.SXY); err != nil {
			return s.wrap(err)
		}
	}
	if b.PruneBefore > 0 {
		if _, err := sqlTx.ExecContext(ctx, `DELETE FROM touchpoint_contacts WHERE day < $1`, b.PruneBefore); err != nil {
			return s.wrap(err)
		}
	}
	for _, u := range b.Unmatched {
		ex, _ := json.Marshal(u.Examples)
		var oldEx string
		err := sqlTx.QueryRowContext(ctx, `SELECT examples FROM touchpoint_unmatched WHERE key = $1`, u.Key).Scan(&oldEx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = sqlTx.ExecContext(ctx, `INSERT INTO touchpoint_unmatched(key, kind, source_id, value, count, first_seen, last_seen, examples)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, u.Key, u.Kind, u.SourceID, u.Value, u.Count, ms(u.FirstSeen), ms(u.LastSeen), string(ex))
		case err == nil:
			var prev []int64
			json.Unmarshal([]byte(oldEx), &prev)
			for _, e := range u.Examples {
				if len(prev) >= 3 {
					break
				}
				prev = append(prev, e)
			}
			ex, _ = json.Marshal(prev)
			_, err = sqlTx.ExecContext(ctx, `UPDATE touchpoint_unmatched SET count = count + $1,
				first_seen = CASE WHEN first_seen > $2 THEN $2 ELSE first_seen END,
				last_seen = CASE WHEN last_seen < $3 THEN $3 ELSE last_seen END, examples = $4 WHERE key = $5`,
				u.Count, ms(u.FirstSeen), ms(u.LastSeen), string(ex), u.Key)
		}
		if err != nil {
			return s.wrap(err)
		}
	}
	return s.wrap(sqlTx.Commit())
}

func (s *Store) TouchpointOf(ctx context.Context, seqs []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(seqs))
	t := &tx{ctx: ctx, c: s.rs}
	err := forInOf(t, `SELECT seq, touchpoint FROM touchpoint_matches WHERE seq IN (%s)`, seqs, func(rows *sql.Rows) error {
		var q int64
		var tp string
		if err := rows.Scan(&q, &tp); err != nil {
			return err
		}
		out[q] = tp
		return nil
	})
	return out, s.wrap(err)
}

func (s *Store) TouchpointEvents(ctx context.Context, touchpoint string, limit int) ([]int64, error) {
	rows, err := s.rs.query(ctx, `SELECT seq FROM touchpoint_matches WHERE touchpoint = $1 ORDER BY seq DESC LIMIT $2`, touchpoint, limit)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var q int64
		if err := rows.Scan(&q); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

func (s *Store) TouchpointCustomers(ctx context.Context, ids []store.Identifier) (map[store.Identifier]string, error) {
	out, err := (&tx{ctx: ctx, c: s.rs}).Lookup(ids)
	return out, s.wrap(err)
}

func (s *Store) TouchpointProfiles(ctx context.Context, customerIDs []string) (map[string]store.TouchpointProfile, error) {
	out := make(map[string]store.TouchpointProfile, len(customerIDs))
	t := &tx{ctx: ctx, c: s.rs}
	err := t.forIn(`SELECT `+profileCols+` FROM profiles WHERE customer_id IN (%s)`, customerIDs, func(rows *sql.Rows) error {
		p, err := scanProfile(rows)
		if err != nil {
			return err
		}
		tp := store.TouchpointProfile{RevenueMicros: p.RevenueMicros, Orders: p.Orders, Traits: map[string]string{}}
		for k, v := range p.Traits {
			var str string
			if json.Unmarshal(v.Value, &str) != nil {
				str = string(v.Value)
			}
			tp.Traits[k] = str
		}
		out[p.CustomerID] = tp
		return nil
	})
	return out, s.wrap(err)
}

func (s *Store) EventByMessageID(ctx context.Context, messageID string) (store.StoredEvent, error) {
	// The unique index is (source_id, message_id): ask per source.
	srcs, err := s.Sources(ctx)
	if err != nil {
		return store.StoredEvent{}, err
	}
	for _, src := range srcs {
		ev, err := scanEvent(s.rs.queryRow(ctx, `SELECT `+eventCols+` FROM events WHERE source_id = $1 AND message_id = $2`, src.ID, messageID))
		if err == nil {
			return ev, nil
		}
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, sql.ErrNoRows) {
			return ev, err
		}
	}
	return store.StoredEvent{}, fmt.Errorf("event %q: %w", messageID, store.ErrNotFound)
}

const unmatchedCols = `key, kind, source_id, value, count, first_seen, last_seen, examples`

func scanUnmatched(row interface{ Scan(...any) error }) (store.TouchpointUnmatched, error) {
	var u store.TouchpointUnmatched
	var first, last int64
	var ex string
	if err := row.Scan(&u.Key, &u.Kind, &u.SourceID, &u.Value, &u.Count, &first, &last, &ex); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return u, store.ErrNotFound
		}
		return u, err
	}
	u.FirstSeen, u.LastSeen = fromMS(first), fromMS(last)
	json.Unmarshal([]byte(ex), &u.Examples)
	return u, nil
}

// Unmatched lists the groups of unmatched events that nobody ignored, most
// frequent first.
func (s *Store) Unmatched(ctx context.Context, limit int) ([]store.TouchpointUnmatched, error) {
	rows, err := s.rs.query(ctx, `SELECT `+unmatchedCols+` FROM touchpoint_unmatched u
		WHERE NOT EXISTS (SELECT 1 FROM touchpoint_ignored i WHERE i.key = u.key) ORDER BY count DESC, key LIMIT $1`, limit)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.TouchpointUnmatched
	for rows.Next() {
		u, err := scanUnmatched(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Store) UnmatchedByKey(ctx context.Context, key string) (store.TouchpointUnmatched, error) {
	u, err := scanUnmatched(s.rs.queryRow(ctx, `SELECT `+unmatchedCols+` FROM touchpoint_unmatched WHERE key = $1`, key))
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("proposal %q: %w", key, store.ErrNotFound)
	}
	return u, s.wrap(err)
}

func (s *Store) IgnoreUnmatched(ctx context.Context, key, by string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO touchpoint_ignored(key, ignored_by, ignored_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
		key, by, ms(at))
	return s.wrap(err)
}

func (s *Store) IgnoredUnmatched(ctx context.Context) (map[string]bool, error) {
	rows, err := s.rs.query(ctx, `SELECT key FROM touchpoint_ignored`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}
