// Package survey runs NPS, CSAT, CES and free-question surveys: it
// validates surveys, signs and checks the tokens of personal and anonymous
// links, and records each answer as a response row and a "Survey Answered"
// event in one transaction (docs/surveys.md).
package survey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/satisfaction"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/text"
)

// EventName is the track event of an answer.
const EventName = "Survey Answered"

// SourceName and SourceKind name the source Kunding writes answers under.
const (
	SourceName = "Kunding surveys"
	SourceKind = "survey"
)

// Limits of an answer.
const (
	MaxComment = 5000 // characters
	// AnonymousPerHour bounds the answers of one client address to one
	// anonymous link per hour.
	AnonymousPerHour = 10
	// DefaultLinkDays is how long a personal link works unless told.
	DefaultLinkDays = 30
	MaxLinkDays     = 365
)

// How an answer arrived (the "source" of the breakdowns).
const (
	ViaLink      = "link"      // the hosted page of a personal link
	ViaAnonymous = "anonymous" // the hosted page of an anonymous link
	ViaAPI       = "api"       // POST /api/surveys/{id}/responses
)

// Errors of the service besides ErrBadToken and ErrExpired.
var (
	// ErrInvalid marks refused input; the error's text (and its Code) say why.
	ErrInvalid = errors.New("invalid input")
	// ErrAnswered: this personal link (or idempotency key) was answered before.
	ErrAnswered = fmt.Errorf("this survey was already answered with this link: %w", store.ErrConflict)
	// ErrClosed: the survey takes no more answers.
	ErrClosed = errors.New("this survey is closed")
	// ErrLimited: too many anonymous answers from one address.
	ErrLimited = errors.New("too many answers from this address; please try again later")
	// ErrGone: the customer of a personal link no longer exists (erased).
	ErrGone = errors.New("this survey link is no longer valid")
	// ErrNoSurveys: the store cannot keep surveys.
	ErrNoSurveys = errors.New("this store does not keep surveys")
)

// InputError is refused input with a code for translation (the hosted
// page) and a message (the API).
type InputError struct {
	Code string // e.g. "score.missing", "score.range", "comment.long"
	Msg  string
}

func (e *InputError) Error() string        { return e.Msg }
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

func invalid(code, format string, args ...any) error {
	return &InputError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Service is the survey logic on a store.
type Service struct {
	Store store.Store
	// Wake, if set, tells the pipeline that an event was appended.
	Wake func()
	// Now is the clock (tests); default time.Now.
	Now func() time.Time

	mu     sync.Mutex
	key    []byte
	source string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Surveys returns the survey storage.
func (s *Service) Surveys() (store.SurveyStore, error) {
	ss, ok := s.Store.(store.SurveyStore)
	if !ok {
		return nil, ErrNoSurveys
	}
	return ss, nil
}

// Input is a survey as the API and the web form give it. Pointers tell a
// change from an absent field in updates.
type Input struct {
	Name       *string `json:"name"`
	Type       *string `json:"type"`
	QuestionDE *string `json:"questionDe"`
	QuestionEN *string `json:"questionEn"`
	CommentDE  *string `json:"commentQuestionDe"`
	CommentEN  *string `json:"commentQuestionEn"`
	Department *string `json:"department"`
	Touchpoint *string `json:"touchpoint"`
	Status     *string `json:"status"`
}

func cleanText(code, what string, v string, min, max int) (string, error) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return "", invalid(code, "%s: control characters or invalid UTF-8 are not allowed", what)
	}
	if n < min || n > max {
		if min > 0 {
			return "", invalid(code, "%s: %d to %d characters (got %d)", what, min, max, n)
		}
		return "", invalid(code, "%s: at most %d characters (got %d)", what, max, n)
	}
	return v, nil
}

