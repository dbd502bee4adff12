package server

import (
	"context"
	"log/slog"
	"sync"

	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/touchpoint"
)

// wireTouchpoints runs the touchpoint consumer (matching and aggregates,
// issue 8) on the one node that holds its lease, woken after each
// pipeline batch.
func wireTouchpoints(bg *sync.WaitGroup, ctx context.Context, st store.Store, pl *pipeline.Pipeline, holder string, log *slog.Logger) {
	if _, ok := st.(store.TouchpointStore); !ok {
		return
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
	c := &touchpoint.Consumer{Service: &touchpoint.Service{Store: st}, Log: log}
	bg.Go(func() { c.Run(ctx, holder, wake) })
}
