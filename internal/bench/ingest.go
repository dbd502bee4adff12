package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

// IngestConfig is one run of the ingest benchmark against a running server.
type IngestConfig struct {
	URL      string // base URL of the server, e.g. http://127.0.0.1:8080
	WriteKey string
	Events   int
	Clients  int
	Batch    int // events per request
	Seed     uint64
	// Persons is the population events are drawn from (0: Events/20, so a
	// person has about 20 events, spread over many batches and clients).
	Persons int
	// Store is the server's store (or the same file opened by this
	// process); the benchmark reads the pipeline cursor and counts from it.
	Store store.Store
	// Progress, if set, is called about five times a second from one
	// goroutine: phase is "generate", "ingest" or "pipeline".
	Progress func(phase string, done, total int64)
	// ServerCPU and ClientCPU, if set, return the CPU time used so far by
	// the server and the client process.
	ServerCPU, ClientCPU func() time.Duration
	// PipelineTimeout bounds the wait for the pipeline (0: 30 minutes).
	PipelineTimeout time.Duration
	// ReleasePipeline, if set, lets the pipeline go after the last batch was
	// acknowledged: the caller held it back with HoldPipeline before the
	// server started, so that ingest and pipeline are measured apart.
	// Without it they share the server, as in production.
	ReleasePipeline func()
}

// IngestResult holds the figures of one run.
type IngestResult struct {
	Events, Batches      int
	Clients              int
	BodyBytes            int64
	Accepted             int64 // events the server acknowledged as new
	Duplicates           int64
	Overloaded           int64 // 503 answers (each retried)
	Elapsed              time.Duration
	Latency              Latency       // of acknowledged requests
	ProcessedAtEnd       int64         // pipeline progress when the last batch was acknowledged
	LoggedAtEnd          int64         // acknowledged events in the event log when the last batch was acknowledged
	LogElapsed           time.Duration // from the first request until every acknowledged event was in the log
	PipelineElapsed      time.Duration
	PipelineEvents       int64
	Customers            int64
	ServerCPU, ClientCPU time.Duration
	PipelineAfter        bool
}

// EventsPerSecond is the rate of durably acknowledged events.
func (r IngestResult) EventsPerSecond() float64 { return rate(r.Accepted+r.Duplicates, r.Elapsed) }

