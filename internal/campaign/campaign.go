// Package campaign registers campaigns and mailings of every department,
// resolves their target groups (a filter on profiles or an uploaded list),
// checks each recipient against the contact policy (open complaint,
// frequency caps, consent per purpose) and delivers the campaign onto the
// recipients' timelines as events of the log, exactly once, in resumable
// batches behind a lease.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/store"
)

// Campaign types: they decide the contact policy.
const (
	TypePromotional = "promotional"
	TypeService     = "service" // service and transactional messages
	TypeInformation = "information"
)

// Types lists the campaign types.
var Types = []string{TypePromotional, TypeService, TypeInformation}

// Channels lists the channels a campaign may use.
var Channels = []string{"email", "letter", "phone", "sms", "push", "web", "app", "social", "ads", "store", "other"}

// Statuses of a campaign.
const (
	StatusDraft     = "draft"
	StatusScheduled = "scheduled" // approved; the delivery job starts it at its start time
	StatusSending   = "sending"
	StatusSent      = "sent"
	StatusCancelled = "cancelled"
)

// Statuses lists the statuses in their order.
var Statuses = []string{StatusDraft, StatusScheduled, StatusSending, StatusSent, StatusCancelled}

// Audit actions.
const (
	AuditCreate     = "campaign.create"
	AuditUpdate     = "campaign.update"
	AuditDelete     = "campaign.delete"
	AuditRecipients = "campaign.recipients"
	AuditSchedule   = "campaign.schedule"
	AuditSend       = "campaign.send"
	AuditCancel     = "campaign.cancel"
	AuditPolicy     = "contact_policy.update"
	AuditConsent    = "customer.consent"
)

var (
	// ErrInvalid marks refused input (400).
	ErrInvalid = errors.New("invalid campaign")
	// ErrForbidden: the user may not change campaigns of another department.
	ErrForbidden = errors.New("forbidden")
	// ErrState: the campaign's status does not allow the change (409).
	ErrState = fmt.Errorf("%w", store.ErrConflict)
	// ErrNoCampaigns: the store cannot keep campaigns.
	ErrNoCampaigns = errors.New("this store does not keep campaigns")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func stateErr(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), store.ErrConflict)
}

// Service is the campaign logic on a store.
type Service struct {
	Store store.Store
	// Wake, if set, tells the pipeline that events were appended.
	Wake func()
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	Log *slog.Logger
	// BatchSize is the number of customers a delivery step handles (0: 500).
	BatchSize int

	mu     sync.Mutex
	source string
	// afterAppend, if set (tests), runs after a batch's events are stored
	// and before its progress is; an error simulates a crash there.
	afterAppend func() error
	// wakeJob, set by Run, starts the delivery job at once after a send.
	wakeJob func()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) batch() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return 500
}

// Campaigns returns the campaign storage.
func (s *Service) Campaigns() (store.CampaignStore, error) {
	cs, ok := s.Store.(store.CampaignStore)
	if !ok {
		return nil, ErrNoCampaigns
	}
	return cs, nil
}

// Input is a campaign as the API and the web form give it; nil fields are
// left as they are in an update.
type Input struct {
	Name           *string       `json:"name"`
	Department     *string       `json:"department"`
	Channel        *string       `json:"channel"`
	Touchpoint     *string       `json:"touchpoint"`
	Type           *string       `json:"type"`
	Subject        *string       `json:"subject"`
	Message        *string       `json:"message"`
	Offer          *string       `json:"offer"`
	Start          *string       `json:"start"` // RFC 3339 or YYYY-MM-DD
	End            *string       `json:"end"`
	Target         *store.Target `json:"target"`
	ExpectedVolume *int64        `json:"expectedVolume"`
}

func cleanText(what, v string, min, max int, multiline bool) (string, error) {
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))
	}) {
		return "", invalid("%s: control characters or invalid UTF-8 are not allowed", what)
	}
	if n := utf8.RuneCountInString(v); n < min || n > max {
		if min > 0 {
			return "", invalid("%s: %d to %d characters (got %d)", what, min, max, n)
		}
		return "", invalid("%s: at most %d characters (got %d)", what, max, n)
	}
	return v, nil
}

// ParseTime reads RFC 3339 or a date (YYYY-MM-DD, midnight UTC; as an end
// date, the end of that day).
func ParseTime(what, v string, end bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC().Truncate(time.Millisecond), nil
	}
	if t, err := time.Parse("2006-01-02T15:04", v); err == nil { // <input type=datetime-local>
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t.UTC(), nil
	}
	return time.Time{}, invalid("%s %q: give a date (2026-05-01) or a time (2026-05-01T09:00:00Z)", what, v)
}

