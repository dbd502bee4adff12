package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmts caches prepared statements by their SQL. Parsing SQL costs as much
// as running it for the small statements of the hot paths (the pure-Go
// SQLite driver does not cache them itself), so every statement is prepared
// once per pool. Multi-row statements come in a few fixed shapes (see
// shapes) so that the cache stays small.
type stmts struct {
	db      *sql.DB
	mu      sync.RWMutex
	m       map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
}

// maxCachedStmts bounds the cache; past it statements run unprepared.
const maxCachedStmts = 512

func newStmts(db *sql.DB) *stmts {
	return &stmts{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// cached returns the prepared statement of q, or nil. Inside a transaction
// a statement must not be prepared on the pool: the SQLite writer pool has
// one connection, held by that very transaction. So a miss there prepares
// in the background, once the connection is free, and this run goes
// unprepared.
func (c *stmts) cached(q string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.m[q]
	c.mu.RUnlock()
	if ok {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[q] || c.closed || len(c.m)+len(c.pending) >= maxCachedStmts {
		return nil
	}
	c.pending[q] = true
	go func() {
		st, err := c.db.PrepareContext(context.Background(), q)
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.pending, q)
		if err != nil {
			return
		}
		if c.closed {
			st.Close()
			return
		}
		c.m[q] = st
	}()
	return nil
}

func (c *stmts) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.RLock()
	st, ok := c.m[q]
	full := c.closed || len(c.m) >= maxCachedStmts
	c.mu.RUnlock()
	if ok {
		return st, nil
	}
	if full {
		return nil, nil
	}
	// Prepare without holding the lock: preparing may wait for a pooled
	// connection (the SQLite writer has one), and the goroutine holding it
	// may need the cache meanwhile.
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if have, ok := c.m[q]; ok {
		st.Close()
		return have, nil
	}
	if c.closed {
		st.Close()
		return nil, nil
	}
	c.m[q] = st
	return st, nil
}

func (c *stmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// txExec runs q in tx through the cache.
func (c *stmts) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st := c.cached(q)
	if st == nil {
		return tx.ExecContext(ctx, q, args...)
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// txQuery runs q in tx through the cache.
func (c *stmts) txQuery(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	st := c.cached(q)
	if st == nil {
		return tx.QueryContext(ctx, q, args...)
	}
	return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

// query runs a read through the cache.
func (c *stmts) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := c.get(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.db.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs a one-row read through the cache.
func (c *stmts) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := c.get(ctx, q)
	if err != nil || st == nil {
		return c.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// shapes splits n rows into chunks of 100, 10 and 1, the only sizes of
// multi-row statements, so three prepared statements serve every count.
func shapes(n int) []int {
	var out []int
	for _, size := range []int{100, 10, 1} {
		for n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}
