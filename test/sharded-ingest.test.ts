/**
 * Sharded ingest (API.md v1.1, `ingestShards`; issue 11): with k > 1 the Worker spreads batches
 * over k ingest shards, each logs its batches durably before the `202`, and the namespace's object
 * pulls and merges what they hold into its one authoritative state. These tests hold it to the
 * contract's promises: the same answers for any k, a batch counted once however it is retried,
 * nothing lost or doubled whichever side dies when, retired shards drained, deletes that leave
 * nothing behind, and lag that `/cache` reports honestly.
 *
 * Every merge is driven (POST .../refresh or runDurableObjectAlarm): each namespace sets an hour's
 * refreshSeconds so that no alarm fires on its own, and the clock is moved, never waited for.
 */
import { abortAllDurableObjects, env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WINDOWS, type CacheReport, type ShardLag, type StatsSnapshot, type TallyEvent, type TrendingSnapshot } from "../src/shared/contract";
import { shardObjectName } from "../src/shared/keys";
import type { ShardDelta } from "../src/core/shard-delta";
import type { NamespaceAggregator } from "../durable-objects/namespace-aggregator";
import { DRAIN_GRACE_MS } from "../durable-objects/shard-merger";
import { storageFaults } from "../durable-objects/storage-faults";
import { TOKENS, admin, bearer, call, freshNamespace, get, ingest, json, refresh, stubOf, type EventInput } from "./support/http";
import { departures } from "./support/openapi";
import { rng } from "./support/random";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SHARDS = [0, 1, 2, 3];

afterEach(() => {
  storageFaults.disarm();
  vi.useRealTimers();
});

/** The config every namespace here uses, but for its shard count. `like` weighs 2 by default, so
 * that a batch routed to a shard must carry the weights the namespace's object would give it. */
const config = (ingestShards: number) => ({ ingestShards, refreshSeconds: 3600, types: { view: {}, like: { weight: 2 } } });

async function configure(ns: string, ingestShards: number): Promise<void> {
  const res = await admin("PUT", ns, "config", config(ingestShards));
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Ingest shard `index` of `ns`, addressed as the Worker addresses it. */
const shard = (ns: string, index: number) => env.INGEST_SHARDS.get(env.INGEST_SHARDS.idFromName(shardObjectName(ns, index)));

/** Log rows a shard holds (0 when it holds no log at all: never written to, or erased). */
function shardRows(ns: string, index: number): Promise<number> {
  return runInDurableObject(shard(ns, index), (_, state) => {
    const sql = state.storage.sql;
    if (sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'shard_log'").one().n === 0) return 0;
    return sql.exec<{ n: number }>("SELECT count(*) AS n FROM shard_log").one().n;
  });
}

/** Events a shard holds in its log. */
function shardRowsEvents(ns: string, index: number): Promise<number> {
  return runInDurableObject(shard(ns, index), (_, state) => {
    const sql = state.storage.sql;
    if (sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'shard_log'").one().n === 0) return 0;
    return sql.exec<{ n: number | null }>("SELECT sum(events) AS n FROM shard_log").one().n ?? 0;
  });
}

const allShardRows = (ns: string) => Promise.all(SHARDS.map((i) => shardRows(ns, i)));
const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);

/** Batches the namespace's own object logged and has not checkpointed. */
/** Events the namespace's object accepted itself and holds uncheckpointed: in its batch log, or
 * held pending (an event stamped at the very time it is accepted, as under a frozen clock). */
const objectHeldEvents = (ns: string) =>
  runInDurableObject(
    stubOf(ns),
    (_, state) =>
      state.storage.sql
        .exec<{ n: number }>(
          "SELECT (SELECT coalesce(sum(json_array_length(events)), 0) FROM batch_log) + (SELECT count(*) FROM pending_events) AS n",
        )
        .one().n,
  );

/** Sends a batch straight to one shard, as a Worker holding a descriptor with that route would. */
async function sendToShard(ns: string, index: number, events: TallyEvent[], batchId?: string) {
  const result = await shard(ns, index).ingest({ batchId, events });
  if (!result.ok) throw new Error(`shard ${index} refused the batch: ${JSON.stringify(result)}`);
  return result.value;
}

async function accepted(ns: string, events: EventInput[], batchId?: string): Promise<void> {
  const res = await ingest(ns, events, batchId === undefined ? {} : { batchId });
  expect(res.status, await res.clone().text()).toBe(202);
}

/** What the namespace counts over 30 days once merged: POST .../refresh, then stats. Under a
 * faked clock the clock moves on a second first, so that the refresh is newer than any answer
 * read before it, as it always is in real time. */
async function counted(ns: string): Promise<{ events: number; weight: number }> {
  if (vi.isFakeTimers()) vi.setSystemTime(Date.now() + 1000);
  await refresh(ns);
  const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "30d" }));
  return { events: stats.events, weight: stats.weight };
}

