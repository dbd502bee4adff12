package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/bench"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/touchpoint"
)

const benchUsage = `usage:
  kunding bench ingest [--events N] [--clients C] [--batch 100] [--fsync=true|false] [--data DIR] [--db postgres://...] [--addr HOST:PORT] [--inprocess] [--cpuprofile FILE]
  kunding bench lookup [--customers N] [--events N] [--data DIR] [--reuse] [--lookups N] [--http] [--fsync]`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(benchUsage)
	}
	switch args[0] {
	case "ingest":
		return runBenchIngest(ctx, args[1:], stdout, stderr)
	case "lookup":
		return runBenchLookup(ctx, args[1:], stdout, stderr)
	case "server":
		// Not for people: the server process that `bench ingest` starts.
		return runBenchServer(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown benchmark %q\n%s", args[0], benchUsage)
}

// benchDataDir returns dir, or a new temporary directory and a function
// that removes it.
func benchDataDir(dir, pattern string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}

func runBenchIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("bench ingest", stderr)
	events := fs.Int("events", 1_000_000, "events to send")
	clients := fs.Int("clients", 32, "concurrent HTTP clients, each with one keep-alive connection")
	batchSize := fs.Int("batch", 100, "events per /v1/batch request")
	fsync := fs.Bool("fsync", true, "server fsyncs every commit before acknowledging (power-loss safe); false: crash safe only")
	data := fs.String("data", "", "data directory of the server (default: a temporary directory, removed afterwards)")
	db := fs.String("db", "", "PostgreSQL URL of the server's store (empty: SQLite in --data); use an empty database")
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the server (port 0: any free port)")
	inProcess := fs.Bool("inprocess", false, "run the server in this process instead of a child process")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server to this file")
	queue := fs.Int("queue", 2048, "the server's --queue: requests that may wait for a commit before 503")
	seed := fs.Uint64("seed", 1, "seed of the event generator")
	jmode := fs.String("journal", "auto", "the server's --journal: auto (on for SQLite, off for PostgreSQL), on or off")
	jdefer := fs.Duration("journal-burst-defer", 2*time.Second, "the server's --journal-burst-defer")
	pipelineAfter := fs.Bool("pipeline-after", false, "hold the pipeline back until all events are acknowledged, to measure ingest and pipeline apart")
	if err := parse(fs, args); err != nil {
		return err
	}
	useJournal, err := server.JournalOn(*jmode, *db)
	if err != nil {
		return err
	}
	dir, cleanup, err := benchDataDir(*data, "kunding-bench-ingest-")
	if err != nil {
		return err
	}
	defer cleanup()

	st, src, err := bench.Prepare(ctx, *db, dir, *fsync)
	if err != nil {
		return err
	}
	defer st.Close()

	cfg := bench.IngestConfig{WriteKey: src.WriteKey, Events: *events, Clients: *clients, Batch: *batchSize, Seed: *seed, Store: st}
	if *pipelineAfter {
		if cfg.ReleasePipeline, err = bench.HoldPipeline(ctx, st); err != nil {
			return err
		}
	}
	mode := "child process"
	if *inProcess {
		mode = "in-process"
		var stopProfile func()
		if *cpuProfile != "" {
			if stopProfile, err = startCPUProfile(*cpuProfile); err != nil {
				return err
			}
		}
		srv, err := server.Start(ctx, server.Config{Addr: *addr, DataDir: dir, DB: *db, Fsync: *fsync, Queue: *queue, Journal: *jmode, JournalBurstDefer: *jdefer,
			Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			srv.Shutdown(sctx)
			if stopProfile != nil {
				stopProfile()
			}
		}()
		cfg.URL = "http://" + srv.Addr
		cfg.ClientCPU = func() time.Duration { d, _ := bench.ProcessCPU(0); return d }
	} else {
		child, err := startBenchServer(ctx, *db, dir, *addr, *fsync, *jmode, *jdefer, *queue, *cpuProfile, stderr)
		if err != nil {
			return err
		}
		defer child.stop()
		cfg.URL = "http://" + child.addr
		pid := child.cmd.Process.Pid
		cfg.ServerCPU = func() time.Duration { d, _ := bench.ProcessCPU(pid); return d }
		cfg.ClientCPU = func() time.Duration { d, _ := bench.ProcessCPU(0); return d }
	}
	durability := "fsync on: synchronous=FULL, an acknowledged event survives power loss"
	switch {
	case *db != "" && *fsync:
		durability = "PostgreSQL, synchronous_commit=on: an acknowledged event is on the database server's disk"
	case *db != "":
		durability = "PostgreSQL, synchronous_commit=off: a crash of the database server may lose the last acknowledged commits"
	case !*fsync:
		durability = "fsync off: synchronous=NORMAL (WAL), an acknowledged event survives a crash of the process, not of the machine"
	}
	if useJournal {
		if *fsync {
			durability = "journal, fsync on: acknowledged once fsynced in the local journal (survives power loss), loaded into the event log behind the answer"
		} else {
			durability = "journal, fsync off: acknowledged once written to the local journal (survives a crash of the process, not of the machine), loaded into the event log behind the answer"
		}
	}
	fmt.Fprintf(stdout, "kunding bench ingest  %s  %s, %d CPUs (GOMAXPROCS %d), server %s\n%s\n",
		time.Now().UTC().Format(time.RFC3339), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), mode, durability)
	var bar *progress
	var phase string
	cfg.Progress = func(ph string, done, total int64) {
		if ph != phase {
			if bar != nil {
				bar.done()
			}
			bar, phase = newProgress(stderr, ph, total), ph
		}
		bar.set(done)
	}
	res, err := bench.Ingest(ctx, cfg)
	if bar != nil {
		bar.done()
	}
	if err != nil {
		return err
	}
	res.Print(stdout)
	return nil
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// benchServer is the server child process of `bench ingest`. A separate
// process gives the server its own runtime (heap, GC, scheduler) as in
// production, and lets the benchmark report server and client CPU apart.
type benchServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
	done  chan error
}

