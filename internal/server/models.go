package server

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/scoring"
	"github.com/kunding/kunding/internal/store"
)

// modelsLease is held by the node that refits the models on schedule.
const modelsLease = "models"

// wireScoring keeps predictions current: the pipeline rescores a customer
// right after a batch that changed their orders, and one node refits the
// models every refitEvery (0: never) with the settings of the model in use.
func wireScoring(bg *sync.WaitGroup, ctx context.Context, st store.Store, pl *pipeline.Pipeline, refitEvery time.Duration, log *slog.Logger) {
	sc := &scoring.Scorer{Store: st}
	pl.AfterBatch = func(ctx context.Context, customers []string) {
		if err := sc.Score(ctx, customers); err != nil && ctx.Err() == nil {
			log.Warn("predictions not updated", "customers", len(customers), "err", err)
		}
	}
	if refitEvery <= 0 {
		return
	}
	host, _ := os.Hostname()
	holder := "refit " + host + " " + time.Now().Format(time.RFC3339Nano)
	bg.Go(func() {
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			m, err := scoring.Load(ctx, st)
			if errors.Is(err, scoring.ErrNoModel) || (err == nil && time.Since(m.FittedAt) < refitEvery) {
				continue
			}
			if err != nil {
				log.Warn("refit: load model", "err", err)
				continue
			}
			ok, err := st.AcquireLease(ctx, modelsLease, holder, time.Hour)
			if err != nil || !ok {
				continue
			}
			o := scoring.Options{Unit: time.Duration(m.UnitDays) * 24 * time.Hour, Model: "auto",
				Margin: m.Margin, AnnualDiscount: m.AnnualDiscount, HorizonDays: m.HorizonDays}
			if nm, err := scoring.Fit(ctx, st, o); err != nil {
				log.Error("scheduled refit failed; the previous model stays in use", "err", err)
			} else if n, err := scoring.ScoreAll(ctx, st, time.Now(), nil); err != nil {
				log.Error("scheduled scoring failed", "err", err)
			} else {
				log.Info("models refitted", "model", nm.Name, "customers", n)
			}
			sc.Forget()
			st.ReleaseLease(context.Background(), modelsLease, holder)
		}
	})
}
