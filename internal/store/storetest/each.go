package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/pgtest"
	"github.com/kunding/kunding/internal/store/postgres"
	"github.com/kunding/kunding/internal/store/sqlite"
)

// EachStore runs fn as a subtest on a fresh SQLite file and on a fresh
// PostgreSQL schema (see pgtest.URL for how the server is found), closing
// each store when the subtest ends: every feature that touches storage is
// tested on both.
func EachStore(t *testing.T, fn func(t *testing.T, st store.Store)) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
}
