package store

import (
	"context"
	"time"
)

// Survey is a questionnaire of one question with a score (NPS, CSAT, CES)
// or a free text, and an optional comment question. Package survey
// validates; the store only keeps.
type Survey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Type       string    `json:"type"` // nps, csat, ces, free
	QuestionDE string    `json:"questionDe"`
	QuestionEN string    `json:"questionEn"`
	CommentDE  string    `json:"commentQuestionDe,omitempty"`
	CommentEN  string    `json:"commentQuestionEn,omitempty"`
	Department string    `json:"department,omitempty"`
	Touchpoint string    `json:"touchpoint,omitempty"`
	Status     string    `json:"status"` // active, closed
	CreatedBy  string    `json:"createdBy"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// SurveyResponse is one answer to a survey. Its ID is deterministic (see
// package survey), so that the answer of a personal link is stored once.
type SurveyResponse struct {
	ID               string    `json:"id"`
	SurveyID         string    `json:"surveyId"`
	Score            *int      `json:"score,omitempty"` // nil for free-question surveys
	Comment          string    `json:"comment,omitempty"`
	Analysis         []byte    `json:"-"` // text.Analysis of the comment, JSON
	Sentiment        string    `json:"sentiment,omitempty"`
	CustomerID       string    `json:"customerId,omitempty"` // when known at answer time
	IdentifierKind   string    `json:"identifierKind,omitempty"`
	IdentifierValue  string    `json:"identifierValue,omitempty"`
	Touchpoint       string    `json:"touchpoint,omitempty"`
	Department       string    `json:"department,omitempty"`
	Source           string    `json:"source"` // link, anonymous, api
	TriggerMessageID string    `json:"triggerMessageId,omitempty"`
	Language         string    `json:"language,omitempty"`
	ClientHash       string    `json:"-"` // of the client address, for the limits of anonymous links
	AnsweredAt       time.Time `json:"answeredAt"`
}

// ResponseFilter selects the responses of a survey; zero times do not bound.
type ResponseFilter struct {
	SurveyID string
	From, To time.Time // From inclusive, To exclusive
	Limit    int       // 0: all
}

// SurveyStore keeps surveys and their responses.
type SurveyStore interface {
	// CreateSurvey fails with ErrConflict if the id exists.
	CreateSurvey(ctx context.Context, s Survey) error
	// UpdateSurvey stores every field but ID, CreatedBy and CreatedAt
	// (ErrNotFound if there is no such survey).
	UpdateSurvey(ctx context.Context, s Survey) error
	// DeleteSurvey removes a survey without responses; ErrConflict if it
	// has responses (close it instead), ErrNotFound if it does not exist.
	DeleteSurvey(ctx context.Context, id string) error
	SurveyByID(ctx context.Context, id string) (Survey, error)
	Surveys(ctx context.Context) ([]Survey, error)

	// RecordSurveyResponse stores the response and its event (ev, the
	// "Survey Answered" event) in one transaction, so that neither exists
	// without the other. It fails with ErrConflict, storing nothing, if a
	// response with that id exists (a personal link answered before).
	RecordSurveyResponse(ctx context.Context, r SurveyResponse, ev Record) error
	SurveyResponse(ctx context.Context, id string) (SurveyResponse, error)
	// SurveyResponses lists responses oldest first.
	SurveyResponses(ctx context.Context, f ResponseFilter) ([]SurveyResponse, error)
	// CountSurveyResponses counts the responses of a survey from one
	// client (ClientHash) since a moment.
	CountSurveyResponses(ctx context.Context, surveyID, clientHash string, since time.Time) (int, error)
}
