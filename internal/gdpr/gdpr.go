// Package gdpr answers the requests of data subjects (GDPR articles 15, 17
// and 20): export everything Kunding holds about one person as one JSON
// document, and erase one person everywhere. Both are recorded in the audit
// log, the erasure with ids and counts only.
//
// Erasure deletes the person's events from the event log, which is
// otherwise append-only: the law is the one exception. So a rebuild of the
// read models cannot bring the person back. Events that arrive later for
// the same identifiers create a new customer, as for any stranger (with the
// same customer id, because ids derive from the first identifier).
package gdpr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// Format names the layout of an export document.
const Format = "kunding-gdpr-export/1"

// Document is everything Kunding holds about one person.
type Document struct {
	Format     string    `json:"format"`
	ExportedAt time.Time `json:"exportedAt"`
	ExportedBy string    `json:"exportedBy"`
	CustomerID string    `json:"customerId"`
	// RequestedID is the id asked for when it was merged into CustomerID.
	RequestedID string `json:"requestedId,omitempty"`
	// MergedCustomers were merged into CustomerID; their data is part of it.
	MergedCustomers   []string            `json:"mergedCustomers"`
	Profile           profile.Profile     `json:"profile"`
	RevenueByCurrency map[string]float64  `json:"revenueByCurrency"`
	Identities        []store.IdentityRow `json:"identities"`
	// Events are the person's events, oldest first, each with its body as
	// it was received.
	Events    []Event          `json:"events"`
	Orders    []Order          `json:"orders"`
	Merges    []store.Merge    `json:"merges"`
	Conflicts []store.Conflict `json:"conflicts"`
	// RejectedEvents are refused events whose body names one of the
	// person's identifiers.
	RejectedEvents []store.Rejected `json:"rejectedEvents"`
	// AuditLog lists who looked at, exported or changed this person.
	AuditLog []store.AuditEntry `json:"auditLog"`
	// Cases are the person's complaints and requests with their history.
	Cases []Case `json:"cases"`
}

// Case is one case of the person with its history.
type Case struct {
	store.Case
	History []store.CaseChange `json:"history"`
}

// Event is one event of the person.
type Event struct {
	Seq        int64           `json:"seq"`
	Type       string          `json:"type"`
	Name       string          `json:"name,omitempty"`
	Timestamp  time.Time       `json:"timestamp"`
	SourceID   string          `json:"sourceId"`
	SourceName string          `json:"sourceName"`
	Body       json.RawMessage `json:"body"`
}

// Order is one order of the person.
type Order struct {
	store.Order
	Revenue float64 `json:"revenue"`
}

// chain returns the customer of id (following merges) and every customer
// merged into it, directly or through others.
func chain(ctx context.Context, st store.Store, survivor string) ([]string, []store.Merge, error) {
	ids := []string{survivor}
	seen := map[string]bool{survivor: true}
	var merges []store.Merge
	seenMerge := map[store.Merge]bool{}
	for i := 0; i < len(ids); i++ {
		ms, err := st.Merges(ctx, ids[i])
		if err != nil {
			return nil, nil, err
		}
		for _, m := range ms {
			if !seenMerge[m] {
				seenMerge[m] = true
				merges = append(merges, m)
			}
			if m.Into == ids[i] && !seen[m.From] {
				seen[m.From] = true
				ids = append(ids, m.From)
			}
		}
	}
	return ids, merges, nil
}

