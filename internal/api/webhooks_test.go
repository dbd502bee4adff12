package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/api"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/webhook"
)

// TestWebhooksAPI registers an endpoint through the API, opens a case
// through the API, and follows the signed delivery into the delivery log.
func TestWebhooksAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		t.Cleanup(func() { st.Close() })
		key, err := auth.EnsureAdminKey(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		wh, err := webhook.New(st, "test")
		if err != nil {
			t.Fatal(err)
		}
		cs, err := cases.New(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		cs.AddHook(wh.CaseHook)
		mux := http.NewServeMux()
		(&api.API{Store: st, Cases: cs, Webhooks: wh}).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)

		var mu sync.Mutex
		var got []string
		var secret string
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), b, 0, time.Now()); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			got = append(got, r.Header.Get("Kunding-Event"))
		}))
		t.Cleanup(recv.Close)

		for _, bad := range []string{`{"url":"ftp://x/","events":["case.created"]}`, `{"url":"https://x/","events":[]}`,
			`{"url":"https://x/","events":["case.deleted"]}`, `{"url":"https://x/","events":["case.created"],"bogus":1}`} {
			if code, m := do(t, srv, "POST", "/api/webhooks", key, bad); code != 400 || m["error"] == "" {
				t.Errorf("create %s: %d %v", bad, code, m)
			}
		}
		code, m := do(t, srv, "POST", "/api/webhooks", key, fmt.Sprintf(`{"url":%q,"events":["case.created","case.solved"],"description":"Ticketing"}`, recv.URL))
		if code != 201 || !strings.HasPrefix(fmt.Sprint(m["secret"]), "whsec_") {
			t.Fatalf("create: %d %v", code, m)
		}
		id := m["id"].(string)
		mu.Lock()
		secret = m["secret"].(string)
		mu.Unlock()
		code, m = do(t, srv, "GET", "/api/webhooks", key, "")
		if code != 200 || len(m["webhooks"].([]any)) != 1 || m["webhooks"].([]any)[0].(map[string]any)["secret"] != nil {
			t.Fatalf("list (the secret must not show): %d %v", code, m)
		}
		if code, m := do(t, srv, "GET", "/api/webhooks/"+id, key, ""); code != 200 || m["secret"] != nil || m["url"] != recv.URL {
			t.Fatalf("get: %d %v", code, m)
		}
		if code, _ := do(t, srv, "GET", "/api/webhooks/wh_nothing", key, ""); code != 404 {
			t.Errorf("get unknown: %d", code)
		}

		code, m = do(t, srv, "POST", "/api/cases", key, `{"contact":"max@example.com","type":"complaint","subject":"Paket fehlt"}`)
		if code != 201 {
			t.Fatalf("create case: %d %v", code, m)
		}
		caseID := m["id"].(string)
		if n, err := wh.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("deliver: %d %v", n, err)
		}
		code, m = do(t, srv, "GET", "/api/webhooks/"+id+"/deliveries", key, "")
		if code != 200 || len(m["deliveries"].([]any)) != 1 {
			t.Fatalf("deliveries: %d %v", code, m)
		}
		d := m["deliveries"].([]any)[0].(map[string]any)
		if d["status"] != "delivered" || d["event"] != "case.created" || d["caseId"] != caseID || d["attempts"] != 1.0 || d["lastStatus"] != 200.0 {
			t.Fatalf("delivery %v", d)
		}
		mu.Lock()
		if len(got) != 1 || got[0] != "case.created" {
			t.Fatalf("the receiver got %v", got)
		}
		mu.Unlock()
		if code, m := do(t, srv, "GET", "/api/webhooks/deliveries?status=bogus", key, ""); code != 400 {
			t.Errorf("bad status filter: %d %v", code, m)
		}
		if code, m := do(t, srv, "GET", "/api/webhooks/deliveries?case="+caseID, key, ""); code != 200 || len(m["deliveries"].([]any)) != 1 {
			t.Errorf("deliveries of the case: %d %v", code, m)
		}
		// Retrying a delivered delivery is a conflict.
		if code, _ := do(t, srv, "POST", "/api/webhooks/deliveries/"+d["id"].(string)+"/retry", key, ""); code != 409 {
			t.Errorf("retry delivered: %d", code)
		}
		// A new secret: the old one no longer verifies at the receiver.
		code, m = do(t, srv, "POST", "/api/webhooks/"+id+"/rotate-secret", key, "")
		if code != 200 || m["secret"] == secret {
			t.Fatalf("rotate: %d %v", code, m)
		}
		code, m = do(t, srv, "PATCH", "/api/webhooks/"+id, key, `{"enabled":false}`)
		if code != 200 || m["enabled"] != false || m["secret"] != nil {
			t.Fatalf("switch off: %d %v", code, m)
		}
		if code, _ := do(t, srv, "DELETE", "/api/webhooks/"+id, key, ""); code != 200 {
			t.Fatalf("delete: %d", code)
		}
		if code, _ := do(t, srv, "GET", "/api/webhooks/"+id+"/deliveries", key, ""); code != 404 {
			t.Fatalf("deliveries of a deleted endpoint: %d", code)
		}
	})
}
