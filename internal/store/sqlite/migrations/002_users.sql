-- Users, departments, sessions, API keys, login failures and the audit log
-- (issue 4). Times are Unix milliseconds; booleans are 0/1 integers so that
-- the shared SQL reads them alike in SQLite and PostgreSQL.

-- Departments are data: an admin adds more. Users refer to them by name.
CREATE TABLE departments (
	name       TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL
);
INSERT INTO departments (name, created_at) VALUES
	('Marketing', 0), ('Sales', 0), ('Service', 0), ('Product development', 0), ('Logistics', 0);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE, -- lower-cased
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	department    TEXT NOT NULL,
	password_hash TEXT NOT NULL,        -- argon2id, PHC string format
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE INDEX users_role ON users (role);

-- Only the SHA-256 of a session token is stored: a copy of the database
-- does not let anyone take over a session.
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	key_hash     TEXT NOT NULL UNIQUE, -- SHA-256 of the key
	scopes       TEXT NOT NULL,        -- comma-separated: read, write, admin
	created_by   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0,
	revoked_at   INTEGER NOT NULL DEFAULT 0
);

-- Failed logins for rate limiting, shared by every node. key is a SHA-256
-- of the e-mail address or of the client address, not the value itself.
CREATE TABLE login_failures (
	id  INTEGER PRIMARY KEY AUTOINCREMENT,
	key TEXT NOT NULL,
	at  INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- Who saw and changed what. Append-only; detail holds ids and counts, never
-- personal data of customers.
CREATE TABLE audit_log (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	at     INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target ON audit_log (target, id);
