package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/pgtest"
	"github.com/kunding/kunding/internal/store/postgres"
	"github.com/kunding/kunding/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsSchema(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		s, err := postgres.Open(ctx, url, postgres.Options{Fsync: true})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if i == 0 {
			s.SetSetting(ctx, "x", "1")
		} else if v, err := s.Setting(ctx, "x"); err != nil || v != "1" {
			t.Fatalf("after reopen: %q %v", v, err)
		}
		s.Close()
	}
}

func TestBadURL(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://nobody:secret@127.0.0.1:1/x?connect_timeout=1", postgres.Options{})
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if contains(err.Error(), "secret") {
		t.Fatalf("password in error: %v", err)
	}
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}
