/**
 * Nothing acknowledged is ever lost: a failed checkpoint, future-stamped events in bulk, the
 * largest config the service accepts (with and without dimensions), a stored format this build does not know, and a config
 * change all leave every acknowledged event counted after a restart. Every SQLite write passes
 * the 2 MB row guard (durable-objects/guarded-sql.ts), which local workerd does not enforce.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_CONFIG, MAX_DIMENSION_VALUES, MAX_DIMENSIONS, MAX_VALUE_BYTES } from "../src/shared/contract";
import type { CacheReport, DimensionSnapshot, SegmentStatsSnapshot, SegmentTrendingSnapshot, StatsSnapshot, TrendingSnapshot } from "../src/shared/contract";
import { widestDimensionCapacity } from "../src/core/config";
import { maxCapacityWithin } from "../src/core/budget";
import { MEMORY_BUDGET_BYTES } from "../src/core/memory";
import { MAX_ROW_BYTES } from "../durable-objects/guarded-sql";
import { failCheckpoints } from "./support/faulty-objects";
import { env } from "cloudflare:test";
import {
  TOKENS,
  admin,
  bearer,
  expectError,
  fetchWith,
  freshNamespace,
  get,
  ingestAll,
  json,
  refresh,
  stubOf,
  type EventInput,
} from "./support/http";

const MINUTE = 60_000;

afterEach(() => {
  vi.useRealTimers();
});

async function cacheOf(ns: string): Promise<CacheReport> {
  return json<CacheReport>(await admin("GET", ns, "cache"));
}

/** Events and weight of the 30-day window, read after a refresh of the restarted object. */
async function countedAfterRestart(ns: string) {
  await evictDurableObject(stubOf(ns));
  await refresh(ns);
  const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "30d" }));
  return { events: stats.events, weight: stats.weight, byType: stats.byType };
}

const plain = (prefix: string, n: number): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({ item: `${prefix}-${i % 11}`, weight: 1 + (i % 3) }));
const weightOf = (events: EventInput[]) => events.reduce((s, e) => s + (e.weight ?? 1), 0);

describe("a checkpoint that fails", () => {
  it("loses nothing: the next checkpoint writes all of it again before the log is dropped", async () => {
    const ns = freshNamespace("fails-once");
    // Three days back: buckets of every tier that the later events never touch again, so only a
    // checkpoint that kept them unsaved after its failure writes them.
    const first = plain("a", 3000).map((e) => ({ ...e, ts: Date.now() - 3 * 86_400_000 }));
    await ingestAll(ns, first);
    await failCheckpoints(stubOf(ns));
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const failed = await cacheOf(ns);
    expect(failed.checkpointErrors).toBe(1);
    expect(failed.lastCheckpoint).toMatchObject({ outcome: "error", error: "injected storage fault at checkpoint" });
    // The refresh went on: the snapshots were computed from memory and are served.
    expect(failed.lastRefresh).toMatchObject({ outcome: "ok" });
    expect((await json<StatsSnapshot>(await get(ns, "stats", { window: "7d" }))).events).toBe(3000);

    const second = plain("b", 500);
    await ingestAll(ns, second);
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    expect((await cacheOf(ns)).lastCheckpoint).toMatchObject({ outcome: "ok" });
    const log = await runInDurableObject(stubOf(ns), (_, state) => state.storage.sql.exec("SELECT * FROM batch_log").toArray().length);
    expect(log).toBe(0);
    expect(await countedAfterRestart(ns)).toMatchObject({ events: 3500, weight: weightOf(first) + weightOf(second) });
  });

  it("loses nothing when the object restarts before any checkpoint succeeds", async () => {
    const ns = freshNamespace("fails-then-dies");
    const events = plain("a", 2000);
    await ingestAll(ns, events);
    await failCheckpoints(stubOf(ns), 3);
    for (let i = 0; i < 3; i++) await runDurableObjectAlarm(stubOf(ns));
    expect((await cacheOf(ns)).checkpointErrors).toBe(3);
    expect(await countedAfterRestart(ns)).toMatchObject({ events: 2000, weight: weightOf(events) });
  });
});

