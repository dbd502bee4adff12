package store

import (
	"context"
	"time"
)

// ErrVersion is returned when a case changed since the caller read it
// (optimistic concurrency): the caller reloads and tries again, or shows the
// user the newer state. It is also an ErrConflict.
var ErrVersion = versionError{}

type versionError struct{}

func (versionError) Error() string {
	return "the case was changed by someone else meanwhile; reload it"
}

func (versionError) Is(target error) bool { return target == ErrConflict }

// Case is a complaint, request, praise or idea that is owned until it is
// finished. Package cases keeps the rules; the store only keeps. The whole
// case is stored as JSON, with the fields that lists filter on as columns.
type Case struct {
	ID         string `json:"id"`
	CustomerID string `json:"customerId,omitempty"`
	// Contact names an unidentified contact (an identifier such as
	// "anon:feedback:trustpilot:max", or a name or e-mail address typed by
	// an agent) until the case is linked to a customer.
	Contact     string   `json:"contact,omitempty"`
	Type        string   `json:"type"`
	Channel     string   `json:"channel"`
	Touchpoint  string   `json:"touchpoint,omitempty"`
	Priority    string   `json:"priority"`
	Status      string   `json:"status"`
	Department  string   `json:"department"`
	Owner       string   `json:"owner,omitempty"` // a user id
	Subject     string   `json:"subject"`
	Description string   `json:"description,omitempty"`
	Theme       string   `json:"theme,omitempty"` // the main topic
	Themes      []string `json:"themes,omitempty"`
	Language    string   `json:"language,omitempty"`
	Sentiment   string   `json:"sentiment,omitempty"`
	Origin      string   `json:"origin"` // "api", "web" or the intake rule that created it ("rule:complaint_event", ...)
	Policy      string   `json:"policy"` // the SLA policy applied
	Calendar    string   `json:"calendar"`

	Resolution   string `json:"resolution,omitempty"`
	RejectReason string `json:"rejectReason,omitempty"`
	MergedInto   string `json:"mergedInto,omitempty"`

	Attachments []Attachment `json:"attachments,omitempty"`
	Sources     []CaseSource `json:"sources,omitempty"`

	CreatedBy       string    `json:"createdBy"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
	FirstResponseAt time.Time `json:"firstResponseAt,omitzero"`
	// ClockStart is where the resolution clock starts: creation, or the
	// last reopening.
	ClockStart time.Time `json:"clockStart"`
	// Deadlines, in business time of the case's calendar. ResolutionDue
	// moves later by the business time spent waiting for the customer.
	FirstResponseDue time.Time `json:"firstResponseDue"`
	ResolutionDue    time.Time `json:"resolutionDue"`
	SolvedAt         time.Time `json:"solvedAt,omitzero"`
	ClosedAt         time.Time `json:"closedAt,omitzero"` // solved, rejected or merged
	WaitingSince     time.Time `json:"waitingSince,omitzero"`
	// PausedMS is the business time (ms) spent waiting for the customer.
	PausedMS int64 `json:"pausedMs,omitempty"`
	// Escalation: 0 none, 1 department lead, 2 CCO. Warned* say that the
	// warning before a deadline was given (once per deadline).
	EscalationLevel   int       `json:"escalationLevel"`
	EscalatedAt       time.Time `json:"escalatedAt,omitzero"`
	WarnedResponse    bool      `json:"warnedResponse,omitempty"`
	WarnedResolution  bool      `json:"warnedResolution,omitempty"`
	ResponseEscalated bool      `json:"responseEscalated,omitempty"`
	// Figures: how often the case was reopened, handed to another
	// department, and whether it ever waited.
	Reopened int  `json:"reopened,omitempty"`
	Handoffs int  `json:"handoffs,omitempty"`
	Waited   bool `json:"waited,omitempty"`

	Version int64 `json:"version"`
}

// Attachment is the metadata of a file attached to a case (the file itself
// lives in the system that holds it, at URL).
type Attachment struct {
	Name        string    `json:"name"`
	ContentType string    `json:"contentType,omitempty"`
	Size        int64     `json:"size,omitempty"`
	URL         string    `json:"url,omitempty"`
	AddedBy     string    `json:"addedBy,omitempty"`
	AddedAt     time.Time `json:"addedAt,omitzero"`
}

// CaseSource links a case to an event of the log it came from.
type CaseSource struct {
	Seq       int64  `json:"seq"`
	SourceID  string `json:"sourceId,omitempty"`
	MessageID string `json:"messageId,omitempty"`
	Event     string `json:"event,omitempty"`
}

// CaseChange is one entry of a case's append-only history: who did what,
// when, the fields before and after, and why.
type CaseChange struct {
	ID     int64             `json:"id"`
	CaseID string            `json:"caseId"`
	At     time.Time         `json:"at"`
	Actor  string            `json:"actor"`
	Action string            `json:"action"`
	Before map[string]string `json:"before,omitempty"`
	After  map[string]string `json:"after,omitempty"`
	Reason string            `json:"reason,omitempty"`
	Note   string            `json:"note,omitempty"`
	// Public notes are answers to the customer (they count as response).
	Public bool `json:"public,omitempty"`
}

// MergeSuggestion says that a case looks like a duplicate of an open one.
type MergeSuggestion struct {
	CaseID    string    `json:"caseId"`
	TargetID  string    `json:"targetId"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"` // "open", "accepted", "dismissed"
	CreatedAt time.Time `json:"createdAt"`
}

