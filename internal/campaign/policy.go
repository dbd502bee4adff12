package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

// Reasons why the contact policy holds a customer back.
const (
	ReasonOpenComplaint    = "open_complaint"
	ReasonFrequencyCap     = "frequency_cap"
	ReasonConsentMissing   = "consent_missing"
	ReasonConsentWithdrawn = "consent_withdrawn"
	ReasonUnknownCustomer  = "unknown_customer" // the check API: no customer has the identifier
	ReasonNoIdentifier     = "no_identifier"    // delivery: the customer has no identifier left (erased)
)

// Reasons lists the reasons in the order reports show them.
var Reasons = []string{ReasonOpenComplaint, ReasonFrequencyCap, ReasonConsentMissing, ReasonConsentWithdrawn, ReasonUnknownCustomer, ReasonNoIdentifier}

// Cap limits how many campaigns of some types a customer gets on a channel
// within Days days ("" channel or no types: any).
type Cap struct {
	Channel string   `json:"channel,omitempty"`
	Types   []string `json:"types,omitempty"`
	Max     int      `json:"max"`
	Days    int      `json:"days"`
}

// Policy is the contact policy. It is kept in the settings under PolicyKey.
type Policy struct {
	// HoldOpenComplaint: per campaign type, whether a customer with an open
	// complaint case is held back.
	HoldOpenComplaint map[string]bool `json:"holdOpenComplaint"`
	Caps              []Cap           `json:"caps"`
	// Purposes maps a channel to the consent purpose a campaign on it needs.
	Purposes map[string]string `json:"purposes"`
	// ConsentTypes are the campaign types that need consent.
	ConsentTypes []string `json:"consentTypes"`
	// OptOutChannels need no consent, but a withdrawal holds back (letters:
	// German law allows postal advertising until the customer objects).
	OptOutChannels []string `json:"optOutChannels"`
}

// PolicyKey is the setting that holds the contact policy.
const PolicyKey = "campaign.contact_policy"

// DefaultPolicy: promotional campaigns are held back from customers with an
// open complaint, service and information are not; at most 2 promotional
// e-mails per 7 days, 1 promotional call per 30 days, 2 promotional SMS
// or push messages per 7 days; promotional and information campaigns need
// the channel's marketing consent; letters are opt-out.
func DefaultPolicy() Policy {
	return Policy{
		HoldOpenComplaint: map[string]bool{TypePromotional: true, TypeService: false, TypeInformation: false},
		Caps: []Cap{
			{Channel: "email", Types: []string{TypePromotional}, Max: 2, Days: 7},
			{Channel: "phone", Types: []string{TypePromotional}, Max: 1, Days: 30},
			{Channel: "sms", Types: []string{TypePromotional}, Max: 2, Days: 7},
			{Channel: "push", Types: []string{TypePromotional}, Max: 2, Days: 7},
		},
		Purposes: map[string]string{"email": "email_marketing", "phone": "phone_marketing", "sms": "sms_marketing",
			"push": "push_marketing", "letter": "letter_marketing"},
		ConsentTypes:   []string{TypePromotional, TypeInformation},
		OptOutChannels: []string{"letter"},
	}
}

// CleanPolicy validates a policy.
func CleanPolicy(p Policy) (Policy, error) {
	if p.HoldOpenComplaint == nil {
		p.HoldOpenComplaint = map[string]bool{}
	}
	for t := range p.HoldOpenComplaint {
		if !slices.Contains(Types, t) {
			return p, invalid("holdOpenComplaint: %q is no campaign type (%s)", t, strings.Join(Types, ", "))
		}
	}
	if len(p.Caps) > 50 {
		return p, invalid("caps: at most 50")
	}
	for i, c := range p.Caps {
		if c.Channel != "" && !slices.Contains(Channels, c.Channel) {
			return p, invalid("caps[%d].channel %q: one of %s, or empty for every channel", i, c.Channel, strings.Join(Channels, ", "))
		}
		for _, t := range c.Types {
			if !slices.Contains(Types, t) {
				return p, invalid("caps[%d].types: %q is no campaign type", i, t)
			}
		}
		if c.Max < 0 || c.Max > 1000 || c.Days < 1 || c.Days > 366 {
			return p, invalid("caps[%d]: max 0 to 1000 per 1 to 366 days", i)
		}
	}
	clean := map[string]string{}
	for ch, purpose := range p.Purposes {
		if !slices.Contains(Channels, ch) {
			return p, invalid("purposes: %q is no channel", ch)
		}
		if n := profile.NormalizePurpose(purpose); n != "" {
			clean[ch] = n
		}
	}
	p.Purposes = clean
	for _, t := range p.ConsentTypes {
		if !slices.Contains(Types, t) {
			return p, invalid("consentTypes: %q is no campaign type", t)
		}
	}
	for _, ch := range p.OptOutChannels {
		if !slices.Contains(Channels, ch) {
			return p, invalid("optOutChannels: %q is no channel", ch)
		}
	}
	return p, nil
}

