package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

var _ store.CampaignStore = (*Store)(nil)

func (s *Store) CreateCampaign(ctx context.Context, c store.Campaign) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO campaigns (id, department, channel, status, start_at, end_at, created_at, version, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.Department, c.Channel, c.Status, ms(c.Start), ms(c.End), ms(c.CreatedAt), c.Version, string(data))
	if err != nil && s.d.IsUnique(err) {
		return fmt.Errorf("campaign %s: %w", c.ID, store.ErrConflict)
	}
	return s.wrap(err)
}

func (s *Store) UpdateCampaign(ctx context.Context, c *store.Campaign) error {
	old := c.Version
	c.Version++
	data, err := json.Marshal(c)
	if err != nil {
		c.Version = old
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE campaigns SET department = $1, channel = $2, status = $3, start_at = $4, end_at = $5,
		version = $6, data = $7 WHERE id = $8 AND version = $9`,
		c.Department, c.Channel, c.Status, ms(c.Start), ms(c.End), c.Version, string(data), c.ID, old)
	if err != nil {
		c.Version = old
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		c.Version = old
		if _, err := s.Campaign(ctx, c.ID); err != nil {
			return err
		}
		return fmt.Errorf("campaign %s was changed meanwhile; reload it: %w", c.ID, store.ErrVersion)
	}
	return nil
}

func scanCampaign(row interface{ Scan(...any) error }) (store.Campaign, error) {
	var data string
	var version int64
	if err := row.Scan(&version, &data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.Campaign{}, store.ErrNotFound
		}
		return store.Campaign{}, err
	}
	var c store.Campaign
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return c, err
	}
	c.Version = version
	return c, nil
}

func (s *Store) Campaign(ctx context.Context, id string) (store.Campaign, error) {
	c, err := scanCampaign(s.r.QueryRowContext(ctx, `SELECT version, data FROM campaigns WHERE id = $1`, id))
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("campaign %s: %w", id, err)
	}
	return c, s.wrap(err)
}

func (s *Store) Campaigns(ctx context.Context, f store.CampaignFilter) ([]store.Campaign, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Department != "" {
		conds = append(conds, "department = "+arg(f.Department))
	}
	if f.Channel != "" {
		conds = append(conds, "channel = "+arg(f.Channel))
	}
	if len(f.Statuses) > 0 {
		ps := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ps[i] = arg(st)
		}
		conds = append(conds, "status IN ("+strings.Join(ps, ", ")+")")
	}
	if !f.From.IsZero() {
		conds = append(conds, "end_at > "+arg(ms(f.From)))
	}
	if !f.To.IsZero() {
		conds = append(conds, "start_at < "+arg(ms(f.To)))
	}
	q := `SELECT version, data FROM campaigns`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY start_at DESC, id"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []store.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) DeleteCampaign(ctx context.Context, id string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_recipients WHERE campaign_id = $1`, id); err != nil {
		return s.wrap(err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM campaigns WHERE id = $1`, id)
	if err != nil {
		return s.wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("campaign %s: %w", id, store.ErrNotFound)
	}
	return s.wrap(tx.Commit())
}

func (s *Store) SetCampaignRecipients(ctx context.Context, campaignID string, customerIDs []string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_recipients WHERE campaign_id = $1`, campaignID); err != nil {
		return s.wrap(err)
	}
	for start := 0; start < len(customerIDs); start += inChunk {
		part := customerIDs[start:min(start+inChunk, len(customerIDs))]
		args := make([]any, 0, 2*len(part))
		for _, c := range part {
			args = append(args, campaignID, c)
		}
		if _, err := tx.ExecContext(ctx, multiRow(`INSERT INTO campaign_recipients (campaign_id, customer_id)`, 2, len(part))+
			` ON CONFLICT DO NOTHING`, args...); err != nil {
			return s.wrap(err)
		}
	}
	return s.wrap(tx.Commit())
}

func (s *Store) CampaignRecipients(ctx context.Context, campaignID, after string, limit int) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT customer_id FROM campaign_recipients WHERE campaign_id = $1 AND customer_id > $2
		ORDER BY customer_id LIMIT $3`, campaignID, after, limit)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) ProfilesAfter(ctx context.Context, after string, limit int) ([]profile.Profile, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+profileCols+` FROM profiles WHERE customer_id > $1 ORDER BY customer_id LIMIT $2`, after, limit)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []profile.Profile
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, s.wrap(rows.Err())
}

// readIn runs query (with "IN (%s)") on the read pool for vals in chunks.
func (s *Store) readIn(ctx context.Context, query string, vals []string, scan func(rows *sql.Rows) error) error {
	return s.wrap((&tx{ctx: ctx, c: s.rs}).forIn(query, vals, scan))
}

func (s *Store) ProfilesOf(ctx context.Context, customerIDs []string) (map[string]profile.Profile, error) {
	out := make(map[string]profile.Profile, len(customerIDs))
	err := s.readIn(ctx, `SELECT `+profileCols+` FROM profiles WHERE customer_id IN (%s)`, customerIDs, func(rows *sql.Rows) error {
		p, err := scanProfile(rows)
		if err == nil {
			out[p.CustomerID] = p
		}
		return err
	})
	return out, err
}

func (s *Store) PredictionsOf(ctx context.Context, customerIDs []string) (map[string]store.Prediction, error) {
	out := make(map[string]store.Prediction, len(customerIDs))
	err := s.readIn(ctx, `SELECT customer_id, model, expected_90d, p_alive, churn_risk, expected_spend, clv, clv_percentile, computed_at
		FROM predictions WHERE customer_id IN (%s)`, customerIDs, func(rows *sql.Rows) error {
		var p store.Prediction
		var at int64
		if err := rows.Scan(&p.CustomerID, &p.Model, &p.Expected90d, &p.PAlive, &p.ChurnRisk, &p.ExpectedSpend, &p.CLV, &p.CLVPercentile, &at); err != nil {
			return err
		}
		p.ComputedAt = fromMS(at)
		out[p.CustomerID] = p
		return nil
	})
	return out, err
}

func (s *Store) IdentifiersOf(ctx context.Context, customerIDs []string) (map[string][]store.Identifier, error) {
	out := make(map[string][]store.Identifier, len(customerIDs))
	err := s.readIn(ctx, `SELECT customer_id, kind, value FROM identities WHERE customer_id IN (%s) ORDER BY kind, value`, customerIDs,
		func(rows *sql.Rows) error {
			var c string
			var id store.Identifier
			if err := rows.Scan(&c, &id.Kind, &id.Value); err != nil {
				return err
			}
			out[c] = append(out[c], id)
			return nil
		})
	return out, err
}

func (s *Store) ResolveIdentifiers(ctx context.Context, ids []store.Identifier) (map[store.Identifier]string, error) {
	out, err := (&tx{ctx: ctx, c: s.rs}).Lookup(ids)
	return out, s.wrap(err)
}

func (s *Store) RecordCampaignDeliveries(ctx context.Context, ds []store.CampaignDeliveryRow) error {
	for start := 0; start < len(ds); start += 200 {
		part := ds[start:min(start+200, len(ds))]
		args := make([]any, 0, 5*len(part))
		for _, d := range part {
			args = append(args, d.CustomerID, d.CampaignID, d.Channel, d.Type, ms(d.At))
		}
		if _, err := s.w.ExecContext(ctx, multiRow(`INSERT INTO campaign_deliveries (customer_id, campaign_id, channel, type, at)`, 5, len(part))+
			` ON CONFLICT DO NOTHING`, args...); err != nil {
			return s.wrap(err)
		}
	}
	return nil
}

func (s *Store) CampaignDeliveriesSince(ctx context.Context, customerIDs []string, since time.Time) ([]store.CampaignDeliveryRow, error) {
	var out []store.CampaignDeliveryRow
	sinceMS := ms(since)
	err := s.readIn(ctx, `SELECT customer_id, campaign_id, channel, type, at FROM campaign_deliveries WHERE customer_id IN (%s)`, customerIDs,
		func(rows *sql.Rows) error {
			var d store.CampaignDeliveryRow
			var at int64
			if err := rows.Scan(&d.CustomerID, &d.CampaignID, &d.Channel, &d.Type, &at); err != nil {
				return err
			}
			if at >= sinceMS {
				d.At = fromMS(at)
				out = append(out, d)
			}
			return nil
		})
	return out, err
}

// eraseCampaignSamples removes erased customers from the example lists of
// campaign reports (the counts stay: they name nobody).
func (er *eraser) eraseCampaignSamples(customerIDs []string) error {
	type row struct {
		id      string
		version int64
		data    string
	}
	var hit []row
	for _, c := range customerIDs {
		rows, err := er.tx.QueryContext(er.ctx, `SELECT id, version, data FROM campaigns WHERE data LIKE $1`, `%"`+c+`"%`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.version, &r.data); err != nil {
				rows.Close()
				return err
			}
			hit = append(hit, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	gone := map[string]bool{}
	for _, c := range customerIDs {
		gone[c] = true
	}
	done := map[string]bool{}
	for _, r := range hit {
		if done[r.id] {
			continue
		}
		done[r.id] = true
		var c store.Campaign
		if err := json.Unmarshal([]byte(r.data), &c); err != nil {
			return err
		}
		for reason, ids := range c.Delivery.Samples {
			kept := ids[:0]
			for _, id := range ids {
				if !gone[id] {
					kept = append(kept, id)
				}
			}
			c.Delivery.Samples[reason] = kept
		}
		c.Version = r.version + 1
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if _, err := er.exec(`UPDATE campaigns SET data = $1, version = $2 WHERE id = $3`, string(data), c.Version, r.id); err != nil {
			return err
		}
	}
	return nil
}
