package store

import (
	"context"
	"time"
)

// Touchpoint is one place where customers meet the company: a letter, the
// web shop's help pages, the hotline, a review portal. Package touchpoint
// validates and matches; the store only keeps.
type Touchpoint struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Channel     string `json:"channel"`
	Stage       string `json:"stage"`
	Media       string `json:"media"` // owned, paid, earned
	Department  string `json:"department,omitempty"`
	// Cost in micros of the currency, per contact or per month (CostBasis).
	CostMicros int64  `json:"costMicros"`
	CostBasis  string `json:"costBasis"` // contact, month
	Currency   string `json:"currency,omitempty"`
	Status     string `json:"status"` // active, review, retired
	// Priority orders the touchpoints for matching: lower first.
	Priority int              `json:"priority"`
	Rules    []TouchpointRule `json:"rules"`
	// ImportanceSurvey is the survey whose answers at this touchpoint state
	// how important it is to customers (stated importance).
	ImportanceSurvey string    `json:"importanceSurvey,omitempty"`
	Version          int64     `json:"version"`
	CreatedBy        string    `json:"createdBy"`
	CreatedAt        time.Time `json:"createdAt"`
	UpdatedAt        time.Time `json:"updatedAt"`
}

// TouchpointRule matches an event when every condition it sets holds.
type TouchpointRule struct {
	Source      string `json:"source,omitempty"`      // source id or name
	Type        string `json:"type,omitempty"`        // track, page, screen
	Event       string `json:"event,omitempty"`       // event name (track) or page/screen name
	PathPrefix  string `json:"pathPrefix,omitempty"`  // page path starts with
	PathPattern string `json:"pathPattern,omitempty"` // page path matches (path.Match glob)
	Campaign    string `json:"campaign,omitempty"`    // context.campaign.name or utm_campaign
	Property    string `json:"property,omitempty"`    // properties.<Property> ...
	Equals      string `json:"equals,omitempty"`      // ... equals this (as text)
}

// TouchpointState is the consumer's position: Cursor in the log, and the
// rules generation its derived rows belong to (Built) against the one asked
// for (Generation). Target is the log position a rebuild must reach.
type TouchpointState struct {
	Cursor     int64 `json:"cursor"`
	Generation int64 `json:"generation"`
	Built      int64 `json:"built"`
	Target     int64 `json:"target"`
}

// TouchpointAgg is the incremental aggregate of one touchpoint, segment and
// day (Grain 0, Period = days since 1970-01-01) or month (Grain 1, Period =
// year*12 + month-1). Customers is a distinct-count sketch (package
// touchpoint) of the customers contacted.
type TouchpointAgg struct {
	Touchpoint  string
	Segment     string
	Grain       int
	Period      int64
	Contacts    int64
	CustDays    int64 // distinct customer-days with a contact
	Conversions int64 // of those, followed by an order within the window
	Complaints  int64
	NPSN        int64
	NPSPro      int64
	NPSDet      int64
	CSATN       int64
	CSATSum     float64
	CSATSat     int64 // answers 4 or 5
	CESN        int64
	CESSum      float64
	SentN       int64
	SentSum     float64
	SentNeg     int64
	PerfN       int64   // satisfaction answers of any kind
	PerfSum     float64 // their scores normalised to 0..100
	ImpN        int64   // stated-importance answers
	ImpSum      float64 // normalised to 0..100
	Customers   []byte
}

// TouchpointAnswer is one scored survey answer with its customer, for the
// key-driver analysis; Touchpoint "" is an overall answer.
type TouchpointAnswer struct {
	Seq        int64
	Touchpoint string
	CustomerID string
	Day        int64
	Score      float64 // normalised 0..100
	Segments   string  // "|all|tier:mid|trait:country=de|"
}

// TouchpointKDA holds the sums of the key-driver regression of one
// touchpoint, segment and month (added up by the consumer; deltas in a
// batch).
type TouchpointKDA struct {
	Touchpoint, Segment      string
	Month                    int64
	N, SX, SY, SXX, SYY, SXY float64
}

// TouchpointContact is a day on which a customer had contact with a
// touchpoint, for conversion after contact.
type TouchpointContact struct {
	CustomerID string
	Touchpoint string
	Day        int64
	Converted  bool
	Segments   string
}

