package touchpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

// pipelineCursor is pipeline.CursorName (not imported: the pipeline may one
// day call this package as a stage).
const pipelineCursor = "pipeline"

// LeaseName is the lease of the node that runs the consumer.
const LeaseName = "touchpoints"

// BatchSize is how many log entries one Step reads.
const BatchSize = 2000

// Events of other capabilities this package reads.
const (
	EventSurveyAnswered = "Survey Answered"
	EventCaseOpened     = "Case Opened"
)

// complaintName tells complaint events by name (German and English).
var complaintName = regexp.MustCompile(`(?i)complain|beschwerde|reklamation`)

// Day is the day number of a time (days since 1970-01-01, UTC).
func Day(t time.Time) int64 { return int64(t.UTC().Unix()) / 86400 }

// Month is the month number of a time (year*12 + month-1, UTC).
func Month(t time.Time) int64 {
	t = t.UTC()
	return int64(t.Year())*12 + int64(t.Month()) - 1
}

func dayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// MonthOfDay is the month number of a day number.
func MonthOfDay(d int64) int64 { return Month(dayTime(d)) }

// Tier is the value tier of a customer by revenue (all currencies added, in
// currency units): none (no order), low (< 100), mid (< 1,000), high.
func Tier(p store.TouchpointProfile) string {
	switch r := p.RevenueMicros / 1e6; {
	case p.Orders == 0:
		return "none"
	case r < 100:
		return "low"
	case r < 1000:
		return "mid"
	default:
		return "high"
	}
}

// DefaultSegmentTraits are the profile traits that make segments when the
// service names none.
var DefaultSegmentTraits = []string{"segment", "plan", "country"}

func (s *Service) segmentTraits() []string {
	if s.SegmentTraits != nil {
		return s.SegmentTraits
	}
	return DefaultSegmentTraits
}

// SegmentsOf lists the segments a customer belongs to: "all", its value
// tier and one per configured trait it has.
func (s *Service) SegmentsOf(p *store.TouchpointProfile) []string {
	segs := []string{"all"}
	if p == nil {
		return segs
	}
	segs = append(segs, "tier:"+Tier(*p))
	for _, k := range s.segmentTraits() {
		v := strings.ToLower(strings.TrimSpace(p.Traits[k]))
		if v != "" && len(v) <= 40 && !strings.ContainsRune(v, '|') {
			segs = append(segs, "trait:"+k+"="+v)
		}
	}
	return segs
}

// Consumer matches the log to touchpoints and keeps the aggregates.
type Consumer struct {
	*Service
	Log *slog.Logger
	// OnProgress, if set, is told after each batch.
	OnProgress func(p Progress)
	// Batch is how many log entries a Step reads (default BatchSize).
	Batch int
}

