-- An ingest shard's database (durable-objects/ingest-shard.ts): the batches it accepted that the
-- namespace's object has not yet acknowledged, and the batch ids it saw in the last 24 hours.
-- Idempotent, like every migration.

-- One row per log row of a batch (a batch over 1 MB takes several, `part` 0 first). AUTOINCREMENT:
-- a sequence number is never reused, even after every row was acknowledged and deleted, so the
-- namespace's object can name "everything after n" across restarts of either side.
CREATE TABLE IF NOT EXISTS shard_log (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  part        INTEGER NOT NULL,
  accepted_at INTEGER NOT NULL,
  batch_id    TEXT,
  events      INTEGER NOT NULL,
  format      INTEGER NOT NULL,
  data        TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS shard_batch_ids (
  batch_id    TEXT PRIMARY KEY,
  accepted    INTEGER NOT NULL,
  accepted_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS shard_batch_ids_by_time ON shard_batch_ids (accepted_at);
