package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

// TestSurveysAPI walks the survey API on both stores: each type created,
// personal links answered once, answers naming the customer, bad input
// refused with nothing stored, statistics against hand-computed values.
func TestSurveysAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		srv, st, key := setup(t, st)
		ctx := context.Background()
		src := store.Source{ID: "src_shop", Name: "Shop", Kind: "shop", WriteKey: "wk_shop", CreatedAt: time.Now()}
		if err := st.CreateSource(ctx, src); err != nil {
			t.Fatal(err)
		}
		ev := event.Event{Type: event.Identify, MessageID: "m1", UserID: "C-1", Traits: json.RawMessage(`{"email":"anna@example.de"}`),
			Timestamp: time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond), ReceivedAt: time.Now().UTC().Truncate(time.Millisecond)}
		body, _ := json.Marshal(ev)
		st.Append(ctx, []store.Record{{SourceID: src.ID, Event: ev, Body: body}})
		drain := func() {
			if _, err := (&pipeline.Pipeline{Store: st}).Drain(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
		drain()

		ids := map[string]string{}
		for _, typ := range []string{"nps", "csat", "ces", "free"} {
			code, m := do(t, srv, "POST", "/api/surveys", key, fmt.Sprintf(`{"name":"Delivery %s","type":%q,"questionDe":"Frage","questionEn":"Question","touchpoint":"delivery","department":"Logistics"}`, typ, typ))
			if code != http.StatusCreated || m["status"] != "active" || !strings.Contains(fmt.Sprint(m["anonymousLink"]), "/s/") {
				t.Fatalf("create %s: %d %v", typ, code, m)
			}
			ids[typ] = m["id"].(string)
		}
		for _, bad := range []string{`{"name":"x","type":"stars","questionDe":"a","questionEn":"b"}`, `{"name":"x","type":"nps"}`, `{"name":"x","type":"nps","questionDe":"a","questionEn":"b","extra":1}`, `not json`} {
			if code, m := do(t, srv, "POST", "/api/surveys", key, bad); code != 400 || m["error"] == nil {
				t.Errorf("create %s: %d %v", bad, code, m)
			}
		}
		_, list := do(t, srv, "GET", "/api/surveys", key, "")
		if n := len(list["surveys"].([]any)); n != 4 {
			t.Fatalf("%d surveys", n)
		}

		// A personal link, answered once.
		nps := "/api/surveys/" + ids["nps"]
		code, link := do(t, srv, "POST", nps+"/links", key, `{"email":"anna@example.de","touchpoint":"parcel","triggerMessageId":"order-1"}`)
		if code != 201 || link["customerId"] == "" || !strings.HasSuffix(fmt.Sprint(link["url"]), fmt.Sprint(link["path"])) {
			t.Fatalf("link: %d %v", code, link)
		}
		tok := link["token"].(string)
		if code, m := do(t, srv, "POST", nps+"/links", key, `{"email":"nobody@example.de"}`); code != 404 {
			t.Errorf("link for an unknown customer: %d %v", code, m)
		}
		for _, bad := range []string{`{"token":%q,"score":11}`, `{"token":%q}`, `{"token":%q,"score":7.5}`, `{"token":%q,"score":"7"}`} {
			if code, m := do(t, srv, "POST", nps+"/responses", key, fmt.Sprintf(bad, tok)); code != 400 {
				t.Errorf("%s: %d %v", bad, code, m)
			}
		}
		long := strings.Repeat("x", 5001)
		if code, _ := do(t, srv, "POST", nps+"/responses", key, fmt.Sprintf(`{"token":%q,"score":5,"comment":%q}`, tok, long)); code != 400 {
			t.Errorf("long comment: %d", code)
		}
		if code, _ := do(t, srv, "POST", nps+"/responses", key, fmt.Sprintf(`{"token":%q,"score":5}`, tok[:len(tok)-2]+"AA")); code != 400 {
			t.Errorf("forged token: %d", code)
		}
		if code, _ := do(t, srv, "POST", "/api/surveys/"+ids["csat"]+"/responses", key, fmt.Sprintf(`{"token":%q,"score":5}`, tok)); code != 400 {
			t.Errorf("token of another survey: %d", code)
		}
		code, first := do(t, srv, "POST", nps+"/responses", key, fmt.Sprintf(`{"token":%q,"score":3,"comment":"The delivery was terrible"}`, tok))
		if code != 201 || first["customerId"] != link["customerId"] || first["touchpoint"] != "parcel" || first["analysis"] == nil {
			t.Fatalf("answer: %d %v", code, first)
		}
		code, again := do(t, srv, "POST", nps+"/responses", key, fmt.Sprintf(`{"token":%q,"score":10}`, tok))
		if code != 409 || again["responseId"] != first["id"] {
			t.Fatalf("second answer: %d %v", code, again)
		}
		// Answers naming the customer: nine more NPS answers, so that the
		// survey has 10: 5 promoters, 2 passives, 3 detractors (NPS 20).
		for i, s := range []int{10, 10, 9, 9, 9, 8, 7, 6, 0} {
			code, m := do(t, srv, "POST", nps+"/responses", key, fmt.Sprintf(`{"userId":"U-%d","score":%d,"touchpoint":"shop"}`, i, s))
			if code != 201 {
				t.Fatalf("answer %d: %d %v", i, code, m)
			}
		}
		if code, m := do(t, srv, "POST", nps+"/responses", key, `{"score":5}`); code != 400 || !strings.Contains(fmt.Sprint(m["error"]), "customer") {
			t.Errorf("no customer: %d %v", code, m)
		}
		if code, _ := do(t, srv, "POST", "/api/surveys/"+ids["free"]+"/responses", key, `{"userId":"U-1","comment":"  "}`); code != 400 {
			t.Errorf("empty free answer: %d", code)
		}
		if code, m := do(t, srv, "POST", "/api/surveys/"+ids["free"]+"/responses", key, `{"userId":"U-1","comment":"Please add gift wrapping"}`); code != 201 || m["score"] != nil {
			t.Errorf("free answer: %d %v", code, m)
		}
		code, stats := do(t, srv, "GET", nps+"/stats?group=touchpoint&by=month", key, "")
		if code != 200 {
			t.Fatalf("stats: %d %v", code, stats)
		}
		sum := stats["summary"].(map[string]any)
		// As in internal/satisfaction's test: NPS 20, CI [-30.33, 61.10].
		if sum["n"].(float64) != 10 || sum["value"].(float64) != 20 || math.Abs(sum["low"].(float64)+30.326) > 0.01 || math.Abs(sum["high"].(float64)-61.0952) > 0.01 {
			t.Fatalf("summary %v", sum)
		}
		groups := stats["groups"].([]any)
		if len(groups) != 2 || groups[0].(map[string]any)["key"] != "shop" || groups[1].(map[string]any)["key"] != "parcel" {
			t.Fatalf("groups %v", groups)
		}
		for _, q := range []string{"?by=day", "?group=colour", "?from=yesterday", "?from=2025-02-01&to=2025-01-01", "?compareFrom=2025-01-01"} {
			if code, m := do(t, srv, "GET", nps+"/stats"+q, key, ""); code != 400 || m["error"] == nil {
				t.Errorf("stats%s: %d %v", q, code, m)
			}
		}
		today := time.Now().UTC().Format("2006-01-02")
		code, cmp := do(t, srv, "GET", nps+"/stats?from="+today+"&to="+today+"&compareFrom=2020-01-01&compareTo=2020-12-31", key, "")
		if code != 200 || cmp["comparison"] == nil {
			t.Fatalf("comparison: %d %v", code, cmp)
		}
		// Responses, and the profile after the pipeline.
		code, rs := do(t, srv, "GET", nps+"/responses?limit=5", key, "")
		if code != 200 || len(rs["responses"].([]any)) != 5 {
			t.Fatalf("responses: %d %v", code, rs)
		}
		drain()
		p, err := st.Customer(ctx, link["customerId"].(string))
		if err != nil || p.LastSurvey["nps"].Category != "detractor" {
			t.Fatalf("profile %+v %v", p.LastSurvey, err)
		}
		// Update, delete.
		if code, m := do(t, srv, "PATCH", nps, key, `{"status":"closed"}`); code != 200 || m["status"] != "closed" {
			t.Fatalf("close: %d %v", code, m)
		}
		if code, _ := do(t, srv, "POST", nps+"/responses", key, `{"userId":"U-9","score":5}`); code != 409 {
			t.Errorf("answer to a closed survey: %d", code)
		}
		if code, _ := do(t, srv, "PATCH", nps, key, `{}`); code != 400 {
			t.Errorf("empty patch: %d", code)
		}
		if code, _ := do(t, srv, "DELETE", nps, key, ""); code != 409 {
			t.Errorf("delete with responses: %d", code)
		}
		req, _ := http.NewRequest("DELETE", srv.URL+"/api/surveys/"+ids["ces"], nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 204 {
			t.Fatalf("delete: %v %v", resp, err)
		}
		resp.Body.Close()
		if code, _ := do(t, srv, "GET", "/api/surveys/"+ids["ces"], key, ""); code != 404 {
			t.Errorf("deleted survey: %d", code)
		}
		// A read-only key reads but does not write.
		svc := auth.NewService(st, auth.Options{})
		_, ro, err := svc.CreateAPIKey(ctx, "ro", []auth.Scope{auth.ScopeRead})
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := do(t, srv, "GET", nps+"/stats", ro, ""); code != 200 {
			t.Errorf("read-only stats: %d", code)
		}
		if code, _ := do(t, srv, "POST", "/api/surveys/"+ids["csat"]+"/responses", ro, `{"userId":"U-1","score":5}`); code != 403 {
			t.Errorf("read-only answer: %d", code)
		}
	})
}