async function cacheOf(ns: string): Promise<CacheReport> {
  const res = await admin("GET", ns, "cache");
  expect(res.status, await res.clone().text()).toBe(200);
  return json<CacheReport>(res);
}

/** n events over a few items, both types, explicit weights on some and the type's default on the others. */
const batch = (prefix: string, n: number): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({
    item: `${prefix}-${i % 7}`,
    type: i % 2 ? "view" : "like",
    ...(i % 3 === 0 ? {} : { weight: i % 3 }),
  }));

type ShardStub = ReturnType<Env["INGEST_SHARDS"]["get"]>;

/**
 * Runs `body` in the namespace's object while its merger reaches each shard through `stand(index,
 * real)`: a stand-in that races, counts or fails where a test needs it. The Worker's routes are
 * untouched, so batches still reach the real shards.
 */
async function throughShards<T>(ns: string, stand: (index: number, real: ShardStub) => unknown, body: (object: NamespaceAggregator) => Promise<T>): Promise<T> {
  const indexOf = new Map(Array.from({ length: 16 }, (_, i) => [env.INGEST_SHARDS.idFromName(shardObjectName(ns, i)).toString(), i]));
  return runInDurableObject(stubOf(ns), async (object) => {
    const merger = (object as unknown as { shards: { env: Env } }).shards;
    const real = merger.env;
    const binding = {
      idFromName: (name: string) => real.INGEST_SHARDS.idFromName(name),
      get: (id: DurableObjectId) => stand(indexOf.get(id.toString()) ?? -1, real.INGEST_SHARDS.get(id)),
    };
    merger.env = { ...real, INGEST_SHARDS: binding as unknown as Env["INGEST_SHARDS"] };
    try {
      return await body(object);
    } finally {
      merger.env = real;
    }
  });
}

/** Each shard's events waiting in a cache report; every shard must have been reached. */
function lags(ingest: CacheReport["ingest"]): number[] {
  return ingest.perShard.map((p) => {
    expect(p.error, `shard ${p.shard}`).toBeUndefined();
    return p.lagEvents ?? Number.NaN;
  });
}

/** `count` batches of sizes `first`, `first + step`…, with ids `<prefix>-0`, `<prefix>-1`…, each accepted. */
async function acceptedBatches(ns: string, prefix: string, count: number, first: number, step = 1): Promise<EventInput[][]> {
  const batches = Array.from({ length: count }, (_, b) => batch(`${prefix}${b}`, first + step * b));
  for (const [b, events] of batches.entries()) await accepted(ns, events, `${prefix}-${b}`);
  return batches;
}

/** Events and weight `events` add to a namespace of `config`: like weighs 2 unless the event says otherwise. */
const total = (...batches: EventInput[][]) => ({
  events: sum(batches.map((b) => b.length)),
  weight: sum(batches.flat().map((e) => e.weight ?? (e.type === "like" ? 2 : 1))),
});

/** The same batch as a shard receives it from the Worker: validated, weights resolved. */
const resolved = (events: EventInput[]): TallyEvent[] =>
  events.map((e) => ({ item: e.item, type: e.type ?? "event", weight: e.weight ?? (e.type === "like" ? 2 : 1), ts: Date.now() }));

describe("a namespace with ingestShards 4", () => {
  it("answers exactly what the same batches give a namespace with 1, and the batches went through the shards", async () => {
    // One frozen clock: both namespaces merge and answer at the same instant, so their answers
    // cover the same [from, to) and may be compared whole.
    vi.useFakeTimers({ toFake: ["Date"] });
    const one = freshNamespace("same-k1");
    const four = freshNamespace("same-k4");
    await configure(one, 1);
    await configure(four, 4);
    const random = rng(11);
    const now = Date.now();
    const spans = [8 * DAY, 2 * DAY, 2 * HOUR, 4 * MINUTE];
    const events: EventInput[] = Array.from({ length: 4000 }, (_, i) => ({
      item: `item-${Math.floor(random() ** 2 * 90)}`,
      type: ["view", "like", "play"][Math.floor(random() * 3)]!,
      ...(random() < 0.3 ? {} : { weight: 0.5 * (1 + Math.floor(random() * 6)) }),
      ...(random() < 0.7 ? { actor: `user-${Math.floor(random() * 120)}` } : {}),
      ts: now - 1000 - Math.floor(random() * spans[i % spans.length]!),
    }));
    const batches = Array.from({ length: 40 }, (_, b) => events.slice(b * 100, b * 100 + 100));
    for (const [b, events] of batches.entries()) {
      await accepted(one, events, `batch-${b}`);
      await accepted(four, events, `batch-${b}`);
    }

    // Through the shards: the namespace's object logged none of them, the shards hold them all.
    expect(await objectHeldEvents(four)).toBe(0);
    const rows = await allShardRows(four);
    expect(sum(rows)).toBe(batches.length);
    expect(rows.filter((r) => r > 0).length).toBeGreaterThan(1);

    await refresh(one);
    await refresh(four);
    const body = async (ns: string, path: string, query: Record<string, string | number>) => {
      const res = await get(ns, path, query);
      expect(res.status).toBe(200);
      const { namespace, ...answer } = await json(res);
      expect(namespace).toBe(ns);
      return answer;
    };
    for (const window of WINDOWS) {
      const stats = await body(one, "stats", { window });
      expect(stats.events).toBeGreaterThan(0);
      expect(await body(four, "stats", { window })).toEqual(stats);
      for (const rank of ["top", "rising", "hot"]) {
        for (const type of [null, "like"]) {
          const query = { window, rank, limit: 100, ...(type ? { type } : {}) };
          const answer = await body(one, "trending", query);
          expect((answer as unknown as TrendingSnapshot).items.length, `${window} ${rank} ${type}`).toBeGreaterThan(0);
          expect(await body(four, "trending", query), `${window} ${rank} ${type}`).toEqual(answer);
        }
      }
    }
    // Merged: the shards drop their rows once the merge is durable (the next pull acknowledges it).
    await refresh(four);
    expect(sum(await allShardRows(four))).toBe(0);
  });
});

