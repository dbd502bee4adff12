package event_test

import (
	"testing"
	"time"

	"github.com/kunding/kunding/internal/bench"
	"github.com/kunding/kunding/internal/event"
)

// batchBody is a /v1/batch body of n realistic events (600 to 1000 bytes
// each, with context, properties and traits as analytics.js sends them).
func batchBody(b *testing.B, n int) []byte {
	return bench.NewGenerator(1, 20, "b").Batch(nil, n, time.Now())
}

// BenchmarkDecodeBatch is the collection API's decoding of one batch of 100
// events: DecodeBatch, then Parse of every event. With encode, the event
// is also encoded for storage (AppendJSON, as collect.record does), which
// is the whole JSON cost of an event on the ingest path.
func BenchmarkDecodeBatch(b *testing.B) {
	for _, encode := range []bool{false, true} {
		name := "decode+parse"
		if encode {
			name = "decode+parse+encode"
		}
		b.Run(name, func(b *testing.B) {
			const n = 100
			body := batchBody(b, n)
			id := func() string { return "x" }
			buf := make([]byte, 0, 4096)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu0, _ := bench.ProcessCPU(0)
			for b.Loop() {
				batch, err := event.DecodeBatch(body, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				for _, raw := range batch.Items {
					ev, err := event.Parse(raw, "", batch.Envelope, id)
					if err != nil {
						b.Fatal(err)
					}
					if encode {
						if _, err := ev.AppendJSON(buf[:0]); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			cpu1, _ := bench.ProcessCPU(0)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/event")
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
			// CPU time (this process, GC included) per event: the figure
			// that holds when the machine is shared and wall time is not.
			b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(n*b.N), "cpu-ns/event")
		})
	}
}

// BenchmarkParse is one event on its own, as /v1/track receives it.
func BenchmarkParse(b *testing.B) {
	body := batchBody(b, 1)
	batch, err := event.DecodeBatch(body, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	raw := batch.Items[0]
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := event.Parse(raw, "", event.Envelope{ReceivedAt: time.Now()}, func() string { return "x" }); err != nil {
			b.Fatal(err)
		}
	}
}
