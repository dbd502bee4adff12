package server

import (
	"log/slog"

	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/feeds"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
)

// feedbackIntake makes the feedback intake of a node (its events wake the
// pipeline) and the feed poller; holder names the node in the feeds'
// leases, stable across restarts like the pipeline's.
func feedbackIntake(st store.Store, pl *pipeline.Pipeline, holder string, log *slog.Logger) (*feedback.Service, *feeds.Poller) {
	in := &feedback.Service{Store: st, OnAppended: pl.Wake}
	return in, &feeds.Poller{Store: st, Intake: in, Holder: holder, Log: log}
}
