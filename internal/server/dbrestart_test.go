package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store/pgtest"
)

// TestDatabaseRestartUnderLoad stops the PostgreSQL server while clients
// send batches, checks that the collection API answers 503 meanwhile, that
// the node reconnects by itself when the database is back, and that every
// acknowledged event is stored exactly once.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	pg := pgtest.StartServer(t)
	ctx := context.Background()
	// fsync on, as kunding serve defaults: acknowledged means on the
	// database server's WAL, which survives its crash.
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: pg.URL, Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	src, err := source.Create(ctx, srv.Store, "Restart", "web")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.Addr

	var mu sync.Mutex
	acked := map[string]bool{}
	codes := map[int]int{}
	var lastAck time.Time
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				body, ids := batchBody(c, n)
				req, _ := http.NewRequest("POST", base+"/v1/batch", bytes.NewReader(body))
				req.SetBasicAuth(src.WriteKey, "")
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("request failed instead of an answer: %v", err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				if resp.StatusCode == 200 {
					for _, id := range ids {
						acked[id] = true
					}
					lastAck = time.Now()
				} else if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
				mu.Unlock()
				if resp.StatusCode != 200 {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(c)
	}
	waitAcks := func(n int) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("only %d of %d events acknowledged; answers %v", got, n, codes)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcks(2000)
	pg.Stop()
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	time.Sleep(2 * time.Second)
	mu.Lock()
	during503 := codes[503]
	ackedDown := len(acked) - before
	mu.Unlock()
	if during503 == 0 {
		t.Fatalf("no 503 while the database was down; answers %v", codes)
	}
	// At most the batches already committing when the server stopped.
	if ackedDown > 4*50 {
		t.Fatalf("%d events acknowledged while the database was down", ackedDown)
	}
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 503 {
		t.Fatalf("healthz while the database is down: %v %v", err, resp)
	}
	pg.Start()
	restarted := time.Now()
	waitAcks(before + ackedDown + 2000)
	mu.Lock()
	t.Logf("acknowledging again %v after the database came back; answers %v", lastAck.Sub(restarted), codes)
	mu.Unlock()
	close(stop)
	wg.Wait()

	// Every acknowledged event is stored once, and the pipeline resumes.
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := srv.Store.Stats(ctx)
		if err == nil && st.Processed == st.LastSeq {
			if st.Orders != st.Events {
				t.Fatalf("orders %d != events %d: the pipeline lost or repeated work", st.Orders, st.Events)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline did not catch up: %+v %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stored := map[string]int{}
	var after int64
	for {
		evs, err := srv.Store.Events(ctx, after, 10000)
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
			t.Fatalf("acknowledged %s stored %d times", id, stored[id])
		}
	}
	t.Logf("%d acknowledged, %d stored", len(acked), len(stored))
}

func batchBody(client, n int) ([]byte, []string) {
	var evs []map[string]any
	var ids []string
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("r%d-%d-%d", client, n, i)
		ids = append(ids, id)
		evs = append(evs, map[string]any{"type": "track", "messageId": id, "userId": fmt.Sprintf("u%d", (client*131+n*7+i)%300),
			"event": "Order Completed", "properties": map[string]any{"revenue": 1}})
	}
	b, _ := json.Marshal(map[string]any{"batch": evs})
	return b, ids
}
