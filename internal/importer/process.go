package importer

import (
	"context"
	"errors"
	"time"

	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

// leaseTTL is how long the lease lasts without renewal; it is renewed at a
// third of that, so a slow batch does not let a starting server take over.
const leaseTTL = 30 * time.Second

// Processed says what Process did.
type Processed struct {
	Events int
	// Busy means another worker (a running server) holds the pipeline
	// lease; it processes the events itself.
	Busy bool
}

// ErrLeaseLost means another worker took the pipeline lease meanwhile.
var ErrLeaseLost = errors.New("the pipeline lease was taken by another worker")

// Process runs the pipeline until every event of the log is processed, so
// that customers and profiles are complete when an import returns. It takes
// the pipeline lease as holder and gives it back at the end. progress, if
// set, gets the events done and the events that were waiting at the start.
func Process(ctx context.Context, st store.Store, holder string, progress func(done, total int64)) (Processed, error) {
	var res Processed
	ok, err := st.AcquireLease(ctx, pipeline.LeaseName, holder, leaseTTL)
	if err != nil {
		return res, err
	}
	if !ok {
		res.Busy = true
		return res, nil
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st.ReleaseLease(rctx, pipeline.LeaseName, holder)
	}()
	stats, err := st.Stats(ctx)
	if err != nil {
		return res, err
	}
	total := max(stats.LastSeq-stats.Processed, 0)
	pl := &pipeline.Pipeline{Store: st, BatchSize: 5000, Holder: holder}
	renewed := time.Now()
	for {
		if time.Since(renewed) > leaseTTL/3 {
			ok, err := st.AcquireLease(ctx, pipeline.LeaseName, holder, leaseTTL)
			if err != nil {
				return res, err
			}
			if !ok {
				return res, ErrLeaseLost
			}
			renewed = time.Now()
		}
		n, err := pl.Step(ctx)
		res.Events += n
		if err != nil {
			return res, err
		}
		if progress != nil {
			progress(int64(res.Events), total)
		}
		if n == 0 {
			return res, nil
		}
	}
}
