package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/campaign"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

func campaignRoutes() []Route {
	return []Route{
		{"GET", "/api/campaigns", (*API).listCampaigns, auth.PermCampaignsRead},
		{"POST", "/api/campaigns", (*API).createCampaign, auth.PermCampaignsWrite},
		{"GET", "/api/campaigns/calendar", (*API).campaignCalendar, auth.PermCampaignsRead},
		{"GET", "/api/campaigns/{id}", (*API).getCampaign, auth.PermCampaignsRead},
		{"PATCH", "/api/campaigns/{id}", (*API).updateCampaign, auth.PermCampaignsWrite},
		{"DELETE", "/api/campaigns/{id}", (*API).deleteCampaign, auth.PermCampaignsWrite},
		{"PUT", "/api/campaigns/{id}/recipients", (*API).uploadRecipients, auth.PermCampaignsWrite},
		{"POST", "/api/campaigns/{id}/preview", (*API).previewCampaign, auth.PermCampaignsRead},
		{"POST", "/api/campaigns/{id}/schedule", (*API).scheduleCampaign, auth.PermCampaignsWrite},
		{"POST", "/api/campaigns/{id}/send", (*API).sendCampaign, auth.PermCampaignsWrite},
		{"POST", "/api/campaigns/{id}/cancel", (*API).cancelCampaign, auth.PermCampaignsWrite},
		{"GET", "/api/contact-policy", (*API).getContactPolicy, auth.PermCampaignsRead},
		{"PUT", "/api/contact-policy", (*API).putContactPolicy, auth.PermContactPolicy},
		{"POST", "/api/contact-policy/check", (*API).checkContactPolicy, auth.PermCampaignsRead},
		{"GET", "/api/customers/{id}/consent", (*API).getConsent, auth.PermCustomers},
		{"PUT", "/api/customers/{id}/consent", (*API).putConsent, auth.PermConsentWrite},
	}
}

// campaignServices holds the services made on demand for APIs without one.
var campaignServices sync.Map // *API -> *campaign.Service

func (a *API) campaignSvc() *campaign.Service {
	if a.Campaigns != nil {
		return a.Campaigns
	}
	v, _ := campaignServices.LoadOrStore(a, &campaign.Service{Store: a.Store, Log: a.Log})
	return v.(*campaign.Service)
}

// campaignFail answers an error of the campaign service.
func (a *API) campaignFail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, campaign.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, campaign.ErrForbidden):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, campaign.ErrNoCampaigns):
		writeError(w, http.StatusNotImplemented, err.Error())
	default:
		a.fail(w, err)
	}
}

func (a *API) listCampaigns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.CampaignFilter{Department: q.Get("department"), Channel: q.Get("channel")}
	if s := q.Get("status"); s != "" {
		f.Statuses = strings.Split(s, ",")
	}
	var err error
	if v := q.Get("from"); v != "" {
		if f.From, err = campaign.ParseTime("from", v, false); err != nil {
			a.campaignFail(w, err)
			return
		}
	}
	if v := q.Get("to"); v != "" {
		if f.To, err = campaign.ParseTime("to", v, true); err != nil {
			a.campaignFail(w, err)
			return
		}
	}
	if f.Limit, err = intParam(r, "limit", 200, 1000); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := a.campaignSvc().List(r.Context(), f)
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	if list == nil {
		list = []store.Campaign{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": list})
}

func (a *API) createCampaign(w http.ResponseWriter, r *http.Request) {
	var in campaign.Input
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	c, err := a.campaignSvc().Create(r.Context(), in)
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (a *API) getCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := a.campaignSvc().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *API) updateCampaign(w http.ResponseWriter, r *http.Request) {
	var in campaign.Input
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	c, err := a.campaignSvc().Update(r.Context(), r.PathValue("id"), in)
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *API) deleteCampaign(w http.ResponseWriter, r *http.Request) {
	if err := a.campaignSvc().Delete(r.Context(), r.PathValue("id")); err != nil {
		a.campaignFail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) uploadRecipients(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, campaign.MaxListBytes)
	c, err := a.campaignSvc().Upload(r.Context(), r.PathValue("id"), body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("recipient list: at most %d MB", campaign.MaxListBytes>>20))
			return
		}
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *API) previewCampaign(w http.ResponseWriter, r *http.Request) {
	rep, err := a.campaignSvc().Preview(r.Context(), r.PathValue("id"))
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *API) campaignTransition(w http.ResponseWriter, r *http.Request, fn func(*campaign.Service, *http.Request, string) (store.Campaign, error)) {
	c, err := fn(a.campaignSvc(), r, r.PathValue("id"))
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *API) scheduleCampaign(w http.ResponseWriter, r *http.Request) {
	a.campaignTransition(w, r, func(s *campaign.Service, r *http.Request, id string) (store.Campaign, error) {
		return s.Schedule(r.Context(), id)
	})
}

func (a *API) sendCampaign(w http.ResponseWriter, r *http.Request) {
	a.campaignTransition(w, r, func(s *campaign.Service, r *http.Request, id string) (store.Campaign, error) {
		return s.Send(r.Context(), id)
	})
}

func (a *API) cancelCampaign(w http.ResponseWriter, r *http.Request) {
	a.campaignTransition(w, r, func(s *campaign.Service, r *http.Request, id string) (store.Campaign, error) {
		return s.Cancel(r.Context(), id)
	})
}

func (a *API) campaignCalendar(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = campaign.ParseTime("from", v, false); err != nil {
			a.campaignFail(w, err)
			return
		}
		to = from.AddDate(0, 1, 0)
	}
	if v := q.Get("to"); v != "" {
		if to, err = campaign.ParseTime("to", v, true); err != nil {
			a.campaignFail(w, err)
			return
		}
	}
	if !to.After(from) || to.Sub(from) > 400*24*time.Hour {
		writeError(w, http.StatusBadRequest, "to must be after from, at most 400 days later")
		return
	}
	cal, err := a.campaignSvc().Calendar(r.Context(), from, to, q.Get("department"), q.Get("channel"))
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "campaigns": cal})
}

func (a *API) getContactPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := a.campaignSvc().Policy(r.Context())
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *API) putContactPolicy(w http.ResponseWriter, r *http.Request) {
	var p campaign.Policy
	if err := decodeJSON(r, &p); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := a.campaignSvc().SetPolicy(r.Context(), p)
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *API) checkContactPolicy(w http.ResponseWriter, r *http.Request) {
	var req campaign.CheckRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := a.campaignSvc().Check(r.Context(), req)
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *API) getConsent(w http.ResponseWriter, r *http.Request) {
	p, err := a.Store.Customer(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	c := p.Consent
	if c == nil {
		c = map[string]profile.Consent{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"customerId": p.CustomerID, "consent": c})
}

func (a *API) putConsent(w http.ResponseWriter, r *http.Request) {
	var in campaign.ConsentInput
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	c, err := a.campaignSvc().SetConsent(r.Context(), r.PathValue("id"), in)
	if err != nil {
		a.campaignFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"customerId": r.PathValue("id"), "consent": c})
}
