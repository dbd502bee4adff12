package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
	code, out, errs = runCLI(t, "rebuild")
	if code != 0 || !strings.Contains(out, "replayed 0 events") {
		t.Fatalf("rebuild: %d %s %s", code, out, errs)
	}
	code, out, _ = runCLI(t, "admin-key", "rotate")
	if code != 0 || !strings.Contains(out, "kdg_admin_") {
		t.Fatalf("admin-key rotate: %d %s", code, out)
	}
}
