package cases

import (
	"slices"
	"strings"
	"time"
)

// Policy is a service level: targets for the first response and the
// resolution, in business hours of a calendar, for cases of some types and
// priorities.
type Policy struct {
	Name       string   `json:"name"`
	Types      []string `json:"types,omitempty"`      // empty: every type
	Priorities []string `json:"priorities,omitempty"` // empty: every priority
	// Targets in business hours.
	FirstResponseHours float64 `json:"firstResponseHours"`
	ResolutionHours    float64 `json:"resolutionHours"`
	// WarnBeforeHours: a warning when less business time than this is
	// left before a deadline (0: a quarter of the target).
	WarnBeforeHours float64 `json:"warnBeforeHours,omitempty"`
	// CCOAfterHours: business hours after the deadline until the case
	// escalates from the department lead to the CCO (0: 8, one working day).
	CCOAfterHours float64 `json:"ccoAfterHours,omitempty"`
	Calendar      string  `json:"calendar,omitempty"` // "" : the calendar named "default"
}

// SLAConfig holds the calendars and the SLA policies. Policies are tried in
// order; the first whose types and priorities fit the case applies. If
// none fits, the built-in fallback policy does (8 and 40 business hours).
type SLAConfig struct {
	Calendars []*Calendar `json:"calendars"`
	Policies  []Policy    `json:"policies"`
}

// FallbackPolicy applies when no policy fits.
var FallbackPolicy = Policy{Name: "fallback", FirstResponseHours: 8, ResolutionHours: 40}

// DefaultSLA is the configuration until an admin sets one.
func DefaultSLA() *SLAConfig {
	return &SLAConfig{
		Calendars: []*Calendar{DefaultCalendar()},
		Policies: []Policy{
			{Name: "urgent", Priorities: []string{PriorityUrgent}, FirstResponseHours: 1, ResolutionHours: 8},
			{Name: "high", Priorities: []string{PriorityHigh}, FirstResponseHours: 4, ResolutionHours: 16},
			{Name: "normal", Priorities: []string{PriorityNormal}, FirstResponseHours: 8, ResolutionHours: 40},
			{Name: "low", Priorities: []string{PriorityLow}, FirstResponseHours: 16, ResolutionHours: 80},
		},
	}
}

func (c *SLAConfig) validate() error {
	names := map[string]bool{}
	for _, cal := range c.Calendars {
		if cal == nil {
			return invalidf("calendars: empty entry")
		}
		if err := cal.compile(); err != nil {
			return err
		}
		if names[cal.Name] {
			return invalidf("calendars: name %q used twice", cal.Name)
		}
		names[cal.Name] = true
	}
	if !names["default"] {
		return invalidf("calendars: one calendar must be named \"default\"")
	}
	seen := map[string]bool{}
	for i := range c.Policies {
		p := &c.Policies[i]
		p.Name = strings.TrimSpace(p.Name)
		if p.Name == "" {
			return invalidf("policy %d: name is required", i+1)
		}
		if seen[p.Name] {
			return invalidf("policies: name %q used twice", p.Name)
		}
		seen[p.Name] = true
		for _, t := range p.Types {
			if !slices.Contains(Types, t) {
				return invalidf("policy %s: type %q: want one of %s", p.Name, t, strings.Join(Types, ", "))
			}
		}
		for _, pr := range p.Priorities {
			if !slices.Contains(Priorities, pr) {
				return invalidf("policy %s: priority %q: want one of %s", p.Name, pr, strings.Join(Priorities, ", "))
			}
		}
		if p.FirstResponseHours <= 0 || p.ResolutionHours <= 0 || p.FirstResponseHours > 10000 || p.ResolutionHours > 10000 {
			return invalidf("policy %s: firstResponseHours and resolutionHours must be above 0 (and at most 10000)", p.Name)
		}
		if p.WarnBeforeHours < 0 || p.CCOAfterHours < 0 {
			return invalidf("policy %s: warnBeforeHours and ccoAfterHours must not be negative", p.Name)
		}
		if p.Calendar != "" && !names[p.Calendar] {
			return invalidf("policy %s: calendar %q does not exist", p.Name, p.Calendar)
		}
	}
	return nil
}

// PolicyFor returns the policy that applies to a case of type and priority.
func (c *SLAConfig) PolicyFor(typ, priority string) Policy {
	for _, p := range c.Policies {
		if (len(p.Types) == 0 || slices.Contains(p.Types, typ)) && (len(p.Priorities) == 0 || slices.Contains(p.Priorities, priority)) {
			return p
		}
	}
	return FallbackPolicy
}

// Policy returns the policy of a name (the fallback if it is gone).
func (c *SLAConfig) Policy(name string) Policy {
	for _, p := range c.Policies {
		if p.Name == name {
			return p
		}
	}
	return FallbackPolicy
}

// CalendarOf returns a calendar by name, or the default one.
func (c *SLAConfig) CalendarOf(name string) *Calendar {
	var def *Calendar
	for _, cal := range c.Calendars {
		if cal.Name == name {
			return cal
		}
		if cal.Name == "default" {
			def = cal
		}
	}
	if def == nil {
		def = DefaultCalendar()
	}
	return def
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

func (p Policy) warnBefore(target float64) time.Duration {
	if p.WarnBeforeHours > 0 {
		return hours(p.WarnBeforeHours)
	}
	return hours(target / 4)
}

func (p Policy) ccoAfter() time.Duration {
	if p.CCOAfterHours > 0 {
		return hours(p.CCOAfterHours)
	}
	return 8 * time.Hour
}

// applyPolicy (re)computes the deadlines of c with its policy and calendar:
// the first response counts from creation, the resolution from the clock
// start plus the business time spent waiting for the customer.
func (c *SLAConfig) applyPolicy(cs *Case) {
	p := c.PolicyFor(cs.Type, cs.Priority)
	cal := c.CalendarOf(p.Calendar)
	cs.Policy, cs.Calendar = p.Name, cal.Name
	cs.FirstResponseDue = cal.Add(cs.CreatedAt, hours(p.FirstResponseHours))
	cs.ResolutionDue = cal.Add(cs.ClockStart, hours(p.ResolutionHours)+time.Duration(cs.PausedMS)*time.Millisecond)
}
