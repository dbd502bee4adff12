-- The timeline keeps what a customer's page lists: source, type, name and the
-- event body packed by internal/eventpack, next to the customer (the table is
-- clustered by customer), so the newest events of a customer are a few
-- neighbouring pages instead of one page of the log per event. Rows written
-- before this migration have NULLs and are read from the log until
-- `kunding rebuild`.
ALTER TABLE timeline ADD COLUMN source_id TEXT;
ALTER TABLE timeline ADD COLUMN type TEXT;
ALTER TABLE timeline ADD COLUMN name TEXT;
ALTER TABLE timeline ADD COLUMN body BLOB;
