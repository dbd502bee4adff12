package collect_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/pgtest"
)

// testServer is a real Kunding server on a loopback port with a SQLite file
// in a temporary directory, one source and the admin key.
type testServer struct {
	*server.Server
	URL      string
	AdminKey string
	Source   store.Source
}

// eachStore runs a test against a server on SQLite and one on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.URL(t)) })
}

func startServer(t *testing.T) *testServer { return startServerDB(t, "") }

// startServerDB starts a server on db (a PostgreSQL URL; empty: SQLite).
func startServerDB(t *testing.T, db string) *testServer {
	t.Helper()
	ctx := context.Background()
	var adminKey string
	srv, err := server.Start(ctx, server.Config{
		Addr:        "127.0.0.1:0",
		DataDir:     t.TempDir(),
		DB:          db,
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		AdminKeyOut: func(k string) { adminKey = k },
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	if adminKey == "" {
		t.Fatal("no admin key was handed out on first start")
	}
	src, err := source.Create(ctx, srv.Store, "web shop", "web")
	if err != nil {
		t.Fatalf("create source: %v", err)
	}
	return &testServer{Server: srv, URL: "http://" + srv.Addr, AdminKey: adminKey, Source: src}
}

// newSource adds another source with its own write key.
func (s *testServer) newSource(t *testing.T, name string) store.Source {
	t.Helper()
	src, err := source.Create(context.Background(), s.Store, name, "app")
	if err != nil {
		t.Fatalf("create source %s: %v", name, err)
	}
	return src
}

// request is one HTTP call to the collection API.
type request struct {
	method   string
	path     string
	body     []byte
	basicKey string // sent as "key:" in a Basic Authorization header
	header   map[string]string
	gzip     bool
}

// response is an answer with its decoded JSON body.
type response struct {
	code   int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.code, r.raw) }

// errText is the "error" of a JSON answer.
func (r response) errText() string {
	s, _ := r.body["error"].(string)
	return s
}

func (s *testServer) do(t *testing.T, rq request) response {
	t.Helper()
	if rq.method == "" {
		rq.method = http.MethodPost
	}
	body := rq.body
	if rq.gzip {
		body = gzipped(t, body)
	}
	req, err := http.NewRequest(rq.method, s.URL+rq.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if rq.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if rq.basicKey != "" {
		req.SetBasicAuth(rq.basicKey, "")
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	out := response{code: res.StatusCode, header: res.Header, raw: raw}
	s.sync(t)
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s answered %d with a body that is not a JSON object: %q", rq.method, rq.path, res.StatusCode, raw)
		}
	}
	return out
}

// api calls the management API with the admin key and decodes the answer into v.
func (s *testServer) api(t *testing.T, path string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.AdminKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK && v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, raw)
		}
	}
	return res.StatusCode
}

// sync waits until every acknowledged event is in the log: with the
// journal they reach it right behind the answer, and the tests read the log.
func (s *testServer) sync(t *testing.T) {
	t.Helper()
	if s.Journal == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Journal.Sync(ctx); err != nil {
		t.Fatalf("journal sync: %v", err)
	}
}

func (s *testServer) stats(t *testing.T) store.Stats {
	t.Helper()
	s.sync(t)
	st, err := s.Store.Stats(context.Background())
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	return st
}