func startBenchServer(ctx context.Context, db, dir, addr string, fsync bool, jmode string, jdefer time.Duration, queue int, cpuProfile string, stderr io.Writer) (*benchServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"bench", "server", "--data", dir, "--db", db, "--addr", addr, fmt.Sprintf("--fsync=%t", fsync), "--journal=" + jmode, "--journal-burst-defer=" + jdefer.String(), fmt.Sprintf("--queue=%d", queue)}
	if cpuProfile != "" {
		args = append(args, "--cpuprofile", cpuProfile)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &benchServer{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				lines <- a
			}
		}
		close(lines)
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case a, ok := <-lines:
		if !ok {
			return nil, fmt.Errorf("server process ended before listening: %v", <-s.done)
		}
		s.addr = a
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, errors.New("server process did not start within 30 s")
	case <-ctx.Done():
		cmd.Process.Kill()
		return nil, ctx.Err()
	}
	return s, nil
}

// stop closes the child's stdin, which makes it shut down gracefully.
func (s *benchServer) stop() {
	s.stdin.Close()
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func runBenchServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("bench server", stderr)
	data := fs.String("data", "", "data directory")
	db := fs.String("db", "", "PostgreSQL URL (empty: SQLite in --data)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	fsync := fs.Bool("fsync", true, "fsync every commit")
	queue := fs.Int("queue", 2048, "requests that may wait for a commit")
	jmode := fs.String("journal", "auto", "auto, on or off")
	jdefer := fs.Duration("journal-burst-defer", 2*time.Second, "see serve")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil { // no KUNDING_* here: the parent passes everything
		return err
	}
	if *data == "" {
		return errors.New("--data is required")
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.Start(ctx, server.Config{Addr: *addr, DataDir: *data, DB: *db, Fsync: *fsync, Queue: *queue, Journal: *jmode, JournalBurstDefer: *jdefer, Log: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening %s\n", srv.Addr)
	// The parent closes stdin to stop us; if it dies, stdin closes too.
	eof := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(eof) }()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return srv.Shutdown(sctx)
}

func runBenchLookup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("bench lookup", stderr)
	customers := fs.Int("customers", 1_000_000, "customers in the store")
	events := fs.Int("events", 20_000_000, "events in the store")
	data := fs.String("data", "", "data directory (default: a temporary directory, removed afterwards; give one to --reuse it)")
	reuse := fs.Bool("reuse", false, "reuse the store in --data if it was built with the same --customers and --events")
	build := fs.String("build", "bulk", "how to build: bulk (fast, writes what the pipeline would) or pipeline (store.Append, then the pipeline)")
	lookups := fs.Int("lookups", 10_000, "lookups per measurement")
	concurrency := fs.Int("concurrency", 4, "goroutines of the concurrent measurement")
	httpToo := fs.Bool("http", true, "also measure GET /api/customers/{id} and /timeline through a server")
	fsync := fs.Bool("fsync", true, "the server fsyncs every commit (as kunding serve does by default); both requests of a lookup write an audit entry")
	seed := fs.Uint64("seed", 1, "seed of the random customer choice")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *reuse && *data == "" {
		return errors.New("--reuse needs --data")
	}
	if *build != "bulk" && *build != "pipeline" {
		return fmt.Errorf("--build %q: bulk or pipeline", *build)
	}
	dir, cleanup, err := benchDataDir(*data, "kunding-bench-lookup-")
	if err != nil {
		return err
	}
	defer cleanup()
	d := bench.LookupData{Customers: *customers, Events: *events}
	fmt.Fprintf(stdout, "kunding bench lookup  %s  %s, %d CPUs (GOMAXPROCS %d)\n%s customers, %s events, data %s\n",
		time.Now().UTC().Format(time.RFC3339), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		bench.FormatCount(int64(d.Customers)), bench.FormatCount(int64(d.Events)), dir)

	// A benchmark store needs no fsync: it is rebuilt, not recovered.
	st, err := server.OpenStore(ctx, dir, false)
	if err != nil {
		return err
	}
	if *reuse && d.Built(ctx, st) {
		fmt.Fprintln(stdout, "build:    reused")
	} else {
		stats, err := st.Stats(ctx)
		if err != nil {
			st.Close()
			return err
		}
		if stats.Events > 0 {
			st.Close()
			return fmt.Errorf("%s holds %d events of something else; give an empty --data directory", dir, stats.Events)
		}
		st.Close()
		var src store.Source
		st, src, err = bench.Prepare(ctx, "", dir, false)
		if err != nil {
			return err
		}
		var bar *progress
		var phase string
		prog := func(ph string, done, total int64) {
			if ph != phase {
				if bar != nil {
					bar.done()
				}
				bar, phase = newProgress(stderr, "build "+ph, total), ph
			}
			bar.set(done)
		}
		b := bench.BuildLookupBulk
		if *build == "pipeline" {
			b = bench.BuildLookup
		}
		bs, err := b(ctx, st, src, d, prog)
		if bar != nil {
			bar.done()
		}
		if err != nil {
			st.Close()
			return err
		}
		fmt.Fprintf(stdout, "build:    %s, %s events (%.1f GB of event JSON) in %s = %.0f events/s\n",
			*build, bench.FormatCount(bs.Events), float64(bs.Bytes)/1e9, bs.Elapsed.Round(time.Second), float64(bs.Events)/bs.Elapsed.Seconds())
		// The bulk build held the whole data set in memory (about 20 GB at
		// full size); give it back, so the lookups find the page cache the
		// way a server that was started on this store would.
		debug.FreeOSMemory()
	}
	defer func() { st.Close() }()
	if fi, err := os.Stat(server.DBPath(dir)); err == nil {
		fmt.Fprintf(stdout, "database: %.1f GB\n", float64(fi.Size())/1e9)
	}

	fmt.Fprintln(stdout, "lookup = Customer(id) + Identities(id) + Timeline(id, limit 50), random customers:")
	for _, conc := range []int{1, *concurrency} {
		r, err := bench.MeasureLookups(ctx, "store", d, bench.StoreLookup(st), *lookups, conc, *seed+uint64(conc))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "  "+r.String())
	}
	if !*httpToo {
		return nil
	}
	if err := catchUpConsumers(ctx, st, stderr); err != nil {
		return err
	}
	// The admin key of a benchmark store is rotated: it is not anyone's.
	key, err := auth.RotateAdminKey(ctx, st)
	if err != nil {
		return err
	}
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dir, Fsync: *fsync,
		Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(stdout, "HTTP lookup = GET /api/customers/{id} + GET /api/customers/{id}/timeline (server in this process, --fsync=%v):\n", *fsync)
	for _, conc := range []int{1, *concurrency} {
		r, err := bench.MeasureLookups(ctx, "http", d, bench.HTTPLookup("http://"+srv.Addr, key, conc), *lookups, conc, *seed+100+uint64(conc))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "  "+r.String())
	}
	return nil
}

