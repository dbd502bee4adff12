package profile

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
)

func TestConsentNewestWinsInAnyOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	evs := []struct {
		at     time.Time
		traits string
	}{
		{t0, `{"consent":{"email_marketing":true,"Phone Marketing":true}}`},
		{t0.Add(time.Hour), `{"consent":{"email_marketing":{"granted":false,"source":"unsubscribe link"}}}`},
		{t0.Add(2 * time.Hour), `{"consents":{"letter":true,"profiling":"yes"}}`},
		{t0.Add(30 * time.Minute), `{"consent":{"email_marketing":true}}`},
	}
	build := func(order []int) Profile {
		p := New("c1")
		for _, i := range order {
			ev := &event.Event{Type: event.Identify, Timestamp: evs[i].at, Traits: json.RawMessage(evs[i].traits)}
			p.Apply(ev, TraitsOf(ev), nil)
		}
		return p
	}
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}} {
		p := build(order)
		if c := p.Consent["email_marketing"]; c.Granted || c.Source != "unsubscribe link" || !c.At.Equal(t0.Add(time.Hour)) {
			t.Fatalf("order %v: email_marketing = %+v", order, c)
		}
		if c := p.Consent["phone_marketing"]; !c.Granted || c.Source != "identify event" {
			t.Fatalf("order %v: phone_marketing = %+v", order, c)
		}
		if !p.Consent["letter"].Granted {
			t.Fatalf("order %v: letter missing: %+v", order, p.Consent)
		}
		if _, ok := p.Consent["profiling"]; ok {
			t.Fatalf("order %v: a string is no decision: %+v", order, p.Consent)
		}
	}
	// Merging two halves gives the same as one profile.
	a, b := build([]int{0, 2}), build([]int{1, 3})
	a.Absorb(&b)
	if c := a.Consent["email_marketing"]; c.Granted {
		t.Fatalf("absorb: %+v", c)
	}
	// Stored and read back.
	data, _ := a.MarshalData()
	var r Profile
	if err := r.UnmarshalData(data); err != nil || len(r.Consent) != 3 {
		t.Fatalf("round trip: %+v %v", r.Consent, err)
	}
}
