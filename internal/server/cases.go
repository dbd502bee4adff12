package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

// newCaseService makes the case service of a node: its clock is
// cfg.CaseClock (tests move it), and case events go onto the customers'
// timelines.
func newCaseService(st store.Store, cfg Config, log *slog.Logger) *cases.Service {
	svc, err := cases.New(st, cfg.CaseClock)
	if err != nil {
		// Every store of Kunding keeps cases; this is a programming error.
		panic(err)
	}
	svc.Log = log
	svc.Timeline = true
	return svc
}

// wireCases runs the case rules over the event log (right after each
// pipeline batch, and every second) and the escalation job (every
// escalateEvery, default a minute) on the one node that holds the cases
// lease, like the pipeline: both are idempotent, so a node that loses the
// lease midway does no harm.
func wireCases(bg *sync.WaitGroup, ctx context.Context, st store.Store, svc *cases.Service, pl *pipeline.Pipeline, holder string, escalateEvery time.Duration, log *slog.Logger) {
	if escalateEvery <= 0 {
		escalateEvery = time.Minute
	}
	wake := make(chan struct{}, 1)
	prev := pl.OnProcessed
	pl.OnProcessed = func(n int, last int64) {
		if prev != nil {
			prev(n, last)
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	bg.Go(func() {
		const ttl = 30 * time.Second
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var leaseUntil, lastEscalation, lastErrLog time.Time
		logErr := func(msg string, err error) {
			if ctx.Err() == nil && time.Since(lastErrLog) >= 10*time.Second {
				log.Error(msg, "err", err)
				lastErrLog = time.Now()
			}
		}
		defer func() {
			if !leaseUntil.IsZero() {
				rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				st.ReleaseLease(rctx, cases.LeaseName, holder)
				cancel()
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-tick.C:
			}
			if time.Until(leaseUntil) < ttl/2 {
				ok, err := st.AcquireLease(ctx, cases.LeaseName, holder, ttl)
				switch {
				case err != nil:
					logErr("cases lease", err)
					leaseUntil = time.Time{}
				case ok:
					leaseUntil = time.Now().Add(ttl)
				default:
					leaseUntil = time.Time{}
				}
			}
			if leaseUntil.IsZero() {
				continue
			}
			if _, err := svc.Drain(ctx); err != nil && !errors.Is(err, store.ErrCursorMoved) {
				logErr("case rules", err)
			}
			if time.Since(lastEscalation) >= escalateEvery {
				lastEscalation = time.Now()
				if res, err := svc.Tick(ctx); err != nil {
					logErr("case escalation", err)
				} else if res.Warnings+res.ToLead+res.ToCCO > 0 {
					log.Info("cases escalated", "warnings", res.Warnings, "toLead", res.ToLead, "toCCO", res.ToCCO)
				}
			}
		}
	})
}
