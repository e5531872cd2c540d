/**
 * Segments in the core (docs/api.md, "Segments"): a segment's answers are what the same answers give
 * over only the events with its value, exactly while its dimension's summaries held every pair and
 * value, and bounded always.
 */
import { describe, expect, it } from "vitest";
import { WINDOWS, type EventDims, type Segment, type TallyEvent, type Window } from "../../src/shared/contract";
import { Aggregator, type Scope } from "../../src/core/aggregator";
import { previousRange, tierOf, windowRange } from "../../src/core/tiers";
import { ItemDictionary } from "../../src/core/dictionary";
import { SegmentKeys, pairKeyOf } from "../../src/core/segments";
import { hash53 } from "../../src/core/hash";
import { hotScores, inRange, ranked, scores, type Counted } from "../support/exact";
import { rng } from "../support/random";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 21, 12, 30, 15);
const HALF_LIFE = 3600;
const CATEGORIES = ["comedy", "drama", "news", "sport"];
const COUNTRIES = ["de", "fr", "in", "us", "br"];
const TAGS = ["cats", "funny", "dogs", "music", "live", "retro"];

type Event = Counted & { dims?: EventDims };

/** 8 days over 120 items, each event with a category, most with a country, some with 1 to 3 tags. */
function stream(now: number, n = 6000, seed = 21): Event[] {
  const random = rng(seed);
  const spans = [8 * DAY, 2 * DAY, 2 * HOUR, 10 * MINUTE];
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const events: Event[] = [];
  for (let i = 0; i < n; i++) {
    const dims: EventDims = { category: [pick(CATEGORIES)] };
    if (random() < 0.8) dims.country = [pick(COUNTRIES)];
    if (random() < 0.6) dims.tag = [...new Set([pick(TAGS), pick(TAGS), pick(TAGS)].slice(0, 1 + Math.floor(random() * 3)))];
    events.push({
      item: `item-${Math.floor(random() ** 2 * 120)}`,
      type: random() < 0.5 ? "view" : "like",
      weight: 0.5 * (1 + Math.floor(random() * 6)),
      ts: now - 1000 - Math.floor(random() * spans[i % spans.length]!),
      dims,
    });
  }
  return events;
}

const DIMENSIONS = { category: {}, country: {}, tag: { multi: true } };

function aggregatorOver(events: readonly Event[], now: number, options: { capacity?: number; dimensionCapacity?: number } = {}): Aggregator {
  const dimensions = Object.fromEntries(Object.keys(DIMENSIONS).map((d) => [d, options.dimensionCapacity === undefined ? {} : { capacity: options.dimensionCapacity }]));
  const agg = new Aggregator({ capacity: options.capacity ?? 1000, types: ["view"], dimensions });
  // Ingested over the 8 days as a live service would: each day's events when that day is current.
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  for (let k = 8; k >= 0; k--) {
    const at = now - k * DAY;
    agg.advance(at);
    agg.ingest(sorted.filter((e) => e.ts >= at - DAY && e.ts < at) as TallyEvent[], at);
  }
  agg.advance(now);
  return agg;
}

const inSegment = (events: readonly Event[], s: Segment) => events.filter((e) => e.dims?.[s.dimension]?.includes(s.value));

