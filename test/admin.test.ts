/**
 * The admin plane (docs/api.md, "Admin"): invalidate, delete and config, each proved through what a
 * client sees afterwards. Reads are public here (READ_TOKEN is unset in vitest.config.ts).
 */
import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CONFIG_BOUNDS } from "../src/core/config";
import { mirrorPrefix } from "../src/shared/keys";
import { admin, expectError, freshNamespace, get, ingest, ingestAll, json, refresh, seed, stubOf, type EventInput } from "./support/http";

/** Supported windows, from docs/api.md ("Windows"). */
const WINDOWS = ["5m", "1h", "24h", "7d", "30d", "today", "yesterday", "thisWeek", "thisMonth"];
/** The config fields and defaults of docs/api.md. */
const DEFAULTS = { windows: ["1h", "24h", "7d"], maxLimit: 100, refreshSeconds: 10, staleSeconds: 300, types: { view: { weight: 1 } }, capacity: 5000, hotHalfLifeSeconds: 21600, ingestShards: 1, limits: {}, embedAncestors: [], timezone: "UTC", compare: [], dimensions: {} };
const FIELDS = Object.keys(DEFAULTS);

interface Trending {
  generation: number;
  exact: boolean;
  items: { item: string; score: number; error: number }[];
}

/** Every key of the namespace's KV mirror. */
async function mirroredKeys(ns: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.SNAPSHOTS.list(cursor === undefined ? { prefix: mirrorPrefix(ns) } : { prefix: mirrorPrefix(ns), cursor });
    names.push(...page.keys.map((k) => k.name));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined);
  return names;
}

const distinctItems = (n: number, prefix = "item"): EventInput[] => Array.from({ length: n }, (_, i) => ({ item: `${prefix}-${i}` }));

describe("POST /v1/namespaces/{ns}/invalidate", () => {
  it("raises the generation, and the raised generation survives the object's eviction", async () => {
    const ns = freshNamespace("inv");
    await seed(ns);
    await refresh(ns);
    const before = (await json<Trending>(await get(ns, "trending"))).generation;

    const res = await admin("POST", ns, "invalidate");
    expect(res.status).toBe(200);
    const { generation } = await json<{ generation: number }>(res);
    expect(generation).toBeGreaterThan(before);

    await evictDurableObject(stubOf(ns));
    const again = await json<{ generation: number }>(await admin("POST", ns, "invalidate"));
    expect(again.generation).toBe(generation + 1);
  });

  it("drops every KV copy of the old generation and keeps only keys of the new one", async () => {
    const ns = freshNamespace("inv");
    await seed(ns);
    await refresh(ns);
    const old = await mirroredKeys(ns);
    expect(old.length).toBeGreaterThan(0);

    const { generation } = await json<{ generation: number }>(await admin("POST", ns, "invalidate"));
    const keys = await mirroredKeys(ns);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`${mirrorPrefix(ns)}g${generation}/`), key).toBe(true);
    for (const key of old) expect(keys).not.toContain(key);
  });

  it("makes the next read carry the new generation without computing while the client waits", async () => {
    const ns = freshNamespace("inv");
    await seed(ns);
    await refresh(ns);
    await get(ns, "trending"); // an edge copy of the old generation now exists

    const { generation } = await json<{ generation: number }>(await admin("POST", ns, "invalidate"));
    const res = await get(ns, "trending");
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Generation")).toBe(String(generation));
    expect(res.headers.get("X-Cache")).not.toBe("MISS");
    expect((await json<Trending>(res)).generation).toBe(generation);
  });
});

