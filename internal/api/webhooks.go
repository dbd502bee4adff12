package api

import (
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/webhook"
)

// webhookServices holds the webhook service made on demand for an API
// without one (tests that build an API on a store).
var webhookServices sync.Map // *API -> *webhook.Service

func (a *API) webhookSvc() (*webhook.Service, error) {
	if a.Webhooks != nil {
		return a.Webhooks, nil
	}
	if s, ok := webhookServices.Load(a); ok {
		return s.(*webhook.Service), nil
	}
	s, err := webhook.New(a.Store, "api")
	if err != nil {
		return nil, err
	}
	v, _ := webhookServices.LoadOrStore(a, s)
	return v.(*webhook.Service), nil
}

func (a *API) withWebhooks(w http.ResponseWriter, fn func(s *webhook.Service)) {
	s, err := a.webhookSvc()
	if err != nil {
		a.fail(w, err)
		return
	}
	fn(s)
}

func (a *API) webhookFail(w http.ResponseWriter, err error) {
	if errors.Is(err, webhook.ErrInvalid) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.fail(w, err)
}

// hideSecret leaves the secret out of lists and reads: it is shown when an
// endpoint is created and when it is rotated.
func hideSecret(e store.WebhookEndpoint) store.WebhookEndpoint {
	e.Secret = ""
	return e
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) {
	a.withWebhooks(w, func(s *webhook.Service) {
		es, err := s.Endpoints(r.Context())
		if err != nil {
			a.fail(w, err)
			return
		}
		out := make([]store.WebhookEndpoint, 0, len(es))
		for _, e := range es {
			out = append(out, hideSecret(e))
		}
		writeJSON(w, http.StatusOK, map[string]any{"webhooks": out, "events": webhook.Events})
	})
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhook.Endpoint
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withWebhooks(w, func(s *webhook.Service) {
		e, err := s.Create(r.Context(), in)
		if err != nil {
			a.webhookFail(w, err)
			return
		}
		w.Header().Set("Location", "/api/webhooks/"+e.ID)
		writeJSON(w, http.StatusCreated, e)
	})
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) {
	a.withWebhooks(w, func(s *webhook.Service) {
		e, err := s.Endpoint(r.Context(), r.PathValue("id"))
		if err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, hideSecret(e))
	})
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhook.Endpoint
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.withWebhooks(w, func(s *webhook.Service) {
		e, err := s.Update(r.Context(), r.PathValue("id"), in)
		if err != nil {
			a.webhookFail(w, err)
			return
		}
		if in.Secret == "" {
			e = hideSecret(e)
		}
		writeJSON(w, http.StatusOK, e)
	})
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	a.withWebhooks(w, func(s *webhook.Service) {
		id := r.PathValue("id")
		if err := s.Delete(r.Context(), id); err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"deleted": true, "id": id})
	})
}

func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	a.withWebhooks(w, func(s *webhook.Service) {
		e, err := s.RotateSecret(r.Context(), r.PathValue("id"))
		if err != nil {
			a.webhookFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, e)
	})
}

func (a *API) webhookDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.WebhookDeliveryFilter{EndpointID: r.PathValue("id"), Status: q.Get("status"), CaseID: q.Get("case")}
	switch f.Status {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		writeError(w, http.StatusBadRequest, "status "+strconv.Quote(f.Status)+": want pending, delivered or failed")
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit "+strconv.Quote(l)+": want 1 to 1000")
			return
		}
		f.Limit = n
	}
	a.withWebhooks(w, func(s *webhook.Service) {
		if f.EndpointID != "" {
			if _, err := s.Endpoint(r.Context(), f.EndpointID); err != nil {
				a.fail(w, err)
				return
			}
		}
		ds, err := s.Deliveries(r.Context(), f)
		if err != nil {
			a.fail(w, err)
			return
		}
		if ds == nil {
			ds = []store.WebhookDelivery{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
	})
}

func (a *API) retryWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	a.withWebhooks(w, func(s *webhook.Service) {
		id := r.PathValue("id")
		if err := s.Retry(r.Context(), id); err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"retry": true, "id": id})
	})
}

// webhookRoutes are the routes of webhooks (issue 7), listed in Routes.
// Registering where case data goes is the case administrators' decision.
func webhookRoutes() []Route {
	return []Route{
		{"GET", "/api/webhooks", (*API).listWebhooks, auth.PermCasesAdmin},
		{"POST", "/api/webhooks", (*API).createWebhook, auth.PermCasesAdmin},
		{"GET", "/api/webhooks/deliveries", (*API).webhookDeliveries, auth.PermCasesAdmin},
		{"POST", "/api/webhooks/deliveries/{id}/retry", (*API).retryWebhookDelivery, auth.PermCasesAdmin},
		{"GET", "/api/webhooks/{id}", (*API).getWebhook, auth.PermCasesAdmin},
		{"PATCH", "/api/webhooks/{id}", (*API).updateWebhook, auth.PermCasesAdmin},
		{"DELETE", "/api/webhooks/{id}", (*API).deleteWebhook, auth.PermCasesAdmin},
		{"POST", "/api/webhooks/{id}/rotate-secret", (*API).rotateWebhookSecret, auth.PermCasesAdmin},
		{"GET", "/api/webhooks/{id}/deliveries", (*API).webhookDeliveries, auth.PermCasesAdmin},
	}
}