describe("a segment", () => {
  const events = stream(T0);
  const agg = aggregatorOver(events, T0);
  const segments: Segment[] = [
    { dimension: "category", value: "comedy" },
    { dimension: "country", value: "de" },
    { dimension: "tag", value: "cats" },
    { dimension: "tag", value: "retro" },
  ];

  describe.each(WINDOWS)("over %s", (window: Window) => {
    const { from, to } = windowRange(window, T0);

    it.each(segments)("ranks top items exactly as an exact count of the events with $dimension = $value", (segment) => {
      const answer = agg.top(window, segment, T0, 500);
      const expected = ranked(scores(inRange(inSegment(events, segment), from, to)));
      expect(answer.exact).toBe(true);
      expect(answer.floor).toBe(0);
      expect(answer.items.map(({ item, score }) => ({ item, score }))).toEqual(expected);
    });

    it.each(segments)("ranks rising and hot items of $dimension = $value as their definitions over its events", (segment) => {
      const mine = inSegment(events, segment);
      const bucketMs = tierOf(window).bucketMs;
      const before = previousRange(window, T0);
      const previous = scores(inRange(mine, before.from, before.to));
      const rising = agg.rising(window, segment, T0, 500);
      expect(rising.exact).toBe(true);
      for (const item of rising.items) expect(item.current! - item.previous!).toBe(item.score);
      const current = scores(inRange(mine, from, to));
      for (const item of rising.items) {
        expect(item.current).toBe(current.get(item.item));
        expect(item.previous).toBe(previous.get(item.item) ?? 0);
        expect(item.new).toBe(!previous.has(item.item));
      }
      const hot = agg.hot(window, segment, T0, 500, HALF_LIFE);
      const expectedHot = ranked(hotScores(mine, from, to, bucketMs, HALF_LIFE));
      expect(hot.items.map((i) => i.item)).toEqual(expectedHot.map((i) => i.item));
      hot.items.forEach((item, i) => expect(item.score).toBeCloseTo(expectedHot[i]!.score, 9));
    });

    it.each(segments)("states the stats of $dimension = $value exactly: events, weight, items and series", (segment) => {
      const mine = inRange(inSegment(events, segment), from, to);
      const stats = agg.segmentStats(window, segment, T0);
      expect(stats.exact).toBe(true);
      expect(stats.error).toEqual({ events: 0, weight: 0 });
      expect(stats.events).toBe(mine.length);
      expect(stats.weight).toBe(mine.reduce((sum, e) => sum + e.weight, 0));
      expect(stats.uniqueItems).toBe(new Set(mine.map((e) => e.item)).size);
      expect(stats.series.reduce((sum, p) => sum + p.events, 0)).toBe(mine.length);
      const bucketMs = tierOf(window).bucketMs;
      for (const point of stats.series) {
        expect(point.events).toBe(mine.filter((e) => e.ts >= point.start && e.ts < point.start + bucketMs).length);
      }
    });

    it.each(["category", "country", "tag"])("breaks %s down into its values by weight, exactly", (dimension) => {
      const answer = agg.breakdown(window, dimension, T0, 100);
      const truth = new Map<string, { events: number; weight: number }>();
      for (const e of inRange(events, from, to) as Event[]) {
        for (const value of e.dims?.[dimension] ?? []) {
          const t = truth.get(value) ?? { events: 0, weight: 0 };
          t.events += 1;
          t.weight += e.weight;
          truth.set(value, t);
        }
      }
      const expected = ranked(new Map([...truth].map(([value, t]) => [value, t.weight])));
      expect(answer.exact).toBe(true);
      expect(answer.values.map((v) => ({ item: v.value, score: v.weight }))).toEqual(expected);
      for (const v of answer.values) expect(v.events).toBe(truth.get(v.value)!.events);
    });
  });

  it("counts an event with several tags in each of its tags' segments at its full weight", () => {
    const agg = new Aggregator({ capacity: 10, types: [], dimensions: DIMENSIONS });
    agg.ingest([{ item: "a", type: "view", weight: 3, ts: T0 - 1000, dims: { tag: ["cats", "funny"] } }], T0);
    agg.advance(T0);
    for (const value of ["cats", "funny"]) expect(agg.top("5m", { dimension: "tag", value }, T0, 10).items).toEqual([{ item: "a", score: 3, error: 0 }]);
    expect(agg.top("5m", null, T0, 10).items).toEqual([{ item: "a", score: 3, error: 0 }]);
  });

  it("answers a value with no event an empty list whose floor is 0: provably no item", () => {
    const answer = agg.top("1h", { dimension: "category", value: "opera" }, T0, 10);
    expect(answer).toMatchObject({ items: [], floor: 0, exact: true });
    expect(agg.segmentStats("1h", { dimension: "category", value: "opera" }, T0)).toMatchObject({ events: 0, weight: 0, exact: true });
  });

  it("hides suppressed items from every segment, and still counts them", () => {
    const hidden = new Aggregator({ capacity: 10, types: [], dimensions: DIMENSIONS });
    hidden.ingest(
      [
        { item: "spam", type: "view", weight: 9, ts: T0 - 1000, dims: { category: ["news"] } },
        { item: "ok", type: "view", weight: 1, ts: T0 - 1000, dims: { category: ["news"] } },
      ],
      T0,
    );
    hidden.advance(T0);
    hidden.hide(new Set(["spam"]));
    const segment = { dimension: "category", value: "news" };
    for (const rank of ["top", "rising", "hot"] as const) {
      const answer = rank === "hot" ? hidden.hot("5m", segment, T0, 10, HALF_LIFE) : hidden[rank]("5m", segment, T0, 10);
      expect(answer.items.map((i) => i.item)).toEqual(["ok"]);
    }
    expect(hidden.segmentStats("5m", segment, T0).weight).toBe(10);
  });

  it("survives a checkpoint: restored buckets answer every segment and breakdown the same", () => {
    const restored = new Aggregator({ capacity: 1000, types: ["view"], dimensions: DIMENSIONS });
    for (const record of agg.buckets()) restored.restore(JSON.parse(JSON.stringify(record)));
    restored.advance(T0);
    for (const window of WINDOWS) {
      for (const segment of segments) {
        expect(restored.top(window, segment, T0, 500)).toEqual(agg.top(window, segment, T0, 500));
        expect(restored.segmentStats(window, segment, T0)).toEqual(agg.segmentStats(window, segment, T0));
      }
      expect(restored.breakdown(window, "tag", T0, 100)).toEqual(agg.breakdown(window, "tag", T0, 100));
    }
  });

  it("writes buckets without segments as format 1, which a build before segments reads", () => {
    const plain = new Aggregator({ capacity: 10, types: [] });
    plain.ingest([{ item: "a", type: "view", weight: 1, ts: T0 - 1000 }], T0);
    expect(plain.buckets().every((r) => r.state.v === 1)).toBe(true);
    expect(agg.buckets().some((r) => r.state.v === 2)).toBe(true);
  });

  it("counts no dimension that is not declared, and a dimension declared later from then on", () => {
    const later = new Aggregator({ capacity: 10, types: [], dimensions: {} });
    const tagged = (item: string, ts: number): TallyEvent => ({ item, type: "view", weight: 1, ts, dims: { tag: ["cats"] } });
    later.ingest([tagged("before", T0 - 2 * MINUTE)], T0 - MINUTE);
    later.configure({ capacity: 10, types: [], dimensions: { tag: { multi: true } } });
    later.ingest([tagged("after", T0 - 1000)], T0);
    later.advance(T0);
    expect(later.top("5m", { dimension: "tag", value: "cats" }, T0, 10).items.map((i) => i.item)).toEqual(["after"]);
  });
});