describe("a retried batch", () => {
  it("is a duplicate at a fixed shard count, before and after the merge", async () => {
    const ns = freshNamespace("retry-k4");
    await configure(ns, 4);
    const events = batch("r", 12);
    const first = await ingest(ns, events, { batchId: "once" });
    expect(first.status).toBe(202);
    expect(await json(first)).toEqual({ accepted: 12, duplicate: false });
    const again = await ingest(ns, events, { batchId: "once" });
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual({ accepted: 12, duplicate: true });
    expect(await counted(ns)).toEqual(total(events));
    const later = await ingest(ns, events, { batchId: "once" });
    expect(later.status).toBe(200);
    expect(await json(later)).toEqual({ accepted: 12, duplicate: true });
    expect(await counted(ns)).toEqual(total(events));
  });

  it.each([
    [1, 4],
    [4, 1],
    [4, 2],
    [2, 4],
  ])("is counted once when retried after ingestShards changed from %i to %i", async (from, to) => {
    const ns = freshNamespace(`retry-${from}-${to}`);
    await configure(ns, from);
    // Several ids, so that some retries meet another shard (or the object) than their first attempt.
    const batches = Array.from({ length: 8 }, (_, b) => batch(`b${b}`, 5 + b));
    for (const [b, events] of batches.entries()) await accepted(ns, events, `id-${b}`);
    await configure(ns, to);
    const answers = [];
    for (const [b, events] of batches.entries()) {
      const res = await ingest(ns, events, { batchId: `id-${b}` });
      expect([200, 202]).toContain(res.status);
      answers.push(res.status);
    }
    // Not vacuous: some retries were taken as new where they arrived (another shard, or the object).
    expect(answers).toContain(202);
    expect(await counted(ns)).toEqual(total(...batches));
    // And once more after the merge: still once.
    for (const [b, events] of batches.entries()) await ingest(ns, events, { batchId: `id-${b}` });
    expect(await counted(ns)).toEqual(total(...batches));
  });

  it("sent at 4 shards and retried at 1 after its merge is a duplicate, whether or not the merge is durable yet", async () => {
    const ns = freshNamespace("retry-merged");
    await configure(ns, 4);
    const durable = batch("d", 6);
    const merged = batch("m", 9);
    await accepted(ns, durable, "durable");
    await refresh(ns); // merged and checkpointed
    await accepted(ns, merged, "merged-only");
    storageFaults.arm("checkpoint");
    await refresh(ns); // merged, but its checkpoint fails: the id is known in memory only
    expect((await cacheOf(ns)).checkpointErrors).toBe(1);
    await configure(ns, 1);
    for (const [id, events] of [["durable", durable], ["merged-only", merged]] as const) {
      const res = await ingest(ns, events, { batchId: id });
      expect(res.status, id).toBe(200);
      expect(await json(res)).toEqual({ accepted: events.length, duplicate: true });
    }
    expect(await counted(ns)).toEqual(total(durable, merged));
  });

  it("held by two shards at once is counted once, merged together or one after the other", async () => {
    const ns = freshNamespace("two-shards");
    await configure(ns, 4);
    const together = resolved(batch("t", 10));
    const apart = resolved(batch("a", 7));
    await sendToShard(ns, 0, together, "together");
    await sendToShard(ns, 3, together, "together");
    expect(await counted(ns)).toEqual(total(together));
    await sendToShard(ns, 1, apart, "apart");
    expect(await counted(ns)).toEqual(total(together, apart));
    await sendToShard(ns, 2, apart, "apart");
    expect(await counted(ns)).toEqual(total(together, apart));
    // Both shards dropped their copies: the one left out was acknowledged like any other row.
    await refresh(ns);
    expect(await allShardRows(ns)).toEqual([0, 0, 0, 0]);
  });

  it("already counted, in a shard holding more than one pull's worth, holds back none of the rows after it", async () => {
    const ns = freshNamespace("dup-then-more");
    await configure(ns, 4);
    const dup = resolved(batch("dup", 3));
    await sendToShard(ns, 1, dup, "dup");
    await refresh(ns); // counted through shard 1
    // Then, in shard 0, a copy of it and three large batches: more than one pull returns.
    await sendToShard(ns, 0, dup, "dup");
    const large = [0, 1, 2].map((b) =>
      Array.from({ length: 1000 }, (_, i): TallyEvent => ({
        item: `large-${b}-${i % 50}-`.padEnd(250, "x"),
        actor: `actor-${i}-`.padEnd(250, "y"),
        type: "view",
        weight: 1,
        ts: Date.now(),
      })),
    );
    for (const [b, events] of large.entries()) await sendToShard(ns, 0, events, `large-${b}`);
    // One refresh merges all of it: POST .../refresh answers with every event accepted before it.
    expect(await counted(ns)).toEqual(total(dup, ...large));
  });
});

