-- Cases (issue 7): complaints, requests, praise and ideas, owned until they
-- are finished. Not derived from the log (people change them), so a rebuild
-- leaves them alone. The whole case is JSON in data; the columns are what
-- lists filter and sort on. Times are Unix milliseconds (0: none).
CREATE TABLE cases (
	id                 TEXT PRIMARY KEY,
	customer_id        TEXT NOT NULL,
	type               TEXT NOT NULL,
	channel            TEXT NOT NULL,
	priority           TEXT NOT NULL,
	status             TEXT NOT NULL,
	open               BIGINT NOT NULL, -- 1 until solved, rejected or merged
	department         TEXT NOT NULL,
	owner              TEXT NOT NULL,
	theme              TEXT NOT NULL,
	escalation_level   BIGINT NOT NULL,
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL,
	first_response_due BIGINT NOT NULL, -- 0 once answered
	resolution_due     BIGINT NOT NULL,
	version            BIGINT NOT NULL,
	data               TEXT NOT NULL
);
CREATE INDEX cases_open_department ON cases (open, department, created_at);
CREATE INDEX cases_customer ON cases (customer_id, open);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_owner ON cases (owner, open);

-- The append-only history of every case.
CREATE TABLE case_history (
	id      BIGSERIAL PRIMARY KEY,
	case_id TEXT NOT NULL,
	at      BIGINT NOT NULL,
	actor   TEXT NOT NULL,
	action  TEXT NOT NULL,
	data    TEXT NOT NULL
);
CREATE INDEX case_history_case ON case_history (case_id, id);

-- Idempotency keys: the source event a case was created from.
CREATE TABLE case_keys (
	key     TEXT PRIMARY KEY,
	case_id TEXT NOT NULL
);

CREATE TABLE case_merge_suggestions (
	case_id    TEXT NOT NULL,
	target_id  TEXT NOT NULL,
	reason     TEXT NOT NULL,
	status     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (case_id, target_id)
);
CREATE INDEX case_merge_suggestions_target ON case_merge_suggestions (target_id);

-- Routing rules, SLA policies and calendars, intake rules: JSON documents
-- with a version for optimistic concurrency.
CREATE TABLE case_config (
	key     TEXT PRIMARY KEY,
	value   TEXT NOT NULL,
	version BIGINT NOT NULL
);

-- Position of the case rules in the event log (kept apart from the
-- pipeline's cursors, which a rebuild resets).
CREATE TABLE case_cursor (
	name TEXT PRIMARY KEY,
	seq  BIGINT NOT NULL
);
