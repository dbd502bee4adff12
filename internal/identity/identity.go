// Package identity finds the identifiers of a person in an event and decides
// which customer an event belongs to: which customers to create, attach to
// and merge. The decision is pure; the pipeline applies it to the store.
package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"unicode"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/store"
)

// Identifier kinds.
const (
	User  = "user"
	Anon  = "anon"
	Email = "email"
	Phone = "phone"
	// ExtPrefix starts the kind of an external id: ext:<type>.
	ExtPrefix = "ext:"
)

// Rank orders identifiers by how surely they name one person; the customer
// of the highest-ranked identifier of an event is the one it belongs to.
func Rank(kind string) int {
	switch {
	case kind == User:
		return 5
	case kind == Email:
		return 4
	case kind == Phone:
		return 3
	case strings.HasPrefix(kind, ExtPrefix):
		return 2
	default:
		return 1
	}
}

// NormalizeEmail lowercases and trims an e-mail address; it returns "" for
// something that is not an address.
func NormalizeEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n") {
		return ""
	}
	return s
}

// NormalizePhone keeps the digits of a phone number and a leading plus;
// the international prefix 00 becomes +. Numbers without a country code stay
// national (Kunding does not guess the country). Fewer than 6 digits: "".
func NormalizePhone(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '+' && b.Len() == 0 && i == strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) }):
			b.WriteByte('+')
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	out := b.String()
	if strings.HasPrefix(out, "00") {
		out = "+" + out[2:]
	}
	digits := strings.TrimPrefix(out, "+")
	if len(digits) < 6 || len(digits) > 20 {
		return ""
	}
	return out
}

// Of returns the identifiers an event carries, highest rank first. traits
// are the event's traits (identify traits and context.traits).
func Of(ev *event.Event, traits map[string]json.RawMessage) []store.Identifier {
	var ids []store.Identifier
	add := func(kind, value string) {
		if value == "" {
			return
		}
		for _, x := range ids {
			if x.Kind == kind && x.Value == value {
				return
			}
		}
		ids = append(ids, store.Identifier{Kind: kind, Value: value})
	}
	add(User, ev.UserID)
	if ev.Type == event.Alias {
		// previousId may have been an anonymous id or an earlier user id;
		// claiming both keeps the result independent of arrival order.
		add(User, ev.PreviousID)
		add(Anon, ev.PreviousID)
	}
	add(Anon, ev.AnonymousID)
	if v, ok := traits["email"]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			add(Email, NormalizeEmail(s))
		}
	}
	if v, ok := traits["phone"]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			add(Phone, NormalizePhone(s))
		}
	}
	if len(ev.Context) > 0 && strings.Contains(string(ev.Context), "externalIds") {
		var c struct {
			ExternalIDs []struct {
				ID   json.RawMessage `json:"id"`
				Type string          `json:"type"`
			} `json:"externalIds"`
		}
		if json.Unmarshal(ev.Context, &c) == nil {
			for _, x := range c.ExternalIDs {
				t := strings.ToLower(strings.TrimSpace(x.Type))
				var id string
				if json.Unmarshal(x.ID, &id) != nil {
					id = strings.Trim(string(x.ID), `"`)
				}
				id = strings.TrimSpace(id)
				if t == "" || id == "" || len(id) > 512 || len(t) > 64 {
					continue
				}
				switch t {
				case "email":
					add(Email, NormalizeEmail(id))
				case "phone":
					add(Phone, NormalizePhone(id))
				case "user_id", "userid":
					add(User, id)
				case "anonymous_id", "anonymousid":
					add(Anon, id)
				default:
					add(ExtPrefix+t, id)
				}
			}
		}
	}
	sort.SliceStable(ids, func(i, j int) bool { return Rank(ids[i].Kind) > Rank(ids[j].Kind) })
	return ids
}

// CustomerID is the id of a customer created for an identifier. It is
// derived from the identifier, so that two workers creating the customer of
// the same new identifier at once create the same one.
func CustomerID(id store.Identifier) string {
	h := sha256.Sum256([]byte(id.Kind + "\x00" + id.Value))
	return "c" + hex.EncodeToString(h[:10])
}

// Decision is what to do with one event.
type Decision struct {
	Target    string             // customer the event belongs to
	Create    bool               // Target is new
	Merge     []string           // customers to merge into Target
	Attach    []store.Identifier // identifiers to attach to Target
	Conflicts []store.Conflict
	Reason    string // why the merges happen
}

// Decide resolves an event's identifiers ids (highest rank first) against
// the customers they already belong to (found) and those customers' user ids.
// Two customers with different user ids are only merged by an explicit alias.
func Decide(ev *event.Event, ids []store.Identifier, found map[store.Identifier]string, users map[string][]string) Decision {
	var d Decision
	if len(ids) == 0 {
		return d
	}
	explicit := ev.Type == event.Alias
	userSet := map[string]bool{}
	// The event's own user id decides first; otherwise the highest-ranked
	// identifier that is known.
	if ev.UserID != "" {
		if c, ok := found[store.Identifier{Kind: User, Value: ev.UserID}]; ok {
			d.Target = c
		}
	}
	if d.Target == "" {
		for _, id := range ids {
			c, ok := found[id]
			if !ok {
				continue
			}
			if !explicit && ev.UserID != "" && hasOther(users[c], ev.UserID) {
				continue // belongs to another user: never merged automatically
			}
			d.Target = c
			break
		}
	}
	if d.Target == "" {
		d.Target = CustomerID(ids[0])
		d.Create = true
	}
	for _, u := range users[d.Target] {
		userSet[u] = true
	}
	if ev.UserID != "" {
		userSet[ev.UserID] = true
	}
	merged := map[string]bool{d.Target: true}
	var reasons []string
	for _, id := range ids {
		c, ok := found[id]
		if !ok {
			if id.Kind == User && !explicit && len(userSet) > 0 && !userSet[id.Value] {
				d.Conflicts = append(d.Conflicts, store.Conflict{Identifier: id, CustomerID: d.Target,
					Detail: "second user id for one customer not attached automatically"})
				continue
			}
			if id.Kind == User {
				userSet[id.Value] = true
			}
			d.Attach = append(d.Attach, id)
			continue
		}
		if merged[c] {
			continue
		}
		if !explicit && conflicts(userSet, users[c]) {
			d.Conflicts = append(d.Conflicts, store.Conflict{Identifier: id, CustomerID: d.Target, OtherID: c,
				Detail: "identifier shared by customers with different user ids; not merged"})
			continue
		}
		merged[c] = true
		for _, u := range users[c] {
			userSet[u] = true
		}
		d.Merge = append(d.Merge, c)
		reasons = append(reasons, id.Kind+" "+id.Value)
	}
	if len(d.Merge) > 0 {
		how := ev.Type
		if explicit {
			how = "alias"
		}
		d.Reason = how + " event " + ev.MessageID + " shares " + strings.Join(reasons, ", ")
	}
	return d
}

func hasOther(users []string, u string) bool {
	for _, x := range users {
		if x != u {
			return true
		}
	}
	return false
}

func conflicts(set map[string]bool, users []string) bool {
	if len(set) == 0 {
		return false
	}
	for _, u := range users {
		if !set[u] {
			return true
		}
	}
	return false
}
