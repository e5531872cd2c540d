/**
 * The read path: edge cache, then KV, then the object; never cold after a refresh, and a stale
 * answer while the object fails.
 */
import { SELF, env, evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { NamespaceDescriptor, ReadQuery, TrendingSnapshot } from "../src/shared/contract";
import { answerKeyOf } from "../src/worker/read-path";
import { admin, expectError, fetchWith, freshNamespace, get, ingest, ingestAll, isolatedWorker, json, recordingAggregator, refresh, stubOf } from "./support/http";

async function warmNamespace(prefix: string): Promise<string> {
  const ns = freshNamespace(prefix);
  await ingestAll(ns, Array.from({ length: 300 }, (_, i) => ({ item: `item-${i % 40}`, type: i % 3 ? "view" : "like", weight: 1 + (i % 4) })));
  await refresh(ns);
  return ns;
}

/** An AGGREGATOR binding whose every object is unreachable. */
const unreachable = {
  idFromName: (name: string) => env.AGGREGATOR.idFromName(name),
  get: () =>
    new Proxy({}, {
      get: () => () => Promise.reject(new Error("injected fault: object unreachable")),
    }),
} as unknown as Env["AGGREGATOR"];

afterEach(() => {
  vi.useRealTimers();
});

/** docs/api.md: 503 with Retry-After, a whole number of seconds (RFC 9110 10.2.3). */
function expectRetryAfter(res: Response): void {
  const retryAfter = res.headers.get("Retry-After");
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
}

/** docs/api.md's config defaults. */
const DEFAULTS = { refreshSeconds: 10, staleSeconds: 300 };

describe("after the first refresh", () => {
  it("answers 500 mixed reads of every window, limit, rank and type without a MISS", async () => {
    const ns = await warmNamespace("mixed");
    const labels = new Map<string, number>();
    const windows = ["1h", "24h", "7d"];
    for (let i = 0; i < 500; i++) {
      const window = windows[i % 3]!;
      const kind = i % 10;
      const res =
        kind === 0
          ? await get(ns, "stats", { window })
          : kind === 1
            ? await get(ns, "dashboard")
            : await get(ns, "trending", {
                window,
                limit: 1 + ((i * 37) % 100),
                rank: i % 2 ? "top" : "rising",
                ...(i % 4 === 0 ? { type: "view" } : {}),
              });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const label = res.headers.get("X-Cache")!;
      labels.set(label, (labels.get(label) ?? 0) + 1);
    }
    expect(labels.get("MISS") ?? 0).toBe(0);
    expect(labels.get("HIT-EDGE")).toBeGreaterThan(0);
  });
});

describe("the layers", () => {
  it("serve a repeated read from the edge, and from KV once the edge entry is gone", async () => {
    const ns = await warmNamespace("layers");
    const worker = isolatedWorker();
    const path = `/v1/namespaces/${ns}/trending?window=24h&limit=5`;
    const first = await worker.fetch(path);
    expect(first.headers.get("X-Cache")).toBe("HIT-KV");
    const body = await json<TrendingSnapshot>(first);
    expect(body.items).toHaveLength(5);
    const again = await worker.fetch(path);
    expect(again.headers.get("X-Cache")).toBe("HIT-EDGE");
    expect(await json(again)).toEqual(body);

    const read = {
      namespace: ns,
      query: { kind: "trending", window: "24h", rank: "top", type: null } satisfies ReadQuery,
      limit: 5,
      descriptor: { generation: Number(first.headers.get("X-Generation")) } as NamespaceDescriptor,
    };
    expect(await worker.isolate.reads.dropNearby(answerKeyOf(read))).toBe(true);
    const afterDelete = await worker.fetch(path);
    expect(afterDelete.headers.get("X-Cache")).toBe("HIT-KV");
    expect(await json(afterDelete)).toEqual(body);
  });

  it("answer If-None-Match with 304 and the cache headers", async () => {
    const ns = await warmNamespace("etag");
    const first = await get(ns, "stats", { window: "1h" });
    const tag = first.headers.get("ETag");
    expect(tag).toMatch(/^"/);
    const res = await get(ns, "stats", { window: "1h" }, { "If-None-Match": tag! });
    expect(res.status).toBe(304);
    expect(res.headers.get("ETag")).toBe(tag);
    expect(res.headers.get("X-Cache")).toBe("HIT-EDGE");
    expect(res.headers.get("X-Generation")).toBe(first.headers.get("X-Generation"));
    const other = await get(ns, "stats", { window: "1h" }, { "If-None-Match": '"something-else"' });
    expect(other.status).toBe(200);
  });

  it("state as max-age the whole seconds the answer stays fresh: refreshSeconds after its computedAt", async () => {
    const ns = await warmNamespace("maxage");
    const computedAt = Number((await get(ns, "dashboard")).headers.get("X-Computed-At"));
    vi.useFakeTimers({ toFake: ["Date"] });
    for (const age of [0, 3_500, 9_999]) {
      vi.setSystemTime(computedAt + age);
      const res = await get(ns, "dashboard");
      expect(Number(res.headers.get("X-Computed-At"))).toBe(computedAt);
      const freshUntil = computedAt + DEFAULTS.refreshSeconds * 1000;
      expect(res.headers.get("Cache-Control")).toBe(
        `public, max-age=${Math.floor((freshUntil - Date.now()) / 1000)}, stale-while-revalidate=${DEFAULTS.staleSeconds}`,
      );
      expect(res.headers.get("X-Stale")).toBeNull();
    }
  });

  it("state the snapshot's computedAt in X-Computed-At, as epoch milliseconds, on every layer", async () => {
    const ns = freshNamespace("computed-at");
    await ingestAll(ns, [{ item: "a" }]);
    const refreshed = await admin("POST", ns, "refresh");
    const computedAt = Date.parse((await json<{ computedAt: string }>(refreshed)).computedAt);
    const worker = isolatedWorker();
    const path = `/v1/namespaces/${ns}/trending?window=1h`;
    for (const expected of ["HIT-KV", "HIT-EDGE"]) {
      const res = await worker.fetch(path);
      expect(res.headers.get("X-Cache")).toBe(expected);
      expect(res.headers.get("X-Computed-At")).toBe(String(computedAt));
      expect(Date.parse((await json<TrendingSnapshot>(res)).computedAt)).toBe(computedAt);
    }
    const fromObject = await fetchWith({}, `http://127.0.0.1${path}`, { headers: { "X-Tally-Layer": "do" } });
    expect(fromObject.headers.get("X-Cache")).toBe("HIT-DO");
    expect(fromObject.headers.get("X-Computed-At")).toBe(String(computedAt));
  });

  it("share one upstream call among concurrent misses in an isolate", async () => {
    const ns = await warmNamespace("coalesce");
    let kvReads = 0;
    const kv = new Proxy(env.SNAPSHOTS, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (prop === "getWithMetadata") kvReads += 1;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const path = `/v1/namespaces/${ns}/trending?window=7d&limit=3`;
    const responses = await Promise.all(Array.from({ length: 12 }, () => fetchWith({ SNAPSHOTS: kv }, path)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(kvReads).toBe(1);
  });
});

describe("a stale answer", () => {
  it("is served with X-Stale while the object cannot be reached, from the edge and from KV", async () => {
    const ns = await warmNamespace("stale");
    const path = (limit: number) => `/v1/namespaces/${ns}/trending?window=1h&limit=${limit}`;
    expect((await fetchWith({}, path(3))).headers.get("X-Cache")).toBe("HIT-KV"); // now at the edge too
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 30_000); // past refreshSeconds (10 s), within staleSeconds (300 s)

    const fromEdge = await fetchWith({ AGGREGATOR: unreachable }, path(3));
    expect(fromEdge.status).toBe(200);
    expect(fromEdge.headers.get("X-Cache")).toBe("HIT-EDGE");
    expect(fromEdge.headers.get("X-Stale")).toBe("true");
    expect(fromEdge.headers.get("Cache-Control")).toMatch(/max-age=0/);

    const fromKv = await fetchWith({ AGGREGATOR: unreachable }, path(4));
    expect(fromKv.status).toBe(200);
    expect(fromKv.headers.get("X-Cache")).toBe("HIT-KV");
    expect(fromKv.headers.get("X-Stale")).toBe("true");
  });

  it("is revalidated from the object once, whatever the number of hits on it meanwhile", async () => {
    const ns = await warmNamespace("revalidate");
    const worker = isolatedWorker();
    const path = `/v1/namespaces/${ns}/trending?window=1h&limit=3`;
    expect((await worker.fetch(path)).headers.get("X-Cache")).toBe("HIT-KV"); // now at the edge too
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 30_000); // past refreshSeconds (10 s), within staleSeconds (300 s)
    const spy = recordingAggregator("read");
    const hits = await Promise.all(Array.from({ length: 8 }, () => worker.fetch(path, {}, spy.env)));
    expect(hits.map((r) => r.headers.get("X-Stale"))).toEqual(Array(8).fill("true"));
    expect(spy.calls).toHaveLength(1);
  });

  it("is not served beyond staleSeconds: an unreachable object then answers 503", async () => {
    const ns = await warmNamespace("expired");
    const path = `/v1/namespaces/${ns}/stats?window=24h`;
    expect((await fetchWith({}, path)).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 400_000);
    const res = await fetchWith({ AGGREGATOR: unreachable }, path);
    expectRetryAfter(res);
    await expectError(res, 503, "unavailable");
  });

  it("is not there for a namespace never read: an unreachable object answers 503 with Retry-After", async () => {
    const ns = freshNamespace("nothing-stale");
    await ingestAll(ns, [{ item: "a" }]); // it exists, but no layer holds an answer or a descriptor of it
    const worker = isolatedWorker();
    for (const path of ["trending", "stats", "dashboard"]) {
      const res = await worker.fetch(`/v1/namespaces/${ns}/${path}`, {}, { AGGREGATOR: unreachable });
      expectRetryAfter(res);
      await expectError(res, 503, "unavailable");
    }
  });
});

describe("an object evicted right after a refresh", () => {
  it("answers at once from the snapshots its start-up computed, without computing on read", async () => {
    const ns = await warmNamespace("evicted");
    const viaObject = (path: string) =>
      SELF.fetch(`http://localhost/v1/namespaces/${ns}/${path}`, { headers: { "X-Tally-Layer": "do" } });
    const before = await viaObject("trending?window=7d&limit=20");
    expect(before.headers.get("X-Cache")).toBe("HIT-DO");
    const snapshot = await json<TrendingSnapshot>(before);
    await evictDurableObject(stubOf(ns));
    for (const path of ["trending?window=7d&limit=20", "stats?window=1h", "dashboard", "trending?window=24h&rank=rising&type=view"]) {
      const res = await viaObject(path);
      expect(res.headers.get("X-Cache"), path).toBe("HIT-DO");
      if (!path.startsWith("trending?window=7d")) continue;
      const after = await json<TrendingSnapshot>(res);
      expect(after.items).toEqual(snapshot.items);
      expect(Date.parse(after.computedAt)).toBeGreaterThanOrEqual(Date.parse(snapshot.computedAt));
    }
  });
});

describe("a namespace that never received an event", () => {
  it("answers 404 namespace_not_found on every read", async () => {
    const ns = freshNamespace("never");
    for (const path of ["trending", "stats", "dashboard"]) {
      const res = await get(ns, path);
      expect(res.status).toBe(404);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe("namespace_not_found");
    }
    expect((await ingest(ns, [{ item: "first" }])).status).toBe(202);
    expect((await get(ns, "trending")).status).toBe(200);
  });
});

describe("the local-only layer switch", () => {
  const ON = { LOCAL_LAYER_SWITCH: "on" };
  const OFF = { LOCAL_LAYER_SWITCH: undefined };
  const through = (host: string, ns: string) => `http://${host}/v1/namespaces/${ns}/trending?window=1h`;

  /** The first read of a warm namespace through a fresh isolate, with X-Tally-Layer: do. */
  async function firstRead(host: string, overrides: { LOCAL_LAYER_SWITCH?: string | undefined }) {
    const ns = await warmNamespace("layer");
    const worker = isolatedWorker();
    return worker.fetch(through(host, ns), { headers: { "X-Tally-Layer": "do" } }, overrides);
  }

  it("is honoured with LOCAL_LAYER_SWITCH=on on a loopback host: the object alone answers", async () => {
    for (const host of ["127.0.0.1", "localhost"]) {
      expect((await firstRead(host, ON)).headers.get("X-Cache"), host).toBe("HIT-DO");
    }
  });

  it("is ignored without LOCAL_LAYER_SWITCH=on: the read takes the usual path (KV after a refresh)", async () => {
    expect((await firstRead("127.0.0.1", OFF)).headers.get("X-Cache")).toBe("HIT-KV");
    expect((await firstRead("127.0.0.1", { LOCAL_LAYER_SWITCH: "yes" })).headers.get("X-Cache")).toBe("HIT-KV");
  });

  it("is ignored on a host that is not loopback, even with LOCAL_LAYER_SWITCH=on", async () => {
    for (const host of ["tally.test", "127.0.0.1.example.com"]) {
      expect((await firstRead(host, ON)).headers.get("X-Cache"), host).toBe("HIT-KV");
    }
  });

  it("refuses an unknown layer only where it is honoured", async () => {
    const ns = await warmNamespace("layer");
    const worker = isolatedWorker();
    const bogus = { headers: { "X-Tally-Layer": "disk" } };
    await expectError(await worker.fetch(through("127.0.0.1", ns), bogus, ON), 400, "invalid_layer");
    expect((await worker.fetch(through("tally.test", ns), bogus, ON)).status).toBe(200);
  });
});
