/**
 * Segments over HTTP (docs/api.md, "Segments"): trending in one category, one country and one tag,
 * and the top values of each dimension, exactly as an exact count of the events with that value,
 * whether the namespace's object takes every batch or four ingest shards do; and every refusal.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type {
  CacheReport,
  DashboardSnapshot,
  DimensionSnapshot,
  EventDims,
  SegmentStatsSnapshot,
  SegmentTrendingSnapshot,
  TrendingSnapshot,
  Window,
} from "../src/shared/contract";
import { TOKENS, admin, bearer, call, expectError, freshNamespace, get, ingest, ingestAll, json, refresh } from "./support/http";
import { hotScores, inRange, ranked, scores, type Counted } from "./support/exact";
import { rng } from "./support/random";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BUCKET: Record<Window, number> = { "5m": MINUTE, "1h": MINUTE, "24h": HOUR, "7d": 6 * HOUR, "30d": DAY };
const WINDOWS: Window[] = ["1h", "24h", "7d"];
const HALF_LIFE_SECONDS = 3600;
const DIMENSIONS = { category: {}, country: {}, tag: { multi: true } };

type Event = Counted & { dims?: Record<string, string | string[]> };

/** 8 days over 150 items: a category on most events, a country on many, up to 3 tags on some;
 * values include text that needs URL-encoding. */
function stream(now: number): Event[] {
  const random = rng(17);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const spans = [8 * DAY, 2 * DAY, 2 * HOUR, 10 * MINUTE];
  const events: Event[] = [];
  for (let i = 0; i < 6000; i++) {
    const dims: Record<string, string | string[]> = {};
    if (random() < 0.9) dims.category = pick(["comedy", "sci/fi", "news & views", "sport"]);
    if (random() < 0.7) dims.country = pick(["de", "fr", "in", "us"]);
    if (random() < 0.5) dims.tag = [...new Set([pick(["cats", "funny", "dogs", "#1", "über"]), pick(["cats", "funny", "retro"])])];
    events.push({
      item: `item-${Math.floor(random() ** 2 * 150)}`,
      type: random() < 0.5 ? "view" : "like",
      weight: 0.5 * (1 + Math.floor(random() * 4)),
      ts: now - 1000 - Math.floor(random() * spans[i % spans.length]!),
      dims,
    });
  }
  return events;
}

const ms = (iso: string) => Date.parse(iso);
const valuesOf = (e: Event, dimension: string): string[] => {
  const v = e.dims?.[dimension];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};
const inSegment = (events: readonly Event[], dimension: string, value: string) => events.filter((e) => valuesOf(e, dimension).includes(value));

