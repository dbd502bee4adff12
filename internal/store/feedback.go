package store

import (
	"context"
	"encoding/json"
	"time"
)

// Feedback is one review, forum post or social media post from outside,
// stored together with its "Feedback Received" event (see FeedbackStore).
type Feedback struct {
	ID         string   `json:"id"`
	Portal     string   `json:"portal"`
	Kind       string   `json:"kind"`
	ExternalID string   `json:"externalId,omitempty"`
	Author     string   `json:"author,omitempty"`
	Rating     *float64 `json:"rating,omitempty"` // normalised to 1..5
	Title      string   `json:"title,omitempty"`
	Text       string   `json:"text"`
	URL        string   `json:"url,omitempty"`
	// Timestamp is when it was written (the portal's time).
	Timestamp  time.Time `json:"time"`
	ReceivedAt time.Time `json:"receivedAt"`
	Language   string    `json:"language"`
	Sentiment  string    `json:"sentiment"`
	Score      float64   `json:"sentimentScore"`
	Themes     []string  `json:"themes"`
	// Analysis is the whole text analysis (drivers, aspects) as JSON.
	Analysis json.RawMessage `json:"analysis,omitempty"`
	// CustomerID is the customer an identifier matched when it arrived
	// ("" if none); readers follow merges and later links through Seq.
	CustomerID string `json:"customerId,omitempty"`
	FeedID     string `json:"feedId,omitempty"`
	SourceID   string `json:"-"`
	MessageID  string `json:"messageId"`
	// Seq is the position of its event in the log.
	Seq int64 `json:"seq"`
}

// FeedbackFilter selects feedback; zero fields select everything.
type FeedbackFilter struct {
	Portal    string
	Kind      string
	Sentiment string
	Theme     string
	// CustomerID matches feedback linked at arrival or placed on the
	// customer's timeline since (merges, later identification).
	CustomerID string
	FeedID     string
	From, To   time.Time // by Timestamp, To exclusive
	// Before pages: entries older than this (Timestamp, ID).
	Before *FeedbackCursor
	Limit  int
}

// FeedbackCursor is the position after the last entry of a page.
type FeedbackCursor struct {
	Timestamp time.Time
	ID        string
}

// Feed is an RSS or Atom feed that Kunding polls for feedback, with the
// state of its polling.
type Feed struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	URL             string    `json:"url"`
	Portal          string    `json:"portal"`
	Kind            string    `json:"kind"`
	IntervalSeconds int       `json:"intervalSeconds"`
	Enabled         bool      `json:"enabled"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
	FeedState
}

// FeedState is what the poller records after each poll of a feed.
type FeedState struct {
	ETag         string     `json:"-"`
	LastModified string     `json:"-"`
	LastPoll     *time.Time `json:"lastPoll,omitempty"`
	LastSuccess  *time.Time `json:"lastSuccess,omitempty"`
	LastError    string     `json:"lastError,omitempty"`
	// Failures counts the polls that failed in a row (back-off).
	Failures int       `json:"failures"`
	NextPoll time.Time `json:"nextPoll"`
	// LastItems and LastNew count the items of the last successful fetch
	// and how many of them were new; LastSkipped those that could not be
	// stored (their reasons are in ItemErrors).
	LastItems   int    `json:"lastItems"`
	LastNew     int    `json:"lastNew"`
	LastSkipped int    `json:"lastSkipped"`
	ItemErrors  string `json:"itemErrors,omitempty"`
	// TotalNew counts every item ever stored from this feed.
	TotalNew int64 `json:"totalNew"`
}

// FeedbackStore keeps external feedback and the feeds it is polled from.
type FeedbackStore interface {
	// SaveFeedback appends ev to the event log and stores f (with the
	// event's log position) in one transaction, so that neither exists
	// without the other. It reports false, changing nothing, when a
	// feedback with f.ID exists.
	SaveFeedback(ctx context.Context, f Feedback, ev Record) (bool, error)
	Feedback(ctx context.Context, id string) (Feedback, error)
	// FeedbackExists reports which of ids are stored.
	FeedbackExists(ctx context.Context, ids []string) (map[string]bool, error)
	ListFeedback(ctx context.Context, f FeedbackFilter) ([]Feedback, error)

	CreateFeed(ctx context.Context, f Feed) error
	// UpdateFeed changes the settings of a feed (not its state).
	UpdateFeed(ctx context.Context, f Feed) error
	DeleteFeed(ctx context.Context, id string) error
	Feed(ctx context.Context, id string) (Feed, error)
	Feeds(ctx context.Context) ([]Feed, error)
	// SaveFeedState records a poll; newItems is added to TotalNew.
	SaveFeedState(ctx context.Context, id string, st FeedState, newItems int) error
}
