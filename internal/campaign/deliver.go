package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
)

// SourceName is the internal source of campaign deliveries (and consent
// recorded through the API) in the log.
const SourceName = "Kunding campaigns"

// EventName is the track event of a delivered campaign.
const EventName = "Campaign Delivered"

// LeaseName is the lease that makes one node send at a time.
const LeaseName = "campaign-delivery"

// MessageID is the messageId of a campaign's delivery to a customer: the
// same on every run, so the log stores a delivery once however often a
// batch is repeated.
func MessageID(campaignID, customerID string) string {
	return "campaign-" + campaignID + "-" + customerID
}

// sourceID finds or creates the source "Kunding campaigns".
func (s *Service) sourceID(ctx context.Context) (string, error) {
	s.mu.Lock()
	id := s.source
	s.mu.Unlock()
	if id != "" {
		return id, nil
	}
	src, err := source.Internal(ctx, s.Store, SourceName, "other")
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.source = src.ID
	s.mu.Unlock()
	return src.ID, nil
}

// bestIdentifier is the identifier that surely names the customer.
func bestIdentifier(ids []store.Identifier) (store.Identifier, bool) {
	if len(ids) == 0 {
		return store.Identifier{}, false
	}
	best := ids[0]
	for _, x := range ids[1:] {
		if identity.Rank(x.Kind) > identity.Rank(best.Kind) {
			best = x
		}
	}
	return best, true
}

// addressed sets the customer's identifier on an event, as the other
// internal sources do: user and anonymous ids as such, e-mail, phone and
// external ids as context.externalIds (so no trait changes).
func addressed(ev *event.Event, id store.Identifier, ctxObj map[string]any) {
	switch {
	case id.Kind == identity.User:
		ev.UserID = id.Value
	case id.Kind == identity.Anon:
		ev.AnonymousID = id.Value
	default:
		typ := id.Kind
		if len(typ) > len(identity.ExtPrefix) && typ[:len(identity.ExtPrefix)] == identity.ExtPrefix {
			typ = typ[len(identity.ExtPrefix):]
		}
		ctxObj["externalIds"] = []map[string]string{{"id": id.Value, "type": typ, "collection": "users", "encoding": "none"}}
	}
}

// deliveryRecord is the event of a campaign delivered to a customer.
func deliveryRecord(c *store.Campaign, sourceID, customerID string, id store.Identifier) (store.Record, error) {
	props := map[string]any{"campaignId": c.ID, "name": c.Name, "campaignType": c.Type, "channel": c.Channel,
		"department": c.Department}
	for k, v := range map[string]string{"subject": c.Subject, "message": c.Message, "offer": c.Offer, "touchpoint": c.Touchpoint} {
		if v != "" {
			props[k] = v
		}
	}
	pb, err := json.Marshal(props)
	if err != nil {
		return store.Record{}, err
	}
	at := c.Delivery.SentAt
	ev := event.Event{Type: event.Track, MessageID: MessageID(c.ID, customerID), Event: EventName, Properties: pb,
		Timestamp: at, ReceivedAt: at}
	// context.campaign names the campaign the way Segment's UTM fields do,
	// so the timeline and the touchpoint rules recognise it.
	ctxObj := map[string]any{"library": map[string]string{"name": "kunding-campaigns"},
		"campaign": map[string]string{"name": c.Name, "source": "kunding", "medium": c.Channel}}
	addressed(&ev, id, ctxObj)
	if ev.Context, err = json.Marshal(ctxObj); err != nil {
		return store.Record{}, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return store.Record{}, err
	}
	return store.Record{SourceID: sourceID, Event: ev, Body: body}, nil
}

// page is one batch of a target group: the customers looked at, the last
// id (the cursor after the batch) and those in the target group with
// their profiles.
type page struct {
	scanned  int
	last     string
	matched  []string
	profiles map[string]profile.Profile
}

