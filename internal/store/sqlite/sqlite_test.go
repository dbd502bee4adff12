package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/sqlite"
	"github.com/kunding/kunding/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "x", "1"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen (migrations must be idempotent): %v", err)
	}
	defer s.Close()
	if v, err := s.Setting(ctx, "x"); err != nil || v != "1" {
		t.Fatalf("setting after reopen = %q, %v", v, err)
	}
}