// apply validates in and writes it into v.
func (s *Service) apply(ctx context.Context, v *store.Survey, in Input, creating bool) error {
	set := func(dst *string, p *string, code, what string, min, max int) error {
		if p == nil {
			if creating && min > 0 {
				return invalid(code, "%s is required", what)
			}
			return nil
		}
		c, err := cleanText(code, what, *p, min, max)
		if err != nil {
			return err
		}
		*dst = c
		return nil
	}
	if err := set(&v.Name, in.Name, "name", "name", 1, 120); err != nil {
		return err
	}
	if in.Type != nil {
		if !creating && *in.Type != v.Type {
			return invalid("type", "type: a survey's type cannot change once created (make a new survey)")
		}
		t := strings.ToLower(strings.TrimSpace(*in.Type))
		if !satisfaction.Valid(satisfaction.Kind(t)) {
			return invalid("type", "type %q: must be nps, csat, ces or free", *in.Type)
		}
		v.Type = t
	} else if creating {
		return invalid("type", "type is required: nps, csat, ces or free")
	}
	if err := set(&v.QuestionDE, in.QuestionDE, "question", "questionDe", 1, 500); err != nil {
		return err
	}
	if err := set(&v.QuestionEN, in.QuestionEN, "question", "questionEn", 1, 500); err != nil {
		return err
	}
	if err := set(&v.CommentDE, in.CommentDE, "comment", "commentQuestionDe", 0, 500); err != nil {
		return err
	}
	if err := set(&v.CommentEN, in.CommentEN, "comment", "commentQuestionEn", 0, 500); err != nil {
		return err
	}
	if (v.CommentDE == "") != (v.CommentEN == "") {
		return invalid("comment", "commentQuestionDe and commentQuestionEn: give the comment question in both languages, or in neither")
	}
	if err := set(&v.Touchpoint, in.Touchpoint, "touchpoint", "touchpoint", 0, 100); err != nil {
		return err
	}
	if in.Department != nil {
		d := strings.TrimSpace(*in.Department)
		if d != "" {
			deps, err := s.Store.Departments(ctx)
			if err != nil {
				return err
			}
			var names []string
			found := false
			for _, x := range deps {
				names = append(names, x.Name)
				if strings.EqualFold(x.Name, d) {
					d, found = x.Name, true
				}
			}
			if !found {
				return invalid("department", "department %q: must be one of %s (or empty)", d, strings.Join(names, ", "))
			}
		}
		v.Department = d
	}
	if in.Status != nil {
		st := strings.ToLower(strings.TrimSpace(*in.Status))
		if st != "active" && st != "closed" {
			return invalid("status", "status %q: must be active or closed", *in.Status)
		}
		v.Status = st
	} else if creating {
		v.Status = "active"
	}
	return nil
}

