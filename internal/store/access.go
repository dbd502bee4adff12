package store

import (
	"context"
	"errors"
	"time"

	"github.com/kunding/kunding/internal/profile"
)

// User is a person who logs in to Kunding (an employee, not a customer).
// Package auth validates; the store only keeps.
type User struct {
	ID           string
	Email        string // lower-cased
	Name         string
	Role         string
	Department   string // a department's name
	PasswordHash string // PHC string (argon2id)
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Department is a unit of the company that users belong to.
type Department struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// Session is a login. Only the SHA-256 of its token is stored.
type Session struct {
	TokenHash string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIKey is a key of the management API. Only the SHA-256 of the key is stored.
type APIKey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	KeyHash    string    `json:"-"`
	Scopes     []string  `json:"scopes"`
	CreatedBy  string    `json:"createdBy"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
}

// AuditEntry is one line of the audit log: who did what to what, when.
// Detail never holds personal data of customers (only ids and counts).
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// AuditFilter selects audit entries; empty fields do not filter. Entries
// come newest first; Before (an entry id) pages backwards.
type AuditFilter struct {
	Actor  string
	Action string
	Target string
	Since  time.Time
	Before int64
	Limit  int
}

// Access is the storage of users, departments, sessions, API keys, login
// failures and the audit log.
type Access interface {
	Departments(ctx context.Context) ([]Department, error)
	// CreateDepartment fails with ErrConflict if the name exists.
	CreateDepartment(ctx context.Context, d Department) error

	// CreateUser fails with ErrConflict if the e-mail address is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser stores name, role, department, password hash and disabled.
	UpdateUser(ctx context.Context, u User) error
	UserByID(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	Users(ctx context.Context) ([]User, error)
	// CountUsers counts the enabled users of a role ("" for every role).
	CountUsers(ctx context.Context, role string) (int, error)

	CreateSession(ctx context.Context, s Session) error
	// SessionByHash returns a session and its user (ErrNotFound if none).
	SessionByHash(ctx context.Context, tokenHash string) (Session, User, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteUserSessions(ctx context.Context, userID string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error

	CreateAPIKey(ctx context.Context, k APIKey) error
	APIKeyByHash(ctx context.Context, keyHash string) (APIKey, error)
	APIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey marks a key revoked (ErrNotFound if there is none).
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	// AddLoginFailure records a failed login under key (a hash of the
	// e-mail or of the client address) and forgets failures older than
	// forgetBefore.
	AddLoginFailure(ctx context.Context, key string, at, forgetBefore time.Time) error
	// LoginFailures counts the failures under key since since, and returns
	// the time of the oldest of them.
	LoginFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error)
	ClearLoginFailures(ctx context.Context, key string) error

	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// ErrPending means that events of the person to be erased are in the log
// but not yet processed by the pipeline; erasing now could let the pipeline
// bring the person back. Retry when the pipeline has caught up.
var ErrPending = errors.New("the pipeline has not yet processed every event of this customer")

// Erasure says whom to erase. The callbacks hold what the store cannot know
// without importing identity resolution.
type Erasure struct {
	// CustomerID is the customer (or a customer merged into it).
	CustomerID string
	// Pending reports whether an event the pipeline has not processed yet
	// carries one of ids. If one does, EraseCustomer fails with ErrPending.
	Pending func(ids []Identifier, body []byte) bool
	// Mentions reports whether the body of a rejected event names one of ids.
	Mentions func(ids []Identifier, body []byte) bool
	// Reprofile recomputes the profile of another customer from its
	// remaining events (log order); used when an event of that customer is
	// erased because it carried the person's identifier.
	Reprofile func(customerID string, events []StoredEvent) (*profile.Profile, error)
}

// ErasureReport counts what an erasure deleted. It holds customer ids and
// counts only, so it can go to the audit log.
type ErasureReport struct {
	CustomerID  string   `json:"customerId"`
	Customers   []string `json:"customers"` // the customer and every customer merged into it
	Identifiers int64    `json:"identifiers"`
	Events      int64    `json:"events"`
	Timeline    int64    `json:"timeline"`
	Orders      int64    `json:"orders"`
	Profiles    int64    `json:"profiles"`
	Merges      int64    `json:"merges"`
	Conflicts   int64    `json:"conflicts"`
	Rejected    int64    `json:"rejected"`
	// Reprofiled lists other customers whose events named the person's
	// identifiers (identity conflicts); those events were erased and the
	// customers' profiles recomputed.
	Reprofiled []string `json:"reprofiled,omitempty"`
}

// Privacy is the storage side of GDPR erasure.
type Privacy interface {
	// EraseCustomer deletes a customer, every customer merged into it, their
	// identities, profiles, timelines, orders, merges and conflicts, their
	// events in the log and the rejected events naming their identifiers,
	// in one transaction that excludes the pipeline.
	EraseCustomer(ctx context.Context, e Erasure) (ErasureReport, error)
}