// apply validates in and sets it on c.
func (s *Service) apply(ctx context.Context, c *store.Campaign, in Input) error {
	var err error
	if in.Name != nil {
		if c.Name, err = cleanText("name", *in.Name, 1, 120, false); err != nil {
			return err
		}
	}
	if in.Department != nil {
		d := strings.TrimSpace(*in.Department)
		ds, err := s.Store.Departments(ctx)
		if err != nil {
			return err
		}
		found := ""
		var names []string
		for _, x := range ds {
			names = append(names, x.Name)
			if strings.EqualFold(x.Name, d) {
				found = x.Name
			}
		}
		if found == "" {
			return invalid("department %q: must be one of %s", d, strings.Join(names, ", "))
		}
		c.Department = found
	}
	if in.Channel != nil {
		ch := strings.ToLower(strings.TrimSpace(*in.Channel))
		if !slices.Contains(Channels, ch) {
			return invalid("channel %q: must be one of %s", ch, strings.Join(Channels, ", "))
		}
		c.Channel = ch
	}
	if in.Type != nil {
		t := strings.ToLower(strings.TrimSpace(*in.Type))
		if !slices.Contains(Types, t) {
			return invalid("type %q: must be one of %s", t, strings.Join(Types, ", "))
		}
		c.Type = t
	}
	if in.Touchpoint != nil {
		tp, err := cleanText("touchpoint", *in.Touchpoint, 0, 100, false)
		if err != nil {
			return err
		}
		// A name of the catalogue becomes its id, so the campaign links to it.
		if ts, ok := s.Store.(store.TouchpointStore); ok && tp != "" {
			if list, err := ts.Touchpoints(ctx); err == nil {
				for _, t := range list {
					if t.ID == tp || strings.EqualFold(t.Name, tp) {
						tp = t.ID
						break
					}
				}
			}
		}
		c.Touchpoint = tp
	}
	if in.Subject != nil {
		if c.Subject, err = cleanText("subject", *in.Subject, 0, 200, false); err != nil {
			return err
		}
	}
	if in.Message != nil {
		if c.Message, err = cleanText("message", *in.Message, 0, 5000, true); err != nil {
			return err
		}
	}
	if in.Offer != nil {
		if c.Offer, err = cleanText("offer", *in.Offer, 0, 500, false); err != nil {
			return err
		}
	}
	if in.Start != nil {
		if c.Start, err = ParseTime("start", *in.Start, false); err != nil {
			return err
		}
	}
	if in.End != nil {
		if c.End, err = ParseTime("end", *in.End, true); err != nil {
			return err
		}
	}
	if in.ExpectedVolume != nil {
		if *in.ExpectedVolume < 0 || *in.ExpectedVolume > 1e10 {
			return invalid("expectedVolume: 0 to 10,000,000,000")
		}
		c.ExpectedVolume = *in.ExpectedVolume
	}
	if in.Target != nil {
		t, err := CleanTarget(*in.Target)
		if err != nil {
			return err
		}
		c.Target = t
	}
	switch {
	case c.Name == "":
		return invalid("name: required")
	case c.Department == "":
		return invalid("department: required")
	case c.Channel == "":
		return invalid("channel: required (one of %s)", strings.Join(Channels, ", "))
	case c.Type == "":
		return invalid("type: required (one of %s)", strings.Join(Types, ", "))
	case c.Start.IsZero() || c.End.IsZero():
		return invalid("start and end: required")
	case !c.End.After(c.Start):
		return invalid("end (%s) must be after start (%s)", c.End.Format(time.RFC3339), c.Start.Format(time.RFC3339))
	case c.Target.Kind == "":
		return invalid("target: required (kind filter with conditions, or kind list and an uploaded recipient list)")
	}
	return nil
}

// mayChange refuses a lead or analyst changing another department's campaign.
func mayChange(ctx context.Context, dept string) error {
	u, ok := auth.UserFrom(ctx)
	if !ok || u.Role == auth.RoleAdmin || u.Role == auth.RoleCCO {
		return nil
	}
	if !strings.EqualFold(u.Department, dept) {
		return fmt.Errorf("%w: you work in %s and may change campaigns of that department only, not of %s", ErrForbidden, u.Department, dept)
	}
	return nil
}

// Create registers a campaign as a draft.
func (s *Service) Create(ctx context.Context, in Input) (store.Campaign, error) {
	cs, err := s.Campaigns()
	if err != nil {
		return store.Campaign{}, err
	}
	now := s.now()
	c := store.Campaign{ID: "cmp_" + auth.NewSecret("")[:12], Status: StatusDraft, CreatedBy: audit.ActorFrom(ctx),
		CreatedAt: now, UpdatedAt: now, Version: 1}
	if u, ok := auth.UserFrom(ctx); ok && in.Department == nil && u.Department != "" {
		d := u.Department
		in.Department = &d
	}
	if err := s.apply(ctx, &c, in); err != nil {
		return c, err
	}
	if err := mayChange(ctx, c.Department); err != nil {
		return c, err
	}
	if err := cs.CreateCampaign(ctx, c); err != nil {
		return c, err
	}
	return c, audit.Record(ctx, s.Store, audit.Entry{Action: AuditCreate, Target: c.ID,
		Detail: fmt.Sprintf("%s (%s, %s, %s)", c.Name, c.Department, c.Channel, c.Type)})
}

// Get returns a campaign.
func (s *Service) Get(ctx context.Context, id string) (store.Campaign, error) {
	cs, err := s.Campaigns()
	if err != nil {
		return store.Campaign{}, err
	}
	return cs.Campaign(ctx, id)
}