// Step processes one batch of the log that the pipeline has processed
// (so that customers are known); it returns how many log positions it
// advanced. A changed catalogue (a new generation) or a rebuilt pipeline
// first resets the derived rows and starts again from the beginning.
func (c *Consumer) Step(ctx context.Context) (int, error) {
	ts, err := c.TS()
	if err != nil {
		return 0, err
	}
	st, err := ts.TouchpointState(ctx)
	if err != nil {
		return 0, err
	}
	done, err := c.Store.Cursor(ctx, pipelineCursor)
	if err != nil {
		return 0, err
	}
	if done < st.Cursor && st.Generation == st.Built {
		// The pipeline was rebuilt (customer ids changed): match again.
		if st.Generation, err = ts.RequestTouchpointRebuild(ctx); err != nil {
			return 0, err
		}
	}
	if st.Generation != st.Built {
		if err := ts.ResetTouchpointDerived(ctx, st.Built, st.Generation, done); err != nil {
			return 0, err
		}
		c.logger().Info("touchpoints: matching the log again", "generation", st.Generation, "target", done)
		return 1, nil
	}
	if done <= st.Cursor {
		return 0, nil
	}
	limit := BatchSize
	if c.Batch > 0 {
		limit = c.Batch
	}
	if d := done - st.Cursor; d < int64(limit) {
		limit = int(d)
	}
	evs, err := c.Store.Events(ctx, st.Cursor, limit)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	tps, err := ts.Touchpoints(ctx)
	if err != nil {
		return 0, err
	}
	srcs, err := c.Store.Sources(ctx)
	if err != nil {
		return 0, err
	}
	b := &batchState{Service: c.Service, ts: ts, m: NewMatcher(tps, srcs), srcKind: map[string]string{},
		out:  store.TouchpointBatch{From: st.Cursor, Generation: st.Built, Matches: map[int64]string{}},
		aggs: map[store.AggKey]*aggDelta{}, unmatched: map[string]*store.TouchpointUnmatched{}, importance: map[string]string{}}
	for _, s := range srcs {
		b.srcKind[s.ID] = s.Kind
	}
	for _, t := range tps {
		if t.ImportanceSurvey != "" {
			b.importance[t.ID] = t.ImportanceSurvey
		}
	}
	last := st.Cursor
	var items []item
	for i := range evs {
		if evs[i].Seq > done {
			break
		}
		last = evs[i].Seq
		ev, err := event.Decode(evs[i].Body)
		if err != nil {
			continue // the pipeline skipped it too
		}
		items = append(items, item{seq: evs[i].Seq, src: evs[i].SourceID, ev: ev})
	}
	if err := b.load(ctx, items); err != nil {
		return 0, err
	}
	for i := range items {
		if err := b.apply(ctx, &items[i]); err != nil {
			return 0, fmt.Errorf("touchpoints, event %d: %w", items[i].seq, err)
		}
	}
	b.out.To = last
	if err := b.finish(ctx); err != nil {
		return 0, err
	}
	if err := ts.CommitTouchpointBatch(ctx, b.out); err != nil {
		return 0, err
	}
	if c.OnProgress != nil {
		if p, err := c.Progress(ctx); err == nil {
			c.OnProgress(p)
		}
	}
	return int(last - st.Cursor), nil
}

func (c *Consumer) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

