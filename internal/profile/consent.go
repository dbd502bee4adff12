package profile

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/event"
)

// Consent is a customer's latest decision about one purpose (e-mail
// marketing, phone marketing, letters, profiling, ...): granted or
// withdrawn, when, and through what source.
type Consent struct {
	Granted bool      `json:"granted"`
	At      time.Time `json:"at"`
	Source  string    `json:"source,omitempty"`
}

// newer reports whether a should replace b: the later decision wins; at the
// same instant a withdrawal wins (the careful choice), then the greater
// source, so that the result does not depend on arrival order.
func (a Consent) newer(b Consent) bool {
	if !a.At.Equal(b.At) {
		return a.At.After(b.At)
	}
	if a.Granted != b.Granted {
		return !a.Granted
	}
	return a.Source > b.Source
}

// maxConsentPurposes bounds the purposes of one profile.
const maxConsentPurposes = 50

// setConsent keeps the newer decision of a purpose.
func (p *Profile) setConsent(purpose string, c Consent) {
	if p.Consent == nil {
		p.Consent = map[string]Consent{}
	}
	old, ok := p.Consent[purpose]
	if ok && !c.newer(old) {
		return
	}
	if !ok && len(p.Consent) >= maxConsentPurposes {
		return
	}
	p.Consent[purpose] = c
}

// ConsentOf reads the consent decisions an event states: the trait
// "consent" (or "consents") as an object of purposes, each either a boolean
// or an object {"granted": bool, "at": RFC 3339 time, "source": text}. The
// time defaults to the event's time, the source to "<type> event".
func ConsentOf(ev *event.Event, traits map[string]json.RawMessage) map[string]Consent {
	var out map[string]Consent
	for _, key := range []string{"consent", "consents"} {
		raw := bytes.TrimSpace(traits[key])
		if len(raw) == 0 || raw[0] != '{' {
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		for purpose, v := range m {
			purpose = NormalizePurpose(purpose)
			if purpose == "" {
				continue
			}
			c := Consent{At: ev.Timestamp, Source: ev.Type + " event"}
			v = bytes.TrimSpace(v)
			switch {
			case string(v) == "true":
				c.Granted = true
			case string(v) == "false":
			case len(v) > 0 && v[0] == '{':
				var o struct {
					Granted *bool  `json:"granted"`
					At      string `json:"at"`
					Source  string `json:"source"`
				}
				if json.Unmarshal(v, &o) != nil || o.Granted == nil {
					continue
				}
				c.Granted = *o.Granted
				if t, err := time.Parse(time.RFC3339Nano, o.At); err == nil {
					c.At = t.UTC()
				}
				if s := strings.TrimSpace(o.Source); s != "" && len(s) <= 100 {
					c.Source = s
				}
			default:
				continue
			}
			if out == nil {
				out = map[string]Consent{}
			}
			out[purpose] = c
		}
	}
	return out
}

// NormalizePurpose lower-cases a purpose and keeps letters, digits and
// underscores ("E-Mail Marketing" -> "e_mail_marketing"); "" if nothing is left.
func NormalizePurpose(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '_' || r == '-' || r == ' ' || r == '.':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		}
	}
	out := strings.TrimSuffix(b.String(), "_")
	if len(out) > 60 {
		return ""
	}
	return out
}

func (p *Profile) applyConsent(ev *event.Event, traits map[string]json.RawMessage) {
	for k, c := range ConsentOf(ev, traits) {
		p.setConsent(k, c)
	}
}

func (p *Profile) absorbConsent(o *Profile) {
	for k, c := range o.Consent {
		p.setConsent(k, c)
	}
}
