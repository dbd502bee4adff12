package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

func feedbackCounts(t *testing.T, st store.Store) (events, rows int) {
	t.Helper()
	s, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fbs, err := st.(store.FeedbackStore).ListFeedback(context.Background(), store.FeedbackFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return int(s.Events), len(fbs)
}

func TestFeedbackAPI(t *testing.T) {
	eachStore(t, feedbackAPI)
}

func feedbackAPI(t *testing.T, st store.Store) {
	srv, st, key := setup(t, st)
	ctx := context.Background()

	// Bad input: a clear JSON error naming the field, nothing stored.
	huge := strings.Repeat("x", 20001)
	for _, tc := range []struct{ body, want string }{
		{`{"portal":"trustpilot"}`, "text: missing"},
		{`{"portal":"trustpilot","text":"   "}`, "text: missing"},
		{`{"portal":"trustpilot","text":"` + huge + `"}`, "text: 20001 characters, the limit is 20000"},
		{`{"text":"hello"}`, "portal: missing"},
		{`{"portal":"trustpilot","text":"ok","rating":7}`, "rating: 7 is outside the scale 1..5"},
		{`{"portal":"trustpilot","text":"ok","rating":"five"}`, "invalid JSON body"},
		{`{"portal":"trustpilot","text":"ok","url":"not a url"}`, "url:"},
		{`{"portal":"trustpilot","text":"ok","url":"ftp://x.example/1"}`, "url:"},
		{`{"portal":"trustpilot","text":"ok","time":"22.11.2026"}`, "time:"},
		{`{"portal":"trustpilot","text":"ok","time":1764000000}`, "invalid JSON body"},
		{`{"portal":"trustpilot","text":"ok","stars":5}`, "unknown field"},
		{`{"portal":"trustpilot","text":"ok","kind":"rant"}`, "kind:"},
		{`not json`, "invalid JSON"},
	} {
		code, m := do(t, srv, "POST", "/api/feedback", key, tc.body)
		if code != 400 || !strings.Contains(fmt.Sprint(m["error"]), tc.want) {
			b := tc.body
			if len(b) > 100 {
				b = b[:100] + "..."
			}
			t.Errorf("POST %s: %d %v, want 400 mentioning %q", b, code, m, tc.want)
		}
	}
	if ev, rows := feedbackCounts(t, st); ev != 0 || rows != 0 {
		t.Fatalf("bad input stored %d events and %d rows", ev, rows)
	}

	// An existing customer, identified by e-mail.
	src := store.Source{ID: "src_crm", Name: "CRM", Kind: "crm", WriteKey: "wk_crm", CreatedAt: time.Now()}
	if err := st.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	e, err := event.Parse([]byte(`{"type":"identify","userId":"C-7","traits":{"email":"jo@example.org","name":"Jo"}}`), "",
		event.Envelope{ReceivedAt: time.Now()}, func() string { return "m1" })
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(e)
	if _, err := st.Append(ctx, []store.Record{{SourceID: src.ID, Event: e, Body: b}}); err != nil {
		t.Fatal(err)
	}
	pl := &pipeline.Pipeline{Store: st, Holder: "t"}
	if _, err := pl.Drain(ctx, nil); err != nil {
		t.Fatal(err)
	}
	cust, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "C-7"})
	if err != nil {
		t.Fatal(err)
	}

	body := `{"portal":"trustpilot","externalId":"r-1","author":"Jo D.","rating":5,"title":"Great",
		"text":"Excellent service, friendly staff and a fast delivery. I love it!","url":"https://trustpilot.example/r-1",
		"time":"2026-11-21T09:30:00+01:00","email":"JO@example.org"}`
	code, m := do(t, srv, "POST", "/api/feedback", key, body)
	fb, _ := m["feedback"].(map[string]any)
	if code != 201 || m["status"] != "created" || fb["customerId"] != cust.CustomerID || fb["sentiment"] != "positive" || fb["rating"] != 5.0 {
		t.Fatalf("create: %d %v", code, m)
	}
	id := fb["id"].(string)
	code, m = do(t, srv, "POST", "/api/feedback", key, body)
	if code != 200 || m["status"] != "duplicate" || m["feedback"].(map[string]any)["id"] != id {
		t.Fatalf("repeat: %d %v", code, m)
	}
	if ev, rows := feedbackCounts(t, st); ev != 2 || rows != 1 {
		t.Fatalf("after a repeat: %d events (identify + one feedback), %d rows", ev, rows)
	}

	// Batch: good, duplicate and bad items side by side.
	code, m = do(t, srv, "POST", "/api/feedback/batch", key, `{"items":[
		{"portal":"google","author":"Max","text":"Terrible, the waiting time on the hotline was over an hour.","rating":1},
		`+body+`,
		{"portal":"google","text":""},
		{"portal":"google","text":"ok","bogus":1}]}`)
	if code != 200 || m["created"] != 1.0 || m["duplicates"] != 1.0 || m["rejected"] != 2.0 {
		t.Fatalf("batch: %d %v", code, m)
	}
	res := m["results"].([]any)
	if r := res[2].(map[string]any); r["status"] != "rejected" || !strings.Contains(fmt.Sprint(r["error"]), "text") {
		t.Errorf("batch item 2: %v", r)
	}
	code, m = do(t, srv, "POST", "/api/feedback/batch", key, `{"items":[{"portal":"google","text":""}]}`)
	if code != 400 || m["rejected"] != 1.0 {
		t.Errorf("all-bad batch: %d %v", code, m)
	}

	// Lists and filters.
	list := func(q string) []any {
		t.Helper()
		code, m := do(t, srv, "GET", "/api/feedback"+q, key, "")
		if code != 200 {
			t.Fatalf("GET /api/feedback%s: %d %v", q, code, m)
		}
		return m["feedback"].([]any)
	}
	if n := len(list("")); n != 2 {
		t.Errorf("all: %d", n)
	}
	if l := list("?portal=google"); len(l) != 1 || l[0].(map[string]any)["author"] != "Max" {
		t.Errorf("portal=google: %v", l)
	}
	if n := len(list("?customer=" + cust.CustomerID)); n != 1 {
		t.Errorf("customer filter: %d", n)
	}
	if n := len(list("?sentiment=negative")); n != 1 {
		t.Errorf("sentiment=negative: %d", n)
	}
	if n := len(list("?from=2026-11-21&to=2026-11-22")); n != 1 {
		t.Errorf("time range: %d", n)
	}
	if l := list("?limit=1"); len(l) != 1 {
		t.Errorf("limit=1: %d", len(l))
	}
	code, m = do(t, srv, "GET", "/api/feedback?limit=1", key, "")
	next, _ := m["next"].(string)
	code, m = do(t, srv, "GET", "/api/feedback?limit=1&before="+strings.ReplaceAll(next, "+", "%2B"), key, "")
	if code != 200 || len(m["feedback"].([]any)) != 1 {
		t.Errorf("second page: %d %v", code, m)
	}
	for _, q := range []string{"?sentiment=angry", "?from=yesterday", "?limit=0", "?before=x"} {
		if code, m := do(t, srv, "GET", "/api/feedback"+q, key, ""); code != 400 || m["error"] == nil {
			t.Errorf("GET %s: %d %v", q, code, m)
		}
	}
	code, m = do(t, srv, "GET", "/api/feedback/"+id, key, "")
	if code != 200 || m["id"] != id || m["analysis"] == nil {
		t.Errorf("get: %d %v", code, m)
	}
	if code, _ := do(t, srv, "GET", "/api/feedback/fb_nope", key, ""); code != 404 {
		t.Errorf("unknown id: %d", code)
	}
}

