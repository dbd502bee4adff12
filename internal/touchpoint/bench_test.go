package touchpoint_test

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/pgtest"
	"github.com/kunding/kunding/internal/store/postgres"
	"github.com/kunding/kunding/internal/store/sqlite"
	"github.com/kunding/kunding/internal/touchpoint"
)

// The volume: 20,000,000 events over a year, 50 touchpoints.
const (
	benchEvents      = 20_000_000
	benchTouchpoints = 50
	benchDays        = 365
	benchCustomers   = 1_000_000
	benchAnswerers   = 100_000 // customers with an overall and a touchpoint answer
)

// seedAggregates writes the aggregates that the consumer would have built
// from 20,000,000 events, directly at the aggregate level (building them
// from 20 million real events takes hours on this machine; the consumer's
// own speed is measured by BenchmarkConsume): per touchpoint and day the
// segment "all" and the four value tiers, with their customer sketches
// (about 1,100 contacts by 1,100 distinct customers per touchpoint and day,
// a HyperLogLog each), the month rows merged from the days, and the
// key-driver sums of 200,000 scored survey answers.
func seedAggregates(b *testing.B, st store.Store) {
	ctx := context.Background()
	ts := st.(store.TouchpointStore)
	svc := &touchpoint.Service{Store: st}
	for i := 0; i < benchTouchpoints; i++ {
		name, ch, stage := fmt.Sprintf("Touchpoint %02d", i), touchpoint.Channels[i%len(touchpoint.Channels)], touchpoint.Stages[i%len(touchpoint.Stages)]
		cost := float64(i % 7)
		rules := []store.TouchpointRule{{Event: name}}
		if _, err := svc.Create(ctx, touchpoint.Input{Name: &name, Channel: &ch, Stage: &stage, Cost: &cost, Rules: &rules}, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	tps, err := ts.Touchpoints(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// The consumer would reset on the new generation first.
	stt, _ := ts.TouchpointState(ctx)
	if err := ts.ResetTouchpointDerived(ctx, stt.Built, stt.Generation, 0); err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewSource(1))
	start := touchpoint.Day(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	perDay := benchEvents / benchTouchpoints / benchDays
	tiers := []string{"tier:none", "tier:low", "tier:mid", "tier:high"}
	var total int64
	for ti, t := range tps {
		var rows []store.TouchpointAgg
		months := map[store.AggKey]*store.TouchpointAgg{}
		monthSk := map[store.AggKey]*touchpoint.Sketch{}
		for d := int64(0); d < benchDays; d++ {
			day := start + d
			segSk := map[string]*touchpoint.Sketch{"all": {}}
			segN := map[string]int64{}
			for _, s := range tiers {
				segSk[s] = &touchpoint.Sketch{}
			}
			for k := 0; k < perDay; k++ {
				c := rnd.Intn(benchCustomers)
				h := touchpoint.HashCustomer(fmt.Sprint("c", c))
				tier := tiers[c%4]
				segSk["all"].Add(h)
				segSk[tier].Add(h)
				segN["all"]++
				segN[tier]++
			}
			total += segN["all"]
			for seg, sk := range segSk {
				n := segN[seg]
				a := store.TouchpointAgg{Touchpoint: t.ID, Segment: seg, Grain: 0, Period: day, Contacts: n, CustDays: n * 9 / 10,
					Conversions: n / 20, Complaints: n / 200, CSATN: n / 100, CSATSum: float64(n/100) * (2 + float64(ti%3)),
					CSATSat: n / 300, PerfN: n / 100, PerfSum: float64(n/100) * float64(30+ti), SentN: n / 50, SentSum: float64(n/50) * 0.1,
					Customers: sk.Encode()}
				rows = append(rows, a)
				mk := store.AggKey{Touchpoint: t.ID, Segment: seg, Grain: 1, Period: touchpoint.MonthOfDay(day)}
				m := months[mk]
				if m == nil {
					m = &store.TouchpointAgg{Touchpoint: t.ID, Segment: seg, Grain: 1, Period: mk.Period}
					months[mk], monthSk[mk] = m, &touchpoint.Sketch{}
				}
				touchpoint.AddAgg(m, &a)
				monthSk[mk].Merge(sk)
			}
		}
		for k, m := range months {
			m.Customers = monthSk[k].Encode()
			rows = append(rows, *m)
		}
		if err := ts.CommitTouchpointBatch(ctx, store.TouchpointBatch{From: 0, To: 0, Generation: stt.Generation, Aggs: rows}); err != nil {
			b.Fatal(err)
		}
	}
	// Answers: each answerer gives an overall NPS and a CSAT at one
	// touchpoint whose satisfaction drives the overall one more or less;
	// the consumer keeps their key-driver sums per touchpoint, segment and
	// month (the answers table itself is not read by the matrix).
	sums := map[store.AggKey]*touchpoint.Sums{}
	for c := 0; c < benchAnswerers; c++ {
		ti := rnd.Intn(benchTouchpoints)
		day := start + int64(rnd.Intn(benchDays))
		x := float64(rnd.Intn(5)) * 25
		y := float64(ti)/benchTouchpoints*x + (1-float64(ti)/benchTouchpoints)*float64(rnd.Intn(11))*10
		for _, seg := range []string{"all", tiers[c%4]} {
			k := store.AggKey{Touchpoint: tps[ti].ID, Segment: seg, Period: touchpoint.MonthOfDay(day)}
			if sums[k] == nil {
				sums[k] = &touchpoint.Sums{}
			}
			sums[k].Add(x, y, 1)
		}
	}
	var kda []store.TouchpointKDA
	for k, v := range sums {
		kda = append(kda, store.TouchpointKDA{Touchpoint: k.Touchpoint, Segment: k.Segment, Month: k.Period, N: v.N, SX: v.SX, SY: v.SY, SXX: v.SXX, SYY: v.SYY, SXY: v.SXY})
	}
	if err := ts.CommitTouchpointBatch(ctx, store.TouchpointBatch{Generation: stt.Generation, KDA: kda}); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded aggregates of %d contacts (%d touchpoints × %d days × 5 segments) and the key-driver sums of %d answers", total, benchTouchpoints, benchDays, 2*benchAnswerers)
}

func benchMatrix(b *testing.B, st store.Store) {
	t0 := time.Now()
	seedAggregates(b, st)
	b.Logf("seeding took %v", time.Since(t0).Round(time.Second))
	svc := &touchpoint.Service{Store: st}
	ctx := context.Background()
	// A year that is not whole months: month rows plus day rows at both ends.
	q := touchpoint.MatrixQuery{Query: touchpoint.Query{From: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC), Segment: "all"}}
	m, err := svc.Matrix(ctx, q)
	if err != nil {
		b.Fatal(err)
	}
	if len(m.Points) != benchTouchpoints {
		b.Fatalf("%d points, %d unplaced", len(m.Points), len(m.Unplaced))
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.Matrix(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatrix: the matrix of 50 touchpoints over the aggregates of
// 20,000,000 events (one year), on SQLite and PostgreSQL.
//
//	go test -run '^$' -bench Matrix -benchtime 10x ./internal/touchpoint
func BenchmarkMatrix(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "k.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchMatrix(b, st)
	})
	b.Run("postgres", func(b *testing.B) {
		st, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchMatrix(b, st)
	})
}

// BenchmarkConsume measures the consumer on real events: 20,000 page and
// track events of 2,000 customers matched against 50 touchpoints (the
// pipeline runs first, untimed).
func BenchmarkConsume(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f := newFx(b, st)
	for i := 0; i < benchTouchpoints; i++ {
		f.create(fmt.Sprintf("TP %02d", i), "web", "use", i, 1, "contact", store.TouchpointRule{Source: "Web shop", PathPrefix: fmt.Sprintf("/p%02d", i)})
	}
	const n = 20_000
	rnd := rand.New(rand.NewSource(2))
	var recs []store.Record
	for i := 0; i < n; i++ {
		recs = append(recs, f.record("Web shop", fmt.Sprintf("u%d", rnd.Intn(2000)), fmt.Sprintf("/p%02d/x", rnd.Intn(60)), i))
		if len(recs) == 1000 {
			if _, err := st.Append(f.ctx, recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	if _, err := pipelineDrain(f); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.svc.Rebuild(f.ctx); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := f.con.Drain(f.ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "events/s")
	}
}
