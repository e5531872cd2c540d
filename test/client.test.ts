/**
 * tally/client against the real Worker (SELF through an injected fetch): batching, typed answers
 * with Dates and read headers, 304, typed errors and the admin methods. Delivery under failures
 * is in client-delivery.test.ts.
 */
import { describe, expect, it } from "vitest";
import { TallyAuthError, TallyNotFoundError, TallyValidationError, createClient, type DimensionPage, type Fetch, type ReadResult } from "../src/client";
import { createClient as createClientByPackageName } from "tally/client";
import { ManualScheduler, batchesOf, countedEvents, recordingFetch, service } from "./support/client";
import { TOKENS, admin, freshNamespace, get, ingestAll, json, refresh } from "./support/http";
import { schemaErrors } from "./support/openapi";

const events = (n: number, prefix = "item") => Array.from({ length: n }, (_, i) => ({ item: `${prefix}-${i % 50}`, type: "view" }));

describe("track", () => {
  it("sends nothing before flushDelayMs, then one batch with a batchId, and every event is counted", async () => {
    const ns = freshNamespace("cl");
    const scheduler = new ManualScheduler();
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(ns), fetch, scheduler, flushDelayMs: 2000 });
    for (const e of events(3)) tally.track(e);
    scheduler.advance(1999);
    expect(tally.queued).toBe(3); // still waiting
    scheduler.advance(1);
    expect(tally.queued).toBe(0); // handed to a batch when the delay ran out, without flush()
    await tally.flush();
    expect(sent).toHaveLength(1);
    const [batch] = batchesOf(sent);
    expect(batch!.events).toBe(3);
    expect(batch!.batchId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await countedEvents(ns)).toBe(3);
  });

  it("sends 2500 events as batches of 1000, 1000 and 500 with distinct batchIds, without waiting for the delay", async () => {
    const ns = freshNamespace("cl");
    const scheduler = new ManualScheduler();
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(ns), fetch, scheduler });
    for (const e of events(2500)) tally.track(e);
    await tally.flush();
    const batches = batchesOf(sent);
    expect(batches.map((b) => b.events)).toEqual([1000, 1000, 500]);
    expect(new Set(batches.map((b) => b.batchId)).size).toBe(3);
    expect(await countedEvents(ns)).toBe(2500);
  });

  it("honours a smaller batchSize, and flush() resolves only once every batch is acknowledged", async () => {
    const ns = freshNamespace("cl");
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(ns), fetch, scheduler: new ManualScheduler(), batchSize: 40 });
    for (const e of events(100)) tally.track(e);
    await tally.flush();
    expect(batchesOf(sent).map((b) => b.events)).toEqual([40, 40, 20]);
    expect(tally.queued).toBe(0);
    // Counted at once after flush(): the 202s came after the batches were durable (docs/api.md).
    expect(await countedEvents(ns)).toBe(100);
  });

  it("takes a Date as ts", async () => {
    const ns = freshNamespace("cl");
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(ns), fetch, scheduler: new ManualScheduler() });
    const ts = new Date(Date.now() - 60_000);
    tally.track({ item: "a", ts });
    await tally.flush();
    expect(JSON.parse(sent[0]!.body!).events[0].ts).toBe(ts.getTime());
    expect(await countedEvents(ns)).toBe(1);
  });
});

describe("send", () => {
  it("sends one batch now and answers like the service; the same batchId again is a duplicate", async () => {
    const ns = freshNamespace("cl");
    const tally = createClient({ ...service(ns), fetch: recordingFetch().fetch });
    expect(await tally.send([{ item: "a" }, { item: "b" }], "batch-1")).toEqual({ accepted: 2, duplicate: false });
    expect(await tally.send([{ item: "a" }, { item: "b" }], "batch-1")).toEqual({ accepted: 2, duplicate: true });
    expect(await countedEvents(ns)).toBe(2);
  });
});

