-- Touchpoints (issue 8): the catalogue (kept by people) and the rows the
-- touchpoint consumer derives from the log (rebuilt when rules change).
-- Times are Unix milliseconds; days count from 1970-01-01 (UTC), months are
-- year*12 + month-1.
CREATE TABLE touchpoints (
	id         TEXT PRIMARY KEY,
	name_lc    TEXT NOT NULL UNIQUE,
	priority   BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	version    BIGINT NOT NULL,
	data       TEXT NOT NULL
);

-- One row: the consumer's cursor and the rules generation.
CREATE TABLE touchpoint_state (
	id         BIGINT PRIMARY KEY,
	cursor     BIGINT NOT NULL,
	generation BIGINT NOT NULL,
	built      BIGINT NOT NULL,
	target     BIGINT NOT NULL
);
INSERT INTO touchpoint_state (id, cursor, generation, built, target) VALUES (1, 0, 0, 0, 0);

-- The touchpoint each event matched (events that matched none have no row).
CREATE TABLE touchpoint_matches (
	seq        BIGINT PRIMARY KEY,
	touchpoint TEXT NOT NULL
);
CREATE INDEX touchpoint_matches_tp ON touchpoint_matches (touchpoint, seq);

-- Incremental aggregates per touchpoint, segment and day or month.
CREATE TABLE touchpoint_aggs (
	touchpoint  TEXT NOT NULL,
	segment     TEXT NOT NULL,
	grain       BIGINT NOT NULL,
	period      BIGINT NOT NULL,
	contacts    BIGINT NOT NULL,
	cust_days   BIGINT NOT NULL,
	conversions BIGINT NOT NULL,
	complaints  BIGINT NOT NULL,
	nps_n       BIGINT NOT NULL,
	nps_pro     BIGINT NOT NULL,
	nps_det     BIGINT NOT NULL,
	csat_n      BIGINT NOT NULL,
	csat_sum    DOUBLE PRECISION NOT NULL,
	csat_sat    BIGINT NOT NULL,
	ces_n       BIGINT NOT NULL,
	ces_sum     DOUBLE PRECISION NOT NULL,
	sent_n      BIGINT NOT NULL,
	sent_sum    DOUBLE PRECISION NOT NULL,
	sent_neg    BIGINT NOT NULL,
	perf_n      BIGINT NOT NULL,
	perf_sum    DOUBLE PRECISION NOT NULL,
	imp_n       BIGINT NOT NULL,
	imp_sum     DOUBLE PRECISION NOT NULL,
	customers   BYTEA NOT NULL,
	PRIMARY KEY (segment, grain, period, touchpoint)
);

-- Scored survey answers with their customer, for key-driver analysis.
CREATE TABLE touchpoint_answers (
	seq         BIGINT PRIMARY KEY,
	touchpoint  TEXT NOT NULL,
	customer_id TEXT NOT NULL,
	day         BIGINT NOT NULL,
	score       DOUBLE PRECISION NOT NULL,
	segments    TEXT NOT NULL
);
CREATE INDEX touchpoint_answers_day ON touchpoint_answers (day);
CREATE INDEX touchpoint_answers_customer ON touchpoint_answers (customer_id);

-- Sufficient statistics of the key-driver regression per touchpoint,
-- segment and month: one observation per customer and month with both an
-- overall answer and an answer at the touchpoint (x: the mean there, y: the
-- overall mean), so a period's regression adds months instead of reading
-- every answer.
CREATE TABLE touchpoint_kda (
	touchpoint TEXT NOT NULL,
	segment    TEXT NOT NULL,
	month      BIGINT NOT NULL,
	n          DOUBLE PRECISION NOT NULL,
	sx         DOUBLE PRECISION NOT NULL,
	sy         DOUBLE PRECISION NOT NULL,
	sxx        DOUBLE PRECISION NOT NULL,
	syy        DOUBLE PRECISION NOT NULL,
	sxy        DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (segment, month, touchpoint)
);

-- Each customer's contact days per touchpoint not yet followed by an order,
-- for conversion (rows older than the conversion window are pruned).
CREATE TABLE touchpoint_contacts (
	customer_id TEXT NOT NULL,
	touchpoint  TEXT NOT NULL,
	day         BIGINT NOT NULL,
	converted   BIGINT NOT NULL,
	segments    TEXT NOT NULL,
	PRIMARY KEY (customer_id, touchpoint, day)
);
CREATE INDEX touchpoint_contacts_day ON touchpoint_contacts (day);

-- Events no rule matched, grouped for discovery.
CREATE TABLE touchpoint_unmatched (
	key        TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	source_id  TEXT NOT NULL,
	value      TEXT NOT NULL,
	count      BIGINT NOT NULL,
	first_seen BIGINT NOT NULL,
	last_seen  BIGINT NOT NULL,
	examples   TEXT NOT NULL
);
CREATE INDEX touchpoint_unmatched_count ON touchpoint_unmatched (count);

-- Proposals a person ignored (kept across rebuilds).
CREATE TABLE touchpoint_ignored (
	key        TEXT PRIMARY KEY,
	ignored_by TEXT NOT NULL,
	ignored_at BIGINT NOT NULL
);
