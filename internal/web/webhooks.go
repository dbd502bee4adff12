package web

import (
	"errors"
	"net/http"
	"net/url"
	"sync"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/webhook"
)

// The webhooks page: administrators of cases register endpoints, see the
// delivery log and retry a failed delivery. The webhook service audits
// every change.

var webhookServices sync.Map // *Handler -> *webhook.Service

func (h *Handler) webhooks() (*webhook.Service, error) {
	if h.cfg.Webhooks != nil {
		return h.cfg.Webhooks, nil
	}
	if s, ok := webhookServices.Load(h); ok {
		return s.(*webhook.Service), nil
	}
	s, err := webhook.New(h.cfg.Store, "web")
	if err != nil {
		return nil, err
	}
	v, _ := webhookServices.LoadOrStore(h, s)
	return v.(*webhook.Service), nil
}

func (h *Handler) webhookRoutes(private func(string, auth.Permission, http.HandlerFunc)) {
	private("GET /webhooks", auth.PermCasesAdmin, h.webhooksPage)
	private("POST /webhooks", auth.PermCasesAdmin, h.createWebhook)
	private("POST /webhooks/{id}", auth.PermCasesAdmin, h.changeWebhook)
	private("POST /webhooks/deliveries/{id}/retry", auth.PermCasesAdmin, h.retryDelivery)
}

type endpointRow struct {
	store.WebhookEndpoint
	Created string
}

type deliveryRow struct {
	store.WebhookDelivery
	URL, Created, Next, Last, StatusName string
}

type webhooksData struct {
	page
	Endpoints  []endpointRow
	Deliveries []deliveryRow
	Events     []option
	Secret     string // of the endpoint just created or rotated, shown once
	SecretFor  string
	Error      string
	Message    string
	Form       map[string]string
	Status     string
	Statuses   []option
}

func (h *Handler) webhooksPage(w http.ResponseWriter, r *http.Request) {
	h.renderWebhooks(w, r, http.StatusOK, webhooksData{Message: r.URL.Query().Get("msg")})
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, r *http.Request, code int, d webhooksData) {
	ctx := r.Context()
	s, err := h.webhooks()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.page = h.page(r, "webhooks.title", "webhooks")
	l := d.L
	if d.Message != "" {
		d.Message = l.T("webhooks.msg." + d.Message)
	}
	eps, err := s.Endpoints(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	urls := map[string]string{}
	for _, e := range eps {
		urls[e.ID] = e.URL
		d.Endpoints = append(d.Endpoints, endpointRow{WebhookEndpoint: e, Created: l.DateTime(e.CreatedAt)})
	}
	chosen := map[string]bool{}
	if d.Form == nil {
		d.Form = map[string]string{}
		chosen[webhook.CaseCreated], chosen[webhook.CaseEscalated], chosen[webhook.CaseSolved] = true, true, true
	}
	for _, ev := range webhook.Events {
		d.Events = append(d.Events, option{Value: ev, Name: l.T("webhooks.event." + ev), Selected: chosen[ev] || d.Form["ev:"+ev] == "1"})
	}
	d.Status = r.URL.Query().Get("status")
	switch d.Status {
	case store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		d.Status = ""
	}
	d.Statuses = append([]option{{Value: "", Name: l.T("webhooks.allStatuses"), Selected: d.Status == ""}},
		opts(l, "webhooks.status.", []string{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed}, d.Status)...)
	ds, err := s.Deliveries(ctx, store.WebhookDeliveryFilter{Status: d.Status, Limit: 100})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, dl := range ds {
		row := deliveryRow{WebhookDelivery: dl, URL: urls[dl.EndpointID], Created: l.DateTime(dl.CreatedAt),
			StatusName: l.T("webhooks.status." + dl.Status)}
		if dl.Status == store.DeliveryPending {
			row.Next = l.DateTime(dl.NextAttempt)
		}
		if !dl.LastAttemptAt.IsZero() {
			row.Last = l.DateTime(dl.LastAttemptAt)
		}
		d.Deliveries = append(d.Deliveries, row)
	}
	h.render(w, r, code, "webhooks", d)
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	s, err := h.webhooks()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in := webhook.Endpoint{URL: r.FormValue("url"), Events: r.Form["events"], Description: r.FormValue("description")}
	e, err := s.Create(r.Context(), in)
	if err != nil {
		if !errors.Is(err, webhook.ErrInvalid) {
			h.fail(w, r, err)
			return
		}
		form := map[string]string{"url": in.URL, "description": in.Description}
		for _, ev := range in.Events {
			form["ev:"+ev] = "1"
		}
		l := h.page(r, "webhooks.title", "webhooks").L
		h.renderWebhooks(w, r, http.StatusUnprocessableEntity, webhooksData{Error: l.T("webhooks.err.invalid") + " " + err.Error(), Form: form})
		return
	}
	h.renderWebhooks(w, r, http.StatusCreated, webhooksData{Secret: e.Secret, SecretFor: e.URL, Message: "created"})
}

// changeWebhook switches an endpoint on or off, rotates its secret or
// deletes it (the form's action).
func (h *Handler) changeWebhook(w http.ResponseWriter, r *http.Request) {
	s, err := h.webhooks()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	var msg string
	switch r.FormValue("action") {
	case "enable", "disable":
		on := r.FormValue("action") == "enable"
		_, err = s.Update(r.Context(), id, webhook.Endpoint{Enabled: &on})
		msg = r.FormValue("action") + "d"
	case "rotate":
		var e store.WebhookEndpoint
		if e, err = s.RotateSecret(r.Context(), id); err == nil {
			h.renderWebhooks(w, r, http.StatusOK, webhooksData{Secret: e.Secret, SecretFor: e.URL, Message: "rotated"})
			return
		}
	case "delete":
		err = s.Delete(r.Context(), id)
		msg = "deleted"
	default:
		h.errorPage(w, r, http.StatusBadRequest, "webhooks.err.action")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/webhooks?"+url.Values{"msg": {msg}}.Encode(), http.StatusSeeOther)
}

func (h *Handler) retryDelivery(w http.ResponseWriter, r *http.Request) {
	s, err := h.webhooks()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := s.Retry(r.Context(), r.PathValue("id")); err != nil && !errors.Is(err, store.ErrConflict) {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/webhooks?msg=retried", http.StatusSeeOther)
}
