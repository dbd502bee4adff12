-- Settings: small named values such as the hash of the bootstrap admin key.
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE sources (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	kind       TEXT NOT NULL,
	write_key  TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);

-- The event log: append-only, the truth everything else derives from.
-- ts and received_at are Unix milliseconds.
CREATE TABLE events (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	source_id   TEXT NOT NULL,
	message_id  TEXT NOT NULL,
	type        TEXT NOT NULL,
	name        TEXT NOT NULL,
	ts          INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	body        BLOB NOT NULL,
	UNIQUE (source_id, message_id)
);

CREATE TABLE rejected_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	source_id   TEXT NOT NULL,
	message_id  TEXT NOT NULL,
	received_at INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	body        BLOB NOT NULL
);
CREATE INDEX rejected_events_source ON rejected_events (source_id, id);

-- Derived read models, rebuilt from the log by `kunding rebuild`.
CREATE TABLE customers (
	id          TEXT PRIMARY KEY,
	created_seq INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	merged_into TEXT
);
CREATE INDEX customers_merged_into ON customers (merged_into);

CREATE TABLE identities (
	kind        TEXT NOT NULL,
	value       TEXT NOT NULL,
	customer_id TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	first_seen  INTEGER NOT NULL,
	PRIMARY KEY (kind, value)
);
CREATE INDEX identities_customer ON identities (customer_id);
CREATE INDEX identities_value ON identities (value); -- search by any identifier

CREATE TABLE profiles (
	customer_id    TEXT PRIMARY KEY,
	name           TEXT NOT NULL DEFAULT '',
	name_lc        TEXT NOT NULL DEFAULT '', -- lower-cased name, for prefix search
	email          TEXT NOT NULL DEFAULT '', -- lower-cased
	phone          TEXT NOT NULL DEFAULT '',
	first_seen     INTEGER NOT NULL,
	last_seen      INTEGER NOT NULL,
	events         INTEGER NOT NULL,
	orders         INTEGER NOT NULL,
	revenue_micros INTEGER NOT NULL,
	first_order    INTEGER NOT NULL,
	last_order     INTEGER NOT NULL,
	data           TEXT NOT NULL
);
CREATE INDEX profiles_name ON profiles (name_lc);
CREATE INDEX profiles_email ON profiles (email);

CREATE TABLE timeline (
	customer_id TEXT NOT NULL,
	ts          INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	PRIMARY KEY (customer_id, ts, seq)
) WITHOUT ROWID;

CREATE TABLE orders (
	customer_id    TEXT NOT NULL,
	seq            INTEGER NOT NULL,
	ts             INTEGER NOT NULL,
	order_id       TEXT NOT NULL,
	revenue_micros INTEGER NOT NULL,
	currency       TEXT NOT NULL,
	PRIMARY KEY (customer_id, seq)
) WITHOUT ROWID;

-- Keyed by the surviving customer, like every customer-scoped table, so
-- that a distributed PostgreSQL (Citus) can place it with the customer.
CREATE TABLE merges (
	into_customer TEXT NOT NULL,
	seq           INTEGER NOT NULL,
	from_customer TEXT NOT NULL,
	reason        TEXT NOT NULL,
	at            INTEGER NOT NULL,
	PRIMARY KEY (into_customer, seq, from_customer)
);
CREATE INDEX merges_from ON merges (from_customer);

CREATE TABLE identity_conflicts (
	customer_id TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	value       TEXT NOT NULL,
	other_id    TEXT NOT NULL,
	detail      TEXT NOT NULL,
	at          INTEGER NOT NULL,
	PRIMARY KEY (customer_id, seq, kind, value)
);
CREATE INDEX identity_conflicts_other ON identity_conflicts (other_id);

CREATE TABLE cursors (
	name TEXT PRIMARY KEY,
	seq  INTEGER NOT NULL
);

CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	expires_at INTEGER NOT NULL
);
