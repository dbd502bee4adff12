-- Predictions of the buy-till-you-die models per customer (derived: the
-- fitted model is in settings under prediction.model; rebuilt by
-- `kunding models score`).
CREATE TABLE predictions (
	customer_id    TEXT PRIMARY KEY,
	model          TEXT NOT NULL,
	expected_90d   DOUBLE PRECISION NOT NULL,
	p_alive        DOUBLE PRECISION NOT NULL,
	churn_risk     DOUBLE PRECISION NOT NULL,
	expected_spend DOUBLE PRECISION NOT NULL,
	clv            DOUBLE PRECISION NOT NULL,
	clv_percentile DOUBLE PRECISION NOT NULL,
	computed_at    BIGINT NOT NULL
);
CREATE INDEX predictions_clv ON predictions (clv);
