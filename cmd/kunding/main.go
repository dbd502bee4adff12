// Command kunding is the one binary of Kunding: the server and the tools
// that operate on its data directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/scoring"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/text"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":     {"run the server (collection API, management API, pipeline)", runServe},
		"sources":   {"create and list event sources and their write keys", runSources},
		"import":    {"import events (JSONL) or transactions (CSV) into the event log", runImport},
		"rebuild":   {"rebuild customers and profiles from the event log", runRebuild},
		"models":    {"fit, validate and apply the purchase/churn/CLV models", runModels},
		"admin-key": {"rotate the admin API key of the management API", runAdminKey},
		"users":     {"create, list and update users (login, role, department)", runUsers},
		"apikeys":   {"create, list and revoke API keys with scopes for /api/", runAPIKeys},
		"gdpr":      {"export or erase everything about one person", runGDPR},
		"bench":     {"benchmarks that print figures (ingest, lookup)", runBench},
		"text":      {"text analytics: evaluate sentiment on labelled texts, analyse one text", runText},
		"feeds":     {"list the RSS/Atom feeds and poll them once", runFeeds},
		"version":   {"print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kunding: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "kunding %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "Usage: kunding <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'kunding <command> -h' for the flags of a command. Every flag can also be set as KUNDING_<FLAG> in the environment.")
}

// flagSet makes a FlagSet whose defaults come from KUNDING_* variables.
func flagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kunding "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, then fills every flag not given from KUNDING_<NAME>.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "KUNDING_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %v", env, v, e)
			}
		}
	})
	return err
}

func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", "./kunding-data", "data directory (holds the embedded database)")
}

// storeFlags are the flags that choose the store: --data and --db.
type storeFlags struct {
	data, db *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		data: dataFlag(fs),
		db:   fs.String("db", "", "PostgreSQL URL postgres://user:pass@host/db; empty: the embedded SQLite store in --data"),
	}
}

func (f storeFlags) open(ctx context.Context) (store.Store, error) {
	return server.Open(ctx, *f.db, *f.data, true)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address HOST:PORT")
	sf := addStoreFlags(fs)
	fsync := fs.Bool("fsync", true, "fsync every commit before acknowledging (safe against power loss); false: safe against process crashes only")
	queue := fs.Int("queue", 2048, "collection requests that may wait for a commit before 503 is answered")
	jmode := fs.String("journal", "auto", "acknowledge events once in the local journal DATA/journal and load them into the log behind the answer: auto (on for the embedded store, off for PostgreSQL), on or off")
	jmax := fs.Int64("journal-max-backlog", 1<<30, "bytes acknowledged into the journal but not yet loaded before the collection API answers 503")
	jdefer := fs.Duration("journal-burst-defer", 2*time.Second, "how long loading from the journal may wait per batch while requests queue for the journal (a burst), so the answers get the CPU; 0: never wait")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	refitEvery := fs.Duration("refit-every", 24*time.Hour, "refit the purchase/churn/CLV models this often once a model exists (0: never)")
	secureCookies := fs.Bool("secure-cookies", false, "mark session cookies Secure even on plain HTTP (behind a TLS-terminating proxy)")
	trustProxy := fs.Bool("trust-proxy", false, "take the client address and https from X-Forwarded-For/-Proto (only behind a proxy that sets them)")
	themes := fs.String("themes", "", "JSON file of text-analytics themes that add to or replace the built-in ones (docs/text-analytics.md)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *themes != "" {
		t, err := text.LoadThemes(*themes)
		if err != nil {
			return err
		}
		text.SetThemes(t)
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if *logFormat == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	} else if *logFormat != "text" {
		return fmt.Errorf("--log-format %q: use text or json", *logFormat)
	}
	log := slog.New(h)
	slog.SetDefault(log)
	srv, err := server.Start(ctx, server.Config{Addr: *addr, DataDir: *sf.data, DB: *sf.db, Fsync: *fsync, Queue: *queue, Log: log, RefitEvery: *refitEvery,
		Journal: *jmode, JournalMaxBacklog: *jmax, JournalBurstDefer: *jdefer, SecureCookies: *secureCookies, TrustProxy: *trustProxy,
		AdminKeyOut: func(key string) {
			// Printed once, not logged: logs are collected and kept.
			fmt.Fprintf(stdout, "\nAdmin API key (shown once, stored only as a hash):\n\n    %s\n\nUse it as 'Authorization: Bearer <key>' for /api/. Lost it? 'kunding admin-key rotate'.\n\n", key)
		}})
	if err != nil {
		return err
	}
	storeAttr := slog.String("data", *sf.data)
	if *sf.db != "" {
		storeAttr = slog.String("db", "postgres") // the URL may hold a password
	}
	log.Info("kunding listening", "addr", srv.Addr, storeAttr, "fsync", *fsync, "journal", srv.Journal != nil, "version", versionString())
	<-ctx.Done()
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func runSources(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		return errors.New("usage: kunding sources create --name NAME --kind KIND | kunding sources list")
	}
	sub := args[0]
	fs := flagSet("sources "+sub, stderr)
	sf := addStoreFlags(fs)
	var name, kind *string
	if sub == "create" {
		name = fs.String("name", "", "name of the source, e.g. 'Web shop'")
		kind = fs.String("kind", "", "kind: "+strings.Join(source.Kinds, ", "))
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "create" {
		src, err := source.Create(ctx, st, *name, *kind)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created source %s (%s, %s)\nwrite key: %s\n", src.Name, src.Kind, src.ID, src.WriteKey)
		return nil
	}
	srcs, err := st.Sources(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-22s %-24s %-14s %s\n", "ID", "NAME", "KIND", "WRITE KEY")
	for _, s := range srcs {
		fmt.Fprintf(stdout, "%-22s %-24s %-14s %s\n", s.ID, s.Name, s.Kind, s.WriteKey)
	}
	return nil
}

func runRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("rebuild", stderr)
	sf := addStoreFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	holder := fmt.Sprintf("rebuild-%d", os.Getpid())
	ok, err := st.AcquireLease(ctx, pipeline.LeaseName, holder, time.Hour)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("a running server holds the pipeline; stop it before rebuilding")
	}
	defer st.ReleaseLease(context.Background(), pipeline.LeaseName, holder)
	if err := loadJournal(ctx, sf, st, stderr); err != nil {
		return err
	}
	stats, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	if err := st.ResetDerived(ctx); err != nil {
		return err
	}
	pl := &pipeline.Pipeline{Store: st, BatchSize: 5000}
	bar := newProgress(stderr, "rebuild", stats.Events)
	n, err := pl.Drain(ctx, func(done int) { bar.set(int64(done)) })
	bar.done()
	if err != nil {
		return err
	}
	after, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "replayed %d events: %d customers, %d identities, %d merges, %d orders\n", n, after.Customers, after.Identities, after.Merges, after.Orders)
	// Predictions are derived too: score again with the model in use.
	scored, err := scoring.ScoreAll(ctx, st, time.Now(), nil)
	switch {
	case errors.Is(err, scoring.ErrNoModel):
	case err != nil:
		return fmt.Errorf("rebuilt, but scoring failed: %w", err)
	default:
		fmt.Fprintf(stdout, "scored %d customers with the model in use\n", scored)
	}
	return nil
}

func runAdminKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: kunding admin-key rotate [--data DIR]")
	}
	fs := flagSet("admin-key rotate", stderr)
	sf := addStoreFlags(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := auth.RotateAdminKey(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new admin API key (the old one no longer works):\n\n    %s\n", key)
	return nil
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "kunding", versionString())
	return nil
}
