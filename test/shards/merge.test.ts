/**
 * The merge: 16 shards with the largest accepted batches are merged in rows the platform accepts,
 * with at most 6 pulls open at once; and a shard holding more than one merge takes is merged
 * again a second later, not a refresh period later, until nothing waits.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_PULLS_PER_MERGE } from "../../durable-objects/shard-merger";
import { withShardStandIn, type ShardStub } from "../support/faulty-objects";
import { freshNamespace, refresh, stubOf, type EventInput } from "../support/http";
import { configure, shard, widestShardRow, sendToShard, accepted, counted, cacheOf, batch, throughShards, total, resolved } from "../support/shards";

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
    const widest = await Promise.all(shards.map((i) => widestShardRow(ns, i)));
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
    // A merge takes at most MAX_PULLS_PER_MERGE pulls from a shard, each of about 1 MB of whole
    // batches, so 64 MB would fill one. Here shard 0 answers one batch a pull (whether more rows
    // follow, its own status says) and holds one batch more than a merge takes: the first merge
    // leaves the last, of 2000 events, behind.
    const batchPerPull = (index: number, real: ShardStub) =>
      index !== 0
        ? real
        : {
            pull: async (request: Parameters<ShardStub["pull"]>[0]) => {
              const answer = await real.pull({ ...request, upTo: Math.min(request.upTo ?? Number.MAX_SAFE_INTEGER, request.after + 1) });
              if (!answer.ok) return answer;
              const waiting = await real.status(answer.value.through);
              if (!waiting.ok) return waiting;
              return { ok: true, value: { ...answer.value, more: waiting.value.lagBatches > 0 } };
            },
          };
    const batches = [...Array.from({ length: MAX_PULLS_PER_MERGE }, (_, b) => batch(`c${b}`, 1 + (b % 5))), batch("last", 2000)];
    for (const events of batches) await sendToShard(ns, 0, resolved(events));
    const alarmIn = () => runInDurableObject(stub, async (_, state) => ((await state.storage.getAlarm()) ?? Infinity) - Date.now());
    const mergeByAlarm = () => withShardStandIn(ns, batchPerPull, () => runDurableObjectAlarm(stub));

    expect(await mergeByAlarm()).toBe(true);
    const lag = (await cacheOf(ns)).ingest.perShard.find((p) => p.shard === 0)!;
    expect(lag.lagEvents).toBe(2000);
    expect(await alarmIn()).toBeLessThanOrEqual(1000);

    expect(await mergeByAlarm()).toBe(true);
    expect((await cacheOf(ns)).ingest.perShard.find((p) => p.shard === 0)!.lagEvents).toBe(0);
    expect(await alarmIn()).toBeGreaterThan(60_000); // caught up: back to the refresh period
    expect(await counted(ns)).toEqual(total(...batches));
  });
});
