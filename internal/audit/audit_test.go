package audit_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
)

// eachStore runs a test on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, st store.Store)) { storetest.EachStore(t, fn) }

func TestRecordAndList(t *testing.T) { eachStore(t, recordAndList) }

func recordAndList(t *testing.T, st store.Store) {
	ctx := context.Background()
	if a := audit.ActorFrom(ctx); a != audit.SystemActor {
		t.Fatalf("actor of a bare context: %q", a)
	}
	alice := audit.WithActor(ctx, "u_alice")
	t0 := time.Now().UTC().Add(-time.Hour)
	for i, e := range []audit.Entry{
		{Action: audit.CustomerView, Target: "c1", At: t0},
		{Action: audit.CustomerView, Target: "c2"},
		{Action: audit.CustomerExport, Target: "c1", Detail: strings.Repeat("ä", 3000)},
		{Actor: "apikey:k1", Action: audit.CustomerView, Target: "c1"},
	} {
		if err := audit.Record(alice, st, e); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if err := audit.Record(alice, st, audit.Entry{Action: "Customer View"}); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("bad action: %v", err)
	}
	all, err := audit.List(ctx, st, audit.Filter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("list: %d %v", len(all), err)
	}
	if all[0].Actor != "apikey:k1" || all[3].Actor != "u_alice" || all[0].ID <= all[1].ID {
		t.Fatalf("order or actors: %+v", all)
	}
	if d := all[1].Detail; len(d) > 2000 || !strings.HasPrefix(d, "ää") || strings.ContainsRune(d, '\uFFFD') {
		t.Fatalf("long detail not clipped on a rune boundary: %d bytes", len(d))
	}
	for _, tc := range []struct {
		f    audit.Filter
		want int
	}{
		{audit.Filter{Target: "c1"}, 3},
		{audit.Filter{Actor: "u_alice", Target: "c1"}, 2},
		{audit.Filter{Action: audit.CustomerView}, 3},
		{audit.Filter{Since: t0.Add(time.Minute)}, 3},
		{audit.Filter{Limit: 2}, 2},
		{audit.Filter{Before: all[1].ID}, 2},
		{audit.Filter{Target: "nobody"}, 0},
	} {
		es, err := audit.List(ctx, st, tc.f)
		if err != nil || len(es) != tc.want {
			t.Errorf("filter %+v: %d entries, %v; want %d", tc.f, len(es), err, tc.want)
		}
	}
}

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want string // "" : accepted
	}{
		{"", ""},
		{"actor=u_1&action=customer.view&target=c1&since=2026-11-01&before=42&limit=10", ""},
		{"since=2026-11-01T10:00:00Z", ""},
		{"since=last+week", "since"},
		{"before=-1", "before"},
		{"limit=1001", "limit"},
		{"limit=x", "limit"},
		{"action=DROP+TABLE", "action"},
		{"colour=red", "unknown parameter"},
	} {
		q, _ := url.ParseQuery(tc.q)
		_, err := audit.ParseFilter(q)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("ParseFilter(%q) = %v, want %q", tc.q, err, tc.want)
		}
	}
}

// FuzzParseFilter: the query of GET /api/audit comes from outside.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "actor=u&limit=5", "since=2026-01-01", "before=9223372036854775807", "action=a.b.c", "%zz", "limit=1&limit=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		fl, err := audit.ParseFilter(q)
		if err != nil {
			return
		}
		if fl.Limit < 1 || fl.Limit > audit.MaxLimit || fl.Before < 0 {
			t.Fatalf("ParseFilter(%q) = %+v", s, fl)
		}
	})
}
