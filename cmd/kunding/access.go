package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/gdpr"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

// stdin is where --password-stdin reads (tests replace it).
var stdin io.Reader = os.Stdin

// cliActor names the operator in the audit log: cli:<login name>.
func cliActor(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return audit.WithActor(ctx, "cli:"+name)
}

// readPassword reads a password from stdin (--password-stdin: the first
// line) or asks for it twice on the terminal without echo. Never from a
// flag: flags show in ps and in the shell history.
func readPassword(ctx context.Context, fromStdin bool, stderr io.Writer) (string, error) {
	if fromStdin {
		line, err := bufio.NewReaderSize(stdin, 4096).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", fmt.Errorf("--password-stdin: no password on stdin")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return "", errors.New("stdin is not a terminal to ask for the password: pipe it in with --password-stdin")
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(stderr, prompt)
		restore, err := noEcho(f)
		if err != nil {
			return "", err
		}
		type result struct {
			s   string
			err error
		}
		done := make(chan result, 1)
		go func() {
			s, err := bufio.NewReader(f).ReadString('\n')
			done <- result{s, err}
		}()
		select {
		case <-ctx.Done():
			restore()
			fmt.Fprintln(stderr)
			return "", ctx.Err()
		case r := <-done:
			restore()
			fmt.Fprintln(stderr)
			return strings.TrimRight(r.s, "\r\n"), r.err
		}
	}
	pw, err := ask("Password (at least 12 characters): ")
	if err != nil {
		return "", err
	}
	if err := auth.ValidatePassword(pw); err != nil {
		return "", err
	}
	again, err := ask("Repeat the password: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the two passwords differ")
	}
	return pw, nil
}

func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: kunding users create --email E --name N --role R --department D [--password-stdin] | kunding users list | kunding users update --email E [--name N] [--role R] [--department D] [--disabled true|false] [--reset-password [--password-stdin]]"
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "update") {
		return errors.New(usage)
	}
	sub := args[0]
	fs := flagSet("users "+sub, stderr)
	sf := addStoreFlags(fs)
	var email, name, role, dept, disabled *string
	var pwStdin, reset *bool
	if sub != "list" {
		email = fs.String("email", "", "e-mail address of the user (the login name)")
		name = fs.String("name", "", "full name")
		role = fs.String("role", "", "role: admin, cco, lead, agent or analyst")
		dept = fs.String("department", "", "department, e.g. Service (see GET /api/departments)")
		pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of stdin instead of asking")
	}
	if sub == "update" {
		disabled = fs.String("disabled", "", "true disables the user (and ends its sessions), false enables it")
		reset = fs.Bool("reset-password", false, "set a new password (asked for, or from stdin with --password-stdin)")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; %s", fs.Arg(0), usage)
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := auth.NewService(st, auth.Options{})
	ctx = cliActor(ctx)
	switch sub {
	case "list":
		us, err := svc.Users(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-18s %-32s %-24s %-8s %-20s %s\n", "ID", "EMAIL", "NAME", "ROLE", "DEPARTMENT", "STATUS")
		for _, u := range us {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(stdout, "%-18s %-32s %-24s %-8s %-20s %s\n", u.ID, u.Email, u.Name, u.Role, u.Department, status)
		}
		return nil
	case "create":
		// Check the cheap things before asking for a password.
		if _, err := auth.NormalizeEmail(*email); err != nil {
			return err
		}
		if _, err := auth.ParseRole(*role); err != nil {
			return err
		}
		pw, err := readPassword(ctx, *pwStdin, stderr)
		if err != nil {
			return err
		}
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: *email, Name: *name, Role: *role, Department: *dept, Password: pw})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s): role %s, department %s\n", u.Email, u.ID, u.Role, u.Department)
		if u.Role == auth.RoleAdmin {
			fmt.Fprintln(stdout, "An admin user exists now: the bootstrap admin key no longer works. Programs need an API key: kunding apikeys create.")
		}
		return nil
	}
	// update
	em, err := auth.NormalizeEmail(*email)
	if err != nil {
		return err
	}
	u, err := st.UserByEmail(ctx, em)
	if err != nil {
		return fmt.Errorf("user %s: %w", em, err)
	}
	var ch auth.UserChange
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["name"] {
		ch.Name = name
	}
	if set["role"] {
		ch.Role = role
	}
	if set["department"] {
		ch.Department = dept
	}
	if set["disabled"] {
		var d bool
		switch strings.ToLower(*disabled) {
		case "true", "yes", "1":
			d = true
		case "false", "no", "0":
		default:
			return fmt.Errorf("--disabled %q: use true or false", *disabled)
		}
		ch.Disabled = &d
	}
	if *reset {
		pw, err := readPassword(ctx, *pwStdin, stderr)
		if err != nil {
			return err
		}
		ch.Password = &pw
	}
	if ch == (auth.UserChange{}) {
		return errors.New("nothing to change: give --name, --role, --department, --disabled or --reset-password")
	}
	nu, err := svc.UpdateUser(ctx, u.ID, ch)
	if err != nil {
		return err
	}
	status := "active"
	if nu.Disabled {
		status = "disabled"
	}
	fmt.Fprintf(stdout, "updated user %s (%s): role %s, department %s, %s\n", nu.Email, nu.ID, nu.Role, nu.Department, status)
	return nil
}

func runAPIKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: kunding apikeys create --name NAME --scopes read,write,admin | kunding apikeys list | kunding apikeys revoke --id ID"
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		return errors.New(usage)
	}
	sub := args[0]
	fs := flagSet("apikeys "+sub, stderr)
	sf := addStoreFlags(fs)
	var name, scopes, id *string
	switch sub {
	case "create":
		name = fs.String("name", "", "what the key is for, e.g. 'CRM sync'")
		scopes = fs.String("scopes", "read", "comma-separated scopes: read (GET routes), write (changes), admin (users, keys, audit log, GDPR)")
	case "revoke":
		id = fs.String("id", "", "id of the key (kunding apikeys list)")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := auth.NewService(st, auth.Options{})
	ctx = cliActor(ctx)
	switch sub {
	case "create":
		sc, err := auth.ParseScopes(*scopes)
		if err != nil {
			return err
		}
		k, secret, err := svc.CreateAPIKey(ctx, *name, sc)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created API key %s (%s), scopes %s\n\n    %s\n\nShown once, stored only as a hash. Use it as 'Authorization: Bearer <key>' for /api/.\n",
			k.Name, k.ID, strings.Join(k.Scopes, ","), secret)
	case "revoke":
		if err := svc.RevokeAPIKey(ctx, *id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked API key %s\n", *id)
	default:
		ks, err := svc.APIKeys(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-18s %-24s %-18s %-20s %-20s %s\n", "ID", "NAME", "SCOPES", "CREATED", "LAST USED", "STATUS")
		for _, k := range ks {
			status, used := "active", "never"
			if !k.RevokedAt.IsZero() {
				status = "revoked " + k.RevokedAt.Format(time.DateTime)
			}
			if !k.LastUsedAt.IsZero() {
				used = k.LastUsedAt.Format(time.DateTime)
			}
			fmt.Fprintf(stdout, "%-18s %-24s %-18s %-20s %-20s %s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.CreatedAt.Format(time.DateTime), used, status)
		}
	}
	return nil
}

func runGDPR(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: kunding gdpr export --customer ID [--out FILE] | kunding gdpr erase --customer ID --yes"
	if len(args) == 0 || (args[0] != "export" && args[0] != "erase") {
		return errors.New(usage)
	}
	sub := args[0]
	fs := flagSet("gdpr "+sub, stderr)
	sf := addStoreFlags(fs)
	customer := fs.String("customer", "", "customer id (kunding: GET /api/customers?q=...)")
	var out *string
	var yes *bool
	if sub == "export" {
		out = fs.String("out", "", "write the JSON document to this file (default: stdout)")
	} else {
		yes = fs.Bool("yes", false, "confirm: the erasure cannot be undone")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *customer == "" {
		return errors.New("--customer is required; " + usage)
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx = cliActor(ctx)
	if sub == "export" {
		// The file first: an export that cannot be written is not made
		// (and not recorded as made).
		w := stdout
		if *out != "" {
			f, err := os.OpenFile(*out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		doc, err := gdpr.Export(ctx, st, *customer)
		if err != nil {
			if *out != "" {
				os.Remove(*out)
			}
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
		if *out != "" {
			fmt.Fprintf(stderr, "exported customer %s: %d events, %d identities to %s\n", doc.CustomerID, len(doc.Events), len(doc.Identities), *out)
		}
		return nil
	}
	if !*yes {
		return fmt.Errorf("erasing customer %s cannot be undone: add --yes to confirm", *customer)
	}
	// Without a running server nobody processes the log: take the pipeline
	// lease and catch up first, so that no unprocessed event of the person
	// blocks the erasure.
	holder := fmt.Sprintf("gdpr-erase-%d", os.Getpid())
	if ok, err := st.AcquireLease(ctx, pipeline.LeaseName, holder, time.Hour); err == nil && ok {
		defer st.ReleaseLease(context.Background(), pipeline.LeaseName, holder)
		if err := loadJournal(ctx, sf, st, stderr); err != nil {
			return err
		}
		if _, err := (&pipeline.Pipeline{Store: st, BatchSize: 5000}).Drain(ctx, nil); err != nil {
			return err
		}
	}
	rep, err := gdpr.Erase(ctx, st, *customer, gdpr.EraseOptions{Wait: time.Minute})
	if err != nil {
		if errors.Is(err, store.ErrPending) {
			return fmt.Errorf("%w; is the server's pipeline running?", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "erased customer %s (and %d merged into it): %d identifiers, %d events, %d orders, %d merges, %d conflicts, %d rejected events\n",
		rep.CustomerID, len(rep.Customers)-1, rep.Identifiers, rep.Events, rep.Orders, rep.Merges, rep.Conflicts, rep.Rejected)
	if len(rep.Reprofiled) > 0 {
		fmt.Fprintf(stdout, "events of %d other customers named the person's identifiers; they were erased and those profiles recomputed\n", len(rep.Reprofiled))
	}
	return nil
}
