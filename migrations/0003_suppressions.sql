-- Content moderation: the items of the namespace that no ranking lists (docs/api.md, "Admin").
-- At most 10,000 rows (MAX_SUPPRESSIONS, enforced by the object), so they are all held in memory
-- too. Idempotent, like every migration: applying it twice changes nothing.
CREATE TABLE IF NOT EXISTS suppressions (
  item          TEXT PRIMARY KEY,
  suppressed_at INTEGER NOT NULL
);
