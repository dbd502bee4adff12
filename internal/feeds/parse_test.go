package feeds

import (
	"os"
	"strings"
	"testing"
	"time"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRSS(t *testing.T) {
	items, err := Parse(read(t, "reviews.rss"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Fatalf("%d items", len(items))
	}
	a, b, c := items[0], items[1], items[2]
	if a.ID != "rev-1001" || a.Title != "Lieferung viel zu spät" || a.Author != "kunde_k" || a.Link != "https://reviews.example.de/r/1001" ||
		a.Text != "Die Lieferung kam zwei Wochen zu spät und der Kundenservice war unfreundlich." ||
		!a.Published.Equal(time.Date(2026, 11, 20, 7, 15, 0, 0, time.UTC)) {
		t.Errorf("item 1: %+v", a)
	}
	// content:encoded wins over the teaser in description.
	if b.Text != "Super Beratung, freundliches Personal und schnelle Lieferung.\nGerne wieder!" ||
		!b.Published.Equal(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("item 2: %q %v", b.Text, b.Published)
	}
	if c.Title != "" || c.Text != "" || c.DateError == "" || !c.Published.IsZero() {
		t.Errorf("broken item: %+v", c)
	}
}

func TestParseAtom(t *testing.T) {
	items, err := Parse(read(t, "forum.atom"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	a, b := items[0], items[1]
	if a.ID != "tag:forum.example.com,2026:post-77" || a.Title != "Billing again wrong" || a.Author != "Rita R." ||
		a.Text != "My invoice was wrong for the third time. Terrible billing, I am very disappointed." ||
		a.Link != "https://forum.example.com/t/77" || !a.Published.Equal(time.Date(2026, 11, 21, 18, 30, 2, 0, time.UTC)) {
		t.Errorf("entry 1: %+v", a)
	}
	// No id: the link names it; xhtml content; updated when not published.
	if b.ID != "https://forum.example.com/t/78" || b.Text != "The new app is great, excellent work!" ||
		!b.Published.Equal(time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("entry 2: %+v", b)
	}
}

func TestParseLatin1(t *testing.T) {
	items, err := Parse(read(t, "latin1.rss"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Title != "Grüße" || items[0].Text != "Schön € 5" || items[0].ID != "https://x.example/1" {
		t.Fatalf("%+v", items)
	}
}

func TestParseIDFallbacks(t *testing.T) {
	doc := `<rss><channel><item><title>T</title><description>only text</description></item></channel></rss>`
	items, err := Parse([]byte(doc))
	if err != nil || len(items) != 1 || !strings.HasPrefix(items[0].ID, "sha256:") {
		t.Fatalf("%+v %v", items, err)
	}
	again, _ := Parse([]byte(doc))
	if again[0].ID != items[0].ID {
		t.Fatal("the content id is not stable")
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"html page", `<!DOCTYPE html><html><body>Hello</body></html>`, "neither an RSS"},
		{"not xml", `{"items":[]}`, "invalid XML"},
		{"empty", ``, "invalid XML"},
		{"truncated", `<rss><channel><item><title>a</title>`, "invalid XML"},
		{"other xml", `<?xml version="1.0"?><sitemap/>`, "neither an RSS"},
		{"atom without namespace", `<feed><entry/></feed>`, "neither an RSS"},
		{"bad entity", `<rss><channel><item><title>a &bogus; b</title></item></channel></rss>`, "invalid XML"},
		{"unknown charset", `<?xml version="1.0" encoding="KOI8-R"?><rss/>`, "encoding"},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2026, 11, 22, 14, 5, 0, 0, time.UTC)
	for _, s := range []string{
		"Sun, 22 Nov 2026 14:05:00 +0000", "Sun, 22 Nov 2026 14:05:00 GMT", "Sun, 22 Nov 2026 15:05:00 +0100",
		"Sun, 22 Nov 2026 15:05:00 CET", "Sun, 22 Nov 2026 09:05:00 EST", "Sun, 22 Nov 2026 14:05 UT",
		"22 Nov 2026 14:05:00 Z", "Sun,  22 Nov 2026 14:05:00 +0000", "Sun, 22 Nov 26 14:05:00 GMT",
		"2026-11-22T14:05:00Z", "2026-11-22T15:05:00+01:00", "2026-11-22T14:05:00.000Z", "2026-11-22T14:05:00",
		"2026-11-22 14:05:00", "2026-11-22T15:05:00+0100",
	} {
		got, err := ParseDate(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	if got, err := ParseDate("2026-11-22"); err != nil || !got.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date only: %v %v", got, err)
	}
	for _, s := range []string{"", "yesterday", "32 Nov 2026 14:05:00 GMT"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

func TestPlainText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                             "plain",
		"a &amp; b &lt;c&gt;":               "a & b <c>",
		"<p>one</p><p>two</p>":              "one\ntwo",
		"x<script>alert(1)</script>y":       "xy",
		"<style>p{}</style>text":            "text",
		"3 < 5 and 6 > 4":                   "3 < 5 and 6 > 4",
		"<!-- hidden -->shown":              "shown",
		"wo<b>rd</b>, <a href='x'>link</a>": "word, link",
		"line<br>break<br/>again":           "line\nbreak\nagain",
		"  lots   of\n\n\n\n space  ":       "lots of\nspace",
		"emoji 😀 &#128512;":                 "emoji 😀 😀",
	} {
		if got := PlainText(in); got != want {
			t.Errorf("PlainText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		interval, failures int
		want               time.Duration
	}{
		{600, 0, 10 * time.Minute}, {600, 1, 10 * time.Minute}, {600, 2, 20 * time.Minute}, {600, 3, 40 * time.Minute},
		{600, 20, 24 * time.Hour}, {7 * 24 * 3600, 5, 7 * 24 * time.Hour},
	} {
		if got := Backoff(tc.interval, tc.failures); got != tc.want {
			t.Errorf("Backoff(%d, %d) = %v, want %v", tc.interval, tc.failures, got, tc.want)
		}
	}
}

// FuzzParse: no input makes the parser panic or return items with
// invalid UTF-8.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"reviews.rss", "forum.atom", "reviews2.rss", "latin1.rss"} {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<rss><channel><item><description>&lt;b</description></item></channel></rss>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := Parse(data)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.ID == "" {
				t.Fatalf("item without id: %+v", it)
			}
		}
	})
}
