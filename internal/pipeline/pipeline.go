// Package pipeline processes the event log in order: identity resolution,
// then the customer profile, timeline and orders. It is the only writer of
// the derived read models, and one worker at a time holds its lease.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

// CursorName is the name of the pipeline's position in the event log.
const CursorName = "pipeline"

const leaseName = "pipeline"

// Pipeline turns log entries into customers and profiles.
type Pipeline struct {
	Store     store.Store
	BatchSize int
	Holder    string // lease holder name (node id)
	Log       *slog.Logger
	// OnProcessed, if set, is called after each committed batch.
	OnProcessed func(n int, lastSeq int64)

	wake chan struct{}
	once sync.Once
}

func (p *Pipeline) init() {
	p.once.Do(func() {
		p.wake = make(chan struct{}, 1)
		if p.BatchSize <= 0 {
			p.BatchSize = 2000
		}
		if p.Log == nil {
			p.Log = slog.Default()
		}
		if p.Holder == "" {
			p.Holder = fmt.Sprintf("node-%d", time.Now().UnixNano())
		}
	})
}

// Wake tells a running worker that new events were appended.
func (p *Pipeline) Wake() {
	p.init()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Step processes up to one batch of new events and returns how many it processed.
func (p *Pipeline) Step(ctx context.Context) (int, error) {
	p.init()
	cur, err := p.Store.Cursor(ctx, CursorName)
	if err != nil {
		return 0, err
	}
	evs, err := p.Store.Events(ctx, cur, p.BatchSize)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	last := evs[len(evs)-1].Seq
	err = p.Store.Process(ctx, func(tx store.Tx) error {
		b := batch{tx: tx, profiles: map[string]*profile.Profile{}}
		for i := range evs {
			if err := b.apply(&evs[i]); err != nil {
				return fmt.Errorf("event %d: %w", evs[i].Seq, err)
			}
		}
		if err := b.flush(); err != nil {
			return err
		}
		return tx.AdvanceCursor(CursorName, cur, last)
	})
	if err != nil {
		return 0, err
	}
	if p.OnProcessed != nil {
		p.OnProcessed(len(evs), last)
	}
	return len(evs), nil
}

// Drain processes until the log is exhausted. progress, if set, is called
// after each batch.
func (p *Pipeline) Drain(ctx context.Context, progress func(done int)) (int, error) {
	total := 0
	for {
		n, err := p.Step(ctx)
		total += n
		if err != nil {
			return total, err
		}
		if progress != nil && n > 0 {
			progress(total)
		}
		if n == 0 {
			return total, nil
		}
	}
}

// Run works until ctx ends, while this node holds the pipeline lease.
func (p *Pipeline) Run(ctx context.Context) {
	p.init()
	const ttl = 15 * time.Second
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var leaseUntil time.Time
	defer func() {
		if !leaseUntil.IsZero() {
			rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			p.Store.ReleaseLease(rctx, leaseName, p.Holder)
			cancel()
		}
	}()
	for {
		if time.Until(leaseUntil) < ttl/2 {
			ok, err := p.Store.AcquireLease(ctx, leaseName, p.Holder, ttl)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					p.Log.Warn("pipeline lease", "err", err)
				}
				leaseUntil = time.Time{}
			case ok:
				leaseUntil = time.Now().Add(ttl)
			default:
				leaseUntil = time.Time{}
			}
		}
		if !leaseUntil.IsZero() {
			for ctx.Err() == nil && time.Until(leaseUntil) > ttl/2 {
				n, err := p.Step(ctx)
				if err != nil {
					if ctx.Err() == nil && !errors.Is(err, store.ErrCursorMoved) {
						p.Log.Error("pipeline step", "err", err)
					}
					break
				}
				if n == 0 {
					break
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-tick.C:
		}
	}
}

// batch caches the profiles touched by one batch of events.
type batch struct {
	tx       store.Tx
	profiles map[string]*profile.Profile
	deleted  map[string]bool
}

func (b *batch) profile(id string) (*profile.Profile, error) {
	if p, ok := b.profiles[id]; ok {
		return p, nil
	}
	p, _, err := b.tx.Profile(id)
	if err != nil {
		return nil, err
	}
	b.profiles[id] = &p
	return &p, nil
}

func (b *batch) apply(se *store.StoredEvent) error {
	var ev event.Event
	if err := json.Unmarshal(se.Body, &ev); err != nil {
		// The log only holds validated events; a body that no longer decodes
		// is skipped rather than blocking every later event.
		return nil
	}
	traits := profile.TraitsOf(&ev)
	ids := identity.Of(&ev, traits)
	if len(ids) == 0 {
		return nil
	}
	found, err := b.tx.Lookup(ids)
	if err != nil {
		return err
	}
	custs := make([]string, 0, len(found))
	seen := map[string]bool{}
	for _, c := range found {
		if !seen[c] {
			seen[c] = true
			custs = append(custs, c)
		}
	}
	sort.Strings(custs)
	users, err := b.tx.UserIDs(custs)
	if err != nil {
		return err
	}
	d := identity.Decide(&ev, ids, found, users)
	if d.Create {
		if err := b.tx.CreateCustomer(d.Target, se.Seq, ev.Timestamp); err != nil {
			return err
		}
	}
	target, err := b.profile(d.Target)
	if err != nil {
		return err
	}
	for _, from := range d.Merge {
		if err := b.tx.MoveCustomer(store.Merge{From: from, Into: d.Target, Reason: d.Reason, Seq: se.Seq, At: ev.Timestamp}); err != nil {
			return err
		}
		other, err := b.profile(from)
		if err != nil {
			return err
		}
		target.Absorb(other)
		delete(b.profiles, from)
		if b.deleted == nil {
			b.deleted = map[string]bool{}
		}
		b.deleted[from] = true
	}
	for _, id := range d.Attach {
		if err := b.tx.Attach(id, d.Target, se.Seq, ev.Timestamp); err != nil {
			return err
		}
	}
	for _, c := range d.Conflicts {
		c.Seq, c.At = se.Seq, ev.Timestamp
		if err := b.tx.RecordConflict(c); err != nil {
			return err
		}
	}
	if err := b.tx.AddTimeline(d.Target, ev.Timestamp, se.Seq); err != nil {
		return err
	}
	var order *profile.OrderOf
	if o, ok := profile.Order(&ev); ok {
		order = &o
		if err := b.tx.AddOrder(store.Order{CustomerID: d.Target, Seq: se.Seq, Timestamp: ev.Timestamp,
			OrderID: o.OrderID, RevenueMicros: o.RevenueMicros, Currency: o.Currency}); err != nil {
			return err
		}
	}
	target.Apply(&ev, traits, order)
	return nil
}

func (b *batch) flush() error {
	for id := range b.deleted {
		if _, live := b.profiles[id]; live {
			continue
		}
		if err := b.tx.DeleteProfile(id); err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(b.profiles))
	for id := range b.profiles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := b.tx.SaveProfile(b.profiles[id]); err != nil {
			return err
		}
	}
	return nil
}
