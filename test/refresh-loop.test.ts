/**
 * The alarm-driven refresh loop: idempotent, self-healing, failure-tolerant, idle when there is
 * nothing to refresh, and mirroring one KV key per snapshot. Alarms are run, never waited for.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_CONFIG, type CacheReport, type ReadQuery, type StatsSnapshot, type TrendingSnapshot } from "../src/shared/contract";
import { plan } from "../src/core/snapshots";
import { mirrorKey, mirrorPrefix, snapshotKey } from "../src/shared/keys";
import { IDLE_STOP_MS } from "../durable-objects/refresh-loop";
import { MAX_DEMANDED } from "../src/core/snapshots";
import { admin, freshNamespace, get, ingest, ingestAll, json, stubOf } from "./support/http";

const DAY = 86_400_000;

afterEach(() => {
  vi.useRealTimers();
});

async function seeded(prefix: string): Promise<string> {
  const ns = freshNamespace(prefix);
  await ingestAll(ns, Array.from({ length: 120 }, (_, i) => ({ item: `item-${i % 9}`, weight: 1 + (i % 2) })));
  return ns;
}

/** The object's own snapshots, read over RPC. */
async function snapshots(ns: string) {
  const stub = stubOf(ns);
  const top = await stub.read({ kind: "trending", window: "1h", rank: "top", type: null });
  const stats = await stub.read({ kind: "stats", window: "24h" });
  if (!top.ok || !stats.ok) throw new Error("read failed");
  return { top: JSON.parse(top.value.body) as TrendingSnapshot, stats: JSON.parse(stats.value.body) as StatsSnapshot };
}

const alarmOf = (ns: string) => runInDurableObject(stubOf(ns), (_, state) => state.storage.getAlarm());

