package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kunding/kunding/internal/store"
)

var _ store.PredictionStore = (*Store)(nil)

func (s *Store) EachOrder(ctx context.Context, fn func(o store.Order) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT o.customer_id, o.seq, o.ts, o.order_id, o.revenue_micros, o.currency
		FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.merged_into IS NULL ORDER BY o.customer_id, o.ts, o.seq`)
	if err != nil {
		return s.wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var o store.Order
		var ts int64
		if err := rows.Scan(&o.CustomerID, &o.Seq, &ts, &o.OrderID, &o.RevenueMicros, &o.Currency); err != nil {
			return err
		}
		o.Timestamp = fromMS(ts)
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Store) SavePredictions(ctx context.Context, ps []store.Prediction) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	for _, p := range ps {
		if _, err := s.ws.txExec(ctx, tx, `INSERT INTO predictions(customer_id, model, expected_90d, p_alive, churn_risk, expected_spend, clv, clv_percentile, computed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (customer_id) DO UPDATE SET model = excluded.model, expected_90d = excluded.expected_90d, p_alive = excluded.p_alive,
				churn_risk = excluded.churn_risk, expected_spend = excluded.expected_spend, clv = excluded.clv,
				clv_percentile = excluded.clv_percentile, computed_at = excluded.computed_at`,
			p.CustomerID, p.Model, p.Expected90d, p.PAlive, p.ChurnRisk, p.ExpectedSpend, p.CLV, p.CLVPercentile, ms(p.ComputedAt)); err != nil {
			return s.wrap(err)
		}
	}
	return s.wrap(tx.Commit())
}

func (s *Store) Prediction(ctx context.Context, customerID string) (store.Prediction, error) {
	p := store.Prediction{CustomerID: customerID}
	var at int64
	err := s.rs.queryRow(ctx, `SELECT model, expected_90d, p_alive, churn_risk, expected_spend, clv, clv_percentile, computed_at
		FROM predictions WHERE customer_id = $1`, customerID).Scan(&p.Model, &p.Expected90d, &p.PAlive, &p.ChurnRisk, &p.ExpectedSpend, &p.CLV, &p.CLVPercentile, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	p.ComputedAt = fromMS(at)
	return p, err
}

func (s *Store) DeletePredictions(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM predictions`)
	return s.wrap(err)
}
