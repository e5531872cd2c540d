/**
 * GET .../cache reports what each shard holds unmerged, and when it was last merged; with a shard
 * that cannot be reached it still answers, and says which shard and why.
 */
import { describe, expect, it } from "vitest";
import type { CacheReport, ShardLag } from "../../src/shared/contract";
import { departures } from "../support/openapi";
import { type ShardStub } from "../support/faulty-objects";
import { admin, freshNamespace, json, refresh } from "../support/http";
import { SHARDS, configure, shard, shardRowsEvents, allShardRows, sum, accepted, batch, throughShards, lags, acceptedBatches, total } from "../support/shards";

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
