package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/api"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/campaign"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
)

// TestCampaignsAPI registers a campaign, uploads its list, asks the
// contact policy, records consent, sends it and finds it on the timeline,
// with bad input refused and nothing changed.
func TestCampaignsAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		t.Cleanup(func() { st.Close() })
		key, err := auth.EnsureAdminKey(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		pl := &pipeline.Pipeline{Store: st}
		svc := &campaign.Service{Store: st}
		mux := http.NewServeMux()
		(&api.API{Store: st, Campaigns: svc}).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)

		src, _ := source.Create(ctx, st, "Shop", "shop")
		var recs []store.Record
		for i, tr := range []string{`{"email":"anna@example.de","plan":"gold","consent":{"email_marketing":true}}`, `{"email":"ben@example.de","plan":"gold"}`} {
			ev := event.Event{Type: event.Identify, MessageID: fmt.Sprint("i", i), UserID: fmt.Sprint("U", i), Traits: json.RawMessage(tr),
				Timestamp: time.Now().UTC().Add(-time.Hour), ReceivedAt: time.Now().UTC()}
			b, _ := json.Marshal(ev)
			recs = append(recs, store.Record{SourceID: src.ID, Event: ev, Body: b})
		}
		if _, err := st.Append(ctx, recs); err != nil {
			t.Fatal(err)
		}
		pl.Drain(ctx, nil)
		anna, _ := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "U0"})
		ben, _ := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "U1"})

		start := time.Now().UTC().Format("2006-01-02")
		end := time.Now().UTC().AddDate(0, 0, 14).Format("2006-01-02")
		for _, bad := range []string{
			`{"name":"","department":"Marketing","channel":"email","type":"promotional","start":"` + start + `","end":"` + end + `","target":{"kind":"filter"}}`,
			`{"name":"X","department":"Nowhere","channel":"email","type":"promotional","start":"` + start + `","end":"` + end + `","target":{"kind":"filter"}}`,
			`{"name":"X","department":"Marketing","channel":"pigeon","type":"promotional","start":"` + start + `","end":"` + end + `","target":{"kind":"filter"}}`,
			`{"name":"X","department":"Marketing","channel":"email","type":"spam","start":"` + start + `","end":"` + end + `","target":{"kind":"filter"}}`,
			`{"name":"X","department":"Marketing","channel":"email","type":"promotional","start":"` + end + `","end":"` + start + `","target":{"kind":"filter"}}`,
			`{"name":"X","department":"Marketing","channel":"email","type":"promotional","start":"` + start + `","end":"` + end + `","target":{"kind":"filter","conditions":[{"field":"orders","op":"gte","value":"x"}]}}`,
			`{"name":"X","bogus":1}`,
		} {
			if code, m := do(t, srv, "POST", "/api/campaigns", key, bad); code != 400 || m["error"] == "" {
				t.Errorf("create %s: %d %v", bad, code, m)
			}
		}
		if code, m := do(t, srv, "GET", "/api/campaigns", key, ""); code != 200 || len(m["campaigns"].([]any)) != 0 {
			t.Fatalf("bad input stored something: %d %v", code, m)
		}
		code, m := do(t, srv, "POST", "/api/campaigns", key, `{"name":"Spring Sale","department":"marketing","channel":"email","type":"promotional",
			"subject":"20 % on shoes","message":"Only this week.","offer":"SHOES20","start":"`+start+`","end":"`+end+`",
			"target":{"kind":"filter","conditions":[{"field":"trait:plan","op":"eq","value":"gold"}]},"expectedVolume":2}`)
		if code != 201 || m["status"] != "draft" || m["department"] != "Marketing" {
			t.Fatalf("create: %d %v", code, m)
		}
		id := m["id"].(string)
		code, m = do(t, srv, "POST", "/api/campaigns/"+id+"/preview", key, "")
		if code != 200 || m["matched"] != 2.0 || m["heldBack"] != 1.0 || m["reasons"].(map[string]any)["consent_missing"] != 1.0 {
			t.Fatalf("preview: %d %v", code, m)
		}
		// The check API.
		code, m = do(t, srv, "POST", "/api/contact-policy/check", key, `{"channel":"email","type":"promotional","customers":[
			{"kind":"email","value":"anna@example.de"},{"kind":"user","value":"U1"},{"kind":"email","value":"who@example.de"}]}`)
		if code != 200 || m["allowed"] != 1.0 || m["heldBack"] != 2.0 {
			t.Fatalf("check: %d %v", code, m)
		}
		res := m["results"].([]any)
		if r := res[1].(map[string]any); r["allowed"] != false || fmt.Sprint(r["reasons"]) != "[consent_missing]" || r["customerId"] != ben.CustomerID {
			t.Fatalf("check ben: %v", r)
		}
		for _, bad := range []string{`{"channel":"email","type":"promotional","customers":[]}`, `{"channel":"email","type":"x","customers":[{"kind":"user","value":"U1"}]}`,
			`{"channel":"email","type":"promotional","customers":[{"kind":"email","value":"not-an-address"}]}`} {
			if code, m := do(t, srv, "POST", "/api/contact-policy/check", key, bad); code != 400 || m["error"] == "" {
				t.Errorf("check %s: %d %v", bad, code, m)
			}
		}
		// Consent: Ben agrees on the phone.
		if code, m := do(t, srv, "PUT", "/api/customers/"+ben.CustomerID+"/consent", key, `{"purposes":{}}`); code != 400 {
			t.Fatalf("empty consent: %d %v", code, m)
		}
		code, m = do(t, srv, "PUT", "/api/customers/"+ben.CustomerID+"/consent", key, `{"purposes":{"email_marketing":true},"source":"call centre"}`)
		if code != 200 || m["consent"].(map[string]any)["email_marketing"].(map[string]any)["granted"] != true {
			t.Fatalf("put consent: %d %v", code, m)
		}
		pl.Drain(ctx, nil)
		code, m = do(t, srv, "GET", "/api/customers/"+ben.CustomerID+"/consent", key, "")
		if c := m["consent"].(map[string]any)["email_marketing"].(map[string]any); code != 200 || c["granted"] != true || c["source"] != "call centre" {
			t.Fatalf("get consent: %d %v", code, m)
		}
		// The policy.
		if code, m := do(t, srv, "PUT", "/api/contact-policy", key, `{"caps":[{"channel":"email","max":-1,"days":7}]}`); code != 400 {
			t.Fatalf("bad policy: %d %v", code, m)
		}
		if code, m := do(t, srv, "GET", "/api/contact-policy", key, ""); code != 200 || m["holdOpenComplaint"].(map[string]any)["promotional"] != true {
			t.Fatalf("policy: %d %v", code, m)
		}
		// Send, deliver in the background job, and see it on the timeline.
		if code, m := do(t, srv, "POST", "/api/campaigns/"+id+"/send", key, ""); code != 200 || m["status"] != "sending" {
			t.Fatalf("send: %d %v", code, m)
		}
		if code, m := do(t, srv, "PATCH", "/api/campaigns/"+id, key, `{"name":"Too late"}`); code != 409 {
			t.Fatalf("change while sending: %d %v", code, m)
		}
		if err := svc.Drain(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		pl.Drain(ctx, nil)
		code, m = do(t, srv, "GET", "/api/campaigns/"+id, key, "")
		if d := m["delivery"].(map[string]any); code != 200 || m["status"] != "sent" || d["delivered"] != 2.0 || d["heldBack"] != 0.0 {
			t.Fatalf("sent: %d %v", code, m)
		}
		for _, c := range []string{anna.CustomerID, ben.CustomerID} {
			code, m = do(t, srv, "GET", "/api/customers/"+c+"/timeline", key, "")
			b, _ := json.Marshal(m)
			if code != 200 || !strings.Contains(string(b), campaign.EventName) || !strings.Contains(string(b), "Only this week.") {
				t.Fatalf("timeline of %s: %d %s", c, code, b)
			}
		}
		// A list campaign: upload with an unknown identifier.
		code, m = do(t, srv, "POST", "/api/campaigns", key, `{"name":"Letters","department":"Service","channel":"letter","type":"service",
			"start":"`+start+`","end":"`+end+`","target":{"kind":"list"}}`)
		if code != 201 {
			t.Fatalf("create list campaign: %d %v", code, m)
		}
		lid := m["id"].(string)
		if code, m := do(t, srv, "POST", "/api/campaigns/"+lid+"/send", key, ""); code != 400 {
			t.Fatalf("send without recipients: %d %v", code, m)
		}
		code, m = do(t, srv, "PUT", "/api/campaigns/"+lid+"/recipients", key, "email\nanna@example.de\nghost@example.de\n")
		if l := m["list"].(map[string]any); code != 200 || l["customers"] != 1.0 || l["unknown"] != 1.0 || fmt.Sprint(l["unknownSamples"]) != "[email:ghost@example.de]" {
			t.Fatalf("upload: %d %v", code, m)
		}
		// The calendar shows both, filters by department.
		code, m = do(t, srv, "GET", "/api/campaigns/calendar?from="+start+"&department=Service", key, "")
		if cal := m["campaigns"].([]any); code != 200 || len(cal) != 1 || cal[0].(map[string]any)["id"] != lid {
			t.Fatalf("calendar: %d %v", code, m)
		}
		if code, _ := do(t, srv, "GET", "/api/campaigns/calendar?from=soon", key, ""); code != 400 {
			t.Fatalf("calendar bad from: %d", code)
		}
		if code, m := do(t, srv, "DELETE", "/api/campaigns/"+id, key, ""); code != 409 {
			t.Fatalf("delete a sent campaign: %d %v", code, m)
		}
		if code, m := do(t, srv, "GET", "/api/campaigns/nope", key, ""); code != 404 {
			t.Fatalf("unknown: %d %v", code, m)
		}
	})
}
