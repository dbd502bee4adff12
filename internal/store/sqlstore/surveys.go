package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kunding/kunding/internal/store"
)

var _ store.SurveyStore = (*Store)(nil)

const surveyCols = `id, name, type, question_de, question_en, comment_de, comment_en, department, touchpoint, status, created_by, created_at, updated_at`

func scanSurvey(row interface{ Scan(...any) error }) (store.Survey, error) {
	var v store.Survey
	var created, updated int64
	err := row.Scan(&v.ID, &v.Name, &v.Type, &v.QuestionDE, &v.QuestionEN, &v.CommentDE, &v.CommentEN, &v.Department,
		&v.Touchpoint, &v.Status, &v.CreatedBy, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return v, store.ErrNotFound
	}
	v.CreatedAt, v.UpdatedAt = fromMS(created), fromMS(updated)
	return v, err
}

func (s *Store) CreateSurvey(ctx context.Context, v store.Survey) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO surveys(`+surveyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		v.ID, v.Name, v.Type, v.QuestionDE, v.QuestionEN, v.CommentDE, v.CommentEN, v.Department, v.Touchpoint, v.Status,
		v.CreatedBy, ms(v.CreatedAt), ms(v.UpdatedAt))
	if err != nil && s.d.IsUnique(err) {
		return fmt.Errorf("survey %s: %w", v.ID, store.ErrConflict)
	}
	return s.wrap(err)
}

func (s *Store) UpdateSurvey(ctx context.Context, v store.Survey) error {
	res, err := s.w.ExecContext(ctx, `UPDATE surveys SET name = $2, type = $3, question_de = $4, question_en = $5, comment_de = $6,
		comment_en = $7, department = $8, touchpoint = $9, status = $10, updated_at = $11 WHERE id = $1`,
		v.ID, v.Name, v.Type, v.QuestionDE, v.QuestionEN, v.CommentDE, v.CommentEN, v.Department, v.Touchpoint, v.Status, ms(v.UpdatedAt))
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("survey %s: %w", v.ID, store.ErrNotFound)
	}
	return nil
}

func (s *Store) DeleteSurvey(ctx context.Context, id string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM survey_responses WHERE survey_id = $1`, id).Scan(&n); err != nil {
		return s.wrap(err)
	}
	if n > 0 {
		return fmt.Errorf("survey %s has %d responses; close it instead of deleting it: %w", id, n, store.ErrConflict)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM surveys WHERE id = $1`, id)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("survey %s: %w", id, store.ErrNotFound)
	}
	return s.wrap(tx.Commit())
}

func (s *Store) SurveyByID(ctx context.Context, id string) (store.Survey, error) {
	v, err := scanSurvey(s.r.QueryRowContext(ctx, `SELECT `+surveyCols+` FROM surveys WHERE id = $1`, id))
	if errors.Is(err, store.ErrNotFound) {
		return v, fmt.Errorf("survey %s: %w", id, err)
	}
	return v, s.wrap(err)
}

func (s *Store) Surveys(ctx context.Context) ([]store.Survey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+surveyCols+` FROM surveys ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.Survey
	for rows.Next() {
		v, err := scanSurvey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// RecordSurveyResponse writes the response row and the event in one
// transaction of the event log's writer: the row's primary key refuses a
// second answer before the event is written, and the event takes its log
// position like any appended event (BeginAppend).
func (s *Store) RecordSurveyResponse(ctx context.Context, r store.SurveyResponse, ev store.Record) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	if s.d.BeginAppend != nil {
		if err := s.d.BeginAppend(ctx, tx); err != nil {
			return s.wrap(err)
		}
	}
	var score any
	if r.Score != nil {
		score = *r.Score
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO survey_responses(id, survey_id, score, comment, analysis, sentiment, customer_id,
		identifier_kind, identifier_value, touchpoint, department, source, trigger_message_id, language, client_hash, answered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO NOTHING`,
		r.ID, r.SurveyID, score, r.Comment, string(r.Analysis), r.Sentiment, r.CustomerID, r.IdentifierKind, r.IdentifierValue,
		r.Touchpoint, r.Department, r.Source, r.TriggerMessageID, r.Language, r.ClientHash, ms(r.AnsweredAt))
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("survey response %s: %w", r.ID, store.ErrConflict)
	}
	name := ev.Event.Event
	if name == "" {
		name = ev.Event.Name
	}
	// The event's messageId derives from the response id, so it is new
	// whenever the row is; ON CONFLICT only guards a log that already holds
	// it (a response row deleted by hand).
	if _, err := tx.ExecContext(ctx, `INSERT INTO events(source_id, message_id, type, name, ts, received_at, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (source_id, message_id) DO NOTHING`,
		ev.SourceID, ev.Event.MessageID, ev.Event.Type, name, ms(ev.Event.Timestamp), ms(ev.Event.ReceivedAt), ev.Body); err != nil {
		return s.wrap(err)
	}
	return s.wrap(tx.Commit())
}

const responseCols = `id, survey_id, score, comment, analysis, sentiment, customer_id, identifier_kind, identifier_value,
	touchpoint, department, source, trigger_message_id, language, client_hash, answered_at`

func scanResponse(row interface{ Scan(...any) error }) (store.SurveyResponse, error) {
	var r store.SurveyResponse
	var score sql.NullInt64
	var analysis string
	var at int64
	err := row.Scan(&r.ID, &r.SurveyID, &score, &r.Comment, &analysis, &r.Sentiment, &r.CustomerID, &r.IdentifierKind,
		&r.IdentifierValue, &r.Touchpoint, &r.Department, &r.Source, &r.TriggerMessageID, &r.Language, &r.ClientHash, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.ErrNotFound
	}
	if score.Valid {
		v := int(score.Int64)
		r.Score = &v
	}
	if analysis != "" {
		r.Analysis = []byte(analysis)
	}
	r.AnsweredAt = fromMS(at)
	return r, err
}

func (s *Store) SurveyResponse(ctx context.Context, id string) (store.SurveyResponse, error) {
	r, err := scanResponse(s.r.QueryRowContext(ctx, `SELECT `+responseCols+` FROM survey_responses WHERE id = $1`, id))
	if errors.Is(err, store.ErrNotFound) {
		return r, fmt.Errorf("survey response %s: %w", id, err)
	}
	return r, s.wrap(err)
}

func (s *Store) SurveyResponses(ctx context.Context, f store.ResponseFilter) ([]store.SurveyResponse, error) {
	q := `SELECT ` + responseCols + ` FROM survey_responses WHERE survey_id = $1`
	args := []any{f.SurveyID}
	if !f.From.IsZero() {
		args = append(args, ms(f.From))
		q += fmt.Sprintf(` AND answered_at >= $%d`, len(args))
	}
	if !f.To.IsZero() {
		args = append(args, ms(f.To))
		q += fmt.Sprintf(` AND answered_at < $%d`, len(args))
	}
	q += ` ORDER BY answered_at, id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.SurveyResponse
	for rows.Next() {
		r, err := scanResponse(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) CountSurveyResponses(ctx context.Context, surveyID, clientHash string, since time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM survey_responses WHERE survey_id = $1 AND client_hash = $2 AND answered_at >= $3`,
		surveyID, clientHash, ms(since)).Scan(&n)
	return n, s.wrap(err)
}