// CaseFilter selects cases; empty fields do not filter. Cases come newest
// first.
type CaseFilter struct {
	IDs         []string
	Statuses    []string
	Open        bool // only unfinished cases (not solved, rejected or merged)
	Department  string
	Owner       string
	CustomerIDs []string
	Type        string
	Priority    string
	Theme       string
	Channel     string
	Escalated   bool      // escalation level 1 or more
	BelowLevel  int       // if > 0: escalation level below this
	DueBefore   time.Time // resolution due, or first response due and not yet answered, before this
	From, To    time.Time // created in [From, To)
	Limit       int       // 0: all
	Offset      int
}

// CaseStore keeps cases, their history, merge suggestions, the case
// configuration (routing rules, SLA policies, calendars, intake rules) and
// the position of the case rules in the event log.
type CaseStore interface {
	// InsertCase stores a new case with its first history entries. keys are
	// idempotency keys (the source events); if one is taken, nothing is
	// stored and the error is ErrConflict.
	InsertCase(ctx context.Context, c Case, keys []string, hist []CaseChange) error
	// UpdateCases stores changed cases in one transaction. Each case's
	// Version must be the version read; the stored version becomes
	// Version+1 (the caller's structs are updated). ErrVersion if any case
	// changed meanwhile, ErrNotFound if one does not exist.
	UpdateCases(ctx context.Context, cs []*Case, hist []CaseChange) error
	// AppendCaseHistory adds entries without changing the case.
	AppendCaseHistory(ctx context.Context, hist []CaseChange) error
	Case(ctx context.Context, id string) (Case, error)
	// CaseByKey finds the case created for an idempotency key.
	CaseByKey(ctx context.Context, key string) (Case, error)
	Cases(ctx context.Context, f CaseFilter) ([]Case, error)
	CountCases(ctx context.Context, f CaseFilter) (int, error)
	CaseHistory(ctx context.Context, caseID string) ([]CaseChange, error)

	SaveMergeSuggestion(ctx context.Context, s MergeSuggestion) error
	MergeSuggestions(ctx context.Context, caseID string) ([]MergeSuggestion, error)
	SetMergeSuggestionStatus(ctx context.Context, caseID, targetID, status string) error

	// CaseConfig returns a named configuration document and its version
	// (ErrNotFound if never set). SetCaseConfig stores it if the stored
	// version is still old (0: not yet stored), else ErrVersion.
	CaseConfig(ctx context.Context, key string) (value string, version int64, err error)
	SetCaseConfig(ctx context.Context, key, value string, old int64) error

	// CaseCursor is the last event of the log the case rules handled;
	// AdvanceCaseCursor moves it from old to new and fails with
	// ErrCursorMoved if another worker moved it.
	CaseCursor(ctx context.Context) (int64, error)
	AdvanceCaseCursor(ctx context.Context, old, new int64) error
}