// List returns campaigns.
func (s *Service) List(ctx context.Context, f store.CampaignFilter) ([]store.Campaign, error) {
	cs, err := s.Campaigns()
	if err != nil {
		return nil, err
	}
	return cs.Campaigns(ctx, f)
}

// editable: a campaign can be changed until it is being sent.
func editable(c store.Campaign) error {
	if c.Status != StatusDraft && c.Status != StatusScheduled {
		return stateErr("campaign %s is %s; only a draft or a scheduled campaign can be changed", c.ID, c.Status)
	}
	return nil
}

// forChange loads a campaign the caller may change and that can still be
// changed (a draft or scheduled one).
func (s *Service) forChange(ctx context.Context, id string) (store.CampaignStore, store.Campaign, error) {
	cs, err := s.Campaigns()
	if err != nil {
		return nil, store.Campaign{}, err
	}
	c, err := cs.Campaign(ctx, id)
	if err != nil {
		return cs, c, err
	}
	if err := mayChange(ctx, c.Department); err != nil {
		return cs, c, err
	}
	return cs, c, editable(c)
}

// Update changes a draft or scheduled campaign.
func (s *Service) Update(ctx context.Context, id string, in Input) (store.Campaign, error) {
	cs, c, err := s.forChange(ctx, id)
	if err != nil {
		return c, err
	}
	if err := s.apply(ctx, &c, in); err != nil {
		return c, err
	}
	if err := mayChange(ctx, c.Department); err != nil {
		return c, err
	}
	c.UpdatedAt = s.now()
	if err := cs.UpdateCampaign(ctx, &c); err != nil {
		return c, err
	}
	return c, audit.Record(ctx, s.Store, audit.Entry{Action: AuditUpdate, Target: c.ID, Detail: c.Name})
}

// Delete removes a draft.
func (s *Service) Delete(ctx context.Context, id string) error {
	cs, err := s.Campaigns()
	if err != nil {
		return err
	}
	c, err := cs.Campaign(ctx, id)
	if err != nil {
		return err
	}
	if err := mayChange(ctx, c.Department); err != nil {
		return err
	}
	if c.Status != StatusDraft {
		return stateErr("campaign %s is %s; only a draft can be deleted (cancel it instead)", id, c.Status)
	}
	if err := cs.DeleteCampaign(ctx, id); err != nil {
		return err
	}
	return audit.Record(ctx, s.Store, audit.Entry{Action: AuditDelete, Target: id, Detail: c.Name})
}

// transition moves a campaign to a status, checking who may and from where.
func (s *Service) transition(ctx context.Context, id, to string) (store.Campaign, error) {
	cs, err := s.Campaigns()
	if err != nil {
		return store.Campaign{}, err
	}
	for attempt := 0; ; attempt++ {
		c, err := cs.Campaign(ctx, id)
		if err != nil {
			return c, err
		}
		if err := mayChange(ctx, c.Department); err != nil {
			return c, err
		}
		from := c.Status
		switch to {
		case StatusScheduled, StatusSending:
			if from != StatusDraft && from != StatusScheduled {
				return c, stateErr("campaign %s is %s; only a draft or scheduled campaign can be scheduled or sent", id, from)
			}
			if c.Target.Kind == "list" && (c.List == nil || c.List.Customers == 0) {
				return c, invalid("campaign %s has a recipient list but no recipients: upload the list first", id)
			}
		case StatusCancelled:
			if from != StatusDraft && from != StatusScheduled && from != StatusSending {
				return c, stateErr("campaign %s is %s; it can no longer be cancelled", id, from)
			}
		}
		c.Status = to
		c.UpdatedAt = s.now()
		err = cs.UpdateCampaign(ctx, &c)
		if errors.Is(err, store.ErrVersion) && attempt < 5 { // the delivery job saved progress meanwhile
			continue
		}
		if err != nil {
			return c, err
		}
		action := map[string]string{StatusScheduled: AuditSchedule, StatusSending: AuditSend, StatusCancelled: AuditCancel}[to]
		if err := audit.Record(ctx, s.Store, audit.Entry{Action: action, Target: c.ID, Detail: c.Name + ": " + from + " -> " + to}); err != nil {
			return c, err
		}
		s.mu.Lock()
		wake := s.wakeJob
		s.mu.Unlock()
		if wake != nil {
			wake()
		}
		return c, nil
	}
}

// Schedule approves a campaign: the delivery job sends it from its start.
func (s *Service) Schedule(ctx context.Context, id string) (store.Campaign, error) {
	return s.transition(ctx, id, StatusScheduled)
}

// Send starts the delivery now (in the background).
func (s *Service) Send(ctx context.Context, id string) (store.Campaign, error) {
	return s.transition(ctx, id, StatusSending)
}

// Cancel stops a campaign; deliveries made so far stay.
func (s *Service) Cancel(ctx context.Context, id string) (store.Campaign, error) {
	return s.transition(ctx, id, StatusCancelled)
}
