-- Webhooks (issue 7): endpoints that administrators register, and the
-- durable outbox of deliveries to them. A delivery is claimed by one node at
-- a time through its lease (lease_holder, lease_until), so several nodes on
-- one database never send it twice at once; it survives restarts because it
-- is a row, not a goroutine. Times are Unix milliseconds (0: none).
CREATE TABLE webhook_endpoints (
	id          TEXT PRIMARY KEY,
	url         TEXT NOT NULL,
	secret      TEXT NOT NULL,
	events      TEXT NOT NULL, -- comma-separated event types
	description TEXT NOT NULL,
	enabled     INTEGER NOT NULL,
	created_by  TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
	id              TEXT PRIMARY KEY,
	endpoint_id     TEXT NOT NULL,
	event           TEXT NOT NULL,
	event_id        TEXT NOT NULL, -- the same for every endpoint that gets the event
	case_id         TEXT NOT NULL,
	payload         TEXT NOT NULL,
	status          TEXT NOT NULL, -- pending, delivered, failed
	attempts        INTEGER NOT NULL,
	next_attempt    INTEGER NOT NULL,
	lease_holder    TEXT NOT NULL,
	lease_until     INTEGER NOT NULL,
	last_attempt_at INTEGER NOT NULL,
	last_status     INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	delivered_at    INTEGER NOT NULL,
	UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
