package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/kunding/kunding/internal/store"
)

// maxPendingScan bounds how many unprocessed events an erasure inspects; a
// pipeline further behind than that is asked to catch up first.
const maxPendingScan = 100000

// inChunk is the most values one "IN (...)" list of an erasure holds.
const inChunk = 500

// EraseCustomer implements store.Privacy. Everything happens in one write
// transaction that holds the derived-models lock, so the pipeline cannot
// interleave a batch that read the person's identities before the erasure.
func (s *Store) EraseCustomer(ctx context.Context, e store.Erasure) (store.ErasureReport, error) {
	var rep store.ErasureReport
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return rep, s.wrap(err)
	}
	defer sqlTx.Rollback()
	if s.d.LockDerived != nil {
		if err := s.d.LockDerived(ctx, sqlTx); err != nil {
			return rep, s.wrap(err)
		}
	}
	er := &eraser{ctx: ctx, tx: sqlTx}

	// The customer, and every customer merged into it.
	id, err := er.resolve(e.CustomerID)
	if err != nil {
		return rep, err
	}
	chain := []string{id}
	seen := map[string]bool{id: true}
	for i := 0; i < len(chain); i++ {
		more, err := er.strings(`SELECT id FROM customers WHERE merged_into = $1`, chain[i])
		if err != nil {
			return rep, err
		}
		for _, m := range more {
			if !seen[m] {
				seen[m] = true
				chain = append(chain, m)
			}
		}
	}
	rep.CustomerID, rep.Customers = id, chain

	var ids []store.Identifier
	err = er.forIn(`SELECT kind, value FROM identities WHERE customer_id IN (%s)`, chain, func(rows *sql.Rows) error {
		var x store.Identifier
		if err := rows.Scan(&x.Kind, &x.Value); err != nil {
			return err
		}
		ids = append(ids, x)
		return nil
	})
	if err != nil {
		return rep, err
	}
	sort.Slice(ids, func(i, j int) bool {
		return ids[i].Kind < ids[j].Kind || ids[i].Kind == ids[j].Kind && ids[i].Value < ids[j].Value
	})

	// An event not yet processed that carries an identifier of the person
	// would bring the person back; the caller retries once the pipeline
	// has caught up.
	if err := er.checkPending(ids, e.Pending); err != nil {
		return rep, err
	}

	// Events: those on the timelines, and those of other customers that
	// carried one of the person's identifiers (recorded as conflicts).
	var seqs []int64
	err = er.forIn(`SELECT seq FROM timeline WHERE customer_id IN (%s)`, chain, func(rows *sql.Rows) error {
		var q int64
		err := rows.Scan(&q)
		seqs = append(seqs, q)
		return err
	})
	if err != nil {
		return rep, err
	}
	type otherEvent struct {
		customer string
		seq      int64
	}
	var others []otherEvent
	err = er.forIn(`SELECT customer_id, seq FROM identity_conflicts WHERE other_id IN (%s)`, chain, func(rows *sql.Rows) error {
		var o otherEvent
		if err := rows.Scan(&o.customer, &o.seq); err != nil {
			return err
		}
		if !seen[o.customer] {
			others = append(others, o)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	reprofile := map[string]bool{}
	for _, o := range others {
		seqs = append(seqs, o.seq)
		// The conflict names the customer of that time; it may have been
		// merged since, and its timeline with it.
		c, err := er.resolve(o.customer)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return rep, err
		}
		n, err := er.exec(`DELETE FROM timeline WHERE customer_id = $1 AND seq = $2`, c, o.seq)
		if err != nil {
			return rep, err
		}
		rep.Timeline += n
		n, err = er.exec(`DELETE FROM orders WHERE customer_id = $1 AND seq = $2`, c, o.seq)
		if err != nil {
			return rep, err
		}
		rep.Orders += n
		reprofile[c] = true
	}
	if rep.Events, err = er.deleteSeqs(seqs); err != nil {
		return rep, err
	}

	for _, d := range []struct {
		query string
		count *int64
	}{
		{`DELETE FROM timeline WHERE customer_id IN (%s)`, &rep.Timeline},
		{`DELETE FROM orders WHERE customer_id IN (%s)`, &rep.Orders},
		{`DELETE FROM identities WHERE customer_id IN (%s)`, &rep.Identifiers},
		{`DELETE FROM profiles WHERE customer_id IN (%s)`, &rep.Profiles},
		{`DELETE FROM predictions WHERE customer_id IN (%s)`, nil},
		{`DELETE FROM survey_responses WHERE customer_id IN (%s)`, nil},
		{`DELETE FROM feedback WHERE customer_id IN (%s)`, nil},
		{`DELETE FROM touchpoint_answers WHERE customer_id IN (%s)`, nil},
		{`DELETE FROM touchpoint_contacts WHERE customer_id IN (%s)`, nil},
		{`DELETE FROM campaign_recipients WHERE customer_id IN (%s)`, nil},
		{`DELETE FROM campaign_deliveries WHERE customer_id IN (%s)`, nil},
		{`DELETE FROM merges WHERE into_customer IN (%s)`, &rep.Merges},
		{`DELETE FROM merges WHERE from_customer IN (%s)`, &rep.Merges},
		{`DELETE FROM identity_conflicts WHERE customer_id IN (%s)`, &rep.Conflicts},
		{`DELETE FROM identity_conflicts WHERE other_id IN (%s)`, &rep.Conflicts},
		// Cases with their history (the texts and notes of everyone involved).
		// Webhook deliveries carry the case in their payload.
		{`DELETE FROM webhook_deliveries WHERE case_id IN (SELECT id FROM cases WHERE customer_id IN (%s))`, nil},
		{`DELETE FROM case_history WHERE case_id IN (SELECT id FROM cases WHERE customer_id IN (%s))`, nil},
		{`DELETE FROM case_keys WHERE case_id IN (SELECT id FROM cases WHERE customer_id IN (%s))`, nil},
		{`DELETE FROM case_merge_suggestions WHERE case_id IN (SELECT id FROM cases WHERE customer_id IN (%s))`, nil},
		{`DELETE FROM case_merge_suggestions WHERE target_id IN (SELECT id FROM cases WHERE customer_id IN (%s))`, nil},
		{`DELETE FROM cases WHERE customer_id IN (%s)`, nil},
		{`DELETE FROM customers WHERE id IN (%s)`, nil},
	} {
		n, err := er.execIn(d.query, chain)
		if err != nil {
			return rep, err
		}
		if d.count != nil {
			*d.count += n
		}
	}
	if err := er.eraseCampaignSamples(chain); err != nil {
		return rep, err
	}

	if rep.Rejected, err = er.deleteRejected(ids, e.Mentions); err != nil {
		return rep, err
	}

	// Other customers lost an event: their profiles are computed anew from
	// what remains, so they keep nothing the erased event brought.
	var list []string
	for c := range reprofile {
		if !seen[c] {
			list = append(list, c)
		}
	}
	sort.Strings(list)
	for _, c := range list {
		if e.Reprofile == nil {
			break
		}
		evs, err := er.timelineEvents(c)
		if err != nil {
			return rep, err
		}
		p, err := e.Reprofile(c, evs)
		if err != nil {
			return rep, fmt.Errorf("recompute profile of %s: %w", c, err)
		}
		t := &tx{ctx: ctx, tx: sqlTx, c: s.ws}
		if p == nil {
			err = t.DeleteProfile(c)
		} else {
			err = t.SaveProfile(p)
		}
		if err != nil {
			return rep, s.wrap(err)
		}
		rep.Reprofiled = append(rep.Reprofiled, c)
	}
	if err := sqlTx.Commit(); err != nil {
		return rep, s.wrap(err)
	}
	return rep, nil
}

// eraser runs the statements of one erasure in its transaction.
type eraser struct {
	ctx context.Context
	tx  *sql.Tx
}

func (er *eraser) exec(q string, args ...any) (int64, error) {
	res, err := er.tx.ExecContext(er.ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// strings reads one text column.
func (er *eraser) strings(q string, args ...any) ([]string, error) {
	rows, err := er.tx.QueryContext(er.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// resolve follows merges to the surviving customer.
func (er *eraser) resolve(id string) (string, error) {
	for i := 0; i < 64; i++ {
		var into sql.NullString
		err := er.tx.QueryRowContext(er.ctx, `SELECT merged_into FROM customers WHERE id = $1`, id).Scan(&into)
		if errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("customer %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return "", err
		}
		if !into.Valid || into.String == "" {
			return id, nil
		}
		id = into.String
	}
	return "", errors.New("merge chain too long")
}

// chunks calls fn with the values in slices of at most inChunk, and the
// matching "$1,...,$n" list.
func chunks[T any](vals []T, fn func(part []any, list string) error) error {
	for start := 0; start < len(vals); start += inChunk {
		end := min(start+inChunk, len(vals))
		part := make([]any, 0, end-start)
		for _, v := range vals[start:end] {
			part = append(part, v)
		}
		if err := fn(part, placeholders(len(part), 1)); err != nil {
			return err
		}
	}
	return nil
}

func (er *eraser) forIn(query string, vals []string, scan func(rows *sql.Rows) error) error {
	return chunks(vals, func(part []any, list string) error {
		rows, err := er.tx.QueryContext(er.ctx, fmt.Sprintf(query, list), part...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

func (er *eraser) execIn(query string, vals []string) (int64, error) {
	var total int64
	err := chunks(vals, func(part []any, list string) error {
		n, err := er.exec(fmt.Sprintf(query, list), part...)
		total += n
		return err
	})
	return total, err
}

func (er *eraser) deleteSeqs(seqs []int64) (int64, error) {
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	var total int64
	err := chunks(seqs, func(part []any, list string) error {
		n, err := er.exec(`DELETE FROM events WHERE seq IN (`+list+`)`, part...)
		total += n
		if err != nil {
			return err
		}
		// A feedback row is its event's copy (text, author): it goes with it.
		_, err = er.exec(`DELETE FROM feedback WHERE seq IN (`+list+`)`, part...)
		return err
	})
	return total, err
}

func (er *eraser) checkPending(ids []store.Identifier, pending func([]store.Identifier, []byte) bool) error {
	if pending == nil || len(ids) == 0 {
		return nil
	}
	var cursor int64
	err := er.tx.QueryRowContext(er.ctx, `SELECT seq FROM cursors WHERE name = 'pipeline'`).Scan(&cursor)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var n int64
	if err := er.tx.QueryRowContext(er.ctx, `SELECT COUNT(*) FROM events WHERE seq > $1`, cursor).Scan(&n); err != nil {
		return err
	}
	if n > maxPendingScan {
		return fmt.Errorf("%w (%d events wait for the pipeline)", store.ErrPending, n)
	}
	rows, err := er.tx.QueryContext(er.ctx, `SELECT body FROM events WHERE seq > $1`, cursor)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return err
		}
		if pending(ids, body) {
			return store.ErrPending
		}
	}
	return rows.Err()
}

func (er *eraser) deleteRejected(ids []store.Identifier, mentions func([]store.Identifier, []byte) bool) (int64, error) {
	if mentions == nil || len(ids) == 0 {
		return 0, nil
	}
	rows, err := er.tx.QueryContext(er.ctx, `SELECT id, body FROM rejected_events`)
	if err != nil {
		return 0, err
	}
	var hit []int64
	for rows.Next() {
		var id int64
		var body []byte
		if err := rows.Scan(&id, &body); err != nil {
			rows.Close()
			return 0, err
		}
		if mentions(ids, body) {
			hit = append(hit, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var total int64
	err = chunks(hit, func(part []any, list string) error {
		n, err := er.exec(`DELETE FROM rejected_events WHERE id IN (`+list+`)`, part...)
		total += n
		return err
	})
	return total, err
}

// timelineEvents reads a customer's remaining events in log order.
func (er *eraser) timelineEvents(customerID string) ([]store.StoredEvent, error) {
	rows, err := er.tx.QueryContext(er.ctx, `SELECT `+prefixed("e.", eventCols)+`
		FROM timeline t JOIN events e ON e.seq = t.seq WHERE t.customer_id = $1 ORDER BY e.seq`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.StoredEvent
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
