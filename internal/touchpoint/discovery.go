package touchpoint

import (
	"context"
	"fmt"
	"strings"

	"github.com/kunding/kunding/internal/store"
)

// Proposal is a group of events no rule matched, with the rule that would
// match them and a suggested touchpoint.
type Proposal struct {
	store.TouchpointUnmatched
	SourceName string               `json:"sourceName,omitempty"`
	Rule       store.TouchpointRule `json:"rule"`
	// Suggested fields of the touchpoint to create.
	Name    string `json:"name"`
	Channel string `json:"channel"`
	Stage   string `json:"stage"`
	Media   string `json:"media"`
}

// Proposals lists the groups of unmatched events nobody ignored, most
// frequent first.
func (s *Service) Proposals(ctx context.Context, limit int) ([]Proposal, error) {
	ts, err := s.TS()
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	us, err := ts.Unmatched(ctx, limit)
	if err != nil {
		return nil, err
	}
	srcs, err := s.Store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]store.Source{}
	for _, src := range srcs {
		byID[src.ID] = src
	}
	out := make([]Proposal, 0, len(us))
	for _, u := range us {
		out = append(out, propose(u, byID[u.SourceID]))
	}
	return out, nil
}

// Proposal returns one proposal by its key.
func (s *Service) Proposal(ctx context.Context, key string) (Proposal, error) {
	ts, err := s.TS()
	if err != nil {
		return Proposal{}, err
	}
	u, err := ts.UnmatchedByKey(ctx, key)
	if err != nil {
		return Proposal{}, err
	}
	src, _ := s.Store.SourceByID(ctx, u.SourceID)
	return propose(u, src), nil
}

// propose suggests a name, channel, stage and media from the group and its
// source kind.
func propose(u store.TouchpointUnmatched, src store.Source) Proposal {
	p := Proposal{TouchpointUnmatched: u, SourceName: src.Name, Rule: RuleOf(u), Channel: "other", Stage: "service", Media: "owned"}
	switch u.Kind {
	case "campaign":
		p.Name, p.Channel, p.Stage, p.Media = "Campaign "+u.Value, "email", "awareness", "paid"
	case "path":
		p.Name, p.Channel, p.Stage = strings.TrimSpace(src.Name+" "+u.Value), "web", "consideration"
	case "screen":
		p.Name, p.Channel, p.Stage = strings.TrimSpace(src.Name+" "+u.Value), "app", "use"
	default:
		p.Name = strings.TrimSpace(src.Name + " " + u.Value)
	}
	switch strings.ToLower(src.Kind) {
	case "review", "review-portal", "feed":
		p.Channel, p.Media, p.Stage = "review_portal", "earned", "loyalty"
	case "forum":
		p.Channel, p.Media, p.Stage = "forum", "earned", "loyalty"
	case "web", "website", "shop":
		if u.Kind != "campaign" {
			p.Channel = "web"
		}
	case "app", "mobile":
		p.Channel = "app"
	case "email", "mail":
		p.Channel = "email"
	case "call-centre", "callcenter", "phone":
		p.Channel, p.Stage = "phone", "service"
	}
	if p.Name == "" {
		p.Name = u.Key
	}
	if r := []rune(p.Name); len(r) > 120 {
		p.Name = string(r[:120])
	}
	return p
}

// Accept creates a touchpoint with the proposal's rule; in's fields
// override the suggestion.
func (s *Service) Accept(ctx context.Context, key string, in Input, actor string) (store.Touchpoint, error) {
	p, err := s.Proposal(ctx, key)
	if err != nil {
		return store.Touchpoint{}, err
	}
	def := func(ptr **string, v string) {
		if *ptr == nil || strings.TrimSpace(**ptr) == "" {
			*ptr = &v
		}
	}
	def(&in.Name, p.Name)
	def(&in.Channel, p.Channel)
	def(&in.Stage, p.Stage)
	def(&in.Media, p.Media)
	rules := []store.TouchpointRule{p.Rule}
	in.Rules = &rules
	return s.Create(ctx, in, actor)
}

// Merge adds the proposal's rule to an existing touchpoint.
func (s *Service) Merge(ctx context.Context, key, touchpointID string) (store.Touchpoint, error) {
	p, err := s.Proposal(ctx, key)
	if err != nil {
		return store.Touchpoint{}, err
	}
	t, err := s.Get(ctx, touchpointID)
	if err != nil {
		return t, err
	}
	for _, r := range t.Rules {
		if r == p.Rule {
			return t, fmt.Errorf("touchpoint %s has this rule already: %w", t.ID, store.ErrConflict)
		}
	}
	rules := append(append([]store.TouchpointRule{}, t.Rules...), p.Rule)
	return s.Update(ctx, t.ID, Input{Rules: &rules, Version: t.Version})
}

// Ignore hides a proposal for good (also after rebuilds).
func (s *Service) Ignore(ctx context.Context, key, actor string) error {
	ts, err := s.TS()
	if err != nil {
		return err
	}
	if _, err := ts.UnmatchedByKey(ctx, key); err != nil {
		return err
	}
	return ts.IgnoreUnmatched(ctx, key, actor, s.now())
}
