-- The newest events of one source (the live event debugger) read from an
-- index instead of scanning the log.
CREATE INDEX events_source_seq ON events (source_id, seq);