describe("kills", () => {
  it("of a shard, evicted before it was pulled, lose nothing: its log and its batch ids are durable", async () => {
    const ns = freshNamespace("evict-shard");
    await configure(ns, 4);
    const batches = await acceptedBatches(ns, "e", 8, 4);
    for (const i of SHARDS) if ((await shardRows(ns, i)) > 0) await evictDurableObject(shard(ns, i));
    const retry = await ingest(ns, batches[0]!, { batchId: "e-0" });
    expect(await json(retry)).toEqual({ accepted: batches[0]!.length, duplicate: true });
    expect(await counted(ns)).toEqual(total(...batches));
  });

  it("of every object, aborted before the shards were pulled, lose nothing", async () => {
    const ns = freshNamespace("abort-shard");
    await configure(ns, 4);
    const batches = await acceptedBatches(ns, "x", 8, 3);
    await abortAllDurableObjects();
    const retry = await ingest(ns, batches[5]!, { batchId: "x-5" });
    expect(await json(retry)).toEqual({ accepted: batches[5]!.length, duplicate: true });
    expect(await counted(ns)).toEqual(total(...batches));
  });

  it.each(["evicted", "aborted"])(
    "of the namespace's object, %s after merges whose checkpoints failed, lose and double nothing",
    async (kill) => {
      const ns = freshNamespace(`coordinator-${kill}`);
      await configure(ns, 4);
      const before = batch("durable", 20);
      await accepted(ns, before);
      await refresh(ns); // merged and checkpointed
      const first = batch("p", 30);
      const second = batch("q", 11);
      await accepted(ns, first);
      storageFaults.arm("checkpoint", 2);
      await refresh(ns); // merged in memory; not durable
      await accepted(ns, second);
      await refresh(ns); // merged in memory too; its pulls acknowledged only what is durable
      const report = await cacheOf(ns);
      expect(report.checkpointErrors).toBe(2);
      // Served from memory meanwhile: every event counted.
      expect((await json<StatsSnapshot>(await get(ns, "stats", { window: "30d" }))).events).toBe(total(before, first, second).events);
      if (kill === "evicted") await evictDurableObject(stubOf(ns));
      else await abortAllDurableObjects();
      expect(await counted(ns)).toEqual(total(before, first, second));
      await evictDurableObject(stubOf(ns));
      expect(await counted(ns)).toEqual(total(before, first, second));
    },
  );

  it("of the namespace's object mid-merge (one shard's pull answered, its merge not done) lose and double nothing", async () => {
    const ns = freshNamespace("mid-merge");
    await configure(ns, 4);
    const batches = await acceptedBatches(ns, "m", 8, 5);
    const holding = (await allShardRows(ns)).filter((r) => r > 0).length;
    expect(holding).toBeGreaterThan(1);
    storageFaults.arm("merge");
    await refresh(ns); // one shard's merge fails; the others are merged and checkpointed
    const partial = (await json<StatsSnapshot>(await get(ns, "stats", { window: "30d" }))).events;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(total(...batches).events);
    expect(sum(lags((await cacheOf(ns)).ingest))).toBe(total(...batches).events - partial);
    await evictDurableObject(stubOf(ns));
    expect(await counted(ns)).toEqual(total(...batches));
    await abortAllDurableObjects();
    expect(await counted(ns)).toEqual(total(...batches));
  });

  it("of a merge that fails part-way through a delta double nothing: the object starts again from its checkpoint", async () => {
    const ns = freshNamespace("half-merge");
    await configure(ns, 4);
    const batches = await acceptedBatches(ns, "h", 6, 8);
    await runInDurableObject(stubOf(ns), (object) => {
      // Counts the first half of each delta's groups, then fails, as a bug or a reset mid-merge would.
      const core = (object as unknown as { aggregator: { mergeDelta(delta: ShardDelta, now: number): void } }).aggregator;
      const merge = core.mergeDelta.bind(core);
      core.mergeDelta = (delta, now) => {
        merge({ ...delta, buckets: delta.buckets.map((b) => ({ ...b, entries: b.entries.slice(0, Math.ceil(b.entries.length / 2)) })), future: [] }, now);
        throw new Error("injected failure mid-merge");
      };
    });
    const failed = await admin("POST", ns, "refresh");
    expect(failed.status).toBe(500);
    expect(await counted(ns)).toEqual(total(...batches));
    await evictDurableObject(stubOf(ns));
    expect(await counted(ns)).toEqual(total(...batches));
  });

  it("a checkpoint failing then succeeding doubles nothing, and the shards drop their rows after the following pull", async () => {
    const ns = freshNamespace("fail-then-ok");
    await configure(ns, 4);
    const batches = await acceptedBatches(ns, "f", 6, 6);
    const held = sum(await allShardRows(ns));
    expect(held).toBe(batches.length);
    storageFaults.arm("checkpoint");
    await refresh(ns);
    expect((await cacheOf(ns)).lastCheckpoint).toMatchObject({ outcome: "error" });
    expect(sum(await allShardRows(ns))).toBe(held); // nothing acknowledged: nothing durable yet
    await refresh(ns);
    expect((await cacheOf(ns)).lastCheckpoint).toMatchObject({ outcome: "ok" });
    expect(sum(await allShardRows(ns))).toBe(held); // durable now; acknowledged by the next pull
    expect(await counted(ns)).toEqual(total(...batches));
    expect(await allShardRows(ns)).toEqual([0, 0, 0, 0]);
    await evictDurableObject(stubOf(ns));
    expect(await counted(ns)).toEqual(total(...batches));
  });
});

