// Package server wires the store, the collection API, the management API and
// the pipeline into one HTTP server, and shuts them down in the order that
// loses nothing acknowledged.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kunding/kunding/internal/api"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/collect"
	"github.com/kunding/kunding/internal/journal"
	"github.com/kunding/kunding/internal/metrics"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/postgres"
	"github.com/kunding/kunding/internal/store/sqlite"
	"github.com/kunding/kunding/internal/survey"
	"github.com/kunding/kunding/internal/web"
)

// Config is what `kunding serve` is given.
type Config struct {
	Addr    string
	DataDir string
	// DB is a postgres:// URL; empty means the embedded SQLite store in DataDir.
	DB string
	// Fsync: wait for fsync before acknowledging (power-loss safe).
	Fsync bool
	// Queue bounds the collection requests waiting for a commit.
	Queue int
	// Journal: "on" acknowledges events once they are in the local journal
	// (DataDir/journal) and loads them into the event log behind the
	// answer; "off" acknowledges after the commit to the database; "" or
	// "auto": on for the embedded store, off for PostgreSQL (whose nodes
	// are meant to be stateless). See docs/collection.md.
	Journal string
	// JournalMaxBacklog: bytes acknowledged but not yet loaded before the
	// collection API answers 503 (0: 1 GiB).
	JournalMaxBacklog int64
	// JournalBurstDefer: how long the journal's loader may hold a batch
	// back while requests queue for the journal (0: never).
	JournalBurstDefer time.Duration
	Log               *slog.Logger
	// AdminKeyOut receives the admin key when it is created on first start.
	AdminKeyOut func(key string)
	// RefitEvery refits the purchase models on this schedule (0: never).
	RefitEvery time.Duration
	// CaseClock is the clock of case deadlines and escalation (nil: the
	// real time; tests move a cases.ManualClock). CaseEscalateEvery is how
	// often the escalation job runs (0: every minute).
	CaseClock         cases.Clock
	CaseEscalateEvery time.Duration
	// SecureCookies marks session cookies Secure even on plain HTTP (behind
	// a TLS-terminating proxy); TrustProxy believes X-Forwarded-For/-Proto.
	SecureCookies bool
	TrustProxy    bool
}

// DBPath is where the SQLite file lives in a data directory.
func DBPath(dataDir string) string { return filepath.Join(dataDir, "kunding.db") }

// OpenStore opens the embedded store of a data directory.
func OpenStore(ctx context.Context, dataDir string, fsync bool) (store.Store, error) {
	return Open(ctx, "", dataDir, fsync)
}

// Open opens the PostgreSQL store at db (a postgres:// URL) or, when db is
// empty, the embedded SQLite store in dataDir.
func Open(ctx context.Context, db, dataDir string, fsync bool) (store.Store, error) {
	switch {
	case db == "":
		return sqlite.Open(ctx, DBPath(dataDir), sqlite.Options{Fsync: fsync})
	case strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://"):
		return postgres.Open(ctx, db, postgres.Options{Fsync: fsync})
	default:
		return nil, fmt.Errorf("--db must be a postgres:// URL (or empty for the embedded SQLite store)")
	}
}

// Server is a running Kunding node.
type Server struct {
	Store    store.Store
	Metrics  *metrics.Metrics
	Pipeline *pipeline.Pipeline
	// Auth is the user system: sessions, CSRF, API keys, permissions.
	Auth *auth.Service
	// Cases is the case service (issue 7).
	Cases *cases.Service
	Addr  string // the address actually listened on

	http *http.Server
	// closeWriter stops the collection API's writer (appender or journal)
	// after the requests in flight.
	closeWriter func()
	// Journal is the collection API's write-ahead journal (nil when off).
	Journal *journal.Journal
	// bg tracks the background jobs (scoring, cases, touchpoints,
	// campaigns), so that Shutdown closes the store only after them.
	bg      sync.WaitGroup
	cancel  context.CancelFunc
	workers chan struct{}
	log     *slog.Logger
}

// Start opens the store, creates the admin key if needed and listens.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	st, err := Open(ctx, cfg.DB, cfg.DataDir, cfg.Fsync)
	if err != nil {
		return nil, err
	}
	key, err := auth.EnsureAdminKey(ctx, st)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("admin key: %w", err)
	}
	if key != "" && cfg.AdminKeyOut != nil {
		cfg.AdminKeyOut(key)
	}
	useJournal, err := JournalOn(cfg.Journal, cfg.DB)
	if err != nil {
		st.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		st.Close()
		return nil, err
	}
	m := metrics.New()
	var jn *journal.Journal
	if useJournal {
		jn, err = journal.Open(journal.Options{Dir: filepath.Join(cfg.DataDir, "journal"), Fsync: cfg.Fsync, Store: st,
			MaxBacklog: cfg.JournalMaxBacklog, Queue: cfg.Queue, Metrics: m, Log: log, BurstDefer: cfg.JournalBurstDefer})
		if err != nil {
			ln.Close()
			st.Close()
			return nil, err
		}
	}
	return serve(st, ln, cfg, log, m, jn), nil
}

// JournalOn decides from the --journal setting whether the collection API
// writes through the local journal.
func JournalOn(mode, db string) (bool, error) {
	switch mode {
	case "", "auto":
		return db == "", nil
	case "on", "true":
		return true, nil
	case "off", "false":
		return false, nil
	}
	return false, fmt.Errorf("--journal %q: use auto, on or off", mode)
}