// Policy returns the contact policy in force.
func (s *Service) Policy(ctx context.Context) (Policy, error) {
	v, err := s.Store.Setting(ctx, PolicyKey)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultPolicy(), nil
	}
	if err != nil {
		return Policy{}, err
	}
	var p Policy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return Policy{}, fmt.Errorf("contact policy setting: %w", err)
	}
	return p, nil
}

// SetPolicy stores a new contact policy.
func (s *Service) SetPolicy(ctx context.Context, p Policy) (Policy, error) {
	p, err := CleanPolicy(p)
	if err != nil {
		return p, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return p, err
	}
	if err := s.Store.SetSetting(ctx, PolicyKey, string(b)); err != nil {
		return p, err
	}
	return p, audit.Record(ctx, s.Store, audit.Entry{Action: AuditPolicy, Target: PolicyKey, Detail: string(b)})
}

// Decision is the contact policy's answer for one customer.
type Decision struct {
	CustomerID string   `json:"customerId,omitempty"`
	Allowed    bool     `json:"allowed"`
	Reasons    []string `json:"reasons,omitempty"`
}

// checker decides for batches of customers of one campaign kind.
type checker struct {
	s          *Service
	pol        Policy
	channel    string
	typ        string
	exclude    string // the campaign being sent: its own deliveries do not count
	now        time.Time
	complaints map[string]bool // customers with an open complaint, read once
}

func (s *Service) newChecker(ctx context.Context, channel, typ, exclude string) (*checker, error) {
	pol, err := s.Policy(ctx)
	if err != nil {
		return nil, err
	}
	ch := &checker{s: s, pol: pol, channel: channel, typ: typ, exclude: exclude, now: s.now()}
	if pol.HoldOpenComplaint[typ] {
		// Open complaints are few against customers: one read for the run.
		cst, ok := s.Store.(store.CaseStore)
		if ok {
			cases, err := cst.Cases(ctx, store.CaseFilter{Open: true, Type: "complaint"})
			if err != nil {
				return nil, err
			}
			ch.complaints = map[string]bool{}
			for _, c := range cases {
				if c.CustomerID != "" {
					ch.complaints[c.CustomerID] = true
				}
			}
		}
	}
	return ch, nil
}

// check decides for customers with their profiles (a missing profile has no
// consent). The result has one decision per customer, in order.
func (ch *checker) check(ctx context.Context, ids []string, profiles map[string]profile.Profile) ([]Decision, error) {
	out := make([]Decision, len(ids))
	for i, id := range ids {
		out[i] = Decision{CustomerID: id, Allowed: true}
	}
	hold := func(i int, reason string) {
		out[i].Allowed = false
		out[i].Reasons = append(out[i].Reasons, reason)
	}
	if ch.complaints != nil {
		for i, id := range ids {
			if ch.complaints[id] {
				hold(i, ReasonOpenComplaint)
			}
		}
	}
	var caps []Cap
	maxDays := 0
	for _, c := range ch.pol.Caps {
		if (c.Channel == "" || c.Channel == ch.channel) && (len(c.Types) == 0 || slices.Contains(c.Types, ch.typ)) {
			caps = append(caps, c)
			maxDays = max(maxDays, c.Days)
		}
	}
	if len(caps) > 0 && len(ids) > 0 {
		cs, err := ch.s.Campaigns()
		if err != nil {
			return nil, err
		}
		rows, err := cs.CampaignDeliveriesSince(ctx, ids, ch.now.AddDate(0, 0, -maxDays))
		if err != nil {
			return nil, err
		}
		byCustomer := map[string][]store.CampaignDeliveryRow{}
		for _, r := range rows {
			if r.CampaignID != ch.exclude {
				byCustomer[r.CustomerID] = append(byCustomer[r.CustomerID], r)
			}
		}
		for i, id := range ids {
			for _, c := range caps {
				since := ch.now.AddDate(0, 0, -c.Days)
				n := 0
				for _, r := range byCustomer[id] {
					if (c.Channel == "" || c.Channel == r.Channel) && (len(c.Types) == 0 || slices.Contains(c.Types, r.Type)) && !r.At.Before(since) {
						n++
					}
				}
				if n >= c.Max {
					hold(i, ReasonFrequencyCap)
					break
				}
			}
		}
	}
	if purpose := ch.pol.Purposes[ch.channel]; purpose != "" && slices.Contains(ch.pol.ConsentTypes, ch.typ) {
		optOut := slices.Contains(ch.pol.OptOutChannels, ch.channel)
		for i, id := range ids {
			p := profiles[id]
			c, ok := p.Consent[purpose]
			switch {
			case ok && !c.Granted:
				hold(i, ReasonConsentWithdrawn)
			case !ok && !optOut:
				hold(i, ReasonConsentMissing)
			}
		}
	}
	return out, nil
}