describe("lowering ingestShards", () => {
  it("drains the retired shards, lists them with their lag until then, and retires them after the grace period", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const ns = freshNamespace("lower");
    await configure(ns, 4);
    const sharded = await acceptedBatches(ns, "s", 12, 3);
    expect((await allShardRows(ns)).every((r) => r > 0)).toBe(true);

    await configure(ns, 1);
    const direct = batch("direct", 17);
    await accepted(ns, direct, "direct");
    expect(await objectHeldEvents(ns)).toBe(direct.length);
    // A Worker still holding the old descriptor routes a batch to a retired shard.
    const late = resolved(batch("late", 5));
    await sendToShard(ns, 2, late, "late");
    const waiting = (await cacheOf(ns)).ingest;
    expect(waiting.shards).toBe(1);
    expect(waiting.perShard.map((p) => p.retired)).toEqual([true, true, true, true]);
    expect(sum(lags(waiting))).toBe(total(...sharded, late).events);
    expect(await counted(ns)).toEqual(total(...sharded, direct, late));

    const report = await cacheOf(ns);
    expect(report.ingest.shards).toBe(1);
    expect(report.ingest.perShard.map((p) => p.shard)).toEqual(SHARDS);
    for (const p of report.ingest.perShard) {
      expect(p).toMatchObject({ retired: true, lagEvents: 0, lagBatches: 0, oldestWaitingSince: null });
      expect(p.lastMergeAt).not.toBeNull();
    }

    // Drained, but within the grace period a late batch may still arrive: still pulled.
    vi.setSystemTime(start + DRAIN_GRACE_MS / 2);
    expect(await counted(ns)).toEqual(total(...sharded, direct, late));
    expect(await allShardRows(ns)).toEqual([0, 0, 0, 0]);
    expect((await cacheOf(ns)).ingest.perShard).toHaveLength(4);

    vi.setSystemTime(start + DRAIN_GRACE_MS + MINUTE);
    expect(await counted(ns)).toEqual(total(...sharded, direct, late));
    expect((await cacheOf(ns)).ingest.perShard).toEqual([]);

    // Even after that, a batch that reaches a retired shard is counted: the shard wakes the object.
    const stray = resolved(batch("stray", 4));
    await sendToShard(ns, 3, stray, "stray");
    expect(await counted(ns)).toEqual(total(...sharded, direct, late, stray));
  });

  it("counts a batch that reaches a retired shard while the refresh that retires it runs", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const ns = freshNamespace("retire-race");
    await configure(ns, 4);
    const sharded = await acceptedBatches(ns, "s", 12, 3, 0);
    expect((await allShardRows(ns)).every((r) => r > 0)).toBe(true);
    await configure(ns, 1);
    await counted(ns);
    await counted(ns); // drained: every shard's rows acknowledged
    vi.setSystemTime(start + DRAIN_GRACE_MS + MINUTE);

    // The refresh that finds every shard drained and the grace period over. Right after shard 3
    // answered its pull (empty), a Worker holding an old descriptor sends it a batch.
    const stray = resolved(batch("stray", 5));
    const racing = (index: number, real: ShardStub) =>
      index !== 3
        ? real
        : {
            pull: async (request: Parameters<ShardStub["pull"]>[0]) => {
              const answer = await real.pull(request);
              await sendToShard(ns, 3, stray, "stray");
              return answer;
            },
          };
    await throughShards(ns, racing, async (object) => {
      expect((await object.refreshNow()).ok).toBe(true);
    });
    expect(await shardRows(ns, 3)).toBe(1);
    expect(await counted(ns)).toEqual(total(...sharded, stray));
  });
});

