package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/store"
)

// Names of the configuration documents.
const (
	ConfigRouting = "routing"
	ConfigSLA     = "sla"
	ConfigIntake  = "intake"
)

// IntakeConfig says which incoming events open a case.
type IntakeConfig struct {
	Disabled bool `json:"disabled,omitempty"`
	// ComplaintEvents: track event names that are complaints (compared
	// case-insensitively); ComplaintPattern: a regular expression
	// (case-insensitive) that names complaint events too.
	ComplaintEvents  []string `json:"complaintEvents"`
	ComplaintPattern string   `json:"complaintPattern,omitempty"`
	// A "Survey Answered" with an NPS score up to NPSMax (a detractor) or a
	// CSAT score up to CSATMax opens a case.
	NPSMax  float64 `json:"npsMax"`
	CSATMax float64 `json:"csatMax"`
	// A "Feedback Received" with a rating up to RatingMax, or with negative
	// sentiment if NegativeSentiment, opens a case.
	RatingMax         float64 `json:"ratingMax"`
	NegativeSentiment bool    `json:"negativeSentiment"`
	// FollowUpSurveyID closes the loop: when a case of a known customer is
	// solved, a personal link of this survey (triggered by the case's
	// "Case Solved" event) is made and noted on the case; the answer is
	// attached to the case. Empty: no follow-up survey.
	FollowUpSurveyID string `json:"followUpSurveyId,omitempty"`

	re *regexp.Regexp
}

// DefaultIntake is the configuration until an admin sets one.
func DefaultIntake() *IntakeConfig {
	c := &IntakeConfig{
		ComplaintEvents:   []string{"Complaint Submitted", "Complaint Received", "Beschwerde", "Beschwerde eingegangen", "Reklamation"},
		ComplaintPattern:  `complain|beschwerde|reklamation`,
		NPSMax:            6,
		CSATMax:           2,
		RatingMax:         2,
		NegativeSentiment: true,
	}
	if err := c.validate(); err != nil {
		panic(err)
	}
	return c
}

func (c *IntakeConfig) validate() error {
	if c.ComplaintPattern != "" {
		re, err := regexp.Compile("(?i)" + c.ComplaintPattern)
		if err != nil {
			return invalidf("complaintPattern: %v", err)
		}
		c.re = re
	}
	if c.NPSMax < -1 || c.NPSMax > 10 {
		return invalidf("npsMax %v: want -1 (never) to 10", c.NPSMax)
	}
	if c.CSATMax < 0 || c.CSATMax > 5 || c.RatingMax < 0 || c.RatingMax > 5 {
		return invalidf("csatMax and ratingMax: want 0 (never) to 5")
	}
	return nil
}

// IsComplaint reports whether a track event of this name is a complaint.
func (c *IntakeConfig) IsComplaint(name string) bool {
	for _, n := range c.ComplaintEvents {
		if strings.EqualFold(strings.TrimSpace(n), strings.TrimSpace(name)) {
			return true
		}
	}
	return c.re != nil && c.re.MatchString(name)
}

// config caches the three documents for a few seconds (other nodes'
// changes arrive within that time; this node's at once).
type config struct {
	mu      sync.Mutex
	at      time.Time
	routing *RoutingConfig
	sla     *SLAConfig
	intake  *IntakeConfig
	vers    map[string]int64
}

const configTTL = 2 * time.Second

func (s *Service) load(ctx context.Context) (*RoutingConfig, *SLAConfig, *IntakeConfig, error) {
	s.cfg.mu.Lock()
	defer s.cfg.mu.Unlock()
	if s.cfg.routing != nil && time.Since(s.cfg.at) < configTTL {
		return s.cfg.routing, s.cfg.sla, s.cfg.intake, nil
	}
	r, sla, in := DefaultRouting(), DefaultSLA(), DefaultIntake()
	vers := map[string]int64{}
	for _, x := range []struct {
		key string
		v   interface{ validate() error }
	}{{ConfigRouting, r}, {ConfigSLA, sla}, {ConfigIntake, in}} {
		raw, ver, err := s.cs.CaseConfig(ctx, x.key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, nil, err
		}
		// A stored document replaces the default as a whole.
		switch v := x.v.(type) {
		case *RoutingConfig:
			*v = RoutingConfig{}
		case *SLAConfig:
			*v = SLAConfig{}
		case *IntakeConfig:
			*v = IntakeConfig{}
		}
		if err := json.Unmarshal([]byte(raw), x.v); err != nil {
			return nil, nil, nil, fmt.Errorf("case configuration %s: %w", x.key, err)
		}
		if err := x.v.validate(); err != nil {
			return nil, nil, nil, fmt.Errorf("case configuration %s: %w", x.key, err)
		}
		vers[x.key] = ver
	}
	s.cfg.routing, s.cfg.sla, s.cfg.intake, s.cfg.vers, s.cfg.at = r, sla, in, vers, time.Now()
	return r, sla, in, nil
}

// Config returns a configuration document (routing, sla or intake) as
// stored or, if never set, the default, with its version (0: default).
func (s *Service) Config(ctx context.Context, key string) (any, int64, error) {
	s.forget()
	r, sla, in, err := s.load(ctx)
	if err != nil {
		return nil, 0, err
	}
	s.cfg.mu.Lock()
	ver := s.cfg.vers[key]
	s.cfg.mu.Unlock()
	switch key {
	case ConfigRouting:
		return r, ver, nil
	case ConfigSLA:
		return sla, ver, nil
	case ConfigIntake:
		return in, ver, nil
	}
	return nil, 0, fmt.Errorf("case configuration %q: %w", key, store.ErrNotFound)
}

func (s *Service) forget() {
	s.cfg.mu.Lock()
	s.cfg.routing = nil
	s.cfg.mu.Unlock()
}

// SetConfig validates and stores a configuration document; version is the
// version read (0 if it was the default). ErrInvalid or store.ErrVersion.
func (s *Service) SetConfig(ctx context.Context, key string, raw []byte, version int64) (int64, error) {
	var v interface{ validate() error }
	switch key {
	case ConfigRouting:
		v = &RoutingConfig{}
	case ConfigSLA:
		v = &SLAConfig{}
	case ConfigIntake:
		v = &IntakeConfig{}
	default:
		return 0, fmt.Errorf("case configuration %q: %w", key, store.ErrNotFound)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return 0, invalidf("%s configuration: %v", key, err)
	}
	if err := v.validate(); err != nil {
		return 0, err
	}
	if in, ok := v.(*IntakeConfig); ok && in.FollowUpSurveyID != "" {
		// A follow-up survey that does not exist would only show up as a
		// log line when a case is solved: refuse it now.
		ss, ok := s.Store.(store.SurveyStore)
		if !ok {
			return 0, invalidf("followUpSurveyId: this store keeps no surveys")
		}
		if _, err := ss.SurveyByID(ctx, in.FollowUpSurveyID); errors.Is(err, store.ErrNotFound) {
			return 0, invalidf("followUpSurveyId %q: no such survey", in.FollowUpSurveyID)
		} else if err != nil {
			return 0, err
		}
	}
	norm, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	if err := s.cs.SetCaseConfig(ctx, key, string(norm), version); err != nil {
		return 0, err
	}
	s.forget()
	return version + 1, nil
}