// CheckRequest is what an external sending system asks: may these
// customers be contacted with a campaign of this type on this channel?
type CheckRequest struct {
	Customers []store.Identifier `json:"customers"` // kind user, email, phone, customer or ext:<type>
	Channel   string             `json:"channel"`
	Type      string             `json:"type"`
}

// CheckResult answers a CheckRequest.
type CheckResult struct {
	Channel  string            `json:"channel"`
	Type     string            `json:"type"`
	Allowed  int               `json:"allowed"`
	HeldBack int               `json:"heldBack"`
	Reasons  map[string]int    `json:"reasons"`
	Results  []CheckedCustomer `json:"results"`
}

// CheckedCustomer is the decision for one asked identifier.
type CheckedCustomer struct {
	Identifier store.Identifier `json:"identifier"`
	Decision
}

// MaxCheck is the most identifiers one check may ask about.
const MaxCheck = 1000

// Check runs the contact policy for identifiers (the API for external
// sending systems).
func (s *Service) Check(ctx context.Context, req CheckRequest) (CheckResult, error) {
	req.Channel, req.Type = strings.ToLower(strings.TrimSpace(req.Channel)), strings.ToLower(strings.TrimSpace(req.Type))
	if !slices.Contains(Channels, req.Channel) {
		return CheckResult{}, invalid("channel %q: must be one of %s", req.Channel, strings.Join(Channels, ", "))
	}
	if !slices.Contains(Types, req.Type) {
		return CheckResult{}, invalid("type %q: must be one of %s", req.Type, strings.Join(Types, ", "))
	}
	if len(req.Customers) == 0 || len(req.Customers) > MaxCheck {
		return CheckResult{}, invalid("customers: 1 to %d identifiers ({\"kind\": \"email\", \"value\": \"...\"})", MaxCheck)
	}
	cs, err := s.Campaigns()
	if err != nil {
		return CheckResult{}, err
	}
	ids := make([]ListID, len(req.Customers))
	for i, id := range req.Customers {
		kind, v := strings.ToLower(strings.TrimSpace(id.Kind)), strings.TrimSpace(id.Value)
		switch kind {
		case "email":
			v = identityNorm("email", v)
		case "phone":
			v = identityNorm("phone", v)
		case "user", "customer", "anon":
		default:
			if !strings.HasPrefix(kind, "ext:") {
				return CheckResult{}, invalid("customers[%d].kind %q: user, email, phone, customer, anon or ext:<type>", i, id.Kind)
			}
		}
		if v == "" {
			return CheckResult{}, invalid("customers[%d].value: a valid %s is required", i, kind)
		}
		ids[i] = ListID{Kind: kind, Value: v, Raw: id.Value}
	}
	var lookups []store.Identifier
	for _, id := range ids {
		if id.Kind != "customer" {
			lookups = append(lookups, store.Identifier{Kind: id.Kind, Value: id.Value})
		}
	}
	found, err := cs.ResolveIdentifiers(ctx, lookups)
	if err != nil {
		return CheckResult{}, err
	}
	custOf := make([]string, len(ids))
	var known []string
	for i, id := range ids {
		if id.Kind == "customer" {
			if p, err := s.Store.Customer(ctx, id.Value); err == nil {
				custOf[i] = p.CustomerID
			} else if !errors.Is(err, store.ErrNotFound) {
				return CheckResult{}, err
			}
		} else {
			custOf[i] = found[store.Identifier{Kind: id.Kind, Value: id.Value}]
		}
		if custOf[i] != "" && !slices.Contains(known, custOf[i]) {
			known = append(known, custOf[i])
		}
	}
	profiles, err := cs.ProfilesOf(ctx, known)
	if err != nil {
		return CheckResult{}, err
	}
	chk, err := s.newChecker(ctx, req.Channel, req.Type, "")
	if err != nil {
		return CheckResult{}, err
	}
	ds, err := chk.check(ctx, known, profiles)
	if err != nil {
		return CheckResult{}, err
	}
	byID := map[string]Decision{}
	for _, d := range ds {
		byID[d.CustomerID] = d
	}
	res := CheckResult{Channel: req.Channel, Type: req.Type, Reasons: map[string]int{}}
	for i, id := range ids {
		d := Decision{Reasons: []string{ReasonUnknownCustomer}}
		if custOf[i] != "" {
			d = byID[custOf[i]]
		}
		if d.Allowed {
			res.Allowed++
		} else {
			res.HeldBack++
		}
		for _, r := range d.Reasons {
			res.Reasons[r]++
		}
		res.Results = append(res.Results, CheckedCustomer{Identifier: store.Identifier{Kind: id.Kind, Value: id.Raw}, Decision: d})
	}
	return res, nil
}