// TouchpointUnmatched counts events no rule matched, grouped by Key.
type TouchpointUnmatched struct {
	Key       string    `json:"key"`
	Kind      string    `json:"kind"` // event, path, campaign
	SourceID  string    `json:"sourceId,omitempty"`
	Value     string    `json:"value"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	Examples  []int64   `json:"examples"` // log positions, up to three
}

// TouchpointBatch is what the consumer writes for one batch of the log, in
// one transaction, guarded by its cursor and generation.
type TouchpointBatch struct {
	From, To   int64 // cursor before and after
	Generation int64
	Matches    map[int64]string // seq -> touchpoint
	Aggs       []TouchpointAgg  // whole rows (merged by the caller), upserted
	Answers    []TouchpointAnswer
	Contacts   []TouchpointContact // upserted
	KDA        []TouchpointKDA     // added to the stored sums
	// PruneBefore: contact days before it can no longer convert.
	PruneBefore int64
	Unmatched   []TouchpointUnmatched
}

// AggKey names one aggregate row.
type AggKey struct {
	Touchpoint string
	Segment    string
	Grain      int
	Period     int64
}

// TouchpointStore keeps the touchpoint catalogue and the rows derived from
// the log by the touchpoint consumer.
type TouchpointStore interface {
	// CreateTouchpoint fails with ErrConflict if the id or name exists.
	CreateTouchpoint(ctx context.Context, t Touchpoint) error
	// UpdateTouchpoint stores t if its Version is the stored one (ErrVersion
	// otherwise) and increments the version.
	UpdateTouchpoint(ctx context.Context, t Touchpoint) error
	DeleteTouchpoint(ctx context.Context, id string) error
	TouchpointByID(ctx context.Context, id string) (Touchpoint, error)
	Touchpoints(ctx context.Context) ([]Touchpoint, error)

	TouchpointState(ctx context.Context) (TouchpointState, error)
	// RequestTouchpointRebuild increments the generation: the consumer then
	// deletes the derived rows and matches the log again from the start.
	RequestTouchpointRebuild(ctx context.Context) (int64, error)
	// ResetTouchpointDerived deletes the derived rows and sets the cursor to
	// 0, Built to generation and Target to target, if Built is still built.
	ResetTouchpointDerived(ctx context.Context, built, generation, target int64) error
	// TouchpointAggs reads the aggregate rows of the given keys.
	TouchpointAggs(ctx context.Context, keys []AggKey) (map[AggKey]TouchpointAgg, error)
	// TouchpointAggRange reads the rows of a segment and grain with from <=
	// period < to, of every touchpoint.
	TouchpointAggRange(ctx context.Context, segment string, grain int, from, to int64) ([]TouchpointAgg, error)
	TouchpointContacts(ctx context.Context, customerIDs []string) ([]TouchpointContact, error)
	// TouchpointAnswersOf lists the answers of the customers on or after a
	// day, in log order.
	TouchpointAnswersOf(ctx context.Context, customerIDs []string, fromDay int64) ([]TouchpointAnswer, error)
	// TouchpointKDARange reads the key-driver sums of a segment with from <=
	// month < to.
	TouchpointKDARange(ctx context.Context, segment string, from, to int64) ([]TouchpointKDA, error)
	// TouchpointAnswers lists answers with from <= day < to whose segments
	// contain segment.
	TouchpointAnswers(ctx context.Context, segment string, from, to int64) ([]TouchpointAnswer, error)
	// CommitTouchpointBatch writes the batch and moves the cursor; it fails
	// with ErrCursorMoved if the cursor or the built generation changed.
	CommitTouchpointBatch(ctx context.Context, b TouchpointBatch) error
	// TouchpointOf returns the touchpoint each of the log positions matched
	// (absent: none).
	TouchpointOf(ctx context.Context, seqs []int64) (map[int64]string, error)
	// TouchpointEvents lists the newest log positions matched to a touchpoint.
	TouchpointEvents(ctx context.Context, touchpoint string, limit int) ([]int64, error)
	// TouchpointCustomers resolves identifiers to customers and loads their
	// profiles' segment data (read side; the pipeline has processed them).
	TouchpointCustomers(ctx context.Context, ids []Identifier) (map[Identifier]string, error)
	TouchpointProfiles(ctx context.Context, customerIDs []string) (map[string]TouchpointProfile, error)
	// EventByMessageID finds an event by its messageId in any source.
	EventByMessageID(ctx context.Context, messageID string) (StoredEvent, error)

	Unmatched(ctx context.Context, limit int) ([]TouchpointUnmatched, error)
	UnmatchedByKey(ctx context.Context, key string) (TouchpointUnmatched, error)
	IgnoreUnmatched(ctx context.Context, key, by string, at time.Time) error
	IgnoredUnmatched(ctx context.Context) (map[string]bool, error)
}

// TouchpointProfile is what segments need of a profile.
type TouchpointProfile struct {
	RevenueMicros int64
	Orders        int64
	Traits        map[string]string
}
