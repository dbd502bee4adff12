package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

func identityNorm(kind, v string) string {
	switch kind {
	case "email":
		return identity.NormalizeEmail(v)
	case "phone":
		return identity.NormalizePhone(v)
	}
	return strings.TrimSpace(v)
}

// ConsentInput records decisions of a customer: purpose -> granted.
type ConsentInput struct {
	Purposes map[string]bool `json:"purposes"`
	// Source says where the customer decided ("call centre", "shop
	// checkout"); default "api".
	Source string `json:"source"`
	// At is when the customer decided (RFC 3339; default now).
	At string `json:"at"`
}

// SetConsent records a customer's consent decisions as an identify event
// with traits.consent through the normal event path; the profile derives
// the consent per purpose from it (package profile). It returns the
// decisions as they will stand.
func (s *Service) SetConsent(ctx context.Context, customerID string, in ConsentInput) (map[string]profile.Consent, error) {
	if len(in.Purposes) == 0 || len(in.Purposes) > 20 {
		return nil, invalid("purposes: 1 to 20 purposes, e.g. {\"email_marketing\": true}")
	}
	src, err := cleanText("source", in.Source, 0, 100, false)
	if err != nil {
		return nil, err
	}
	if src == "" {
		src = "api"
	}
	at := s.now().Truncate(time.Millisecond)
	if strings.TrimSpace(in.At) != "" {
		if at, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(in.At)); err != nil {
			return nil, invalid("at %q: an RFC 3339 time", in.At)
		}
		at = at.UTC()
		if at.After(s.now().Add(time.Hour)) {
			return nil, invalid("at: a decision cannot lie in the future")
		}
	}
	p, err := s.Store.Customer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	ids, err := s.Store.Identities(ctx, p.CustomerID)
	if err != nil {
		return nil, err
	}
	best, ok := bestIdentifier(func() []store.Identifier {
		out := make([]store.Identifier, len(ids))
		for i, x := range ids {
			out[i] = x.Identifier
		}
		return out
	}())
	if !ok {
		return nil, fmt.Errorf("customer %s has no identifier: %w", customerID, store.ErrNotFound)
	}
	consent := map[string]any{}
	out := map[string]profile.Consent{}
	var keys []string
	for k, granted := range in.Purposes {
		purpose := profile.NormalizePurpose(k)
		if purpose == "" {
			return nil, invalid("purpose %q: letters, digits and underscores, up to 60", k)
		}
		consent[purpose] = map[string]any{"granted": granted, "at": at.Format(time.RFC3339Nano), "source": src}
		out[purpose] = profile.Consent{Granted: granted, At: at, Source: src}
		keys = append(keys, fmt.Sprintf("%s=%v", purpose, granted))
	}
	slices.Sort(keys)
	traits, err := json.Marshal(map[string]any{"consent": consent})
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(p.CustomerID + "|" + strings.Join(keys, ",") + "|" + src + "|" + at.Format(time.RFC3339Nano)))
	ev := event.Event{Type: event.Identify, MessageID: "consent-" + hex.EncodeToString(h[:12]), Traits: traits, Timestamp: at, ReceivedAt: s.now()}
	ctxObj := map[string]any{"library": map[string]string{"name": "kunding-consent"}}
	addressed(&ev, best, ctxObj)
	if ev.Context, err = json.Marshal(ctxObj); err != nil {
		return nil, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	srcID, err := s.sourceID(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.Append(ctx, []store.Record{{SourceID: srcID, Event: ev, Body: body}}); err != nil {
		return nil, err
	}
	if s.Wake != nil {
		s.Wake()
	}
	if err := audit.Record(ctx, s.Store, audit.Entry{Action: AuditConsent, Target: p.CustomerID,
		Detail: strings.Join(keys, ", ") + " (" + src + ")"}); err != nil {
		return nil, err
	}
	// The decisions as they stand once the pipeline has the event: the
	// stored ones, overridden by these.
	merged := map[string]profile.Consent{}
	for k, v := range p.Consent {
		merged[k] = v
	}
	for k, v := range out {
		if old, ok := merged[k]; !ok || !old.At.After(v.At) {
			merged[k] = v
		}
	}
	return merged, nil
}
