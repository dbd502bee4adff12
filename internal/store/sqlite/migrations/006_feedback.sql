-- External feedback (reviews, forum and social media posts). Each row is
-- written in the same transaction as its "Feedback Received" event (seq),
-- so the two never disagree; the id derives from portal and external id
-- (or a hash of the content), which makes a repeat a no-op.
CREATE TABLE feedback (
	id          TEXT PRIMARY KEY,
	portal      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	external_id TEXT NOT NULL,
	author      TEXT NOT NULL,
	rating      REAL,
	title       TEXT NOT NULL,
	text        TEXT NOT NULL,
	url         TEXT NOT NULL,
	ts          INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	language    TEXT NOT NULL,
	sentiment   TEXT NOT NULL,
	score       REAL NOT NULL,
	themes      TEXT NOT NULL, -- ",theme1,theme2," so that LIKE finds one theme
	analysis    TEXT NOT NULL,
	customer_id TEXT NOT NULL,
	feed_id     TEXT NOT NULL,
	source_id   TEXT NOT NULL,
	message_id  TEXT NOT NULL,
	seq         INTEGER NOT NULL
);
CREATE INDEX feedback_ts ON feedback (ts, id);
CREATE INDEX feedback_portal ON feedback (portal, ts);
CREATE INDEX feedback_customer ON feedback (customer_id, ts);
CREATE INDEX feedback_seq ON feedback (seq);
CREATE INDEX feedback_feed ON feedback (feed_id, ts);

-- RSS and Atom feeds polled for feedback, with their polling state.
CREATE TABLE feeds (
	id               TEXT PRIMARY KEY,
	name             TEXT NOT NULL UNIQUE,
	url              TEXT NOT NULL,
	portal           TEXT NOT NULL,
	kind             TEXT NOT NULL,
	interval_seconds INTEGER NOT NULL,
	enabled          INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	etag             TEXT NOT NULL DEFAULT '',
	last_modified    TEXT NOT NULL DEFAULT '',
	last_poll        INTEGER,
	last_success     INTEGER,
	last_error       TEXT NOT NULL DEFAULT '',
	failures         INTEGER NOT NULL DEFAULT 0,
	next_poll        INTEGER NOT NULL DEFAULT 0,
	last_items       INTEGER NOT NULL DEFAULT 0,
	last_new         INTEGER NOT NULL DEFAULT 0,
	last_skipped     INTEGER NOT NULL DEFAULT 0,
	item_errors      TEXT NOT NULL DEFAULT '',
	total_new        INTEGER NOT NULL DEFAULT 0
);
