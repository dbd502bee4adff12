// Package profile derives a customer's profile from events. Applying events
// and absorbing another profile commute, so a profile does not depend on the
// order in which events arrive or customers are merged.
package profile

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/event"
)

// Trait is one trait value with the event time that set it.
type Trait struct {
	Value json.RawMessage `json:"v"`
	At    time.Time       `json:"t"`
}

// Profile is everything Kunding computes about one customer from events.
type Profile struct {
	CustomerID    string           `json:"id"`
	Name          string           `json:"name,omitempty"`
	Email         string           `json:"email,omitempty"`
	Phone         string           `json:"phone,omitempty"`
	Traits        map[string]Trait `json:"traits"`
	FirstSeen     time.Time        `json:"firstSeen"`
	LastSeen      time.Time        `json:"lastSeen"`
	Events        int64            `json:"events"`
	CountsByType  map[string]int64 `json:"countsByType"`
	CountsByName  map[string]int64 `json:"countsByEvent"`
	Orders        int64            `json:"orders"`
	RevenueMicros int64            `json:"-"`
	ByCurrency    map[string]int64 `json:"-"`
	FirstOrder    time.Time        `json:"firstOrder"`
	LastOrder     time.Time        `json:"lastOrder"`
	// LastSurvey is the latest answer per survey type (nps, csat, ces).
	LastSurvey map[string]SurveyAnswer `json:"lastSurvey,omitempty"`
	// Consent is the latest decision per purpose (consent.go).
	Consent map[string]Consent `json:"consent,omitempty"`
}

// New returns an empty profile of a customer.
func New(id string) Profile {
	return Profile{CustomerID: id, Traits: map[string]Trait{}, CountsByType: map[string]int64{},
		CountsByName: map[string]int64{}, ByCurrency: map[string]int64{}}
}

// maxNamedCounts bounds the per-event-name counters of one profile, so that
// a client sending random event names cannot grow a profile without end.
const maxNamedCounts = 200

// OrderOf extracts order figures from an Order Completed event.
type OrderOf struct {
	OrderID       string
	RevenueMicros int64
	Currency      string
}

// Order returns the order an event represents, if it is an Order Completed track.
func Order(ev *event.Event) (OrderOf, bool) {
	if ev.Type != event.Track || ev.Event != event.OrderCompleted {
		return OrderOf{}, false
	}
	var p struct {
		OrderID  json.RawMessage `json:"order_id"`
		OrderID2 json.RawMessage `json:"orderId"`
		Revenue  json.RawMessage `json:"revenue"`
		Total    json.RawMessage `json:"total"`
		Currency string          `json:"currency"`
		Products []struct {
			Price    json.RawMessage `json:"price"`
			Quantity json.RawMessage `json:"quantity"`
		} `json:"products"`
	}
	_ = json.Unmarshal(ev.Properties, &p) // a malformed property only loses the amount
	o := OrderOf{Currency: strings.ToUpper(p.Currency)}
	o.OrderID = rawString(p.OrderID)
	if o.OrderID == "" {
		o.OrderID = rawString(p.OrderID2)
	}
	if v, ok := number(p.Revenue); ok {
		o.RevenueMicros = toMicros(v)
	} else if v, ok := number(p.Total); ok {
		o.RevenueMicros = toMicros(v)
	} else {
		var sum float64
		for _, pr := range p.Products {
			price, ok := number(pr.Price)
			if !ok {
				continue
			}
			q, ok := number(pr.Quantity)
			if !ok {
				q = 1
			}
			sum += price * q
		}
		o.RevenueMicros = toMicros(sum)
	}
	return o, true
}

func toMicros(v float64) int64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e12 {
		return 0
	}
	return int64(math.Round(v * 1e6))
}

// number reads a JSON number or a numeric string.
func number(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func rawString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	return string(raw)
}

// TraitsOf returns the traits an event states about the person: identify
// traits and, for every type, context.traits.
func TraitsOf(ev *event.Event) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	if len(ev.Context) > 0 && bytes.Contains(ev.Context, []byte(`"traits"`)) {
		var c struct {
			Traits map[string]json.RawMessage `json:"traits"`
		}
		if json.Unmarshal(ev.Context, &c) == nil && len(c.Traits) > 0 {
			out = c.Traits
		}
	}
	if ev.Type == event.Identify && len(ev.Traits) > 0 {
		var t map[string]json.RawMessage
		if json.Unmarshal(ev.Traits, &t) == nil {
			if out == nil {
				out = t
			} else {
				for k, v := range t {
					out[k] = v
				}
			}
		}
	}
	return out
}

// Apply folds one event into the profile. order is the event's order, if any.
func (p *Profile) Apply(ev *event.Event, traits map[string]json.RawMessage, order *OrderOf) {
	ts := ev.Timestamp
	if p.FirstSeen.IsZero() || ts.Before(p.FirstSeen) {
		p.FirstSeen = ts
	}
	if ts.After(p.LastSeen) {
		p.LastSeen = ts
	}
	p.Events++
	p.CountsByType[ev.Type]++
	if ev.Type == event.Track {
		if _, ok := p.CountsByName[ev.Event]; ok || len(p.CountsByName) < maxNamedCounts {
			p.CountsByName[ev.Event]++
		}
	}
	for k, v := range traits {
		p.setTrait(k, Trait{Value: v, At: ts})
	}
	if order != nil {
		p.Orders++
		p.RevenueMicros += order.RevenueMicros
		p.ByCurrency[order.Currency] += order.RevenueMicros
		if p.FirstOrder.IsZero() || ts.Before(p.FirstOrder) {
			p.FirstOrder = ts
		}
		if ts.After(p.LastOrder) {
			p.LastOrder = ts
		}
	}
	p.applySurvey(ev)
	p.applyConsent(ev, traits)
	p.Derive()
}

