package server

import (
	"context"
	"log/slog"
	"sync"

	"github.com/kunding/kunding/internal/campaign"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

// newCampaigns makes the campaign service: its deliveries and consent
// events wake the pipeline.
func newCampaigns(st store.Store, pl *pipeline.Pipeline, log *slog.Logger) *campaign.Service {
	return &campaign.Service{Store: st, Wake: pl.Wake, Log: log}
}

// wireCampaigns runs the delivery job on every node; its lease lets one
// node send at a time, and another take over when that node dies.
func wireCampaigns(bg *sync.WaitGroup, ctx context.Context, st store.Store, svc *campaign.Service, holder string) {
	if _, ok := st.(store.CampaignStore); !ok {
		return
	}
	bg.Go(func() { svc.Run(ctx, holder, make(chan struct{}, 1)) })
}