describe("the refresh loop", () => {
  it("is scheduled by the first event, within refreshSeconds", async () => {
    const before = Date.now();
    const ns = await seeded("loop");
    const alarm = await alarmOf(ns);
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeGreaterThan(before);
    expect(alarm!).toBeLessThanOrEqual(Date.now() + DEFAULT_CONFIG.refreshSeconds * 1000);
  });

  it("precomputes every planned snapshot and schedules the next run while data is held", async () => {
    const ns = await seeded("loop");
    const before = Date.now();
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    for (const query of plan(DEFAULT_CONFIG)) {
      const held = await stubOf(ns).read(query);
      if (!held.ok) throw new Error(`read of ${snapshotKey(query)} failed`);
      expect(held.value.source, snapshotKey(query)).toBe("HIT-DO");
      expect(held.value.computedAt, snapshotKey(query)).toBeGreaterThanOrEqual(before);
    }
    const report = await json<CacheReport>(await admin("GET", ns, "cache"));
    expect(report.syncComputes).toBe(0);
    expect(await alarmOf(ns)).not.toBeNull();
  });

  it("counts new events on an alarm, and changes nothing when the same alarm is delivered again", async () => {
    const ns = await seeded("twice");
    await runDurableObjectAlarm(stubOf(ns));
    const first = await snapshots(ns);
    expect(first.stats.events).toBe(120);
    await ingest(ns, [{ item: "late", weight: 1000 }]);
    expect((await snapshots(ns)).stats.events).toBe(120); // not before the next refresh

    // The alarm did its work: the new event is in the snapshots it made.
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const second = await snapshots(ns);
    expect(second.stats.events).toBe(121);
    expect(second.top.items[0]).toMatchObject({ item: "late", score: 1000 });

    // A duplicate delivery (at-least-once) recomputes the same answers.
    await runInDurableObject(stubOf(ns), (_, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const third = await snapshots(ns);
    expect(third.top.items).toEqual(second.top.items);
    expect(third.top.generation).toBe(second.top.generation);
    expect({ events: third.stats.events, weight: third.stats.weight, byType: third.stats.byType }).toEqual({
      events: second.stats.events,
      weight: second.stats.weight,
      byType: second.stats.byType,
    });
  });

  it("keeps an alarm set through many batches, every delivered alarm, and an erase followed by new events", async () => {
    const ns = await seeded("kept");
    for (let round = 0; round < 3; round++) {
      expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
      expect(await alarmOf(ns)).not.toBeNull(); // the delivered alarm set the next one
      await ingest(ns, [{ item: `after-${round}` }]);
      expect(await alarmOf(ns)).not.toBeNull();
    }
    expect((await admin("DELETE", ns, "")).status).toBe(200);
    expect(await alarmOf(ns)).toBeNull(); // the erase deleted it
    await ingest(ns, [{ item: "reborn" }]);
    expect(await alarmOf(ns)).not.toBeNull(); // and the first event of the new generation set one again
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    expect((await snapshots(ns)).top.items.map((i) => i.item)).toEqual(["reborn"]);
  });

  it("heals a lost alarm on restart, from stored state", async () => {
    const ns = await seeded("heal");
    await runInDurableObject(stubOf(ns), (_, state) => state.storage.deleteAlarm());
    expect(await alarmOf(ns)).toBeNull();
    await evictDurableObject(stubOf(ns));
    await get(ns, "stats"); // any call wakes the object, and start-up reschedules
    expect(await alarmOf(ns)).not.toBeNull();
  });

  it("catches, counts and reschedules a failing refresh", async () => {
    // An object whose KV mirror cannot be written (test/support/faulty-objects.ts).
    const stub = env.KV_DOWN.get(env.KV_DOWN.idFromName(freshNamespace("failing")));
    expect(await stub.ingest({ events: [{ item: "a", type: "view", ts: Date.now() }] })).toMatchObject({ ok: true });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();
    const report = await stub.cacheStats();
    if (!report.ok) throw new Error("cacheStats failed");
    expect(report.value.refreshErrors).toBe(1);
    expect(report.value.lastRefresh).toMatchObject({ outcome: "error", error: "injected fault: KV unavailable" });
  });

  it("serves an old snapshot at once and refreshes it once behind a burst of reads", async () => {
    const ns = await seeded("burst");
    await runDurableObjectAlarm(stubOf(ns));
    const before = await json<CacheReport>(await admin("GET", ns, "cache"));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 60_000); // an alarm a minute late
    const stub = stubOf(ns);
    const reads = await Promise.all(
      Array.from({ length: 8 }, () => stub.read({ kind: "trending", window: "24h", rank: "top", type: null })),
    );
    expect(reads.every((r) => r.ok && r.value.source === "HIT-DO")).toBe(true);
    // An admin refresh runs after every refresh already started or queued: so exactly one more
    // than the burst started.
    expect((await admin("POST", ns, "refresh")).status).toBe(200);
    const after = await json<CacheReport>(await admin("GET", ns, "cache"));
    expect(after.refreshes - before.refreshes).toBe(2);
  });

  it("stops scheduling once every window of an idle namespace is empty", async () => {
    const ns = await seeded("idle");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 62 * DAY); // past the 30d window and the period rising compares with
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    expect(await alarmOf(ns)).toBeNull();
    vi.useRealTimers();
    await ingest(ns, [{ item: "back" }]);
    expect(await alarmOf(ns)).not.toBeNull();
  });
});

describe("the KV mirror", () => {
  it("holds one key per snapshot, each carrying the generation", async () => {
    const ns = await seeded("mirror");
    await runDurableObjectAlarm(stubOf(ns));
    const listed = await env.SNAPSHOTS.list({ prefix: mirrorPrefix(ns) });
    const expected = plan(DEFAULT_CONFIG).map((q) => mirrorKey(ns, 0, snapshotKey(q)));
    expect(listed.keys.map((k) => k.name).sort()).toEqual(expected.sort());
    for (const key of listed.keys) expect(key.name).toContain("/g0/");
  });
});

