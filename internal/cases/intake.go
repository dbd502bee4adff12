package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/text"
)

// Origins of cases opened by rules on incoming events.
const (
	OriginComplaintEvent = "rule:complaint_event"
	OriginDetractor      = "rule:nps_detractor"
	OriginLowCSAT        = "rule:low_csat"
	OriginBadFeedback    = "rule:negative_feedback"
)

// The events of issue 6 (surveys and feedback) that the rules read.
const (
	EventSurveyAnswered   = "Survey Answered"
	EventFeedbackReceived = "Feedback Received"
)

// LeaseName is the lease of the node that runs the case rules and the
// escalation job.
const LeaseName = "cases"

// IntakeBatch is how many log entries one Step reads.
const IntakeBatch = 500

// Step runs the case rules over the next events of the log that the
// pipeline has processed already (so that their customers are known). It
// returns how many events it read. Each event opens at most one case ever:
// the case's idempotency key is the event's source and messageId, so a
// replay (a reset cursor, two workers) finds the case already there.
func (s *Service) Step(ctx context.Context) (int, error) {
	cur, err := s.cs.CaseCursor(ctx)
	if err != nil {
		return 0, err
	}
	done, err := s.Store.Cursor(ctx, pipeline.CursorName)
	if err != nil {
		return 0, err
	}
	if done <= cur {
		return 0, nil
	}
	limit := IntakeBatch
	if d := done - cur; d < int64(limit) {
		limit = int(d)
	}
	evs, err := s.Store.Events(ctx, cur, limit)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	_, _, in, err := s.load(ctx)
	if err != nil {
		return 0, err
	}
	last := cur
	for i := range evs {
		if evs[i].Seq > done {
			break
		}
		last = evs[i].Seq
		if in.Disabled || evs[i].Type != event.Track {
			continue
		}
		// Only these names can open a case or attach an answer: the log's
		// name column says so without decoding the event (most events are
		// page views and product views).
		if name := evs[i].Name; name != EventSurveyAnswered && name != EventFeedbackReceived && !in.IsComplaint(name) {
			continue
		}
		if err := s.intakeOne(ctx, in, &evs[i]); err != nil {
			return 0, fmt.Errorf("case rules, event %d: %w", evs[i].Seq, err)
		}
	}
	if err := s.cs.AdvanceCaseCursor(ctx, cur, last); err != nil {
		return 0, err
	}
	return int(last - cur), nil
}

