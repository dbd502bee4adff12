package importer

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/pgtest"
	"github.com/kunding/kunding/internal/store/postgres"
	"github.com/kunding/kunding/internal/store/sqlite"
)

// eachStore runs an import test on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, kind string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite") })
	t.Run("postgres", func(t *testing.T) { fn(t, "postgres") })
}

// newStoreOn opens a fresh store of the kind and creates an import source in it.
func newStoreOn(t *testing.T, kind string) (store.Store, store.Source) {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	if kind == "postgres" {
		st, err = postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "kunding.db"), sqlite.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	src, err := source.Create(ctx, st, "Test import", "import")
	if err != nil {
		t.Fatal(err)
	}
	return st, src
}

// writeFile writes content to a file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func fileOptions(st store.Store, src store.Source, path string) Options {
	return Options{
		Store:  st,
		Source: src,
		File:   filepath.Base(path),
		Open:   func() (io.ReadCloser, error) { return os.Open(path) },
		Now:    func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) },
	}
}

func stats(t *testing.T, st store.Store) store.Stats {
	t.Helper()
	s, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func process(t *testing.T, st store.Store) Processed {
	t.Helper()
	res, err := Process(context.Background(), st, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Busy {
		t.Fatal("pipeline lease busy")
	}
	return res
}

func wantErr(t *testing.T, err error, sub string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", sub)
	}
	if !strings.Contains(err.Error(), sub) {
		t.Fatalf("error %q does not contain %q", err, sub)
	}
}