// PipelineEventsPerSecond is the rate of the pipeline from the first request
// until it caught up with the log.
func (r IngestResult) PipelineEventsPerSecond() float64 {
	return rate(r.PipelineEvents, r.PipelineElapsed)
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Print writes the figures for people.
func (r IngestResult) Print(w io.Writer) {
	fmt.Fprintf(w, "events:      %d in %d batches, %d clients, %.0f bytes/event (%.1f MB of JSON)\n",
		r.Events, r.Batches, r.Clients, float64(r.BodyBytes)/float64(max(r.Events, 1)), float64(r.BodyBytes)/1e6)
	fmt.Fprintf(w, "accepted:    %d new, %d duplicates in %.2f s = %.0f events/s (durable ack)\n",
		r.Accepted, r.Duplicates, r.Elapsed.Seconds(), r.EventsPerSecond())
	fmt.Fprintf(w, "batch:       %s\n", r.Latency)
	fmt.Fprintf(w, "503 answers: %d (retried)\n", r.Overloaded)
	if r.LoggedAtEnd < r.Accepted {
		fmt.Fprintf(w, "event log:   %d of %d in the log when ingest ended (the rest in the journal); all in the log %.2f s after the first request = %.0f events/s\n",
			r.LoggedAtEnd, r.Accepted, r.LogElapsed.Seconds(), rate(r.Accepted, r.LogElapsed))
	}
	if r.PipelineAfter {
		fmt.Fprintf(w, "pipeline:    held back during ingest; then %d events in %.2f s = %.0f events/s\n",
			r.PipelineEvents, r.PipelineElapsed.Seconds(), r.PipelineEventsPerSecond())
	} else {
		fmt.Fprintf(w, "pipeline:    %d of %d processed when ingest ended; caught up %.2f s after the first request = %.0f events/s\n",
			r.ProcessedAtEnd, r.PipelineEvents, r.PipelineElapsed.Seconds(), r.PipelineEventsPerSecond())
	}
	fmt.Fprintf(w, "customers:   %d\n", r.Customers)
	if r.ServerCPU > 0 || r.ClientCPU > 0 {
		fmt.Fprintf(w, "cpu:         server %.1f s, client %.1f s during ingest (%.1f s wall, 2 cores = %.1f core-s)\n",
			r.ServerCPU.Seconds(), r.ClientCPU.Seconds(), r.Elapsed.Seconds(), 2*r.Elapsed.Seconds())
	}
}

// batchAnswer is the part of the /v1/batch answer the benchmark checks.
type batchAnswer struct {
	Success    bool   `json:"success"`
	Accepted   int64  `json:"accepted"`
	Duplicates int64  `json:"duplicates"`
	Error      string `json:"error"`
}

// Ingest generates the batches, then sends them from cfg.Clients concurrent
// clients and waits until the pipeline has processed them.
func Ingest(ctx context.Context, cfg IngestConfig) (IngestResult, error) {
	if cfg.Clients < 1 || cfg.Batch < 1 || cfg.Events < 1 {
		return IngestResult{}, errors.New("events, clients and batch must be at least 1")
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	persons := cfg.Persons
	if persons <= 0 {
		persons = max(cfg.Events/20, 10)
	}
	// The bodies are made before the clock starts: encoding JSON is the
	// client's cost, and the client shares the two cores with the server.
	g := NewGenerator(cfg.Seed, persons, strconv.FormatInt(time.Now().UnixNano()%1e9, 36))
	var bodies [][]byte
	var counts []int
	res := IngestResult{Events: cfg.Events, Clients: cfg.Clients, PipelineAfter: cfg.ReleasePipeline != nil}
	sentAt := time.Now()
	for left := cfg.Events; left > 0; {
		n := min(left, cfg.Batch)
		b := g.Batch(make([]byte, 0, n*1100), n, sentAt)
		bodies = append(bodies, b)
		counts = append(counts, n)
		res.BodyBytes += int64(len(b))
		left -= n
		if len(bodies)%100 == 0 {
			progress("generate", int64(cfg.Events-left), int64(cfg.Events))
		}
	}
	progress("generate", int64(cfg.Events), int64(cfg.Events))
	res.Batches = len(bodies)

	before, err := cfg.Store.Stats(ctx)
	if err != nil {
		return res, fmt.Errorf("stats before: %w", err)
	}
	if cfg.ReleasePipeline != nil {
		defer cfg.ReleasePipeline()
	}
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	url := strings.TrimSuffix(cfg.URL, "/") + "/v1/batch"

	var next, accepted, dups, overloaded atomic.Int64
	lats := make([][]time.Duration, cfg.Clients)
	errc := make(chan error, cfg.Clients)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cpu := func(f func() time.Duration) time.Duration {
		if f == nil {
			return 0
		}
		return f()
	}
	srvCPU0, cliCPU0 := cpu(cfg.ServerCPU), cpu(cfg.ClientCPU)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < cfg.Clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) || cctx.Err() != nil {
					return
				}
				for attempt := 0; ; attempt++ {
					t0 := time.Now()
					ans, code, err := post(cctx, client, url, cfg.WriteKey, bodies[i])
					d := time.Since(t0)
					if err != nil {
						errc <- err
						cancel()
						return
					}
					if code == http.StatusServiceUnavailable {
						// Back off as an SDK would, briefly: the server asks
						// for a second, but the benchmark wants the ceiling.
						overloaded.Add(1)
						time.Sleep(time.Duration(min(attempt+1, 20)) * 10 * time.Millisecond)
						continue
					}
					if code != http.StatusOK || !ans.Success || ans.Accepted+ans.Duplicates != int64(counts[i]) {
						errc <- fmt.Errorf("batch %d: HTTP %d, accepted %d of %d: %s", i, code, ans.Accepted, counts[i], ans.Error)
						cancel()
						return
					}
					lats[c] = append(lats[c], d)
					accepted.Add(ans.Accepted)
					dups.Add(ans.Duplicates)
					break
				}
			}
		}(c)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-tick.C:
			progress("ingest", accepted.Load()+dups.Load(), int64(cfg.Events))
		}
	}
	res.Elapsed = time.Since(start)
	res.ServerCPU, res.ClientCPU = cpu(cfg.ServerCPU)-srvCPU0, cpu(cfg.ClientCPU)-cliCPU0
	progress("ingest", accepted.Load()+dups.Load(), int64(cfg.Events))
	select {
	case err := <-errc:
		return res, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.Accepted, res.Duplicates, res.Overloaded = accepted.Load(), dups.Load(), overloaded.Load()
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	res.Latency = Summarize(all)

	after, err := cfg.Store.Stats(ctx)
	if err != nil {
		return res, fmt.Errorf("stats after: %w", err)
	}
	cur, err := cfg.Store.Cursor(ctx, pipeline.CursorName)
	if err != nil {
		return res, err
	}
	res.ProcessedAtEnd = max(cur-before.Processed, 0)
	// With the journal, acknowledged events reach the log behind the
	// answer: wait until all are there (every acknowledged event is new).
	res.LoggedAtEnd = after.Events - before.Events
	want := before.Events + res.Accepted
	logDeadline := time.Now().Add(30 * time.Minute)
	for after.Events < want {
		if time.Now().After(logDeadline) {
			return res, fmt.Errorf("acknowledged events did not reach the log within 30 minutes (%d of %d)", after.Events-before.Events, res.Accepted)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if after, err = cfg.Store.Stats(ctx); err != nil {
			return res, err
		}
		progress("loading into the log", after.Events-before.Events, res.Accepted)
	}
	res.LogElapsed = time.Since(start)
	res.PipelineEvents = after.LastSeq - before.Processed
	pipeStart := start
	if cfg.ReleasePipeline != nil {
		cfg.ReleasePipeline()
		pipeStart = time.Now()
	}
	timeout := cfg.PipelineTimeout
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	// The cursor is one indexed row: polling it costs the pipeline nothing.
	for cur < after.LastSeq {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("pipeline did not catch up within %s (at %d of %d)", timeout, cur, after.LastSeq)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if cur, err = cfg.Store.Cursor(ctx, pipeline.CursorName); err != nil {
			return res, err
		}
		progress("pipeline", cur-before.Processed, res.PipelineEvents)
	}
	res.PipelineElapsed = time.Since(pipeStart)
	final, err := cfg.Store.Stats(ctx)
	if err != nil {
		return res, err
	}
	res.Customers = final.Customers
	return res, nil
}

// HoldPipeline takes the pipeline's lease before a server starts on st's
// data, so that the server's worker waits, and returns the function that
// gives the lease back.
func HoldPipeline(ctx context.Context, st store.Store) (func(), error) {
	holder := fmt.Sprintf("bench-%d", os.Getpid())
	ok, err := st.AcquireLease(ctx, pipeline.LeaseName, holder, time.Hour)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("the pipeline lease is held by a running server; cannot hold the pipeline back")
	}
	var once sync.Once
	return func() {
		once.Do(func() { st.ReleaseLease(context.Background(), pipeline.LeaseName, holder) })
	}, nil
}

func post(ctx context.Context, c *http.Client, url, key string, body []byte) (batchAnswer, int, error) {
	var ans batchAnswer
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return ans, 0, err
	}
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return ans, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return ans, resp.StatusCode, err
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &ans); err != nil {
			return ans, resp.StatusCode, fmt.Errorf("answer %q: %v", b, err)
		}
	} else {
		json.Unmarshal(b, &ans)
	}
	return ans, resp.StatusCode, nil
}

// ProcessCPU returns the user+system CPU time of process pid (0: this
// process) from /proc; false where there is no /proc.
func ProcessCPU(pid int) (time.Duration, bool) {
	p := "/proc/self/stat"
	if pid > 0 {
		p = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, false
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	// USER_HZ is 100 on every Linux this runs on.
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}