describe("reads", () => {
  async function warm(prefix: string): Promise<string> {
    const ns = freshNamespace(prefix);
    await ingestAll(ns, [{ item: "a", actor: "u1" }, { item: "a" }, { item: "b" }]);
    await refresh(ns);
    return ns;
  }

  it("revive from, to and computedAt as Dates equal to the times the service sent, with the read headers", async () => {
    const ns = await warm("rd");
    const tally = createClient({ ...service(ns), fetch: recordingFetch().fetch });
    const wire = await get(ns, "trending", { window: "24h", limit: 1 });
    const raw = await json<{ from: string; to: string; computedAt: string; items: unknown[] }>(wire.clone());
    const answer = await tally.trending({ window: "24h", limit: 1 });
    if (answer.notModified) throw new Error("expected a 200");
    expect(answer.body.from).toBeInstanceOf(Date);
    expect(answer.body.from.toISOString()).toBe(raw.from);
    expect(answer.body.to.toISOString()).toBe(raw.to);
    expect(answer.body.computedAt.toISOString()).toBe(raw.computedAt);
    expect(answer.body.items).toEqual(raw.items);
    expect(answer.etag).toBe(wire.headers.get("ETag"));
    expect(answer.generation).toBe(Number(wire.headers.get("X-Generation")));
    expect(["HIT-EDGE", "HIT-KV", "HIT-DO"]).toContain(answer.cache);
    expect(answer.stale).toBe(false);
  });

  it("revive stats series starts and every dashboard window's times", async () => {
    const ns = await warm("rd");
    const tally = createClient({ ...service(ns), fetch: recordingFetch().fetch });
    const raw = await json<{ series: { start: string }[] }>(await get(ns, "stats", { window: "1h" }));
    const stats = await tally.stats({ window: "1h" });
    if (stats.notModified) throw new Error("expected a 200");
    expect(stats.body.series.map((p) => p.start.toISOString())).toEqual(raw.series.map((p) => p.start));
    expect(stats.body.events).toBe(3);
    const dashboard = await tally.dashboard();
    if (dashboard.notModified) throw new Error("expected a 200");
    const windows = Object.values(dashboard.body.windows);
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) {
      expect(w.stats.from).toBeInstanceOf(Date);
      expect(w.top.computedAt.getTime()).toBe(dashboard.body.computedAt.getTime());
    }
  });

  it("ask for compare, and revive previousFrom and previousTo as Dates equal to the times the service sent", async () => {
    const ns = await warm("rd");
    const tally = createClient({ ...service(ns), fetch: recordingFetch().fetch });
    const raw = await json<{ previousFrom: string; previousTo: string; items: unknown[] }>(await get(ns, "trending", { window: "1h", compare: "previous" }));
    const answer = await tally.trending({ window: "1h", compare: "previous" });
    if (answer.notModified) throw new Error("expected a 200");
    expect(answer.body.compare).toBe("previous");
    expect(answer.body.previousFrom?.toISOString()).toBe(raw.previousFrom);
    expect(answer.body.previousTo?.toISOString()).toBe(raw.previousTo);
    expect(answer.body.items).toEqual(raw.items);
    expect(answer.body.items[0]).toMatchObject({ item: "a", previousScore: 0, previousError: 0 });
    const stats = await tally.stats({ window: "24h", compare: "week" });
    if (stats.notModified) throw new Error("expected a 200");
    expect(stats.body.previousTo).toBeInstanceOf(Date);
    expect(stats.body.previous).toEqual({ events: 0, weight: 0, uniqueItems: 0, uniqueActors: 0 });
    const refusal = await tally.stats({ window: "1h", compare: "week" }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TallyValidationError);
    expect([(refusal as TallyValidationError).code, (refusal as TallyValidationError).field]).toEqual(["invalid_compare", "compare"]);
  });

  it("answer notModified (status 304, no body) to the ETag of the answer held", async () => {
    const ns = await warm("rd");
    const tally = createClient({ ...service(ns), fetch: recordingFetch().fetch });
    const first = await tally.trending({ window: "1h" });
    expect(first.status).toBe(200);
    const again = await tally.trending({ window: "1h", etag: first.etag });
    expect(again).toMatchObject({ notModified: true, status: 304, body: null, etag: first.etag });
  });
});

