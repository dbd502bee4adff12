// Package feedback takes in external feedback — reviews on portals, forum
// and social media posts — from the API and from polled feeds: it validates
// it, analyses its text, links it to a customer where an identifier
// matches, and stores it once together with its "Feedback Received" event.
package feedback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/text"
)

// Limits of one feedback.
const (
	MaxText       = 20000 // characters
	MaxTitle      = 500
	MaxAuthor     = 200
	MaxExternalID = 512
	MaxURL        = 2048
	MaxBatch      = 500
)

// EventName is the event every feedback writes into the log.
const EventName = "Feedback Received"

// SourceName is the internal source of feedback events.
const SourceName = "Kunding feedback"

// Kinds of feedback.
var Kinds = []string{"review", "forum", "social", "other"}

// ErrInvalid marks input that cannot be stored; the message says why.
var ErrInvalid = errors.New("invalid feedback")

// FieldError is invalid input in one field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string        { return e.Field + ": " + e.Msg }
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Input is one feedback as a client sends it.
type Input struct {
	Portal     string `json:"portal"`
	Kind       string `json:"kind,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
	Author     string `json:"author,omitempty"`
	// Rating on the scale RatingMin..RatingMax (default 1..5); it is
	// stored normalised to 1..5.
	Rating    *float64 `json:"rating,omitempty"`
	RatingMin *float64 `json:"ratingMin,omitempty"`
	RatingMax *float64 `json:"ratingMax,omitempty"`
	Title     string   `json:"title,omitempty"`
	Text      string   `json:"text"`
	URL       string   `json:"url,omitempty"`
	// Time is RFC 3339; empty: now.
	Time string `json:"time,omitempty"`
	// Identifiers of the customer, if the portal knows them.
	Email  string `json:"email,omitempty"`
	UserID string `json:"userId,omitempty"`
	Phone  string `json:"phone,omitempty"`
}

// Result is the outcome of Submit.
type Result struct {
	Feedback  store.Feedback
	Duplicate bool
}

// Service takes in feedback. It is safe for concurrent use.
type Service struct {
	Store store.Store
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// OnAppended is called after an event was appended (to wake the
	// pipeline).
	OnAppended func()

	mu       sync.Mutex
	sourceID string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) fstore() (store.FeedbackStore, error) {
	fs, ok := s.Store.(store.FeedbackStore)
	if !ok {
		return nil, errors.New("this store does not keep feedback")
	}
	return fs, nil
}

// Submit validates, analyses, links and stores one feedback. A feedback
// that was stored before (same portal and external id, or without id the
// same portal, author, title and text) is reported as a duplicate and
// changes nothing. Invalid input returns an error that Is ErrInvalid.
func (s *Service) Submit(ctx context.Context, in Input) (Result, error) {
	return s.submit(ctx, in, "")
}

// SubmitFromFeed is Submit for an item of a polled feed.
func (s *Service) SubmitFromFeed(ctx context.Context, in Input, feedID string) (Result, error) {
	return s.submit(ctx, in, feedID)
}

var portalRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._\-]{0,99}$`)

// NormalizePortal lower-cases and trims a portal name.
func NormalizePortal(p string) string { return strings.ToLower(strings.TrimSpace(p)) }

// ValidPortal checks a normalised portal name.
func ValidPortal(p string) error {
	if p == "" {
		return invalid("portal", "missing: name the portal or forum, e.g. \"trustpilot\" or \"forum.example.de\"")
	}
	if !portalRE.MatchString(p) {
		return invalid("portal", "%q: 1 to 100 lower-case letters, digits, dots, dashes or underscores", p)
	}
	return nil
}

// ValidKind checks a kind ("" is not valid here; callers default it).
func ValidKind(k string) error {
	for _, x := range Kinds {
		if x == k {
			return nil
		}
	}
	return invalid("kind", "%q: must be one of %s", k, strings.Join(Kinds, ", "))
}

func checkString(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalid(field, "not valid UTF-8")
	}
	if strings.ContainsRune(v, 0) {
		return invalid(field, "contains a NUL character")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalid(field, "%d characters, the limit is %d", n, max)
	}
	return nil
}

