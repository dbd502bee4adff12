package touchpoint

import (
	"encoding/json"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/store"
)

// Matcher holds the catalogue's rules in matching order: touchpoints by
// priority (lower first), then creation time, then id; within a touchpoint
// its rules in their order. The first rule that matches wins. Retired
// touchpoints still match, so that their history stays theirs.
type Matcher struct {
	tps    []store.Touchpoint
	byKey  map[string]string // lower-cased id and name -> id
	srcIDs map[string]string // lower-cased source name -> id
}

// NewMatcher compiles the catalogue (in the store's matching order) with
// the sources, whose names rules may use instead of ids.
func NewMatcher(tps []store.Touchpoint, sources []store.Source) *Matcher {
	m := &Matcher{tps: tps, byKey: map[string]string{}, srcIDs: map[string]string{}}
	for _, t := range tps {
		if n := strings.ToLower(strings.TrimSpace(t.Name)); n != "" {
			m.byKey[n] = t.ID
		}
		m.byKey[strings.ToLower(t.ID)] = t.ID
	}
	for _, s := range sources {
		m.srcIDs[strings.ToLower(s.Name)] = s.ID
	}
	return m
}

// Resolve finds the touchpoint a property value names (its id or name,
// case-insensitive); "" if none.
func (m *Matcher) Resolve(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	return m.byKey[s]
}

// Touchpoints returns the catalogue.
func (m *Matcher) Touchpoints() []store.Touchpoint { return m.tps }

// Facts are the parts of an event the rules look at.
type Facts struct {
	SourceID string
	Type     string
	Name     string // track: event; page, screen: name
	Path     string // page path
	Campaign string
	props    map[string]json.RawMessage
}

// FactsOf reads the facts of an event.
func FactsOf(sourceID string, ev *event.Event) Facts {
	f := Facts{SourceID: sourceID, Type: ev.Type, Name: ev.Event}
	if ev.Type != event.Track {
		f.Name = ev.Name
	}
	if len(ev.Properties) > 0 {
		json.Unmarshal(ev.Properties, &f.props)
	}
	var ctx struct {
		Page struct {
			Path   string `json:"path"`
			URL    string `json:"url"`
			Search string `json:"search"`
		} `json:"page"`
		Campaign struct {
			Name string `json:"name"`
		} `json:"campaign"`
	}
	if len(ev.Context) > 0 {
		json.Unmarshal(ev.Context, &ctx)
	}
	f.Path = f.Prop("path")
	if f.Path == "" {
		f.Path = ctx.Page.Path
	}
	if f.Path == "" && ev.Type == event.Page {
		if u, err := url.Parse(f.Prop("url")); err == nil && u.Path != "" {
			f.Path = u.Path
		} else if u, err := url.Parse(ctx.Page.URL); err == nil {
			f.Path = u.Path
		}
	}
	f.Campaign = ctx.Campaign.Name
	if f.Campaign == "" {
		f.Campaign = f.Prop("utm_campaign")
	}
	if f.Campaign == "" {
		for _, raw := range []string{ctx.Page.Search, ctx.Page.URL, f.Prop("search"), f.Prop("url")} {
			if i := strings.IndexByte(raw, '?'); i >= 0 {
				raw = raw[i+1:]
			}
			if q, err := url.ParseQuery(strings.TrimPrefix(raw, "?")); err == nil && q.Get("utm_campaign") != "" {
				f.Campaign = q.Get("utm_campaign")
				break
			}
		}
	}
	f.Campaign = strings.TrimSpace(f.Campaign)
	return f
}

// Prop returns a property as text ("" if absent); a dotted name reaches
// into objects.
func (f *Facts) Prop(name string) string {
	v, ok := f.prop(name)
	if !ok {
		return ""
	}
	return v
}

