package store

import (
	"context"
	"time"
)

// WebhookEndpoint is a URL that administrators registered to receive
// events (case.created, case.escalated, ...), signed with Secret.
type WebhookEndpoint struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Secret      string    `json:"secret,omitempty"`
	Events      []string  `json:"events"`
	Description string    `json:"description,omitempty"`
	Enabled     bool      `json:"enabled"`
	CreatedBy   string    `json:"createdBy,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Statuses of a webhook delivery.
const (
	DeliveryPending   = "pending"   // waiting for its (next) attempt
	DeliveryDelivered = "delivered" // the endpoint answered 2xx
	DeliveryFailed    = "failed"    // gave up after the last attempt
)

// WebhookDelivery is one event to one endpoint in the outbox: what is sent
// (Payload, signed at each attempt) and how its attempts went.
type WebhookDelivery struct {
	ID            string    `json:"id"`
	EndpointID    string    `json:"endpointId"`
	Event         string    `json:"event"`
	EventID       string    `json:"eventId"`
	CaseID        string    `json:"caseId,omitempty"`
	Payload       string    `json:"-"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	NextAttempt   time.Time `json:"nextAttempt,omitzero"`
	LastAttemptAt time.Time `json:"lastAttemptAt,omitzero"`
	LastStatus    int       `json:"lastStatus,omitempty"` // the HTTP status of the last attempt (0: none)
	LastError     string    `json:"lastError,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	DeliveredAt   time.Time `json:"deliveredAt,omitzero"`
}

// WebhookDeliveryFilter selects deliveries, newest first; empty fields do
// not filter.
type WebhookDeliveryFilter struct {
	EndpointID string
	Status     string
	CaseID     string
	Limit      int // 0: 100
}

// WebhookStore keeps webhook endpoints and the outbox of deliveries.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, e WebhookEndpoint) error
	// UpdateWebhook stores URL, secret, events, description and enabled.
	UpdateWebhook(ctx context.Context, e WebhookEndpoint) error
	// DeleteWebhook deletes an endpoint and its pending deliveries (the
	// log of finished ones stays until it is pruned).
	DeleteWebhook(ctx context.Context, id string) error
	Webhook(ctx context.Context, id string) (WebhookEndpoint, error)
	Webhooks(ctx context.Context) ([]WebhookEndpoint, error)

	// EnqueueWebhookDeliveries stores new pending deliveries; one whose
	// (endpoint, event id) is stored already is skipped (a repeat).
	EnqueueWebhookDeliveries(ctx context.Context, ds []WebhookDelivery) error
	// ClaimWebhookDeliveries leases up to limit pending deliveries that are
	// due at now and not leased by anyone else (or whose lease ran out) to
	// holder until now+lease. Two holders never get the same delivery
	// while its lease runs.
	ClaimWebhookDeliveries(ctx context.Context, holder string, now time.Time, lease time.Duration, limit int) ([]WebhookDelivery, error)
	// FinishWebhookAttempt stores the outcome of an attempt (Status,
	// Attempts, NextAttempt, LastAttemptAt, LastStatus, LastError,
	// DeliveredAt) and ends the lease, if holder still holds it; else
	// ErrConflict (another node took over; its outcome counts).
	FinishWebhookAttempt(ctx context.Context, d WebhookDelivery, holder string) error
	WebhookDeliveries(ctx context.Context, f WebhookDeliveryFilter) ([]WebhookDelivery, error)
	WebhookDelivery(ctx context.Context, id string) (WebhookDelivery, error)
	// RetryWebhookDelivery makes a failed (or pending) delivery due at
	// now again, with a fresh count of attempts.
	RetryWebhookDelivery(ctx context.Context, id string, now time.Time) error
	// PruneWebhookDeliveries deletes finished deliveries created before.
	PruneWebhookDeliveries(ctx context.Context, before time.Time) (int, error)
}
