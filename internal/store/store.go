// Package store defines the storage of Kunding: the append-only event log,
// which is the truth, and the read models derived from it (customers,
// identities, profiles, timelines, orders). Implementations live in the
// sub-packages sqlite and postgres and must pass storetest.Run.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/profile"
)

// ErrNotFound is returned when the asked-for row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique value is already taken.
var ErrConflict = errors.New("already exists")

// ErrOverloaded means the write path has too much waiting to be written;
// the client should retry later (503 with Retry-After).
var ErrOverloaded = errors.New("too many events waiting to be written")

// ErrClosed means the write path no longer accepts events (shutdown).
var ErrClosed = errors.New("server is shutting down")

// ErrUnavailable wraps errors of an unreachable database, so that the HTTP
// layer can answer 503 and clients retry.
var ErrUnavailable = errors.New("database unavailable")

// Source is a system that sends events: a web shop, an app, a CRM, a call
// centre, a review portal. Its write key authenticates the collection API.
type Source struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	WriteKey  string    `json:"writeKey"`
	CreatedAt time.Time `json:"createdAt"`
}

// Record is one validated event on its way into the log.
type Record struct {
	SourceID string
	Event    event.Event
	Body     []byte // the event as stored, JSON
}

// StoredEvent is one entry of the event log.
type StoredEvent struct {
	Seq        int64
	SourceID   string
	MessageID  string
	Type       string
	Name       string
	Timestamp  time.Time
	ReceivedAt time.Time
	Body       []byte
}

// Rejected is an event the collection API or an import refused, kept for
// inspection with the reason.
type Rejected struct {
	ID         int64     `json:"id"`
	SourceID   string    `json:"sourceId"`
	MessageID  string    `json:"messageId,omitempty"`
	ReceivedAt time.Time `json:"receivedAt"`
	Reason     string    `json:"reason"`
	Body       string    `json:"body"`
}

// Identifier is one way to recognise a person: kind is user, anon, email,
// phone or ext:<type>.
type Identifier struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// IdentityRow is an identifier with the customer it belongs to.
type IdentityRow struct {
	Identifier
	CustomerID string    `json:"customerId"`
	Seq        int64     `json:"seq"`
	FirstSeen  time.Time `json:"firstSeen"`
}

// Merge records that one customer was merged into another, and why.
type Merge struct {
	From   string    `json:"from"`
	Into   string    `json:"into"`
	Reason string    `json:"reason"`
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
}

// Conflict records identifiers that point at two customers that Kunding
// would not merge automatically (two different user ids).
type Conflict struct {
	Seq        int64      `json:"seq"`
	Identifier Identifier `json:"identifier"`
	CustomerID string     `json:"customerId"`
	OtherID    string     `json:"otherCustomerId"`
	Detail     string     `json:"detail"`
	At         time.Time  `json:"at"`
}

// Order is one Order Completed event of a customer.
type Order struct {
	CustomerID    string    `json:"customerId"`
	Seq           int64     `json:"seq"`
	Timestamp     time.Time `json:"timestamp"`
	OrderID       string    `json:"orderId,omitempty"`
	RevenueMicros int64     `json:"-"`
	Currency      string    `json:"currency,omitempty"`
}

// TimelineEntry is an event on a customer's timeline.
type TimelineEntry struct {
	Seq        int64
	SourceID   string
	SourceName string
	Type       string
	Name       string
	Timestamp  time.Time
	Body       []byte
}

// Stats counts rows for operators and tests.
type Stats struct {
	Events     int64 `json:"events"`
	Rejected   int64 `json:"rejected"`
	Customers  int64 `json:"customers"`
	Identities int64 `json:"identities"`
	Merges     int64 `json:"merges"`
	Conflicts  int64 `json:"conflicts"`
	Orders     int64 `json:"orders"`
	LastSeq    int64 `json:"lastSeq"`
	Processed  int64 `json:"processed"`
}