// catchUpConsumers runs the server's consumers of the log (touchpoint
// matching, case rules) until they have caught up with the pipeline, as on a
// server that has been running. A bulk-built store has them at the start,
// and a server started on it would spend the HTTP measurement catching up
// on millions of events (that is what the first measurements at full size
// measured). Their cursors stay in the store, so --reuse does this once.
func catchUpConsumers(ctx context.Context, st store.Store, stderr io.Writer) error {
	target, err := st.Cursor(ctx, pipeline.CursorName)
	if err != nil {
		return err
	}
	tc := &touchpoint.Consumer{Service: &touchpoint.Service{Store: st}, Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if p, err := tc.Progress(ctx); err == nil && p.Cursor < target {
		bar := newProgress(stderr, "catch up touchpoints", target)
		tc.OnProgress = func(p touchpoint.Progress) { bar.set(p.Cursor) }
		_, err := tc.Drain(ctx)
		bar.done()
		if err != nil {
			return fmt.Errorf("touchpoints: %w", err)
		}
	}
	cs, err := cases.New(st, nil)
	if err != nil {
		return err
	}
	cs.Timeline = true
	caseCursor := st.(store.CaseStore).CaseCursor
	if cur, err := caseCursor(ctx); err != nil || cur >= target {
		return err
	}
	// cases.Service.Drain reports nothing; its steps do, for the bar.
	bar := newProgress(stderr, "catch up case rules", target)
	defer bar.done()
	for {
		n, err := cs.Step(ctx)
		if err != nil {
			return fmt.Errorf("case rules: %w", err)
		}
		if cur, err := caseCursor(ctx); err == nil {
			bar.set(cur)
		}
		if n == 0 {
			return nil
		}
	}
}
