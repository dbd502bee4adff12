package cases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/text"
)

// Notice tells hooks about a stored change: Action is "created",
// "updated", "assigned", "status", "solved", "rejected", "merged",
// "reopened", "note", "attachment", "warning" or "escalated".
type Notice struct {
	Action string
	Case   Case
	Change Change
}

// Service is the capability: every change of a case goes through it.
type Service struct {
	Store store.Store
	Clock Clock
	Log   *slog.Logger
	// Timeline: write "Case Opened", "Case Solved", ... track events into
	// the log (source "Kunding cases"), so cases show on the customer's
	// timeline.
	Timeline bool

	cs     store.CaseStore
	cfg    config
	hookMu sync.RWMutex
	hooks  []func(ctx context.Context, n Notice)
}

// AddHook adds a function that runs after every stored change (webhooks,
// notifications), in the goroutine that made the change: it must not block
// for long. Safe to call while the service is in use.
func (s *Service) AddHook(fn func(ctx context.Context, n Notice)) {
	s.hookMu.Lock()
	s.hooks = append(s.hooks, fn)
	s.hookMu.Unlock()
}

// New returns the service on st, which must implement store.CaseStore.
func New(st store.Store, clock Clock) (*Service, error) {
	cs, ok := st.(store.CaseStore)
	if !ok {
		return nil, fmt.Errorf("cases: store %T has no case storage", st)
	}
	if clock == nil {
		clock = SystemClock{}
	}
	return &Service{Store: st, Clock: clock, Log: slog.Default(), cs: cs}, nil
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) notify(ctx context.Context, action string, c Case, ch Change) {
	s.hookMu.RLock()
	hooks := s.hooks
	s.hookMu.RUnlock()
	for _, h := range hooks {
		h(ctx, Notice{Action: action, Case: c, Change: ch})
	}
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return "case_" + hex.EncodeToString(b[:])
}

// NewCase is what Create needs. Department, Owner and Priority are
// optional: routing fills what is not given.
type NewCase struct {
	CustomerID  string             `json:"customerId"`
	Contact     string             `json:"contact"`
	Type        string             `json:"type"`
	Channel     string             `json:"channel"`
	Touchpoint  string             `json:"touchpoint"`
	Priority    string             `json:"priority"`
	Department  string             `json:"department"`
	Owner       string             `json:"owner"`
	Subject     string             `json:"subject"`
	Description string             `json:"description"`
	Theme       string             `json:"theme"`
	Themes      []string           `json:"themes"`
	Language    string             `json:"language"`
	Sentiment   string             `json:"sentiment"`
	Attachments []store.Attachment `json:"attachments"`
	// Set by Kunding, not by API callers.
	Origin  string             `json:"-"`
	Sources []store.CaseSource `json:"-"`
	Key     string             `json:"-"` // idempotency key
}

func clean(what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return "", invalidf("%s: at most %d characters of valid UTF-8", what, max)
	}
	return s, nil
}

func (s *Service) checkOwner(ctx context.Context, owner string) error {
	if owner == "" {
		return nil
	}
	u, err := s.Store.UserByID(ctx, owner)
	if errors.Is(err, store.ErrNotFound) {
		return invalidf("owner %q: no such user", owner)
	}
	if err != nil {
		return err
	}
	if u.Disabled {
		return invalidf("owner %q: the user is disabled", owner)
	}
	return nil
}

func (s *Service) value(ctx context.Context, customerID string) Value {
	var v Value
	if customerID == "" {
		return v
	}
	if p, err := s.Store.Customer(ctx, customerID); err == nil {
		v.Known, v.Revenue = true, p.Revenue()
	}
	if ps, ok := s.Store.(store.PredictionStore); ok {
		if pr, err := ps.Prediction(ctx, customerID); err == nil {
			v.Predicted, v.CLV, v.CLVPercentile = true, pr.CLV, pr.CLVPercentile
		}
	}
	return v
}

