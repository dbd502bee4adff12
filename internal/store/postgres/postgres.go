// Package postgres is the store for more than one node: any number of
// stateless kunding nodes share one PostgreSQL database. The SQL is shared
// with SQLite in package sqlstore; this package opens the pool, runs the
// PostgreSQL migrations and says what differs.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/migrate"
	"github.com/kunding/kunding/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the connection.
type Options struct {
	// Fsync false sets synchronous_commit=off: commits are acknowledged
	// before the WAL reaches disk (a server crash may lose the last ones).
	Fsync bool
	// MaxConns bounds the pool (default 16).
	MaxConns int32
}

// Store is the PostgreSQL store.
type Store = sqlstore.Store

// appendLockKey is the advisory lock that orders appends to the event log.
const appendLockKey = 0x4b756e64 // "Kund"

// derivedLockKey is the advisory lock of the transactions that write the
// derived read models (appendLockKey+1 guards migrations).
const derivedLockKey = appendLockKey + 2

// Dialect is what PostgreSQL needs of the shared SQL.
var Dialect = sqlstore.Dialect{
	Name: "postgres",
	BeginAppend: func(ctx context.Context, tx *sql.Tx) error {
		// Positions in the log are taken and committed in one order, so a
		// reader of "seq > cursor" never passes a commit still in flight.
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(appendLockKey))
		return err
	},
	BulkAppend: bulkAppend,
	LockDerived: func(ctx context.Context, tx *sql.Tx) error {
		// The pipeline, a rebuild and a GDPR erasure write the read models
		// one at a time: an erasure must not interleave with a batch that
		// read the person's identities before it.
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(derivedLockKey))
		return err
	},
	IsUnique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
	IsUnavailable: isUnavailable,
}

// bulkAppend copies a large batch into a temporary table with COPY, then
// moves it into the log in one INSERT that skips stored messageIds, under
// the same append lock as every other append.
func bulkAppend(ctx context.Context, db *sql.DB, recs []store.Record, flags *sqlstore.NewFlags) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(appendLockKey)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS kunding_events_in (
			ord INT, source_id TEXT, message_id TEXT, type TEXT, name TEXT, ts BIGINT, received_at BIGINT, body BYTEA
		) ON COMMIT DELETE ROWS`); err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"kunding_events_in"},
			[]string{"ord", "source_id", "message_id", "type", "name", "ts", "received_at", "body"},
			pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
				r := &recs[i]
				name := r.Event.Event
				if name == "" {
					name = r.Event.Name
				}
				return []any{i, r.SourceID, r.Event.MessageID, r.Event.Type, name, millis(r.Event.Timestamp), millis(r.Event.ReceivedAt), r.Body}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		rows, err := tx.Query(ctx, `INSERT INTO events(source_id, message_id, type, name, ts, received_at, body)
			SELECT source_id, message_id, type, name, ts, received_at, body FROM kunding_events_in ORDER BY ord
			ON CONFLICT (source_id, message_id) DO NOTHING RETURNING source_id, message_id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var src, msg string
			if err := rows.Scan(&src, &msg); err != nil {
				rows.Close()
				return err
			}
			flags.Mark(src, msg)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// isUnavailable tells errors that mean "the database is not reachable now".
func isUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-03: shutdown, crash, starting up.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, sql.ErrConnDone) || pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "connection refused")
}

// Open connects to url, brings the schema up to date and returns the store.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	} else if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	if !opt.Fsync {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "kunding"
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", redact(url), err)
	}
	db := stdlib.OpenDBFromPool(pool)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("connect %s: %w", redact(url), err)
	}
	ms, err := migrate.Load(migrations, "migrations")
	if err == nil {
		err = migrateLocked(ctx, db, ms)
	}
	if err != nil {
		db.Close()
		pool.Close()
		return nil, err
	}
	return sqlstore.New(db, db, Dialect, func() error { pool.Close(); return nil }), nil
}

// migrateLocked runs the migrations under an advisory lock, so that nodes
// starting at the same time do not migrate twice.
func migrateLocked(ctx context.Context, db *sql.DB, ms []migrate.Migration) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const key = appendLockKey + 1
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(key)); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(key))
	if err := migrate.Apply(ctx, db, ms, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// redact hides the password of a database URL in messages.
func redact(url string) string {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return "(unparseable URL)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
