/**
 * DELETE of a sharded namespace leaves no shard data, retired and long-drained shards included
 * (their batch ids too), so a namespace of the same name starts at zero.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { DRAIN_GRACE_MS } from "../../durable-objects/shard-merger";
import { admin, freshNamespace, get, ingest, refresh } from "../support/http";
import { MINUTE, SHARDS, configure, shard, shardTables, allShardRows, sum, accepted, counted, cacheOf, batch, acceptedBatches, total } from "../support/shards";

afterEach(() => {
  vi.useRealTimers();
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
      expect(await shardTables(ns, i), `shard ${i}`).toEqual([]);
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
      expect(await shardTables(ns, i), `shard ${i}`).toEqual([]);
    }
    // A new namespace of the name, sharded again, counts a batch whose id the old one had seen.
    await configure(ns, 4);
    const fresh = Array.from({ length: 8 }, (_, b) => batch(`new${b}`, 3));
    for (const [b, events] of fresh.entries()) await accepted(ns, events, `old-${b}`);
    expect(await counted(ns)).toEqual(total(...fresh));
  });
});
