/**
 * NamespaceRegistry: one Durable Object for the whole service, holding the list of namespaces that
 * hold data (`GET /v1/namespaces`). Objects cannot be enumerated, so the list must be kept: each
 * NamespaceAggregator records itself here before its first event is counted and drops itself
 * before it erases its data. An object rather than a KV listing, because KV's list is eventually
 * consistent: it could leave out a namespace just created, or list one just deleted.
 *
 * It sees only creates and deletes, never events or reads, so one object carries the load of any
 * realistic service; in exchange, a listing reflects every create and delete that has answered.
 *
 * It also holds the API keys (key-store.ts) and the service's own audit log: key creation and
 * revocation, and namespaces erased (whose own log is erased with them). A Worker looks a key up
 * here at most once per key per data centre every KEY_CACHE_SECONDS (src/worker/key-auth.ts), so
 * the keys add a request here per key and data centre every 30 s, not per request.
 */
import { DurableObject } from "cloudflare:workers";
import type { NamespaceEntry, NamespacePage } from "../src/shared/contract";
import type { ApiKey, KeyGrant, NewKey } from "../src/shared/api-keys";
import type { Actor, AuditPage } from "../src/shared/audit";
import type { Outcome } from "../src/shared/errors";
import auditSchema from "../migrations/0005_audit.sql";
import { AuditLog } from "./audit-log";
import { KEYS_SCHEMA, KeyStore } from "./key-store";
import { outcomeOf } from "./outcome";
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
  /** Every entry point awaits it first (startup.ts). Each table is created if missing: safe to run
   * on every start. The audit table is the namespaces' own (migrations/0005_audit.sql). */
  private readonly startup = new Startup(this.ctx, () => {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL) WITHOUT ROWID");
    this.ctx.storage.sql.exec(KEYS_SCHEMA);
    this.ctx.storage.sql.exec(auditSchema);
  });
  private readonly keys = new KeyStore(this.ctx.storage.sql);
  private readonly audit = new AuditLog(this.ctx.storage.sql);

  private run<T>(method: string, body: () => T): Promise<Outcome<T>> {
    return outcomeOf({ object: "NamespaceRegistry", namespace: "(registry)", method }, async () => {
      await this.startup.ready();
      return body();
    });
  }

  /** Lists `namespace`; idempotent, so concurrent first batches and retries record it once, and
   * the first `createdAt` stays. It refuses nothing: a caller sees a throw only when the registry
   * cannot be reached. */
  async record(namespace: string, createdAt: number): Promise<void> {
    await this.startup.ready();
    this.ctx.storage.sql.exec("INSERT INTO namespaces (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", namespace, createdAt);
  }

  /** Stops listing `namespace`; idempotent, so a retried delete is harmless. With `actor` (an
   * admin's DELETE), the erasure is recorded here, since the namespace's own log goes with it. */
  async drop(namespace: string, actor?: Actor): Promise<void> {
    await this.startup.ready();
    this.ctx.storage.transactionSync(() => {
      const listed = this.ctx.storage.sql.exec("DELETE FROM namespaces WHERE name = ?", namespace).rowsWritten > 0;
      if (listed && actor !== undefined) this.audit.record(actor, "namespace.delete", namespace);
    });
  }

  // ---- keys (docs/api.md, "Keys") -------------------------------------------------------------

  /** Stores a new key by its id and its secret's hash (the Worker minted both), and records it. */
  createKey(id: string, hash: ArrayBuffer, key: NewKey, actor: Actor): Promise<Outcome<ApiKey>> {
    return this.run("createKey", () =>
      this.ctx.storage.transactionSync(() => {
        const created = this.keys.add(id, hash, key, Date.now());
        this.audit.record(actor, "key.create", id);
        return created;
      }),
    );
  }

  listKeys(): Promise<Outcome<ApiKey[]>> {
    return this.run("listKeys", () => this.keys.list());
  }

  /** Revokes a key; recorded once, however often it is revoked again. */
  revokeKey(id: string, actor: Actor): Promise<Outcome<ApiKey>> {
    return this.run("revokeKey", () =>
      this.ctx.storage.transactionSync(() => {
        const { key, revokedNow } = this.keys.revoke(id, Date.now());
        if (revokedNow) this.audit.record(actor, "key.revoke", id);
        return key;
      }),
    );
  }

  grantOf(id: string): Promise<Outcome<KeyGrant | null>> {
    return this.run("grantOf", () => this.keys.grant(id));
  }

  /** Each Worker isolate reports the keys it saw used, at most once a minute per key. */
  touchKeys(used: Record<string, number>): Promise<Outcome<null>> {
    return this.run("touchKeys", () => (this.keys.touch(used), null));
  }

  auditPage(before: number | null, limit: number): Promise<Outcome<AuditPage>> {
    return this.run("auditPage", () => this.audit.page(before, limit));
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