// Drain runs Step until the consumer has caught up with the pipeline.
func (c *Consumer) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := c.Step(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// Run works until ctx ends on the node that holds the touchpoints lease
// (like the pipeline: one node at a time; a node that loses the lease
// midway does no harm, as every batch is guarded by the cursor). wake
// tells it that the pipeline advanced.
func (c *Consumer) Run(ctx context.Context, holder string, wake <-chan struct{}) {
	const ttl = 30 * time.Second
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var leaseUntil, lastErrLog time.Time
	defer func() {
		if !leaseUntil.IsZero() {
			rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			c.Store.ReleaseLease(rctx, LeaseName, holder)
			cancel()
		}
	}()
	for {
		if time.Until(leaseUntil) < ttl/2 {
			ok, err := c.Store.AcquireLease(ctx, LeaseName, holder, ttl)
			if err != nil || !ok {
				leaseUntil = time.Time{}
			} else {
				leaseUntil = time.Now().Add(ttl)
			}
		}
		for !leaseUntil.IsZero() && ctx.Err() == nil && time.Until(leaseUntil) > ttl/2 {
			n, err := c.Step(ctx)
			if err != nil {
				if !errors.Is(err, store.ErrCursorMoved) && ctx.Err() == nil && time.Since(lastErrLog) > 10*time.Second {
					c.logger().Error("touchpoints", "err", err)
					lastErrLog = time.Now()
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
	}
}

type item struct {
	seq      int64
	src      string
	ev       event.Event
	customer string
}

// aggDelta is what one batch adds to one aggregate row.
type aggDelta struct {
	store.TouchpointAgg
	sk Sketch
}

type batchState struct {
	*Service
	ts         store.TouchpointStore
	m          *Matcher
	srcKind    map[string]string
	importance map[string]string // touchpoint -> its importance survey
	out        store.TouchpointBatch
	aggs       map[store.AggKey]*aggDelta
	unmatched  map[string]*store.TouchpointUnmatched
	profiles   map[string]store.TouchpointProfile
	contacts   map[contactKey]*store.TouchpointContact
	changed    map[contactKey]bool
	maxDay     int64
	byCustomer map[string][]*store.TouchpointContact
	custMonth  map[custMonth][]store.TouchpointAnswer
	kda        map[store.AggKey]*store.TouchpointKDA
}

// load resolves the customers of the batch and loads their profiles and
// last contacts.
func (b *batchState) load(ctx context.Context, items []item) error {
	seen := map[store.Identifier]bool{}
	var all []store.Identifier
	idsOf := make([][]store.Identifier, len(items))
	for i := range items {
		ids := identity.Of(&items[i].ev, profile.TraitsOf(&items[i].ev))
		sort.SliceStable(ids, func(a, c int) bool { return identity.Rank(ids[a].Kind) > identity.Rank(ids[c].Kind) })
		idsOf[i] = ids
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				all = append(all, id)
			}
		}
	}
	found, err := b.ts.TouchpointCustomers(ctx, all)
	if err != nil {
		return err
	}
	custs := map[string]bool{}
	var list []string
	for i := range items {
		for _, id := range idsOf[i] {
			if c, ok := found[id]; ok {
				items[i].customer = c
				if !custs[c] {
					custs[c] = true
					list = append(list, c)
				}
				break
			}
		}
	}
	if b.profiles, err = b.ts.TouchpointProfiles(ctx, list); err != nil {
		return err
	}
	b.custMonth, b.kda = map[custMonth][]store.TouchpointAnswer{}, map[store.AggKey]*store.TouchpointKDA{}
	answering := map[string]bool{}
	var answerers []string
	fromDay := int64(math.MaxInt64)
	for i := range items {
		if c := items[i].customer; c != "" && items[i].ev.Type == event.Track && items[i].ev.Event == EventSurveyAnswered {
			if !answering[c] {
				answering[c] = true
				answerers = append(answerers, c)
			}
			fromDay = min(fromDay, Day(items[i].ev.Timestamp))
		}
	}
	if len(answerers) > 0 {
		first := Day(time.Date(dayTime(fromDay).Year(), dayTime(fromDay).Month(), 1, 0, 0, 0, 0, time.UTC))
		prev, err := b.ts.TouchpointAnswersOf(ctx, answerers, first)
		if err != nil {
			return err
		}
		for _, a := range prev {
			k := custMonth{a.CustomerID, MonthOfDay(a.Day)}
			b.custMonth[k] = append(b.custMonth[k], a)
		}
	}
	cs, err := b.ts.TouchpointContacts(ctx, list)
	if err != nil {
		return err
	}
	b.contacts, b.changed, b.byCustomer = map[contactKey]*store.TouchpointContact{}, map[contactKey]bool{}, map[string][]*store.TouchpointContact{}
	for i := range cs {
		c := cs[i]
		b.contacts[contactKey{c.CustomerID, c.Touchpoint, c.Day}] = &c
		b.byCustomer[c.CustomerID] = append(b.byCustomer[c.CustomerID], &c)
	}
	return nil
}

func (b *batchState) segments(customer string) []string {
	if customer == "" {
		return []string{"all"}
	}
	p, ok := b.profiles[customer]
	if !ok {
		return []string{"all"}
	}
	return b.SegmentsOf(&p)
}

// delta calls fn on the day and month rows of every segment.
func (b *batchState) delta(tp string, segs []string, day int64, fn func(d *aggDelta)) {
	for _, seg := range segs {
		for grain, period := range [2]int64{day, MonthOfDay(day)} {
			k := store.AggKey{Touchpoint: tp, Segment: seg, Grain: grain, Period: period}
			d := b.aggs[k]
			if d == nil {
				d = &aggDelta{TouchpointAgg: store.TouchpointAgg{Touchpoint: tp, Segment: seg, Grain: grain, Period: period}}
				b.aggs[k] = d
			}
			fn(d)
		}
	}
}

func segString(segs []string) string { return "|" + strings.Join(segs, "|") + "|" }

// Normalise maps a score of a survey kind to 0..100 (NPS 0..10, CSAT 1..5,
// CES 1..7 with 7 the easiest).
func Normalise(kind string, score float64) (float64, bool) {
	switch kind {
	case "nps":
		return score * 10, score >= 0 && score <= 10
	case "csat":
		return (score - 1) * 25, score >= 1 && score <= 5
	case "ces":
		return (score - 1) * 100 / 6, score >= 1 && score <= 7
	}
	return 0, false
}

func (b *batchState) apply(ctx context.Context, it *item) error {
	ev := &it.ev
	if ev.Type != event.Track && ev.Type != event.Page && ev.Type != event.Screen {
		return nil // identify, group, alias: no contact
	}
	f := FactsOf(it.src, ev)
	day := Day(ev.Timestamp)
	b.maxDay = max(b.maxDay, day)
	segs := b.segments(it.customer)
	kind := b.srcKind[it.src]
	switch {
	case ev.Type == event.Track && ev.Event == EventSurveyAnswered:
		return b.answer(ctx, it, &f, day, segs)
	case kind == "case":
		// Case events are bookkeeping; a complaint case opened about a
		// touchpoint counts as a complaint there.
		if ev.Event == EventCaseOpened && strings.EqualFold(f.Prop("type"), "complaint") {
			if tp := b.m.Resolve(f.Prop("touchpoint")); tp != "" {
				b.delta(tp, segs, day, func(d *aggDelta) { d.Complaints++ })
			}
		}
		return nil
	}
	tp := b.m.MatchEvent(&f)
	if tp == "" {
		key, gkind, value := GroupOf(&f)
		u := b.unmatched[key]
		if u == nil {
			src := it.src
			if gkind == "campaign" {
				src = ""
			}
			u = &store.TouchpointUnmatched{Key: key, Kind: gkind, SourceID: src, Value: value, FirstSeen: ev.Timestamp, LastSeen: ev.Timestamp}
			b.unmatched[key] = u
		}
		u.Count++
		if ev.Timestamp.Before(u.FirstSeen) {
			u.FirstSeen = ev.Timestamp
		}
		if ev.Timestamp.After(u.LastSeen) {
			u.LastSeen = ev.Timestamp
		}
		if len(u.Examples) < 3 {
			u.Examples = append(u.Examples, it.seq)
		}
	} else {
		b.out.Matches[it.seq] = tp
		newDay := false
		if it.customer != "" {
			k := contactKey{it.customer, tp, day}
			if b.contacts[k] == nil {
				c := &store.TouchpointContact{CustomerID: it.customer, Touchpoint: tp, Day: day, Segments: segString(segs)}
				b.contacts[k] = c
				b.byCustomer[it.customer] = append(b.byCustomer[it.customer], c)
				b.changed[k] = true
				newDay = true
			}
		}
		sentiment, hasSent := f.Number("sentimentScore")
		neg := strings.EqualFold(f.Prop("sentiment"), "negative")
		complaint := ev.Type == event.Track && complaintName.MatchString(ev.Event) && f.Prop("touchpoint") == ""
		h := HashCustomer(it.customer)
		b.delta(tp, segs, day, func(d *aggDelta) {
			d.Contacts++
			if it.customer != "" {
				d.sk.Add(h)
			}
			if newDay {
				d.CustDays++
			}
			if hasSent && sentiment >= -1 && sentiment <= 1 {
				d.SentN++
				d.SentSum += sentiment
				if neg {
					d.SentNeg++
				}
			}
			if complaint {
				d.Complaints++
			}
		})
	}
	if ev.Type == event.Track && it.customer != "" {
		if _, ok := profile.Order(ev); ok {
			b.order(it.customer, day)
		}
	}
	return nil
}

type custMonth struct {
	customer string
	month    int64
}

// kdaAdd records a scored answer in its customer-month and moves the
// key-driver sums by the change of that customer-month's observations.
func (b *batchState) kdaAdd(a store.TouchpointAnswer) {
	k := custMonth{a.CustomerID, MonthOfDay(a.Day)}
	list := b.custMonth[k]
	before := Contributions(list)
	list = append(list, a)
	b.custMonth[k] = list
	after := Contributions(list)
	segs := strings.Split(strings.Trim(list[0].Segments, "|"), "|")
	apply := func(c map[string][2]float64, sign float64) {
		for tp, xy := range c {
			for _, seg := range segs {
				key := store.AggKey{Touchpoint: tp, Segment: seg, Grain: 1, Period: k.month}
				d := b.kda[key]
				if d == nil {
					d = &store.TouchpointKDA{Touchpoint: tp, Segment: seg, Month: k.month}
					b.kda[key] = d
				}
				sums := Sums{d.N, d.SX, d.SY, d.SXX, d.SYY, d.SXY}
				sums.Add(xy[0], xy[1], sign)
				d.N, d.SX, d.SY, d.SXX, d.SYY, d.SXY = sums.N, sums.SX, sums.SY, sums.SXX, sums.SYY, sums.SXY
			}
		}
	}
	apply(before, -1)
	apply(after, 1)
}

type contactKey struct {
	customer, touchpoint string
	day                  int64
}

// order counts a conversion for every contact of the customer within the
// window before it that has not converted yet.
func (b *batchState) order(customer string, day int64) {
	for _, c := range b.byCustomer[customer] {
		if c.Converted || day < c.Day || day-c.Day > b.conversionDays() {
			continue
		}
		c.Converted = true
		b.changed[contactKey{c.CustomerID, c.Touchpoint, c.Day}] = true
		segs := strings.Split(strings.Trim(c.Segments, "|"), "|")
		b.delta(c.Touchpoint, segs, c.Day, func(d *aggDelta) { d.Conversions++ })
	}
}

// answer attributes a survey answer: to the touchpoint its touchpoint
// property names, else to the touchpoint of the event that triggered it,
// else it is an overall answer (for the key-driver analysis).
func (b *batchState) answer(ctx context.Context, it *item, f *Facts, day int64, segs []string) error {
	tp := b.m.Resolve(f.Prop("touchpoint"))
	if tp == "" {
		if trig := f.Prop("triggerMessageId"); trig != "" {
			ev, err := b.ts.EventByMessageID(ctx, trig)
			if err == nil {
				if t, ok := b.out.Matches[ev.Seq]; ok {
					tp = t
				} else {
					m, err := b.ts.TouchpointOf(ctx, []int64{ev.Seq})
					if err != nil {
						return err
					}
					tp = m[ev.Seq]
				}
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	kind := strings.ToLower(f.Prop("surveyType"))
	score, hasScore := f.Number("score")
	norm, ok := Normalise(kind, score)
	ok = ok && hasScore
	sentiment, hasSent := f.Number("sentimentScore")
	hasSent = hasSent && f.Prop("comment") != "" && sentiment >= -1 && sentiment <= 1
	if tp == "" {
		if ok && it.customer != "" {
			a := store.TouchpointAnswer{Seq: it.seq, CustomerID: it.customer, Day: day, Score: norm, Segments: segString(segs)}
			b.out.Answers = append(b.out.Answers, a)
			b.kdaAdd(a)
		}
		return nil
	}
	if sid := b.importance[tp]; sid != "" && sid == f.Prop("surveyId") {
		if ok {
			b.delta(tp, segs, day, func(d *aggDelta) { d.ImpN++; d.ImpSum += norm })
		}
		return nil
	}
	neg := strings.EqualFold(f.Prop("sentiment"), "negative")
	b.delta(tp, segs, day, func(d *aggDelta) {
		if ok {
			d.PerfN++
			d.PerfSum += norm
			switch kind {
			case "nps":
				d.NPSN++
				if score >= 9 {
					d.NPSPro++
				} else if score <= 6 {
					d.NPSDet++
				}
			case "csat":
				d.CSATN++
				d.CSATSum += score
				if score >= 4 {
					d.CSATSat++
				}
			case "ces":
				d.CESN++
				d.CESSum += score
			}
		}
		if hasSent {
			d.SentN++
			d.SentSum += sentiment
			if neg {
				d.SentNeg++
			}
		}
	})
	if ok && it.customer != "" {
		a := store.TouchpointAnswer{Seq: it.seq, Touchpoint: tp, CustomerID: it.customer, Day: day, Score: norm, Segments: segString(segs)}
		b.out.Answers = append(b.out.Answers, a)
		b.kdaAdd(a)
	}
	return nil
}

// finish merges the deltas into the stored rows.
func (b *batchState) finish(ctx context.Context) error {
	keys := make([]store.AggKey, 0, len(b.aggs))
	for k := range b.aggs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := keys[i], keys[j]
		if a.Segment != c.Segment {
			return a.Segment < c.Segment
		}
		if a.Grain != c.Grain {
			return a.Grain < c.Grain
		}
		if a.Period != c.Period {
			return a.Period < c.Period
		}
		return a.Touchpoint < c.Touchpoint
	})
	old, err := b.ts.TouchpointAggs(ctx, keys)
	if err != nil {
		return err
	}
	for _, k := range keys {
		d := b.aggs[k]
		row := old[k]
		row.Touchpoint, row.Segment, row.Grain, row.Period = k.Touchpoint, k.Segment, k.Grain, k.Period
		AddAgg(&row, &d.TouchpointAgg)
		sk := DecodeSketch(row.Customers)
		sk.Merge(&d.sk)
		row.Customers = sk.Encode()
		b.out.Aggs = append(b.out.Aggs, row)
	}
	for k := range b.changed {
		b.out.Contacts = append(b.out.Contacts, *b.contacts[k])
	}
	sort.Slice(b.out.Contacts, func(i, j int) bool {
		a, c := b.out.Contacts[i], b.out.Contacts[j]
		if a.CustomerID != c.CustomerID {
			return a.CustomerID < c.CustomerID
		}
		if a.Touchpoint != c.Touchpoint {
			return a.Touchpoint < c.Touchpoint
		}
		return a.Day < c.Day
	})
	// A week of slack for events that arrive late.
	if b.maxDay > 0 {
		b.out.PruneBefore = b.maxDay - b.conversionDays() - 7
	}
	for _, k := range b.kda {
		if k.N != 0 || k.SX != 0 || k.SY != 0 || k.SXX != 0 || k.SYY != 0 || k.SXY != 0 {
			b.out.KDA = append(b.out.KDA, *k)
		}
	}
	sort.Slice(b.out.KDA, func(i, j int) bool {
		a, c := b.out.KDA[i], b.out.KDA[j]
		if a.Segment != c.Segment {
			return a.Segment < c.Segment
		}
		if a.Month != c.Month {
			return a.Month < c.Month
		}
		return a.Touchpoint < c.Touchpoint
	})
	for _, u := range b.unmatched {
		b.out.Unmatched = append(b.out.Unmatched, *u)
	}
	sort.Slice(b.out.Unmatched, func(i, j int) bool { return b.out.Unmatched[i].Key < b.out.Unmatched[j].Key })
	return nil
}

// AddAgg adds the counters of d to row (not the sketch).
func AddAgg(row, d *store.TouchpointAgg) {
	row.Contacts += d.Contacts
	row.CustDays += d.CustDays
	row.Conversions += d.Conversions
	row.Complaints += d.Complaints
	row.NPSN += d.NPSN
	row.NPSPro += d.NPSPro
	row.NPSDet += d.NPSDet
	row.CSATN += d.CSATN
	row.CSATSum += d.CSATSum
	row.CSATSat += d.CSATSat
	row.CESN += d.CESN
	row.CESSum += d.CESSum
	row.SentN += d.SentN
	row.SentSum += d.SentSum
	row.SentNeg += d.SentNeg
	row.PerfN += d.PerfN
	row.PerfSum += d.PerfSum
	row.ImpN += d.ImpN
	row.ImpSum += d.ImpSum
}