// nextPage reads the next batch of a campaign's target group after cursor.
func (s *Service) nextPage(ctx context.Context, c *store.Campaign, cursor string, n int) (page, error) {
	cs, err := s.Campaigns()
	if err != nil {
		return page{}, err
	}
	pg := page{profiles: map[string]profile.Profile{}}
	if c.Target.Kind == TargetList {
		ids, err := cs.CampaignRecipients(ctx, c.ID, cursor, n)
		if err != nil || len(ids) == 0 {
			return pg, err
		}
		pg.scanned, pg.last, pg.matched = len(ids), ids[len(ids)-1], ids
		pg.profiles, err = cs.ProfilesOf(ctx, ids)
		return pg, err
	}
	ps, err := cs.ProfilesAfter(ctx, cursor, n)
	if err != nil || len(ps) == 0 {
		return pg, err
	}
	pg.scanned, pg.last = len(ps), ps[len(ps)-1].CustomerID
	var preds map[string]store.Prediction
	if NeedsPredictions(c.Target) {
		ids := make([]string, len(ps))
		for i := range ps {
			ids[i] = ps[i].CustomerID
		}
		if preds, err = cs.PredictionsOf(ctx, ids); err != nil {
			return pg, err
		}
	}
	now := s.now()
	for i := range ps {
		var pr *store.Prediction
		if x, ok := preds[ps[i].CustomerID]; ok {
			pr = &x
		}
		if Matches(c.Target, &ps[i], pr, now) {
			pg.matched = append(pg.matched, ps[i].CustomerID)
			pg.profiles[ps[i].CustomerID] = ps[i]
		}
	}
	return pg, nil
}

// maxSamples is how many customer ids a report keeps per reason.
const maxSamples = 10

// count adds a batch's decisions to a delivery report.
func count(d *store.CampaignDelivery, ds []Decision) {
	if d.Reasons == nil {
		d.Reasons = map[string]int64{}
	}
	if d.Samples == nil {
		d.Samples = map[string][]string{}
	}
	for _, x := range ds {
		if x.Allowed {
			continue
		}
		d.HeldBack++
		for _, r := range x.Reasons {
			d.Reasons[r]++
			if len(d.Samples[r]) < maxSamples {
				d.Samples[r] = append(d.Samples[r], x.CustomerID)
			}
		}
	}
}

// Preview runs the target group and the contact policy without delivering:
// how many would get the campaign, how many are held back and why.
func (s *Service) Preview(ctx context.Context, id string) (store.CampaignDelivery, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return store.CampaignDelivery{}, err
	}
	chk, err := s.newChecker(ctx, c.Channel, c.Type, c.ID)
	if err != nil {
		return store.CampaignDelivery{}, err
	}
	var rep store.CampaignDelivery
	cursor := ""
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		pg, err := s.nextPage(ctx, &c, cursor, 2000)
		if err != nil {
			return rep, err
		}
		if pg.scanned == 0 {
			return rep, nil
		}
		ds, err := chk.check(ctx, pg.matched, pg.profiles)
		if err != nil {
			return rep, err
		}
		rep.Scanned += int64(pg.scanned)
		rep.Matched += int64(len(pg.matched))
		count(&rep, ds)
		rep.Delivered = rep.Matched - rep.HeldBack // would be delivered
		cursor = pg.last
	}
}

// errStop says that the campaign left "sending" (cancelled) meanwhile.
var errStop = errors.New("campaign no longer sending")

// step delivers one batch of the first campaign that is sending; it starts
// scheduled campaigns whose time has come. It reports whether work is left.
func (s *Service) step(ctx context.Context) (bool, error) {
	cs, err := s.Campaigns()
	if err != nil {
		return false, err
	}
	now := s.now()
	due, err := cs.Campaigns(ctx, store.CampaignFilter{Statuses: []string{StatusScheduled}})
	if err != nil {
		return false, err
	}
	for _, c := range due {
		if !c.Start.After(now) {
			c.Status, c.UpdatedAt = StatusSending, now
			if err := cs.UpdateCampaign(ctx, &c); err != nil && !errors.Is(err, store.ErrConflict) {
				return false, err
			}
		}
	}
	sending, err := cs.Campaigns(ctx, store.CampaignFilter{Statuses: []string{StatusSending}})
	if err != nil || len(sending) == 0 {
		return false, err
	}
	// The oldest first, so a big campaign does not starve the next forever
	// (one batch at a time, in turn, would mix their progress; this is simpler).
	c := sending[len(sending)-1]
	err = s.deliverBatch(ctx, &c)
	if errors.Is(err, errStop) || errors.Is(err, store.ErrVersion) {
		return true, nil
	}
	return true, err
}