describe("DELETE /v1/namespaces/{ns}", () => {
  it("erases the namespace: every read answers 404 namespace_not_found afterwards", async () => {
    const ns = freshNamespace("del");
    await seed(ns);
    await refresh(ns);
    for (const path of ["trending", "stats", "dashboard"]) expect((await get(ns, path)).status).toBe(200);

    expect((await admin("DELETE", ns, "")).status).toBe(200);
    for (const path of ["trending", "stats", "dashboard"]) await expectError(await get(ns, path), 404, "namespace_not_found");
  });

  it("erases the cached answers: no KV copy of the namespace is left", async () => {
    const ns = freshNamespace("del");
    await seed(ns);
    await refresh(ns);
    expect((await mirroredKeys(ns)).length).toBeGreaterThan(0);
    await admin("DELETE", ns, "");
    expect(await mirroredKeys(ns)).toEqual([]);
  });

  it("erases the config, which reads as the defaults again", async () => {
    const ns = freshNamespace("del");
    await seed(ns);
    expect((await admin("PUT", ns, "config", { maxLimit: 7, capacity: 10 })).status).toBe(200);
    await admin("DELETE", ns, "");
    expect(await json(await admin("GET", ns, "config"))).toEqual(DEFAULTS);
  });

  it("lets the namespace start afresh: the next ingest counts only the new events", async () => {
    const ns = freshNamespace("del");
    await ingestAll(ns, [{ item: "old" }, { item: "old" }, { item: "shared" }]);
    await refresh(ns);
    await get(ns, "trending");
    await admin("DELETE", ns, "");
    await expectError(await get(ns, "trending"), 404, "namespace_not_found");

    const fresh: EventInput[] = [{ item: "shared" }, { item: "new", weight: 2 }];
    await ingestAll(ns, fresh);
    await refresh(ns);
    const trending = await json<Trending>(await get(ns, "trending"));
    expect(trending.items.map(({ item, score }) => ({ item, score }))).toEqual([
      { item: "new", score: 2 },
      { item: "shared", score: 1 },
    ]);
    const stats = await json<{ events: number; weight: number }>(await get(ns, "stats"));
    expect(stats.events).toBe(fresh.length);
    expect(stats.weight).toBe(3);
  });
});

