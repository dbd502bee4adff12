// Package webhook tells other systems (ticketing, chat) about cases:
// administrators register endpoints for events (case.created,
// case.updated, case.escalated, case.solved); each event becomes one
// delivery per endpoint in a durable outbox (the store), which a
// dispatcher sends signed (HMAC-SHA256, see Sign) and retries with
// exponential back-off until the endpoint answers 2xx or the attempts run
// out. Deliveries are leased, so several nodes on one database never send
// the same delivery at once, and a restart loses none.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/store"
)

// Event types.
const (
	CaseCreated   = "case.created"
	CaseUpdated   = "case.updated" // any other change: assigned, status, note, reopened, rejected, merged, ...
	CaseEscalated = "case.escalated"
	CaseSolved    = "case.solved"
)

// Events lists the event types an endpoint can subscribe to.
var Events = []string{CaseCreated, CaseUpdated, CaseEscalated, CaseSolved}

// EventOf maps the action of a case notice to its webhook event ("": none;
// warnings before a deadline stay inside Kunding).
func EventOf(action string) string {
	switch action {
	case "created":
		return CaseCreated
	case "escalated":
		return CaseEscalated
	case "solved":
		return CaseSolved
	case "warning":
		return ""
	}
	return CaseUpdated
}

// ErrInvalid marks refused input; the error's text says why (HTTP 400).
var ErrInvalid = errors.New("invalid input")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Payload is the JSON body of a delivery.
type Payload struct {
	ID        string    `json:"id"` // the event's id: the same for every endpoint, and on every retry
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"createdAt"`
	Data      struct {
		Case   cases.Case   `json:"case"`
		Change cases.Change `json:"change"`
	} `json:"data"`
}

// Service manages endpoints and delivers.
type Service struct {
	Store store.Store
	ws    store.WebhookStore
	// Holder names this node in delivery leases.
	Holder string
	Client *http.Client
	// Now is the clock of attempts and back-off (tests move it).
	Now func() time.Time
	// Backoff is the wait after the n-th failed attempt (n from 1);
	// default 30 s·2^(n-1), at most 6 h.
	Backoff func(n int) time.Duration
	// MaxAttempts: after this many failed attempts a delivery is failed
	// (default 12, about 15 hours of trying).
	MaxAttempts int
	// Timeout of one attempt (default 10 s); Lease how long a claimed
	// delivery is this node's (default 1 min: well above Timeout).
	Timeout, Lease time.Duration
	// Batch is how many deliveries one round claims (default 16).
	Batch int
	Log   *slog.Logger

	wake      chan struct{}
	mu        sync.Mutex
	endpoints []store.WebhookEndpoint // cached for the hook
	loadedAt  time.Time
}

// New returns the service on st, which must implement store.WebhookStore.
func New(st store.Store, holder string) (*Service, error) {
	ws, ok := st.(store.WebhookStore)
	if !ok {
		return nil, fmt.Errorf("webhook: store %T keeps no webhooks", st)
	}
	s := &Service{Store: st, ws: ws, Holder: holder, Now: time.Now, MaxAttempts: 12, Timeout: 10 * time.Second,
		Lease: time.Minute, Batch: 16, Log: slog.Default(), wake: make(chan struct{}, 1)}
	s.Backoff = DefaultBackoff
	s.Client = &http.Client{
		// A redirect is an answer that is not 2xx: the endpoint must be
		// registered with its real URL (and a redirect must not carry the
		// signed body elsewhere).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s, nil
}

// DefaultBackoff waits 30 s after the first failure, doubling up to 6 h.
func DefaultBackoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

func newID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// NewSecret returns a random signing secret.
func NewSecret() string { return newID("whsec_") }

// Endpoint is what Create and Update take.
type Endpoint struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret"` // "" : generated
	Description string   `json:"description"`
	Enabled     *bool    `json:"enabled"` // nil: true on create, unchanged on update
}

func checkURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > 2000 {
		return "", invalidf("url %q: want an absolute http or https URL", raw)
	}
	if u.User != nil {
		return "", invalidf("url: no user or password in the URL; the signature authenticates Kunding")
	}
	return u.String(), nil
}

func checkEvents(evs []string) ([]string, error) {
	var out []string
	for _, e := range evs {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !slices.Contains(Events, e) {
			return nil, invalidf("event %q: want some of %s", e, strings.Join(Events, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, invalidf("events: choose at least one of %s", strings.Join(Events, ", "))
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(Events, a) - slices.Index(Events, b) })
	return out, nil
}

func checkSecret(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return NewSecret(), nil
	}
	if len(s) < 16 || len(s) > 200 {
		return "", invalidf("secret: 16 to 200 characters (or none: Kunding makes one)")
	}
	return s, nil
}

func checkDescription(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 300 {
		return "", invalidf("description: at most 300 characters")
	}
	return s, nil
}

// Create registers an endpoint; its secret is in the answer.
func (s *Service) Create(ctx context.Context, in Endpoint) (store.WebhookEndpoint, error) {
	var e store.WebhookEndpoint
	var err error
	if e.URL, err = checkURL(in.URL); err != nil {
		return e, err
	}
	if e.Events, err = checkEvents(in.Events); err != nil {
		return e, err
	}
	if e.Secret, err = checkSecret(in.Secret); err != nil {
		return e, err
	}
	if e.Description, err = checkDescription(in.Description); err != nil {
		return e, err
	}
	e.Enabled = in.Enabled == nil || *in.Enabled
	e.ID = newID("wh_")
	e.CreatedBy = audit.ActorFrom(ctx)
	e.CreatedAt = s.Now().UTC().Truncate(time.Millisecond)
	e.UpdatedAt = e.CreatedAt
	if err := s.ws.CreateWebhook(ctx, e); err != nil {
		return e, err
	}
	s.forget()
	return e, audit.Record(ctx, s.Store, audit.Entry{Action: "webhook.create", Target: e.ID,
		Detail: e.URL + " events " + strings.Join(e.Events, ",")})
}

// Update changes an endpoint: the fields given (URL "" and Events nil
// keep theirs; a Secret replaces the old one).
func (s *Service) Update(ctx context.Context, id string, in Endpoint) (store.WebhookEndpoint, error) {
	e, err := s.ws.Webhook(ctx, id)
	if err != nil {
		return e, err
	}
	var what []string
	if in.URL != "" {
		u, err := checkURL(in.URL)
		if err != nil {
			return e, err
		}
		if u != e.URL {
			what = append(what, "url "+e.URL+" -> "+u)
			e.URL = u
		}
	}
	if in.Events != nil {
		evs, err := checkEvents(in.Events)
		if err != nil {
			return e, err
		}
		if !slices.Equal(evs, e.Events) {
			what = append(what, "events "+strings.Join(e.Events, ",")+" -> "+strings.Join(evs, ","))
			e.Events = evs
		}
	}
	if in.Secret != "" {
		sec, err := checkSecret(in.Secret)
		if err != nil {
			return e, err
		}
		e.Secret = sec
		what = append(what, "secret replaced")
	}
	if in.Description != "" {
		if e.Description, err = checkDescription(in.Description); err != nil {
			return e, err
		}
	}
	if in.Enabled != nil && *in.Enabled != e.Enabled {
		e.Enabled = *in.Enabled
		what = append(what, fmt.Sprintf("enabled %v", e.Enabled))
	}
	e.UpdatedAt = s.Now().UTC().Truncate(time.Millisecond)
	if err := s.ws.UpdateWebhook(ctx, e); err != nil {
		return e, err
	}
	s.forget()
	if len(what) == 0 {
		what = []string{"description"}
	}
	return e, audit.Record(ctx, s.Store, audit.Entry{Action: "webhook.update", Target: e.ID, Detail: strings.Join(what, "; ")})
}

// RotateSecret gives an endpoint a new generated secret.
func (s *Service) RotateSecret(ctx context.Context, id string) (store.WebhookEndpoint, error) {
	return s.Update(ctx, id, Endpoint{Secret: NewSecret()})
}

// Delete removes an endpoint and its pending deliveries.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.ws.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	s.forget()
	return audit.Record(ctx, s.Store, audit.Entry{Action: "webhook.delete", Target: id})
}

