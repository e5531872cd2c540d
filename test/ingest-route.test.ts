/**
 * Where a batch goes when a namespace shards its ingest (docs/api.md, `ingestShards`): a batch id
 * always to the same shard, ids spread evenly, and a change of the shard count moves as few ids
 * as it can, so that a retry across the change still meets its first attempt's shard.
 */
import { describe, expect, it } from "vitest";
import { shardFor } from "../src/worker/ingest-route";

const ids = Array.from({ length: 4000 }, (_, i) => `batch-${i}-${(i * 7919) % 1000}`);
const route = (k: number) => ids.map((batchId) => shardFor({ batchId, events: [] }, k));

describe("a batch with an id", () => {
  it("always goes to the same shard", () => {
    expect(route(4)).toEqual(route(4));
  });

  it("is spread evenly over the shards", () => {
    for (const k of [2, 4, 16]) {
      const counts = new Array<number>(k).fill(0);
      for (const shard of route(k)) counts[shard]! += 1;
      const fair = ids.length / k;
      for (const c of counts) expect(Math.abs(c - fair) / fair, `k=${k}`).toBeLessThan(0.25);
    }
  });

  it("keeps its shard when shards are added, unless a new shard takes it", () => {
    const before = route(4);
    const after = route(5);
    const moved = after.filter((shard, i) => shard !== before[i]);
    expect(moved.every((shard) => shard === 4)).toBe(true); // only to the new shard
    expect(moved.length / ids.length).toBeLessThan(0.25); // about 1 in 5
  });

  it("keeps its shard when shards are retired, unless its shard was retired", () => {
    const before = route(8);
    const after = route(2);
    before.forEach((shard, i) => {
      if (shard < 2) expect(after[i]).toBe(shard);
    });
  });
});

describe("a batch without an id", () => {
  it("goes where the draw sends it, any of the shards", () => {
    expect([0, 0.3, 0.99].map((r) => shardFor({ events: [] }, 4, () => r))).toEqual([0, 1, 3]);
  });
});