// Create validates and stores a new survey.
func (s *Service) Create(ctx context.Context, in Input, actor string) (store.Survey, error) {
	ss, err := s.Surveys()
	if err != nil {
		return store.Survey{}, err
	}
	now := s.now().Truncate(time.Millisecond)
	v := store.Survey{ID: "sv_" + strings.TrimPrefix(randomID(), "sr_")[:16], CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(ctx, &v, in, true); err != nil {
		return store.Survey{}, err
	}
	if err := ss.CreateSurvey(ctx, v); err != nil {
		return store.Survey{}, err
	}
	return v, nil
}

// Update changes the given fields of a survey.
func (s *Service) Update(ctx context.Context, id string, in Input) (store.Survey, error) {
	ss, err := s.Surveys()
	if err != nil {
		return store.Survey{}, err
	}
	v, err := ss.SurveyByID(ctx, id)
	if err != nil {
		return v, err
	}
	if err := s.apply(ctx, &v, in, false); err != nil {
		return store.Survey{}, err
	}
	v.UpdatedAt = s.now().Truncate(time.Millisecond)
	return v, ss.UpdateSurvey(ctx, v)
}

// Customer names the respondent of an API answer or the recipient of a
// personal link: a Kunding customer id or one identifier.
type Customer struct {
	CustomerID  string `json:"customerId,omitempty"`
	UserID      string `json:"userId,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	AnonymousID string `json:"anonymousId,omitempty"`
}

func (c Customer) empty() bool { return c == Customer{} }

// identifier returns the one identifier given (not the customer id).
func (c Customer) identifier() (store.Identifier, error) {
	var ids []store.Identifier
	if c.UserID != "" {
		ids = append(ids, store.Identifier{Kind: identity.User, Value: strings.TrimSpace(c.UserID)})
	}
	if c.Email != "" {
		e := identity.NormalizeEmail(c.Email)
		if e == "" {
			return store.Identifier{}, invalid("customer", "email %q is not an e-mail address", c.Email)
		}
		ids = append(ids, store.Identifier{Kind: identity.Email, Value: e})
	}
	if c.Phone != "" {
		p := identity.NormalizePhone(c.Phone)
		if p == "" {
			return store.Identifier{}, invalid("customer", "phone %q is not a phone number", c.Phone)
		}
		ids = append(ids, store.Identifier{Kind: identity.Phone, Value: p})
	}
	if c.AnonymousID != "" {
		ids = append(ids, store.Identifier{Kind: identity.Anon, Value: strings.TrimSpace(c.AnonymousID)})
	}
	if len(ids) != 1 {
		return store.Identifier{}, invalid("customer", "give exactly one of customerId, userId, email, phone, anonymousId")
	}
	if len(ids[0].Value) > 512 || ids[0].Value == "" || strings.IndexByte(ids[0].Value, 0) >= 0 {
		return store.Identifier{}, invalid("customer", "%s: 1 to 512 characters", ids[0].Kind)
	}
	return ids[0], nil
}

// resolve finds the customer: by id (following merges) or by identifier.
// A customer id must exist; an identifier may be new (the answer then
// creates the customer through the pipeline), and is returned as given.
func (s *Service) resolve(ctx context.Context, c Customer) (customerID string, id store.Identifier, err error) {
	if c.CustomerID != "" {
		if c != (Customer{CustomerID: c.CustomerID}) {
			return "", id, invalid("customer", "give exactly one of customerId, userId, email, phone, anonymousId")
		}
		p, err := s.Store.Customer(ctx, strings.TrimSpace(c.CustomerID))
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return "", id, fmt.Errorf("customer %s: %w", c.CustomerID, store.ErrNotFound)
			}
			return "", id, err
		}
		id, err := s.bestIdentifier(ctx, p.CustomerID)
		return p.CustomerID, id, err
	}
	if id, err = c.identifier(); err != nil {
		return "", id, err
	}
	p, err := s.Store.CustomerByIdentifier(ctx, id)
	switch {
	case err == nil:
		return p.CustomerID, id, nil
	case errors.Is(err, store.ErrNotFound):
		return "", id, nil
	}
	return "", id, err
}

// bestIdentifier is the surest identifier of a customer (identity.Rank),
// which the answer's event carries so that it lands on the timeline.
func (s *Service) bestIdentifier(ctx context.Context, customerID string) (store.Identifier, error) {
	rows, err := s.Store.Identities(ctx, customerID)
	if err != nil {
		return store.Identifier{}, err
	}
	var best store.Identifier
	for _, r := range rows {
		if best.Kind == "" || identity.Rank(r.Kind) > identity.Rank(best.Kind) ||
			identity.Rank(r.Kind) == identity.Rank(best.Kind) && r.Value < best.Value {
			best = r.Identifier
		}
	}
	if best.Kind == "" {
		return best, ErrGone
	}
	return best, nil
}

// LinkRequest asks for a personal link.
type LinkRequest struct {
	Customer
	Touchpoint    string `json:"touchpoint,omitempty"`
	Trigger       string `json:"triggerMessageId,omitempty"`
	ExpiresInDays int    `json:"expiresInDays,omitempty"`
}

// PersonalLink signs a link of one customer. The customer must be known.
func (s *Service) PersonalLink(ctx context.Context, v store.Survey, req LinkRequest) (Link, string, error) {
	if req.Customer.empty() {
		return Link{}, "", invalid("customer", "give the customer: one of customerId, userId, email, phone, anonymousId")
	}
	cid, _, err := s.resolve(ctx, req.Customer)
	if err != nil {
		return Link{}, "", err
	}
	if cid == "" {
		return Link{}, "", fmt.Errorf("no customer with this identifier: %w", store.ErrNotFound)
	}
	days := req.ExpiresInDays
	if days == 0 {
		days = DefaultLinkDays
	}
	if days < 1 || days > MaxLinkDays {
		return Link{}, "", invalid("expires", "expiresInDays: 1 to %d", MaxLinkDays)
	}
	tp, err := cleanText("touchpoint", "touchpoint", req.Touchpoint, 0, 100)
	if err != nil {
		return Link{}, "", err
	}
	if tp == "" {
		tp = v.Touchpoint
	}
	trig, err := cleanText("trigger", "triggerMessageId", req.Trigger, 0, 200)
	if err != nil {
		return Link{}, "", err
	}
	l := Link{SurveyID: v.ID, CustomerID: cid, Touchpoint: tp, Trigger: trig, Expires: s.now().AddDate(0, 0, days).Unix()}
	if trig == "" {
		l.Nonce = nonce()
	}
	tok, err := s.Sign(ctx, l)
	return l, tok, err
}

// AnonymousLink is the one link of a survey that anyone may answer.
func (s *Service) AnonymousLink(ctx context.Context, v store.Survey) (string, error) {
	return s.Sign(ctx, Link{SurveyID: v.ID})
}

// Submission is one answer on its way in.
type Submission struct {
	Score   *int
	Comment string
	// Language is the language the respondent saw (de, en).
	Language string
	// Link is the checked link of the hosted page or of an API answer with
	// a token; nil for an API answer naming the customer.
	Link     *Link
	Customer Customer
	// IdempotencyKey (API) makes retries of one answer store it once.
	IdempotencyKey string
	Touchpoint     string // API only; a link's touchpoint wins
	Trigger        string // API only
	Via            string // ViaLink, ViaAnonymous, ViaAPI
	ClientAddr     string // for the limits of anonymous links
}

// Validate checks the score and comment of an answer to v.
func Validate(v store.Survey, score *int, comment string) (*int, string, error) {
	k := satisfaction.Kind(v.Type)
	lo, hi := satisfaction.Range(k)
	if k == satisfaction.Free {
		if score != nil {
			return nil, "", invalid("score.free", "score: a free-question survey takes no score, only the text")
		}
	} else {
		if score == nil {
			return nil, "", invalid("score.missing", "score is required: a whole number from %d to %d", lo, hi)
		}
		if *score < lo || *score > hi {
			return nil, "", invalid("score.range", "score %d is out of range: a whole number from %d to %d", *score, lo, hi)
		}
	}
	if !utf8.ValidString(comment) || strings.IndexByte(comment, 0) >= 0 {
		return nil, "", invalid("comment.bad", "comment: invalid UTF-8 or a NUL character")
	}
	comment = strings.TrimSpace(strings.ReplaceAll(comment, "\r\n", "\n"))
	if n := utf8.RuneCountInString(comment); n > MaxComment {
		return nil, "", invalid("comment.long", "comment: at most %d characters (got %d)", MaxComment, n)
	}
	if k == satisfaction.Free && comment == "" {
		return nil, "", invalid("comment.empty", "comment is required: the answer to a free question is its text")
	}
	return score, comment, nil
}

// Answer validates and records an answer to v: the response row and its
// "Survey Answered" event in one transaction. A second answer to one
// personal link fails with ErrAnswered and stores nothing.
func (s *Service) Answer(ctx context.Context, v store.Survey, sub Submission) (store.SurveyResponse, error) {
	ss, err := s.Surveys()
	if err != nil {
		return store.SurveyResponse{}, err
	}
	if v.Status != "active" {
		return store.SurveyResponse{}, ErrClosed
	}
	score, comment, err := Validate(v, sub.Score, sub.Comment)
	if err != nil {
		return store.SurveyResponse{}, err
	}
	now := s.now().Truncate(time.Millisecond)
	r := store.SurveyResponse{SurveyID: v.ID, Score: score, Comment: comment, Department: v.Department,
		Touchpoint: v.Touchpoint, Source: sub.Via, AnsweredAt: now}
	var id store.Identifier
	switch {
	case sub.Link != nil && sub.Link.SurveyID != v.ID:
		return store.SurveyResponse{}, ErrBadToken
	case sub.Link != nil && sub.Link.Personal():
		l := sub.Link
		r.ID = responseID(*l)
		p, err := s.Store.Customer(ctx, l.CustomerID)
		if errors.Is(err, store.ErrNotFound) {
			return store.SurveyResponse{}, ErrGone
		}
		if err != nil {
			return store.SurveyResponse{}, err
		}
		r.CustomerID = p.CustomerID
		if id, err = s.bestIdentifier(ctx, p.CustomerID); err != nil {
			return store.SurveyResponse{}, err
		}
		if l.Touchpoint != "" {
			r.Touchpoint = l.Touchpoint
		}
		r.TriggerMessageID = l.Trigger
		if sub.Via == "" {
			r.Source = ViaLink
		}
	case sub.Link != nil:
		// Anonymous link: every submission is an answer, within limits.
		r.ID = randomID()
		if sub.Via == "" {
			r.Source = ViaAnonymous
		}
		if sub.ClientAddr != "" {
			key, err := s.secret(ctx)
			if err != nil {
				return store.SurveyResponse{}, err
			}
			h := sha256.Sum256(append(append([]byte{}, key...), "client\x00"+sub.ClientAddr...))
			r.ClientHash = hex.EncodeToString(h[:12])
			n, err := ss.CountSurveyResponses(ctx, v.ID, r.ClientHash, now.Add(-time.Hour))
			if err != nil {
				return store.SurveyResponse{}, err
			}
			if n >= AnonymousPerHour {
				return store.SurveyResponse{}, ErrLimited
			}
		}
	default:
		if sub.Customer.empty() {
			return store.SurveyResponse{}, invalid("customer", "give a token or the customer: one of customerId, userId, email, phone, anonymousId")
		}
		if r.CustomerID, id, err = s.resolve(ctx, sub.Customer); err != nil {
			return store.SurveyResponse{}, err
		}
		tp, err := cleanText("touchpoint", "touchpoint", sub.Touchpoint, 0, 100)
		if err != nil {
			return store.SurveyResponse{}, err
		}
		if tp != "" {
			r.Touchpoint = tp
		}
		if r.TriggerMessageID, err = cleanText("trigger", "triggerMessageId", sub.Trigger, 0, 200); err != nil {
			return store.SurveyResponse{}, err
		}
		key, err := cleanText("idempotencyKey", "idempotencyKey", sub.IdempotencyKey, 0, 200)
		if err != nil {
			return store.SurveyResponse{}, err
		}
		if key != "" {
			r.ID = hashID("api\x00" + v.ID + "\x00" + key)
		} else {
			r.ID = randomID()
		}
		if sub.Via == "" {
			r.Source = ViaAPI
		}
	}
	r.IdentifierKind, r.IdentifierValue = id.Kind, id.Value
	var an text.Analysis
	if comment != "" {
		an = text.Analyze(comment)
		r.Sentiment = an.Sentiment
		if r.Analysis, err = json.Marshal(an); err != nil {
			return store.SurveyResponse{}, err
		}
	}
	r.Language = an.Language
	if r.Language == "" {
		r.Language = sub.Language
	}
	src, err := s.sourceID(ctx)
	if err != nil {
		return store.SurveyResponse{}, err
	}
	rec, err := record(src, v, r, id, an)
	if err != nil {
		return store.SurveyResponse{}, err
	}
	if err := ss.RecordSurveyResponse(ctx, r, rec); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return r, ErrAnswered
		}
		return store.SurveyResponse{}, err
	}
	if s.Wake != nil {
		s.Wake()
	}
	return r, nil
}

// MessageID is the event's messageId of a response: deterministic, so
// the log stores an answer once.
func MessageID(responseID string) string { return "survey-response-" + responseID }

// record builds the "Survey Answered" event of a response.
func record(sourceID string, v store.Survey, r store.SurveyResponse, id store.Identifier, an text.Analysis) (store.Record, error) {
	props := map[string]any{
		"surveyId": v.ID, "surveyName": v.Name, "surveyType": v.Type, "comment": r.Comment,
		"touchpoint": r.Touchpoint, "department": r.Department, "triggerMessageId": r.TriggerMessageID,
		"responseId": r.ID, "language": r.Language, "source": r.Source,
	}
	if r.Score != nil {
		props["score"] = *r.Score
		if v.Type == string(satisfaction.NPS) {
			props["category"] = satisfaction.Category(*r.Score)
		}
	}
	if r.Comment != "" {
		props["sentiment"] = an.Sentiment
		props["sentimentScore"] = an.Score
		themes := an.Themes
		if themes == nil {
			themes = []string{}
		}
		props["themes"] = themes
	}
	pb, err := json.Marshal(props)
	if err != nil {
		return store.Record{}, err
	}
	ev := event.Event{Type: event.Track, MessageID: MessageID(r.ID), Event: EventName, Properties: pb,
		Timestamp: r.AnsweredAt, ReceivedAt: r.AnsweredAt}
	ctxObj := map[string]any{"library": map[string]string{"name": "kunding-surveys"}}
	// The customer's surest identifier puts the event on the timeline.
	// E-mail, phone and external ids travel as context.externalIds, which
	// identity resolution reads without touching the profile's traits.
	switch {
	case id.Kind == identity.User:
		ev.UserID = id.Value
	case id.Kind == identity.Anon:
		ev.AnonymousID = id.Value
	case id.Kind != "":
		typ := strings.TrimPrefix(id.Kind, identity.ExtPrefix)
		ctxObj["externalIds"] = []map[string]string{{"id": id.Value, "type": typ, "collection": "users", "encoding": "none"}}
	}
	if ev.Context, err = json.Marshal(ctxObj); err != nil {
		return store.Record{}, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return store.Record{}, err
	}
	return store.Record{SourceID: sourceID, Event: ev, Body: body}, nil
}

// sourceID finds or creates the source "Kunding surveys".
func (s *Service) sourceID(ctx context.Context) (string, error) {
	s.mu.Lock()
	id := s.source
	s.mu.Unlock()
	if id != "" {
		return id, nil
	}
	src, err := source.Internal(ctx, s.Store, SourceName, SourceKind)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.source = src.ID
	s.mu.Unlock()
	return src.ID, nil
}

// Audit actions of surveys.
const (
	AuditCreate = "survey.create"
	AuditUpdate = "survey.update"
	AuditDelete = "survey.delete"
	AuditLink   = "survey.link"
)

// HostedPath is the public path of a link's hosted page.
func HostedPath(token string) string { return "/s/" + token }
