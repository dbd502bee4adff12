package server_test

import (
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/scoring"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
)

// TestNewOrderUpdatesPredictions: a new order sent through the collection
// API changes that customer's predictions within a second.
func TestNewOrderUpdatesPredictions(t *testing.T) {
	for name, db := range stores(t) {
		t.Run(name, func(t *testing.T) { newOrderUpdatesPredictions(t, db(t)) })
	}
}

func newOrderUpdatesPredictions(t *testing.T, db string) {
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	src, err := source.Create(ctx, srv.Store, "Shop", "shop")
	if err != nil {
		t.Fatal(err)
	}
	post := func(body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+srv.Addr+"/v1/batch", strings.NewReader(body))
		req.SetBasicAuth(src.WriteKey, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("batch: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	// A year of orders of 200 customers, enough to fit the models.
	r := rand.New(rand.NewSource(1))
	now := time.Now().UTC()
	var evs []string
	for c := 0; c < 200; c++ {
		first := now.AddDate(0, 0, -365+r.Intn(200))
		n := r.Intn(6)
		for k := 0; k <= n; k++ {
			at := first.Add(time.Duration(k) * time.Duration(5+r.Intn(40)) * 24 * time.Hour)
			if at.After(now) {
				break
			}
			evs = append(evs, fmt.Sprintf(`{"type":"track","userId":"c%d","event":"Order Completed","timestamp":%q,"properties":{"revenue":%d}}`,
				c, at.Format(time.RFC3339), 10+r.Intn(90)))
		}
	}
	for i := 0; i < len(evs); i += 100 {
		post(`{"batch":[` + strings.Join(evs[i:min(i+100, len(evs))], ",") + `]}`)
	}
	waitProcessed(t, srv)
	if _, err := scoring.Fit(ctx, srv.Store, scoring.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := scoring.ScoreAll(ctx, srv.Store, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	cust, err := srv.Store.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "c7"})
	if err != nil {
		t.Fatal(err)
	}
	ps := srv.Store.(store.PredictionStore)
	before, err := ps.Prediction(ctx, cust.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	post(`{"batch":[{"type":"track","userId":"c7","event":"Order Completed","properties":{"revenue":250}}]}`)
	for {
		p, err := ps.Prediction(ctx, cust.CustomerID)
		if err == nil && p.ComputedAt.After(before.ComputedAt) {
			if p.PAlive == before.PAlive && p.Expected90d == before.Expected90d && p.CLV == before.CLV {
				t.Fatalf("predictions recomputed but unchanged by a new order: %+v", p)
			}
			t.Logf("updated after %v: P(alive) %.3f -> %.3f, CLV %.2f -> %.2f", time.Since(sent).Round(time.Millisecond),
				before.PAlive, p.PAlive, before.CLV, p.CLV)
			break
		}
		if time.Since(sent) > time.Second {
			t.Fatalf("predictions not updated within a second: %+v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitProcessed(t *testing.T, srv *server.Server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := srv.Flush(ctx); err != nil {
		t.Fatalf("journal: %v", err)
	}
	for {
		st, err := srv.Store.Stats(context.Background())
		if err == nil && st.Processed == st.LastSeq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline did not catch up: %+v %v", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
