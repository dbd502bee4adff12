// Package pgtest gives tests a fresh PostgreSQL schema on the server named
// by KUNDING_TEST_POSTGRES_URL. Without it the tests are skipped loudly, or
// fail when KUNDING_REQUIRE_POSTGRES=1 (as in CI), so a CI run can never pass
// without having run them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points tests at a PostgreSQL server.
const EnvURL = "KUNDING_TEST_POSTGRES_URL"

// URL returns a connection URL whose search_path is a new, empty schema that
// is dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		msg := "PostgreSQL TESTS NOT RUN: set " + EnvURL + "=postgres://user:pass@host/db (see README, 'Tests on PostgreSQL')"
		if os.Getenv("KUNDING_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip("!!! " + msg)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "kt_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
