-- Webhooks (docs/api.md, "Webhooks"): at most 20 per namespace (MAX_WEBHOOKS, enforced by the
-- object). `secret` is the signing key of Standard Webhooks: the object must sign with it, so it
-- is kept as is (a hash cannot sign), in the object's own storage only, and shown once at creation.
-- `places` and `spiking` are what the last answer held, so that a restart fires nothing twice.
CREATE TABLE IF NOT EXISTS webhooks (
  id            TEXT PRIMARY KEY,
  spec          TEXT NOT NULL,
  secret        TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  places        TEXT,
  spiking       TEXT,
  last_delivery TEXT,
  failing_since INTEGER,
  paused        INTEGER NOT NULL DEFAULT 0
);
-- Messages queued by a refresh and sent after it, retried with backoff: the id is the
-- webhook-id header, the same on every attempt, so receivers deduplicate.
CREATE TABLE IF NOT EXISTS webhook_messages (
  id         TEXT PRIMARY KEY,
  webhook    TEXT NOT NULL,
  payload    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  next_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_messages_due ON webhook_messages (next_at);