describe("DELETE of a sharded namespace", () => {
  it("leaves no shard data, retired shards included, and a namespace of the same name starts at zero", async () => {
    const ns = freshNamespace("delete");
    await configure(ns, 4);
    const merged = await acceptedBatches(ns, "old", 6, 5, 0);
    await refresh(ns);
    const waiting = await acceptedBatches(ns, "wait", 6, 5, 0);
    await configure(ns, 2); // shards 2 and 3 retired, maybe still holding rows
    expect(sum(await allShardRows(ns))).toBeGreaterThan(0);

    const res = await admin("DELETE", ns, "");
    expect(res.status, await res.clone().text()).toBe(200);
    for (const i of SHARDS) {
      const tables = await runInDurableObject(shard(ns, i), (_, state) =>
        state.storage.sql
          .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('shard_log', 'shard_batch_ids')")
          .toArray()
          .map((t) => t.name),
      );
      expect(tables, `shard ${i}`).toEqual([]);
    }
    expect((await get(ns, "stats", { window: "30d" })).status).toBe(404);

    // The same name again, sharded again: nothing of the old namespace, and its batch ids are
    // forgotten with it (a shard that remembered one would drop a new batch as a duplicate).
    await configure(ns, 4);
    const fresh = batch("new", 8);
    for (const b of [0, 1, 2, 3, 4, 5]) {
      const res = await ingest(ns, fresh, { batchId: `wait-${b}` });
      expect(res.status, `wait-${b}`).toBe(202);
    }
    expect(await counted(ns)).toEqual(total(fresh, fresh, fresh, fresh, fresh, fresh));
  });
  it("erases shards drained and retired long before: they still held batch ids", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const ns = freshNamespace("delete-drained");
    await configure(ns, 4);
    const old = await acceptedBatches(ns, "old", 8, 4, 0);
    await configure(ns, 1);
    await counted(ns);
    vi.setSystemTime(start + DRAIN_GRACE_MS + MINUTE);
    await counted(ns);
    expect((await cacheOf(ns)).ingest.perShard).toEqual([]); // drained, out of the span

    expect((await admin("DELETE", ns, "")).status).toBe(200);
    for (const i of SHARDS) {
      const tables = await runInDurableObject(shard(ns, i), (_, state) =>
        state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name IN ('shard_log', 'shard_batch_ids')").toArray(),
      );
      expect(tables, `shard ${i}`).toEqual([]);
    }
    // A new namespace of the name, sharded again, counts a batch whose id the old one had seen.
    await configure(ns, 4);
    const fresh = Array.from({ length: 8 }, (_, b) => batch(`new${b}`, 3));
    for (const [b, events] of fresh.entries()) await accepted(ns, events, `old-${b}`);
    expect(await counted(ns)).toEqual(total(...fresh));
  });
});