func serve(st store.Store, ln net.Listener, cfg Config, log *slog.Logger, m *metrics.Metrics, jn *journal.Journal) *Server {
	host, _ := os.Hostname()
	// The lease holder is stable across restarts of the same node (host and
	// listen address), so a node restarted after a crash takes its pipeline
	// lease back at once instead of waiting for it to expire.
	pl := &pipeline.Pipeline{Store: st, Log: log, Holder: "serve " + host + " " + ln.Addr().String()}
	pl.OnProcessed = func(n int, _ int64) { m.Processed.Add(float64(n)) }
	q := cfg.Queue
	if q <= 0 {
		q = 2048
	}
	var w collect.Writer
	var closeWriter func()
	if jn != nil {
		jn.SetAfter(pl.Wake)
		w, closeWriter = jn, jn.Close
	} else {
		ap := collect.NewAppender(st, m, q, pl.Wake)
		w, closeWriter = ap, ap.Close
	}
	coll := &collect.Collector{Store: st, Appender: w, Metrics: m, Log: log}
	authSvc := auth.NewService(st, auth.Options{Secure: cfg.SecureCookies, TrustProxy: cfg.TrustProxy, Log: log})
	intake, poller := feedbackIntake(st, pl, "feeds "+host+" "+ln.Addr().String(), log)
	// Survey answers are appended by the survey service; it wakes the pipeline.
	surveys := &survey.Service{Store: st, Wake: pl.Wake}
	// An erasure first waits for the journal, so that the person's events
	// acknowledged just before it are in the log and erased with it.
	beforeErase := func(ctx context.Context) error {
		if jn == nil {
			return nil
		}
		return jn.Sync(ctx)
	}
	ap2 := &api.API{Store: st, Log: log, OnKeysChanged: coll.ForgetKeys, Auth: authSvc, Surveys: surveys, Feedback: intake, Feeds: poller,
		BeforeErase: beforeErase}

	caseSvc := newCaseService(st, cfg, log)
	wireFollowUp(caseSvc, surveys, log)
	ap2.Cases = caseSvc
	hooks := newWebhooks(st, caseSvc, "webhooks "+host+" "+ln.Addr().String(), log)
	ap2.Webhooks = hooks
	campaigns := newCampaigns(st, pl, log)
	ap2.Campaigns = campaigns
	mux := http.NewServeMux()
	coll.Register(mux)
	ap2.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"unavailable","error":"database does not answer"}` + "\n"))
			return
		}
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	// Metrics tell about customers' activity: like /api/, they need an API
	// key (a Prometheus scrape config sends it as a bearer token) or a login.
	mux.Handle("GET /metrics", authSvc.APIAuth(auth.RequirePermission(auth.PermRead)(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))))
	// The web app takes every path the routes above leave: / and its pages.
	mux.Handle("/", web.MustNew(web.Config{Store: st, Auth: authSvc, Log: log, OnKeysChanged: coll.ForgetKeys, Surveys: surveys, Feeds: poller,
		Cases: caseSvc, Webhooks: hooks, Campaigns: campaigns, BeforeErase: beforeErase}))

	s := &Server{Store: st, Metrics: m, Pipeline: pl, Auth: authSvc, Addr: ln.Addr().String(), closeWriter: closeWriter, Journal: jn, log: log, workers: make(chan struct{})}
	s.http = &http.Server{
		Handler:           instrument(mux, m),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	wireScoring(&s.bg, wctx, st, pl, cfg.RefitEvery, log)
	s.Cases = caseSvc
	wireCases(&s.bg, wctx, st, caseSvc, pl, "cases "+host+" "+ln.Addr().String(), cfg.CaseEscalateEvery, log)
	wireTouchpoints(&s.bg, wctx, st, pl, "touchpoints "+host+" "+ln.Addr().String(), log)
	wireCampaigns(&s.bg, wctx, st, campaigns, "campaigns "+host+" "+ln.Addr().String())
	go func() {
		defer close(s.workers)
		done := make(chan struct{})
		go func() { pl.Run(wctx); close(done) }()
		feedsDone := make(chan struct{})
		go func() { poller.Run(wctx); close(feedsDone) }()
		hooksDone := make(chan struct{})
		go func() { hooks.Run(wctx); close(hooksDone) }()
		lagTick := time.NewTicker(5 * time.Second)
		defer lagTick.Stop()
		pruneTick := time.NewTicker(10 * time.Minute)
		defer pruneTick.Stop()
		for {
			select {
			case <-wctx.Done():
				<-done
				<-feedsDone
				<-hooksDone
				return
			case <-lagTick.C:
				if stt, err := st.Stats(wctx); err == nil {
					m.PipelineLag.Set(float64(stt.LastSeq - stt.Processed))
				}
				if jn != nil {
					n, b := jn.Backlog()
					m.JournalBacklog.Set(float64(n))
					m.JournalBacklogBytes.Set(float64(b))
				}
			case <-pruneTick.C:
				if err := st.PruneRejected(wctx, 10000); err != nil && wctx.Err() == nil {
					log.Warn("prune rejected events", "err", err)
				}
			}
		}
	}()
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	return s
}

// Flush waits until every event acknowledged so far is in the event log
// (with the journal they reach it right behind the answer).
func (s *Server) Flush(ctx context.Context) error {
	if s.Journal == nil {
		return nil
	}
	return s.Journal.Sync(ctx)
}

// Shutdown stops accepting requests, waits for those in flight (their events
// are committed before they are answered), stops the workers and closes the
// store.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.closeWriter()
	s.cancel()
	<-s.workers
	s.bg.Wait()
	return errors.Join(err, s.Store.Close())
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// instrument records the latency of every request by route pattern and code.
func instrument(h http.Handler, m *metrics.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.RequestSeconds.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}