describe("future-stamped events in bulk (any ingest token, default config)", () => {
  it("are stored one a row, and every acknowledged event is counted once time reaches it", async () => {
    const ns = freshNamespace("future-attack");
    const now = Date.now();
    const long = (c: string, i: number) => `${c}${i}-`.padEnd(250, c);
    const ahead: EventInput[] = Array.from({ length: 16_000 }, (_, i) => ({
      item: long("i", i % 4000),
      actor: long("u", i),
      ts: now + 4.5 * MINUTE,
    }));
    await ingestAll(ns, ahead);
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const meanwhile = plain("m", 1100);
    await ingestAll(ns, meanwhile);
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const report = await cacheOf(ns);
    expect(report.checkpointErrors).toBe(0);
    expect(report.storage.largestRowBytes).toBeLessThanOrEqual(MAX_ROW_BYTES);
    const stored = await runInDurableObject(stubOf(ns), (_, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM pending_events").one().n,
    );
    expect(stored).toBe(16_000);

    expect((await countedAfterRestart(ns)).events).toBe(1100); // still ahead of the clock
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(now + 5 * MINUTE);
    expect((await countedAfterRestart(ns)).events).toBe(17_100);
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const left = await runInDurableObject(stubOf(ns), (_, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM pending_events").one().n,
    );
    expect(left).toBe(0); // counted into buckets, so their rows went in the same checkpoint
    expect((await countedAfterRestart(ns)).events).toBe(17_100);
  });
});

describe("the widest accepted config", () => {
  it("refuses 50000 × 32 types, whose worst case cannot fit the memory budget, naming the field and the estimate", async () => {
    const types = Object.fromEntries(Array.from({ length: 32 }, (_, t) => [`type-${t}`, {}]));
    const body = await expectError(await admin("PUT", freshNamespace("too-wide"), "config", { capacity: 50_000, types }), 400, "invalid_config");
    expect(body.field).toBe("capacity");
    expect(body.message).toMatch(/MB/);
  });

  it("checkpoints in parts under 2 MB and reloads identically: 32 types, the largest capacity accepted, 256-byte items", async () => {
    const ns = freshNamespace("widest");
    const types = Array.from({ length: 32 }, (_, t) => `type-${t}`);
    const capacity = maxCapacityWithin(MEMORY_BUDGET_BYTES, types.length);
    const config = { capacity, maxLimit: 1000, types: Object.fromEntries(types.map((t) => [t, {}])) };
    expect((await admin("PUT", ns, "config", config)).status).toBe(200);
    // Every type's summary full of its own distinct items of 256 bytes of UTF-8 (2-byte characters
    // mostly): each bucket holds 33 summaries, several MB of state.
    const events: EventInput[] = Array.from({ length: capacity * types.length }, (_, i) => ({
      item: `${String(i).padStart(6, "0")}·${"é".repeat(124)}`,
      type: types[i % types.length]!,
      weight: 1 + (i % 7),
    }));
    expect(events.every((e) => new TextEncoder().encode(e.item).length === 256)).toBe(true);
    await ingestAll(ns, events);
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const report = await cacheOf(ns);
    expect(report.checkpointErrors).toBe(0);
    expect(report.storage.largestRowBytes).toBeLessThanOrEqual(MAX_ROW_BYTES);
    // The object accounts for what it holds, and holds it within its budget (docs/api.md, "Resource limits").
    expect(report.memory.budgetBytes).toBe(MEMORY_BUDGET_BYTES);
    expect(report.memory.bytes).toBeGreaterThan(events.length * 256); // every item is held once at least
    expect(report.memory.bytes).toBeLessThanOrEqual(report.memory.budgetBytes);
    const parts = await runInDurableObject(stubOf(ns), (_, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT max(parts) AS n FROM bucket_parts").one().n,
    );
    expect(parts).toBeGreaterThan(2); // a bucket of several MB went in several parts

    const read = async () => ({
      top: await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", limit: 1000 })),
      typed: (await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", type: "type-5", limit: 1000 }))).items,
    });
    await refresh(ns);
    const before = await read();
    // Each type's summary holds all of its items: exact, heaviest first.
    const ofType5 = events.filter((e) => e.type === "type-5");
    expect(before.typed.length).toBe(Math.min(1000, ofType5.length));
    expect(before.typed.every((i) => i.error === 0)).toBe(true);
    expect(before.typed[0]!.score).toBe(Math.max(...ofType5.map((e) => e.weight ?? 1)));
    expect((await countedAfterRestart(ns)).events).toBe(events.length);
    const after = await read();
    expect(after.typed).toEqual(before.typed);
    expect(after.top.items).toEqual(before.top.items);
  }, 240_000);

  it.each([1, 4])(
    "checkpoints in parts under 2 MB within the memory budget, and reloads identically: 8 multi-valued dimensions as wide as accepted, 64 values of 128 bytes an event, ingestShards %i",
    async (ingestShards) => {
      const ns = freshNamespace(`widest-dimensions-k${ingestShards}`);
      const names = Array.from({ length: MAX_DIMENSIONS }, (_, d) => `d${d}`);
      const each = widestDimensionCapacity(names.length, DEFAULT_CONFIG.capacity, Object.keys(DEFAULT_CONFIG.types).length);
      const dimensions = Object.fromEntries(names.map((n) => [n, { multi: true, capacity: each }]));
      expect((await admin("PUT", ns, "config", { maxLimit: 1000, ingestShards, dimensions })).status).toBe(200);
      // Enough events of 8 new longest values in every dimension to fill each dimension's summaries
      // (values, and (value, item) pairs) twice over, then as many new items as the capacity.
      let next = 0;
      const value = () => `${String(next++).padStart(6, "0")}·${"é".repeat((MAX_VALUE_BYTES - 8) / 2)}`;
      const item = (i: number) => `${String(i).padStart(6, "0")}·${"é".repeat(124)}`;
      const withValues = Math.ceil((2 * each) / MAX_DIMENSION_VALUES);
      const valued: EventInput[] = Array.from({ length: withValues }, (_, i) => ({
        item: item(i),
        weight: 1 + (i % 7),
        dims: Object.fromEntries(names.map((n) => [n, Array.from({ length: MAX_DIMENSION_VALUES }, value)])),
      }));
      expect(new TextEncoder().encode(valued[0]!.dims!.d0![0]).length).toBe(MAX_VALUE_BYTES);
      // Fifty such events a request keep its body under 1 MB.
      for (let i = 0; i < valued.length; i += 50) await ingestAll(ns, valued.slice(i, i + 50));
      await ingestAll(ns, Array.from({ length: DEFAULT_CONFIG.capacity }, (_, i) => ({ item: item(withValues + i), weight: 1 + (i % 7) })));
      await refresh(ns);
      expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
      const report = await cacheOf(ns);
      expect(report.checkpointErrors).toBe(0);
      expect(report.lastCheckpoint).toMatchObject({ outcome: "ok" });
      expect(report.storage.largestRowBytes).toBeLessThanOrEqual(MAX_ROW_BYTES);
      expect(report.memory.bytes).toBeGreaterThan(names.length * each * (MAX_VALUE_BYTES + 256)); // every pair summary full
      expect(report.memory.bytes).toBeLessThanOrEqual(report.memory.budgetBytes);

      // What was counted, without the instant it was computed at (a restart computes it anew).
      const read = async () => {
        const breakdown = await json<DimensionSnapshot>(await get(ns, "dimensions/d5", { window: "1h", limit: 1000 }));
        const segment = await json<SegmentTrendingSnapshot>(await get(ns, "trending", { window: "1h", segment: `d5:${valued[3]!.dims!.d5![2]}`, limit: 1000 }));
        const stats = await json<SegmentStatsSnapshot>(await get(ns, "stats", { window: "1h", segment: `d7:${valued[0]!.dims!.d7![0]}` }));
        return {
          breakdown: { values: breakdown.values, exact: breakdown.exact },
          segment: { items: segment.items, exact: segment.exact, floor: segment.floor },
          stats: { events: stats.events, weight: stats.weight, error: stats.error, uniqueItems: stats.uniqueItems, exact: stats.exact },
        };
      };
      const before = await read();
      // More distinct values than counters: bounded, and saying so.
      expect(before.breakdown.exact).toBe(false);
      expect(before.breakdown.values.length).toBe(each);
      expect(before.segment.items.every((i) => i.score - i.error <= valued[3]!.weight!)).toBe(true);
      expect(before.stats.weight).toBeGreaterThanOrEqual(valued[0]!.weight!);
      expect((await countedAfterRestart(ns)).events).toBe(valued.length + DEFAULT_CONFIG.capacity);
      expect(await read()).toEqual(before);
    },
    240_000,
  );
});

describe("stored formats", () => {
  it("refuse to start on a bucket of an unknown version, loudly and without guessing", async () => {
    const ns = freshNamespace("unknown-format");
    await ingestAll(ns, plain("a", 10));
    await runDurableObjectAlarm(stubOf(ns));
    await runInDurableObject(stubOf(ns), (_, state) => {
      state.storage.sql.exec("UPDATE bucket_parts SET data = json_set(data, '$.v', 99)");
    });
    await evictDurableObject(stubOf(ns));
    const body = await expectError(await get(ns, "stats"), 500, "internal");
    expect(body.message).toMatch(/not of the request/);
    expect((await get(ns, "stats")).headers.get("Retry-After")).toBeNull();
  });

  it("refuse a pending event or a meta value of an unknown version", async () => {
    for (const corrupt of [
      "UPDATE pending_events SET format = 7",
      "UPDATE meta SET value = json_set(value, '$.v', 7) WHERE key = 'generation'",
    ]) {
      const ns = freshNamespace("unknown-format");
      await ingestAll(ns, [{ item: "later", ts: Date.now() + 4 * MINUTE }, { item: "now" }]);
      await runDurableObjectAlarm(stubOf(ns));
      await runInDurableObject(stubOf(ns), (_, state) => {
        state.storage.sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '{\"v\":1,\"value\":0}')");
        state.storage.sql.exec(corrupt);
      });
      await evictDurableObject(stubOf(ns));
      await expectError(await get(ns, "stats"), 500, "internal");
    }
  });
});

describe("the refresh loop after a config change", () => {
  it("follows the new period at once: from an hour to ten seconds", async () => {
    const ns = freshNamespace("period");
    expect((await admin("PUT", ns, "config", { refreshSeconds: 3600 })).status).toBe(200);
    await ingestAll(ns, [{ item: "a" }]);
    const alarm = () => runInDurableObject(stubOf(ns), (_, state) => state.storage.getAlarm());
    expect(await alarm()).toBeGreaterThan(Date.now() + 60 * MINUTE * 0.85);
    const changed = Date.now();
    expect((await admin("PUT", ns, "config", { refreshSeconds: 10 })).status).toBe(200);
    const next = (await alarm())!;
    expect(next).toBeGreaterThan(changed);
    expect(next).toBeLessThanOrEqual(Date.now() + 10_000);
  });
});

describe("type names", () => {
  it("are data: a type named like an Object member round-trips through stats, the dashboard and a checkpoint", async () => {
    const ns = freshNamespace("proto-types");
    const names = ["constructor", "hasownproperty", "valueof", "tostring", "isprototypeof"];
    expect((await admin("PUT", ns, "config", { types: { constructor: { weight: 3 } } })).status).toBe(200);
    await ingestAll(ns, names.flatMap((type, i) => Array.from({ length: i + 1 }, () => ({ item: `x-${type}`, type }))));
    const expected = Object.fromEntries(names.map((type, i) => [type, { events: i + 1, weight: type === "constructor" ? 3 : i + 1 }]));
    await refresh(ns);
    expect((await json<StatsSnapshot>(await get(ns, "stats", { window: "1h" }))).byType).toEqual(expected);
    const dashboard = await json<{ windows: Record<string, { stats: StatsSnapshot }> }>(await get(ns, "dashboard"));
    expect(dashboard.windows["1h"]!.stats.byType).toEqual(expected);
    expect((await json<TrendingSnapshot>(await get(ns, "trending", { type: "constructor" }))).items).toEqual([
      { item: "x-constructor", score: 3, error: 0 },
    ]);
    await runDurableObjectAlarm(stubOf(ns));
    expect((await countedAfterRestart(ns)).byType).toEqual(expected);
  });
});

describe("failures at the RPC boundary", () => {
  /** An AGGREGATOR binding whose every call throws `error`, as the platform would. */
  const failingWith = (error: Error) =>
    ({
      idFromName: (name: string) => env.AGGREGATOR.idFromName(name),
      get: () => new Proxy({}, { get: () => () => Promise.reject(error) }),
    }) as unknown as Env["AGGREGATOR"];
  const post = (binding: Env["AGGREGATOR"]) =>
    fetchWith({ AGGREGATOR: binding }, `/v1/namespaces/${freshNamespace("rpc")}/events`, {
      method: "POST",
      headers: { ...bearer(TOKENS.ingest), "Content-Type": "application/json" },
      body: JSON.stringify({ events: [{ item: "a" }] }),
    });

  it("answer 503 with Retry-After for a platform condition that clears (an overloaded object)", async () => {
    const res = await post(failingWith(Object.assign(new Error("Durable Object is overloaded."), { overloaded: true })));
    expect(res.headers.get("Retry-After")).toBe("1");
    await expectError(res, 503, "unavailable");
  });

  it("answer 500 internal, inviting no retry, for an exception of the object's own code", async () => {
    const res = await post(failingWith(Object.assign(new Error("x is not a function"), { remote: true })));
    expect(res.headers.get("Retry-After")).toBeNull();
    const body = await expectError(res, 500, "internal");
    expect(body.message).not.toMatch(/retry/i);
  });
});

describe("a name that never received an event", () => {
  it("gets no database, no table and no alarm from reads, describe or admin calls", async () => {
    const ns = freshNamespace("nobody");
    for (const path of ["trending", "stats", "dashboard"]) expect((await get(ns, path)).status).toBe(404);
    for (const [method, path] of [["GET", "cache"], ["POST", "refresh"], ["POST", "invalidate"], ["DELETE", ""]] as const) {
      expect((await admin(method, ns, path)).status).toBe(404);
    }
    expect((await admin("GET", ns, "config")).status).toBe(200);
    const left = await runInDurableObject(stubOf(ns), async (_, state) => ({
      tables: state.storage.sql.exec("SELECT name FROM sqlite_master").toArray().length,
      alarm: await state.storage.getAlarm(),
    }));
    expect(left).toEqual({ tables: 0, alarm: null });
  });
});