// Collect assembles the export of the customer id without recording it;
// Export records it.
func Collect(ctx context.Context, st store.Store, id string) (*Document, error) {
	p, err := st.Customer(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("customer %s: %w", id, err)
	}
	x := &Document{Format: Format, ExportedAt: time.Now().UTC(), ExportedBy: audit.ActorFrom(ctx), CustomerID: p.CustomerID,
		Profile: p, RevenueByCurrency: map[string]float64{}, Identities: []store.IdentityRow{}, Events: []Event{},
		Orders: []Order{}, Conflicts: []store.Conflict{}, RejectedEvents: []store.Rejected{}, AuditLog: []store.AuditEntry{}}
	if id != p.CustomerID {
		x.RequestedID = id
	}
	for cur, v := range p.ByCurrency {
		x.RevenueByCurrency[cur] = float64(v) / 1e6
	}
	ids, merges, err := chain(ctx, st, p.CustomerID)
	if err != nil {
		return nil, err
	}
	x.MergedCustomers, x.Merges = ids[1:], merges
	if x.Merges == nil {
		x.Merges = []store.Merge{}
	}
	seenConflict := map[store.Conflict]bool{}
	for _, c := range ids {
		rows, err := st.Identities(ctx, c)
		if err != nil {
			return nil, err
		}
		x.Identities = append(x.Identities, rows...)
		os, err := st.Orders(ctx, c)
		if err != nil {
			return nil, err
		}
		for _, o := range os {
			x.Orders = append(x.Orders, Order{Order: o, Revenue: float64(o.RevenueMicros) / 1e6})
		}
		cs, err := st.Conflicts(ctx, c)
		if err != nil {
			return nil, err
		}
		for _, k := range cs {
			if !seenConflict[k] {
				seenConflict[k] = true
				x.Conflicts = append(x.Conflicts, k)
			}
		}
		for before := int64(0); ; {
			es, err := st.AuditEntries(ctx, store.AuditFilter{Target: c, Before: before, Limit: 1000})
			if err != nil {
				return nil, err
			}
			x.AuditLog = append(x.AuditLog, es...)
			if len(es) < 1000 {
				break
			}
			before = es[len(es)-1].ID
		}
	}
	// The timeline of the surviving customer holds the events of every
	// customer merged into it.
	var cur store.TimelineCursor
	for {
		es, err := st.Timeline(ctx, p.CustomerID, cur, 500)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			body := json.RawMessage(e.Body)
			if !json.Valid(body) {
				b, _ := json.Marshal(string(e.Body))
				body = b
			}
			x.Events = append(x.Events, Event{Seq: e.Seq, Type: e.Type, Name: e.Name, Timestamp: e.Timestamp,
				SourceID: e.SourceID, SourceName: e.SourceName, Body: body})
		}
		if len(es) < 500 {
			break
		}
		last := es[len(es)-1]
		cur = store.TimelineCursor{Timestamp: last.Timestamp, Seq: last.Seq}
	}
	slices.Reverse(x.Events)
	var idents []store.Identifier
	for _, r := range x.Identities {
		idents = append(idents, r.Identifier)
	}
	// Rejected events are bounded per source (the newest 10,000), so one
	// read holds them all.
	rs, err := st.RejectedEvents(ctx, "", 1<<20)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if Mentions(idents, []byte(r.Body)) {
			x.RejectedEvents = append(x.RejectedEvents, r)
		}
	}
	x.Cases = []Case{}
	if cs, ok := st.(store.CaseStore); ok {
		list, err := cs.Cases(ctx, store.CaseFilter{CustomerIDs: append([]string{p.CustomerID}, x.MergedCustomers...)})
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			h, err := cs.CaseHistory(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			x.Cases = append(x.Cases, Case{Case: c, History: h})
		}
	}
	return x, nil
}

// Export assembles the export of the customer id and records it in the
// audit log (the actor of ctx). Without the audit entry there is no export.
func Export(ctx context.Context, st store.Store, id string) (*Document, error) {
	x, err := Collect(ctx, st, id)
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("%d events, %d identities, %d orders", len(x.Events), len(x.Identities), len(x.Orders))
	if err := audit.Record(ctx, st, audit.Entry{Action: audit.CustomerExport, Target: x.CustomerID, Detail: detail}); err != nil {
		return nil, err
	}
	return x, nil
}

// EraseOptions tune Erase.
type EraseOptions struct {
	// Wait is how long to wait for the pipeline to process the person's
	// latest events before giving up with store.ErrPending (default 15 s).
	Wait time.Duration
	// Before runs first: the server waits for its journal there, so that
	// events of the person acknowledged just before are erased too.
	Before func(ctx context.Context) error
}

