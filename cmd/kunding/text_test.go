package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/text"
)

func TestTextEvalCLI(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tsv")
	if err := os.WriteFile(good, []byte("text\tlabel\nSuper Service, sehr freundlich!\tpositive\nMal wieder 40 Minuten Verspätung. Frechheit.\tnegative\nAb Montag gilt der neue Fahrplan.\tneutral\nGreat app, works fine\tnegative\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "text", "eval", good)
	if code != 0 {
		t.Fatalf("eval: %d %s %s", code, out, errs)
	}
	for _, want := range []string{"texts     4", "accuracy  0.750", "macro-F1", "precision", "confusion (rows: gold, columns: predicted)",
		"negative         1        0        1", "positive         0        0        1"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "text", "eval", "--errors", good)
	if code != 0 || !strings.Contains(out, "5\tnegative\tpositive(") {
		t.Errorf("eval --errors: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "text", "eval", "--json", good)
	var rep text.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.N != 4 || rep.Accuracy != 0.75 {
		t.Errorf("eval --json: %d %s", code, out)
	}
	bad := filepath.Join(dir, "bad.tsv")
	os.WriteFile(bad, []byte("gut\tpositive\nkein Tab hier\n"), 0o600)
	if code, _, errs := runCLI(t, "text", "eval", bad); code != 1 || !strings.Contains(errs, "line 2: no TAB") {
		t.Errorf("bad line: %d %s", code, errs)
	}
	os.WriteFile(bad, []byte("gut\tpositive\nschlecht\tschlimm\n"), 0o600)
	if code, _, errs := runCLI(t, "text", "eval", bad); code != 1 || !strings.Contains(errs, `line 2: label "schlimm"`) {
		t.Errorf("bad label: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "text", "eval", filepath.Join(dir, "missing.tsv")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: %d %s", code, errs)
	}
	if code, _, _ := runCLI(t, "text", "frobnicate"); code != 1 {
		t.Errorf("unknown subcommand: %d", code)
	}
	// The German development set through the CLI.
	code, out, _ = runCLI(t, "text", "eval", "../../internal/text/testdata/de_dev.tsv")
	if code != 0 || !strings.Contains(out, "accuracy  0.9") || !strings.Contains(out, "languages detected: de 4") {
		t.Errorf("de_dev: %d %s", code, out)
	}
}

func TestTextAnalyzeCLI(t *testing.T) {
	code, out, errs := runCLI(t, "text", "analyze", "Der Schaffner war sehr unfreundlich und der Zug dreckig.")
	if code != 0 {
		t.Fatalf("analyze: %d %s", code, errs)
	}
	var a text.Analysis
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if a.Language != "de" || a.Sentiment != "negative" || len(a.Drivers) == 0 || len(a.Themes) == 0 {
		t.Errorf("analysis %+v", a)
	}
	if code, _, errs := runCLI(t, "text", "analyze"); code != 1 || !strings.Contains(errs, "give the text") {
		t.Errorf("no text: %d %s", code, errs)
	}
	// --themes adds a theme from a file; a broken file is an error.
	dir := t.TempDir()
	themes := filepath.Join(dir, "themes.json")
	os.WriteFile(themes, []byte(`{"themes":[{"id":"sustainability","names":{"en":"Sustainability"},"terms":{"de":["nachhaltig"]}}]}`), 0o600)
	code, out, _ = runCLI(t, "text", "analyze", "--themes", themes, "Sehr nachhaltig verpackt")
	if code != 0 || !strings.Contains(out, `"sustainability"`) {
		t.Errorf("--themes: %d %s", code, out)
	}
	os.WriteFile(themes, []byte(`{"themes":[{"id":""}]}`), 0o600)
	if code, _, errs := runCLI(t, "text", "analyze", "--themes", themes, "x"); code != 1 || !strings.Contains(errs, "non-empty") {
		t.Errorf("bad themes: %d %s", code, errs)
	}
}

func TestServeThemesFlag(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "themes.json")
	os.WriteFile(bad, []byte(`{"themes":[{"id":"a"},{"id":"a"}]}`), 0o600)
	// A cancelled context: should the check ever be skipped, the server
	// starts and stops at once instead of blocking the test.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--themes", bad}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "appears twice") {
		t.Errorf("serve with a broken themes file: %d %s", code, errb.String())
	}
}

// TestTextBinary runs the built binary once, as a user would.
func TestTextBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kunding")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v %s", err, out)
	}
	out, err := exec.Command(bin, "text", "eval", "../../internal/text/testdata/de_test.tsv").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "texts     152") || !strings.Contains(string(out), "macro-F1") {
		t.Errorf("binary eval: %v %s", err, out)
	}
}