describe("PUT /v1/namespaces/{ns}/config refusals", () => {
  const { maxLimit, refreshSeconds, staleSeconds, capacity, types, hotHalfLifeSeconds, ingestShards } = CONFIG_BOUNDS;
  const tooManyTypes = Object.fromEntries(Array.from({ length: types.max + 1 }, (_, i) => [`t${i}`, {}]));
  const REFUSED: { what: string; body: unknown; field: string | null; allowed?: unknown }[] = [
    { what: "an unsupported window", body: { windows: ["2h"] }, field: "windows", allowed: WINDOWS },
    { what: "an empty window list", body: { windows: [] }, field: "windows", allowed: WINDOWS },
    { what: "windows given as a string", body: { windows: "1h" }, field: "windows", allowed: WINDOWS },
    { what: "a repeated window", body: { windows: ["1h", "1h"] }, field: "windows", allowed: WINDOWS },
    { what: "maxLimit below its minimum", body: { maxLimit: maxLimit.min - 1 }, field: "maxLimit", allowed: maxLimit },
    { what: "maxLimit above its maximum", body: { maxLimit: maxLimit.max + 1 }, field: "maxLimit", allowed: maxLimit },
    { what: "a fractional maxLimit", body: { maxLimit: 1.5 }, field: "maxLimit", allowed: maxLimit },
    { what: "maxLimit given as a string", body: { maxLimit: "10" }, field: "maxLimit", allowed: maxLimit },
    { what: "refreshSeconds below its minimum", body: { refreshSeconds: refreshSeconds.min - 1 }, field: "refreshSeconds", allowed: refreshSeconds },
    { what: "refreshSeconds above its maximum", body: { refreshSeconds: refreshSeconds.max + 1 }, field: "refreshSeconds", allowed: refreshSeconds },
    { what: "a negative staleSeconds", body: { staleSeconds: staleSeconds.min - 1 }, field: "staleSeconds", allowed: staleSeconds },
    { what: "staleSeconds above its maximum", body: { staleSeconds: staleSeconds.max + 1 }, field: "staleSeconds", allowed: staleSeconds },
    { what: "types given as a list", body: { types: ["view"] }, field: "types" },
    { what: "more types than allowed", body: { types: tooManyTypes }, field: "types" },
    { what: "a type name with capitals and a space", body: { types: { "Bad Name": {} } }, field: "types.Bad Name" },
    { what: "a type spec that is not an object", body: { types: { like: 3 } }, field: "types.like" },
    { what: "an unknown type setting", body: { types: { like: { colour: "red" } } }, field: "types.like.colour" },
    { what: "a zero type weight", body: { types: { like: { weight: 0 } } }, field: "types.like.weight" },
    { what: "a type weight above 1e6", body: { types: { like: { weight: 1e6 + 1 } } }, field: "types.like.weight" },
    { what: "a type weight given as a string", body: { types: { like: { weight: "2" } } }, field: "types.like.weight" },
    { what: "capacity below its minimum", body: { capacity: capacity.min - 1 }, field: "capacity", allowed: capacity },
    { what: "capacity above its maximum", body: { capacity: capacity.max + 1 }, field: "capacity", allowed: capacity },
    { what: "hotHalfLifeSeconds below a minute", body: { hotHalfLifeSeconds: 59 }, field: "hotHalfLifeSeconds", allowed: { min: 60 } },
    { what: "hotHalfLifeSeconds above 30 days", body: { hotHalfLifeSeconds: 2_592_001 }, field: "hotHalfLifeSeconds", allowed: { max: 2_592_000 } },
    { what: "a fractional hotHalfLifeSeconds", body: { hotHalfLifeSeconds: 3600.5 }, field: "hotHalfLifeSeconds", allowed: hotHalfLifeSeconds },
    { what: "hotHalfLifeSeconds given as a string", body: { hotHalfLifeSeconds: "3600" }, field: "hotHalfLifeSeconds", allowed: hotHalfLifeSeconds },
    { what: "no ingest shard", body: { ingestShards: 0 }, field: "ingestShards", allowed: ingestShards },
    { what: "more than 16 ingest shards", body: { ingestShards: 17 }, field: "ingestShards", allowed: { max: 16 } },
    { what: "a fractional ingestShards", body: { ingestShards: 2.5 }, field: "ingestShards", allowed: ingestShards },
    { what: "a limit of 0", body: { limits: { eventsPerMinute: 0 } }, field: "limits.eventsPerMinute", allowed: { min: 1 } },
    { what: "an unknown limit", body: { limits: { bytesPerMinute: 5 } }, field: "limits.bytesPerMinute", allowed: ["eventsPerMinute", "requestsPerMinute"] },
    { what: "limits given as a number", body: { limits: 5 }, field: "limits" },
    { what: "an ancestor with a path", body: { embedAncestors: ["https://example.com/page"] }, field: "embedAncestors", allowed: { max: 16 } },
    { what: "a bare * ancestor", body: { embedAncestors: ["*"] }, field: "embedAncestors" },
    { what: "17 ancestors", body: { embedAncestors: Array.from({ length: 17 }, (_, i) => `https://s${i}.example`) }, field: "embedAncestors" },
    { what: "an unknown field", body: { colour: "red" }, field: "colour", allowed: FIELDS },
    { what: "a list instead of an object", body: [], field: null, allowed: FIELDS },
    { what: "a string instead of an object", body: "windows", field: null, allowed: FIELDS },
    { what: "null instead of an object", body: null, field: null, allowed: FIELDS },
  ];

  for (const { what, body, field, allowed } of REFUSED) {
    it(`refuses ${what} with 400 invalid_config naming ${field ?? "no field"} and the allowed values`, async () => {
      const ns = freshNamespace("cfg");
      const error = await expectError(await admin("PUT", ns, "config", body), 400, "invalid_config");
      expect(error.field).toBe(field);
      if (field !== null) expect(error.message).toContain(field);
      expect(error.allowed).toBeDefined();
      if (allowed !== undefined) expect(error.allowed).toMatchObject(allowed as object);
    });
  }

  it("changes nothing when a config is refused", async () => {
    const ns = freshNamespace("cfg");
    expect((await admin("PUT", ns, "config", { maxLimit: 20 })).status).toBe(200);
    await expectError(await admin("PUT", ns, "config", { maxLimit: 30, capacity: 0 }), 400, "invalid_config");
    expect(await json(await admin("GET", ns, "config"))).toEqual({ ...DEFAULTS, maxLimit: 20 });
  });
});