// Endpoints lists the endpoints (with their secrets: admins only).
func (s *Service) Endpoints(ctx context.Context) ([]store.WebhookEndpoint, error) {
	return s.ws.Webhooks(ctx)
}

// Endpoint returns one endpoint.
func (s *Service) Endpoint(ctx context.Context, id string) (store.WebhookEndpoint, error) {
	return s.ws.Webhook(ctx, id)
}

// Deliveries lists the delivery log.
func (s *Service) Deliveries(ctx context.Context, f store.WebhookDeliveryFilter) ([]store.WebhookDelivery, error) {
	return s.ws.WebhookDeliveries(ctx, f)
}

// Retry makes a failed delivery due now, with a fresh count of attempts.
func (s *Service) Retry(ctx context.Context, id string) error {
	if err := s.ws.RetryWebhookDelivery(ctx, id, s.Now()); err != nil {
		return err
	}
	s.Wake()
	return audit.Record(ctx, s.Store, audit.Entry{Action: "webhook.retry", Target: id})
}

func (s *Service) forget() {
	s.mu.Lock()
	s.endpoints, s.loadedAt = nil, time.Time{}
	s.mu.Unlock()
}

// subscribed returns the enabled endpoints of event. The list is cached
// for two seconds (other nodes' changes arrive within that time).
func (s *Service) subscribed(ctx context.Context, event string) ([]store.WebhookEndpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.endpoints == nil || time.Since(s.loadedAt) > 2*time.Second {
		es, err := s.ws.Webhooks(ctx)
		if err != nil {
			return nil, err
		}
		s.endpoints, s.loadedAt = es, time.Now()
		if s.endpoints == nil {
			s.endpoints = []store.WebhookEndpoint{}
		}
	}
	var out []store.WebhookEndpoint
	for _, e := range s.endpoints {
		if e.Enabled && slices.Contains(e.Events, event) {
			out = append(out, e)
		}
	}
	return out, nil
}

// CaseHook puts a case change into the outbox of every endpoint that
// wants its event. Add it with cases.Service.AddHook; it runs after the
// change is stored, and only writes rows (the dispatcher sends).
func (s *Service) CaseHook(ctx context.Context, n cases.Notice) {
	if err := s.Enqueue(ctx, n); err != nil {
		s.Log.Error("webhook: enqueue", "case", n.Case.ID, "action", n.Action, "err", err)
	}
}

// Enqueue is CaseHook with its error.
func (s *Service) Enqueue(ctx context.Context, n cases.Notice) error {
	ev := EventOf(n.Action)
	if ev == "" {
		return nil
	}
	eps, err := s.subscribed(ctx, ev)
	if err != nil || len(eps) == 0 {
		return err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	p := Payload{ID: newID("evt_"), Type: ev, CreatedAt: n.Change.At}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	p.Data.Case, p.Data.Change = n.Case, n.Change
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	ds := make([]store.WebhookDelivery, 0, len(eps))
	for _, e := range eps {
		ds = append(ds, store.WebhookDelivery{ID: newID("whd_"), EndpointID: e.ID, Event: ev, EventID: p.ID, CaseID: n.Case.ID,
			Payload: string(body), NextAttempt: now, CreatedAt: now})
	}
	// The request may be ending; the outbox row must still be written.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.ws.EnqueueWebhookDeliveries(wctx, ds); err != nil {
		return err
	}
	s.Wake()
	return nil
}

