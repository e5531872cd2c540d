-- Tally namespace storage, one SQLite database per NamespaceAggregator object.
-- Every statement is idempotent: applying this file twice changes nothing.

-- Small named values: namespace name, config, generation, pending events, counters.
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- The batch log: one row per accepted batch, written in the same transaction as its batch id,
-- replayed on start-up and truncated at each checkpoint.
CREATE TABLE IF NOT EXISTS batch_log (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  accepted_at INTEGER NOT NULL,
  events      TEXT NOT NULL
);

-- Batch ids seen in the last 24 hours: a replay answers duplicate and counts nothing.
CREATE TABLE IF NOT EXISTS batch_ids (
  batch_id    TEXT PRIMARY KEY,
  accepted    INTEGER NOT NULL,
  accepted_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_ids_by_time ON batch_ids (accepted_at);

-- The checkpoint: one row per bucket of each tier.
CREATE TABLE IF NOT EXISTS buckets (
  tier  TEXT NOT NULL,
  start INTEGER NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (tier, start)
);

-- The latest precomputed answers, so that a restarted object answers at once.
CREATE TABLE IF NOT EXISTS snapshots (
  key         TEXT PRIMARY KEY,
  body        TEXT NOT NULL,
  computed_at INTEGER NOT NULL
);