func TestFeedsAPI(t *testing.T) {
	eachStore(t, feedsAPI)
}

func feedsAPI(t *testing.T, st store.Store) {
	srv, st, key := setup(t, st)
	var hits atomic.Int32
	fail := atomic.Bool{}
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if fail.Load() {
			http.Error(w, "boom", 500)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Forum</title>
			<item><guid>p-1</guid><title>Thanks</title><description>&lt;p&gt;Great help from the &lt;b&gt;staff&lt;/b&gt;, thank you!&lt;/p&gt;</description>
			<pubDate>Sat, 21 Nov 2026 10:00:00 +0100</pubDate><author>fan42</author></item></channel></rss>`)
	}))
	defer feed.Close()

	for _, tc := range []struct{ body, want string }{
		{`{"url":"` + feed.URL + `"}`, "name: missing"},
		{`{"name":"Forum","url":"file:///etc/passwd"}`, "url"},
		{`{"name":"Forum","url":"` + feed.URL + `","intervalSeconds":5}`, "intervalSeconds 5"},
		{`{"name":"Forum","url":"` + feed.URL + `","kind":"blog"}`, "kind"},
		{`{"name":"Forum","url":"` + feed.URL + `","every":5}`, "unknown field"},
	} {
		if code, m := do(t, srv, "POST", "/api/feeds", key, tc.body); code != 400 || !strings.Contains(fmt.Sprint(m["error"]), tc.want) {
			t.Errorf("POST /api/feeds %s: %d %v, want 400 with %q", tc.body, code, m, tc.want)
		}
	}
	code, m := do(t, srv, "POST", "/api/feeds", key, `{"name":"Forum","url":"`+feed.URL+`/rss","kind":"forum","portal":"Forum.Example.de"}`)
	if code != 201 || m["portal"] != "forum.example.de" || m["intervalSeconds"] != 900.0 || m["enabled"] != true {
		t.Fatalf("create feed: %d %v", code, m)
	}
	id := m["id"].(string)
	if code, m := do(t, srv, "POST", "/api/feeds", key, `{"name":"Forum","url":"`+feed.URL+`"}`); code != 409 {
		t.Errorf("same name: %d %v", code, m)
	}
	code, m = do(t, srv, "POST", "/api/feeds/"+id+"/poll", key, "")
	rep, _ := m["report"].(map[string]any)
	if code != 200 || rep["new"] != 1.0 || m["feed"].(map[string]any)["lastSuccess"] == nil {
		t.Fatalf("poll: %d %v", code, m)
	}
	code, m = do(t, srv, "GET", "/api/feedback?feed="+id, key, "")
	if l := m["feedback"].([]any); code != 200 || len(l) != 1 || l[0].(map[string]any)["text"] != "Great help from the staff, thank you!" ||
		l[0].(map[string]any)["kind"] != "forum" {
		t.Fatalf("feedback of the feed: %d %v", code, m)
	}
	fail.Store(true)
	code, m = do(t, srv, "POST", "/api/feeds/"+id+"/poll", key, "")
	if code != 200 || !strings.Contains(fmt.Sprint(m["feed"].(map[string]any)["lastError"]), "HTTP 500") {
		t.Fatalf("poll of a failing feed: %d %v", code, m)
	}
	code, m = do(t, srv, "PATCH", "/api/feeds/"+id, key, `{"enabled":false,"intervalSeconds":3600}`)
	if code != 200 || m["enabled"] != false || m["intervalSeconds"] != 3600.0 || m["name"] != "Forum" {
		t.Fatalf("patch: %d %v", code, m)
	}
	if code, m := do(t, srv, "PATCH", "/api/feeds/"+id, key, `{"intervalSeconds":-1}`); code != 400 {
		t.Errorf("bad patch: %d %v", code, m)
	}
	code, m = do(t, srv, "GET", "/api/feeds", key, "")
	if l := m["feeds"].([]any); code != 200 || len(l) != 1 || l[0].(map[string]any)["failures"] != 1.0 {
		t.Fatalf("list: %d %v", code, m)
	}
	if code, m := do(t, srv, "DELETE", "/api/feeds/"+id, key, ""); code != 200 || m["deleted"] != true {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := do(t, srv, "GET", "/api/feeds/"+id, key, ""); code != 404 {
		t.Fatalf("deleted feed: %d", code)
	}
	// Every change is in the audit log.
	entries, err := st.AuditEntries(context.Background(), store.AuditFilter{Target: id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "feed.delete feed.update feed.poll feed.poll feed.create" {
		t.Errorf("audit: %s", got)
	}
}
