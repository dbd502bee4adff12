package campaign

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/touchpoint"
)

// Target kinds.
const (
	TargetFilter = "filter"
	TargetList   = "list"
)

// field kinds decide the operators a condition may use.
const (
	kindText   = "text"
	kindNumber = "number"
	kindTime   = "time"
	kindEnum   = "enum"
	kindHas    = "has"
)

type fieldDef struct {
	kind   string
	values []string // enum values
	pred   bool     // needs the customer's prediction
}

// Fields are the profile fields a target filter can test ("trait:<name>"
// and "consent:<purpose>" stand for any trait and any purpose).
var Fields = map[string]fieldDef{
	"trait":         {kind: kindText},
	"orders":        {kind: kindNumber},
	"revenue":       {kind: kindNumber},
	"lastOrder":     {kind: kindTime},
	"firstOrder":    {kind: kindTime},
	"firstSeen":     {kind: kindTime},
	"lastSeen":      {kind: kindTime},
	"tier":          {kind: kindEnum, values: []string{"none", "low", "mid", "high"}},
	"valueTier":     {kind: kindEnum, values: []string{"none", "low", "mid", "high"}, pred: true},
	"clv":           {kind: kindNumber, pred: true},
	"clvPercentile": {kind: kindNumber, pred: true},
	"churnRisk":     {kind: kindNumber, pred: true},
	"nps":           {kind: kindEnum, values: []string{"promoter", "passive", "detractor", "none"}},
	"email":         {kind: kindHas},
	"phone":         {kind: kindHas},
	"consent":       {kind: kindEnum, values: []string{"granted", "withdrawn", "missing"}},
}

var opsOf = map[string][]string{
	kindText:   {"eq", "ne", "contains", "exists", "missing", "gte", "lte", "gt", "lt"},
	kindNumber: {"eq", "ne", "gte", "lte", "gt", "lt"},
	kindTime:   {"before", "after", "exists", "missing"},
	kindEnum:   {"eq", "ne"},
	kindHas:    {"exists", "missing"},
}

func splitField(f string) (base, arg string) {
	if i := strings.IndexByte(f, ':'); i >= 0 {
		return f[:i], f[i+1:]
	}
	return f, ""
}

// CleanTarget validates a target group.
func CleanTarget(t store.Target) (store.Target, error) {
	t.Kind = strings.ToLower(strings.TrimSpace(t.Kind))
	switch t.Kind {
	case TargetList:
		if len(t.Conditions) > 0 {
			return t, invalid("target: a recipient list takes no conditions")
		}
		return t, nil
	case TargetFilter:
	default:
		return t, invalid("target.kind %q: must be filter or list", t.Kind)
	}
	if len(t.Conditions) > 20 {
		return t, invalid("target: at most 20 conditions")
	}
	for i := range t.Conditions {
		c := &t.Conditions[i]
		c.Field, c.Op, c.Value = strings.TrimSpace(c.Field), strings.ToLower(strings.TrimSpace(c.Op)), strings.TrimSpace(c.Value)
		base, arg := splitField(c.Field)
		def, ok := Fields[base]
		if !ok || ((base == "trait" || base == "consent") != (arg != "")) {
			return t, invalid("target condition %d: field %q: must be trait:<name>, consent:<purpose> or one of %s", i+1, c.Field, fieldNames())
		}
		if base == "consent" {
			c.Field = "consent:" + profile.NormalizePurpose(arg)
		}
		if !slices.Contains(opsOf[def.kind], c.Op) {
			return t, invalid("target condition %d: %s takes the operators %s, not %q", i+1, c.Field, strings.Join(opsOf[def.kind], ", "), c.Op)
		}
		if len(c.Value) > 200 {
			return t, invalid("target condition %d: value: at most 200 characters", i+1)
		}
		switch {
		case c.Op == "exists" || c.Op == "missing":
			c.Value = ""
		case def.kind == kindNumber || (def.kind == kindText && (c.Op == "gte" || c.Op == "lte" || c.Op == "gt" || c.Op == "lt")):
			if _, err := strconv.ParseFloat(c.Value, 64); err != nil {
				return t, invalid("target condition %d: %s %s needs a number, not %q", i+1, c.Field, c.Op, c.Value)
			}
		case def.kind == kindTime:
			if _, err := timeValue(c.Value, time.Now()); err != nil {
				return t, invalid("target condition %d: %v", i+1, err)
			}
		case def.kind == kindEnum:
			c.Value = strings.ToLower(c.Value)
			if !slices.Contains(def.values, c.Value) {
				return t, invalid("target condition %d: %s is one of %s, not %q", i+1, c.Field, strings.Join(def.values, ", "), c.Value)
			}
		case c.Value == "":
			return t, invalid("target condition %d: %s %s needs a value", i+1, c.Field, c.Op)
		}
	}
	return t, nil
}

