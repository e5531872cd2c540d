/**
 * Lowering `ingestShards`: the retired shards are drained and listed with their lag until then,
 * retired after the grace period, and a batch that reaches one late (or while the refresh that
 * retires it runs) is still counted.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { DRAIN_GRACE_MS } from "../../durable-objects/shard-merger";
import { type ShardStub } from "../support/faulty-objects";
import { freshNamespace, refresh } from "../support/http";
import { MINUTE, SHARDS, configure, shard, shardRows, allShardRows, sum, objectHeldEvents, sendToShard, accepted, counted, cacheOf, batch, throughShards, lags, acceptedBatches, total, resolved } from "../support/shards";

afterEach(() => {
  vi.useRealTimers();
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
