package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/eventpack"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

// LookupData describes the store the lookup benchmark reads: customers
// known customers (every event carries the user id, so each person is one
// customer) with events events spread over two years, each customer's events
// scattered through the log as they arrive in production.
type LookupData struct {
	Customers, Events int
}

// lookupSetting records in the store what it was built with, for --reuse.
const lookupSetting = "bench.lookup"

func (d LookupData) String() string {
	return fmt.Sprintf("customers=%d events=%d", d.Customers, d.Events)
}

// Built reports whether st holds the data of d, built by BuildLookup.
func (d LookupData) Built(ctx context.Context, st store.Store) bool {
	v, err := st.Setting(ctx, lookupSetting)
	return err == nil && v == d.String()
}

// CustomerID is the id of customer i (the pipeline derives it from the
// user id of the customer's first event).
func (d LookupData) CustomerID(i int) string {
	return identity.CustomerID(store.Identifier{Kind: identity.User, Value: UserID(i)})
}

// history is the time the events span, ending at lookupEnd.
const history = 2 * 365 * 24 * time.Hour

var lookupEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// chunk generates events [k0, k1) of the data set as stored records and the
// customer index of each. The result depends only on d and k0, so chunks can
// be generated in parallel and in any order.
func (d LookupData) chunk(sourceID string, k0, k1 int) ([]store.Record, []int32, error) {
	g := NewGenerator(uint64(k0)+1, d.Customers, "lk")
	g.AlwaysKnown = true
	g.n = uint64(k0) // messageIds and order ids stay unique across chunks
	start := lookupEnd.Add(-history)
	recs := make([]store.Record, 0, k1-k0)
	custs := make([]int32, 0, k1-k0)
	var buf []byte
	for k := k0; k < k1; k++ {
		c := k // the first Customers events give every customer one
		if k >= d.Customers {
			c = int(mix(uint64(k), 77) % uint64(d.Customers))
		}
		ts := start.Add(time.Duration(float64(history) * float64(k) / float64(d.Events))).Add(time.Duration(mix(uint64(k), 78)%60000) * time.Millisecond)
		buf = g.Event(buf[:0], g.PersonAt(c), ts)
		ev, err := event.Parse(buf, "", event.Envelope{ReceivedAt: ts.Add(2 * time.Second)}, func() string { return "lk-" + strconv.Itoa(k) })
		if err != nil {
			return nil, nil, fmt.Errorf("generated event %d: %w", k, err)
		}
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, store.Record{SourceID: sourceID, Event: ev, Body: body})
		custs = append(custs, int32(c))
	}
	return recs, custs, nil
}

// BuildStats says how the build went.
type BuildStats struct {
	Elapsed time.Duration
	Events  int64
	Bytes   int64 // of stored event bodies
}

// lookupChunk is the number of events generated and written at a time.
const lookupChunk = 20000

// BuildLookup fills st (fresh, with source src) with the data of d by the
// pipeline's own path: store.Append, then pipeline.Drain. It is the honest
// path and the reference for BuildLookupBulk, but too slow for tens of
// millions of events on two cores.
func BuildLookup(ctx context.Context, st store.Store, src store.Source, d LookupData, progress func(phase string, done, total int64)) (BuildStats, error) {
	start := time.Now()
	var bs BuildStats
	for k0 := 0; k0 < d.Events; k0 += lookupChunk {
		recs, _, err := d.chunk(src.ID, k0, min(k0+lookupChunk, d.Events))
		if err != nil {
			return bs, err
		}
		if _, err := st.Append(ctx, recs); err != nil {
			return bs, err
		}
		for _, r := range recs {
			bs.Bytes += int64(len(r.Body))
		}
		bs.Events += int64(len(recs))
		progress("append", bs.Events, int64(d.Events))
	}
	pl := &pipeline.Pipeline{Store: st, BatchSize: 5000}
	if _, err := pl.Drain(ctx, func(done int) { progress("pipeline", int64(done), int64(d.Events)) }); err != nil {
		return bs, err
	}
	bs.Elapsed = time.Since(start)
	return bs, st.SetSetting(ctx, lookupSetting, d.String())
}

// writerDB is implemented by the SQL stores (sqlstore.Store): the bulk
// build writes the two big tables with prepared statements on the store's
// own writer connection.
type writerDB interface{ Writer() *sql.DB }

