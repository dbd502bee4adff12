package web_test

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"
)

// The benchmarks run against a small store built in a temporary directory
// (Bea and 1,000 others), or, with KUNDING_WEB_BENCH_DATA set, against a
// store prepared by `kunding bench lookup` (see bench_data_test.go and
// docs/web.md).

// batcher sends events to the collection API 400 at a time.
type batcher struct {
	b     *testing.B
	a     *app
	batch []map[string]any
}

func (s *batcher) add(ev map[string]any) {
	s.batch = append(s.batch, ev)
	if len(s.batch) == 400 {
		s.flush()
	}
}

func (s *batcher) flush() {
	if len(s.batch) > 0 {
		if code := s.a.send(s.a.Shop.WriteKey, s.batch...); code != 200 {
			s.b.Fatalf("send = %d", code)
		}
		s.batch = s.batch[:0]
	}
}

// addBea sends Bea (user id "big", bea@example.de) with n events, orders
// and mailings among them, and waits for the pipeline.
func addBea(b *testing.B, a *app, events int) {
	s := &batcher{b: b, a: a}
	beaEvents(s, events)
	s.flush()
	a.settle()
}

func beaEvents(s *batcher, events int) {
	now := time.Now().UTC()
	s.add(map[string]any{"type": "identify", "userId": "big", "traits": map[string]any{"name": "Bea Big", "email": "bea@example.de"}})
	for i := 0; i < events-1; i++ {
		ts := now.Add(-time.Duration(i) * time.Hour).Format(time.RFC3339)
		switch {
		case i%50 == 0:
			s.add(map[string]any{"type": "track", "userId": "big", "event": "Order Completed", "timestamp": ts,
				"properties": map[string]any{"order_id": fmt.Sprint("O-", i), "revenue": 10 + i%90, "currency": "EUR"}})
		case i%20 == 0:
			s.add(map[string]any{"type": "track", "userId": "big", "event": "Email Opened", "timestamp": ts,
				"properties": map[string]any{"campaign_name": "News", "email_subject": "Hello"}})
		default:
			s.add(map[string]any{"type": "page", "userId": "big", "name": "Page", "timestamp": ts,
				"properties": map[string]any{"path": "/p/" + fmt.Sprint(i)}})
		}
	}
}

// benchApp is a server with one customer who has n events (orders among
// them) and others beside her, with an agent logged in.
func benchApp(b *testing.B, events, others int) (*client, string) {
	a := startApp(b, "")
	s := &batcher{b: b, a: a}
	beaEvents(s, events)
	for i := 0; i < others; i++ {
		s.add(map[string]any{"type": "identify", "userId": fmt.Sprint("other-", i),
			"traits": map[string]any{"name": fmt.Sprintf("Other %05d", i), "email": fmt.Sprintf("o%d@example.de", i),
				"phone": fmt.Sprintf("+49 151 %08d", i)}})
	}
	s.flush()
	a.settle()
	c := a.client("de")
	c.login("agent@kunding.test")
	p := c.get("/customers?q=bea")
	if p.Code != 200 {
		b.Fatalf("search = %d", p.Code)
	}
	return c, "big"
}

// BenchmarkCustomer360 renders the 360 page (first timeline page, chart,
// figures, identities) of a customer with 10,000 events: "http" over HTTP
// on loopback, "handler" by calling the web handler in process (server
// time).
func BenchmarkCustomer360(b *testing.B) {
	e := newBenchEnv(b, 10000)
	path := "/customers/" + e.big
	b.Run("http", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if p := e.c.get(path); p.Code != 200 {
				b.Fatalf("360 = %d", p.Code)
			}
		}
	})
	b.Run("handler", func(b *testing.B) {
		percentiles(b, func(int) {
			if code := e.get(b, path); code != 200 {
				b.Fatalf("360 = %d", code)
			}
		})
	})
}

// BenchmarkSearch searches by the start of a name, by e-mail address and
// by phone number (as typed: "+49 151 …", normalised by the handler), calling
// the web handler in process.
func BenchmarkSearch(b *testing.B) {
	e := newBenchEnv(b, 100)
	run := func(name string, terms []string) {
		b.Run(name, func(b *testing.B) {
			percentiles(b, func(i int) {
				if code := e.get(b, "/customers?q="+url.QueryEscape(terms[i%len(terms)])); code != 200 {
					b.Fatalf("search = %d", code)
				}
			})
		})
	}
	run("name", e.names)
	run("email", e.emails)
	var typed []string
	for _, p := range e.phones {
		typed = append(typed, p[:3]+" "+p[3:6]+" "+p[6:]) // +4915112345678 → +49 151 12345678
	}
	for _, q := range typed[:1] {
		if p := e.c.get("/customers?q=" + url.QueryEscape(q)); p.Code != 200 || !regexpID.MatchString(p.Body) {
			b.Fatalf("search %q finds nobody: %d", q, p.Code)
		}
	}
	run("phone", typed)
}

// percentiles runs fn b.N times and reports the median and the 99th
// percentile of one call besides the mean (ns/op).
func percentiles(b *testing.B, fn func(i int)) {
	d := make([]time.Duration, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		fn(i)
		d[i] = time.Since(t0)
	}
	b.StopTimer()
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(d[min(len(d)-1, len(d)*99/100)].Microseconds())/1000, "ms-p99")
}

var regexpID = regexp.MustCompile(`href="/customers/([^"]+)"`)
