/**
 * The aggregation core on its own: time is passed in, so these tests drive it directly.
 */
import { describe, expect, it } from "vitest";
import type { TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { SEALED_KEEP } from "../../src/core/bucket";
import { HeldInMemory } from "../../src/core/pending";
import { TIERS, windowRange } from "../../src/core/tiers";
import { rng, zipf } from "../support/random";
import { inRange, ranked, scores } from "../support/exact";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 21, 12, 30, 15);

const ev = (item: string, ts: number, weight = 1, type = "view"): TallyEvent => ({ item, type, weight, ts });

describe("the aggregator", () => {
  it("holds an event stamped in the future until time reaches it", () => {
    const agg = new Aggregator({ capacity: 10, types: [] });
    agg.ingest([ev("soon", T0 + 2 * MINUTE), ev("now", T0 - 1)], T0);
    const topAt = (at: number) => {
      agg.advance(at);
      return agg.top("5m", null, at, 10).items.map((i) => i.item).sort();
    };
    expect(topAt(T0)).toEqual(["now"]);
    expect(topAt(T0 + 2 * MINUTE)).toEqual(["now"]);
    expect(topAt(T0 + 2 * MINUTE + 1)).toEqual(["now", "soon"]);
  });

  it("counts a late event, up to 30 days old, in the buckets of its own time", () => {
    const agg = new Aggregator({ capacity: 10, types: [] });
    agg.ingest([ev("late", T0 - 20 * DAY), ev("recent", T0 - MINUTE)], T0);
    agg.advance(T0);
    expect(agg.top("30d", null, T0, 10).items.map((i) => i.item).sort()).toEqual(["late", "recent"]);
    expect(agg.top("7d", null, T0, 10).items.map((i) => i.item)).toEqual(["recent"]);
    expect(agg.stats("30d", T0).series.filter((p) => p.events > 0).map((p) => p.start)).toEqual([
      Math.floor((T0 - 20 * DAY) / DAY) * DAY,
      Math.floor(T0 / DAY) * DAY,
    ]);
  });

  it("forgets buckets older than any window needs, and then holds no data", () => {
    const agg = new Aggregator({ capacity: 10, types: [] });
    agg.ingest([ev("a", T0 - MINUTE)], T0);
    expect(agg.hasData(T0)).toBe(true);
    // A day on, every tier's period of the event has ended and been derived: one bucket per tier.
    agg.advance(T0 + DAY);
    expect(agg.buckets().length + agg.checkpoint().expired.length).toBe(TIERS.length);
    const later = T0 + 62 * DAY;
    agg.advance(later);
    expect(agg.hasData(later)).toBe(false);
    expect(agg.checkpoint().expired.length).toBe(TIERS.length);
  });

  it("keeps memory bounded whatever the number of distinct items: sealed buckets are cut to SEALED_KEEP counters", () => {
    // A capacity above SEALED_KEEP, so that cutting, not the summary's own bound, is what is tested.
    const capacity = 3 * SEALED_KEEP;
    const agg = new Aggregator({ capacity, types: ["view"] });
    // 50,000 distinct items, 90 minutes back: their minute, hour and 6-hour buckets are sealed by
    // T0 (12:30); their day is still running, so it has no bucket yet (it is derived when it ends).
    // A sealed bucket is cut once the coarser bucket derived from it exists: the minute and the
    // hour are, the 6-hour bucket keeps up to `capacity` counters until its day is derived.
    const past = T0 - 90 * MINUTE;
    const events = Array.from({ length: 50_000 }, (_, i) => ev(`item-${i}`, past + (i % 1000)));
    agg.ingest(events, T0);
    agg.advance(T0);
    const held = agg.checkpoint().changed;
    expect(held.map((r) => r.tier).sort()).toEqual(["hour", "minute", "quarter"]);
    for (const { tier, state } of held) {
      const bound = tier === "quarter" ? capacity : SEALED_KEEP;
      expect(state.summary.items.length, tier).toBeGreaterThan(SEALED_KEEP - 1);
      expect(state.summary.items.length, tier).toBeLessThanOrEqual(bound);
      if (tier !== "quarter") expect(state.summary.items.length, tier).toBe(SEALED_KEEP);
      for (const [, s] of state.typed) expect(s.items.length, tier).toBeLessThanOrEqual(bound);
    }
    agg.advance(T0 + DAY);
    const day = agg.checkpoint().changed.filter((r) => r.tier !== "minute");
    expect(day.map((r) => r.tier).sort()).toEqual(["day", "hour", "quarter"]);
    for (const { tier, state } of day) expect(state.summary.items.length, tier).toBe(SEALED_KEEP);
    // What was cut is still bounded: a 30d answer lists only counted items, each with its overcount stated.
    const answer = agg.top("30d", null, T0, 10);
    expect(answer.exact).toBe(false);
    for (const { score, error } of answer.items) {
      expect(score - error).toBeLessThanOrEqual(1);
      expect(score).toBeGreaterThanOrEqual(1);
    }
  });

  it("cuts a sealed bucket that overflowed to its largest counters, keeping the bounds", () => {
    const agg = new Aggregator({ capacity: 2 * SEALED_KEEP, types: [] });
    const random = rng(3);
    const rank = zipf(20 * SEALED_KEEP, 1.0, random);
    const bucketStart = Math.floor(T0 / MINUTE) * MINUTE - 10 * MINUTE;
    const events = Array.from({ length: 60_000 }, () => ev(`item-${rank()}`, bucketStart + Math.floor(random() * MINUTE)));
    agg.ingest(events, T0);
    agg.advance(T0);
    const truth = scores(events.map((e) => ({ ...e })));
    const inBounds = (answer: { items: { item: string; score: number; error: number }[] }) => {
      for (const { item, score, error } of answer.items) {
        expect(truth.get(item) ?? 0).toBeLessThanOrEqual(score);
        expect(truth.get(item) ?? 0).toBeGreaterThanOrEqual(score - error);
      }
    };
    inBounds(agg.top("1h", null, T0, 100));
    // Cut once its hour is derived from it (the hour merged it whole).
    const later = T0 + HOUR;
    agg.advance(later);
    const minute = agg.checkpoint().changed.find((r) => r.tier === "minute" && r.state.start === bucketStart)!;
    expect(minute.state.summary.items.length).toBe(SEALED_KEEP);
    inBounds(agg.top("1h", null, later, 100));
    inBounds(agg.top("24h", null, later, 100));
  });

  it("answers the same after a checkpoint is restored into a new aggregator", () => {
    const random = rng(11);
    const events = Array.from({ length: 5000 }, () => ({
      ...ev(`item-${Math.floor(random() * 300)}`, T0 - 1000 - Math.floor(random() * 3 * DAY), 1 + Math.floor(random() * 4)),
      actor: `actor-${Math.floor(random() * 500)}`,
    }));
    const original = new Aggregator({ capacity: 100, types: ["view"] });
    original.ingest([...events, ev("future", T0 + MINUTE)], T0);
    // Pending events are held outside the checkpoint (in the object's SQLite): a copy of them.
    const pending = new HeldInMemory();
    pending.hold(original.pending.all());
    const restored = new Aggregator({ capacity: 100, types: ["view"], pending });
    for (const record of original.checkpoint().changed) restored.restore(JSON.parse(JSON.stringify(record)));
    const at = T0 + 2 * MINUTE;
    original.advance(at);
    restored.advance(at);
    for (const window of ["5m", "1h", "24h", "7d", "30d"] as const) {
      expect(restored.top(window, null, at, 50)).toEqual(original.top(window, null, at, 50));
      expect(restored.rising(window, "view", at, 50)).toEqual(original.rising(window, "view", at, 50));
      expect(restored.stats(window, at)).toEqual(original.stats(window, at));
    }
  });

  it("answers a type exactly while every event of its buckets had that type, even declared late", () => {
    const agg = new Aggregator({ capacity: 10, types: [] });
    agg.ingest([ev("a", T0 - 3 * MINUTE, 2, "like"), ev("b", T0 - 3 * MINUTE, 1, "like")], T0);
    agg.configure({ capacity: 10, types: ["like"] });
    agg.advance(T0);
    const answer = agg.top("1h", "like", T0, 10);
    expect(answer.exact).toBe(true);
    expect(answer.items.map(({ item, score }) => ({ item, score }))).toEqual([{ item: "a", score: 2 }, { item: "b", score: 1 }]);
    expect(agg.top("1h", "view", T0, 10).items).toEqual([]);
  });

  it("keeps a declared type exact when a second type joins its bucket", () => {
    const agg = new Aggregator({ capacity: 10, types: ["view"] });
    agg.ingest([ev("a", T0 - 3 * MINUTE, 2, "view"), ev("b", T0 - 3 * MINUTE, 1, "view"), ev("c", T0 - 3 * MINUTE, 5, "like")], T0);
    agg.ingest([ev("b", T0 - 3 * MINUTE, 4, "view")], T0);
    agg.advance(T0);
    const views = agg.top("1h", "view", T0, 10);
    expect(views.exact).toBe(true);
    expect(views.items.map(({ item, score }) => ({ item, score }))).toEqual([{ item: "b", score: 5 }, { item: "a", score: 2 }]);
    expect(agg.top("1h", null, T0, 1).items[0]).toMatchObject({ item: "b", score: 5 });
  });

  it("bounds a type declared after some of its events were counted among other types", () => {
    const agg = new Aggregator({ capacity: 10, types: [] });
    agg.ingest([ev("a", T0 - 3 * MINUTE, 2, "like"), ev("c", T0 - 3 * MINUTE, 1, "view")], T0);
    agg.configure({ capacity: 10, types: ["like"] });
    agg.ingest([ev("b", T0 - 2 * MINUTE, 1, "like")], T0);
    agg.advance(T0);
    const answer = agg.top("1h", "like", T0, 10);
    expect(answer.exact).toBe(false);
    const truth = new Map([["a", 2], ["b", 1]]);
    for (const { item, score, error } of answer.items) {
      expect(truth.get(item)!).toBeLessThanOrEqual(score);
      expect(truth.get(item)!).toBeGreaterThanOrEqual(score - error);
    }
  });
});

describe("at the default capacity of 5000", () => {
  it("keeps every true score within its error and finds the true top 10 over 50k+ distinct items", () => {
    const capacity = 5000;
    const agg = new Aggregator({ capacity, types: [] });
    const random = rng(7);
    const rank = zipf(200_000, 1.0, random);
    const events = Array.from({ length: 400_000 }, () => ev(`item-${rank()}`, T0 - 1000 - Math.floor(random() * 6 * HOUR)));
    expect(new Set(events.map((e) => e.item)).size).toBeGreaterThanOrEqual(10 * capacity);
    agg.ingest(events, T0);
    agg.advance(T0);
    for (const window of ["1h", "24h", "7d"] as const) {
      const answer = agg.top(window, null, T0, 100);
      const range = windowRange(window, T0);
      const truth = scores(inRange(events, range.from, range.to));
      for (const { item, score, error } of answer.items) {
        expect(truth.get(item) ?? 0).toBeLessThanOrEqual(score);
        expect(truth.get(item) ?? 0).toBeGreaterThanOrEqual(score - error);
      }
      expect(answer.items.slice(0, 10).map((i) => i.item).sort()).toEqual(ranked(truth).slice(0, 10).map((i) => i.item).sort());
    }
  });
});
