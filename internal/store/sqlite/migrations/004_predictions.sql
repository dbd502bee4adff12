-- Predictions of the buy-till-you-die models per customer (derived: the
-- fitted model is in settings under prediction.model; rebuilt by
-- `kunding models score`).
CREATE TABLE predictions (
	customer_id    TEXT PRIMARY KEY,
	model          TEXT NOT NULL,
	expected_90d   REAL NOT NULL,
	p_alive        REAL NOT NULL,
	churn_risk     REAL NOT NULL,
	expected_spend REAL NOT NULL,
	clv            REAL NOT NULL,
	clv_percentile REAL NOT NULL,
	computed_at    INTEGER NOT NULL
);
CREATE INDEX predictions_clv ON predictions (clv);