describe("PUT /v1/namespaces/{ns}/config changes", () => {
  it("answers the whole new config, omitted fields at their defaults, and GET returns it", async () => {
    const ns = freshNamespace("cfg");
    expect(await json(await admin("GET", ns, "config"))).toEqual(DEFAULTS);
    const res = await admin("PUT", ns, "config", { maxLimit: 42, windows: ["24h", "5m"] });
    expect(res.status).toBe(200);
    const expected = { ...DEFAULTS, maxLimit: 42, windows: ["5m", "24h"] };
    expect(await json(res)).toEqual(expected);
    expect(await json(await admin("GET", ns, "config"))).toEqual(expected);
  });

  it("accepts hotHalfLifeSeconds at both its bounds, one minute and 30 days", async () => {
    const ns = freshNamespace("cfg");
    for (const hotHalfLifeSeconds of [60, 2_592_000]) {
      const res = await admin("PUT", ns, "config", { hotHalfLifeSeconds });
      expect(res.status).toBe(200);
      expect(await json(await admin("GET", ns, "config"))).toEqual({ ...DEFAULTS, hotHalfLifeSeconds });
    }
  });

  it("keeps the config through the object's eviction", async () => {
    const ns = freshNamespace("cfg");
    const config = { ...DEFAULTS, maxLimit: 33, types: { like: { weight: 2 } } };
    expect((await admin("PUT", ns, "config", config)).status).toBe(200);
    await evictDurableObject(stubOf(ns));
    expect(await json(await admin("GET", ns, "config"))).toEqual(config);
  });

  it("precomputes exactly the configured windows: the dashboard lists them after the next refresh", async () => {
    const ns = freshNamespace("cfg");
    await seed(ns);
    await admin("PUT", ns, "config", { windows: ["5m", "30d"] });
    await refresh(ns);
    const dashboard = await json<{ windows: Record<string, unknown> }>(await get(ns, "dashboard"));
    expect(Object.keys(dashboard.windows).sort()).toEqual(["30d", "5m"]);
  });

  it("bounds limit by the new maxLimit: above it is 400 invalid_limit, the maximum itself works", async () => {
    const ns = freshNamespace("cfg");
    await ingestAll(ns, distinctItems(8));
    const newMax = 5;
    await admin("PUT", ns, "config", { maxLimit: newMax });
    await refresh(ns);
    const error = await expectError(await get(ns, "trending", { limit: newMax + 1 }), 400, "invalid_limit");
    expect(error.allowed).toMatchObject({ max: newMax });
    const res = await get(ns, "trending", { limit: newMax });
    expect(res.status).toBe(200);
    expect((await json<Trending>(res)).items).toHaveLength(newMax);
  });

  it("gives a newly declared type per-type trending, and its weight to new events that carry none", async () => {
    const ns = freshNamespace("cfg");
    await seed(ns);
    const before = await expectError(await get(ns, "trending", { type: "like" }), 400, "invalid_type");
    expect(before.allowed).not.toContain("like");

    const likeWeight = 3;
    await admin("PUT", ns, "config", { types: { view: { weight: 1 }, like: { weight: likeWeight } } });
    await ingestAll(ns, [{ item: "x", type: "like" }, { item: "x", type: "like" }, { item: "y", type: "like", weight: 1 }, { item: "z", type: "view" }]);
    await refresh(ns);
    const res = await get(ns, "trending", { type: "like" });
    expect(res.status).toBe(200);
    const trending = await json<Trending & { type: string }>(res);
    expect(trending.type).toBe("like");
    expect(trending.items.map(({ item, score }) => ({ item, score }))).toEqual([
      { item: "x", score: 2 * likeWeight },
      { item: "y", score: 1 },
    ]);
  });

  it("gives buckets the new capacity: more distinct items than it makes results bounded, not exact", async () => {
    const capacity = CONFIG_BOUNDS.capacity.min;
    const events = distinctItems(3 * capacity);
    const small = freshNamespace("cfg");
    const control = freshNamespace("cfg");
    await admin("PUT", small, "config", { capacity });
    for (const ns of [small, control]) {
      expect((await ingest(ns, events)).status).toBe(202);
      await refresh(ns);
    }
    const exact = await json<Trending>(await get(control, "trending", { limit: events.length }));
    expect(exact.exact).toBe(true);
    const bounded = await json<Trending>(await get(small, "trending", { limit: events.length }));
    expect(bounded.exact).toBe(false);
    expect(bounded.items.some((i) => i.error > 0)).toBe(true);
  });

  it("sets Cache-Control from refreshSeconds (max-age) and staleSeconds (stale-while-revalidate)", async () => {
    const ns = freshNamespace("cfg");
    await seed(ns);
    const refreshSeconds = 600;
    const staleSeconds = 120;
    await admin("PUT", ns, "config", { refreshSeconds, staleSeconds });
    await refresh(ns);
    for (const path of ["trending", "stats", "dashboard"]) {
      const cacheControl = (await get(ns, path)).headers.get("Cache-Control") ?? "";
      const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1]);
      expect(maxAge, cacheControl).toBeLessThanOrEqual(refreshSeconds);
      expect(maxAge, cacheControl).toBeGreaterThan(DEFAULTS.refreshSeconds);
      expect(cacheControl).toContain(`stale-while-revalidate=${staleSeconds}`);
    }
  });
});

