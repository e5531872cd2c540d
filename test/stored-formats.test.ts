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
import logRowV1 from "./fixtures/format-1/batch-log-row.json";
import logRowV2 from "./fixtures/format-2/batch-log-row.json";
import logRowV3 from "./fixtures/format-3/batch-log-row.json";
import { decodeLogRow, encodeLogRow } from "../durable-objects/batch-log";
import type { TallyEvent } from "../src/shared/contract";
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

/** A namespace whose storage holds, at NOW, the config fixture and what `write` adds; evicted, so
 * that start-up loads them. */
async function storedAtNow(prefix: string, write: (sql: SqlStorage) => void, config: typeof configV1 = configV1): Promise<string> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  const ns = freshNamespace(prefix);
  await runInDurableObject(stubOf(ns), (_, state) => {
    migrate(state.storage);
    const sql = state.storage.sql;
    sql.exec("INSERT INTO meta (key, value) VALUES ('createdAt', ?), ('config', ?)", JSON.stringify({ v: 1, value: BUCKET_START }), JSON.stringify(config));
    write(sql);
  });
  await evictDurableObject(stubOf(ns));
  return ns;
}

/** The same, with `bucket` as the one minute row of format 1, and the pending fixture if asked. */
function storedFormat1(prefix: string, bucket: unknown, pending: boolean): Promise<string> {
  return storedAtNow(prefix, (sql) => {
    sql.exec("INSERT INTO bucket_parts (tier, start, part, parts, data) VALUES ('minute', ?, 0, 1, ?)", BUCKET_START, JSON.stringify(bucket));
    if (pending) sql.exec("INSERT INTO pending_events (ts, format, event) VALUES (?, ?, ?)", pendingV1.event.ts, pendingV1.format, JSON.stringify(pendingV1.event));
  });
}

describe("batch log rows, of format 2 (columns) and of format 1 (an object per event)", () => {
  it("are replayed by start-up, each event once, with its weight, actor and time", async () => {
    const ns = await storedAtNow("log-rows", (sql) => {
      for (const row of [logRowV1, logRowV2]) sql.exec("INSERT INTO batch_log (accepted_at, events) VALUES (?, ?)", row.accepted_at, row.events);
    });
    // The rows' events (test/fixtures/README.md): x ×4 (view) by p, q, r and p; y (like, 2); z (like, 3); é-ünï (view).
    const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "1h" }));
    expect(stats.events).toBe(7);
    expect(stats.byType).toEqual({ view: { events: 5, weight: 5 }, like: { events: 2, weight: 5 } });
    expect(stats.uniqueItems).toBe(4);
    expect(stats.uniqueActors).toBe(4);
    const top = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h" }));
    expect(top.items.map(({ item, score, error }) => ({ item, score, error }))).toEqual([
      { item: "x", score: 4, error: 0 },
      { item: "z", score: 3, error: 0 },
      { item: "y", score: 2, error: 0 },
      { item: "é-ünï", score: 1, error: 0 },
    ]);
    const reach = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", rank: "reach" }));
    expect(reach.items[0]).toEqual({ item: "x", score: 3, error: 0 });
    const minutes = stats.series.filter((p) => p.events > 0).map((p) => [p.start, p.events]);
    expect(minutes).toEqual([[new Date(BUCKET_START).toISOString(), 3], [new Date(BUCKET_START + 60_000).toISOString(), 4]]);
  });

  it("of format 2 give back exactly the events written, with or without actors, in any script", () => {
    const events: TallyEvent[] = [
      { item: "a", type: "view", weight: 1, actor: "u1", ts: 1_795_262_460_123 },
      { item: "日本語 😀", type: "like", weight: 2.5, ts: 1_795_262_460_000 },
      { item: "a", type: "view", weight: 1e6, actor: "u2", ts: 1_795_262_470_999 },
    ];
    expect(decodeLogRow(encodeLogRow(events))).toEqual(events);
    expect(decodeLogRow(encodeLogRow([]))).toEqual([]);
    // Less than half the text of an object per event, for a batch like a client's.
    const batch = Array.from({ length: 1000 }, (_, i): TallyEvent => ({ item: `item-${i * 7919}`, type: i % 10 ? "view" : "like", weight: 1, actor: `u${i % 500}`, ts: 1_795_262_460_000 + i * 997 }));
    expect(encodeLogRow(batch).length).toBeLessThan(JSON.stringify(batch).length / 2);
  });

  it("of an unknown format are refused, never guessed", () => {
    expect(() => decodeLogRow(JSON.stringify({ v: 4, items: [] }))).toThrow(/batch log row has format 4/);
    const row = JSON.parse(logRowV2.events) as { ts: number[] };
    row.ts.pop();
    expect(() => decodeLogRow(JSON.stringify(row))).toThrow(/columns differ in length/);
  });
});