// Create validates, routes and stores a new case, with deadlines from its
// SLA policy, and suggests merging it into an open case of the same
// customer on the same topic. A case with a Key that exists already is not
// created again: the existing case is returned with store.ErrConflict.
func (s *Service) Create(ctx context.Context, n NewCase) (Case, error) {
	var err error
	c := Case{Origin: n.Origin, Sources: n.Sources, Attachments: n.Attachments}
	if c.Origin == "" {
		c.Origin = "api"
	}
	if c.Type = strings.ToLower(strings.TrimSpace(n.Type)); !slices.Contains(Types, c.Type) {
		return Case{}, invalidf("type %q: want one of %s", n.Type, strings.Join(Types, ", "))
	}
	if n.Priority != "" && !slices.Contains(Priorities, n.Priority) {
		return Case{}, invalidf("priority %q: want one of %s", n.Priority, strings.Join(Priorities, ", "))
	}
	for _, f := range []struct {
		dst  *string
		what string
		val  string
		max  int
	}{{&c.Channel, "channel", strings.ToLower(n.Channel), 50}, {&c.Touchpoint, "touchpoint", n.Touchpoint, 200},
		{&c.Subject, "subject", n.Subject, 300}, {&c.Description, "description", n.Description, 20000},
		{&c.Theme, "theme", n.Theme, 100}, {&c.Language, "language", n.Language, 10}, {&c.Sentiment, "sentiment", n.Sentiment, 20},
		{&c.Contact, "contact", n.Contact, 300}} {
		if *f.dst, err = clean(f.what, f.val, f.max); err != nil {
			return Case{}, err
		}
	}
	if c.Channel == "" {
		c.Channel = "other"
	}
	if c.Subject == "" {
		c.Subject = firstWords(c.Description, 80)
	}
	if c.Subject == "" {
		return Case{}, invalidf("subject or description is required")
	}
	for _, t := range n.Themes {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(c.Themes, t) && len(c.Themes) < 20 {
			c.Themes = append(c.Themes, t)
		}
	}
	if len(c.Attachments) > 50 {
		return Case{}, invalidf("attachments: at most 50")
	}
	for i := range c.Attachments {
		if err := checkAttachment(&c.Attachments[i]); err != nil {
			return Case{}, err
		}
	}
	// Text analytics fills what the caller did not say.
	if c.Language == "" || c.Sentiment == "" || len(c.Themes) == 0 {
		a := text.Analyze(strings.TrimSpace(c.Subject + ". " + c.Description))
		if c.Language == "" {
			c.Language = a.Language
		}
		if c.Sentiment == "" {
			c.Sentiment = a.Sentiment
		}
		if len(c.Themes) == 0 {
			c.Themes = a.Themes
		}
	}
	if c.Theme == "" && len(c.Themes) > 0 {
		c.Theme = c.Themes[0]
	}
	if c.Theme != "" && !slices.Contains(c.Themes, c.Theme) {
		c.Themes = append([]string{c.Theme}, c.Themes...)
	}
	if n.CustomerID != "" {
		p, err := s.Store.Customer(ctx, n.CustomerID)
		if errors.Is(err, store.ErrNotFound) {
			return Case{}, invalidf("customer %q does not exist", n.CustomerID)
		}
		if err != nil {
			return Case{}, err
		}
		c.CustomerID = p.CustomerID
	}
	if c.CustomerID == "" && c.Contact == "" {
		return Case{}, invalidf("customerId or contact is required: whose case is it?")
	}
	dept, err := clean("department", n.Department, 100)
	if err != nil {
		return Case{}, err
	}
	if err := s.checkOwner(ctx, n.Owner); err != nil {
		return Case{}, err
	}
	routing, sla, _, err := s.load(ctx)
	if err != nil {
		return Case{}, err
	}
	var v Value
	if routing.usesValue() {
		v = s.value(ctx, c.CustomerID)
	}
	c.Priority = n.Priority
	d := routing.Route(&c, v, Action{Department: dept, Owner: n.Owner, Priority: n.Priority})
	c.Department, c.Owner, c.Priority = d.Department, d.Owner, d.Priority
	if c.Priority == "" {
		c.Priority = PriorityNormal
	}
	now := s.now()
	c.ID = newID()
	c.Status = StatusNew
	c.CreatedBy = audit.ActorFrom(ctx)
	c.CreatedAt, c.UpdatedAt, c.ClockStart = now, now, now
	for i := range c.Attachments {
		c.Attachments[i].AddedBy, c.Attachments[i].AddedAt = c.CreatedBy, now
	}
	sla.applyPolicy(&c)
	actor := c.CreatedBy
	hist := []Change{
		{CaseID: c.ID, At: now, Actor: actor, Action: "created", After: map[string]string{
			"type": c.Type, "channel": c.Channel, "touchpoint": c.Touchpoint, "subject": c.Subject, "status": c.Status,
			"customerId": c.CustomerID, "contact": c.Contact, "origin": c.Origin, "theme": c.Theme}},
		{CaseID: c.ID, At: now, Actor: actor, Action: "routed", After: map[string]string{
			"department": c.Department, "owner": c.Owner, "priority": c.Priority}, Reason: strings.Join(d.Reasons, "; ")},
		{CaseID: c.ID, At: now, Actor: actor, Action: "deadlines", After: deadlines(&c),
			Reason: fmt.Sprintf("SLA policy %s, calendar %s", c.Policy, c.Calendar)},
	}
	if c.Description != "" {
		hist[0].Note = c.Description
	}
	var keys []string
	if n.Key != "" {
		keys = []string{n.Key}
	}
	if err := s.cs.InsertCase(ctx, c, keys, hist); err != nil {
		if errors.Is(err, store.ErrConflict) && n.Key != "" {
			old, gerr := s.cs.CaseByKey(ctx, n.Key)
			if gerr == nil {
				return old, err
			}
		}
		return Case{}, err
	}
	c.Version = 0
	s.suggestMerges(ctx, &c)
	s.notify(ctx, "created", c, hist[0])
	s.emit(ctx, &c, "Case Opened", nil)
	return c, nil
}