// CheckURL accepts an absolute http or https URL.
func CheckURL(field, raw string) error {
	if len(raw) > MaxURL {
		return invalid(field, "%d characters, the limit is %d", len(raw), MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid(field, "%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// normalized is a validated input.
type normalized struct {
	Input
	rating *float64
	at     time.Time
	email  string
	phone  string
}

func (s *Service) validate(in Input, now time.Time) (normalized, error) {
	n := normalized{Input: in}
	n.Portal = NormalizePortal(in.Portal)
	if err := ValidPortal(n.Portal); err != nil {
		return n, err
	}
	n.Kind = strings.ToLower(strings.TrimSpace(in.Kind))
	if n.Kind == "" {
		n.Kind = "review"
	}
	if err := ValidKind(n.Kind); err != nil {
		return n, err
	}
	n.Text = strings.TrimSpace(in.Text)
	n.Title = strings.TrimSpace(in.Title)
	n.Author = strings.TrimSpace(in.Author)
	n.ExternalID = strings.TrimSpace(in.ExternalID)
	if n.Text == "" {
		return n, invalid("text", "missing or empty")
	}
	for _, c := range []struct {
		field, v string
		max      int
	}{{"text", n.Text, MaxText}, {"title", n.Title, MaxTitle}, {"author", n.Author, MaxAuthor}, {"externalId", n.ExternalID, MaxExternalID},
		{"userId", in.UserID, 512}, {"email", in.Email, 320}, {"phone", in.Phone, 64}} {
		if err := checkString(c.field, c.v, c.max); err != nil {
			return n, err
		}
	}
	if n.URL = strings.TrimSpace(in.URL); n.URL != "" {
		if err := CheckURL("url", n.URL); err != nil {
			return n, err
		}
	}
	r, err := normalizeRating(in.Rating, in.RatingMin, in.RatingMax)
	if err != nil {
		return n, err
	}
	n.rating = r
	n.at = now
	if t := strings.TrimSpace(in.Time); t != "" {
		at, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return n, invalid("time", "%q is not an RFC 3339 time such as 2026-11-22T14:05:00Z", t)
		}
		if at.After(now.Add(24 * time.Hour)) {
			return n, invalid("time", "%s lies more than a day in the future", t)
		}
		if at.Year() < 1990 {
			return n, invalid("time", "%s is before 1990", t)
		}
		n.at = at
	}
	n.at = n.at.UTC().Truncate(time.Millisecond)
	n.UserID = strings.TrimSpace(in.UserID)
	if in.Email != "" {
		if n.email = identity.NormalizeEmail(in.Email); n.email == "" {
			return n, invalid("email", "%q is not an e-mail address", in.Email)
		}
	}
	if in.Phone != "" {
		if n.phone = identity.NormalizePhone(in.Phone); n.phone == "" {
			return n, invalid("phone", "%q is not a phone number (6 to 20 digits)", in.Phone)
		}
	}
	return n, nil
}

// normalizeRating maps a rating on min..max (default 1..5) to 1..5.
func normalizeRating(r, lo, hi *float64) (*float64, error) {
	if r == nil {
		if lo != nil || hi != nil {
			return nil, invalid("rating", "ratingMin or ratingMax given without a rating")
		}
		return nil, nil
	}
	min, max := 1.0, 5.0
	if lo != nil {
		min = *lo
	}
	if hi != nil {
		max = *hi
	}
	for _, v := range []float64{*r, min, max} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, invalid("rating", "not a finite number")
		}
	}
	if max <= min || max-min > 1000 {
		return nil, invalid("ratingMax", "the scale %g..%g is not a scale (ratingMin must be below ratingMax)", min, max)
	}
	if *r < min || *r > max {
		return nil, invalid("rating", "%g is outside the scale %g..%g (give ratingMin and ratingMax for another scale)", *r, min, max)
	}
	v := 1 + 4*(*r-min)/(max-min)
	v = math.Round(v*100) / 100
	return &v, nil
}

// ID returns the id of a feedback: from portal and external id, or from
// portal, author, title and text when the portal gives no id.
func ID(portal, externalID, author, title, body string) string {
	h := sha256.New()
	if externalID != "" {
		fmt.Fprintf(h, "id\x00%s\x00%s", portal, externalID)
	} else {
		fmt.Fprintf(h, "content\x00%s\x00%s\x00%s\x00%s", portal, strings.ToLower(author), title, body)
	}
	return "fb_" + hex.EncodeToString(h.Sum(nil))[:24]
}

// AnonymousID is the anonymous id of an author who matches no customer:
// one unidentified contact per portal and handle, which can be linked or
// merged later.
func AnonymousID(portal, author string) string {
	return "feedback:" + portal + ":" + strings.ToLower(strings.Join(strings.Fields(author), " "))
}

func (s *Service) submit(ctx context.Context, in Input, feedID string) (Result, error) {
	fs, err := s.fstore()
	if err != nil {
		return Result{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	n, err := s.validate(in, now)
	if err != nil {
		return Result{}, err
	}
	id := ID(n.Portal, n.ExternalID, n.Author, n.Title, n.Text)
	if old, err := fs.Feedback(ctx, id); err == nil {
		return Result{Feedback: old, Duplicate: true}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Result{}, err
	}
	src, err := s.source(ctx)
	if err != nil {
		return Result{}, err
	}
	a := text.Analyze(strings.TrimSpace(n.Title + "\n" + n.Text))
	analysis, _ := json.Marshal(a)
	themes := a.Themes
	if themes == nil {
		themes = []string{}
	}
	fb := store.Feedback{
		ID: id, Portal: n.Portal, Kind: n.Kind, ExternalID: n.ExternalID, Author: n.Author, Rating: n.rating,
		Title: n.Title, Text: n.Text, URL: n.URL, Timestamp: n.at, ReceivedAt: now,
		Language: a.Language, Sentiment: a.Sentiment, Score: a.Score, Themes: themes, Analysis: analysis,
		FeedID: feedID, SourceID: src, MessageID: "feedback-" + id,
	}
	// Link now, so the feedback shows its customer at once; the event
	// carries the same identifiers, so the pipeline puts it on the
	// customer's timeline (and follows later merges).
	var ids []store.Identifier
	if n.UserID != "" {
		ids = append(ids, store.Identifier{Kind: identity.User, Value: n.UserID})
	}
	if n.email != "" {
		ids = append(ids, store.Identifier{Kind: identity.Email, Value: n.email})
	}
	if n.phone != "" {
		ids = append(ids, store.Identifier{Kind: identity.Phone, Value: n.phone})
	}
	for _, x := range ids {
		p, err := s.Store.CustomerByIdentifier(ctx, x)
		if err == nil {
			fb.CustomerID = p.CustomerID
			break
		}
		if !errors.Is(err, store.ErrNotFound) {
			return Result{}, err
		}
	}
	rec, err := s.record(fb, n)
	if err != nil {
		return Result{}, err
	}
	isNew, err := fs.SaveFeedback(ctx, fb, rec)
	if err != nil {
		return Result{}, err
	}
	if !isNew {
		old, err := fs.Feedback(ctx, id)
		if err != nil {
			return Result{}, err
		}
		return Result{Feedback: old, Duplicate: true}, nil
	}
	if s.OnAppended != nil {
		s.OnAppended()
	}
	stored, err := fs.Feedback(ctx, id)
	if err != nil {
		return Result{Feedback: fb}, nil
	}
	return Result{Feedback: stored}, nil
}

// record builds the "Feedback Received" event of fb.
func (s *Service) record(fb store.Feedback, n normalized) (store.Record, error) {
	props := map[string]any{
		"feedbackId": fb.ID, "portal": fb.Portal, "kind": fb.Kind, "author": fb.Author,
		"title": fb.Title, "text": fb.Text, "url": fb.URL,
		"language": fb.Language, "sentiment": fb.Sentiment, "sentimentScore": fb.Score, "themes": fb.Themes,
	}
	if fb.Rating != nil {
		props["rating"] = *fb.Rating
	}
	if fb.FeedID != "" {
		props["feedId"] = fb.FeedID
	}
	pj, err := json.Marshal(props)
	if err != nil {
		return store.Record{}, err
	}
	ev := event.Event{
		Type: event.Track, MessageID: fb.MessageID, Event: EventName, Properties: pj,
		UserID: n.UserID, Timestamp: fb.Timestamp, ReceivedAt: fb.ReceivedAt,
	}
	traits := map[string]string{}
	if n.email != "" {
		traits["email"] = n.email
	}
	if n.phone != "" {
		traits["phone"] = n.phone
	}
	if len(traits) > 0 {
		c, _ := json.Marshal(map[string]any{"traits": traits})
		ev.Context = c
	}
	if n.UserID == "" && len(traits) == 0 {
		if fb.Author != "" {
			ev.AnonymousID = AnonymousID(fb.Portal, fb.Author)
		} else {
			// Without a handle there is nobody to group by: the post is
			// a contact of its own.
			ev.AnonymousID = "feedback:" + fb.Portal + ":#" + fb.ID
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return store.Record{}, err
	}
	return store.Record{SourceID: fb.SourceID, Event: ev, Body: body}, nil
}

// source returns the id of the internal "Kunding feedback" source,
// creating it on first use (by any node: a lost race reads the winner's).
func (s *Service) source(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sourceID != "" {
		return s.sourceID, nil
	}
	src, err := source.Internal(ctx, s.Store, SourceName, "review")
	if err != nil {
		return "", fmt.Errorf("feedback source: %w", err)
	}
	s.sourceID = src.ID
	return src.ID, nil
}