// Store is the whole storage of Kunding.
type Store interface {
	Close() error
	Ping(ctx context.Context) error

	// Settings are small named values (the admin key hash).
	Setting(ctx context.Context, key string) (string, error)
	// SetSettingIfAbsent stores value unless key exists; it reports whether it stored.
	SetSettingIfAbsent(ctx context.Context, key, value string) (bool, error)
	SetSetting(ctx context.Context, key, value string) error

	CreateSource(ctx context.Context, s Source) error
	Sources(ctx context.Context) ([]Source, error)
	SourceByWriteKey(ctx context.Context, key string) (Source, error)
	SourceByName(ctx context.Context, name string) (Source, error)
	SourceByID(ctx context.Context, id string) (Source, error)
	// RotateWriteKey replaces the write key of a source (ErrNotFound if there
	// is no such source, ErrConflict if the key is taken). Caches of the old
	// key (the collection API keeps keys for 10 s) must be dropped by the caller.
	RotateWriteKey(ctx context.Context, sourceID, newKey string) error

	// Append writes records to the event log in one transaction and returns,
	// per record, whether it was new (false: its messageId was already stored
	// for its source). It returns only after the commit.
	Append(ctx context.Context, recs []Record) ([]bool, error)
	AppendRejected(ctx context.Context, rs []Rejected) error
	RejectedEvents(ctx context.Context, sourceID string, limit int) ([]Rejected, error)
	// PruneRejected keeps the newest keep rejected events per source.
	PruneRejected(ctx context.Context, keep int) error
	// Events reads the log after seq, in log order.
	Events(ctx context.Context, afterSeq int64, limit int) ([]StoredEvent, error)
	EventBySeq(ctx context.Context, seq int64) (StoredEvent, error)
	// LatestEvents lists the newest events of one source, newest first, for
	// the live event debugger.
	LatestEvents(ctx context.Context, sourceID string, limit int) ([]StoredEvent, error)

	// Process runs fn in one write transaction of the derived read models.
	Process(ctx context.Context, fn func(tx Tx) error) error
	Cursor(ctx context.Context, name string) (int64, error)
	// ResetDerived deletes every derived row, so the log can be replayed.
	ResetDerived(ctx context.Context) error
	// AcquireLease takes or renews a named lease for holder until ttl from
	// now; it reports whether holder has it. Only the holder runs the job.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error

	// Reads of the derived models. Customer follows merges: asking for a
	// merged-away id returns the surviving customer.
	Customer(ctx context.Context, id string) (profile.Profile, error)
	CustomerByIdentifier(ctx context.Context, id Identifier) (profile.Profile, error)
	SearchCustomers(ctx context.Context, q string, limit int) ([]profile.Profile, error)
	Identities(ctx context.Context, customerID string) ([]IdentityRow, error)
	Merges(ctx context.Context, customerID string) ([]Merge, error)
	Conflicts(ctx context.Context, customerID string) ([]Conflict, error)
	Orders(ctx context.Context, customerID string) ([]Order, error)
	// Timeline lists a customer's events newest first; before is a paging
	// cursor (zero value: from the newest).
	Timeline(ctx context.Context, customerID string, before TimelineCursor, limit int) ([]TimelineEntry, error)
	Stats(ctx context.Context) (Stats, error)

	// Users, sessions, API keys and the audit log (access.go).
	Access
	// GDPR erasure (access.go).
	Privacy
}

// TimelineCursor is the position after the last entry of a timeline page.
type TimelineCursor struct {
	Timestamp time.Time
	Seq       int64
}

// CustomerInfo is what identity resolution needs to know of a customer.
type CustomerInfo struct {
	ID      string
	UserIDs []string
}

// TimelineRow places an event on a customer's timeline. The timeline keeps
// a copy of what the customer's page lists, so reading it does not visit the
// log: the event's source, type and name, and its body packed by
// internal/eventpack (nil: the store reads the body from the log).
type TimelineRow struct {
	CustomerID string
	Timestamp  time.Time
	Seq        int64
	SourceID   string
	Type       string
	Name       string
	Packed     []byte
}

// Tx is the write transaction of the pipeline. The bulk methods exist so
// that a batch of events costs a few round trips to the database, not a few
// per event.
type Tx interface {
	// Lookup returns the customer of each known identifier.
	Lookup(ids []Identifier) (map[Identifier]string, error)
	// UserIDs returns the user ids attached to each customer.
	UserIDs(customerIDs []string) (map[string][]string, error)
	// Profiles returns the stored profiles of the customers that have one.
	Profiles(customerIDs []string) (map[string]profile.Profile, error)
	CreateCustomer(id string, seq int64, at time.Time) error
	Attach(id Identifier, customerID string, seq int64, at time.Time) error
	// MoveCustomer moves identities, timeline and orders of from to into
	// and marks from as merged; the caller combines the profiles.
	MoveCustomer(m Merge) error
	RecordConflict(c Conflict) error
	AddTimeline(rows []TimelineRow) error
	AddOrders(orders []Order) error
	SaveProfile(p *profile.Profile) error
	DeleteProfile(customerID string) error
	// AdvanceCursor moves the named cursor from old to new; it fails if
	// another worker moved it meanwhile.
	AdvanceCursor(name string, old, new int64) error
}

// ErrCursorMoved means another worker processed the same events.
var ErrCursorMoved = errors.New("pipeline cursor moved by another worker")
