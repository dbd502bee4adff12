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
	"github.com/kunding/kunding/internal/eventpack"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

// CursorName is the name of the pipeline's position in the event log.
const CursorName = "pipeline"

// LeaseName is the lease a node must hold to run the pipeline; imports and
// rebuilds take it too, so that only one process writes the read models.
const LeaseName = "pipeline"

// Pipeline turns log entries into customers and profiles.
type Pipeline struct {
	Store     store.Store
	BatchSize int
	Holder    string // lease holder name (node id)
	Log       *slog.Logger
	// OnProcessed, if set, is called after each committed batch.
	OnProcessed func(n int, lastSeq int64)
	// AfterBatch, if set, is called after each committed batch with the
	// customers whose orders changed (new orders or merges), so that their
	// predictions follow within the second.
	AfterBatch func(ctx context.Context, customers []string)

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
	// Decode and find identifiers first, so the batch can look them all up
	// in one query.
	items := make([]item, 0, len(evs))
	var packs []byte // the packed copies, one allocation for most batches
	for i := range evs {
		var it item
		it.seq = evs[i].Seq
		var err error
		if it.ev, err = event.Decode(evs[i].Body); err != nil {
			// The log only holds validated events; a body that no longer
			// decodes is skipped rather than blocking every later event.
			p.Log.Error("pipeline: undecodable event skipped", "seq", evs[i].Seq, "err", err)
			continue
		}
		it.traits = profile.TraitsOf(&it.ev)
		it.ids = identity.Of(&it.ev, it.traits)
		// The timeline's copy is packed here, before the write transaction,
		// so packing does not hold the store's writer.
		it.src, it.typ, it.name = evs[i].SourceID, evs[i].Type, evs[i].Name
		start := len(packs)
		packs = eventpack.Pack(packs, evs[i].Body)
		it.packed = packs[start:len(packs):len(packs)]
		items = append(items, it)
	}
	var changed []string
	err = p.Store.Process(ctx, func(tx store.Tx) error {
		b, err := newBatch(tx, items)
		if err != nil {
			return err
		}
		for i := range items {
			if err := b.apply(&items[i]); err != nil {
				return fmt.Errorf("event %d: %w", items[i].seq, err)
			}
		}
		if err := b.flush(); err != nil {
			return err
		}
		changed = b.orderCustomers()
		return tx.AdvanceCursor(CursorName, cur, last)
	})
	if err != nil {
		return 0, err
	}
	if p.OnProcessed != nil {
		p.OnProcessed(len(evs), last)
	}
	if p.AfterBatch != nil && len(changed) > 0 {
		p.AfterBatch(ctx, changed)
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
	var leaseUntil, lastErrLog time.Time
	logErr := func(msg string, err error) {
		// An unreachable database fails every tick; one line in ten seconds
		// says as much.
		if ctx.Err() == nil && time.Since(lastErrLog) >= 10*time.Second {
			p.Log.Error(msg, "err", err)
			lastErrLog = time.Now()
		}
	}
	defer func() {
		if !leaseUntil.IsZero() {
			rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			p.Store.ReleaseLease(rctx, LeaseName, p.Holder)
			cancel()
		}
	}()
	for {
		if time.Until(leaseUntil) < ttl/2 {
			ok, err := p.Store.AcquireLease(ctx, LeaseName, p.Holder, ttl)
			switch {
			case err != nil:
				logErr("pipeline lease", err)
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
					if !errors.Is(err, store.ErrCursorMoved) {
						logErr("pipeline step", err)
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

// item is one decoded event of a batch.
type item struct {
	seq    int64
	ev     event.Event
	traits map[string]json.RawMessage
	ids    []store.Identifier
	// What the timeline keeps of the event.
	src, typ, name string
	packed         []byte
}

// batch holds, for one batch of events, what it read from the store and what
// it will write: identities and user ids are looked up once for the whole
// batch, timeline and order rows are written together at the end.
type batch struct {
	tx       store.Tx
	idOf     map[store.Identifier]string // identifier -> customer
	users    map[string][]string         // customer -> user ids
	profiles map[string]*profile.Profile
	into     map[string]string   // merged in this batch: from -> into
	deleted  map[string]bool     // profiles to delete
	timeline []store.TimelineRow // customer ids resolved at flush
	orders   []store.Order
}

func newBatch(tx store.Tx, items []item) (*batch, error) {
	b := &batch{tx: tx, profiles: map[string]*profile.Profile{}, into: map[string]string{}, deleted: map[string]bool{}}
	seen := map[store.Identifier]bool{}
	var all []store.Identifier
	for i := range items {
		for _, id := range items[i].ids {
			if !seen[id] {
				seen[id] = true
				all = append(all, id)
			}
		}
	}
	var err error
	if b.idOf, err = tx.Lookup(all); err != nil {
		return nil, err
	}
	custs := map[string]bool{}
	var list []string
	for _, c := range b.idOf {
		if !custs[c] {
			custs[c] = true
			list = append(list, c)
		}
	}
	sort.Strings(list)
	if b.users, err = tx.UserIDs(list); err != nil {
		return nil, err
	}
	stored, err := tx.Profiles(list)
	if err != nil {
		return nil, err
	}
	for id, p := range stored {
		p := p
		b.profiles[id] = &p
	}
	return b, nil
}

// profile returns the profile of a customer the batch knows.
func (b *batch) profile(id string) *profile.Profile {
	if p, ok := b.profiles[id]; ok {
		return p
	}
	p := profile.New(id)
	b.profiles[id] = &p
	return &p
}

// resolve follows the merges made in this batch.
func (b *batch) resolve(c string) string {
	for {
		next, ok := b.into[c]
		if !ok {
			return c
		}
		c = next
	}
}

func (b *batch) apply(it *item) error {
	ev := &it.ev
	if len(it.ids) == 0 {
		return nil
	}
	found := make(map[store.Identifier]string, len(it.ids))
	for _, id := range it.ids {
		if c, ok := b.idOf[id]; ok {
			found[id] = c
		}
	}
	d := identity.Decide(ev, it.ids, found, b.users)
	if d.Create {
		if err := b.tx.CreateCustomer(d.Target, it.seq, ev.Timestamp); err != nil {
			return err
		}
		b.users[d.Target] = nil
	}
	target := b.profile(d.Target)
	for _, from := range d.Merge {
		if err := b.tx.MoveCustomer(store.Merge{From: from, Into: d.Target, Reason: d.Reason, Seq: it.seq, At: ev.Timestamp}); err != nil {
			return err
		}
		target.Absorb(b.profile(from))
		delete(b.profiles, from)
		b.deleted[from] = true
		b.into[from] = d.Target
		for id, c := range b.idOf {
			if c == from {
				b.idOf[id] = d.Target
			}
		}
		b.users[d.Target] = append(b.users[d.Target], b.users[from]...)
		delete(b.users, from)
	}
	for _, id := range d.Attach {
		if err := b.tx.Attach(id, d.Target, it.seq, ev.Timestamp); err != nil {
			return err
		}
		b.idOf[id] = d.Target
		if id.Kind == identity.User {
			b.users[d.Target] = append(b.users[d.Target], id.Value)
		}
	}
	for _, c := range d.Conflicts {
		c.Seq, c.At = it.seq, ev.Timestamp
		if err := b.tx.RecordConflict(c); err != nil {
			return err
		}
	}
	b.timeline = append(b.timeline, store.TimelineRow{CustomerID: d.Target, Timestamp: ev.Timestamp, Seq: it.seq,
		SourceID: it.src, Type: it.typ, Name: it.name, Packed: it.packed})
	var order *profile.OrderOf
	if o, ok := profile.Order(ev); ok {
		order = &o
		b.orders = append(b.orders, store.Order{CustomerID: d.Target, Seq: it.seq, Timestamp: ev.Timestamp,
			OrderID: o.OrderID, RevenueMicros: o.RevenueMicros, Currency: o.Currency})
	}
	target.Apply(ev, it.traits, order)
	return nil
}

// orderCustomers lists the surviving customers whose orders changed in the
// batch: new orders, or orders brought over by a merge.
func (b *batch) orderCustomers() []string {
	set := map[string]bool{}
	for _, o := range b.orders {
		set[o.CustomerID] = true
	}
	for from := range b.into {
		set[b.resolve(from)] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func (b *batch) flush() error {
	for i := range b.timeline {
		b.timeline[i].CustomerID = b.resolve(b.timeline[i].CustomerID)
	}
	for i := range b.orders {
		b.orders[i].CustomerID = b.resolve(b.orders[i].CustomerID)
	}
	if err := b.tx.AddTimeline(b.timeline); err != nil {
		return err
	}
	if err := b.tx.AddOrders(b.orders); err != nil {
		return err
	}
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
