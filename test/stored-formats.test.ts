/**
 * An object restarts from checked-in stored rows, of the current format (1) and of the format
 * before it (0, upgraded by migration 0002), and answers what those rows hold. The fixtures and
 * the events they were made of are described in test/fixtures/README.md.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_CONFIG, type NamespaceConfig, type StatsSnapshot, type TrendingSnapshot } from "../src/shared/contract";
import { MIGRATIONS, migrate } from "../durable-objects/migrations";
import bucketV0 from "./fixtures/format-0/bucket.json";
import bucketV1 from "./fixtures/format-1/bucket.json";
import bucketReachV1 from "./fixtures/format-1/bucket-reach.json";
import configV1 from "./fixtures/format-1/meta-config.json";
import pendingV1 from "./fixtures/format-1/pending-event.json";
import { admin, freshNamespace, get, json, stubOf } from "./support/http";

const BUCKET_START = Date.UTC(2026, 10, 21, 12, 0);
/** Five minutes after the bucket began: the pending event (12:03) is due, the 1h window holds all. */
const NOW = BUCKET_START + 5 * 60_000;

afterEach(() => {
  vi.useRealTimers();
});

/** What the fixtures hold, from their events: 297 views (weight 1) and 3 likes (weight 2) in the
 * bucket, plus the pending view of weight 4; items a–f and "soon"; 300 actors and "actor-soon". */
async function expectFixtureAnswers(ns: string): Promise<void> {
  const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "1h" }));
  expect(stats.events).toBe(301);
  expect(stats.byType).toEqual({ view: { events: 298, weight: 301 }, like: { events: 3, weight: 6 } });
  expect(stats.uniqueItems).toBe(7);
  expect(Math.abs(stats.uniqueActors - 301) / 301).toBeLessThan(0.02);
  const likes = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", type: "like" }));
  expect(likes.items).toEqual([{ item: "b", score: 6, error: 0 }]);
  const top = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h" }));
  expect(top.items[0]).toMatchObject({ item: "a" });
  expect(top.items[0]!.score - top.items[0]!.error).toBeLessThanOrEqual(292);
  expect(top.items[0]!.score).toBeGreaterThanOrEqual(292);
  // Written before buckets kept their (item, actor) pairs: its reach is unknown, bounded by its 300
  // events, and said to be inexact; the pending event's own minute has its pair.
  const reach = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", rank: "reach" }));
  expect(reach.exact).toBe(false);
  expect(reach.items).toEqual([{ item: "soon", score: 301, error: 300 }]);
  // Fields added since the fixture was written (hotHalfLifeSeconds) read as their defaults.
  expect(await json<NamespaceConfig>(await admin("GET", ns, "config"))).toEqual({ ...DEFAULT_CONFIG, ...configV1.value });
}

/** A namespace whose storage holds, at NOW, the config fixture, `bucket` as the one minute row of
 * format 1, and the pending fixture if asked; evicted, so that start-up loads them. */
async function storedFormat1(prefix: string, bucket: unknown, pending: boolean): Promise<string> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  const ns = freshNamespace(prefix);
  await runInDurableObject(stubOf(ns), (_, state) => {
    migrate(state.storage);
    const sql = state.storage.sql;
    sql.exec("INSERT INTO meta (key, value) VALUES ('createdAt', ?), ('config', ?)", JSON.stringify({ v: 1, value: BUCKET_START }), JSON.stringify(configV1));
    sql.exec("INSERT INTO bucket_parts (tier, start, part, parts, data) VALUES ('minute', ?, 0, 1, ?)", BUCKET_START, JSON.stringify(bucket));
    if (pending) sql.exec("INSERT INTO pending_events (ts, format, event) VALUES (?, ?, ?)", pendingV1.event.ts, pendingV1.format, JSON.stringify(pendingV1.event));
  });
  await evictDurableObject(stubOf(ns));
  return ns;
}

describe("stored rows of format 1", () => {
  it("are loaded by start-up, and answered from", async () => {
    await expectFixtureAnswers(await storedFormat1("format-1", bucketV1, true));
  });
});

describe("stored rows of format 0", () => {
  it("are upgraded by migration 0002, losing nothing", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
    const ns = freshNamespace("format-0");
    await runInDurableObject(stubOf(ns), (_, state) => {
      expect(migrate(state.storage, MIGRATIONS.slice(0, 1))).toEqual(["0001_init"]);
      const sql = state.storage.sql;
      sql.exec(
        "INSERT INTO meta (key, value) VALUES ('createdAt', ?), ('config', ?), ('pending', ?)",
        JSON.stringify(BUCKET_START),
        JSON.stringify(configV1.value),
        JSON.stringify([pendingV1.event]),
      );
      sql.exec("INSERT INTO buckets (tier, start, state) VALUES ('minute', ?, ?)", BUCKET_START, JSON.stringify(bucketV0));
    });
    await evictDurableObject(stubOf(ns));
    await expectFixtureAnswers(ns);
    const rows = await runInDurableObject(stubOf(ns), (_, state) => ({
      legacy: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name IN ('buckets', 'snapshots')").toArray().length,
      bucket: JSON.parse(state.storage.sql.exec<{ data: string }>("SELECT data FROM bucket_parts").one().data) as unknown,
    }));
    expect(rows.legacy).toBe(0);
    expect(rows.bucket).toEqual(bucketV1); // format 0 plus its versions is format 1, field for field
  });
});

describe("a stored bucket of format 1 with its pair sample (v1.5)", () => {
  it("is loaded by start-up, and rank=reach answers exactly from it", async () => {
    const ns = await storedFormat1("format-1-reach", bucketReachV1, false);
    const reach = async (type?: string) => {
      const body = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", rank: "reach", ...(type ? { type } : {}) }));
      expect(body.exact).toBe(true);
      return body.items;
    };
    expect(await reach()).toEqual([
      { item: "a", score: 5, error: 0 },
      { item: "b", score: 3, error: 0 },
      { item: "c", score: 1, error: 0 },
    ]);
    expect(await reach("view")).toEqual([
      { item: "a", score: 5, error: 0 },
      { item: "c", score: 1, error: 0 },
    ]);
    expect(await reach("like")).toEqual([
      { item: "b", score: 3, error: 0 },
      { item: "c", score: 1, error: 0 },
    ]);
    const top = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h" }));
    expect(top.items.map((i) => [i.item, i.score])).toEqual([["a", 20], ["c", 12], ["b", 6], ["d", 2]]);
  });
});
