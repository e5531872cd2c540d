/**
 * API keys (docs/api.md v1.2, "Keys"): made, listed and revoked by the root ADMIN_TOKEN only;
 * stored as hashes (the registry's SQLite rows are read here); compared in constant time; revoked
 * at once in this data centre and within 30 s everywhere.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashSecret, parseKey, sameDigest } from "../src/shared/api-keys";
import { REGISTRY_OBJECT } from "../src/shared/keys";
import { TOKENS, bearer, call, expectError, fetchWith, freshNamespace, ingest, json, seed } from "./support/http";
import { createKey, revokeKey, withKey } from "./support/keys";

afterEach(() => vi.useRealTimers());

const registry = () => env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_OBJECT));

describe("POST /v1/keys", () => {
  it("answers 201 with the key once; GET /v1/keys lists it without any secret", async () => {
    const ns = freshNamespace("keys");
    const created = await createKey({ label: "app one ingest", scopes: ["ingest"], namespaces: [ns], limits: { eventsPerMinute: 100 } });
    expect(created.key).toMatch(/^tk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(parseKey(created.key)?.id).toBe(created.id);
    expect(created).toMatchObject({ label: "app one ingest", scopes: ["ingest"], namespaces: [ns], prefix: null, limits: { eventsPerMinute: 100 }, revokedAt: null, lastUsedAt: null });
    const listing = await call("GET", "/v1/keys", { headers: bearer(TOKENS.admin) });
    expect(listing.headers.get("Cache-Control")).toBe("no-store");
    const text = await listing.text();
    const secret = parseKey(created.key)!.secret;
    expect(text).not.toContain(secret);
    const listed = (JSON.parse(text) as { keys: { id: string; key?: string }[] }).keys.find((k) => k.id === created.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty("key");
  });

  const REFUSED: [string, unknown][] = [
    ["no label", { scopes: ["read"], namespaces: ["a"] }],
    ["an unknown scope", { label: "x", scopes: ["write"], namespaces: ["a"] }],
    ["no scope", { label: "x", scopes: [], namespaces: ["a"] }],
    ["both namespaces and prefix", { label: "x", scopes: ["read"], namespaces: ["a"], prefix: "a" }],
    ["neither namespaces nor prefix", { label: "x", scopes: ["read"] }],
    ["a bad namespace name", { label: "x", scopes: ["read"], namespaces: ["Bad"] }],
    ["an expiry in the past", { label: "x", scopes: ["read"], namespaces: ["a"], expiresAt: "2001-01-01T00:00:00.000Z" }],
    ["a limit of 0", { label: "x", scopes: ["read"], namespaces: ["a"], limits: { requestsPerMinute: 0 } }],
    ["an unknown field", { label: "x", scopes: ["read"], namespaces: ["a"], secret: "mine" }],
  ];
  for (const [what, body] of REFUSED) {
    it(`refuses ${what} with 400 invalid_key_request`, async () => {
      const res = await call("POST", "/v1/keys", { headers: { ...bearer(TOKENS.admin), "Content-Type": "application/json" }, body: JSON.stringify(body) });
      await expectError(res, 400, "invalid_key_request");
    });
  }

  it("is for the root ADMIN_TOKEN only: an admin key may not make keys", async () => {
    const ns = freshNamespace("keys");
    const { key } = await createKey({ label: "admin of one", scopes: ["admin"], namespaces: [ns] });
    await expectError(await withKey(key, "POST", "/v1/keys", { label: "wider", scopes: ["admin"], prefix: "a" }), 403, "forbidden");
    await expectError(await withKey(key, "GET", "/v1/keys"), 403, "forbidden");
  });
});

describe("stored state", () => {
  it("holds no secret: the registry's rows have the id and the SHA-256 of the secret only", async () => {
    const ns = freshNamespace("keys");
    const { id, key } = await createKey({ label: "stored", scopes: ["read"], namespaces: [ns] });
    const { secret } = parseKey(key)!;
    const expected = new Uint8Array(await hashSecret(secret));
    await runInDurableObject(registry(), (_, state) => {
      const sql = state.storage.sql;
      const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((t) => t.name);
      for (const table of tables.filter((t) => !t.startsWith("_cf") && !t.startsWith("sqlite"))) {
        for (const row of sql.exec(`SELECT * FROM ${table}`).toArray()) {
          for (const value of Object.values(row)) {
            if (typeof value === "string") {
              expect(value).not.toContain(secret);
              expect(value).not.toContain(key);
            } else if (value instanceof ArrayBuffer) {
              expect(new TextDecoder().decode(value)).not.toContain(secret);
            }
          }
        }
      }
      const row = sql.exec<{ hash: ArrayBuffer }>("SELECT hash FROM api_keys WHERE id = ?", id).one();
      expect(new Uint8Array(row.hash)).toEqual(expected);
    });
  });
});

describe("the comparison of a presented secret", () => {
  it("always compares two full 32-byte digests, however much of the secret matches", async () => {
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    try {
      const stored = await hashSecret("A".repeat(43));
      const candidates = ["B".repeat(43), `A${"B".repeat(42)}`, `${"A".repeat(42)}B`, "A", "A".repeat(43)];
      const answers = [];
      for (const candidate of candidates) answers.push(sameDigest(await hashSecret(candidate), stored));
      expect(answers).toEqual([false, false, false, false, true]);
      expect(spy).toHaveBeenCalledTimes(candidates.length);
      for (const [a, b] of spy.mock.calls) {
        expect((a as ArrayBuffer).byteLength).toBe(32);
        expect((b as ArrayBuffer).byteLength).toBe(32);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it("compares even against a stored digest of the wrong length, and answers false", async () => {
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    try {
      expect(sameDigest(await hashSecret("x"), new ArrayBuffer(0))).toBe(false);
      expect(spy).toHaveBeenCalledTimes(1);
      expect((spy.mock.calls[0]![1] as ArrayBuffer).byteLength).toBe(32);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("DELETE /v1/keys/{id}", () => {
  it("revokes at once in the data centre that answered, and the key then answers 401 like an unknown one", async () => {
    const ns = freshNamespace("keys");
    const { id, key } = await createKey({ label: "leaked", scopes: ["ingest"], namespaces: [ns] });
    expect((await withKey(key, "POST", `/v1/namespaces/${ns}/events`, { events: [{ item: "a" }] })).status).toBe(202);
    const res = await revokeKey(id);
    expect(res.status).toBe(200);
    expect((await json(res)).revokedAt).toEqual(expect.any(String));
    const refused = await expectError(await withKey(key, "POST", `/v1/namespaces/${ns}/events`, { events: [{ item: "a" }] }), 401, "unauthorized");
    const unknown = await expectError(await withKey(`tk_${"0".repeat(16)}_${"A".repeat(43)}`, "POST", `/v1/namespaces/${ns}/events`, { events: [{ item: "a" }] }), 401, "unauthorized");
    expect(refused).toEqual(unknown);
  });

  it("revokes within 30 s in a data centre that still holds the key's lookup", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const ns = freshNamespace("keys");
    await seed(ns);
    const { id, key } = await createKey({ label: "elsewhere", scopes: ["read"], namespaces: [ns] });
    expect((await withKey(key, "GET", `/v1/namespaces/${ns}/stats`)).status).toBe(200); // cached here now
    // Revoked in another data centre: the registry knows, this data centre's cache does not.
    await registry().revokeKey(id, "ADMIN_TOKEN");
    expect((await withKey(key, "GET", `/v1/namespaces/${ns}/stats`)).status).toBe(200);
    vi.setSystemTime(Date.now() + 30_001);
    await expectError(await withKey(key, "GET", `/v1/namespaces/${ns}/stats`), 401, "unauthorized");
  });

  it("revoking again answers the key unchanged; an unknown id is 404, a malformed one 400", async () => {
    const { id } = await createKey({ label: "twice", scopes: ["read"], prefix: "twice-" });
    const first = await json(await revokeKey(id));
    const second = await revokeKey(id);
    expect(second.status).toBe(200);
    expect(await json(second)).toEqual(first);
    await expectError(await revokeKey("0123456789abcdef"), 404, "key_not_found");
    await expectError(await revokeKey("nope"), 400, "invalid_key_id");
  });
});

describe("keys at work", () => {
  it("an expired key answers 401 from the moment it expires", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const ns = freshNamespace("keys");
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const { key } = await createKey({ label: "short", scopes: ["ingest"], namespaces: [ns], expiresAt });
    expect((await ingestWith(key, ns)).status).toBe(202);
    vi.setSystemTime(Date.parse(expiresAt));
    await expectError(await ingestWith(key, ns), 401, "unauthorized");
  });

  it("records lastUsedAt, coalesced: one report per key and isolate a minute", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const ns = freshNamespace("keys");
    const { id, key } = await createKey({ label: "used", scopes: ["ingest"], namespaces: [ns] });
    const lastUsed = async () => {
      const { keys } = await json<{ keys: { id: string; lastUsedAt: string | null }[] }>(await fetchWith({}, "/v1/keys", { headers: bearer(TOKENS.admin) }));
      return keys.find((k) => k.id === id)?.lastUsedAt;
    };
    const first = Date.now();
    const use = () => fetchWith({}, `/v1/namespaces/${ns}/events`, { method: "POST", headers: { ...bearer(key), "Content-Type": "application/json" }, body: '{"events":[{"item":"a"}]}' });
    expect((await use()).status).toBe(202);
    expect(await lastUsed()).toBe(new Date(first).toISOString());
    vi.setSystemTime(first + 20_000);
    expect((await use()).status).toBe(202);
    expect(await lastUsed()).toBe(new Date(first).toISOString()); // coalesced: not reported again yet
    vi.setSystemTime(first + 61_000);
    expect((await use()).status).toBe(202);
    expect(await lastUsed()).toBe(new Date(first + 61_000).toISOString());
  });

  it("the environment tokens keep working as root keys", async () => {
    const ns = freshNamespace("keys");
    expect((await ingest(ns, [{ item: "a" }])).status).toBe(202);
  });
});

describe("the flood guard on key lookups (the KEY_LOOKUPS Rate Limiting binding)", () => {
  it("answers 429 rate_limited to one address once it looked up 100 unknown keys in a minute, and never before", async () => {
    // Each id is new, so each lookup misses the cache, reaches the registry and finds no key.
    const ns = freshNamespace("keys");
    const address = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    // 250 lookups: the binding's window is the wall clock's minute, so one boundary may fall in
    // between; even then the first refusal comes after 100 lookups, and one comes within 250.
    for (let i = 0; i < 250 && !statuses.includes(429); i += 1) {
      const id = i.toString(16).padStart(16, "0");
      const res = await call("GET", `/v1/namespaces/${ns}/stats`, { headers: { ...bearer(`tk_${id}_${"A".repeat(43)}`), "CF-Connecting-IP": address } });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(await expectError(res, 429, "rate_limited")).toMatchObject({ limit: "keyLookups", retryAfterSeconds: 60 });
        expect(res.headers.get("Retry-After")).toBe("60");
      }
    }
    const first = statuses.indexOf(429);
    expect(first).toBeGreaterThanOrEqual(100);
    expect(statuses.slice(0, first).every((s) => s === 401)).toBe(true);
    // Another address is not refused for it.
    const other = await call("GET", `/v1/namespaces/${ns}/stats`, { headers: { ...bearer(`tk_${"f".repeat(16)}_${"A".repeat(43)}`), "CF-Connecting-IP": "203.0.113.9" } });
    expect(other.status).toBe(401);
  });
});

function ingestWith(key: string, ns: string) {
  return withKey(key, "POST", `/v1/namespaces/${ns}/events`, { events: [{ item: "a" }] });
}