describe("the segment keys", () => {
  it("link a pair to its value and item while the pair is known, and give both back when it is forgotten", () => {
    const items = new ItemDictionary();
    const keys = new SegmentKeys(items);
    const pair = keys.intern(pairKeyOf("cats", "item\u0000with a separator"));
    keys.retain(pair);
    const value = keys.lookup("cats")!;
    const item = items.lookup("item\u0000with a separator")!;
    expect([keys.valueIdOf(pair), keys.itemIdOf(pair), keys.valueIdOf(value)]).toEqual([value, item, -1]);
    expect([keys.references(value), items.references(item)]).toEqual([1, 1]);
    keys.release(pair);
    expect([keys.size, items.size]).toEqual([0, 0]);
  });

  it("find a pair by its value's and item's ids as by its text, whichever way it was made", () => {
    const items = new ItemDictionary();
    const keys = new SegmentKeys(items);
    const byIds = (value: string, item: string) => {
      const valueId = keys.intern(value);
      const itemId = items.intern(item);
      return keys.internPair(valueId, hash53(value), itemId, hash53(item));
    };
    // Made by ids (ingest), then found by text (a restore, a segment read) and by ids again.
    const pair = byIds("cats", "item-1");
    keys.retain(pair);
    expect(keys.name(pair)).toBe(pairKeyOf("cats", "item-1"));
    expect(keys.lookup(pairKeyOf("cats", "item-1"))).toBe(pair);
    expect(keys.intern(pairKeyOf("cats", "item-1"))).toBe(pair);
    expect(byIds("cats", "item-1")).toBe(pair);
    // Made by text, then found by ids; a pair of the same value and another item is another key.
    const restored = keys.intern(pairKeyOf("dogs", "item-2"));
    keys.retain(restored);
    expect(byIds("dogs", "item-2")).toBe(restored);
    const other = byIds("dogs", "item-1");
    expect(new Set([pair, restored, other]).size).toBe(3);
    expect([keys.valueIdOf(other), keys.itemIdOf(other)]).toEqual([keys.lookup("dogs"), items.lookup("item-1")]);
    // Thousands of pairs of one value, each found by ids, none confused with another.
    const many = Array.from({ length: 5000 }, (_, i) => byIds("cats", `item-${i}`));
    many.forEach((id) => keys.retain(id));
    expect(new Set(many).size).toBe(5000);
    expect(many.every((id, i) => keys.lookup(pairKeyOf("cats", `item-${i}`)) === id)).toBe(true);
  });
});

