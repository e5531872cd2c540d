/**
 * One audit log in an object's SQLite (the `audit` table of migrations/0005_audit.sql): written in
 * the same turn as the action it records, so an action that answered is recorded once, and a
 * refused one never. Kept bounded on every write (AUDIT_BOUNDS): a DELETE on the primary key's
 * range and one on age, both cheap next to the action itself.
 */
import { AUDIT_BOUNDS, encodeAuditCursor, type Actor, type AuditAction, type AuditEntry, type AuditPage } from "../src/shared/audit";

const DAY_MS = 86_400_000;

/** The part of a SQL storage handle the log uses (the raw one, or the object's guarded one). */
interface Sql {
  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: SqlStorageValue[]): SqlStorageCursor<T>;
}

export class AuditLog {
  constructor(private readonly sql: Sql) {}

  record(actor: Actor, action: AuditAction, target: string | null, now = Date.now()): void {
    this.sql.exec("INSERT INTO audit (at, actor, action, target) VALUES (?, ?, ?, ?)", now, actor, action, target);
    this.sql.exec(
      "DELETE FROM audit WHERE seq <= (SELECT max(seq) FROM audit) - ? OR at < ?",
      AUDIT_BOUNDS.entries,
      now - AUDIT_BOUNDS.maxAgeDays * DAY_MS,
    );
  }

  /** One page, newest first, of the entries before sequence number `before` (null: the newest). */
  page(before: number | null, limit: number): AuditPage {
    const rows = this.sql
      .exec<{ seq: number; at: number; actor: string; action: string; target: string | null }>(
        "SELECT seq, at, actor, action, target FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?",
        before ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray();
    const kept = rows.slice(0, limit);
    const entries: AuditEntry[] = kept.map((r) => ({
      at: new Date(r.at).toISOString(),
      actor: r.actor,
      action: r.action as AuditAction,
      target: r.target,
    }));
    const last = kept.at(-1);
    return { entries, cursor: rows.length > limit && last ? encodeAuditCursor(last.seq) : null };
  }
}
