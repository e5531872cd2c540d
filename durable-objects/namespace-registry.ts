/**
 * NamespaceRegistry: one Durable Object for the whole service, holding the list of namespaces that
 * hold data (`GET /v1/namespaces`). Objects cannot be enumerated, so the list must be kept: each
 * NamespaceAggregator records itself here before its first event is counted and drops itself
 * before it erases its data. An object rather than a KV listing, because KV's list is eventually
 * consistent: it could leave out a namespace just created, or list one just deleted.
 *
 * It sees only creates and deletes, never events or reads, so one object carries the load of any
 * realistic service; in exchange, a listing reflects every create and delete that has answered.
 */
import { DurableObject } from "cloudflare:workers";
import type { NamespaceEntry, NamespacePage } from "../src/shared/contract";
import type { Outcome } from "../src/shared/errors";
import { Startup } from "./startup";

/** Which rows a page of the listing holds. */
export interface ListQuery {
  /** Only names starting with this ("" for all). */
  prefix: string;
  /** Only names after this one (the previous page's last name), or null from the start. */
  after: string | null;
  limit: number;
}

/** A character above every character a namespace name may hold ([a-z0-9_-]), so that
 * `prefix <= name < prefix + PAST` is exactly "name starts with prefix", as an index range. */
const PAST = "~";

export class NamespaceRegistry extends DurableObject<Env> {
  /** Every entry point awaits it first (startup.ts). The schema is one table, created if missing:
   * safe to run on every start. A schema change would be a second, versioned statement here. */
  private readonly startup = new Startup(this.ctx, () => {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL) WITHOUT ROWID");
  });

  /** Lists `namespace`; idempotent, so concurrent first batches and retries record it once, and
   * the first `createdAt` stays. It refuses nothing: a caller sees a throw only when the registry
   * cannot be reached. */
  async record(namespace: string, createdAt: number): Promise<void> {
    await this.startup.ready();
    this.ctx.storage.sql.exec("INSERT INTO namespaces (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", namespace, createdAt);
  }

  /** Stops listing `namespace`; idempotent, so a retried delete is harmless. */
  async drop(namespace: string): Promise<void> {
    await this.startup.ready();
    this.ctx.storage.sql.exec("DELETE FROM namespaces WHERE name = ?", namespace);
  }

  /** One page of names in ascending order; `more` says whether a next page exists. */
  async list(query: ListQuery): Promise<Outcome<NamespacePage>> {
    await this.startup.ready();
    const low = query.after !== null && query.after >= query.prefix ? query.after : query.prefix;
    const lowOp = query.after !== null && query.after >= query.prefix ? ">" : ">=";
    // One row more than the page, to know without a second query whether another page follows.
    const rows = this.ctx.storage.sql
      .exec<{ name: string; created_at: number }>(
        `SELECT name, created_at FROM namespaces WHERE name ${lowOp} ? AND name < ? ORDER BY name LIMIT ?`,
        low,
        query.prefix + PAST,
        query.limit + 1,
      )
      .toArray();
    const entries: NamespaceEntry[] = rows
      .slice(0, query.limit)
      .map((r) => ({ namespace: r.name, createdAt: new Date(r.created_at).toISOString() }));
    return { ok: true, value: { entries, more: rows.length > query.limit } };
  }
}
