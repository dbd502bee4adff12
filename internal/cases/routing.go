package cases

import (
	"fmt"
	"slices"
	"strings"
)

// Condition is what a routing rule asks of a case. Empty lists and nil
// numbers do not restrict; lists match if the case's value is one of them
// (themes: if one of the case's themes is). Every given part must fit.
type Condition struct {
	Types       []string `json:"types,omitempty"`
	Channels    []string `json:"channels,omitempty"`
	Touchpoints []string `json:"touchpoints,omitempty"`
	Themes      []string `json:"themes,omitempty"`
	Languages   []string `json:"languages,omitempty"`
	Priorities  []string `json:"priorities,omitempty"`
	Sentiments  []string `json:"sentiments,omitempty"`
	Origins     []string `json:"origins,omitempty"` // "api", "web", "rule:complaint_event", ...
	// Keywords: one of them occurs in the subject or description (case-insensitive).
	Keywords []string `json:"keywords,omitempty"`
	// Customer value: predicted customer lifetime value (EUR) and its
	// percentile among scored customers, and revenue so far (EUR).
	MinCLV           *float64 `json:"minClv,omitempty"`
	MinCLVPercentile *float64 `json:"minClvPercentile,omitempty"`
	MinRevenue       *float64 `json:"minRevenue,omitempty"`
}

// Action is what a matching rule sets.
type Action struct {
	Department string `json:"department,omitempty"`
	Owner      string `json:"owner,omitempty"` // a user id
	Priority   string `json:"priority,omitempty"`
}

// Rule is a routing rule.
type Rule struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Disabled bool      `json:"disabled,omitempty"`
	When     Condition `json:"when"`
	Then     Action    `json:"then"`
	// Continue: later rules may still set what this one left unset.
	Continue bool `json:"continue,omitempty"`
}

// RoutingConfig is the ordered list of routing rules and the default queue.
type RoutingConfig struct {
	DefaultDepartment string `json:"defaultDepartment"`
	Rules             []Rule `json:"rules"`
}

// DefaultRouting is the configuration until an admin sets one.
func DefaultRouting() *RoutingConfig {
	return &RoutingConfig{DefaultDepartment: "Service", Rules: []Rule{}}
}

func (r *RoutingConfig) validate() error {
	r.DefaultDepartment = strings.TrimSpace(r.DefaultDepartment)
	if r.DefaultDepartment == "" {
		return invalidf("defaultDepartment is required: a case no rule matches goes there")
	}
	ids := map[string]bool{}
	for i := range r.Rules {
		ru := &r.Rules[i]
		ru.ID = strings.TrimSpace(ru.ID)
		if ru.ID == "" {
			ru.ID = fmt.Sprintf("r%d", i+1)
		}
		if ids[ru.ID] {
			return invalidf("rule %d: id %q used twice", i+1, ru.ID)
		}
		ids[ru.ID] = true
		if ru.Name == "" {
			ru.Name = ru.ID
		}
		w := ru.When
		for _, t := range w.Types {
			if !slices.Contains(Types, t) {
				return invalidf("rule %s: type %q: want one of %s", ru.ID, t, strings.Join(Types, ", "))
			}
		}
		for _, p := range w.Priorities {
			if !slices.Contains(Priorities, p) {
				return invalidf("rule %s: priority %q: want one of %s", ru.ID, p, strings.Join(Priorities, ", "))
			}
		}
		a := ru.Then
		if a.Department == "" && a.Owner == "" && a.Priority == "" {
			return invalidf("rule %s: then sets nothing; give department, owner or priority", ru.ID)
		}
		if a.Priority != "" && !slices.Contains(Priorities, a.Priority) {
			return invalidf("rule %s: priority %q: want one of %s", ru.ID, a.Priority, strings.Join(Priorities, ", "))
		}
	}
	return nil
}

// Value is what Kunding knows of a customer's value, for routing.
type Value struct {
	Known         bool // a customer with a profile
	Predicted     bool // with a prediction
	CLV           float64
	CLVPercentile float64
	Revenue       float64
}

// Decision is the outcome of routing, with the reasons in words.
type Decision struct {
	Department string
	Owner      string
	Priority   string
	Rules      []string // ids of the rules that matched
	Reasons    []string
}

func anyFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// match reports whether c (with value v) meets the condition, and why.
func (w Condition) match(c *Case, v Value) (bool, []string) {
	var why []string
	list := func(name string, allowed []string, val string) bool {
		if len(allowed) == 0 {
			return true
		}
		if anyFold(allowed, val) {
			why = append(why, fmt.Sprintf("%s=%s", name, val))
			return true
		}
		return false
	}
	if !list("type", w.Types, c.Type) || !list("channel", w.Channels, c.Channel) || !list("touchpoint", w.Touchpoints, c.Touchpoint) ||
		!list("language", w.Languages, c.Language) || !list("priority", w.Priorities, c.Priority) ||
		!list("sentiment", w.Sentiments, c.Sentiment) || !list("origin", w.Origins, c.Origin) {
		return false, nil
	}
	if len(w.Themes) > 0 {
		found := ""
		for _, t := range append([]string{c.Theme}, c.Themes...) {
			if t != "" && anyFold(w.Themes, t) {
				found = t
				break
			}
		}
		if found == "" {
			return false, nil
		}
		why = append(why, "theme="+found)
	}
	if len(w.Keywords) > 0 {
		text := strings.ToLower(c.Subject + " " + c.Description)
		found := ""
		for _, k := range w.Keywords {
			if k != "" && strings.Contains(text, strings.ToLower(k)) {
				found = k
				break
			}
		}
		if found == "" {
			return false, nil
		}
		why = append(why, fmt.Sprintf("text contains %q", found))
	}
	if w.MinCLV != nil {
		if !v.Predicted || v.CLV < *w.MinCLV {
			return false, nil
		}
		why = append(why, fmt.Sprintf("CLV %.2f >= %.2f", v.CLV, *w.MinCLV))
	}
	if w.MinCLVPercentile != nil {
		if !v.Predicted || v.CLVPercentile < *w.MinCLVPercentile {
			return false, nil
		}
		why = append(why, fmt.Sprintf("CLV percentile %.1f >= %.1f", v.CLVPercentile, *w.MinCLVPercentile))
	}
	if w.MinRevenue != nil {
		if !v.Known || v.Revenue < *w.MinRevenue {
			return false, nil
		}
		why = append(why, fmt.Sprintf("revenue %.2f >= %.2f", v.Revenue, *w.MinRevenue))
	}
	if len(why) == 0 {
		why = append(why, "no conditions")
	}
	return true, why
}

// usesValue reports whether any rule needs the customer's value.
func (r *RoutingConfig) usesValue() bool {
	for _, ru := range r.Rules {
		if ru.When.MinCLV != nil || ru.When.MinCLVPercentile != nil || ru.When.MinRevenue != nil {
			return true
		}
	}
	return false
}

// Route evaluates the rules in order. Department, owner and priority given
// in fixed (set by the person who created the case) are kept; the first
// matching rule sets the others (and later rules too while rules say
// continue); a case without a department goes to the default queue.
func (r *RoutingConfig) Route(c *Case, v Value, fixed Action) Decision {
	d := Decision{Department: fixed.Department, Owner: fixed.Owner, Priority: fixed.Priority}
	if fixed.Department != "" {
		d.Reasons = append(d.Reasons, "department "+fixed.Department+" given when the case was created")
	}
	if fixed.Owner != "" {
		d.Reasons = append(d.Reasons, "owner "+fixed.Owner+" given when the case was created")
	}
	if fixed.Priority != "" {
		d.Reasons = append(d.Reasons, "priority "+fixed.Priority+" given when the case was created")
	}
	matched := false
	for _, ru := range r.Rules {
		if ru.Disabled {
			continue
		}
		ok, why := ru.When.match(c, v)
		if !ok {
			continue
		}
		matched = true
		var set []string
		if ru.Then.Department != "" && d.Department == "" {
			d.Department = ru.Then.Department
			set = append(set, "department "+ru.Then.Department)
		}
		if ru.Then.Owner != "" && d.Owner == "" {
			d.Owner = ru.Then.Owner
			set = append(set, "owner "+ru.Then.Owner)
		}
		if ru.Then.Priority != "" && d.Priority == "" {
			d.Priority = ru.Then.Priority
			set = append(set, "priority "+ru.Then.Priority)
		}
		if len(set) == 0 {
			set = append(set, "nothing (already set)")
		}
		d.Rules = append(d.Rules, ru.ID)
		d.Reasons = append(d.Reasons, fmt.Sprintf("rule %s %q matched (%s): %s", ru.ID, ru.Name, strings.Join(why, ", "), strings.Join(set, ", ")))
		if !ru.Continue {
			break
		}
	}
	if !matched && len(r.Rules) > 0 {
		d.Reasons = append(d.Reasons, "no routing rule matched")
	}
	if d.Department == "" {
		d.Department = r.DefaultDepartment
		if d.Department == "" {
			d.Department = DefaultRouting().DefaultDepartment
		}
		d.Reasons = append(d.Reasons, "default queue: department "+d.Department)
	}
	return d
}