// waitProcessed waits until the pipeline has processed every logged event.
func (s *testServer) waitProcessed(t *testing.T) store.Stats {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.Pipeline.Wake()
		var st store.Stats
		if code := s.api(t, "/api/stats", &st); code != http.StatusOK {
			t.Fatalf("GET /api/stats: %d", code)
		}
		if st.Processed == st.LastSeq {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline did not catch up: processed %d of %d", st.Processed, st.LastSeq)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// events returns the whole event log, decoded.
func (s *testServer) events(t *testing.T) []storedEvent {
	t.Helper()
	s.sync(t)
	es, err := s.Store.Events(context.Background(), 0, 100000)
	if err != nil {
		t.Fatalf("read event log: %v", err)
	}
	out := make([]storedEvent, 0, len(es))
	for _, e := range es {
		var b storedEvent
		if err := json.Unmarshal(e.Body, &b); err != nil {
			t.Fatalf("event %d is not JSON: %v", e.Seq, err)
		}
		b.SourceID = e.SourceID
		b.Raw = e.Body
		out = append(out, b)
	}
	return out
}

func (s *testServer) eventByMessageID(t *testing.T, id string) storedEvent {
	t.Helper()
	var found []storedEvent
	for _, e := range s.events(t) {
		if e.MessageID == id {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("messageId %s is stored %d times, want once", id, len(found))
	}
	return found[0]
}

// storedEvent is an event as the log holds it.
type storedEvent struct {
	Type              string                     `json:"type"`
	MessageID         string                     `json:"messageId"`
	UserID            string                     `json:"userId"`
	AnonymousID       string                     `json:"anonymousId"`
	PreviousID        string                     `json:"previousId"`
	GroupID           string                     `json:"groupId"`
	Event             string                     `json:"event"`
	Name              string                     `json:"name"`
	Properties        map[string]json.RawMessage `json:"properties"`
	Traits            map[string]json.RawMessage `json:"traits"`
	Context           map[string]json.RawMessage `json:"context"`
	Integrations      map[string]json.RawMessage `json:"integrations"`
	Timestamp         time.Time                  `json:"timestamp"`
	OriginalTimestamp *time.Time                 `json:"originalTimestamp"`
	SentAt            *time.Time                 `json:"sentAt"`
	ReceivedAt        time.Time                  `json:"receivedAt"`
	SourceID          string                     `json:"-"`
	Raw               []byte                     `json:"-"`
}

// getMetrics reads /metrics with the admin key.
func (s *testServer) getMetrics() (*http.Response, error) {
	req, _ := http.NewRequest("GET", s.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.AdminKey)
	return http.DefaultClient.Do(req)
}

// metric reads one sample of /metrics; labels is the exact label text
// without braces ("" for none). A missing sample counts as 0.
func (s *testServer) metric(t *testing.T, name, labels string) float64 {
	t.Helper()
	res, err := s.getMetrics()
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	want := name
	if labels != "" {
		want += "{" + labels + "}"
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, want+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// metricSum adds every sample of a metric, whatever its labels.
func (s *testServer) metricSum(t *testing.T, name string) float64 {
	t.Helper()
	res, err := s.getMetrics()
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += f
	}
	return sum
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// obj is a JSON object literal in tests.
type obj = map[string]any

// batchOf builds a /v1/batch body.
func batchOf(t testing.TB, events []obj, extra obj) []byte {
	t.Helper()
	b := obj{"batch": events}
	for k, v := range extra {
		b[k] = v
	}
	return mustJSON(t, b)
}

func basicHeader(raw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

// customer finds the one customer a search term leads to.
func (s *testServer) customer(t *testing.T, q string) customerView {
	t.Helper()
	var found struct {
		Customers []struct {
			ID string `json:"id"`
		} `json:"customers"`
	}
	if code := s.api(t, "/api/customers?q="+url.QueryEscape(q), &found); code != http.StatusOK {
		t.Fatalf("search %q: %d", q, code)
	}
	if len(found.Customers) != 1 {
		t.Fatalf("search %q found %d customers, want 1: %+v", q, len(found.Customers), found.Customers)
	}
	var c customerView
	if code := s.api(t, "/api/customers/"+found.Customers[0].ID, &c); code != http.StatusOK {
		t.Fatalf("customer %s: %d", found.Customers[0].ID, code)
	}
	return c
}

// customerView is the part of GET /api/customers/{id} the tests look at.
type customerView struct {
	ID            string                     `json:"id"`
	Email         string                     `json:"email"`
	Name          string                     `json:"name"`
	Traits        map[string]json.RawMessage `json:"traits"`
	Events        int64                      `json:"events"`
	CountsByType  map[string]int64           `json:"countsByType"`
	CountsByEvent map[string]int64           `json:"countsByEvent"`
	Orders        int64                      `json:"orders"`
	Revenue       float64                    `json:"revenue"`
	Identities    []store.IdentityRow        `json:"identities"`
	Merges        []store.Merge              `json:"merges"`
}

func (c customerView) has(kind, value string) bool {
	for _, id := range c.Identities {
		if id.Kind == kind && id.Value == value {
			return true
		}
	}
	return false
}
