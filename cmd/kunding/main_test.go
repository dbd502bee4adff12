package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/server"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	data := t.TempDir()
	if code, _, errs := runCLI(t); code != 2 || !strings.Contains(errs, "Commands:") {
		t.Fatalf("no args: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %s", code, errs)
	}
	if code, out, _ := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "kunding ") {
		t.Fatalf("version: %d %s", code, out)
	}
	code, out, errs := runCLI(t, "sources", "create", "--data", data, "--name", "Call centre", "--kind", "call-centre")
	if code != 0 || !strings.Contains(out, "write key: wk_") {
		t.Fatalf("sources create: %d %s %s", code, out, errs)
	}
	code, _, errs = runCLI(t, "sources", "create", "--data", data, "--name", "Call centre", "--kind", "call-centre")
	if code != 1 || !strings.Contains(errs, "already exists") {
		t.Fatalf("duplicate source: %d %s", code, errs)
	}
	code, _, errs = runCLI(t, "sources", "create", "--data", data, "--name", "X", "--kind", "blimp")
	if code != 1 || !strings.Contains(errs, `kind "blimp"`) {
		t.Fatalf("bad kind: %d %s", code, errs)
	}
	// Configuration from the environment.
	t.Setenv("KUNDING_DATA", data)
	code, out, _ = runCLI(t, "sources", "list")
	if code != 0 || !strings.Contains(out, "Call centre") {
		t.Fatalf("sources list via KUNDING_DATA: %d %s", code, out)
	}
	t.Setenv("KUNDING_FSYNC", "maybe")
	code, _, errs = runCLI(t, "serve", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "KUNDING_FSYNC") {
		t.Fatalf("bad env value: %d %s", code, errs)
	}
	code, _, errs = runCLI(t, "serve", "--addr", "127.0.0.1:0", "--fsync=true", "--journal", "maybe")
	if code != 1 || !strings.Contains(errs, `--journal "maybe": use auto, on or off`) {
		t.Fatalf("bad --journal: %d %s", code, errs)
	}
	code, out, errs = runCLI(t, "rebuild")
	if code != 0 || !strings.Contains(out, "replayed 0 events") {
		t.Fatalf("rebuild: %d %s %s", code, out, errs)
	}
	code, out, _ = runCLI(t, "admin-key", "rotate")
	if code != 0 || !strings.Contains(out, "kdg_admin_") {
		t.Fatalf("admin-key rotate: %d %s", code, out)
	}
}

func TestImportCLI(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	csv := dir + "/orders.csv"
	if err := os.WriteFile(csv, []byte("customer;day;amount\nK1;2026-01-05;12,50\nK2;2026-01-06;oops\nK1;2026-02-01;7,00\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"import", "transactions", csv, "--data", data, "--source", "Shop", "--create-source",
		"--delimiter", ";", "--decimal-comma", "--map", "user_id=customer,date=day:2006-01-02,revenue=amount"}
	code, out, errs := runCLI(t, args...)
	// One bad line: reported with file and line, the others kept, exit 1.
	if code != 1 || !strings.Contains(errs, csv+":3:") {
		t.Fatalf("import: %d\n%s\n%s", code, out, errs)
	}
	st, err := server.OpenStore(context.Background(), data, true)
	if err != nil {
		t.Fatal(err)
	}
	stats, _ := st.Stats(context.Background())
	st.Close()
	if stats.Orders != 2 || stats.Customers != 1 || stats.Rejected != 1 {
		t.Fatalf("after import: %+v", stats)
	}
	// Flags after the file work, and a second import adds nothing.
	code, _, _ = runCLI(t, args...)
	st, _ = server.OpenStore(context.Background(), data, true)
	again, _ := st.Stats(context.Background())
	st.Close()
	if code != 1 || again.Events != stats.Events || again.Orders != 2 {
		t.Fatalf("second import changed the store: %+v -> %+v", stats, again)
	}
	if code, _, errs := runCLI(t, "import", "transactions", csv, "--data", data, "--source", "Nope", "--map", "user_id=customer,date=day,revenue=amount"); code != 1 || !strings.Contains(errs, "Nope") {
		t.Fatalf("unknown source: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "import", "transactions", dir+"/missing.csv", "--data", data, "--source", "Shop", "--map", "user_id=customer,date=day,revenue=amount"); code != 1 || !strings.Contains(errs, "missing.csv") {
		t.Fatalf("missing file: %d %s", code, errs)
	}
}
