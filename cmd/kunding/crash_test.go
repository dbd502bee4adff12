package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/server"
)

// buildBinary compiles kunding once per test run.
var buildOnce sync.Once
var binPath string
var buildErr error

func kundingBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kunding-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kunding")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type proc struct {
	cmd    *exec.Cmd
	stdout *bytes.Buffer
	mu     sync.Mutex
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

type lockedWriter struct {
	p *proc
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stdout.Write(b)
}

// startServe runs `kunding serve` as a separate process and waits for /healthz.
func startServe(t *testing.T, bin, data, addr string, extra ...string) *proc {
	t.Helper()
	p := &proc{stdout: &bytes.Buffer{}}
	p.cmd = exec.Command(bin, append([]string{"serve", "--data", data, "--addr", addr}, extra...)...)
	p.cmd.Stdout = lockedWriter{p}
	p.cmd.Stderr = lockedWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.cmd.Process.Kill()
	t.Fatalf("server did not become healthy:\n%s", p.output())
	return nil
}

var adminKeyRE = regexp.MustCompile(`kdg_admin_[A-Za-z0-9_-]+`)

var writeKeyRE = regexp.MustCompile(`write key: (wk_\S+)`)

func createSource(t *testing.T, bin, data string) string {
	t.Helper()
	out, err := exec.Command(bin, "sources", "create", "--data", data, "--name", "Crash test", "--kind", "web").CombinedOutput()
	if err != nil {
		t.Fatalf("sources create: %v\n%s", err, out)
	}
	m := writeKeyRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no write key in %s", out)
	}
	return string(m[1])
}

func batchBody(client, n, size int) ([]byte, []string) {
	var evs []map[string]any
	var ids []string
	for i := 0; i < size; i++ {
		id := fmt.Sprintf("c%d-b%d-e%d", client, n, i)
		ids = append(ids, id)
		user := fmt.Sprintf("user-%d", (client*7919+n*31+i)%500)
		evs = append(evs, map[string]any{"type": "track", "messageId": id, "userId": user, "event": "Order Completed",
			"properties": map[string]any{"revenue": 10, "order_id": id}})
	}
	b, _ := json.Marshal(map[string]any{"batch": evs})
	return b, ids
}

// TestCrashLosesNothingAcknowledged kills the server with SIGKILL while
// several clients send batches and checks that every acknowledged messageId
// is stored exactly once after a restart, also after clients retry.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	for _, c := range []struct {
		fsync   bool
		journal string
	}{{true, "on"}, {false, "on"}, {true, "off"}, {false, "off"}} {
		t.Run(fmt.Sprintf("fsync=%v,journal=%s", c.fsync, c.journal), func(t *testing.T) { crashRun(t, c.fsync, c.journal) })
	}
}

func crashRun(t *testing.T, fsync bool, journal string) {
	bin := kundingBinary(t)
	data := t.TempDir()
	addr := freeAddr(t)
	flags := []string{fmt.Sprintf("--fsync=%v", fsync), "--journal=" + journal}
	p := startServe(t, bin, data, addr, flags...)
	key := createSource(t, bin, data)
	adminKey := adminKeyRE.FindString(p.output())
	if adminKey == "" {
		t.Fatalf("no admin key printed on first start:\n%s", p.output())
	}

	var mu sync.Mutex
	acked := map[string]int{}
	ackedBodies := [][]byte{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for c := 0; c < 6; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				body, ids := batchBody(c, n, 50)
				req, _ := http.NewRequest("POST", "http://"+addr+"/v1/batch", bytes.NewReader(body))
				req.SetBasicAuth(key, "")
				resp, err := client.Do(req)
				if err != nil {
					continue // the server is gone; not acknowledged
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					for _, id := range ids {
						acked[id]++
					}
					ackedBodies = append(ackedBodies, body)
					mu.Unlock()
				}
			}
		}(c)
	}
	// Let the clients get going, then kill the server mid-stream.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 5000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	close(stop)
	wg.Wait()
	mu.Lock()
	nAcked := len(acked)
	mu.Unlock()
	if nAcked == 0 {
		t.Fatalf("no batch was acknowledged before the kill:\n%s", p.output())
	}

	// Restart; clients retry some acknowledged batches as SDKs would.
	p = startServe(t, bin, data, addr, flags...)
	for i, body := range ackedBodies {
		if i%5 != 0 {
			continue
		}
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/batch", bytes.NewReader(body))
		req.SetBasicAuth(key, "")
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("retry after restart: %v %v", err, resp)
		}
		var ans struct{ Accepted, Duplicates int }
		json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		// Without the journal the answer counts the repeats; the journal
		// drops them when it loads (checked below: each stored once).
		if journal == "off" && (ans.Accepted != 0 || ans.Duplicates != 50) {
			t.Fatalf("retry of an acknowledged batch: accepted %d, duplicates %d; want 0, 50", ans.Accepted, ans.Duplicates)
		}
		if journal == "on" && ans.Accepted != 50 {
			t.Fatalf("retry of an acknowledged batch: accepted %d; want 50 received", ans.Accepted)
		}
	}
	// The pipeline resumes after the crash and processes every event once:
	// every stored event is an order, so orders must equal events.
	var stats struct{ Events, Orders, LastSeq, Processed int64 }
	for deadline := time.Now().Add(60 * time.Second); ; {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/stats", nil)
		req.Header.Set("Authorization", "Bearer "+adminKey)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&stats)
		resp.Body.Close()
		if (stats.Events >= int64(nAcked) && stats.Processed == stats.LastSeq) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if stats.Processed != stats.LastSeq || stats.Orders != stats.Events {
		t.Fatalf("after restart: %+v; want every event processed once (orders == events)", stats)
	}
	// Graceful stop (SIGTERM) waits for the pipeline to stop cleanly.
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, p.output())
	}

	st, err := server.OpenStore(context.Background(), data, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := map[string]int{}
	var after int64
	for {
		evs, err := st.Events(context.Background(), after, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			stored[e.MessageID]++
			after = e.Seq
		}
	}
	for id := range acked {
		if stored[id] != 1 {
			t.Fatalf("acknowledged messageId %s stored %d times", id, stored[id])
		}
	}
	for id, n := range stored {
		if n != 1 {
			t.Fatalf("messageId %s stored %d times", id, n)
		}
	}
	t.Logf("acknowledged %d events before SIGKILL; %d stored (unacknowledged ones may also have been committed); orders %d",
		nAcked, len(stored), stats.Orders)
	if stats.Events != int64(len(stored)) {
		t.Fatalf("stats events %d != stored %d", stats.Events, len(stored))
	}
	if !strings.Contains(p.output(), "shutting down") {
		t.Fatalf("no shutdown log:\n%s", p.output())
	}
}
