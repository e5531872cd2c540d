/**
 * Hit and miss counts (service metrics): the Worker counts per layer in the isolate and reports
 * in batches; the object keeps them, and GET .../cache reports what was read.
 */
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CacheReport } from "../src/shared/contract";
import { FLUSH_MS } from "../src/worker/read-counts";
import { TOKENS, admin, bearer, freshNamespace, get, ingest, isolatedWorker, json, recordingAggregator, refresh, stubOf } from "./support/http";

/** What the X-Cache labels of the reads say each layer should have counted. */
function expectedFrom(labels: string[]) {
  const n = (label: string) => labels.filter((l) => l === label).length;
  return {
    edge: { hits: n("HIT-EDGE"), misses: labels.length - n("HIT-EDGE") },
    kv: { hits: n("HIT-KV"), misses: n("HIT-DO") + n("MISS") },
    do: { hits: n("HIT-DO"), misses: n("MISS") },
  };
}

describe("the cache layers' read counts", () => {
  it("match the reads that were made, layer by layer", async () => {
    const ns = freshNamespace("read-counts");
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
    const spy = recordingAggregator("recordReads");
    const worker = isolatedWorker({ now: () => 1_000_000 }); // its clock stands still: FLUSH_MS never passes
    for (let i = 0; i < 10; i++) await (await worker.fetch(`/v1/namespaces/${ns}/stats?window=1h`, {}, spy.env)).arrayBuffer();
    expect(spy.calls).toEqual([]);
    const report = await json<CacheReport>(await worker.fetch(`/v1/namespaces/${ns}/cache`, { headers: bearer(TOKENS.admin) }, spy.env));
    expect(spy.calls).toHaveLength(1);
    expect(report.reads).toBe(10);
  });

  it("are reported once FLUSH_MS has passed since the first unreported read, by the next read", async () => {
    const ns = freshNamespace("timed");
    await ingest(ns, [{ item: "a" }]);
    await refresh(ns);
    let now = 1_000_000;
    const worker = isolatedWorker({ now: () => now });
    const spy = recordingAggregator("recordReads");
    const labels: string[] = [];
    const read = async () => {
      const res = await worker.fetch(`/v1/namespaces/${ns}/trending?window=24h`, {}, spy.env);
      await res.arrayBuffer();
      labels.push(res.headers.get("X-Cache")!);
    };
    for (let i = 0; i < 3; i++) await read();
    now += FLUSH_MS - 1;
    await read();
    expect(spy.calls).toEqual([]);
    now += 1;
    await read();
    expect(spy.calls).toHaveLength(1);
    expect(spy.calls[0]).toEqual(expectedFrom(labels));
    const report = await json<CacheReport>(await admin("GET", ns, "cache"));
    expect(report.reads).toBe(labels.length);
    await read(); // a new batch starts: nothing is reported before its own FLUSH_MS
    expect(spy.calls).toHaveLength(1);
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
