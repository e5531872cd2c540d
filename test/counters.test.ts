/**
 * Hit and miss counters: the Worker counts per layer in the isolate and reports in batches; the
 * object keeps them, and GET .../cache reports what was read.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CacheReport } from "../src/shared/contract";
import { admin, freshNamespace, get, ingest, json, refresh, stubOf } from "./support/http";

/** What the X-Cache labels of the reads say each layer should have counted. */
function expectedFrom(labels: string[]) {
  const n = (label: string) => labels.filter((l) => l === label).length;
  return {
    edge: { hits: n("HIT-EDGE"), misses: labels.length - n("HIT-EDGE") },
    kv: { hits: n("HIT-KV"), misses: n("HIT-DO") + n("MISS") },
    do: { hits: n("HIT-DO"), misses: n("MISS") },
  };
}

describe("the cache counters", () => {
  it("match the reads that were made, layer by layer", async () => {
    const ns = freshNamespace("counters");
    await ingest(ns, [{ item: "a" }, { item: "b", weight: 3 }]);
    const labels: string[] = [];
    const read = async (path: string, query: Record<string, string | number>) => {
      const res = await get(ns, path, query);
      await res.arrayBuffer();
      labels.push(res.headers.get("X-Cache")!);
    };
    await read("trending", { window: "1h" }); // before any refresh: computed while waiting
    await read("stats", { window: "24h" });
    await refresh(ns);
    for (let i = 0; i < 30; i++) await read("trending", { window: i % 2 ? "24h" : "7d", limit: 1 + (i % 3) });
    await read("dashboard", {});
    await read("trending", { window: "5m" }); // not a configured window: computed on first read

    expect(labels).toContain("MISS");
    expect(labels).toContain("HIT-EDGE");
    expect(labels).toContain("HIT-KV");
    const report = await json<CacheReport>(await admin("GET", ns, "cache"));
    const expected = expectedFrom(labels);
    expect(report.reads).toBe(labels.length);
    for (const layer of ["edge", "kv", "do"] as const) {
      expect({ hits: report.layers[layer].hits, misses: report.layers[layer].misses }, layer).toEqual(expected[layer]);
    }
    expect(report.syncComputes).toBe(expected.do.misses);
    expect(report.hitRatio).toBeCloseTo((labels.length - expected.do.misses) / labels.length, 10);
    expect(report.refreshes).toBeGreaterThanOrEqual(1);
    expect(report.lastRefresh).toMatchObject({ outcome: "ok" });
    expect(Date.parse(report.lastRefresh!.at)).not.toBeNaN();
  });

  it("reach the object in batches, not once per read", async () => {
    const ns = freshNamespace("batched");
    await ingest(ns, [{ item: "a" }]);
    await refresh(ns);
    for (let i = 0; i < 10; i++) await (await get(ns, "stats", { window: "1h" })).arrayBuffer();
    const held = await runInDurableObject(stubOf(ns), (_, state) =>
      state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'counters'").toArray()[0],
    );
    const before = held ? (JSON.parse(held.value) as { value: { reads: CacheReport["layers"] } }).value.reads.edge : { hits: 0, misses: 0 };
    expect(before.hits + before.misses).toBe(0);
    const report = await json<CacheReport>(await admin("GET", ns, "cache"));
    expect(report.reads).toBe(10);
  });

  it("survive a restart of the object", async () => {
    const ns = freshNamespace("kept");
    await ingest(ns, [{ item: "a" }]);
    await refresh(ns);
    for (let i = 0; i < 4; i++) await (await get(ns, "dashboard")).arrayBuffer();
    const first = await json<CacheReport>(await admin("GET", ns, "cache"));
    await evictDurableObject(stubOf(ns));
    const second = await json<CacheReport>(await admin("GET", ns, "cache"));
    expect(second.layers).toEqual(first.layers);
    expect(second.reads).toBe(4);
  });
});
