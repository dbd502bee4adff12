package campaign

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/kunding/kunding/internal/store"
)

// CalendarEntry is a campaign as the calendar shows it: when it runs, who
// sends it on which channel, to whom, and how far it got.
type CalendarEntry struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	Department string       `json:"department"`
	Channel    string       `json:"channel"`
	Type       string       `json:"type"`
	Status     string       `json:"status"`
	Start      time.Time    `json:"start"`
	End        time.Time    `json:"end"`
	Audience   string       `json:"audience"` // the target group in words
	Target     store.Target `json:"target"`
	// ListCustomers is the size of an uploaded recipient list.
	ListCustomers int64  `json:"listCustomers,omitempty"`
	Expected      int64  `json:"expectedVolume"`
	Delivered     int64  `json:"delivered"`
	HeldBack      int64  `json:"heldBack"`
	Subject       string `json:"subject,omitempty"`
}

// Calendar lists the campaigns that run at some time in [from, to),
// cancelled ones left out, ordered by start; department and channel filter
// when not empty.
func (s *Service) Calendar(ctx context.Context, from, to time.Time, department, channel string) ([]CalendarEntry, error) {
	cs, err := s.Campaigns()
	if err != nil {
		return nil, err
	}
	list, err := cs.Campaigns(ctx, store.CampaignFilter{From: from, To: to, Department: department, Channel: channel,
		Statuses: []string{StatusDraft, StatusScheduled, StatusSending, StatusSent}})
	if err != nil {
		return nil, err
	}
	out := make([]CalendarEntry, 0, len(list))
	for _, c := range list {
		out = append(out, CalendarEntry{ID: c.ID, Name: c.Name, Department: c.Department, Channel: c.Channel, Type: c.Type,
			Status: c.Status, Start: c.Start, End: c.End, Audience: Audience(c), Expected: c.ExpectedVolume,
			Delivered: c.Delivery.Delivered, HeldBack: c.Delivery.HeldBack, Subject: c.Subject, Target: c.Target})
		if c.List != nil {
			out[len(out)-1].ListCustomers = c.List.Customers
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Audience says the target group in words (English field names, for the
// API; the web app translates the parts).
func Audience(c store.Campaign) string {
	if c.Target.Kind == TargetList {
		if c.List != nil {
			return "recipient list (" + itoa(c.List.Customers) + " customers)"
		}
		return "recipient list (not uploaded)"
	}
	if len(c.Target.Conditions) == 0 {
		return "all customers"
	}
	s := ""
	for i, cond := range c.Target.Conditions {
		if i > 0 {
			s += " and "
		}
		s += cond.Field + " " + cond.Op
		if cond.Value != "" {
			s += " " + cond.Value
		}
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