describe("a segment beyond its summaries' capacity", () => {
  it("bounds every listed score and the floor of the unlisted, and says it is not exact", () => {
    const now = T0;
    const events = stream(now, 6000, 5);
    const agg = aggregatorOver(events, now, { capacity: 40, dimensionCapacity: 20 });
    for (const window of WINDOWS) {
      const { from, to } = windowRange(window, now);
      for (const segment of [{ dimension: "tag", value: "cats" }, { dimension: "category", value: "drama" }]) {
        const truth = scores(inRange(inSegment(events, segment), from, to));
        const answer = agg.top(window, segment, now, 500);
        for (const item of answer.items) {
          const actual = truth.get(item.item) ?? 0;
          expect(actual).toBeLessThanOrEqual(item.score);
          expect(actual).toBeGreaterThanOrEqual(item.score - item.error);
        }
        const listed = new Set(answer.items.map((i) => i.item));
        for (const [item, score] of truth) if (!listed.has(item)) expect(score).toBeLessThanOrEqual(answer.floor);
        const stats = agg.segmentStats(window, segment, now);
        const mine = inRange(inSegment(events, segment), from, to);
        const weight = mine.reduce((sum, e) => sum + e.weight, 0);
        expect(weight).toBeLessThanOrEqual(stats.weight);
        expect(weight).toBeGreaterThanOrEqual(stats.weight - stats.error.weight);
        expect(mine.length).toBeLessThanOrEqual(stats.events);
        expect(mine.length).toBeGreaterThanOrEqual(stats.events - stats.error.events);
      }
      if (window === "30d") expect(agg.top(window, { dimension: "tag", value: "cats" }, now, 500).exact).toBe(false);
    }
  });

  it("holds a million distinct values of one dimension and 8-tag events within the budget, and bounds every answer", () => {
    const budgetBytes = 64 * 2 ** 20;
    const agg = new Aggregator({ capacity: 1000, types: [], budgetBytes, dimensions: { country: { capacity: 1000 }, tag: { multi: true } } });
    const random = rng(3);
    const now = T0;
    const truth = new Map<string, number>();
    const batch: TallyEvent[] = [];
    let peak = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const value = i % 10 === 0 ? "hot" : `v-${i}`;
      truth.set(value, (truth.get(value) ?? 0) + 1);
      // Every fourth event also carries 8 tags, of 250,000 values each.
      const dims: EventDims = { country: [value] };
      if (i % 4 === 0) dims.tag = Array.from({ length: 8 }, (_, t) => `t-${(i * 2 + t) % 250_000}`);
      batch.push({ item: `item-${Math.floor(random() * 5000)}`, type: "view", weight: 1, ts: now - 1000 - (i % 3600) * 1000, dims });
      if (batch.length === 1000) {
        agg.ingest(batch.splice(0), now);
        if (i % 50_000 === 49_999) peak = Math.max(peak, agg.memoryBytes());
      }
    }
    agg.advance(now);
    peak = Math.max(peak, agg.memoryBytes());
    expect(peak).toBeLessThanOrEqual(budgetBytes);
    const breakdown = agg.breakdown("1h", "country", now, 10);
    expect(breakdown.values[0]).toMatchObject({ value: "hot" });
    expect(truth.get("hot")).toBeLessThanOrEqual(breakdown.values[0]!.weight);
    expect(truth.get("hot")).toBeGreaterThanOrEqual(breakdown.values[0]!.weight - breakdown.values[0]!.error);
    // Any other value had one event: the floor bounds it, and no list claims exactness it lacks.
    expect(breakdown.floor).toBeGreaterThanOrEqual(1);
    expect(breakdown.exact).toBe(false);
    const rare = agg.top("1h", { dimension: "country", value: "v-17" }, now, 10);
    for (const item of rare.items) expect(item.score - item.error).toBeLessThanOrEqual(1);
    expect(rare.floor).toBeGreaterThanOrEqual(0);
    expect(rare.exact).toBe(rare.items.every((i) => i.error === 0) && rare.floor === 0);
  }, 120_000);
});

// Scope is the one parameter of every ranking: a type name, null, or a segment.
const _scopes: Scope[] = [null, "view", { dimension: "tag", value: "cats" }];
void _scopes;
