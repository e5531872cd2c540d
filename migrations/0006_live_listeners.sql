-- Live answers: which relay objects follow which answers of the namespace (docs/api.md, "Live
-- answers"). A relay's sockets survive this object's eviction (they are the relay's), so who to
-- tell must survive it too. At most MAX_RELAYS × the answers a namespace computes rows; a row
-- whose relay holds no socket of the answer any more is dropped when a push finds it so.
CREATE TABLE IF NOT EXISTS live_listeners (
  relay INTEGER NOT NULL,
  key   TEXT    NOT NULL,
  PRIMARY KEY (relay, key)
);
