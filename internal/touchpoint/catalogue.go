// Package touchpoint keeps the touchpoint catalogue, matches every event of
// the log to the touchpoint its rules name (first match wins), maintains
// incremental aggregates per touchpoint, segment and day, proposes
// touchpoints for events no rule matches, and computes the figures, the
// key-driver analysis and the importance–performance matrix (Martilla &
// James 1977) from those aggregates.
package touchpoint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/store"
)

// Vocabularies of the catalogue.
var (
	Channels = []string{"web", "app", "email", "letter", "phone", "chat", "store", "parcel", "invoice", "review_portal",
		"forum", "social", "event", "advertising", "field_service", "other"}
	Stages   = []string{"awareness", "consideration", "purchase", "delivery", "use", "service", "loyalty"}
	Media    = []string{"owned", "paid", "earned"}
	Statuses = []string{"active", "review", "retired"}
	Bases    = []string{"contact", "month"}
)

// Audit actions.
const (
	AuditCreate  = "touchpoint.create"
	AuditUpdate  = "touchpoint.update"
	AuditDelete  = "touchpoint.delete"
	AuditAccept  = "touchpoint.accept_proposal"
	AuditMerge   = "touchpoint.merge_proposal"
	AuditIgnore  = "touchpoint.ignore_proposal"
	AuditRebuild = "touchpoint.rebuild"
)

var (
	// ErrInvalid marks refused input; the error's text says why.
	ErrInvalid = errors.New("invalid input")
	// ErrNoTouchpoints: the store keeps no touchpoints.
	ErrNoTouchpoints = errors.New("this store keeps no touchpoints")
)

// InputError is refused input with the field it concerns.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string        { return e.Msg }
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Service is the touchpoint logic on a store.
type Service struct {
	Store store.Store
	Now   func() time.Time
	// SegmentTraits are the profile traits that make segments (nil:
	// DefaultSegmentTraits). Changing them needs a rebuild.
	SegmentTraits []string
	// ConversionDays is the window of conversion after contact (default 30).
	ConversionDays int
}

// TS returns the store's touchpoint part.
func (s *Service) TS() (store.TouchpointStore, error) {
	ts, ok := s.Store.(store.TouchpointStore)
	if !ok {
		return nil, ErrNoTouchpoints
	}
	return ts, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) conversionDays() int64 {
	if s.ConversionDays > 0 {
		return int64(s.ConversionDays)
	}
	return 30
}

// Input is a touchpoint as the API and the web form give it; nil fields
// stay as they are on update.
type Input struct {
	Name             *string                 `json:"name"`
	Description      *string                 `json:"description"`
	Channel          *string                 `json:"channel"`
	Stage            *string                 `json:"stage"`
	Media            *string                 `json:"media"`
	Department       *string                 `json:"department"`
	Cost             *float64                `json:"cost"` // in currency units
	CostBasis        *string                 `json:"costBasis"`
	Currency         *string                 `json:"currency"`
	Status           *string                 `json:"status"`
	Priority         *int                    `json:"priority"`
	Rules            *[]store.TouchpointRule `json:"rules"`
	ImportanceSurvey *string                 `json:"importanceSurvey"`
	Version          int64                   `json:"version"`
}

func oneOf(field, v string, list []string) error {
	if !slices.Contains(list, v) {
		return invalid(field, "%s %q: must be one of %s", field, v, strings.Join(list, ", "))
	}
	return nil
}

func text(field string, p *string, dst *string, min, max int) error {
	if p == nil {
		return nil
	}
	v := strings.TrimSpace(*p)
	if n := utf8.RuneCountInString(v); n < min || n > max {
		if min > 0 && n == 0 {
			return invalid(field, "%s is required", field)
		}
		return invalid(field, "%s: %d to %d characters", field, min, max)
	}
	*dst = v
	return nil
}

