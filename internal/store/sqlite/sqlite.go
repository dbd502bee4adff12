// Package sqlite is the embedded store of Kunding: one SQLite file in WAL
// mode, one writer connection (SQLite allows one writer at a time; queueing
// in Go is cheaper than SQLite's busy-wait) and a pool of readers. The SQL
// itself is shared with PostgreSQL in package sqlstore.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/store/migrate"
	"github.com/kunding/kunding/internal/store/sqlstore"

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

// Store is the SQLite store.
type Store = sqlstore.Store

// Dialect is what SQLite needs of the shared SQL.
var Dialect = sqlstore.Dialect{
	Name:     "sqlite",
	IsUnique: func(err error) bool { return strings.Contains(err.Error(), "UNIQUE constraint") },
	// Errors a moment or an operator may cure: another process holding
	// the write lock past busy_timeout, a full disk, an I/O error.
	IsUnavailable: func(err error) bool {
		m := err.Error()
		return strings.Contains(m, "SQLITE_BUSY") || strings.Contains(m, "database is locked") ||
			strings.Contains(m, "SQLITE_FULL") || strings.Contains(m, "disk is full") ||
			strings.Contains(m, "SQLITE_IOERR") || strings.Contains(m, "disk I/O error") ||
			strings.Contains(m, "SQLITE_CANTOPEN")
	},
}

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
		q.Add("_pragma", "cache_size(-65536)")
		// Statement journals of multi-row INSERT ... ON CONFLICT stay in
		// memory instead of a temporary file.
		q.Add("_pragma", "temp_store(MEMORY)")
		// Checkpoint every 40 MB of WAL instead of 4 MB: the automatic
		// checkpoint runs inside a commit and adds to its latency.
		q.Add("_pragma", "wal_autocheckpoint(10000)")
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
	return sqlstore.New(w, r, Dialect), nil
}