// Erase deletes the customer id (or the customer it was merged into), every
// customer merged into it, and everything about them: events in the log,
// identities, profile, timeline, orders, merges, identity conflicts, and
// rejected events naming their identifiers. Events of other customers that
// carried one of the person's identifiers (identity conflicts) are erased
// too, and those customers' profiles computed anew. The audit log gets one
// entry with the customer id and counts, nothing else about the person.
func Erase(ctx context.Context, st store.Store, id string, opt EraseOptions) (store.ErasureReport, error) {
	if opt.Wait <= 0 {
		opt.Wait = 15 * time.Second
	}
	deadline := time.Now().Add(opt.Wait)
	if opt.Before != nil {
		bctx, cancel := context.WithDeadline(ctx, deadline)
		err := opt.Before(bctx)
		cancel()
		if err != nil {
			return store.ErasureReport{}, fmt.Errorf("%w: events acknowledged before the erasure are not all in the log yet (%v)", store.ErrPending, err)
		}
	}
	req := store.Erasure{CustomerID: id, Pending: Pending, Mentions: Mentions, Reprofile: Reprofile}
	for {
		rep, err := st.EraseCustomer(ctx, req)
		if errors.Is(err, store.ErrPending) && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return rep, ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return rep, err
		}
		detail := fmt.Sprintf("erased customers %s: %d identifiers, %d events, %d orders, %d merges, %d conflicts, %d rejected events",
			strings.Join(rep.Customers, " "), rep.Identifiers, rep.Events, rep.Orders, rep.Merges, rep.Conflicts, rep.Rejected)
		if len(rep.Reprofiled) > 0 {
			detail += "; profiles recomputed: " + strings.Join(rep.Reprofiled, " ")
		}
		// The erasure is committed; if the audit entry fails the caller
		// hears of it, but the person stays erased.
		if err := audit.Record(ctx, st, audit.Entry{Action: audit.CustomerErase, Target: rep.CustomerID, Detail: detail}); err != nil {
			return rep, fmt.Errorf("customer %s erased, but the audit entry failed: %w", rep.CustomerID, err)
		}
		return rep, nil
	}
}

// Pending reports whether an event body from the log carries one of ids,
// as identity resolution would read it.
func Pending(ids []store.Identifier, body []byte) bool {
	var ev event.Event
	if json.Unmarshal(body, &ev) != nil {
		return false
	}
	for _, x := range identity.Of(&ev, profile.TraitsOf(&ev)) {
		if slices.Contains(ids, x) {
			return true
		}
	}
	return false
}

// Mentions reports whether a body (any bytes: rejected events need not be
// valid JSON) names one of ids: a case-insensitive match of the value; a
// short value (under 6 bytes) must stand as a whole JSON string; a phone
// number also matches written with spaces, dashes, dots, slashes or
// parentheses.
func Mentions(ids []store.Identifier, body []byte) bool {
	if len(ids) == 0 || len(body) == 0 {
		return false
	}
	lower := bytes.ToLower(body)
	var squeezed []byte
	for _, x := range ids {
		v := strings.ToLower(x.Value)
		if v == "" {
			continue
		}
		if len(v) >= 6 {
			if bytes.Contains(lower, []byte(v)) {
				return true
			}
		} else if bytes.Contains(lower, []byte(`"`+v+`"`)) {
			return true
		}
		if x.Kind == identity.Phone {
			if squeezed == nil {
				squeezed = bytes.Map(func(r rune) rune {
					if strings.ContainsRune(" -./()\t", r) {
						return -1
					}
					return r
				}, lower)
			}
			digits := strings.TrimPrefix(v, "+")
			if len(digits) >= 6 && (bytes.Contains(squeezed, []byte(digits))) {
				return true
			}
		}
	}
	return false
}

// Reprofile computes a customer's profile from its events, as the pipeline
// would; nil when no event is left.
func Reprofile(customerID string, evs []store.StoredEvent) (*profile.Profile, error) {
	p := profile.New(customerID)
	n := 0
	for _, se := range evs {
		ev, err := event.Decode(se.Body)
		if err != nil {
			continue // the pipeline skips what does not decode, too
		}
		var order *profile.OrderOf
		if o, ok := profile.Order(&ev); ok {
			order = &o
		}
		p.Apply(&ev, profile.TraitsOf(&ev), order)
		n++
	}
	if n == 0 {
		return nil, nil
	}
	return &p, nil
}