describe.each([1, 4])("segments with ingestShards: %i", (ingestShards) => {
  const ns = freshNamespace(`segments-k${ingestShards}`);
  let events: Event[];

  beforeAll(async () => {
    await admin("PUT", ns, "config", { windows: WINDOWS, maxLimit: 500, types: { view: {} }, hotHalfLifeSeconds: HALF_LIFE_SECONDS, ingestShards, dimensions: DIMENSIONS });
    events = stream(Date.now());
    await ingestAll(ns, events);
    await refresh(ns);
  });

  const segments = [
    ["category", "sci/fi"],
    ["country", "de"],
    ["tag", "cats"],
    ["tag", "über"],
  ] as const;

  describe.each(WINDOWS)("the %s window", (window) => {
    it.each(segments)("ranks top, rising and hot items in %s = %s as an exact count of its events", async (dimension, value) => {
      const mine = inSegment(events, dimension, value);
      for (const rank of ["top", "rising", "hot"] as const) {
        const res = await get(ns, "trending", { window, rank, limit: 500, segment: `${dimension}:${value}` });
        expect(res.status).toBe(200);
        const answer = await json<SegmentTrendingSnapshot>(res);
        expect(answer.segment).toEqual({ dimension, value });
        expect(answer.exact).toBe(true);
        expect(answer.floor).toBe(0);
        const from = ms(answer.from);
        const to = ms(answer.to);
        if (rank === "top") {
          expect(answer.items.map(({ item, score }) => ({ item, score }))).toEqual(ranked(scores(inRange(mine, from, to))).slice(0, 500));
        } else if (rank === "hot") {
          const expected = ranked(hotScores(mine, from, to, BUCKET[window], HALF_LIFE_SECONDS));
          expect(answer.items.map((i) => i.item)).toEqual(expected.slice(0, 500).map((e) => e.item));
        } else {
          const span = Math.ceil((to - from) / BUCKET[window]) * BUCKET[window];
          const current = scores(inRange(mine, from, to));
          const previous = scores(inRange(mine, from - span, from));
          for (const i of answer.items) {
            expect(i.current).toBe(current.get(i.item));
            expect(i.previous).toBe(previous.get(i.item) ?? 0);
          }
        }
      }
    });

    it.each(segments)("states the stats of %s = %s exactly", async (dimension, value) => {
      const res = await get(ns, "stats", { window, segment: `${dimension}:${value}` });
      expect(res.status).toBe(200);
      const stats = await json<SegmentStatsSnapshot>(res);
      const inside = inRange(inSegment(events, dimension, value), ms(stats.from), ms(stats.to));
      expect(stats).toMatchObject({ exact: true, error: { events: 0, weight: 0 }, events: inside.length });
      expect(stats.weight).toBe(inside.reduce((s, e) => s + e.weight, 0));
      expect(stats.uniqueItems).toBe(new Set(inside.map((e) => e.item)).size);
    });

    it.each(Object.keys(DIMENSIONS))("breaks %s down into its values, a page at a time", async (dimension) => {
      const first = await json<DimensionSnapshot & { cursor: string | null }>(await get(ns, `dimensions/${dimension}`, { window, limit: 2 }));
      const truth = new Map<string, { events: number; weight: number }>();
      for (const e of inRange(events, ms(first.from), ms(first.to)) as Event[]) {
        for (const value of valuesOf(e, dimension)) {
          const t = truth.get(value) ?? { events: 0, weight: 0 };
          t.events += 1;
          t.weight += e.weight;
          truth.set(value, t);
        }
      }
      const expected = ranked(new Map([...truth].map(([v, t]) => [v, t.weight])));
      const pages = [first];
      while (pages.at(-1)!.cursor !== null) {
        const res = await get(ns, `dimensions/${dimension}`, { window, limit: 2, cursor: pages.at(-1)!.cursor! });
        expect(res.status).toBe(200);
        pages.push(await json(res));
      }
      const values = pages.flatMap((p) => p.values);
      expect(first.exact).toBe(true);
      expect(values.map((v) => ({ item: v.value, score: v.weight }))).toEqual(expected);
      for (const v of values) expect(v).toMatchObject({ events: truth.get(v.value)!.events, error: 0, eventsError: 0 });
    });
  });

  it("puts each dimension's top 10 values in the dashboard", async () => {
    const dashboard = await json<DashboardSnapshot>(await get(ns, "dashboard"));
    for (const window of WINDOWS) {
      const dims = dashboard.windows[window]!.dimensions!;
      expect(Object.keys(dims).sort()).toEqual(Object.keys(DIMENSIONS).sort());
      const whole = await json<DimensionSnapshot>(await get(ns, "dimensions/tag", { window, limit: 10 }));
      expect(dims.tag!.values).toEqual(whole.values);
    }
  });

  it("serves the hot segments from the refresh's answers, never computing while the reader waits", async () => {
    const top = await json<DimensionSnapshot>(await get(ns, "dimensions/category", { window: WINDOWS[0]!, limit: 1 }));
    const res = await get(ns, "trending", { window: "1h", segment: `category:${top.values[0]!.value}` });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Cache")).not.toBe("MISS");
    const report = await json<CacheReport>(await admin("GET", ns, "cache"));
    expect(report.segments!.hot).toContainEqual({ dimension: "category", value: top.values[0]!.value });
    expect(report.segments!.hot.length).toBeLessThanOrEqual(8);
  });
});

describe("a segment read outside the hot ones", () => {
  it("is computed on its first read, then kept warm, and /cache reports it and its layers", async () => {
    const ns = freshNamespace("segments-warm");
    await admin("PUT", ns, "config", { windows: ["1h"], dimensions: { tag: { multi: true } } });
    // Nine tags: the 8 hot segments leave the ninth to be computed when read.
    const tags = Array.from({ length: 9 }, (_, i) => `t${i}`);
    await ingest(ns, tags.flatMap((tag, i) => Array.from({ length: 9 - i }, () => ({ item: `a-${tag}`, dims: { tag } }))));
    await refresh(ns);
    const first = await get(ns, "trending", { segment: "tag:t8" });
    expect(first.headers.get("X-Cache")).toBe("MISS");
    expect((await json<SegmentTrendingSnapshot>(first)).items.map((i) => i.item)).toEqual(["a-t8"]);
    await refresh(ns);
    const report = await json<CacheReport>(await admin("GET", ns, "cache"));
    expect(report.segments!.warm).toBeGreaterThanOrEqual(1);
    expect(report.segments!.hot).toHaveLength(8);
    expect(report.segments!.hot).not.toContainEqual({ dimension: "tag", value: "t8" });
  });
});

describe("segments keep every other promise", () => {
  it("hide suppressed items from every segment, and invalidate, export, import and delete them", async () => {
    const ns = freshNamespace("segments-promises");
    await admin("PUT", ns, "config", { windows: ["1h"], dimensions: { category: {} } });
    await ingest(ns, [
      { item: "spam", weight: 9, dims: { category: "news" } },
      { item: "ok", weight: 2, dims: { category: "news" } },
    ]);
    await refresh(ns);
    expect((await admin("PUT", ns, "suppressions/spam")).status).toBeLessThan(300);
    const listed = await json<TrendingSnapshot>(await get(ns, "trending", { segment: "category:news" }));
    expect(listed.items.map((i) => i.item)).toEqual(["ok"]);

    const before = listed.generation;
    expect((await admin("POST", ns, "invalidate")).status).toBe(200);
    const after = await json<TrendingSnapshot>(await get(ns, "trending", { segment: "category:news" }));
    expect(after.generation).toBeGreaterThan(before);
    expect(after.items.map((i) => i.item)).toEqual(["ok"]);

    const exported = await (await admin("GET", ns, "export")).text();
    const copy = freshNamespace("segments-copy");
    const imported = await fetchImport(copy, exported);
    expect(imported).toBe(200);
    await refresh(copy);
    const again = await json<DimensionSnapshot>(await get(copy, "dimensions/category", { window: "1h" }));
    expect(again.values).toEqual([{ value: "news", events: 2, weight: 11, error: 0, eventsError: 0 }]);

    expect((await admin("DELETE", ns, "")).status).toBeLessThan(300);
    await expectError(await get(ns, "dimensions/category"), 404, "namespace_not_found");
  });
});