func (f *Facts) prop(name string) (string, bool) {
	obj := f.props
	parts := strings.Split(name, ".")
	for i, p := range parts {
		raw, ok := obj[p]
		if !ok {
			return "", false
		}
		if i < len(parts)-1 {
			obj = nil
			if json.Unmarshal(raw, &obj) != nil {
				return "", false
			}
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
		var n float64
		if json.Unmarshal(raw, &n) == nil {
			return strconv.FormatFloat(n, 'f', -1, 64), true
		}
		if string(raw) == "null" {
			return "", false
		}
		return string(raw), true
	}
	return "", false
}

// Number returns a numeric property.
func (f *Facts) Number(name string) (float64, bool) {
	raw, ok := f.props[name]
	if !ok {
		return 0, false
	}
	var n float64
	if json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	return n, true
}

// HasPathPrefix reports whether p starts with prefix at a segment border:
// "/help" matches /help and /help/returns, not /helpdesk.
func HasPathPrefix(p, prefix string) bool {
	if prefix == "" || prefix == "/" {
		return strings.HasPrefix(p, "/") || prefix == ""
	}
	prefix = strings.TrimSuffix(prefix, "/")
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

func (m *Matcher) ruleMatches(r *store.TouchpointRule, f *Facts) bool {
	if r.Source != "" && !strings.EqualFold(r.Source, f.SourceID) && m.srcIDs[strings.ToLower(r.Source)] != f.SourceID {
		return false
	}
	if r.Type != "" && r.Type != f.Type {
		return false
	}
	if r.Event != "" && !strings.EqualFold(r.Event, strings.TrimSpace(f.Name)) {
		return false
	}
	if r.PathPrefix != "" && (f.Path == "" || !HasPathPrefix(f.Path, r.PathPrefix)) {
		return false
	}
	if r.PathPattern != "" {
		if ok, _ := path.Match(r.PathPattern, f.Path); !ok || f.Path == "" {
			return false
		}
	}
	if r.Campaign != "" && !strings.EqualFold(r.Campaign, f.Campaign) {
		return false
	}
	if r.Property != "" {
		v, ok := f.prop(r.Property)
		if !ok || (r.Equals != "" && !strings.EqualFold(strings.TrimSpace(v), r.Equals)) {
			return false
		}
	}
	return true
}

// Match returns the id of the first touchpoint with a matching rule, or "".
func (m *Matcher) Match(f *Facts) string {
	for i := range m.tps {
		for j := range m.tps[i].Rules {
			if m.ruleMatches(&m.tps[i].Rules[j], f) {
				return m.tps[i].ID
			}
		}
	}
	return ""
}

// MatchEvent is the touchpoint of an event: the one its "touchpoint"
// property names (id or name; campaign deliveries carry it), else the
// first matching rule's, else "".
func (m *Matcher) MatchEvent(f *Facts) string {
	if tp := m.Resolve(f.Prop("touchpoint")); tp != "" {
		return tp
	}
	return m.Match(f)
}

// GroupOf is the discovery group of an event no rule matched: its campaign
// if it has one; else, for a page with a path, its source and first path
// segment; else its source, type and name.
func GroupOf(f *Facts) (key, kind, value string) {
	switch {
	case f.Campaign != "":
		v := strings.ToLower(f.Campaign)
		return "campaign|" + v, "campaign", f.Campaign
	case f.Type == event.Page && f.Path != "":
		p := "/" + strings.SplitN(strings.TrimPrefix(f.Path, "/"), "/", 2)[0]
		return "path|" + f.SourceID + "|" + p, "path", p
	default:
		name := strings.TrimSpace(f.Name)
		kind := "event"
		if f.Type == event.Page || f.Type == event.Screen {
			kind = f.Type
		}
		return kind + "|" + f.SourceID + "|" + strings.ToLower(name), kind, name
	}
}

// RuleOf is the rule that matches a discovery group.
func RuleOf(u store.TouchpointUnmatched) store.TouchpointRule {
	switch u.Kind {
	case "campaign":
		return store.TouchpointRule{Campaign: u.Value}
	case "path":
		return store.TouchpointRule{Source: u.SourceID, PathPrefix: u.Value}
	case "page", "screen":
		return store.TouchpointRule{Source: u.SourceID, Type: u.Kind, Event: u.Value}
	default:
		return store.TouchpointRule{Source: u.SourceID, Type: "track", Event: u.Value}
	}
}