// ValidateRule checks one rule: at least one condition, sane lengths, a
// glob that compiles.
func ValidateRule(r *store.TouchpointRule) error {
	fields := []*string{&r.Source, &r.Type, &r.Event, &r.PathPrefix, &r.PathPattern, &r.Campaign, &r.Property, &r.Equals}
	set := false
	for _, f := range fields {
		*f = strings.TrimSpace(*f)
		if utf8.RuneCountInString(*f) > 300 {
			return invalid("rules", "rule condition longer than 300 characters")
		}
		if *f != "" {
			set = true
		}
	}
	if !set {
		return invalid("rules", "a rule needs at least one condition (source, type, event, pathPrefix, pathPattern, campaign, property)")
	}
	if r.Type != "" {
		r.Type = strings.ToLower(r.Type)
		if err := oneOf("rule type", r.Type, []string{"track", "page", "screen"}); err != nil {
			return err
		}
	}
	if r.PathPattern != "" {
		if _, err := path.Match(r.PathPattern, "/"); err != nil {
			return invalid("rules", "pathPattern %q: %v", r.PathPattern, err)
		}
	}
	if r.Equals != "" && r.Property == "" {
		return invalid("rules", "equals needs a property")
	}
	return nil
}

func (s *Service) apply(t *store.Touchpoint, in Input, create bool) error {
	if create && in.Name == nil {
		return invalid("name", "name is required")
	}
	if err := text("name", in.Name, &t.Name, 1, 120); err != nil {
		return err
	}
	if err := text("description", in.Description, &t.Description, 0, 2000); err != nil {
		return err
	}
	if err := text("department", in.Department, &t.Department, 0, 100); err != nil {
		return err
	}
	if err := text("importanceSurvey", in.ImportanceSurvey, &t.ImportanceSurvey, 0, 100); err != nil {
		return err
	}
	for _, f := range []struct {
		p    *string
		dst  *string
		name string
		list []string
		def  string
	}{{in.Channel, &t.Channel, "channel", Channels, "other"}, {in.Stage, &t.Stage, "stage", Stages, "service"},
		{in.Media, &t.Media, "media", Media, "owned"}, {in.Status, &t.Status, "status", Statuses, "active"},
		{in.CostBasis, &t.CostBasis, "costBasis", Bases, "contact"}} {
		if f.p != nil {
			v := strings.ToLower(strings.TrimSpace(*f.p))
			if f.name == "channel" {
				v = strings.ReplaceAll(strings.ReplaceAll(v, " ", "_"), "-", "")
			}
			if err := oneOf(f.name, v, f.list); err != nil {
				return err
			}
			*f.dst = v
		} else if *f.dst == "" {
			*f.dst = f.def
		}
	}
	if in.Currency != nil {
		c := strings.ToUpper(strings.TrimSpace(*in.Currency))
		if c != "" && len(c) != 3 {
			return invalid("currency", "currency %q: a three-letter code such as EUR", c)
		}
		t.Currency = c
	}
	if t.Currency == "" {
		t.Currency = "EUR"
	}
	if in.Cost != nil {
		if *in.Cost < 0 || *in.Cost > 1e9 {
			return invalid("cost", "cost must be between 0 and 1,000,000,000")
		}
		t.CostMicros = int64(*in.Cost*1e6 + 0.5)
	}
	if in.Priority != nil {
		if *in.Priority < -1000000 || *in.Priority > 1000000 {
			return invalid("priority", "priority must be between -1000000 and 1000000")
		}
		t.Priority = *in.Priority
	}
	if in.Rules != nil {
		rules := slices.Clone(*in.Rules)
		if len(rules) > 50 {
			return invalid("rules", "at most 50 rules per touchpoint")
		}
		for i := range rules {
			if err := ValidateRule(&rules[i]); err != nil {
				return err
			}
		}
		t.Rules = rules
	}
	if t.Rules == nil {
		t.Rules = []store.TouchpointRule{}
	}
	return nil
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return "tp_" + hex.EncodeToString(b[:])
}

