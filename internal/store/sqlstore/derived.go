package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/eventpack"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

// Process runs fn in one write transaction.
func (s *Store) Process(ctx context.Context, fn func(tx store.Tx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer sqlTx.Rollback()
	if s.d.LockDerived != nil {
		if err := s.d.LockDerived(ctx, sqlTx); err != nil {
			return s.wrap(err)
		}
	}
	if err := fn(&tx{ctx: ctx, tx: sqlTx, c: s.ws}); err != nil {
		return s.wrap(err)
	}
	return s.wrap(sqlTx.Commit())
}

type tx struct {
	ctx context.Context
	tx  *sql.Tx
	c   *stmts
}

func placeholders(n, from int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("$")
		b.WriteString(itoa(from + i))
	}
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// Lookup maps identifiers to their customers: in t's transaction, or on the
// read pool when t has none.
func (t *tx) Lookup(ids []store.Identifier) (map[store.Identifier]string, error) {
	out := make(map[store.Identifier]string, len(ids))
	start := 0
	for _, n := range shapes(len(ids)) {
		args := make([]any, 0, 2*n)
		for _, id := range ids[start : start+n] {
			args = append(args, id.Kind, id.Value)
		}
		start += n
		q := `SELECT kind, value, customer_id FROM identities WHERE (kind, value) IN (` +
			strings.TrimPrefix(multiRow("", 2, n), " VALUES ") + `)`
		err := t.each(q, args, func(rows *sql.Rows) error {
			var id store.Identifier
			var c string
			if err := rows.Scan(&id.Kind, &id.Value, &c); err != nil {
				return err
			}
			out[id] = c
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// forIn runs query (with "IN (%s)" for the list) for the values in chunks of
// the fixed shapes, calling scan for every row; in t's transaction, or on
// the read pool when t has none.
func (t *tx) forIn(query string, vals []string, scan func(rows *sql.Rows) error) error {
	return forInOf(t, query, vals, scan)
}

// forInOf is forIn for values of any type (sequence numbers).
func forInOf[T any](t *tx, query string, vals []T, scan func(rows *sql.Rows) error) error {
	start := 0
	for _, n := range shapes(len(vals)) {
		args := make([]any, n)
		for i, v := range vals[start : start+n] {
			args[i] = v
		}
		start += n
		if err := t.each(fmt.Sprintf(query, placeholders(n, 1)), args, scan); err != nil {
			return err
		}
	}
	return nil
}

// each runs a query in t's transaction, or on the read pool when t has
// none, calling scan for every row.
func (t *tx) each(q string, args []any, scan func(rows *sql.Rows) error) error {
	var rows *sql.Rows
	var err error
	if t.tx != nil {
		rows, err = t.c.txQuery(t.ctx, t.tx, q, args...)
	} else {
		rows, err = t.c.query(t.ctx, q, args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

func (t *tx) UserIDs(customerIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	// The kind is filtered here, not in SQL: given "kind = 'user'" SQLite's
	// planner prefers the primary key and scans every user identity.
	err := t.forIn(`SELECT customer_id, kind, value FROM identities WHERE customer_id IN (%s) ORDER BY value`, customerIDs,
		func(rows *sql.Rows) error {
			var c, k, v string
			if err := rows.Scan(&c, &k, &v); err != nil {
				return err
			}
			if k == "user" {
				out[c] = append(out[c], v)
			}
			return nil
		})
	return out, err
}

func (t *tx) Profiles(customerIDs []string) (map[string]profile.Profile, error) {
	out := make(map[string]profile.Profile, len(customerIDs))
	err := t.forIn(`SELECT `+profileCols+` FROM profiles WHERE customer_id IN (%s)`, customerIDs, func(rows *sql.Rows) error {
		p, err := scanProfile(rows)
		if err == nil {
			out[p.CustomerID] = p
		}
		return err
	})
	return out, err
}

// insertRows writes n rows of cols values each with multi-row INSERTs of
// the fixed shapes.
func (t *tx) insertRows(head string, cols, n int, row func(i int) []any) error {
	start := 0
	for _, k := range shapes(n) {
		args := make([]any, 0, k*cols)
		for i := start; i < start+k; i++ {
			args = append(args, row(i)...)
		}
		start += k
		if _, err := t.c.txExec(t.ctx, t.tx, multiRow(head, cols, k), args...); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) CreateCustomer(id string, seq int64, at time.Time) error {
	// A customer id derived from an identifier can come back after the
	// customer was merged away and its identifier re-attached elsewhere; then
	// it starts again as a live customer.
	_, err := t.c.txExec(t.ctx, t.tx, `INSERT INTO customers(id, created_seq, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET merged_into = NULL`, id, seq, ms(at))
	return err
}

func (t *tx) Attach(id store.Identifier, customerID string, seq int64, at time.Time) error {
	_, err := t.c.txExec(t.ctx, t.tx, `INSERT INTO identities(kind, value, customer_id, seq, first_seen) VALUES ($1, $2, $3, $4, $5)`,
		id.Kind, id.Value, customerID, seq, ms(at))
	return err
}

func (t *tx) MoveCustomer(m store.Merge) error {
	for _, q := range []string{
		`UPDATE identities SET customer_id = $1 WHERE customer_id = $2`,
		`UPDATE timeline SET customer_id = $1 WHERE customer_id = $2`,
		`UPDATE orders SET customer_id = $1 WHERE customer_id = $2`,
		`UPDATE customers SET merged_into = $1 WHERE id = $2`,
		`UPDATE customers SET merged_into = $1 WHERE merged_into = $2`,
	} {
		if _, err := t.c.txExec(t.ctx, t.tx, q, m.Into, m.From); err != nil {
			return err
		}
	}
	// The merged-away customer's predictions are void; the survivor is
	// rescored after the batch.
	if _, err := t.c.txExec(t.ctx, t.tx, `DELETE FROM predictions WHERE customer_id = $1`, m.From); err != nil {
		return err
	}
	_, err := t.c.txExec(t.ctx, t.tx, `INSERT INTO merges(from_customer, into_customer, reason, seq, at) VALUES ($1, $2, $3, $4, $5)`,
		m.From, m.Into, m.Reason, m.Seq, ms(m.At))
	return err
}

func (t *tx) RecordConflict(c store.Conflict) error {
	_, err := t.c.txExec(t.ctx, t.tx, `INSERT INTO identity_conflicts(seq, kind, value, customer_id, other_id, detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.Seq, c.Identifier.Kind, c.Identifier.Value, c.CustomerID, c.OtherID, c.Detail, ms(c.At))
	return err
}

func (t *tx) AddTimeline(rows []store.TimelineRow) error {
	return t.insertRows(`INSERT INTO timeline(customer_id, ts, seq, source_id, type, name, body)`, 7, len(rows), func(i int) []any {
		r := &rows[i]
		if r.Packed == nil {
			return []any{r.CustomerID, ms(r.Timestamp), r.Seq, nil, nil, nil, nil}
		}
		return []any{r.CustomerID, ms(r.Timestamp), r.Seq, r.SourceID, r.Type, r.Name, r.Packed}
	})
}

func (t *tx) AddOrders(os []store.Order) error {
	return t.insertRows(`INSERT INTO orders(customer_id, seq, ts, order_id, revenue_micros, currency)`, 6, len(os), func(i int) []any {
		o := &os[i]
		return []any{o.CustomerID, o.Seq, ms(o.Timestamp), o.OrderID, o.RevenueMicros, o.Currency}
	})
}

const profileCols = `customer_id, first_seen, last_seen, events, orders, revenue_micros, first_order, last_order, data`

func scanProfile(row interface{ Scan(...any) error }) (profile.Profile, error) {
	p := profile.New("")
	var first, last, fo, lo int64
	var data string
	if err := row.Scan(&p.CustomerID, &first, &last, &p.Events, &p.Orders, &p.RevenueMicros, &fo, &lo, &data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return p, store.ErrNotFound
		}
		return p, err
	}
	p.FirstSeen, p.LastSeen, p.FirstOrder, p.LastOrder = fromMS(first), fromMS(last), fromMS(fo), fromMS(lo)
	if err := p.UnmarshalData([]byte(data)); err != nil {
		return p, err
	}
	p.Derive()
	return p, nil
}

func (t *tx) SaveProfile(p *profile.Profile) error {
	data, err := p.MarshalData()
	if err != nil {
		return err
	}
	_, err = t.c.txExec(t.ctx, t.tx, `INSERT INTO profiles(customer_id, name, email, phone, first_seen, last_seen, events, orders, revenue_micros, first_order, last_order, data, name_lc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, email = excluded.email, phone = excluded.phone, name_lc = excluded.name_lc,
			first_seen = excluded.first_seen, last_seen = excluded.last_seen, events = excluded.events, orders = excluded.orders,
			revenue_micros = excluded.revenue_micros, first_order = excluded.first_order, last_order = excluded.last_order, data = excluded.data`,
		p.CustomerID, p.Name, strings.ToLower(p.Email), p.Phone, ms(p.FirstSeen), ms(p.LastSeen), p.Events, p.Orders, p.RevenueMicros,
		ms(p.FirstOrder), ms(p.LastOrder), string(data), strings.ToLower(p.Name))
	return err
}

func (t *tx) DeleteProfile(customerID string) error {
	_, err := t.c.txExec(t.ctx, t.tx, `DELETE FROM profiles WHERE customer_id = $1`, customerID)
	return err
}

func (t *tx) AdvanceCursor(name string, old, new int64) error {
	var res sql.Result
	var err error
	if old == 0 {
		res, err = t.c.txExec(t.ctx, t.tx, `INSERT INTO cursors(name, seq) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET seq = excluded.seq WHERE cursors.seq = 0`, name, new)
	} else {
		res, err = t.c.txExec(t.ctx, t.tx, `UPDATE cursors SET seq = $1 WHERE name = $2 AND seq = $3`, new, name, old)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return store.ErrCursorMoved
	}
	return nil
}

// resolve follows merges to the surviving customer.
func (s *Store) resolve(ctx context.Context, id string) (string, error) {
	for i := 0; i < 64; i++ {
		var into sql.NullString
		err := s.rs.queryRow(ctx, `SELECT merged_into FROM customers WHERE id = $1`, id).Scan(&into)
		if errors.Is(err, sql.ErrNoRows) {
			return "", store.ErrNotFound
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

func (s *Store) Customer(ctx context.Context, id string) (profile.Profile, error) {
	id, err := s.resolve(ctx, id)
	if err != nil {
		return profile.Profile{}, err
	}
	return scanProfile(s.rs.queryRow(ctx, `SELECT `+profileCols+` FROM profiles WHERE customer_id = $1`, id))
}

func (s *Store) CustomerByIdentifier(ctx context.Context, id store.Identifier) (profile.Profile, error) {
	var c string
	err := s.rs.queryRow(ctx, `SELECT customer_id FROM identities WHERE kind = $1 AND value = $2`, id.Kind, id.Value).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return profile.Profile{}, store.ErrNotFound
	}
	if err != nil {
		return profile.Profile{}, err
	}
	return s.Customer(ctx, c)
}

// SearchCustomers finds customers by exact id or identifier, or by the
// start of a name or e-mail (case-insensitive). Exact matches come first,
// then name matches, then e-mail matches. Each prefix is its own range
// query on a lower-cased column with binary collation, read in index order
// with a limit, so it costs the same with a million customers as with ten.
func (s *Store) SearchCustomers(ctx context.Context, q string, limit int) ([]profile.Profile, error) {
	q = strings.TrimSpace(q)
	if q == "" || limit <= 0 {
		return nil, nil
	}
	lq := strings.ToLower(q)
	upper := lq + "\U0010FFFF"
	seen := map[string]bool{}
	var out []profile.Profile
	add := func(query string, args ...any) error {
		if len(out) >= limit {
			return nil
		}
		rows, err := s.rs.query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() && len(out) < limit {
			p, err := scanProfile(rows)
			if err != nil {
				return err
			}
			if !seen[p.CustomerID] {
				seen[p.CustomerID] = true
				out = append(out, p)
			}
		}
		return rows.Err()
	}
	if err := add(`SELECT `+profileCols+` FROM profiles WHERE customer_id IN (
			SELECT CAST($1 AS TEXT) UNION SELECT customer_id FROM identities WHERE value = $1 OR value = $2)`, q, lq); err != nil {
		return nil, err
	}
	if err := add(`SELECT `+profileCols+` FROM profiles WHERE name_lc >= $1 AND name_lc < $2 ORDER BY name_lc LIMIT $3`, lq, upper, limit); err != nil {
		return nil, err
	}
	if err := add(`SELECT `+profileCols+` FROM profiles WHERE email >= $1 AND email < $2 ORDER BY email LIMIT $3`, lq, upper, limit); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) Identities(ctx context.Context, customerID string) ([]store.IdentityRow, error) {
	rows, err := s.rs.query(ctx, `SELECT kind, value, customer_id, seq, first_seen FROM identities WHERE customer_id = $1 ORDER BY kind, value`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.IdentityRow
	for rows.Next() {
		var r store.IdentityRow
		var at int64
		if err := rows.Scan(&r.Kind, &r.Value, &r.CustomerID, &r.Seq, &at); err != nil {
			return nil, err
		}
		r.FirstSeen = fromMS(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) Merges(ctx context.Context, customerID string) ([]store.Merge, error) {
	rows, err := s.rs.query(ctx, `SELECT from_customer, into_customer, reason, seq, at FROM merges WHERE into_customer = $1 OR from_customer = $1 ORDER BY seq, from_customer`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Merge
	for rows.Next() {
		var m store.Merge
		var at int64
		if err := rows.Scan(&m.From, &m.Into, &m.Reason, &m.Seq, &at); err != nil {
			return nil, err
		}
		m.At = fromMS(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *Store) Conflicts(ctx context.Context, customerID string) ([]store.Conflict, error) {
	rows, err := s.rs.query(ctx, `SELECT seq, kind, value, customer_id, other_id, detail, at FROM identity_conflicts WHERE customer_id = $1 OR other_id = $1 ORDER BY seq, kind, value`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Conflict
	for rows.Next() {
		var c store.Conflict
		var at int64
		if err := rows.Scan(&c.Seq, &c.Identifier.Kind, &c.Identifier.Value, &c.CustomerID, &c.OtherID, &c.Detail, &at); err != nil {
			return nil, err
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Store) Orders(ctx context.Context, customerID string) ([]store.Order, error) {
	rows, err := s.rs.query(ctx, `SELECT customer_id, seq, ts, order_id, revenue_micros, currency FROM orders WHERE customer_id = $1 ORDER BY ts, seq`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Order
	for rows.Next() {
		var o store.Order
		var ts int64
		if err := rows.Scan(&o.CustomerID, &o.Seq, &ts, &o.OrderID, &o.RevenueMicros, &o.Currency); err != nil {
			return nil, err
		}
		o.Timestamp = fromMS(ts)
		out = append(out, o)
	}
	return out, rows.Err()
}

func (s *Store) Timeline(ctx context.Context, customerID string, before store.TimelineCursor, limit int) ([]store.TimelineEntry, error) {
	q := `SELECT t.seq, t.ts, COALESCE(t.source_id, ''), COALESCE(src.name, ''), COALESCE(t.type, ''), COALESCE(t.name, ''), t.body
		FROM timeline t LEFT JOIN sources src ON src.id = t.source_id
		WHERE t.customer_id = $1`
	args := []any{customerID}
	if before.Seq != 0 {
		q += ` AND (t.ts < $2 OR (t.ts = $2 AND t.seq < $3))`
		args = append(args, ms(before.Timestamp), before.Seq)
	}
	args = append(args, limit)
	q += ` ORDER BY t.ts DESC, t.seq DESC LIMIT $` + itoa(len(args))
	rows, err := s.rs.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.TimelineEntry
	var fromLog []int64 // rows without a copy (written before migration 011)
	for rows.Next() {
		var e store.TimelineEntry
		var ts int64
		var packed []byte
		if err := rows.Scan(&e.Seq, &ts, &e.SourceID, &e.SourceName, &e.Type, &e.Name, &packed); err != nil {
			return nil, err
		}
		e.Timestamp = fromMS(ts)
		if packed == nil {
			fromLog = append(fromLog, e.Seq)
		} else if e.Body, err = eventpack.Unpack(nil, packed); err != nil {
			return nil, fmt.Errorf("timeline of %s, event %d: %w", customerID, e.Seq, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(fromLog) > 0 {
		if err := s.timelineFromLog(ctx, out, fromLog); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// timelineFromLog fills the entries of seqs from the event log.
func (s *Store) timelineFromLog(ctx context.Context, out []store.TimelineEntry, seqs []int64) error {
	at := make(map[int64]*store.TimelineEntry, len(seqs))
	for i := range out {
		at[out[i].Seq] = &out[i]
	}
	t := &tx{ctx: ctx, c: s.rs}
	return s.wrap(forInOf(t, `SELECT e.seq, e.source_id, COALESCE(src.name, ''), e.type, e.name, e.body
		FROM events e LEFT JOIN sources src ON src.id = e.source_id WHERE e.seq IN (%s)`, seqs, func(rows *sql.Rows) error {
		var seq int64
		var src, srcName, typ, name string
		var body []byte
		if err := rows.Scan(&seq, &src, &srcName, &typ, &name, &body); err != nil {
			return err
		}
		if e := at[seq]; e != nil {
			e.SourceID, e.SourceName, e.Type, e.Name, e.Body = src, srcName, typ, name, body
		}
		return nil
	}))
}
