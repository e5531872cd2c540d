/**
 * Kills lose and double nothing: a shard evicted before its pull, every object aborted, the
 * namespace's object evicted or aborted after failed checkpoints or in the middle of a merge, a
 * merge failing part-way through a delta, and a checkpoint failing then succeeding.
 */
import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { StatsSnapshot } from "../../src/shared/contract";
import type { ShardDelta } from "../../src/core/shard-delta";
import { failCheckpoints, withShardStandIn, type ShardStub } from "../support/faulty-objects";
import { admin, freshNamespace, get, ingest, json, refresh, stubOf } from "../support/http";
import { SHARDS, configure, shard, shardRows, allShardRows, sum, accepted, counted, cacheOf, batch, lags, acceptedBatches, total } from "../support/shards";

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
      await failCheckpoints(stubOf(ns), 2);
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
    const rows = await allShardRows(ns);
    const holding = rows.filter((r) => r > 0).length;
    expect(holding).toBeGreaterThan(1);
    // The first shard holding rows answers its pull, and the answer is lost before its merge.
    const lost = rows.findIndex((r) => r > 0);
    const losing = (index: number, real: ShardStub) =>
      index !== lost
        ? real
        : {
            pull: async (request: Parameters<ShardStub["pull"]>[0]) => {
              await real.pull(request);
              throw new Error("injected fault: the pull was answered, its merge not done");
            },
          };
    // One shard's merge fails; the others are merged and checkpointed.
    await withShardStandIn(ns, losing, () => refresh(ns));
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
    // Each shard answers the first half of each of its delta's groups, then a minute whose actors
    // cannot be read: the object counts the half, then fails, as a bug or a reset mid-merge would.
    const failingPartWay = (_: number, real: ShardStub) => ({
      pull: async (request: Parameters<ShardStub["pull"]>[0]) => {
        const answer = await real.pull(request);
        if (!answer.ok || answer.value.delta.buckets.length === 0) return answer;
        const { delta } = answer.value;
        const unreadable: ShardDelta["buckets"][number] = { start: delta.buckets[0]!.start, entries: [], actors: { length: 1 } as unknown as number[], pairs: [] };
        const half = delta.buckets.map((b) => {
          const kept = Math.ceil(b.entries.length / 2);
          return { ...b, entries: b.entries.slice(0, kept), pairs: b.pairs.filter(([entry]) => entry! < kept) };
        });
        return { ok: true, value: { ...answer.value, delta: { ...delta, buckets: [...half, unreadable], future: [] } } };
      },
    });
    const failed = await withShardStandIn(ns, failingPartWay, () => admin("POST", ns, "refresh"));
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
    await failCheckpoints(stubOf(ns));
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
