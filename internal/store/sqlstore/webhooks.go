package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/store"
)

var _ store.WebhookStore = (*Store)(nil)

func (s *Store) CreateWebhook(ctx context.Context, e store.WebhookEndpoint) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO webhook_endpoints(id, url, secret, events, description, enabled, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.ID, e.URL, e.Secret, strings.Join(e.Events, ","), e.Description,
		boolInt(e.Enabled), e.CreatedBy, ms(e.CreatedAt), ms(e.UpdatedAt))
	if err != nil && s.d.IsUnique(err) {
		return fmt.Errorf("webhook %s: %w", e.ID, store.ErrConflict)
	}
	return s.wrap(err)
}

func (s *Store) UpdateWebhook(ctx context.Context, e store.WebhookEndpoint) error {
	res, err := s.w.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $2, secret = $3, events = $4, description = $5, enabled = $6,
		updated_at = $7 WHERE id = $1`, e.ID, e.URL, e.Secret, strings.Join(e.Events, ","), e.Description, boolInt(e.Enabled), ms(e.UpdatedAt))
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("webhook %s: %w", e.ID, store.ErrNotFound)
	}
	return nil
}

func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("webhook %s: %w", id, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND status = $2`, id, store.DeliveryPending); err != nil {
		return s.wrap(err)
	}
	return s.wrap(tx.Commit())
}

const webhookCols = `id, url, secret, events, description, enabled, created_by, created_at, updated_at`

func scanWebhook(sc interface{ Scan(...any) error }) (store.WebhookEndpoint, error) {
	var e store.WebhookEndpoint
	var events string
	var enabled int
	var created, updated int64
	if err := sc.Scan(&e.ID, &e.URL, &e.Secret, &events, &e.Description, &enabled, &e.CreatedBy, &created, &updated); err != nil {
		return e, err
	}
	if events != "" {
		e.Events = strings.Split(events, ",")
	}
	e.Enabled, e.CreatedAt, e.UpdatedAt = enabled != 0, fromMS(created), fromMS(updated)
	return e, nil
}

func (s *Store) Webhook(ctx context.Context, id string) (store.WebhookEndpoint, error) {
	e, err := scanWebhook(s.r.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("webhook %s: %w", id, store.ErrNotFound)
	}
	return e, s.wrap(err)
}

func (s *Store) Webhooks(ctx context.Context) ([]store.WebhookEndpoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.WebhookEndpoint
	for rows.Next() {
		e, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) EnqueueWebhookDeliveries(ctx context.Context, ds []store.WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	for _, d := range ds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries(id, endpoint_id, event, event_id, case_id, payload, status,
			attempts, next_attempt, lease_holder, lease_until, last_attempt_at, last_status, last_error, created_at, delivered_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, '', 0, 0, 0, '', $9, 0) ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
			d.ID, d.EndpointID, d.Event, d.EventID, d.CaseID, d.Payload, store.DeliveryPending, ms(d.NextAttempt), ms(d.CreatedAt)); err != nil {
			return s.wrap(err)
		}
	}
	return s.wrap(tx.Commit())
}

const deliveryCols = `id, endpoint_id, event, event_id, case_id, payload, status, attempts, next_attempt, last_attempt_at,
	last_status, last_error, created_at, delivered_at`

func scanDelivery(sc interface{ Scan(...any) error }) (store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	var next, last, created, delivered int64
	err := sc.Scan(&d.ID, &d.EndpointID, &d.Event, &d.EventID, &d.CaseID, &d.Payload, &d.Status, &d.Attempts, &next, &last,
		&d.LastStatus, &d.LastError, &created, &delivered)
	d.NextAttempt, d.LastAttemptAt, d.CreatedAt, d.DeliveredAt = fromMS(next), fromMS(last), fromMS(created), fromMS(delivered)
	return d, err
}

// ClaimWebhookDeliveries leases due deliveries in one statement. On
// PostgreSQL a materialised CTE picks the rows and skips those another node
// is claiming right now (FOR UPDATE SKIP LOCKED; a LIMIT inside "IN
// (subquery)" may be evaluated more than once there), and the UPDATE
// repeats the lease test on the row's newest version. SQLite has one writer
// at a time, so the statement is atomic there anyway.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, holder string, now time.Time, lease time.Duration, limit int) ([]store.WebhookDelivery, error) {
	if limit <= 0 {
		limit = 10
	}
	q := `UPDATE webhook_deliveries SET lease_holder = $1, lease_until = $2
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = $3 AND next_attempt <= $4 AND lease_until < $4
			ORDER BY next_attempt, id LIMIT $5)
		AND status = $3 AND lease_until < $4
		RETURNING ` + deliveryCols
	if s.d.Name == "postgres" {
		q = `WITH due AS MATERIALIZED (SELECT id FROM webhook_deliveries WHERE status = $3 AND next_attempt <= $4 AND lease_until < $4
			ORDER BY next_attempt, id LIMIT $5 FOR UPDATE SKIP LOCKED)
		UPDATE webhook_deliveries SET lease_holder = $1, lease_until = $2 FROM due
		WHERE webhook_deliveries.id = due.id AND status = $3 AND lease_until < $4
		RETURNING ` + "webhook_deliveries." + deliveryCols
	}
	rows, err := s.w.QueryContext(ctx, q, holder, ms(now.Add(lease)), store.DeliveryPending, ms(now), limit)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) FinishWebhookAttempt(ctx context.Context, d store.WebhookDelivery, holder string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $3, attempts = $4, next_attempt = $5, last_attempt_at = $6,
		last_status = $7, last_error = $8, delivered_at = $9, lease_holder = '', lease_until = 0
		WHERE id = $1 AND lease_holder = $2`, d.ID, holder, d.Status, d.Attempts, ms(d.NextAttempt), ms(d.LastAttemptAt),
		d.LastStatus, d.LastError, ms(d.DeliveredAt))
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("webhook delivery %s: no longer leased by %s: %w", d.ID, holder, store.ErrConflict)
	}
	return nil
}

func (s *Store) WebhookDeliveries(ctx context.Context, f store.WebhookDeliveryFilter) ([]store.WebhookDelivery, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.EndpointID != "" {
		add("endpoint_id = $%d", f.EndpointID)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.CaseID != "" {
		add("case_id = $%d", f.CaseID)
	}
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT $%d", len(args))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) WebhookDelivery(ctx context.Context, id string) (store.WebhookDelivery, error) {
	d, err := scanDelivery(s.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("webhook delivery %s: %w", id, store.ErrNotFound)
	}
	return d, s.wrap(err)
}

func (s *Store) RetryWebhookDelivery(ctx context.Context, id string, now time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $2, attempts = 0, next_attempt = $3
		WHERE id = $1 AND status <> $4`, id, store.DeliveryPending, ms(now), store.DeliveryDelivered)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.WebhookDelivery(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("webhook delivery %s was delivered already: %w", id, store.ErrConflict)
	}
	return nil
}

func (s *Store) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE status <> $1 AND created_at < $2`, store.DeliveryPending, ms(before))
	if err != nil {
		return 0, s.wrap(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
