-- The timeline keeps what a customer's page lists: source, type, name and the
-- event body packed by internal/eventpack, so reading a customer's newest
-- events does not visit the log (one heap page per event there, as the log is
-- in arrival order). Rows written before this migration have NULLs and are
-- read from the log until `kunding rebuild`.
ALTER TABLE timeline ADD COLUMN source_id TEXT;
ALTER TABLE timeline ADD COLUMN type TEXT;
ALTER TABLE timeline ADD COLUMN name TEXT;
ALTER TABLE timeline ADD COLUMN body BYTEA;