func deadlines(c *Case) map[string]string {
	m := map[string]string{"policy": c.Policy, "resolutionDue": c.ResolutionDue.Format(time.RFC3339)}
	if c.FirstResponseAt.IsZero() {
		m["firstResponseDue"] = c.FirstResponseDue.Format(time.RFC3339)
	}
	return m
}

func firstWords(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max]
	if i := strings.LastIndexByte(string(r), ' '); i > max/2 {
		return string(r)[:i] + " …"
	}
	return string(r) + "…"
}

func checkAttachment(a *store.Attachment) error {
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" || utf8.RuneCountInString(a.Name) > 255 || !utf8.ValidString(a.Name) {
		return invalidf("attachment: name is required (at most 255 characters)")
	}
	if a.Size < 0 || len(a.ContentType) > 100 || len(a.URL) > 2000 {
		return invalidf("attachment %s: size must not be negative, contentType at most 100 and url at most 2000 characters", a.Name)
	}
	if a.URL != "" && !strings.HasPrefix(a.URL, "https://") && !strings.HasPrefix(a.URL, "http://") {
		return invalidf("attachment %s: url must start with https:// or http://", a.Name)
	}
	return nil
}

// topics returns the themes of a case, main theme first.
func topics(c *Case) []string {
	var out []string
	if c.Theme != "" {
		out = append(out, c.Theme)
	}
	for _, t := range c.Themes {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// sameTopic reports whether two cases are about the same thing: a shared
// theme, or (when neither has a theme) the same type at the same touchpoint.
func sameTopic(a, b *Case) (string, bool) {
	ta, tb := topics(a), topics(b)
	for _, t := range ta {
		if slices.Contains(tb, t) {
			return "theme " + t, true
		}
	}
	if len(ta) == 0 && len(tb) == 0 && a.Type == b.Type && a.Touchpoint != "" && strings.EqualFold(a.Touchpoint, b.Touchpoint) {
		return "type " + a.Type + " at touchpoint " + a.Touchpoint, true
	}
	return "", false
}

// suggestMerges stores a suggestion to merge c into each older open case
// of the same customer on the same topic. It never merges by itself.
func (s *Service) suggestMerges(ctx context.Context, c *Case) {
	if c.CustomerID == "" {
		return
	}
	others, err := s.cs.Cases(ctx, store.CaseFilter{CustomerIDs: []string{c.CustomerID}, Open: true, Limit: 100})
	if err != nil {
		s.Log.Warn("cases: duplicate check", "case", c.ID, "err", err)
		return
	}
	for i := range others {
		o := &others[i]
		if o.ID == c.ID {
			continue
		}
		why, ok := sameTopic(c, o)
		if !ok {
			continue
		}
		reason := "same customer, open case " + o.ID + " on the same topic (" + why + ")"
		now := s.now()
		if err := s.cs.SaveMergeSuggestion(ctx, store.MergeSuggestion{CaseID: c.ID, TargetID: o.ID, Reason: reason, Status: "open", CreatedAt: now}); err != nil {
			s.Log.Warn("cases: save merge suggestion", "case", c.ID, "err", err)
			return
		}
		h := Change{CaseID: c.ID, At: now, Actor: audit.SystemActor, Action: "merge_suggested", After: map[string]string{"target": o.ID}, Reason: reason}
		if err := s.cs.AppendCaseHistory(ctx, []Change{h}); err != nil {
			s.Log.Warn("cases: history", "case", c.ID, "err", err)
		}
	}
}

// Get returns a case.
func (s *Service) Get(ctx context.Context, id string) (Case, error) { return s.cs.Case(ctx, id) }

// History returns a case's history, oldest first.
func (s *Service) History(ctx context.Context, id string) ([]Change, error) {
	if _, err := s.cs.Case(ctx, id); err != nil {
		return nil, err
	}
	return s.cs.CaseHistory(ctx, id)
}

// List returns cases by filter.
func (s *Service) List(ctx context.Context, f store.CaseFilter) ([]Case, error) {
	return s.cs.Cases(ctx, f)
}

// Count counts cases by filter.
func (s *Service) Count(ctx context.Context, f store.CaseFilter) (int, error) {
	return s.cs.CountCases(ctx, f)
}

// Suggestions returns the merge suggestions a case is part of.
func (s *Service) Suggestions(ctx context.Context, id string) ([]store.MergeSuggestion, error) {
	return s.cs.MergeSuggestions(ctx, id)
}

// DismissSuggestion marks a merge suggestion as dismissed.
func (s *Service) DismissSuggestion(ctx context.Context, caseID, targetID string) error {
	if err := s.cs.SetMergeSuggestionStatus(ctx, caseID, targetID, "dismissed"); err != nil {
		return err
	}
	return s.cs.AppendCaseHistory(ctx, []Change{{CaseID: caseID, At: s.now(), Actor: audit.ActorFrom(ctx), Action: "merge_dismissed",
		After: map[string]string{"target": targetID}}})
}

// CustomerCases returns the cases of a customer and of the customers
// merged into it (open ones only if open).
func (s *Service) CustomerCases(ctx context.Context, customerID string, open bool) ([]Case, error) {
	p, err := s.Store.Customer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	ids := []string{p.CustomerID}
	if customerID != p.CustomerID {
		ids = append(ids, customerID)
	}
	for i := 0; i < len(ids) && i < 100; i++ {
		ms, err := s.Store.Merges(ctx, ids[i])
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if !slices.Contains(ids, m.From) {
				ids = append(ids, m.From)
			}
		}
	}
	return s.cs.Cases(ctx, store.CaseFilter{CustomerIDs: ids, Open: open})
}

// load returns the case and checks the version the caller read.
func (s *Service) loadVersion(ctx context.Context, id string, version int64) (Case, error) {
	c, err := s.cs.Case(ctx, id)
	if err != nil {
		return c, err
	}
	if version != c.Version {
		return c, fmt.Errorf("case %s: you read version %d, it is now %d: %w", id, version, c.Version, store.ErrVersion)
	}
	return c, nil
}

// Patch holds the fields Update changes; nil fields stay.
type Patch struct {
	CustomerID  *string   `json:"customerId"`
	Contact     *string   `json:"contact"`
	Type        *string   `json:"type"`
	Channel     *string   `json:"channel"`
	Touchpoint  *string   `json:"touchpoint"`
	Priority    *string   `json:"priority"`
	Subject     *string   `json:"subject"`
	Description *string   `json:"description"`
	Theme       *string   `json:"theme"`
	Themes      *[]string `json:"themes"`
	Language    *string   `json:"language"`
}

// Update changes fields of a case read at version. A changed type or
// priority recomputes the deadlines by the new SLA policy.
func (s *Service) Update(ctx context.Context, id string, version int64, p Patch, reason string) (Case, error) {
	c, err := s.loadVersion(ctx, id, version)
	if err != nil {
		return c, err
	}
	if c.Status == StatusMerged {
		return c, fmt.Errorf("case %s is merged into %s and cannot change: %w", c.ID, c.MergedInto, ErrTransition)
	}
	before, after := map[string]string{}, map[string]string{}
	set := func(name string, dst *string, val *string, max int) error {
		if val == nil {
			return nil
		}
		v, err := clean(name, *val, max)
		if err != nil {
			return err
		}
		if v != *dst {
			before[name], after[name] = *dst, v
			*dst = v
		}
		return nil
	}
	if p.Type != nil && !slices.Contains(Types, *p.Type) {
		return c, invalidf("type %q: want one of %s", *p.Type, strings.Join(Types, ", "))
	}
	if p.Priority != nil && !slices.Contains(Priorities, *p.Priority) {
		return c, invalidf("priority %q: want one of %s", *p.Priority, strings.Join(Priorities, ", "))
	}
	if p.Subject != nil && strings.TrimSpace(*p.Subject) == "" {
		return c, invalidf("subject must not be empty")
	}
	if p.CustomerID != nil && *p.CustomerID != "" {
		cu, err := s.Store.Customer(ctx, *p.CustomerID)
		if errors.Is(err, store.ErrNotFound) {
			return c, invalidf("customer %q does not exist", *p.CustomerID)
		}
		if err != nil {
			return c, err
		}
		id := cu.CustomerID
		p.CustomerID = &id
	}
	for _, f := range []struct {
		name string
		dst  *string
		val  *string
		max  int
	}{{"customerId", &c.CustomerID, p.CustomerID, 100}, {"contact", &c.Contact, p.Contact, 300}, {"type", &c.Type, p.Type, 20},
		{"channel", &c.Channel, p.Channel, 50}, {"touchpoint", &c.Touchpoint, p.Touchpoint, 200}, {"priority", &c.Priority, p.Priority, 20},
		{"subject", &c.Subject, p.Subject, 300}, {"description", &c.Description, p.Description, 20000}, {"theme", &c.Theme, p.Theme, 100},
		{"language", &c.Language, p.Language, 10}} {
		if err := set(f.name, f.dst, f.val, f.max); err != nil {
			return c, err
		}
	}
	if p.Themes != nil {
		var ts []string
		for _, t := range *p.Themes {
			if t = strings.TrimSpace(t); t != "" && !slices.Contains(ts, t) {
				ts = append(ts, t)
			}
		}
		if strings.Join(ts, ",") != strings.Join(c.Themes, ",") {
			before["themes"], after["themes"] = strings.Join(c.Themes, ","), strings.Join(ts, ",")
			c.Themes = ts
		}
	}
	if c.CustomerID == "" && c.Contact == "" {
		return c, invalidf("customerId or contact is required: whose case is it?")
	}
	if len(after) == 0 {
		return c, nil
	}
	now := s.now()
	hist := []Change{{CaseID: c.ID, At: now, Actor: audit.ActorFrom(ctx), Action: "updated", Before: before, After: after, Reason: reason}}
	if _, ok := after["type"]; ok || after["priority"] != "" {
		_, sla, _, err := s.load(ctx)
		if err != nil {
			return c, err
		}
		if !Finished(c.Status) {
			old := deadlines(&c)
			frDue := c.FirstResponseDue
			sla.applyPolicy(&c)
			if !c.FirstResponseAt.IsZero() {
				c.FirstResponseDue = frDue
			}
			hist = append(hist, Change{CaseID: c.ID, At: now, Actor: audit.ActorFrom(ctx), Action: "deadlines", Before: old, After: deadlines(&c),
				Reason: fmt.Sprintf("type or priority changed: SLA policy %s, calendar %s", c.Policy, c.Calendar)})
		}
	}
	c.UpdatedAt = now
	if err := s.cs.UpdateCases(ctx, []*Case{&c}, hist); err != nil {
		return c, err
	}
	s.notify(ctx, "updated", c, hist[0])
	return c, nil
}

// Assign hands a case to a department and owner (owner "" : the
// department's queue). A new department counts as a hand-off.
func (s *Service) Assign(ctx context.Context, id string, version int64, department, owner, reason string) (Case, error) {
	c, err := s.loadVersion(ctx, id, version)
	if err != nil {
		return c, err
	}
	if c.Status == StatusMerged {
		return c, fmt.Errorf("case %s is merged into %s: %w", c.ID, c.MergedInto, ErrTransition)
	}
	if department, err = clean("department", department, 100); err != nil {
		return c, err
	}
	if department == "" {
		department = c.Department
	}
	if err := s.checkOwner(ctx, owner); err != nil {
		return c, err
	}
	if department == c.Department && owner == c.Owner {
		return c, nil
	}
	now := s.now()
	h := Change{CaseID: c.ID, At: now, Actor: audit.ActorFrom(ctx), Action: "assigned",
		Before: map[string]string{"department": c.Department, "owner": c.Owner},
		After:  map[string]string{"department": department, "owner": owner}, Reason: strings.TrimSpace(reason)}
	if department != c.Department {
		c.Handoffs++
	}
	c.Department, c.Owner, c.UpdatedAt = department, owner, now
	if err := s.cs.UpdateCases(ctx, []*Case{&c}, []Change{h}); err != nil {
		return c, err
	}
	s.notify(ctx, "assigned", c, h)
	return c, nil
}

// Move is a status change.
type Move struct {
	Version    int64  `json:"version"`
	Status     string `json:"status"`
	Note       string `json:"note"`       // optional comment
	Resolution string `json:"resolution"` // required to solve
	Reason     string `json:"reason"`     // required to reject
	MergeInto  string `json:"mergeInto"`  // required to merge
}

// Transition moves a case to another status, if the status machine allows
// it: solving needs a resolution note, rejecting a reason, merging a target
// case. Waiting for the customer pauses the resolution clock.
func (s *Service) Transition(ctx context.Context, id string, m Move) (Case, error) {
	c, err := s.loadVersion(ctx, id, m.Version)
	if err != nil {
		return c, err
	}
	to := strings.TrimSpace(m.Status)
	if !slices.Contains(Statuses, to) {
		return c, invalidf("status %q: want one of %s", m.Status, strings.Join(Statuses, ", "))
	}
	if !CanMove(c.Status, to) {
		allowed := Allowed(c.Status)
		if len(allowed) == 0 {
			allowed = []string{"none"}
		}
		return c, fmt.Errorf("case %s: from %s to %s is not allowed (allowed: %s): %w", c.ID, c.Status, to, strings.Join(allowed, ", "), ErrTransition)
	}
	for _, f := range []*string{&m.Note, &m.Resolution, &m.Reason} {
		if *f, err = clean("note", *f, 20000); err != nil {
			return c, err
		}
	}
	if to == StatusSolved && m.Resolution == "" {
		return c, invalidf("solving a case requires a resolution note (resolution)")
	}
	if to == StatusRejected && m.Reason == "" {
		return c, invalidf("rejecting a case requires a reason (reason)")
	}
	var target *Case
	if to == StatusMerged {
		if m.MergeInto == "" {
			return c, invalidf("merging a case requires the case to merge into (mergeInto)")
		}
		if m.MergeInto == c.ID {
			return c, invalidf("a case cannot be merged into itself")
		}
		t, err := s.cs.Case(ctx, m.MergeInto)
		if errors.Is(err, store.ErrNotFound) {
			return c, invalidf("mergeInto: case %q does not exist", m.MergeInto)
		}
		if err != nil {
			return c, err
		}
		if t.Status == StatusMerged {
			return c, invalidf("mergeInto: case %s is itself merged into %s; merge into that one", t.ID, t.MergedInto)
		}
		target = &t
	}
	_, sla, _, err := s.load(ctx)
	if err != nil {
		return c, err
	}
	cal := sla.CalendarOf(c.Calendar)
	now := s.now()
	actor := audit.ActorFrom(ctx)
	from := c.Status
	h := Change{CaseID: c.ID, At: now, Actor: actor, Action: "status", Before: map[string]string{"status": from},
		After: map[string]string{"status": to}, Note: m.Note}
	hist := []Change{}
	// Leaving "waiting for customer" restarts the clock; the paused business
	// time moves the resolution deadline.
	if from == StatusWaitingCustomer {
		paused := cal.Between(c.WaitingSince, now)
		c.PausedMS += paused.Milliseconds()
		c.WaitingSince = time.Time{}
		if !Finished(to) {
			old := c.ResolutionDue
			c.ResolutionDue = cal.Add(c.ClockStart, hours(sla.Policy(c.Policy).ResolutionHours)+time.Duration(c.PausedMS)*time.Millisecond)
			h.Before["resolutionDue"], h.After["resolutionDue"] = old.Format(time.RFC3339), c.ResolutionDue.Format(time.RFC3339)
			h.Reason = fmt.Sprintf("clock paused for %s of business time while waiting for the customer", paused.Round(time.Minute))
		}
	}
	if c.FirstResponseAt.IsZero() && (to == StatusWaitingCustomer || Finished(to)) {
		c.FirstResponseAt = now
		h.After["firstResponseAt"] = now.Format(time.RFC3339)
	}
	action := "status"
	switch to {
	case StatusWaitingCustomer:
		c.WaitingSince, c.Waited = now, true
	case StatusWaitingDepartment:
		c.Waited = true
	case StatusSolved:
		c.SolvedAt, c.ClosedAt, c.Resolution = now, now, m.Resolution
		h.After["resolution"] = m.Resolution
		action = "solved"
	case StatusRejected:
		c.ClosedAt, c.RejectReason = now, m.Reason
		h.Reason = m.Reason
		action = "rejected"
	case StatusMerged:
		c.ClosedAt, c.MergedInto = now, target.ID
		h.After["mergedInto"] = target.ID
		action = "merged"
	case StatusOpen:
		if Finished(from) {
			// Reopened: the resolution clock starts again.
			c.Reopened++
			c.ClockStart, c.PausedMS, c.ClosedAt = now, 0, time.Time{}
			c.EscalationLevel, c.WarnedResolution = 0, false
			old := deadlines(&c)
			p := sla.PolicyFor(c.Type, c.Priority)
			c.Policy = p.Name
			c.ResolutionDue = cal.Add(now, hours(p.ResolutionHours))
			action = "reopened"
			hist = append(hist, Change{CaseID: c.ID, At: now, Actor: actor, Action: "deadlines", Before: old, After: deadlines(&c),
				Reason: "reopened: the resolution clock starts again"})
		}
	}
	c.Status, c.UpdatedAt = to, now
	hist = append([]Change{h}, hist...)
	cs := []*Case{&c}
	if target != nil {
		target.Sources = append(target.Sources, c.Sources...)
		target.Attachments = append(target.Attachments, c.Attachments...)
		target.UpdatedAt = now
		hist = append(hist, Change{CaseID: target.ID, At: now, Actor: actor, Action: "merged_in", After: map[string]string{"case": c.ID},
			Note: m.Note})
		cs = append(cs, target)
	}
	if err := s.cs.UpdateCases(ctx, cs, hist); err != nil {
		return c, err
	}
	if target != nil {
		if err := s.cs.SetMergeSuggestionStatus(ctx, c.ID, target.ID, "accepted"); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.Log.Warn("cases: suggestion status", "case", c.ID, "err", err)
		}
	}
	s.notify(ctx, action, c, h)
	switch action {
	case "solved":
		s.emit(ctx, &c, "Case Solved", map[string]any{"resolution": c.Resolution})
	case "rejected":
		s.emit(ctx, &c, "Case Rejected", nil)
	case "merged":
		s.emit(ctx, &c, "Case Merged", map[string]any{"mergedInto": c.MergedInto})
	case "reopened":
		s.emit(ctx, &c, "Case Reopened", nil)
	}
	return c, nil
}

