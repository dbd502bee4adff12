package migrate_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kunding/kunding/internal/store/migrate"

	_ "modernc.org/sqlite"
)

func TestLoadAndApply(t *testing.T) {
	fsys := fstest.MapFS{
		"m/001_a.sql":  {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"m/003_c.sql":  {Data: []byte("CREATE TABLE c (x INTEGER);")},
		"m/readme.txt": {Data: []byte("not a migration")},
	}
	ms, err := migrate.Load(fsys, "m")
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].Version != 3 {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := migrate.Apply(ctx, db, ms, "now"); err != nil {
		t.Fatal(err)
	}
	// A migration numbered below one already applied (merged later) still runs.
	fsys["m/002_b.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE b (x INTEGER);")}
	ms, _ = migrate.Load(fsys, "m")
	if err := migrate.Apply(ctx, db, ms, "now"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO b VALUES (1)"); err != nil {
		t.Fatalf("002 not applied: %v", err)
	}
	// Applying again changes nothing.
	if err := migrate.Apply(ctx, db, ms, "now"); err != nil {
		t.Fatal(err)
	}
	// A database newer than the binary is refused.
	if err := migrate.Apply(ctx, db, ms[:2], "now"); err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("newer database: %v", err)
	}
	// A failing migration leaves nothing behind.
	fsys["m/004_bad.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE d (x INTEGER); NOT SQL;")}
	ms, _ = migrate.Load(fsys, "m")
	if err := migrate.Apply(ctx, db, ms, "now"); err == nil || !strings.Contains(err.Error(), "004_bad.sql") {
		t.Fatalf("bad migration: %v", err)
	}
	if _, err := db.Exec("INSERT INTO d VALUES (1)"); err == nil {
		t.Fatal("a failed migration left its table")
	}
	for _, bad := range []string{"x_a.sql", "0_a.sql"} {
		if _, err := migrate.Load(fstest.MapFS{"m/" + bad: {Data: []byte("")}}, "m"); err == nil {
			t.Errorf("Load accepted %s", bad)
		}
	}
}
