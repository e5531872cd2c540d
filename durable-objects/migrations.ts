/**
 * The schema migrations, in the order they apply. Wrangler bundles `*.sql` as text, so the files
 * in migrations/ are the single source of the schema. Add a file there, then a line here.
 */
import init from "../migrations/0001_init.sql";
import safeCheckpoints from "../migrations/0002_safe_checkpoints.sql";
import suppressions from "../migrations/0003_suppressions.sql";
import pendingInStorage from "../migrations/0004_pending_in_storage.sql";
import audit from "../migrations/0005_audit.sql";
import liveListeners from "../migrations/0006_live_listeners.sql";
import webhooks from "../migrations/0007_webhooks.sql";

export const MIGRATIONS: readonly { name: string; sql: string }[] = [
  { name: "0001_init", sql: init },
  { name: "0002_safe_checkpoints", sql: safeCheckpoints },
  { name: "0003_suppressions", sql: suppressions },
  { name: "0004_pending_in_storage", sql: pendingInStorage },
  { name: "0005_audit", sql: audit },
  { name: "0006_live_listeners", sql: liveListeners },
  { name: "0007_webhooks", sql: webhooks },
];

/** True once any schema exists: an object that was only ever read has none, and stays so. */
export function schemaExists(storage: DurableObjectStorage): boolean {
  return storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = '_migrations'").one().n > 0;
}

/**
 * Applies every migration not yet recorded, each with its record in one transaction, so that a
 * migration runs once however often the object starts.
 */
export function migrate(storage: DurableObjectStorage, migrations = MIGRATIONS): string[] {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const done = new Set(sql.exec<{ name: string }>("SELECT name FROM _migrations").toArray().map((r) => r.name));
  const applied: string[] = [];
  for (const migration of migrations) {
    if (done.has(migration.name)) continue;
    storage.transactionSync(() => {
      sql.exec(migration.sql);
      sql.exec("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", migration.name, Date.now());
    });
    applied.push(migration.name);
  }
  return applied;
}
