/**
 * A batch is counted once however it is retried: at a fixed shard count, across a change of
 * `ingestShards`, after a merge whether or not it is durable yet, and when two shards hold it.
 */
import { describe, expect, it } from "vitest";
import type { TallyEvent } from "../../src/shared/contract";
import { failCheckpoints } from "../support/faulty-objects";
import { freshNamespace, ingest, json, refresh, stubOf } from "../support/http";
import { configure, shard, allShardRows, sendToShard, accepted, counted, cacheOf, batch, total, resolved } from "../support/shards";

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
    await failCheckpoints(stubOf(ns));
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