// Merge merges case id into another (a status change to merged).
func (s *Service) Merge(ctx context.Context, id string, version int64, into, note string) (Case, error) {
	return s.Transition(ctx, id, Move{Version: version, Status: StatusMerged, MergeInto: into, Note: note})
}

// AddNote adds a note to a case. A public note is an answer to the
// customer: the first one is the case's first response. Notes never
// conflict with other changes (they are retried on a version clash).
func (s *Service) AddNote(ctx context.Context, id, note string, public bool) (Change, error) {
	note, err := clean("note", note, 20000)
	if err != nil {
		return Change{}, err
	}
	if note == "" {
		return Change{}, invalidf("note: text is required")
	}
	for try := 0; ; try++ {
		c, err := s.cs.Case(ctx, id)
		if err != nil {
			return Change{}, err
		}
		now := s.now()
		h := Change{CaseID: c.ID, At: now, Actor: audit.ActorFrom(ctx), Action: "note", Note: note, Public: public}
		if public && c.FirstResponseAt.IsZero() && !Finished(c.Status) {
			c.FirstResponseAt, c.UpdatedAt = now, now
			h.After = map[string]string{"firstResponseAt": now.Format(time.RFC3339)}
			err = s.cs.UpdateCases(ctx, []*Case{&c}, []Change{h})
		} else {
			err = s.cs.AppendCaseHistory(ctx, []Change{h})
		}
		if errors.Is(err, store.ErrVersion) && try < 5 {
			continue
		}
		if err != nil {
			return Change{}, err
		}
		s.notify(ctx, "note", c, h)
		return h, nil
	}
}

