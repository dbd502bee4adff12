package store

import (
	"context"
	"time"

	"github.com/kunding/kunding/internal/profile"
)

// Campaign is a campaign or mailing registered by a department: what it
// says, to whom, when, and how far its delivery got. Package campaign keeps
// the rules; the store keeps the campaign as JSON with the fields that the
// calendar and the delivery job filter on as columns.
type Campaign struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Department string    `json:"department"`
	Channel    string    `json:"channel"`              // email, letter, phone, sms, push, web, app, ...
	Touchpoint string    `json:"touchpoint,omitempty"` // a touchpoint id of the catalogue, or free text
	Type       string    `json:"type"`                 // promotional, service, information
	Subject    string    `json:"subject,omitempty"`
	Message    string    `json:"message,omitempty"`
	Offer      string    `json:"offer,omitempty"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	// Target is the target group: a filter on profile fields, or the
	// uploaded recipient list (campaign_recipients).
	Target         Target `json:"target"`
	ExpectedVolume int64  `json:"expectedVolume"`
	Status         string `json:"status"` // draft, scheduled, sending, sent, cancelled
	// Delivery is the progress and outcome of the delivery job.
	Delivery CampaignDelivery `json:"delivery"`
	// List describes the uploaded recipient list.
	List *RecipientList `json:"list,omitempty"`

	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   int64     `json:"version"`
}

// Target is a campaign's target group. Kind "filter": every live customer
// whose profile meets all Conditions; kind "list": the uploaded recipients.
type Target struct {
	Kind       string      `json:"kind"` // filter, list
	Conditions []Condition `json:"conditions,omitempty"`
}

// Condition is one test on a profile (package campaign evaluates it).
type Condition struct {
	Field string `json:"field"` // trait:<name>, orders, revenue, lastOrder, firstSeen, lastSeen, tier, clv, clvPercentile, churnRisk, nps, email, phone
	Op    string `json:"op"`    // eq, ne, contains, exists, gte, lte, gt, lt, before, after
	Value string `json:"value,omitempty"`
}

// RecipientList is what an upload of identifiers gave.
type RecipientList struct {
	Rows      int64      `json:"rows"`      // identifiers read
	Customers int64      `json:"customers"` // distinct customers found
	Unknown   int64      `json:"unknown"`   // identifiers that name no customer
	Samples   []string   `json:"unknownSamples,omitempty"`
	Uploaded  time.Time  `json:"uploadedAt"`
	Invalid   []string   `json:"invalid,omitempty"` // lines that are no identifier (first few)
	Kinds     []KindStat `json:"kinds,omitempty"`
}

// KindStat counts identifiers of one kind in an upload.
type KindStat struct {
	Kind  string `json:"kind"`
	Count int64  `json:"count"`
}

// CampaignDelivery is the delivery job's state: Cursor is the last customer
// id handled (customers are handled in id order), so a crashed job resumes
// behind it; the counts cover everything up to the cursor.
type CampaignDelivery struct {
	Cursor    string              `json:"cursor,omitempty"`
	Scanned   int64               `json:"scanned"`   // customers looked at (filter) or listed (list)
	Matched   int64               `json:"matched"`   // in the target group
	Delivered int64               `json:"delivered"` // got the campaign on their timeline
	HeldBack  int64               `json:"heldBack"`  // held back by the contact policy
	Reasons   map[string]int64    `json:"reasons,omitempty"`
	Samples   map[string][]string `json:"samples,omitempty"` // per reason, a few customer ids
	StartedAt time.Time           `json:"startedAt,omitzero"`
	DoneAt    time.Time           `json:"doneAt,omitzero"`
	// SentAt is the time written on every delivery event, fixed when
	// sending starts so that a re-run writes the same events.
	SentAt time.Time `json:"sentAt,omitzero"`
	Error  string    `json:"error,omitempty"`
}

// CampaignFilter selects campaigns; empty fields do not filter. Campaigns
// that run at some time in [From, To) when both are set.
type CampaignFilter struct {
	Department string
	Channel    string
	Statuses   []string
	From, To   time.Time
	Limit      int
}

// CampaignDeliveryRow is one delivered campaign of a customer, kept for the
// frequency caps of the contact policy.
type CampaignDeliveryRow struct {
	CampaignID string
	CustomerID string
	Channel    string
	Type       string
	At         time.Time
}

// CampaignStore keeps campaigns, uploaded recipient lists and the record of
// deliveries, and reads profiles in bulk for target groups.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c Campaign) error
	// UpdateCampaign stores c if the stored version is still c.Version
	// (else ErrVersion); c.Version is incremented.
	UpdateCampaign(ctx context.Context, c *Campaign) error
	Campaign(ctx context.Context, id string) (Campaign, error)
	Campaigns(ctx context.Context, f CampaignFilter) ([]Campaign, error)
	DeleteCampaign(ctx context.Context, id string) error

	// SetCampaignRecipients replaces the uploaded list of a campaign.
	SetCampaignRecipients(ctx context.Context, campaignID string, customerIDs []string) error
	// CampaignRecipients lists the recipients after a customer id, in id order.
	CampaignRecipients(ctx context.Context, campaignID, after string, limit int) ([]string, error)

	// ProfilesAfter reads live customers' profiles after a customer id, in
	// id order (target groups by filter).
	ProfilesAfter(ctx context.Context, after string, limit int) ([]profile.Profile, error)
	// ProfilesOf reads the profiles of customers (missing ones are absent).
	ProfilesOf(ctx context.Context, customerIDs []string) (map[string]profile.Profile, error)
	// PredictionsOf reads the predictions of customers.
	PredictionsOf(ctx context.Context, customerIDs []string) (map[string]Prediction, error)
	// IdentifiersOf returns every identifier of the customers.
	IdentifiersOf(ctx context.Context, customerIDs []string) (map[string][]Identifier, error)
	// ResolveIdentifiers maps identifiers to their (surviving) customers.
	ResolveIdentifiers(ctx context.Context, ids []Identifier) (map[Identifier]string, error)

	// RecordCampaignDeliveries stores deliveries; a delivery already stored
	// (same campaign and customer) is kept as it is.
	RecordCampaignDeliveries(ctx context.Context, rows []CampaignDeliveryRow) error
	// CampaignDeliveriesSince lists the deliveries of customers at or after
	// since, for the frequency caps.
	CampaignDeliveriesSince(ctx context.Context, customerIDs []string, since time.Time) ([]CampaignDeliveryRow, error)
}
