package web_test

import (
	"fmt"
	"net/url"
	"regexp"
	"testing"
	"time"
)

// benchApp is a server with one customer who has n events (orders among
// them) and others beside her, with an agent logged in.
func benchApp(b *testing.B, events, others int) (*client, string) {
	a := startApp(b, "")
	now := time.Now().UTC()
	var batch []map[string]any
	flush := func() {
		if len(batch) > 0 {
			if code := a.send(a.Shop.WriteKey, batch...); code != 200 {
				b.Fatalf("send = %d", code)
			}
			batch = batch[:0]
		}
	}
	add := func(ev map[string]any) {
		batch = append(batch, ev)
		if len(batch) == 400 {
			flush()
		}
	}
	add(map[string]any{"type": "identify", "userId": "big", "traits": map[string]any{"name": "Bea Big", "email": "bea@example.de"}})
	for i := 0; i < events-1; i++ {
		ts := now.Add(-time.Duration(i) * time.Hour).Format(time.RFC3339)
		switch {
		case i%50 == 0:
			add(map[string]any{"type": "track", "userId": "big", "event": "Order Completed", "timestamp": ts,
				"properties": map[string]any{"order_id": fmt.Sprint("O-", i), "revenue": 10 + i%90, "currency": "EUR"}})
		case i%20 == 0:
			add(map[string]any{"type": "track", "userId": "big", "event": "Email Opened", "timestamp": ts,
				"properties": map[string]any{"campaign_name": "News", "email_subject": "Hello"}})
		default:
			add(map[string]any{"type": "page", "userId": "big", "name": "Page", "timestamp": ts,
				"properties": map[string]any{"path": "/p/" + fmt.Sprint(i)}})
		}
	}
	for i := 0; i < others; i++ {
		add(map[string]any{"type": "identify", "userId": fmt.Sprint("other-", i),
			"traits": map[string]any{"name": fmt.Sprintf("Other %05d", i), "email": fmt.Sprintf("o%d@example.de", i)}})
	}
	flush()
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
// figures, identities) of a customer with 10,000 events, over HTTP.
func BenchmarkCustomer360(b *testing.B) {
	c, user := benchApp(b, 10000, 1000)
	p := c.get("/customers?q=" + user)
	id := regexpID.FindStringSubmatch(p.Body)
	if id == nil {
		b.Fatal("customer not found")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if p := c.get("/customers/" + id[1]); p.Code != 200 {
			b.Fatalf("360 = %d", p.Code)
		}
	}
}

// BenchmarkSearch searches by the start of a name among 1,000 customers.
func BenchmarkSearch(b *testing.B) {
	c, _ := benchApp(b, 100, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if p := c.get("/customers?q=" + url.QueryEscape("Other 00"+fmt.Sprint(i%10))); p.Code != 200 {
			b.Fatalf("search = %d", p.Code)
		}
	}
}

var regexpID = regexp.MustCompile(`href="/customers/([^"]+)"`)
