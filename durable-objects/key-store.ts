/**
 * The registry's table of API keys (docs/api.md, "Keys"). A row holds the SHA-256 of the key's
 * secret, never the secret: nothing stored here, or exported from here, can give a key back. A
 * revoked key keeps its row (listed with `revokedAt`, its hash wiped) for REVOKED_KEPT_DAYS, so an
 * operator can see what was revoked, then goes.
 */
import type { ApiKey, KeyGrant, NewKey, QuotaLimits } from "../src/shared/api-keys";
import { TallyError } from "../src/shared/errors";

/** Keys a deployment holds at most, revoked ones included: one registry row each, all listed at once. */
export const MAX_KEYS = 1000;
const REVOKED_KEPT_DAYS = 30;
const DAY_MS = 86_400_000;

export const KEYS_SCHEMA = `CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, hash BLOB NOT NULL, label TEXT NOT NULL, scopes TEXT NOT NULL, namespaces TEXT, prefix TEXT,
  limits TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER, last_used_at INTEGER
) WITHOUT ROWID`;

interface KeyRow extends Record<string, SqlStorageValue> {
  id: string;
  hash: ArrayBuffer;
  label: string;
  scopes: string;
  namespaces: string | null;
  prefix: string | null;
  limits: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function listed(row: KeyRow): ApiKey {
  return {
    id: row.id,
    label: row.label,
    scopes: JSON.parse(row.scopes) as ApiKey["scopes"],
    namespaces: row.namespaces === null ? null : (JSON.parse(row.namespaces) as string[]),
    prefix: row.prefix,
    limits: JSON.parse(row.limits) as QuotaLimits,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
    lastUsedAt: iso(row.last_used_at),
  };
}

export const keyNotFound = (id: string) => new TallyError(404, "key_not_found", `No key has the id "${id}".`, { id });

export class KeyStore {
  constructor(private readonly sql: SqlStorage) {}

  add(id: string, hash: ArrayBuffer, key: NewKey, now: number): ApiKey {
    this.sql.exec("DELETE FROM api_keys WHERE revoked_at < ?", now - REVOKED_KEPT_DAYS * DAY_MS);
    const held = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM api_keys").one().n;
    if (held >= MAX_KEYS) {
      throw new TallyError(409, "too_many_keys", `A deployment holds at most ${MAX_KEYS} keys; revoke unused ones first.`, { limit: MAX_KEYS });
    }
    this.sql.exec(
      "INSERT INTO api_keys (id, hash, label, scopes, namespaces, prefix, limits, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      id, hash, key.label, JSON.stringify(key.scopes), key.namespaces === null ? null : JSON.stringify(key.namespaces),
      key.prefix, JSON.stringify(key.limits), now, key.expiresAt,
    );
    return listed(this.row(id)!);
  }

  list(): ApiKey[] {
    return this.sql.exec<KeyRow>("SELECT * FROM api_keys ORDER BY created_at, id").toArray().map(listed);
  }

  /** Revokes `id` and wipes its hash. Revoking a revoked key answers it again, unchanged. */
  revoke(id: string, now: number): { key: ApiKey; revokedNow: boolean } {
    const row = this.row(id);
    if (row === undefined) throw keyNotFound(id);
    if (row.revoked_at !== null) return { key: listed(row), revokedNow: false };
    this.sql.exec("UPDATE api_keys SET revoked_at = ?, hash = ? WHERE id = ?", now, new ArrayBuffer(0), id);
    return { key: listed(this.row(id)!), revokedNow: true };
  }

  /** What the Worker needs to authorise with `id`, or null for an id no key has. */
  grant(id: string): KeyGrant | null {
    const row = this.row(id);
    if (row === undefined) return null;
    const key = listed(row);
    return {
      id,
      scopes: key.scopes,
      namespaces: key.namespaces,
      prefix: key.prefix,
      limits: key.limits,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      hash: row.hash,
    };
  }

  /** Keys last used at these times (coalesced by each Worker isolate); a time never goes back. */
  touch(used: Record<string, number>): void {
    for (const [id, at] of Object.entries(used)) {
      this.sql.exec("UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?", at, id);
    }
  }

  private row(id: string): KeyRow | undefined {
    return this.sql.exec<KeyRow>("SELECT * FROM api_keys WHERE id = ?", id).toArray()[0];
  }
}