describe("batch log rows of format 3 (v1.7: columns with dims)", () => {
  /** The events of the format-3 fixture (test/fixtures/README.md). */
  const at = Date.UTC(2026, 10, 21, 12, 2);
  const fixtureEvents: TallyEvent[] = [
    { item: "x", type: "view", weight: 1, actor: "r", ts: at, dims: { category: ["comedy"], tag: ["cats", "funny"] } },
    { item: "z", type: "like", weight: 3, ts: at + 1000 },
    { item: "x", type: "view", weight: 1, actor: "p", ts: at + 2000, dims: { tag: ["cats"] } },
    { item: "é-ünï", type: "view", weight: 1, actor: "s", ts: at + 3000, dims: { category: ["drama"], tag: ["日本", "cats"] } },
  ];
  const withDimensions = { ...configV1, value: { ...configV1.value, dimensions: { category: {}, tag: { multi: true } } } };

  it("give back exactly the events they were written from, and an event without dims has no dims key", () => {
    const events = decodeLogRow(logRowV3.events);
    expect(events).toStrictEqual(fixtureEvents);
    expect("dims" in events[1]!).toBe(false);
  });

  it("are replayed by start-up into the segments of their dims", async () => {
    const ns = await storedAtNow("log-rows-dims", (sql) => sql.exec("INSERT INTO batch_log (accepted_at, events) VALUES (?, ?)", logRowV3.accepted_at, logRowV3.events), withDimensions as typeof configV1);
    const segment = async (s: string) => {
      const body = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", segment: s }));
      return body.items.map((i) => [i.item, i.score]);
    };
    expect(await segment("tag:cats")).toEqual([["x", 2], ["é-ünï", 1]]);
    expect(await segment("tag:funny")).toEqual([["x", 1]]);
    expect(await segment("category:drama")).toEqual([["é-ünï", 1]]);
    expect(await segment("tag:日本")).toEqual([["é-ünï", 1]]);
    expect((await json<StatsSnapshot>(await get(ns, "stats", { window: "1h" }))).events).toBe(4);
  });

  it("are written only where an event has dims: a row without any is format 2, as before, byte for byte", () => {
    expect(encodeLogRow(decodeLogRow(logRowV3.events))).toBe(logRowV3.events);
    expect(encodeLogRow(decodeLogRow(logRowV2.events))).toBe(logRowV2.events);
    const plain = fixtureEvents.map(({ dims: _dims, ...event }) => event);
    expect((JSON.parse(encodeLogRow(plain)) as { v: number }).v).toBe(2);
    expect(JSON.parse(encodeLogRow(plain))).not.toHaveProperty("dims");
    expect(decodeLogRow(encodeLogRow(plain))).toStrictEqual(plain);
    const one = [...plain.slice(0, 3), fixtureEvents[3]!];
    expect((JSON.parse(encodeLogRow(one)) as { v: number; dims: unknown[] }).dims).toEqual([null, null, null, fixtureEvents[3]!.dims]);
    expect(decodeLogRow(encodeLogRow(one))).toStrictEqual(one);
  });

  it("with a dims column of another length, or none, are refused", () => {
    const row = JSON.parse(logRowV3.events) as { dims?: unknown[] };
    row.dims!.pop();
    expect(() => decodeLogRow(JSON.stringify(row))).toThrow(/columns differ in length/);
    delete row.dims;
    expect(() => decodeLogRow(JSON.stringify(row))).toThrow(/columns differ in length/);
  });
});

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
