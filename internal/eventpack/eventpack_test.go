package eventpack

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

var samples = []string{
	`{"type":"track","messageId":"m-1","userId":"u1","event":"Order Completed","properties":{"order_id":"o-1","total":49.9,"currency":"EUR","products":[{"sku":"S-1","price":49.9,"quantity":1}]},"context":{"library":{"name":"analytics-go","version":"3.3.0"}},"timestamp":"2026-11-01T10:00:00Z","receivedAt":"2026-11-01T10:00:01Z"}`,
	`{"type":"identify","messageId":"m-2","anonymousId":"a-ü-€","traits":{"email":"anna@example.de","name":"Anna Müller"},"timestamp":"2026-11-01T10:00:00Z","receivedAt":"2026-11-01T10:00:01Z"}`,
	`{}`,
	``,
}

func TestRoundTrip(t *testing.T) {
	for _, s := range append(samples, strings.Repeat(`{"k":"xyz"},`, 3000)) {
		p := Pack(nil, []byte(s))
		back, err := Unpack(nil, p)
		if err != nil {
			t.Fatalf("unpack %q: %v", s, err)
		}
		if !bytes.Equal(back, []byte(s)) {
			t.Fatalf("round trip changed %q into %q", s, back)
		}
	}
}

// webEvent is a product view as analytics.js sends it (about 1 KB).
const webEvent = `{"type":"track","messageId":"ajs-next-17327","userId":"u10507610","anonymousId":"fa5b2e3b-7b94-4d27-b552-e9c17e2b5b64","event":"Product Viewed","properties":{"product_id":"p-100334","sku":"SKU-50334","category":"Schuhe","name":"Trail Sneaker","brand":"Example","price":69.9,"currency":"EUR","quantity":1,"url":"https://shop.example.de/p/SKU-50334"},"context":{"library":{"name":"analytics.js","version":"npm:next-1.76.0"},"locale":"de-DE","page":{"path":"/p/SKU-50334","referrer":"https://www.google.com/","search":"","title":"Trail Sneaker","url":"https://shop.example.de/p/SKU-50334"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","ip":"118.87.230.220","timezone":"Europe/Berlin"},"integrations":{},"timestamp":"2026-04-29T00:44:00.58Z","originalTimestamp":"2026-04-29T00:44:00.58Z","receivedAt":"2026-04-29T00:44:02.58Z"}`

// TestSmaller checks that the dictionary does its work on a typical event:
// without it zstd saves little on 1 KB.
func TestSmaller(t *testing.T) {
	body := []byte(webEvent)
	p := Pack(nil, body)
	t.Logf("%d bytes packed to %d", len(body), len(p))
	if len(p) > len(body)/2 {
		t.Fatalf("%d bytes packed to %d: the dictionary is not used", len(body), len(p))
	}
}

func TestUnpackRejectsGarbage(t *testing.T) {
	for _, p := range [][]byte{[]byte(`{"type":"track"}`), {0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3}} {
		if _, err := Unpack(nil, p); err == nil {
			t.Errorf("Unpack(%q) took bytes that are no packed body", p)
		}
	}
}

func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p, back []byte
			for i := 0; i < 200; i++ {
				s := []byte(samples[(g+i)%2])
				p = Pack(p[:0], s)
				var err error
				if back, err = Unpack(back[:0], p); err != nil || !bytes.Equal(back, s) {
					t.Errorf("goroutine %d: %v, %q", g, err, back)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range samples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		back, err := Unpack(nil, Pack(nil, b))
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("round trip of %q: %v, %q", b, err, back)
		}
		_, _ = Unpack(nil, b) // garbage must not panic
	})
}

func BenchmarkPack(b *testing.B) {
	body := []byte(webEvent)
	var p []byte
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		p = Pack(p[:0], body)
	}
	b.ReportMetric(float64(len(p)), "packed-bytes")
}

func BenchmarkUnpack(b *testing.B) {
	body := []byte(webEvent)
	p := Pack(nil, body)
	var out []byte
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		out, _ = Unpack(out[:0], p)
	}
}