describe("the widest accepted shard count", () => {
  it("16 shards take the largest accepted batches in rows under 2 MB, and are merged with at most 6 pulls open at once", async () => {
    const ns = freshNamespace("k16");
    await configure(ns, 16);
    // The door's largest: 1000 events, each with a 256-byte item (multi-byte UTF-8) and a 256-byte actor.
    const largest = (b: number): EventInput[] =>
      Array.from({ length: 1000 }, (_, i) => ({ item: `${"€".repeat(82)}-${b}-${String(i % 40).padStart(3, "0")}`, actor: `${"a".repeat(250)}${String(i).padStart(6, "0")}`, type: "view" }));
    const batches = [...[0, 1, 2, 3].map(largest), ...Array.from({ length: 60 }, (_, b) => batch(`w${b}`, 1 + (b % 10)))];
    for (const [b, events] of batches.entries()) await accepted(ns, events, `w-${b}`);
    const shards = Array.from({ length: 16 }, (_, i) => i);
    const widest = await Promise.all(
      shards.map((i) =>
        runInDurableObject(shard(ns, i), (_, state) => {
          const sql = state.storage.sql;
          if (sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'shard_log'").one().n === 0) return 0;
          return sql.exec<{ n: number | null }>("SELECT max(length(CAST(data AS BLOB))) AS n FROM shard_log").one().n ?? 0;
        }),
      ),
    );
    expect(widest.filter((bytes) => bytes > 0).length).toBeGreaterThan(8); // the ids spread over the shards
    expect(Math.max(...widest)).toBeGreaterThan(400_000); // the largest batches were logged whole or in halves...
    expect(Math.max(...widest)).toBeLessThan(2_000_000); // ...never in a row the platform would refuse

    let open = 0;
    let most = 0;
    const counting = (_: number, real: ShardStub) => ({
      pull: async (request: Parameters<ShardStub["pull"]>[0]) => {
        most = Math.max(most, ++open);
        try {
          return await real.pull(request);
        } finally {
          open -= 1;
        }
      },
    });
    await throughShards(ns, counting, async (object) => {
      expect((await object.refreshNow()).ok).toBe(true);
    });
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(6);
    expect(await counted(ns)).toEqual(total(...batches));
  });
});

describe("a shard holding more than one merge takes", () => {
  it("is merged again a second later, not a refresh period later, until nothing waits", async () => {
    const ns = freshNamespace("catch-up");
    await configure(ns, 4); // refreshSeconds 3600
    const stub = stubOf(ns);
    // One pull carries about 1 MB of whole batches: let a merge take one pull, and send three
    // batches of about 600 KB, so that the first merge leaves the third behind.
    await runInDurableObject(stub, (object) => {
      (object as unknown as { shards: { maxPulls: number } }).shards.maxPulls = 1;
    });
    const heavy = (b: number): EventInput[] =>
      Array.from({ length: 2000 }, (_, i) => ({ item: `${"x".repeat(200)}-${b}-${i % 50}`, type: "view", weight: 1 }));
    const batches = [0, 1, 2].map(heavy);
    for (const events of batches) await sendToShard(ns, 0, resolved(events));
    const alarmIn = () => runInDurableObject(stub, async (_, state) => ((await state.storage.getAlarm()) ?? Infinity) - Date.now());

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const lag = (await cacheOf(ns)).ingest.perShard.find((p) => p.shard === 0)!;
    expect(lag.lagEvents).toBe(2000);
    expect(await alarmIn()).toBeLessThanOrEqual(1000);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await cacheOf(ns)).ingest.perShard.find((p) => p.shard === 0)!.lagEvents).toBe(0);
    expect(await alarmIn()).toBeGreaterThan(60_000); // caught up: back to the refresh period
    expect(await counted(ns)).toEqual(total(...batches));
  });
});