type attach struct {
	id  store.Identifier
	seq int64
	at  time.Time
}

type lookupCustomer struct {
	p       *profile.Profile
	seq     int64
	at      time.Time
	attach  []attach
	nEvents int32
}

// timelineRow is a timeline row of the bulk build; its event's type, name
// and packed body are in the chunk's arena (a few big byte slices instead
// of 20 million small ones for the garbage collector to walk).
type timelineRow struct {
	cust    int32
	chunk   int32
	ts, seq int64
	off, n  uint32 // packed body in arenas[chunk]
	kind    int32  // index into kinds (type and name)
}

// BuildLookupBulk fills st (fresh, with source src) with exactly what
// BuildLookup would (a test checks this at a small size), fast enough for
// 20 million events: events are generated on every core; the event log,
// timeline and orders are written by prepared statements in large
// transactions, the timeline sorted by customer; identity resolution and
// profiles are computed in memory with the pipeline's own functions
// (identity.Of, profile.Apply) and written through the store's Tx.
func BuildLookupBulk(ctx context.Context, st store.Store, src store.Source, d LookupData, progress func(phase string, done, total int64)) (BuildStats, error) {
	start := time.Now()
	var bs BuildStats
	wdb, ok := st.(writerDB)
	if !ok {
		return bs, errors.New("bulk build needs an SQL store")
	}
	db := wdb.Writer()
	ids := make([]string, d.Customers)
	for i := range ids {
		ids[i] = d.CustomerID(i)
	}
	custs := make([]lookupCustomer, d.Customers)
	timeline := make([]timelineRow, 0, d.Events)
	var arenas [][]byte
	type kindKey struct{ typ, name string }
	kindOf := map[kindKey]int32{}
	var kinds []kindKey
	var orders []store.Order
	var orderCust []int32

	// Generation (JSON encode, parse, encode again) is the costly part:
	// workers make chunks in parallel, the writer takes them in order.
	type result struct {
		recs  []store.Record
		custs []int32
		arena []byte   // the packed bodies, one after the other
		ends  []uint32 // end of each record's packed body in arena
		err   error
	}
	nChunks := (d.Events + lookupChunk - 1) / lookupChunk
	workers := max(runtime.GOMAXPROCS(0), 1)
	slots := make([]chan result, nChunks)
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, workers+1) // bounds chunks in memory
	go func() {
		for i := 0; i < nChunks; i++ {
			select {
			case sem <- struct{}{}:
			case <-gctx.Done():
				return
			}
			go func(i int) {
				k0 := i * lookupChunk
				recs, cs, err := d.chunk(src.ID, k0, min(k0+lookupChunk, d.Events))
				r := result{recs: recs, custs: cs, err: err, ends: make([]uint32, len(recs))}
				for j := range recs {
					r.arena = eventpack.Pack(r.arena, recs[j].Body)
					r.ends[j] = uint32(len(r.arena))
				}
				slots[i] <- r
			}(i)
		}
	}()

	const insertEvent = `INSERT INTO events(seq, source_id, message_id, type, name, ts, received_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	for i := 0; i < nChunks; i++ {
		if err := ctx.Err(); err != nil { // a ready chunk would win the select below
			return bs, err
		}
		var r result
		select {
		case r = <-slots[i]:
		case <-ctx.Done():
			return bs, ctx.Err()
		}
		<-sem
		if r.err != nil {
			return bs, r.err
		}
		seq0 := int64(i*lookupChunk) + 1
		err := inTx(ctx, db, insertEvent, func(stmt *sql.Stmt) error {
			for j := range r.recs {
				rec := &r.recs[j]
				name := rec.Event.Event
				if name == "" {
					name = rec.Event.Name
				}
				if _, err := stmt.ExecContext(ctx, seq0+int64(j), rec.SourceID, rec.Event.MessageID, rec.Event.Type, name,
					rec.Event.Timestamp.UnixMilli(), rec.Event.ReceivedAt.UnixMilli(), rec.Body); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return bs, fmt.Errorf("write events: %w", err)
		}
		arenas = append(arenas, r.arena)
		// What the pipeline would do with each event, in log order.
		for j := range r.recs {
			rec, c, seq := &r.recs[j], r.custs[j], seq0+int64(j)
			ev := &rec.Event
			lc := &custs[c]
			if lc.p == nil {
				p := profile.New(ids[c])
				lc.p, lc.seq, lc.at = &p, seq, ev.Timestamp
			}
			traits := profile.TraitsOf(ev)
			for _, id := range identity.Of(ev, traits) {
				if !slices.ContainsFunc(lc.attach, func(a attach) bool { return a.id == id }) {
					lc.attach = append(lc.attach, attach{id, seq, ev.Timestamp})
				}
			}
			var order *profile.OrderOf
			if o, ok := profile.Order(ev); ok {
				order = &o
				orders = append(orders, store.Order{CustomerID: ids[c], Seq: seq, Timestamp: ev.Timestamp,
					OrderID: o.OrderID, RevenueMicros: o.RevenueMicros, Currency: o.Currency})
				orderCust = append(orderCust, c)
			}
			lc.p.Apply(ev, traits, order)
			lc.nEvents++
			kk := kindKey{ev.Type, ev.Event}
			if kk.name == "" {
				kk.name = ev.Name
			}
			k, ok := kindOf[kk]
			if !ok {
				k = int32(len(kinds))
				kindOf[kk] = k
				kinds = append(kinds, kk)
			}
			var off uint32
			if j > 0 {
				off = r.ends[j-1]
			}
			timeline = append(timeline, timelineRow{cust: c, chunk: int32(i), ts: ev.Timestamp.UnixMilli(), seq: seq,
				off: off, n: r.ends[j] - off, kind: k})
			bs.Bytes += int64(len(rec.Body))
		}
		bs.Events += int64(len(r.recs))
		progress("events", bs.Events, int64(d.Events))
	}

	// The timeline in primary-key order (customer id, ts, seq): a B-tree
	// filled in order is written once, page by page.
	order := make([]int32, d.Customers) // customers by id
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(ids[a], ids[b]) })
	offset := make([]int, d.Customers+1) // counting sort by customer
	for i, c := range order {
		offset[i+1] = offset[i] + int(custs[c].nEvents)
	}
	rank := make([]int32, d.Customers)
	for i, c := range order {
		rank[c] = int32(i)
	}
	sorted := make([]timelineRow, len(timeline))
	fill := slices.Clone(offset[:d.Customers])
	for _, t := range timeline {
		r := rank[t.cust]
		sorted[fill[r]] = t
		fill[r]++
	}
	timeline = nil
	for i := 0; i < d.Customers; i++ {
		part := sorted[offset[i]:offset[i+1]]
		slices.SortFunc(part, func(a, b timelineRow) int {
			if a.ts != b.ts {
				return cmpInt(a.ts, b.ts)
			}
			return cmpInt(a.seq, b.seq)
		})
	}
	const insertTimeline = `INSERT INTO timeline(customer_id, ts, seq, source_id, type, name, body) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	for k0 := 0; k0 < len(sorted); k0 += 100000 {
		part := sorted[k0:min(k0+100000, len(sorted))]
		if err := inTx(ctx, db, insertTimeline, func(stmt *sql.Stmt) error {
			for _, t := range part {
				k := kinds[t.kind]
				body := arenas[t.chunk][t.off : t.off+t.n]
				if _, err := stmt.ExecContext(ctx, ids[t.cust], t.ts, t.seq, src.ID, k.typ, k.name, body); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return bs, fmt.Errorf("write timeline: %w", err)
		}
		progress("timeline", int64(k0+len(part)), int64(len(sorted)))
	}
	sorted, arenas = nil, nil
	slices.SortStableFunc(orders, func(a, b store.Order) int {
		if c := strings.Compare(a.CustomerID, b.CustomerID); c != 0 {
			return c
		}
		return cmpInt(a.Seq, b.Seq)
	})
	const insertOrder = `INSERT INTO orders(customer_id, seq, ts, order_id, revenue_micros, currency) VALUES ($1, $2, $3, $4, $5, $6)`
	if err := inTx(ctx, db, insertOrder, func(stmt *sql.Stmt) error {
		for _, o := range orders {
			if _, err := stmt.ExecContext(ctx, o.CustomerID, o.Seq, o.Timestamp.UnixMilli(), o.OrderID, o.RevenueMicros, o.Currency); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return bs, fmt.Errorf("write orders: %w", err)
	}

	// Customers, identities and profiles through the store's own writes.
	lastSeq := int64(d.Events)
	const perTx = 10000
	for i0 := 0; i0 < d.Customers; i0 += perTx {
		err := st.Process(ctx, func(tx store.Tx) error {
			for _, c := range order[i0:min(i0+perTx, d.Customers)] {
				lc := &custs[c]
				if lc.p == nil {
					continue
				}
				if err := tx.CreateCustomer(ids[c], lc.seq, lc.at); err != nil {
					return err
				}
				for _, a := range lc.attach {
					if err := tx.Attach(a.id, ids[c], a.seq, a.at); err != nil {
						return err
					}
				}
				if err := tx.SaveProfile(lc.p); err != nil {
					return err
				}
				lc.p, lc.attach = nil, nil // let the memory go
			}
			if i0+perTx >= d.Customers {
				return tx.AdvanceCursor(pipeline.CursorName, 0, lastSeq)
			}
			return nil
		})
		if err != nil {
			return bs, fmt.Errorf("write customers: %w", err)
		}
		progress("customers", int64(min(i0+perTx, d.Customers)), int64(d.Customers))
	}
	bs.Elapsed = time.Since(start)
	return bs, st.SetSetting(ctx, lookupSetting, d.String())
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// inTx runs fn with one prepared statement in one transaction.
func inTx(ctx context.Context, db *sql.DB, query string, fn func(*sql.Stmt) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	if err := fn(stmt); err != nil {
		return err
	}
	return tx.Commit()
}

// LookupResult holds the figures of one way of looking customers up.
type LookupResult struct {
	Name        string
	Concurrency int
	Latency     Latency
	Elapsed     time.Duration
	Events      int64 // timeline entries read
}

func (r LookupResult) String() string {
	return fmt.Sprintf("%-28s %d goroutine(s): %s, %.0f lookups/s, %.1f timeline events per lookup",
		r.Name, r.Concurrency, r.Latency, float64(r.Latency.N)/r.Elapsed.Seconds(), float64(r.Events)/float64(max(r.Latency.N, 1)))
}

// Lookup is one customer 360 read; it returns the timeline entries read.
type Lookup func(ctx context.Context, customerID string) (int, error)

// StoreLookup reads a customer as the customer view does: the profile,
// its identities and the newest 50 timeline events.
func StoreLookup(st store.Store) Lookup {
	return func(ctx context.Context, id string) (int, error) {
		p, err := st.Customer(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("customer %s: %w", id, err)
		}
		if _, err := st.Identities(ctx, p.CustomerID); err != nil {
			return 0, err
		}
		tl, err := st.Timeline(ctx, p.CustomerID, store.TimelineCursor{}, 50)
		return len(tl), err
	}
}

// HTTPLookup reads a customer through the management API: GET
// /api/customers/{id} and /api/customers/{id}/timeline.
func HTTPLookup(base, adminKey string, conns int) Lookup {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: time.Minute}
	get := func(ctx context.Context, url string, v any) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+adminKey)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, b)
		}
		return json.Unmarshal(b, v)
	}
	return func(ctx context.Context, id string) (int, error) {
		var c struct {
			ID string `json:"id"`
		}
		if err := get(ctx, base+"/api/customers/"+id, &c); err != nil {
			return 0, err
		}
		var tl struct {
			Events []json.RawMessage `json:"events"`
		}
		err := get(ctx, base+"/api/customers/"+id+"/timeline", &tl)
		return len(tl.Events), err
	}
}

// MeasureLookups runs n lookups of random customers of d from conc
// goroutines.
func MeasureLookups(ctx context.Context, name string, d LookupData, look Lookup, n, conc int, seed uint64) (LookupResult, error) {
	res := LookupResult{Name: name, Concurrency: conc}
	lats := make([][]time.Duration, conc)
	events := make([]int64, conc)
	errc := make(chan error, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := w; i < n; i += conc {
				id := d.CustomerID(rng.IntN(d.Customers))
				t0 := time.Now()
				k, err := look(ctx, id)
				lats[w] = append(lats[w], time.Since(t0))
				if err != nil {
					errc <- err
					return
				}
				events[w] += int64(k)
			}
		}(w)
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	select {
	case err := <-errc:
		return res, err
	default:
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	for _, e := range events {
		res.Events += e
	}
	res.Latency = Summarize(all)
	return res, nil
}

// FormatCount prints n with thin separators for reading (1,000,000).
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	return string(b)
}