// deliverBatch handles the next batch of a sending campaign: target group,
// contact policy, events into the log, the deliveries for the frequency
// caps, and the progress — in that order, so a crash between any two steps
// repeats the batch, and the repeated events are dropped by their messageId.
func (s *Service) deliverBatch(ctx context.Context, c *store.Campaign) error {
	cs, err := s.Campaigns()
	if err != nil {
		return err
	}
	now := s.now()
	if c.Delivery.SentAt.IsZero() {
		c.Delivery.SentAt, c.Delivery.StartedAt = now.Truncate(time.Millisecond), now
		if err := cs.UpdateCampaign(ctx, c); err != nil {
			return err
		}
	}
	pg, err := s.nextPage(ctx, c, c.Delivery.Cursor, s.batch())
	if err != nil {
		return err
	}
	if pg.scanned == 0 {
		c.Status, c.Delivery.DoneAt, c.UpdatedAt = StatusSent, now, now
		if err := cs.UpdateCampaign(ctx, c); err != nil {
			return err
		}
		s.log().Info("campaign sent", "campaign", c.ID, "delivered", c.Delivery.Delivered, "heldBack", c.Delivery.HeldBack)
		return nil
	}
	chk, err := s.newChecker(ctx, c.Channel, c.Type, c.ID)
	if err != nil {
		return err
	}
	ds, err := chk.check(ctx, pg.matched, pg.profiles)
	if err != nil {
		return err
	}
	var allowed []string
	for _, d := range ds {
		if d.Allowed {
			allowed = append(allowed, d.CustomerID)
		}
	}
	idents, err := cs.IdentifiersOf(ctx, allowed)
	if err != nil {
		return err
	}
	srcID, err := s.sourceID(ctx)
	if err != nil {
		return err
	}
	var recs []store.Record
	var rows []store.CampaignDeliveryRow
	for i, d := range ds {
		if !d.Allowed {
			continue
		}
		id, ok := bestIdentifier(idents[d.CustomerID])
		if !ok {
			ds[i].Allowed, ds[i].Reasons = false, []string{ReasonNoIdentifier}
			continue
		}
		rec, err := deliveryRecord(c, srcID, d.CustomerID, id)
		if err != nil {
			return err
		}
		recs = append(recs, rec)
		rows = append(rows, store.CampaignDeliveryRow{CampaignID: c.ID, CustomerID: d.CustomerID, Channel: c.Channel, Type: c.Type, At: c.Delivery.SentAt})
	}
	// Still sending? A cancel between batches stops before the next events.
	fresh, err := cs.Campaign(ctx, c.ID)
	if err != nil {
		return err
	}
	if fresh.Status != StatusSending || fresh.Version != c.Version {
		return errStop
	}
	if len(recs) > 0 {
		if _, err := s.Store.Append(ctx, recs); err != nil {
			return err
		}
		if s.Wake != nil {
			s.Wake()
		}
		if err := cs.RecordCampaignDeliveries(ctx, rows); err != nil {
			return err
		}
	}
	if s.afterAppend != nil {
		if err := s.afterAppend(); err != nil {
			return err
		}
	}
	d := &c.Delivery
	d.Cursor = pg.last
	d.Scanned += int64(pg.scanned)
	d.Matched += int64(len(pg.matched))
	d.Delivered += int64(len(recs))
	count(d, ds)
	c.UpdatedAt = now
	return cs.UpdateCampaign(ctx, c)
}

// Run is the delivery job of a node: it holds the lease while there is
// work, one batch per step, and waits for wake (a campaign was sent) or a
// minute (scheduled campaigns whose start comes). It ends with ctx.
func (s *Service) Run(ctx context.Context, holder string, wake chan struct{}) {
	s.mu.Lock()
	s.wakeJob = func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		more, err := s.RunOnce(ctx, holder)
		if err != nil && ctx.Err() == nil {
			s.log().Warn("campaign delivery", "err", err)
		}
		if more && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
	}
}

// RunOnce takes the lease and delivers one batch; it reports whether more
// work is waiting. Without the lease (another node sends) it does nothing.
func (s *Service) RunOnce(ctx context.Context, holder string) (bool, error) {
	ok, err := s.Store.AcquireLease(ctx, LeaseName, holder, 2*time.Minute)
	if err != nil || !ok {
		return false, err
	}
	more, err := s.step(ctx)
	// On an error the lease is kept: this node retries (a crashed node's
	// lease runs out, then another takes over).
	if !more && err == nil {
		s.Store.ReleaseLease(context.WithoutCancel(ctx), LeaseName, holder)
	}
	return more, err
}

// Drain delivers until nothing is left (tests, the CLI).
func (s *Service) Drain(ctx context.Context, holder string) error {
	for i := 0; ; i++ {
		more, err := s.RunOnce(ctx, holder)
		if err != nil || !more {
			return err
		}
		if i > 1e7 {
			return fmt.Errorf("campaign delivery does not end")
		}
	}
}
