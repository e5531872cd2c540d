/**
 * Memory is a cache of SQLite: eviction, an abort (a crash or a deploy) and a restart lose
 * nothing and double nothing, before and after a checkpoint. Migrations run once.
 */
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { StatsSnapshot, TrendingSnapshot } from "../src/shared/contract";
import { MIGRATIONS, migrate } from "../durable-objects/migrations";
import { freshNamespace, get, ingest, ingestAll, json, refresh, stubOf, type EventInput } from "./support/http";

/** The state as read after a refresh: cached copies older than a refresh are never served, so
 * every read reflects what the object rebuilt. */
async function stateOf(ns: string) {
  await refresh(ns);
  const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "30d" }));
  const top = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", limit: 100 }));
  return { events: stats.events, weight: stats.weight, byType: stats.byType, items: top.items };
}

const batch = (prefix: string, n: number): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({ item: `${prefix}-${i % 7}`, weight: 1 + (i % 3), type: i % 2 ? "view" : "like" }));

describe("the namespace's state", () => {
  it("survives eviction with the batch log alone (before any checkpoint)", async () => {
    const ns = freshNamespace("durable");
    await ingestAll(ns, batch("a", 50));
    const stub = stubOf(ns);
    await evictDurableObject(stub);
    const after = await stateOf(ns);
    expect(after.events).toBe(50);
    expect(after.weight).toBe(batch("a", 50).reduce((s, e) => s + (e.weight ?? 1), 0));
  });

  it("survives eviction after a checkpoint, with later batches replayed once", async () => {
    const ns = freshNamespace("durable");
    await ingestAll(ns, batch("a", 40));
    const before = await stateOf(ns); // the refresh checkpoints and truncates the log
    await ingestAll(ns, batch("b", 30));
    const expected = await stateOf(ns);
    expect(expected.events).toBe(before.events + 30);
    await evictDurableObject(stubOf(ns));
    expect(await stateOf(ns)).toEqual(expected);
  });

  it("survives every object being aborted, with nothing lost or doubled", async () => {
    const ns = freshNamespace("durable");
    await ingestAll(ns, batch("a", 60));
    await stateOf(ns);
    await ingestAll(ns, batch("b", 25));
    const expected = await stateOf(ns);
    await ingest(ns, batch("c", 5)); // logged, not yet checkpointed
    await abortAllDurableObjects();
    const after = await stateOf(ns);
    expect(after.events).toBe(expected.events + 5);
    await evictDurableObject(stubOf(ns));
    expect(await stateOf(ns)).toEqual(after);
  });

  it("remembers batch ids across eviction, so a retry is still a duplicate", async () => {
    const ns = freshNamespace("durable");
    await ingest(ns, batch("a", 3), { batchId: "kept" });
    await evictDurableObject(stubOf(ns));
    const retry = await ingest(ns, batch("a", 3), { batchId: "kept" });
    expect(await json(retry)).toEqual({ accepted: 3, duplicate: true });
    expect((await stateOf(ns)).events).toBe(3);
  });

  it("is checkpointed by the alarm, leaving an empty batch log", async () => {
    const ns = freshNamespace("durable");
    await ingestAll(ns, batch("a", 20));
    const stub = stubOf(ns);
    expect(await runInDurableObject(stub, (_, state) => state.storage.sql.exec("SELECT * FROM batch_log").toArray().length)).toBe(1);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rows = await runInDurableObject(stub, (_, state) => ({
      log: state.storage.sql.exec("SELECT * FROM batch_log").toArray().length,
      buckets: state.storage.sql.exec("SELECT * FROM bucket_parts").toArray().length,
    }));
    expect(rows.log).toBe(0);
    expect(rows.buckets).toBeGreaterThan(0);
  });
});

describe("migrations", () => {
  it("run once, are recorded, and applying them again changes nothing", async () => {
    const ns = freshNamespace("migrate");
    await ingest(ns, [{ item: "a" }]);
    const stub = stubOf(ns);
    await evictDurableObject(stub);
    await ingest(ns, [{ item: "b" }]);
    await runInDurableObject(stub, (_, state) => {
      const recorded = state.storage.sql.exec<{ name: string }>("SELECT name FROM _migrations ORDER BY name").toArray();
      expect(recorded.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
      expect(migrate(state.storage)).toEqual([]);
      // The schema itself is idempotent too: replaying a file's SQL raises nothing.
      for (const m of MIGRATIONS) state.storage.sql.exec(m.sql);
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM _migrations").one().n).toBe(MIGRATIONS.length);
    });
  });
});