describe("segments (v1.7)", () => {
  const DIMENSIONS = { category: {}, tag: { multi: true } };
  async function withDimensions(prefix: string): Promise<string> {
    const ns = freshNamespace(prefix);
    await admin("PUT", ns, "config", { dimensions: DIMENSIONS });
    await ingestAll(ns, [{ item: "a", dims: { category: "sci/fi", tag: ["cats", "über"] } }, { item: "b", dims: { category: "news" } }]);
    await refresh(ns);
    return ns;
  }
  const searchOf = (sent: { url: string }[]) => new URL(sent.at(-1)!.url).search;

  it("send an event's dims as given", async () => {
    const ns = freshNamespace("sg");
    await admin("PUT", ns, "config", { dimensions: DIMENSIONS });
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(ns), fetch });
    const dims = { category: "comedy", tag: ["cats", "funny"] };
    expect(await tally.send([{ item: "a", dims }])).toEqual({ accepted: 1, duplicate: false });
    expect(JSON.parse(sent[0]!.body!).events[0].dims).toEqual(dims);
  });

  it("ask for segment=<dimension>:<value> URL-encoded, and the service reads back the very value, for ':', '/', '%', '+', spaces and non-ASCII", async () => {
    const ns = await withDimensions("sg");
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(ns), fetch });
    await tally.trending({ segment: { dimension: "category", value: "sci/fi" }, rank: "rising", limit: 3 });
    expect(searchOf(sent)).toBe("?rank=rising&limit=3&segment=category%3Asci%2Ffi");
    await tally.stats({ window: "1h", segment: { dimension: "tag", value: "100% über" } });
    expect(searchOf(sent)).toBe("?window=1h&segment=tag%3A100%25+%C3%BCber");
    for (const value of ["a:b", "sci/fi", "100%", "%2F", "1+1 = 2", "über", "日本", "<img src=x onerror=alert(1)>"]) {
      const segment = { dimension: "tag", value };
      const top = await tally.trending({ segment });
      const stats = await tally.stats({ segment });
      if (top.notModified || stats.notModified) throw new Error("expected a 200");
      expect(top.body.segment, value).toEqual(segment);
      expect(stats.body.segment, value).toEqual(segment);
    }
  });

  it("revive a segment's ranking and stats with their bounds, as the description says", async () => {
    const ns = await withDimensions("sg");
    const tally = createClient({ ...service(ns), fetch: recordingFetch().fetch });
    const segment = { dimension: "category", value: "sci/fi" };
    const raw = await json<{ computedAt: string; floor: number; items: unknown[] }>(await get(ns, "trending", { segment: "category:sci/fi", rank: "hot" }));
    const top = await tally.trending({ segment, rank: "hot" });
    if (top.notModified) throw new Error("expected a 200");
    expect(top.body.computedAt).toBeInstanceOf(Date);
    expect([top.body.segment, top.body.floor, top.body.items]).toEqual([segment, raw.floor, raw.items]);
    expect(schemaErrors({ $ref: "#/components/schemas/SegmentTrending" }, JSON.parse(JSON.stringify(top.body)))).toEqual([]);
    const stats = await tally.stats({ window: "24h", segment });
    if (stats.notModified) throw new Error("expected a 200");
    expect(stats.body.series.every((p) => p.start instanceof Date)).toBe(true);
    expect(stats.body).toMatchObject({ segment, error: { events: expect.any(Number), weight: expect.any(Number) }, exact: expect.any(Boolean) });
    expect(stats.body).not.toHaveProperty("uniqueActors");
    expect(schemaErrors({ $ref: "#/components/schemas/SegmentStats" }, JSON.parse(JSON.stringify(stats.body)))).toEqual([]);
  });

  it("refuse an undeclared dimension (invalid_dimension, with the declared ones) and a segment with rank=reach (invalid_segment)", async () => {
    const ns = await withDimensions("sg");
    const tally = createClient({ ...service(ns), fetch: recordingFetch().fetch });
    const undeclared = await tally.trending({ segment: { dimension: "country", value: "de" } }).catch((e: unknown) => e);
    expect(undeclared).toBeInstanceOf(TallyValidationError);
    expect(undeclared).toMatchObject({ status: 400, code: "invalid_dimension", allowed: ["category", "tag"] });
    const reach = await tally.trending({ segment: { dimension: "tag", value: "cats" }, rank: "reach" as "top" }).catch((e: unknown) => e);
    expect(reach).toMatchObject({ status: 400, code: "invalid_segment", field: "rank" });
    await expect(tally.dimension("country")).rejects.toMatchObject({ code: "invalid_dimension" });
    await expect(tally.dimension("tag", { cursor: "not-one" })).rejects.toMatchObject({ code: "invalid_cursor", field: "cursor" });
  });

  it("read a dimension's breakdown: window and limit in the query, its times as Dates, as the description says", async () => {
    const ns = await withDimensions("sg");
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(ns), fetch });
    const raw = await json<{ computedAt: string; values: unknown[]; cursor: string | null }>(await get(ns, "dimensions/tag", { window: "7d", limit: 5 }));
    const page = await tally.dimension("tag", { window: "7d", limit: 5 });
    expect(new URL(sent.at(-1)!.url).pathname).toBe(`/v1/namespaces/${ns}/dimensions/tag`);
    expect(searchOf(sent)).toBe("?window=7d&limit=5");
    if (page.notModified) throw new Error("expected a 200");
    expect(page.body.computedAt.toISOString()).toBe(raw.computedAt);
    expect([page.body.dimension, page.body.window, page.body.values, page.body.cursor]).toEqual(["tag", "7d", raw.values, raw.cursor]);
    expect(schemaErrors({ $ref: "#/components/schemas/DimensionPage" }, JSON.parse(JSON.stringify(page.body)))).toEqual([]);
    const again = await tally.dimension("tag", { window: "7d", limit: 5, etag: page.etag });
    expect(again).toMatchObject({ notModified: true, status: 304 });
  });

  it("page through a breakdown by passing each page's cursor back, to the page whose cursor is null", async () => {
    // A stand-in for the service, serving 23 values the way docs/api.md pages them: this tests the
    // client's half (the cursor goes back as given, every page is revived); the service's paging is
    // tested against the Worker in the tests of segments.
    const t = "2026-12-01T12:00:00.000Z";
    const values = Array.from({ length: 23 }, (_, i) => ({ value: `v${i}`, events: 30 - i, weight: 60 - i, error: 0, eventsError: 0 }));
    const asked: string[] = [];
    const fetch: Fetch = async (url) => {
      const q = new URL(url).searchParams;
      asked.push(q.toString());
      const offset = q.has("cursor") ? Number(q.get("cursor")!.slice(1)) : 0;
      const end = offset + Number(q.get("limit") ?? 10);
      const page = { namespace: "n", window: "24h", dimension: "tag", from: t, to: t, computedAt: t, generation: 1, exact: true, floor: 0, values: values.slice(offset, end), cursor: end < values.length ? `o${end}` : null };
      return Response.json(page, { headers: { ETag: `"${offset}"` } });
    };
    const tally = createClient({ baseUrl: "http://tally.test", namespace: "n", fetch, flushOnPageHide: false });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ReadResult<DimensionPage> = await tally.dimension("tag", { limit: 10, cursor });
      if (page.notModified) throw new Error("expected a 200");
      expect(page.body.from).toBeInstanceOf(Date);
      seen.push(...page.body.values.map((v) => v.value));
      cursor = page.body.cursor;
    } while (cursor !== null);
    expect(asked).toEqual(["limit=10", "limit=10&cursor=o10", "limit=10&cursor=o20"]);
    expect(seen).toEqual(values.map((v) => v.value));
  });
});

