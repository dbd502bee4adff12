-- Surveys and their responses (issue 6). A response is written together
-- with its "Survey Answered" event in one transaction; its id is
-- deterministic, so the primary key refuses a second answer to a personal
-- link. Times are Unix milliseconds.
CREATE TABLE surveys (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	type        TEXT NOT NULL,
	question_de TEXT NOT NULL,
	question_en TEXT NOT NULL,
	comment_de  TEXT NOT NULL DEFAULT '',
	comment_en  TEXT NOT NULL DEFAULT '',
	department  TEXT NOT NULL DEFAULT '',
	touchpoint  TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);

CREATE TABLE survey_responses (
	id                 TEXT PRIMARY KEY,
	survey_id          TEXT NOT NULL,
	score              INTEGER,
	comment            TEXT NOT NULL DEFAULT '',
	analysis           TEXT NOT NULL DEFAULT '',
	sentiment          TEXT NOT NULL DEFAULT '',
	customer_id        TEXT NOT NULL DEFAULT '',
	identifier_kind    TEXT NOT NULL DEFAULT '',
	identifier_value   TEXT NOT NULL DEFAULT '',
	touchpoint         TEXT NOT NULL DEFAULT '',
	department         TEXT NOT NULL DEFAULT '',
	source             TEXT NOT NULL,
	trigger_message_id TEXT NOT NULL DEFAULT '',
	language           TEXT NOT NULL DEFAULT '',
	client_hash        TEXT NOT NULL DEFAULT '',
	answered_at        INTEGER NOT NULL
);
CREATE INDEX survey_responses_survey ON survey_responses (survey_id, answered_at);
CREATE INDEX survey_responses_customer ON survey_responses (customer_id);
CREATE INDEX survey_responses_client ON survey_responses (survey_id, client_hash, answered_at);