// Drain runs Step until the rules have caught up with the pipeline.
func (s *Service) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.Step(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// props is the part of the event properties the rules read.
type props struct {
	// Survey Answered
	SurveyID   string   `json:"surveyId"`
	SurveyName string   `json:"surveyName"`
	SurveyType string   `json:"surveyType"`
	Score      *float64 `json:"score"`
	Category   string   `json:"category"`
	Comment    string   `json:"comment"`
	Touchpoint string   `json:"touchpoint"`
	Department string   `json:"department"`
	ResponseID string   `json:"responseId"`
	Trigger    string   `json:"triggerMessageId"`
	// Feedback Received
	FeedbackID string   `json:"feedbackId"`
	Portal     string   `json:"portal"`
	Kind       string   `json:"kind"`
	Author     string   `json:"author"`
	Rating     *float64 `json:"rating"`
	Title      string   `json:"title"`
	Text       string   `json:"text"`
	URL        string   `json:"url"`
	// both
	Language  string   `json:"language"`
	Sentiment string   `json:"sentiment"`
	Themes    []string `json:"themes"`
	// complaint events
	Subject     string `json:"subject"`
	Description string `json:"description"`
	Message     string `json:"message"`
	Channel     string `json:"channel"`
	Priority    string `json:"priority"`
	Type        string `json:"type"`
	Theme       string `json:"theme"`
}

func str(s string, max int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > max {
		return string(r[:max])
	}
	return s
}

func score(f *float64) string { return strconv.FormatFloat(*f, 'f', -1, 64) }

func (s *Service) intakeOne(ctx context.Context, in *IntakeConfig, se *store.StoredEvent) error {
	ctx = audit.WithActor(ctx, audit.SystemActor)
	ev, err := event.Decode(se.Body)
	if err != nil {
		return nil // the log holds validated events; an undecodable one opens nothing
	}
	var p props
	if len(ev.Properties) > 0 {
		_ = json.Unmarshal(ev.Properties, &p) // fields of the wrong type stay empty
	}
	n := NewCase{Type: TypeComplaint, Language: str(p.Language, 10), Sentiment: str(p.Sentiment, 20), Themes: p.Themes,
		Touchpoint: str(p.Touchpoint, 200)}
	if ev.Event == EventSurveyAnswered && strings.HasPrefix(p.Trigger, "case-") {
		// Closing the loop: the answer to a survey sent for a case (its
		// trigger is a case event) goes into that case's history.
		if err := s.attachAnswer(ctx, p, se); err != nil {
			return err
		}
	}
	switch {
	case ev.Event == EventSurveyAnswered:
		typ := strings.ToLower(p.SurveyType)
		switch {
		case typ == "nps" && (p.Score != nil && *p.Score <= in.NPSMax || p.Score == nil && p.Category == "detractor" && in.NPSMax >= 0):
			n.Origin = OriginDetractor
			if p.Score != nil {
				n.Subject = fmt.Sprintf("NPS %s (detractor) in survey %s", score(p.Score), surveyName(p))
			} else {
				n.Subject = "NPS detractor in survey " + surveyName(p)
			}
		case typ == "csat" && p.Score != nil && *p.Score <= in.CSATMax:
			n.Origin = OriginLowCSAT
			n.Subject = fmt.Sprintf("CSAT %s in survey %s", score(p.Score), surveyName(p))
		default:
			return nil
		}
		n.Channel, n.Description = "survey", p.Comment
	case ev.Event == EventFeedbackReceived:
		sentiment := p.Sentiment
		body := strings.TrimSpace(p.Title + ". " + p.Text)
		if sentiment == "" && strings.Trim(body, ". ") != "" {
			sentiment = text.Analyze(body).Sentiment
		}
		low := p.Rating != nil && *p.Rating <= in.RatingMax
		neg := in.NegativeSentiment && sentiment == text.Negative
		if !low && !neg {
			return nil
		}
		n.Origin, n.Sentiment = OriginBadFeedback, sentiment
		kind := p.Kind
		if kind == "" {
			kind = "review"
		}
		n.Channel = str(kind, 50)
		if n.Touchpoint == "" {
			n.Touchpoint = str(p.Portal, 200)
		}
		switch {
		case low && p.Title != "":
			n.Subject = fmt.Sprintf("%s-star %s on %s: %s", score(p.Rating), kind, p.Portal, p.Title)
		case low:
			n.Subject = fmt.Sprintf("%s-star %s on %s", score(p.Rating), kind, p.Portal)
		case p.Title != "":
			n.Subject = fmt.Sprintf("Negative %s on %s: %s", kind, p.Portal, p.Title)
		default:
			n.Subject = fmt.Sprintf("Negative %s on %s", kind, p.Portal)
		}
		n.Description = p.Text
		if p.URL != "" {
			n.Description = strings.TrimSpace(n.Description + "\n\n" + p.URL)
		}
	case in.IsComplaint(ev.Event):
		n.Origin = OriginComplaintEvent
		n.Subject = p.Subject
		if n.Subject == "" {
			n.Subject = p.Title
		}
		if n.Subject == "" {
			n.Subject = ev.Event
		}
		for _, d := range []string{p.Description, p.Text, p.Message, p.Comment} {
			if d != "" {
				n.Description = d
				break
			}
		}
		n.Channel = p.Channel
		if n.Channel == "" {
			if src, err := s.Store.SourceByID(ctx, se.SourceID); err == nil {
				n.Channel = src.Kind
			}
		}
		if p.Type != "" {
			for _, t := range Types {
				if strings.EqualFold(p.Type, t) {
					n.Type = t
				}
			}
		}
		for _, pr := range Priorities {
			if strings.EqualFold(p.Priority, pr) {
				n.Priority = pr
			}
		}
		n.Theme = str(p.Theme, 100)
	default:
		return nil
	}
	if src, err := s.Store.SourceByID(ctx, se.SourceID); err == nil && src.Name == SourceName {
		return nil // Kunding's own case events open nothing
	}
	n.Subject, n.Description = str(n.Subject, 300), str(n.Description, 20000)
	n.Channel = str(strings.ToLower(n.Channel), 50)
	n.Sources = []store.CaseSource{{Seq: se.Seq, SourceID: se.SourceID, MessageID: se.MessageID, Event: ev.Event}}
	n.Key = "event:" + se.SourceID + ":" + se.MessageID
	// The customer: the pipeline has processed the event, so each of its
	// identifiers leads to the customer (or the one it was merged into).
	traits := profile.TraitsOf(&ev)
	for _, id := range identity.Of(&ev, traits) {
		p, err := s.Store.CustomerByIdentifier(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		n.CustomerID = p.CustomerID
		if id.Kind == identity.Anon && ev.UserID == "" && len(identity.Of(&ev, traits)) == 1 {
			// Known only by an anonymous id (a review author): an
			// unidentified contact, to be linked to a customer later.
			n.Contact = id.Kind + ":" + id.Value
		}
		break
	}
	if n.CustomerID == "" {
		ids := identity.Of(&ev, traits)
		if len(ids) == 0 {
			n.Contact = "unknown (event " + strconv.FormatInt(se.Seq, 10) + ")"
		} else {
			n.Contact = ids[0].Kind + ":" + ids[0].Value
		}
	}
	_, err = s.Create(ctx, n)
	if errors.Is(err, store.ErrConflict) {
		return nil // opened before (a replay)
	}
	if errors.Is(err, ErrInvalid) {
		s.Log.Warn("cases: rule could not open a case", "seq", se.Seq, "err", err)
		return nil
	}
	return err
}

func surveyName(p props) string {
	if p.SurveyName != "" {
		return p.SurveyName
	}
	return p.SurveyID
}

// attachAnswer records a survey answer in the history of the case whose
// event triggered the survey, once per answer.
func (s *Service) attachAnswer(ctx context.Context, p props, se *store.StoredEvent) error {
	id, _, ok := strings.Cut(strings.TrimPrefix(p.Trigger, "case-"), "-v")
	if !ok {
		return nil
	}
	c, err := s.cs.Case(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	hist, err := s.cs.CaseHistory(ctx, c.ID)
	if err != nil {
		return err
	}
	seq := strconv.FormatInt(se.Seq, 10)
	for _, h := range hist {
		if h.Action == "satisfaction" && h.After["seq"] == seq {
			return nil // attached before (a replay)
		}
	}
	after := map[string]string{"seq": seq, "surveyType": p.SurveyType, "responseId": p.ResponseID, "survey": surveyName(p)}
	if p.Score != nil {
		after["score"] = score(p.Score)
	}
	if p.Category != "" {
		after["category"] = p.Category
	}
	h := Change{CaseID: c.ID, At: s.now(), Actor: audit.SystemActor, Action: "satisfaction", After: after, Note: str(p.Comment, 20000)}
	if err := s.cs.AppendCaseHistory(ctx, []Change{h}); err != nil {
		return err
	}
	s.notify(ctx, "satisfaction", c, h)
	return nil
}

// EventMessageID is the messageId of the case event name ("Case Solved",
// ...) written for case c at its current version: a survey sent because a
// case was solved names it as its trigger (triggerMessageId), and the
// answer is then attached to the case.
func EventMessageID(c *Case, name string) string {
	return fmt.Sprintf("case-%s-v%d-%s", c.ID, c.Version, name)
}