func fieldNames() string {
	var names []string
	for k := range Fields {
		if k != "trait" && k != "consent" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// timeValue reads a date, an RFC 3339 time or "<n>d" (n days before now).
func timeValue(v string, now time.Time) (time.Time, error) {
	if strings.HasSuffix(v, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(v, "d")); err == nil && n >= 0 && n <= 36500 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: give a date (2026-01-31), a time (RFC 3339) or days ago (90d)", v)
}

// NeedsPredictions reports whether a target filter reads predictions.
func NeedsPredictions(t store.Target) bool {
	for _, c := range t.Conditions {
		base, _ := splitField(c.Field)
		if Fields[base].pred {
			return true
		}
	}
	return false
}

// ValueTier is the tier of a customer's predicted value by the CLV
// percentile: high (top 20 %), mid (the next 40 %), low; none without a
// prediction.
func ValueTier(p *store.Prediction) string {
	switch {
	case p == nil:
		return "none"
	case p.CLVPercentile >= 80:
		return "high"
	case p.CLVPercentile >= 40:
		return "mid"
	default:
		return "low"
	}
}

// Matches reports whether a profile (with its prediction, nil if none) is
// in a filter target group at now. Every condition must hold.
func Matches(t store.Target, p *profile.Profile, pred *store.Prediction, now time.Time) bool {
	for _, c := range t.Conditions {
		if !holds(c, p, pred, now) {
			return false
		}
	}
	return true
}

func holds(c store.Condition, p *profile.Profile, pred *store.Prediction, now time.Time) bool {
	base, arg := splitField(c.Field)
	switch base {
	case "trait":
		tr, ok := p.Traits[arg]
		val := ""
		if ok {
			val = traitText(tr.Value)
			ok = val != ""
		}
		switch c.Op {
		case "exists":
			return ok
		case "missing":
			return !ok
		case "eq":
			return ok && strings.EqualFold(val, c.Value)
		case "ne":
			return !ok || !strings.EqualFold(val, c.Value)
		case "contains":
			return ok && strings.Contains(strings.ToLower(val), strings.ToLower(c.Value))
		}
		f, err := strconv.ParseFloat(val, 64)
		return ok && err == nil && compare(f, c.Op, c.Value)
	case "orders":
		return compare(float64(p.Orders), c.Op, c.Value)
	case "revenue":
		return compare(p.Revenue(), c.Op, c.Value)
	case "lastOrder", "firstOrder", "firstSeen", "lastSeen":
		at := map[string]time.Time{"lastOrder": p.LastOrder, "firstOrder": p.FirstOrder, "firstSeen": p.FirstSeen, "lastSeen": p.LastSeen}[base]
		switch c.Op {
		case "exists":
			return !at.IsZero()
		case "missing":
			return at.IsZero()
		}
		ref, err := timeValue(c.Value, now)
		if err != nil || at.IsZero() {
			return false
		}
		if c.Op == "before" {
			return at.Before(ref)
		}
		return !at.Before(ref)
	case "tier":
		return enum(touchpoint.Tier(store.TouchpointProfile{Orders: p.Orders, RevenueMicros: p.RevenueMicros}), c)
	case "valueTier":
		return enum(ValueTier(pred), c)
	case "clv", "clvPercentile", "churnRisk":
		if pred == nil {
			return false
		}
		v := map[string]float64{"clv": pred.CLV, "clvPercentile": pred.CLVPercentile, "churnRisk": pred.ChurnRisk}[base]
		return compare(v, c.Op, c.Value)
	case "nps":
		cat := "none"
		if a, ok := p.LastSurvey["nps"]; ok && a.Category != "" {
			cat = a.Category
		}
		return enum(cat, c)
	case "email", "phone":
		has := (base == "email" && p.Email != "") || (base == "phone" && p.Phone != "")
		return has == (c.Op == "exists")
	case "consent":
		st := "missing"
		if cs, ok := p.Consent[arg]; ok {
			st = "withdrawn"
			if cs.Granted {
				st = "granted"
			}
		}
		return enum(st, c)
	}
	return false
}

func enum(v string, c store.Condition) bool {
	if c.Op == "ne" {
		return v != c.Value
	}
	return v == c.Value
}

func compare(v float64, op, ref string) bool {
	r, err := strconv.ParseFloat(ref, 64)
	if err != nil {
		return false
	}
	switch op {
	case "eq":
		return v == r
	case "ne":
		return v != r
	case "gte":
		return v >= r
	case "lte":
		return v <= r
	case "gt":
		return v > r
	case "lt":
		return v < r
	}
	return false
}

// traitText is a trait as text: a string as it is, other JSON as written.
func traitText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}