// AddAttachment adds the metadata of an attachment to a case.
func (s *Service) AddAttachment(ctx context.Context, id string, a store.Attachment) (Case, error) {
	if err := checkAttachment(&a); err != nil {
		return Case{}, err
	}
	for try := 0; ; try++ {
		c, err := s.cs.Case(ctx, id)
		if err != nil {
			return c, err
		}
		if len(c.Attachments) >= 200 {
			return c, invalidf("attachments: at most 200 per case")
		}
		now := s.now()
		a.AddedBy, a.AddedAt = audit.ActorFrom(ctx), now
		c.Attachments = append(c.Attachments, a)
		c.UpdatedAt = now
		h := Change{CaseID: c.ID, At: now, Actor: a.AddedBy, Action: "attachment", After: map[string]string{"name": a.Name,
			"contentType": a.ContentType, "size": strconv.FormatInt(a.Size, 10), "url": a.URL}}
		err = s.cs.UpdateCases(ctx, []*Case{&c}, []Change{h})
		if errors.Is(err, store.ErrVersion) && try < 5 {
			continue
		}
		if err != nil {
			return c, err
		}
		s.notify(ctx, "attachment", c, h)
		return c, nil
	}
}

// Overview counts the open cases per department: new, unassigned,
// overdue, escalated (level 1 and 2), waiting for the customer.
type Overview struct {
	Department  string `json:"department"`
	Open        int    `json:"open"`
	New         int    `json:"new"`
	Unassigned  int    `json:"unassigned"`
	Overdue     int    `json:"overdue"`
	Escalated   int    `json:"escalated"`
	EscalatedTo int    `json:"escalatedToCco"`
	Waiting     int    `json:"waitingForCustomer"`
}

