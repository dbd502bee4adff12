-- Touchpoints (issue 8): the catalogue (kept by people) and the rows the
-- touchpoint consumer derives from the log (rebuilt when rules change).
-- Times are Unix milliseconds; days count from 1970-01-01 (UTC), months are
-- year*12 + month-1.
CREATE TABLE touchpoints (
	id         TEXT PRIMARY KEY,
	name_lc    TEXT NOT NULL UNIQUE,
	priority   INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	data       TEXT NOT NULL
);

-- One row: the consumer's cursor and the rules generation.
CREATE TABLE touchpoint_state (
	id         INTEGER PRIMARY KEY,
	cursor     INTEGER NOT NULL,
	generation INTEGER NOT NULL,
	built      INTEGER NOT NULL,
	target     INTEGER NOT NULL
);
INSERT INTO touchpoint_state (id, cursor, generation, built, target) VALUES (1, 0, 0, 0, 0);

-- The touchpoint each event matched (events that matched none have no row).
CREATE TABLE touchpoint_matches (
	seq        INTEGER PRIMARY KEY,
	touchpoint TEXT NOT NULL
);
CREATE INDEX touchpoint_matches_tp ON touchpoint_matches (touchpoint, seq);

-- Incremental aggregates per touchpoint, segment and day or month.
CREATE TABLE touchpoint_aggs (
	touchpoint  TEXT NOT NULL,
	segment     TEXT NOT NULL,
	grain       INTEGER NOT NULL,
	period      INTEGER NOT NULL,
	contacts    INTEGER NOT NULL,
	cust_days   INTEGER NOT NULL,
	conversions INTEGER NOT NULL,
	complaints  INTEGER NOT NULL,
	nps_n       INTEGER NOT NULL,
	nps_pro     INTEGER NOT NULL,
	nps_det     INTEGER NOT NULL,
	csat_n      INTEGER NOT NULL,
	csat_sum    REAL NOT NULL,
	csat_sat    INTEGER NOT NULL,
	ces_n       INTEGER NOT NULL,
	ces_sum     REAL NOT NULL,
	sent_n      INTEGER NOT NULL,
	sent_sum    REAL NOT NULL,
	sent_neg    INTEGER NOT NULL,
	perf_n      INTEGER NOT NULL,
	perf_sum    REAL NOT NULL,
	imp_n       INTEGER NOT NULL,
	imp_sum     REAL NOT NULL,
	customers   BLOB NOT NULL,
	PRIMARY KEY (segment, grain, period, touchpoint)
) WITHOUT ROWID;

-- Scored survey answers with their customer, for key-driver analysis.
CREATE TABLE touchpoint_answers (
	seq         INTEGER PRIMARY KEY,
	touchpoint  TEXT NOT NULL,
	customer_id TEXT NOT NULL,
	day         INTEGER NOT NULL,
	score       REAL NOT NULL,
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
	month      INTEGER NOT NULL,
	n          REAL NOT NULL,
	sx         REAL NOT NULL,
	sy         REAL NOT NULL,
	sxx        REAL NOT NULL,
	syy        REAL NOT NULL,
	sxy        REAL NOT NULL,
	PRIMARY KEY (segment, month, touchpoint)
);

-- Each customer's contact days per touchpoint not yet followed by an order,
-- for conversion (rows older than the conversion window are pruned).
CREATE TABLE touchpoint_contacts (
	customer_id TEXT NOT NULL,
	touchpoint  TEXT NOT NULL,
	day         INTEGER NOT NULL,
	converted   INTEGER NOT NULL,
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
	count      INTEGER NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	examples   TEXT NOT NULL
);
CREATE INDEX touchpoint_unmatched_count ON touchpoint_unmatched (count);

-- Proposals a person ignored (kept across rebuilds).
CREATE TABLE touchpoint_ignored (
	key        TEXT PRIMARY KEY,
	ignored_by TEXT NOT NULL,
	ignored_at INTEGER NOT NULL
);
