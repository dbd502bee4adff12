package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/store"
)

func withStdin(t *testing.T, s string) {
	old := stdin
	stdin = strings.NewReader(s)
	t.Cleanup(func() { stdin = old })
}

func TestUsersAndKeysCLI(t *testing.T) {
	data := t.TempDir()
	const pw = "correct horse battery"
	withStdin(t, pw+"\n")
	code, out, errs := runCLI(t, "users", "create", "--data", data, "--email", "Root@Example.org", "--name", "Rita Root", "--role", "admin", "--department", "logistics", "--password-stdin")
	if code != 0 || !strings.Contains(out, "created user root@example.org") || !strings.Contains(out, "department Logistics") || !strings.Contains(out, "bootstrap admin key no longer works") {
		t.Fatalf("users create: %d %s %s", code, out, errs)
	}
	if strings.Contains(out+errs, pw) {
		t.Fatal("the password was printed")
	}
	// Without --password-stdin and without a terminal: a clear refusal.
	withStdin(t, pw+"\n")
	code, _, errs = runCLI(t, "users", "create", "--data", data, "--email", "b@example.org", "--name", "B", "--role", "agent", "--department", "Service")
	if code != 1 || !strings.Contains(errs, "--password-stdin") {
		t.Fatalf("create without a terminal: %d %s", code, errs)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--email", "b@example.org", "--name", "B", "--role", "chef", "--department", "Service"}, `role "chef"`},
		{[]string{"--email", "b@", "--name", "B", "--role", "agent", "--department", "Service"}, "not an e-mail address"},
		{[]string{"--email", "b@example.org", "--name", "B", "--role", "agent", "--department", "Mars"}, `department "Mars"`},
		{[]string{"--email", "root@example.org", "--name", "B", "--role", "agent", "--department", "Service"}, "already exists"},
	} {
		withStdin(t, pw+"\n")
		code, _, errs := runCLI(t, append([]string{"users", "create", "--data", data, "--password-stdin"}, tc.args...)...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("users create %v: %d %s, want %q", tc.args, code, errs, tc.want)
		}
	}
	withStdin(t, "short\n")
	if code, _, errs := runCLI(t, "users", "create", "--data", data, "--email", "c@example.org", "--name", "C", "--role", "agent", "--department", "Service", "--password-stdin"); code != 1 || !strings.Contains(errs, "at least 12") {
		t.Fatalf("short password: %d %s", code, errs)
	}
	withStdin(t, pw+"\n")
	runCLI(t, "users", "create", "--data", data, "--email", "a@example.org", "--name", "Anna", "--role", "agent", "--department", "Service", "--password-stdin")
	code, out, _ = runCLI(t, "users", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "root@example.org") || !strings.Contains(out, "a@example.org") || strings.Count(out, "\n") != 3 {
		t.Fatalf("users list: %d\n%s", code, out)
	}
	code, out, errs = runCLI(t, "users", "update", "--data", data, "--email", "a@example.org", "--role", "lead", "--disabled", "true")
	if code != 0 || !strings.Contains(out, "role lead") || !strings.Contains(out, "disabled") {
		t.Fatalf("users update: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "users", "update", "--data", data, "--email", "root@example.org", "--role", "agent"); code != 1 || !strings.Contains(errs, "last enabled admin") {
		t.Fatalf("demote the last admin: %d %s", code, errs)
	}

	code, out, errs = runCLI(t, "apikeys", "create", "--data", data, "--name", "CRM sync", "--scopes", "read,write")
	if code != 0 || !strings.Contains(out, "kdg_key_") || !strings.Contains(out, "scopes read,write") {
		t.Fatalf("apikeys create: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "apikeys", "create", "--data", data, "--name", "X", "--scopes", "read,root"); code != 1 || !strings.Contains(errs, `scope "root"`) {
		t.Fatalf("bad scope: %d %s", code, errs)
	}
	code, out, _ = runCLI(t, "apikeys", "list", "--data", data)
	fields := strings.Fields(strings.Split(out, "\n")[1])
	if code != 0 || len(fields) < 2 || !strings.HasPrefix(fields[0], "key_") || strings.Contains(out, "kdg_key_") {
		t.Fatalf("apikeys list: %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, "apikeys", "revoke", "--data", data, "--id", fields[0]); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "apikeys", "list", "--data", data); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke: %s", out)
	}
	// Who did it: the operator, in the audit log.
	st, err := server.OpenStore(context.Background(), data, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, _ := st.AuditEntries(context.Background(), store.AuditFilter{Action: "apikey.revoke"})
	if len(es) != 1 || !strings.HasPrefix(es[0].Actor, "cli:") {
		t.Fatalf("audit of the CLI: %+v", es)
	}
}

func TestGDPRCLI(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	st, err := server.OpenStore(ctx, data, true)
	if err != nil {
		t.Fatal(err)
	}
	src := store.Source{ID: "src_x", Name: "Shop", Kind: "shop", WriteKey: "wk_x", CreatedAt: time.Now()}
	if err := st.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	var recs []store.Record
	for i, raw := range []string{
		`{"type":"identify","userId":"u-gdpr-1","traits":{"email":"gdpr.person@example.org"}}`,
		`{"type":"track","userId":"u-gdpr-1","event":"Order Completed","properties":{"revenue":5}}`,
	} {
		e, err := event.Parse([]byte(raw), "", event.Envelope{ReceivedAt: time.Now()}, func() string { return fmt.Sprint("m", i) })
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(e)
		recs = append(recs, store.Record{SourceID: src.ID, Event: e, Body: b})
	}
	st.Append(ctx, recs[:1])
	if _, err := (&pipeline.Pipeline{Store: st}).Drain(ctx, nil); err != nil {
		t.Fatal(err)
	}
	p, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "u-gdpr-1"})
	if err != nil {
		t.Fatal(err)
	}
	// The second event is in the log but not processed: the CLI catches up
	// by itself (no server runs) before it erases.
	st.Append(ctx, recs[1:])
	st.Close()

	out := filepath.Join(t.TempDir(), "export.json")
	code, _, errs := runCLI(t, "gdpr", "export", "--data", data, "--customer", p.CustomerID, "--out", out)
	if code != 0 || !strings.Contains(errs, "exported customer") {
		t.Fatalf("export: %d %s", code, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), "gdpr.person@example.org") || !strings.Contains(string(b), `"format": "kunding-gdpr-export/1"`) {
		t.Fatalf("export file: %v %.300s", err, b)
	}
	if code, _, errs := runCLI(t, "gdpr", "export", "--data", data, "--customer", p.CustomerID, "--out", out); code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("export over an existing file: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "gdpr", "erase", "--data", data, "--customer", p.CustomerID); code != 1 || !strings.Contains(errs, "--yes") {
		t.Fatalf("erase without --yes: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "gdpr", "erase", "--data", data, "--customer", "nobody", "--yes"); code != 1 || !strings.Contains(errs, "not found") {
		t.Fatalf("erase nobody: %d %s", code, errs)
	}
	code, stdout, errs := runCLI(t, "gdpr", "erase", "--data", data, "--customer", p.CustomerID, "--yes")
	if code != 0 || !strings.Contains(stdout, "erased customer "+p.CustomerID) || !strings.Contains(stdout, "2 events") {
		t.Fatalf("erase: %d %s %s", code, stdout, errs)
	}
	st, err = server.OpenStore(ctx, data, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if stt, _ := st.Stats(ctx); stt.Events != 0 || stt.Customers != 0 {
		t.Fatalf("after erasure: %+v", stt)
	}
	es, _ := st.AuditEntries(ctx, store.AuditFilter{Target: p.CustomerID})
	if len(es) != 2 || es[0].Action != "customer.erase" || es[1].Action != "customer.export" {
		t.Fatalf("audit: %+v", es)
	}
}