/** Imports a document as it came: any change to it is refused. */
async function fetchImport(ns: string, document: string): Promise<number> {
  const res = await call("POST", `/v1/namespaces/${ns}/import`, { headers: { ...bearer(TOKENS.admin), "Content-Type": "application/json" }, body: document });
  return res.status;
}

describe("segment refusals", () => {
  const ns = freshNamespace("segments-refusals");
  beforeAll(async () => {
    await admin("PUT", ns, "config", { types: { view: {} }, dimensions: { category: {}, tag: { multi: true } } });
    await ingest(ns, [{ item: "a", dims: { category: "news" } }]);
  });

  it.each([
    [{ segment: "nodim" }, "invalid_segment"],
    [{ segment: "category:" }, "invalid_segment"],
    [{ segment: `category:${"x".repeat(129)}` }, "invalid_segment"],
    [{ segment: "colour:red" }, "invalid_dimension"],
    [{ segment: "category:news", type: "view" }, "invalid_segment"],
    [{ segment: "category:news", rank: "reach" }, "invalid_segment"],
  ])("refuses a trending read with %j: %s", async (query, code) => {
    await expectError(await get(ns, "trending", query as Record<string, string>), 400, code);
  });

  it("refuses a segment's stats with compare, and a breakdown of an undeclared dimension or a foreign cursor", async () => {
    await expectError(await get(ns, "stats", { segment: "category:news", compare: "previous" }), 400, "invalid_compare");
    await expectError(await get(ns, "dimensions/colour"), 400, "invalid_dimension");
    await expectError(await get(ns, "dimensions/category", { cursor: "o999999" }), 400, "invalid_cursor");
    await expectError(await get(ns, "dimensions/category", { cursor: "page2" }), 400, "invalid_cursor");
  });

  it.each([
    [{ item: "b", dims: { colour: "red" } }, "dims.colour"],
    [{ item: "b", dims: { category: ["news", "sport"] } }, "dims.category"],
    [{ item: "b", dims: { tag: Array.from({ length: 9 }, (_, i) => `t${i}`) } }, "dims.tag"],
    [{ item: "b", dims: { tag: ["x".repeat(129)] } }, "dims.tag"],
  ])("refuses a batch with an event %j, naming %s, and keeps nothing of it", async (bad, field) => {
    const res = await ingest(ns, [{ item: "kept-not", dims: { category: "news" } }, bad as { item: string; dims: EventDims }]);
    const error = await expectError(res, 400, "invalid_event");
    expect(error.field).toBe(field);
    expect(error.index).toBe(1);
    await refresh(ns);
    const answer = await json<TrendingSnapshot>(await get(ns, "trending", { segment: "category:news", limit: 100 }));
    expect(answer.items.map((i) => i.item)).not.toContain("kept-not");
  });

  it("refuses a config with too many dimensions, a bad name or setting, or summaries beyond the budget", async () => {
    const many = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`d${i}`, {}]));
    for (const dimensions of [many, { "a:b": {} }, { a: { multi: "yes" } }, { a: { capacity: 5 } }, { a: { colour: 1 } }]) {
      await expectError(await admin("PUT", ns, "config", { dimensions }), 400, "invalid_config");
    }
    const eight = (capacity?: number) => Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`d${i}`, capacity === undefined ? {} : { capacity }]));
    // Eight dimensions of the default capacity fit beside no capacity at all: the refusal names
    // the dimensions and the capacity each may have instead, and that config is accepted.
    const error = await expectError(await admin("PUT", ns, "config", { dimensions: eight() }), 400, "invalid_config");
    expect(error.field).toBe("dimensions");
    const offered = (error.allowed as { maxDimensionCapacity: number }).maxDimensionCapacity;
    expect(offered).toBeGreaterThanOrEqual(10);
    expect(offered).toBeLessThan(1000);
    expect(error.message).toContain(`at most ${offered}`);
    expect((await admin("PUT", ns, "config", { dimensions: eight(offered) })).status).toBe(200);
    // One counter more, and the item capacity is what no longer fits.
    const wider = await expectError(await admin("PUT", ns, "config", { dimensions: eight(offered + 1) }), 400, "invalid_config");
    expect(wider.field).toBe("capacity");
    expect((wider.allowed as { max: number }).max).toBeLessThan(5000);
  });
});
