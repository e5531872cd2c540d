-- Safe checkpoints at any state size. One row of Durable Objects' SQLite holds at most 2 MB, so
-- no state is kept in one value any more: buckets are stored in parts, pending events one a row.

-- A bucket's serialised state (JSON, with its format version inside) cut into parts of at most
-- about 1.2 MB of UTF-8 each. `parts` is the count, so a bucket with a part missing is refused.
CREATE TABLE IF NOT EXISTS bucket_parts (
  tier  TEXT NOT NULL,
  start INTEGER NOT NULL,
  part  INTEGER NOT NULL,
  parts INTEGER NOT NULL,
  data  TEXT NOT NULL,
  PRIMARY KEY (tier, start, part)
);

-- Buckets of format 0 (one unversioned JSON row each) become format 1 (the same fields, each
-- level versioned), in one part each: format 0 rows were written whole, so they fit one.
INSERT INTO bucket_parts (tier, start, part, parts, data)
  SELECT tier, start, 0, 1, json_set(state,
      '$.v', 1, '$.summary.v', 1, '$.items.v', 1, '$.actors.v', 1,
      '$.typed', json((SELECT json_group_array(json_set(t.value, '$[1].v', 1)) FROM json_each(state, '$.typed') AS t)))
  FROM buckets;
DROP TABLE IF EXISTS buckets;

-- Events stamped ahead of the clock (up to 5 minutes), until time reaches them: one row each,
-- written by the checkpoint, deleted by the checkpoint that counts them into buckets.
CREATE TABLE IF NOT EXISTS pending_events (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  ts     INTEGER NOT NULL,
  format INTEGER NOT NULL,
  event  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_events_by_ts ON pending_events (ts);

-- The pending events of format 0 (one JSON array in meta) become rows of format 1.
INSERT INTO pending_events (ts, format, event)
  SELECT json_extract(e.value, '$.ts'), 1, e.value FROM meta, json_each(meta.value) AS e WHERE meta.key = 'pending';
DELETE FROM meta WHERE key = 'pending';

-- Every meta value is wrapped with its format version: {"v": 1, "value": ...}. No value of
-- format 0 has a field v (they are numbers, strings and the config and counters objects).
UPDATE meta SET value = json_object('v', 1, 'value', json(value)) WHERE json_type(value, '$.v') IS NULL;

-- Snapshots are no longer stored: start-up recomputes them from the restored state, and a
-- refresh no longer rewrites every answer to SQLite.
DROP TABLE IF EXISTS snapshots;