describe("no work for nobody", () => {
  /** Everything the object stores, and the computedAt of every mirrored answer. */
  async function written(ns: string) {
    const rows = await runInDurableObject(stubOf(ns), (_, state) =>
      ["meta", "bucket_parts", "pending_events", "batch_log", "batch_ids"].map((t) => state.storage.sql.exec(`SELECT * FROM ${t}`).toArray()),
    );
    const listed = await env.SNAPSHOTS.list<{ computedAt: number }>({ prefix: mirrorPrefix(ns) });
    return { rows, mirrored: listed.keys.map((k) => [k.name, k.metadata?.computedAt]) };
  }

  it("a refresh that finds nothing changed writes nothing to SQLite or KV, and one after an event does", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const minute = Math.ceil(Date.now() / 60_000) * 60_000;
    vi.setSystemTime(minute + 1000); // the two refreshes below stay within one bucket of every tier
    const ns = await seeded("unchanged");
    // The clock is frozen, so the seeded events are stamped at the very time they were accepted:
    // held until a later time. The first refresh comes after them, so that it counts them.
    vi.setSystemTime(minute + 2000);
    await runDurableObjectAlarm(stubOf(ns));
    const before = await written(ns);
    vi.setSystemTime(minute + 5000);
    await runDurableObjectAlarm(stubOf(ns));
    expect(await written(ns)).toEqual(before);
    const held = await stubOf(ns).read({ kind: "stats", window: "1h" });
    expect(held.ok && held.value.computedAt).toBe(minute + 5000); // the object's own copies stay fresh

    await ingest(ns, [{ item: "new" }]);
    vi.setSystemTime(minute + 9000);
    await runDurableObjectAlarm(stubOf(ns));
    const after = await written(ns);
    expect(after.rows).not.toEqual(before.rows);
    expect(after.mirrored).not.toEqual(before.mirrored);
  });

  it("an idle namespace stops its loop, and a read starts it again", async () => {
    const ns = await seeded("idle-stop");
    await runDurableObjectAlarm(stubOf(ns));
    expect(await alarmOf(ns)).not.toBeNull();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + IDLE_STOP_MS + 60_000); // no event and no read for that long
    await runDurableObjectAlarm(stubOf(ns));
    expect(await alarmOf(ns)).toBeNull();
    const read = await stubOf(ns).read({ kind: "trending", window: "24h", rank: "top", type: null });
    expect(read.ok).toBe(true);
    expect(await alarmOf(ns)).not.toBeNull();
  });
});

describe("answers read outside the plan", () => {
  it("are kept warm for at most MAX_DEMANDED queries per namespace", async () => {
    const ns = freshNamespace("demanded");
    const types = Object.fromEntries(Array.from({ length: 7 }, (_, t) => [`t${t}`, {}]));
    expect((await admin("PUT", ns, "config", { windows: ["1h"], types, capacity: 1000 })).status).toBe(200);
    await ingest(ns, [{ item: "a", type: "t0" }]);
    const outside: ReadQuery[] = [null, ...Object.keys(types)].flatMap((type) =>
      (["5m", "24h", "7d"] as const).flatMap((window) =>
        (["top", "rising", "hot"] as const).map((rank) => ({ kind: "trending" as const, window, rank, type })),
      ),
    );
    expect(outside.length).toBeGreaterThan(MAX_DEMANDED);
    for (const query of outside) expect((await stubOf(ns).read(query)).ok).toBe(true);
    await runDurableObjectAlarm(stubOf(ns));
    const listed = await env.SNAPSHOTS.list({ prefix: mirrorPrefix(ns) });
    const planned = plan({ ...DEFAULT_CONFIG, windows: ["1h"], types, capacity: 1000 }).length;
    expect(listed.keys.length).toBe(planned + MAX_DEMANDED);
    // The most recently read are the ones kept.
    const last = outside.at(-1)!;
    expect(listed.keys.map((k) => k.name)).toContain(mirrorKey(ns, 0, snapshotKey(last)));
  });
});