describe("admin calls on a namespace that never received an event", () => {
  // README: refresh, invalidate, cache and DELETE answer 404 namespace_not_found; config works.
  for (const [method, path] of [["POST", "refresh"], ["POST", "invalidate"], ["GET", "cache"], ["DELETE", ""]] as const) {
    it(`answer ${method} ${path || "the namespace"} with 404 namespace_not_found, and create nothing`, async () => {
      const ns = freshNamespace("unknown");
      const error = await expectError(await admin(method, ns, path), 404, "namespace_not_found");
      expect(error.namespace).toBe(ns);
      await expectError(await get(ns, "trending"), 404, "namespace_not_found");
    });
  }
});

describe("the answers of refresh and DELETE", () => {
  it("POST refresh answers exactly {namespace, computedAt, generation}, computedAt being the new snapshots'", async () => {
    const ns = freshNamespace("answer");
    await seed(ns);
    const before = Date.now();
    const res = await admin("POST", ns, "refresh");
    const after = Date.now();
    expect(res.status).toBe(200);
    const body = await json<{ computedAt: string }>(res);
    expect(Object.keys(body).sort()).toEqual(["computedAt", "generation", "namespace"]);
    expect(body).toEqual({ namespace: ns, computedAt: new Date(Date.parse(body.computedAt)).toISOString(), generation: 0 });
    const computedAt = Date.parse(body.computedAt);
    expect(computedAt).toBeGreaterThanOrEqual(before);
    expect(computedAt).toBeLessThanOrEqual(after);
    const read = await json<{ computedAt: string }>(await get(ns, "stats"));
    expect(read.computedAt).toBe(body.computedAt);
  });

  it("DELETE answers exactly {namespace, deleted: true, generation}, the generation one above the last served", async () => {
    const ns = freshNamespace("answer");
    await seed(ns);
    await refresh(ns);
    await admin("POST", ns, "invalidate");
    const served = Number((await get(ns, "trending")).headers.get("X-Generation"));
    expect(served).toBe(1);
    const res = await admin("DELETE", ns, "");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ namespace: ns, deleted: true, generation: served + 1 });
  });
});
