-- The audit log (docs/api.md, "Audit log"): one row per admin action on the namespace, with who
-- (a key id, or the environment token's name), when, what and on what. Bounded by count and age
-- by the object (AUDIT_BOUNDS in durable-objects/audit-log.ts). Idempotent, like every migration.
CREATE TABLE IF NOT EXISTS audit (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  at     INTEGER NOT NULL,
  actor  TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT
);