// Wake makes the dispatcher look for due deliveries now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends: at once when woken, else every
// second; it prunes the log of finished deliveries older than 30 days
// once an hour.
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastPrune, lastErr time.Time
	for {
		for {
			n, err := s.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil && time.Since(lastErr) > 10*time.Second {
				s.Log.Error("webhook: deliver", "err", err)
				lastErr = time.Now()
			}
			if err != nil || n < s.Batch {
				break
			}
		}
		if time.Since(lastPrune) > time.Hour {
			if _, err := s.ws.PruneWebhookDeliveries(ctx, s.Now().AddDate(0, 0, -30)); err != nil && ctx.Err() == nil {
				s.Log.Warn("webhook: prune", "err", err)
			}
			lastPrune = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// DeliverDue claims the due deliveries (up to Batch) and attempts them in
// parallel; it returns how many it attempted.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	ds, err := s.ws.ClaimWebhookDeliveries(ctx, s.Holder, s.Now(), s.Lease, s.Batch)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	eps := map[string]*store.WebhookEndpoint{}
	for _, d := range ds {
		if _, ok := eps[d.EndpointID]; ok {
			continue
		}
		e, err := s.ws.Webhook(ctx, d.EndpointID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			eps[d.EndpointID] = nil
		case err != nil:
			return 0, err
		default:
			eps[d.EndpointID] = &e
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ds))
	for i := range ds {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.attempt(ctx, ds[i], eps[ds[i].EndpointID])
		}(i)
	}
	wg.Wait()
	return len(ds), errors.Join(errs...)
}

// attempt sends one delivery and stores the outcome.
func (s *Service) attempt(ctx context.Context, d store.WebhookDelivery, e *store.WebhookEndpoint) error {
	status, msg := 0, ""
	switch {
	case e == nil:
		msg = "the endpoint was deleted"
	case !e.Enabled:
		msg = "the endpoint is switched off"
	default:
		status, msg = s.send(ctx, d, e)
	}
	if ctx.Err() != nil {
		// Shutting down: the lease runs out and the delivery is tried
		// again, by this node after its restart or by another.
		return nil
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	d.Attempts++
	d.LastAttemptAt, d.LastStatus, d.LastError = now, status, msg
	switch {
	case msg == "":
		d.Status, d.DeliveredAt = store.DeliveryDelivered, now
	case e == nil || !e.Enabled || d.Attempts >= s.MaxAttempts:
		d.Status = store.DeliveryFailed
	default:
		d.Status, d.NextAttempt = store.DeliveryPending, now.Add(s.Backoff(d.Attempts))
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := s.ws.FinishWebhookAttempt(wctx, d, s.Holder)
	if errors.Is(err, store.ErrConflict) {
		// The lease ran out during the attempt and another node has the
		// delivery now; its outcome counts.
		s.Log.Warn("webhook: lease lost during attempt", "delivery", d.ID)
		return nil
	}
	return err
}

// send makes one HTTP attempt: it returns the status and "" for a 2xx
// answer, else what went wrong.
func (s *Service) send(ctx context.Context, d store.WebhookDelivery, e *store.WebhookEndpoint) (int, string) {
	actx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(actx, http.MethodPost, e.URL, strings.NewReader(d.Payload))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kunding-Webhooks/1")
	req.Header.Set("Kunding-Event", d.Event)
	req.Header.Set("Kunding-Event-Id", d.EventID)
	req.Header.Set("Kunding-Delivery", d.ID)
	// The wall clock, not Now: receivers compare t with theirs.
	req.Header.Set(SignatureHeader, Sign(e.Secret, time.Now(), body))
	resp, err := s.Client.Do(req)
	if err != nil {
		if actx.Err() == context.DeadlineExceeded {
			return 0, fmt.Sprintf("no answer within %s", s.Timeout)
		}
		return 0, err.Error()
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	msg := "HTTP " + resp.Status
	if t := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); t != "" {
		msg += ": " + t
	}
	return resp.StatusCode, msg
}