// Overview returns the open cases per department (the CCO's overview and
// the boards' counters).
func (s *Service) Overview(ctx context.Context) ([]Overview, error) {
	open, err := s.cs.Cases(ctx, store.CaseFilter{Open: true})
	if err != nil {
		return nil, err
	}
	now := s.now()
	by := map[string]*Overview{}
	for i := range open {
		c := &open[i]
		o := by[c.Department]
		if o == nil {
			o = &Overview{Department: c.Department}
			by[c.Department] = o
		}
		o.Open++
		if c.Status == StatusNew {
			o.New++
		}
		if c.Owner == "" {
			o.Unassigned++
		}
		if Overdue(c, now) {
			o.Overdue++
		}
		if c.EscalationLevel > 0 {
			o.Escalated++
		}
		if c.EscalationLevel > 1 {
			o.EscalatedTo++
		}
		if c.Status == StatusWaitingCustomer {
			o.Waiting++
		}
	}
	out := make([]Overview, 0, len(by))
	for _, o := range by {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Department < out[j].Department })
	return out, nil
}

// Overdue reports whether an unfinished case has passed a deadline (a
// case waiting for the customer is paused, not overdue).
func Overdue(c *Case, now time.Time) bool {
	if Finished(c.Status) || c.Status == StatusWaitingCustomer {
		return false
	}
	return !now.Before(c.ResolutionDue) || c.FirstResponseAt.IsZero() && !now.Before(c.FirstResponseDue)
}
