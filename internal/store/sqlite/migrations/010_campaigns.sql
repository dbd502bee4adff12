-- Campaigns (issue 8): the registered campaigns and mailings (the whole
-- campaign as JSON, the calendar's and the delivery job's fields as
-- columns), the uploaded recipient lists, and the delivered campaigns per
-- customer that the contact policy's frequency caps count. Times are Unix
-- milliseconds.
CREATE TABLE campaigns (
	id         TEXT PRIMARY KEY,
	department TEXT NOT NULL,
	channel    TEXT NOT NULL,
	status     TEXT NOT NULL,
	start_at   INTEGER NOT NULL,
	end_at     INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	data       TEXT NOT NULL
);
CREATE INDEX campaigns_start ON campaigns (start_at);
CREATE INDEX campaigns_status ON campaigns (status);

CREATE TABLE campaign_recipients (
	campaign_id TEXT NOT NULL,
	customer_id TEXT NOT NULL,
	PRIMARY KEY (campaign_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX campaign_recipients_customer ON campaign_recipients (customer_id);

CREATE TABLE campaign_deliveries (
	customer_id TEXT NOT NULL,
	campaign_id TEXT NOT NULL,
	channel     TEXT NOT NULL,
	type        TEXT NOT NULL,
	at          INTEGER NOT NULL,
	PRIMARY KEY (customer_id, campaign_id)
) WITHOUT ROWID;
CREATE INDEX campaign_deliveries_campaign ON campaign_deliveries (campaign_id);
