package server

import (
	"log/slog"

	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/webhook"
)

// newWebhooks makes the webhook service of a node and hooks it into the
// case service: every stored case change goes into the outbox of the
// endpoints that want it. Every node runs the dispatcher (Run); the
// deliveries' leases keep two nodes from sending the same one.
func newWebhooks(st store.Store, caseSvc *cases.Service, holder string, log *slog.Logger) *webhook.Service {
	wh, err := webhook.New(st, holder)
	if err != nil {
		// Every store of Kunding keeps webhooks; this is a programming error.
		panic(err)
	}
	wh.Log = log
	caseSvc.AddHook(wh.CaseHook)
	return wh
}