describe("GET .../cache", () => {
  it("reports each shard's lag until the merge, then none and the time of the merge", async () => {
    const ns = freshNamespace("lag");
    await configure(ns, 4);
    const batches = await acceptedBatches(ns, "l", 10, 2);
    const events = total(...batches).events;

    const res = await admin("GET", ns, "cache");
    expect(await departures("GET /v1/namespaces/{ns}/cache", res.clone())).toEqual([]);
    const waiting = (await json<CacheReport>(res)).ingest;
    expect(waiting.shards).toBe(4);
    expect(waiting.perShard.map((p) => p.shard)).toEqual(SHARDS);
    expect(waiting.perShard.every((p) => !p.retired && p.lastMergeAt === null && p.sinceLastMergeMs === null)).toBe(true);
    expect(sum(lags(waiting))).toBe(events);
    expect(sum(waiting.perShard.map((p) => p.lagBatches ?? Number.NaN))).toBe(batches.length);
    const rows = await allShardRows(ns);
    waiting.perShard.forEach((p: ShardLag) => {
      expect(p.lagBatches, `shard ${p.shard}`).toBe(rows[p.shard]);
      expect(p.oldestWaitingSince === null, `shard ${p.shard}`).toBe(p.lagEvents === 0);
    });

    const before = Date.now();
    await refresh(ns);
    const after = await admin("GET", ns, "cache");
    expect(await departures("GET /v1/namespaces/{ns}/cache", after.clone())).toEqual([]);
    for (const p of (await json<CacheReport>(after)).ingest.perShard) {
      expect(p).toMatchObject({ lagEvents: 0, lagBatches: 0, oldestWaitingSince: null });
      expect(Date.parse(p.lastMergeAt!)).toBeGreaterThanOrEqual(before);
      expect(p.sinceLastMergeMs).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("GET .../cache with a shard that cannot be reached", () => {
  it("still answers, and says which shard it could not ask and why", async () => {
    const ns = freshNamespace("cache-unreachable");
    await configure(ns, 4);
    for (let b = 0; b < 8; b++) await accepted(ns, batch(`u${b}`, 3), `u-${b}`);
    const failing = (index: number, real: ShardStub) =>
      index === 1 ? { status: async () => Promise.reject(new Error("injected: shard unreachable")) } : real;
    const report = await throughShards(ns, failing, (object) => object.cacheStats());
    if (!report.ok) throw new Error(JSON.stringify(report.error));
    const byShard = new Map(report.value.ingest.perShard.map((p) => [p.shard, p]));
    expect(byShard.get(1)).toMatchObject({ lagEvents: null, lagBatches: null, oldestWaitingSince: null });
    expect(byShard.get(1)!.error).toMatch(/could not be reached|unreachable/);
    const others = [0, 2, 3].map((i) => byShard.get(i)!);
    for (const p of others) expect(p.error).toBeUndefined();
    expect(sum(others.map((p) => p.lagEvents ?? 0))).toBe(24 - (await shardRowsEvents(ns, 1)));
  });
});

describe("an event through a shard", () => {
  it("that is the namespace's first creates it as soon as the shard accepted it: listed, reported, its refresh loop started", async () => {
    const ns = freshNamespace("first");
    await configure(ns, 4);
    expect((await admin("GET", ns, "cache")).status).toBe(404); // configured, but no event yet
    await accepted(ns, [{ item: "hello", type: "view" }], "first");
    expect(await objectHeldEvents(ns)).toBe(0);
    expect((await admin("GET", ns, "cache")).status).toBe(200);
    const listing = await json<{ namespaces: { namespace: string }[] }>(
      await call("GET", `/v1/namespaces?prefix=${ns}`, { headers: bearer(TOKENS.admin) }),
    );
    expect(listing.namespaces.map((n) => n.namespace)).toEqual([ns]);
    expect(await runInDurableObject(stubOf(ns), (_, state) => state.storage.getAlarm())).not.toBeNull();
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "1h" }));
    expect(stats.events).toBe(1);
  });

  it("after the refresh loop stopped for idleness starts the loop again", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const ns = freshNamespace("idle");
    await configure(ns, 4);
    await accepted(ns, [{ item: "a" }], "a");
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    // Two hours without an event or a read: the next alarm finds nothing new and stops the loop.
    vi.setSystemTime(Date.now() + 2 * HOUR);
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    expect(await runInDurableObject(stubOf(ns), (_, state) => state.storage.getAlarm())).toBeNull();

    await accepted(ns, [{ item: "b" }], "b");
    expect(await runInDurableObject(stubOf(ns), (_, state) => state.storage.getAlarm())).not.toBeNull();
    vi.setSystemTime(Date.now() + 1000); // the alarm's answers are newer than the last ones read
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "24h" }));
    expect(stats.events).toBe(2);
  });
});

describe("future-stamped events through shards", () => {
  it("are not counted before their time, and counted once after it, across a restart", async () => {
    // Ten seconds into a minute, so that events a few seconds ahead share the minute bucket of
    // the answer's `to`: only holding them back keeps them out of [from, to).
    vi.useFakeTimers({ toFake: ["Date"] });
    const now = Math.ceil(Date.now() / MINUTE) * MINUTE + 10_000;
    vi.setSystemTime(now);
    const ns = freshNamespace("future");
    await configure(ns, 4);
    const past = batch("past", 10).map((e) => ({ ...e, ts: now - MINUTE }));
    const ahead = [5, 20, 40, 65, 80, 125, 170, 200, 230].map((s, i) => ({ item: `ahead-${i}`, type: "view", weight: 1, ts: now + s * 1000 }));
    for (let b = 0; b < 3; b++) await accepted(ns, [...past.slice(b * 4, b * 4 + 4), ...ahead.slice(b * 3, b * 3 + 3)], `f-${b}`);

    /** The 5m stats after a refresh a second later than the last. */
    const fiveMinutes = async () => {
      vi.setSystemTime(Date.now() + 1000);
      await refresh(ns);
      return json<StatsSnapshot>(await get(ns, "stats", { window: "5m" }));
    };
    /** Events of the answer: every event stamped before its `to`, and none after. */
    const dueBy = (answer: StatsSnapshot) => [...past, ...ahead].filter((e) => e.ts < Date.parse(answer.to)).length;

    const early = await fiveMinutes();
    expect(early.events).toBe(past.length);
    expect(dueBy(early)).toBe(past.length);
    await evictDurableObject(stubOf(ns)); // held pending durably, not only in memory
    await refresh(ns);
    expect(await allShardRows(ns)).toEqual([0, 0, 0, 0]); // merged, and acknowledged
    expect((await fiveMinutes()).events).toBe(past.length);

    vi.setSystemTime(now + 30_000);
    const some = await fiveMinutes();
    expect(some.events).toBe(dueBy(some));
    expect(some.events).toBe(past.length + 2);

    vi.setSystemTime(now + 4 * MINUTE);
    const due = await fiveMinutes();
    expect(due.events).toBe(past.length + ahead.length);
    await evictDurableObject(stubOf(ns));
    expect((await fiveMinutes()).events).toBe(past.length + ahead.length);
  });
});
