-- Pending (future-stamped) events are held in this table only, never in memory: ingest writes
-- them here in the same transaction as its batch log row, and the refresh counts them from here
-- once due. Rows written by a merge of ingest shards or by an import are provisional until the
-- checkpoint that holds the shards' cursors (or the import) commits and confirms them; start-up
-- deletes provisional rows, which the shards' rows or the import will bring again.
-- The table is rebuilt with the new column rather than altered, so that, like every migration,
-- this file can be applied twice and changes nothing the second time.
CREATE TABLE IF NOT EXISTS pending_rows (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  ts          INTEGER NOT NULL,
  format      INTEGER NOT NULL,
  event       TEXT NOT NULL,
  provisional INTEGER NOT NULL DEFAULT 0
);
INSERT INTO pending_rows (seq, ts, format, event) SELECT seq, ts, format, event FROM pending_events;
DROP TABLE pending_events;
ALTER TABLE pending_rows RENAME TO pending_events;
CREATE INDEX IF NOT EXISTS pending_events_by_ts ON pending_events (ts);
-- The checkpoint confirms provisional rows and start-up deletes them: a partial index finds them
-- without a scan of every pending row.
CREATE INDEX IF NOT EXISTS pending_events_provisional ON pending_events (seq) WHERE provisional = 1;