describe("typed errors", () => {
  it("a bad query is a TallyValidationError with the code, the field and the allowed values", async () => {
    const ns = freshNamespace("er");
    await ingestAll(ns, [{ item: "a" }]);
    const tally = createClient({ ...service(ns), fetch: recordingFetch().fetch });
    const error = await tally.trending({ window: "2h" as "1h" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TallyValidationError);
    expect(error).toMatchObject({ status: 400, code: "invalid_window", field: "window", allowed: ["5m", "1h", "24h", "7d", "30d", "today", "yesterday", "thisWeek", "thisMonth"] });
  });

  it("a bad event of send() names its index and field", async () => {
    const tally = createClient({ ...service(freshNamespace("er")), fetch: recordingFetch().fetch });
    const error = await tally.send([{ item: "a" }, { item: "" }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TallyValidationError);
    expect(error).toMatchObject({ status: 400, code: "invalid_event", index: 1, field: "item" });
  });

  it("an unknown namespace is a TallyNotFoundError; a missing or weak token a TallyAuthError", async () => {
    const ns = freshNamespace("er");
    const { fetch } = recordingFetch();
    await expect(createClient({ ...service(ns), fetch }).stats()).rejects.toMatchObject({ status: 404, code: "namespace_not_found" });
    await expect(createClient({ ...service(ns), fetch }).stats()).rejects.toBeInstanceOf(TallyNotFoundError);
    const anonymous = createClient({ baseUrl: service(ns).baseUrl, namespace: ns, fetch });
    await expect(anonymous.getConfig()).rejects.toSatisfy((e) => e instanceof TallyAuthError && e.status === 401 && e.code === "unauthorized");
    const ingestOnly = createClient({ ...service(ns, TOKENS.ingest), fetch });
    await expect(ingestOnly.invalidate()).rejects.toSatisfy((e) => e instanceof TallyAuthError && e.status === 403 && e.code === "forbidden");
  });

  it("refuses bad options when the client is made, not on first use", () => {
    expect(() => createClient({ baseUrl: "tally.test", namespace: "n" })).toThrow(/baseUrl/);
    expect(() => createClient({ baseUrl: "http://t", namespace: "Bad" })).toThrow(/namespace/);
    expect(() => createClient({ baseUrl: "http://t", namespace: "n", batchSize: 1001 })).toThrow(/batchSize/);
  });
});

describe("admin methods", () => {
  it("config, refresh, cache report, invalidate and delete, end to end", async () => {
    const ns = freshNamespace("ad");
    const tally = createClient({ ...service(ns, TOKENS.admin), fetch: recordingFetch().fetch });
    const config = await tally.putConfig({ maxLimit: 20, types: { like: { weight: 3 } } });
    expect(config).toMatchObject({ maxLimit: 20, types: { like: { weight: 3 } } });
    expect(await tally.getConfig()).toEqual(await json(await admin("GET", ns, "config")));
    await tally.send([{ item: "a", type: "like" }]);
    const before = Date.now();
    const refreshed = await tally.refresh();
    expect(refreshed.computedAt).toBeInstanceOf(Date);
    expect(refreshed.computedAt.getTime()).toBeGreaterThanOrEqual(before);
    const report = await tally.cacheReport();
    expect(report.lastRefresh?.at.getTime()).toBe(refreshed.computedAt.getTime());
    const { generation } = await tally.invalidate();
    expect(generation).toBeGreaterThan(refreshed.generation);
    expect(await tally.deleteNamespace()).toMatchObject({ namespace: ns, deleted: true });
    await expect(tally.stats()).rejects.toBeInstanceOf(TallyNotFoundError);
  });
});

describe("the client's types against the OpenAPI description", () => {
  /** The wire form of a client value: Dates back to ISO strings, as JSON.stringify writes them. */
  const wire = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
  const errorsAgainst = (schema: string, value: unknown) => schemaErrors({ $ref: `#/components/schemas/${schema}` }, wire(value));

  it("every answer the client returns is, with its Dates as ISO strings, what the description says", async () => {
    const ns = freshNamespace("ty");
    const tally = createClient({ ...service(ns, TOKENS.admin), fetch: recordingFetch().fetch });
    expect(errorsAgainst("Config", await tally.putConfig({ types: { view: {}, like: { weight: 2 } } }))).toEqual([]);
    expect(errorsAgainst("IngestResult", await tally.send([{ item: "a", type: "like", actor: "u" }, { item: "b" }]))).toEqual([]);
    expect(errorsAgainst("RefreshResult", await tally.refresh())).toEqual([]);
    for (const rank of ["top", "rising"] as const) {
      const answer = await tally.trending({ rank, type: "like" });
      expect(errorsAgainst("Trending", answer.body)).toEqual([]);
    }
    expect(errorsAgainst("Stats", (await tally.stats({ window: "7d" })).body)).toEqual([]);
    expect(errorsAgainst("Trending", (await tally.trending({ rank: "hot", compare: "previous" })).body)).toEqual([]);
    expect(errorsAgainst("Stats", (await tally.stats({ window: "24h", compare: "week" })).body)).toEqual([]);
    expect(errorsAgainst("Dashboard", (await tally.dashboard()).body)).toEqual([]);
    expect(errorsAgainst("Config", await tally.getConfig())).toEqual([]);
    expect(errorsAgainst("CacheReport", await tally.cacheReport())).toEqual([]);
    expect(errorsAgainst("InvalidateResult", await tally.invalidate())).toEqual([]);
    expect(errorsAgainst("DeleteResult", await tally.deleteNamespace())).toEqual([]);
  });

  it("would notice a time left as a Date-less string or a missing field", () => {
    expect(errorsAgainst("RefreshResult", { namespace: "n", computedAt: "yesterday", generation: 1 })).not.toEqual([]);
    expect(errorsAgainst("IngestResult", { accepted: 1 })).not.toEqual([]);
  });
});

describe("the package", () => {
  it("is importable as tally/client, and that build talks to the Worker too", async () => {
    const ns = freshNamespace("pk");
    const tally = createClientByPackageName({ ...service(ns), fetch: recordingFetch().fetch });
    expect(await tally.send([{ item: "a" }])).toEqual({ accepted: 1, duplicate: false });
  });
});