// Create adds a touchpoint; if it has rules, the log is matched again.
func (s *Service) Create(ctx context.Context, in Input, actor string) (store.Touchpoint, error) {
	ts, err := s.TS()
	if err != nil {
		return store.Touchpoint{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	t := store.Touchpoint{ID: newID(), CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(&t, in, true); err != nil {
		return store.Touchpoint{}, err
	}
	if err := ts.CreateTouchpoint(ctx, t); err != nil {
		return store.Touchpoint{}, err
	}
	t.Version = 1
	if len(t.Rules) > 0 {
		if _, err := ts.RequestTouchpointRebuild(ctx); err != nil {
			return t, err
		}
	}
	return t, nil
}

// Update changes the given fields; in.Version must be the stored version.
// A change of rules or order starts a rebuild.
func (s *Service) Update(ctx context.Context, id string, in Input) (store.Touchpoint, error) {
	ts, err := s.TS()
	if err != nil {
		return store.Touchpoint{}, err
	}
	t, err := ts.TouchpointByID(ctx, id)
	if err != nil {
		return t, err
	}
	if in.Version != 0 && in.Version != t.Version {
		return t, fmt.Errorf("touchpoint %s was changed by someone else meanwhile (version %d, not %d); reload it: %w", id, t.Version, in.Version, store.ErrConflict)
	}
	before := fmt.Sprintf("%d %v %s", t.Priority, t.Rules, t.Name)
	if err := s.apply(&t, in, false); err != nil {
		return store.Touchpoint{}, err
	}
	t.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	if err := ts.UpdateTouchpoint(ctx, t); err != nil {
		return t, err
	}
	t.Version++
	if before != fmt.Sprintf("%d %v %s", t.Priority, t.Rules, t.Name) {
		if _, err := ts.RequestTouchpointRebuild(ctx); err != nil {
			return t, err
		}
	}
	return t, nil
}

// Delete removes a touchpoint and matches the log again. Retiring it (status
// retired) keeps its history; deleting forgets it.
func (s *Service) Delete(ctx context.Context, id string) error {
	ts, err := s.TS()
	if err != nil {
		return err
	}
	if err := ts.DeleteTouchpoint(ctx, id); err != nil {
		return err
	}
	_, err = ts.RequestTouchpointRebuild(ctx)
	return err
}

// Get returns one touchpoint.
func (s *Service) Get(ctx context.Context, id string) (store.Touchpoint, error) {
	ts, err := s.TS()
	if err != nil {
		return store.Touchpoint{}, err
	}
	return ts.TouchpointByID(ctx, id)
}

// List returns the catalogue in matching order.
func (s *Service) List(ctx context.Context) ([]store.Touchpoint, error) {
	ts, err := s.TS()
	if err != nil {
		return nil, err
	}
	l, err := ts.Touchpoints(ctx)
	if l == nil {
		l = []store.Touchpoint{}
	}
	return l, err
}

// Rebuild asks the consumer to match the whole log again.
func (s *Service) Rebuild(ctx context.Context) (int64, error) {
	ts, err := s.TS()
	if err != nil {
		return 0, err
	}
	return ts.RequestTouchpointRebuild(ctx)
}

// Progress says how far the consumer is.
type Progress struct {
	Cursor     int64   `json:"cursor"`
	Target     int64   `json:"target"`     // the log position the figures must reach
	Rebuilding bool    `json:"rebuilding"` // a rebuild is asked for or under way
	Percent    float64 `json:"percent"`    // of the way from 0 (rebuild) or the cursor to Target
}

// Progress reads the consumer's state against the pipeline's position.
func (s *Service) Progress(ctx context.Context) (Progress, error) {
	ts, err := s.TS()
	if err != nil {
		return Progress{}, err
	}
	st, err := ts.TouchpointState(ctx)
	if err != nil {
		return Progress{}, err
	}
	done, err := s.Store.Cursor(ctx, pipelineCursor)
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Cursor: st.Cursor, Target: done, Rebuilding: st.Generation != st.Built || (st.Target > 0 && st.Cursor < st.Target)}
	if done > 0 {
		p.Percent = 100 * float64(min(st.Cursor, done)) / float64(done)
	} else {
		p.Percent = 100
	}
	if st.Generation != st.Built {
		p.Percent = 0
	}
	return p, nil
}