// setTrait keeps the value with the newest event time; ties are broken by
// the value itself so that the result does not depend on arrival order.
func (p *Profile) setTrait(k string, t Trait) {
	old, ok := p.Traits[k]
	if ok && (old.At.After(t.At) || (old.At.Equal(t.At) && bytes.Compare(old.Value, t.Value) >= 0)) {
		return
	}
	p.Traits[k] = t
}

// Absorb adds the profile of a customer merged into this one.
func (p *Profile) Absorb(o *Profile) {
	if !o.FirstSeen.IsZero() && (p.FirstSeen.IsZero() || o.FirstSeen.Before(p.FirstSeen)) {
		p.FirstSeen = o.FirstSeen
	}
	if o.LastSeen.After(p.LastSeen) {
		p.LastSeen = o.LastSeen
	}
	p.Events += o.Events
	for k, v := range o.CountsByType {
		p.CountsByType[k] += v
	}
	for k, v := range o.CountsByName {
		if _, ok := p.CountsByName[k]; ok || len(p.CountsByName) < maxNamedCounts {
			p.CountsByName[k] += v
		}
	}
	for k, t := range o.Traits {
		p.setTrait(k, t)
	}
	p.Orders += o.Orders
	p.RevenueMicros += o.RevenueMicros
	for k, v := range o.ByCurrency {
		p.ByCurrency[k] += v
	}
	if !o.FirstOrder.IsZero() && (p.FirstOrder.IsZero() || o.FirstOrder.Before(p.FirstOrder)) {
		p.FirstOrder = o.FirstOrder
	}
	if o.LastOrder.After(p.LastOrder) {
		p.LastOrder = o.LastOrder
	}
	p.absorbSurveys(o)
	p.absorbConsent(o)
	p.Derive()
}

// Derive sets the searchable name, e-mail and phone from the traits.
func (p *Profile) Derive() {
	str := func(k string) string {
		if t, ok := p.Traits[k]; ok {
			return strings.TrimSpace(rawString(t.Value))
		}
		return ""
	}
	name := str("name")
	if name == "" {
		name = strings.TrimSpace(str("firstName") + " " + str("lastName"))
	}
	if name == "" {
		name = strings.TrimSpace(str("first_name") + " " + str("last_name"))
	}
	p.Name = name
	p.Email = str("email")
	p.Phone = str("phone")
}

// Revenue is the sum of order revenue in currency units.
func (p *Profile) Revenue() float64 { return float64(p.RevenueMicros) / 1e6 }

// RFM are the recency/frequency/monetary figures of a profile at a moment.
type RFM struct {
	RecencyDays float64 `json:"recencyDays"`
	Frequency   int64   `json:"frequency"`
	Monetary    float64 `json:"monetary"`
}

// RFMAt computes recency (days since the last order), frequency (orders) and
// monetary (average order revenue) at now. Without orders it is nil.
func (p *Profile) RFMAt(now time.Time) *RFM {
	if p.Orders == 0 {
		return nil
	}
	return &RFM{
		RecencyDays: math.Round(now.Sub(p.LastOrder).Hours()/24*10) / 10,
		Frequency:   p.Orders,
		Monetary:    math.Round(float64(p.RevenueMicros)/float64(p.Orders)/1e4) / 100,
	}
}

// storedData is the JSON column of a profile: what has no column of its own.
type storedData struct {
	Traits       map[string]Trait        `json:"traits,omitempty"`
	CountsByType map[string]int64        `json:"types,omitempty"`
	CountsByName map[string]int64        `json:"names,omitempty"`
	ByCurrency   map[string]int64        `json:"currency,omitempty"`
	LastSurvey   map[string]SurveyAnswer `json:"surveys,omitempty"`
	Consent      map[string]Consent      `json:"consent,omitempty"`
}

// MarshalData encodes the parts of a profile that live in one JSON column.
func (p *Profile) MarshalData() ([]byte, error) {
	return json.Marshal(storedData{p.Traits, p.CountsByType, p.CountsByName, p.ByCurrency, p.LastSurvey, p.Consent})
}

// UnmarshalData decodes what MarshalData wrote.
func (p *Profile) UnmarshalData(b []byte) error {
	var d storedData
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	p.Traits, p.CountsByType, p.CountsByName, p.ByCurrency = d.Traits, d.CountsByType, d.CountsByName, d.ByCurrency
	p.LastSurvey = d.LastSurvey
	p.Consent = d.Consent
	if p.Traits == nil {
		p.Traits = map[string]Trait{}
	}
	if p.CountsByType == nil {
		p.CountsByType = map[string]int64{}
	}
	if p.CountsByName == nil {
		p.CountsByName = map[string]int64{}
	}
	if p.ByCurrency == nil {
		p.ByCurrency = map[string]int64{}
	}
	return nil
}
