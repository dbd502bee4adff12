package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/sqlite"
)

// seedCustomers writes n customers with a user id and a profile straight
// into the read models (the pipeline's cost is not the campaign's).
func seedCustomers(tb testing.TB, st store.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	at := now.AddDate(0, -1, 0)
	for start := 0; start < n; start += 5000 {
		err := st.Process(ctx, func(tx store.Tx) error {
			for i := start; i < min(start+5000, n); i++ {
				id := fmt.Sprintf("c%020d", i)
				if err := tx.CreateCustomer(id, int64(i+1), at); err != nil {
					return err
				}
				if err := tx.Attach(store.Identifier{Kind: "user", Value: fmt.Sprintf("U%d", i)}, id, int64(i+1), at); err != nil {
					return err
				}
				p := profile.New(id)
				p.FirstSeen, p.LastSeen, p.Events = at, at, 1
				plan := "silver"
				if i%2 == 0 {
					plan = "gold"
				}
				p.Traits["plan"] = profile.Trait{Value: json.RawMessage(`"` + plan + `"`), At: at}
				p.Consent = map[string]profile.Consent{"email_marketing": {Granted: i%10 != 0, At: at, Source: "seed"}}
				if err := tx.SaveProfile(&p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkDelivery100k sends a promotional e-mail to 100,000 customers
// (a filter on a trait, consent checked for each) on SQLite: the delivery
// job's batches, events into the log and the frequency-cap rows. Run with
//
//	go test ./internal/campaign -run XXX -bench Delivery100k -benchtime 1x
func BenchmarkDelivery100k(b *testing.B) {
	const n = 100_000
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	seedCustomers(b, st, n)
	ctx := audit.WithActor(context.Background(), "bench")
	svc := &Service{Store: st, Now: func() time.Time { return now }}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		target := store.Target{Kind: TargetFilter, Conditions: []store.Condition{{Field: "orders", Op: "gte", Value: "0"}}}
		c, err := svc.Create(ctx, Input{Name: ptr(fmt.Sprintf("Big %d", i)), Department: ptr("Marketing"), Channel: ptr("email"),
			Type: ptr(TypePromotional), Message: ptr("Hello"), Start: ptr("2026-05-01"), End: ptr("2026-05-31"), Target: &target})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Send(ctx, c.ID); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := svc.Drain(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		c, _ = svc.Get(ctx, c.ID)
		if c.Delivery.Matched != n || c.Delivery.Delivered+c.Delivery.HeldBack != n {
			b.Fatalf("delivery: %+v", c.Delivery)
		}
		b.ReportMetric(float64(n)/d.Seconds(), "recipients/s")
		b.Logf("%d recipients: %d delivered, %d held back (%v) in %s", n, c.Delivery.Delivered, c.Delivery.HeldBack, c.Delivery.Reasons, d.Round(time.Millisecond))
	}
}
