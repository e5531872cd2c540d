/**
 * The aggregator's memory: what it accounts for, how sealing compacts it, and how it holds a
 * budget by cutting older buckets with the loss shown in `error` and `exact`.
 */
import { describe, expect, it } from "vitest";
import type { TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { SEALED_KEEP } from "../../src/core/bucket";
import { heldBytes, holdBudget, liveBytesBound, maxCapacityWithin, worstCaseBytes } from "../../src/core/budget";
import { Bucket } from "../../src/core/bucket";
import { ItemDictionary } from "../../src/core/dictionary";
import { hash53 } from "../../src/core/hash";
import { LIVE_PAIR_BYTES, PAIR_SAMPLE_FIXED_BYTES, PairSample, pairKey } from "../../src/core/pair-sample";
import { TIERS } from "../../src/core/tiers";
import { parseConfig } from "../../src/core/config";
import { MEMORY_BUDGET_BYTES } from "../../src/core/memory";
import { windowRange } from "../../src/core/tiers";
import { inRange, ranked, scores } from "../support/exact";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2026, 10, 21, 12, 30, 15);

const ev = (item: string, ts: number, weight = 1, type = "view"): TallyEvent => ({ item, type, weight, ts });

/** `n` items, each once, in each of the last `minutes` minutes before `now`. */
function catalogue(n: number, minutes: number, now: number): TallyEvent[] {
  const out: TallyEvent[] = [];
  for (let m = minutes; m >= 1; m--) for (let i = 0; i < n; i++) out.push(ev(`item-${i}`, now - m * MINUTE + 1000, 1 + (i % 3)));
  return out;
}

function feedLive(agg: Aggregator, events: TallyEvent[], now: number): void {
  // Minute by minute, as a namespace receives them, with the refresh's advance in between.
  const byMinute = new Map<number, TallyEvent[]>();
  for (const e of events) {
    const m = Math.floor(e.ts / MINUTE) * MINUTE;
    (byMinute.get(m) ?? byMinute.set(m, []).get(m)!).push(e);
  }
  for (const [minute, batch] of [...byMinute].sort((a, b) => a[0] - b[0])) {
    agg.ingest(batch, Math.min(now, minute + MINUTE - 1));
    agg.advance(Math.min(now, minute + MINUTE - 1));
  }
  agg.advance(now);
}

describe("the aggregator's memory", () => {
  it("compacts sealed buckets: the same answers in a fraction of the bytes", () => {
    const events = catalogue(2000, 30, T0);
    const compacted = new Aggregator({ capacity: 5000, types: [] });
    feedLive(compacted, events, T0);
    // The same events with no advance in between: every bucket still live.
    const live = new Aggregator({ capacity: 5000, types: [] });
    live.ingest(events, T0);
    // Each minute bucket's dense HyperLogLog (16 KB) stays; the summaries shrink ~10x.
    expect(compacted.memoryBytes()).toBeLessThan(live.memoryBytes() / 2);
    const truth = ranked(scores(inRange(events as never, windowRange("1h", T0).from, T0)));
    const answer = compacted.top("1h", null, T0, 100);
    expect(answer.exact).toBe(true);
    expect(answer.items.map(({ item, score }) => ({ item, score }))).toEqual(truth.slice(0, 100));
    expect(live.top("1h", null, T0, 100)).toEqual(answer);
  });

  it("counts a late event into a sealed bucket exactly, thawing it", () => {
    const agg = new Aggregator({ capacity: 100, types: [] });
    const events = catalogue(50, 10, T0 - 20 * MINUTE);
    feedLive(agg, events, T0);
    const late = ev("item-7", T0 - 25 * MINUTE, 5);
    agg.ingest([late], T0);
    agg.advance(T0);
    const truth = ranked(scores(inRange([...events, late] as never, windowRange("1h", T0).from, T0)));
    const answer = agg.top("1h", null, T0, 10);
    expect(answer.exact).toBe(true);
    expect(answer.items.map(({ item, score }) => ({ item, score }))).toEqual(truth.slice(0, 10));
  });

  it("gives expired buckets' items back: an aggregator that forgot everything holds almost nothing", () => {
    const agg = new Aggregator({ capacity: 5000, types: ["view"] });
    const empty = agg.memoryBytes();
    agg.ingest(catalogue(3000, 5, T0), T0);
    expect(agg.memoryBytes()).toBeGreaterThan(empty + 3000 * 20);
    agg.advance(T0 + 62 * 24 * HOUR);
    expect(agg.memoryBytes() - empty).toBeLessThan(16 * 1024);
  });

  it("holds a budget by cutting buckets, oldest first, with every true score still within its stated error", () => {
    const budgetBytes = 2 * 2 ** 20;
    const agg = new Aggregator({ capacity: 5000, types: [], budgetBytes });
    const events = catalogue(4000, 90, T0);
    feedLive(agg, events, T0);
    expect(agg.memoryBytes()).toBeLessThanOrEqual(heldBytes(budgetBytes));
    expect(agg.budgetCuts).toBeGreaterThan(0);
    // Without the budget the same stream holds more: the test would show nothing otherwise.
    const unbounded = new Aggregator({ capacity: 5000, types: [] });
    feedLive(unbounded, events, T0);
    expect(unbounded.memoryBytes()).toBeGreaterThan(budgetBytes);

    const inexact: string[] = [];
    for (const window of ["5m", "1h", "24h", "7d", "30d"] as const) {
      const answer = agg.top(window, null, T0, 100);
      const range = windowRange(window, T0);
      const truth = scores(inRange(events as never, range.from, range.to));
      if (!answer.exact) inexact.push(window);
      for (const { item, score, error } of answer.items) {
        expect(truth.get(item) ?? 0).toBeLessThanOrEqual(score);
        expect(truth.get(item) ?? 0).toBeGreaterThanOrEqual(score - error);
      }
    }
    // The loss is shown, not hidden.
    expect(inexact.length).toBeGreaterThan(0);
  });

  it("says an answer is not exact when cutting left its window with no counters, and keeps stats exact", () => {
    const agg = new Aggregator({ capacity: 100, types: [], budgetBytes: 1 }); // nothing fits: all is cut
    const events = catalogue(50, 3, T0);
    agg.ingest(events, T0);
    agg.advance(T0);
    agg.holdBudget();
    const answer = agg.top("1h", null, T0, 10);
    expect(answer.items).toEqual([]);
    expect(answer.exact).toBe(false);
    expect(agg.stats("1h", T0).events).toBe(events.length);
    expect(agg.stats("1h", T0).weight).toBe(events.reduce((sum, e) => sum + e.weight, 0));
  });

  it("holdBudget reports what it held and does nothing while within the budget", () => {
    const agg = new Aggregator({ capacity: 100, types: [] });
    agg.ingest(catalogue(50, 3, T0), T0);
    const before = agg.top("1h", null, T0, 50);
    const outcome = agg.holdBudget();
    expect(outcome.cut).toBe(0);
    expect(outcome.bytes).toBe(agg.memoryBytes());
    expect(outcome.budgetBytes).toBe(MEMORY_BUDGET_BYTES);
    expect(agg.top("1h", null, T0, 50)).toEqual(before);
  });

  it("keeps an item's id while a past bucket's cut drops it between two tiers of the same event", () => {
    // A late event for an hour that has ended is counted in its minute and in the hour itself (the
    // hour was derived from its minutes when it ended). Here the minute, made after a change to a
    // smaller capacity, overflows and is cut at once to SEALED_KEEP counters, dropping the event that
    // overflowed it; the hour, made with the larger capacity, still counts it under its own name.
    const agg = new Aggregator({ capacity: 3 * SEALED_KEEP, types: [] });
    const hourStart = Math.floor(T0 / HOUR) * HOUR - HOUR;
    agg.ingest([ev("first", hourStart, 1)], hourStart + MINUTE);
    agg.advance(T0);
    agg.configure({ capacity: 2 * SEALED_KEEP + 1, types: [] });
    const past = hourStart + 50 * MINUTE;
    const big = Array.from({ length: SEALED_KEEP + 1 }, (_, i) => ev(`big-${i}`, past, 200));
    const small = Array.from({ length: SEALED_KEEP }, (_, i) => ev(`small-${i}`, past, 100));
    agg.ingest([...big, ...small], T0);
    agg.ingest([ev("newcomer", past, 1)], T0);
    agg.ingest([ev("other", past, 1)], T0); // reuses a freed id if "newcomer"'s had been freed
    agg.advance(T0);
    const minute = agg.top("1h", null, T0, 3 * SEALED_KEEP);
    expect(minute.items.some((i) => i.item === "newcomer")).toBe(false);
    const hour = agg.top("24h", null, T0, 3 * SEALED_KEEP);
    const names = new Set([...big, ...small].map((e) => e.item).concat("first", "newcomer", "other"));
    expect(hour.items.every((i) => names.has(i.item))).toBe(true);
    expect(hour.items.find((i) => i.item === "newcomer")).toEqual({ item: "newcomer", score: 1, error: 0 });
  });
});

describe("the pair samples' memory (rank=reach)", () => {
  it("accounts a live sample at capacity within LIVE_PAIR_BYTES a pair, and a sealed one in less", () => {
    const sample = new PairSample(5000, new ItemDictionary());
    for (let i = 0; i < 20_000; i++) sample.add(pairKey(hash53(`item-${i % 700}`), hash53(`actor-${i}`)), sample.dictionary.intern(`item-${i % 700}`), 1);
    expect(sample.size).toBeGreaterThan(2000);
    expect(sample.bytes()).toBeLessThanOrEqual(PAIR_SAMPLE_FIXED_BYTES + 5000 * LIVE_PAIR_BYTES);
    sample.compact();
    expect(sample.bytes()).toBeLessThanOrEqual(PAIR_SAMPLE_FIXED_BYTES + sample.size * 16);
  });

  it("cuts pair samples before any summary: a sample only samples coarser, a cut summary loses items", () => {
    const bucket = Bucket.empty(0, 5000);
    const declared = new Set<string>();
    for (let i = 0; i < 20_000; i++) bucket.add({ item: `item-${i % 100}`, type: "view", weight: 1, ts: 0 }, hash53(`item-${i % 100}`), hash53(`actor-${i}`), declared);
    bucket.compact();
    const counters = bucket.counters;
    const pairs = bucket.reach!.size;
    expect(pairs).toBeGreaterThan(1000);
    // A budget the pairs beyond SEALED_KEEP alone exceed.
    const outcome = holdBudget([{ bucket, newest: false }], (bucket.bytes() - 100) / 0.85, () => bucket.bytes());
    expect(outcome.cut).toBeGreaterThan(0);
    expect(bucket.reach!.size).toBeLessThan(pairs);
    expect(bucket.counters).toBe(counters);
  });

  it("counts every kept bucket's sample in the worst case a config is checked against", () => {
    const kept = TIERS.reduce((n, t) => n + t.retain + 1, 0);
    expect(worstCaseBytes(5000, 0) - liveBytesBound(5000, 0)).toBeGreaterThan(kept * PAIR_SAMPLE_FIXED_BYTES);
  });

  it("holds the budget at the widest accepted config, each item reached by distinct actors, within the stated bounds", () => {
    const capacity = maxCapacityWithin(MEMORY_BUDGET_BYTES, 0);
    const agg = new Aggregator({ capacity, types: [] });
    const start = Math.floor(T0 / MINUTE) * MINUTE - 8 * MINUTE;
    let reachCut = false;
    for (let m = 0; m < 8; m++) {
      // `capacity` distinct items of the longest length a minute, each sent by two actors: every
      // summary full of distinct items, and twice as many distinct pairs as a live sample holds.
      const batch: TallyEvent[] = [];
      for (let i = 0; i < capacity; i++) {
        const item = `${m}-${i}-`.padEnd(256, "x");
        batch.push({ item, type: "view", weight: 1, actor: `a-${i}`, ts: start + m * MINUTE + 1 });
        batch.push({ item, type: "view", weight: 1, actor: `b-${i}`, ts: start + m * MINUTE + 2 });
      }
      const now = start + (m + 1) * MINUTE - 1;
      agg.ingest(batch, now);
      agg.advance(now);
      expect(agg.memoryBytes()).toBeLessThanOrEqual(heldBytes(MEMORY_BUDGET_BYTES));
      const reach = agg.reach("5m", null, now, 50);
      reachCut ||= !reach.exact;
      // Every item had exactly two actors: the stated bounds hold through every cut.
      for (const { score, error } of reach.items) {
        expect(score).toBeGreaterThanOrEqual(2);
        expect(score - error).toBeLessThanOrEqual(2);
      }
    }
    expect(agg.budgetCuts).toBeGreaterThan(0);
    expect(reachCut).toBe(true);
  });

  it("holds the budget at the widest accepted zoned config across a local midnight, today's stats exact", () => {
    const timezone = "Asia/Kathmandu"; // UTC+5:45: local midnight is 18:15 UTC
    const capacity = maxCapacityWithin(MEMORY_BUDGET_BYTES, 0, true);
    const agg = new Aggregator({ capacity, types: [], timezone });
    const midnight = Date.UTC(2026, 10, 21, 18, 15);
    const start = midnight - 4 * MINUTE;
    let sinceMidnight = 0;
    for (let m = 0; m < 12; m++) {
      // Each minute `capacity` new longest items, each from an actor of its own: every summary and
      // pair sample of the minute, its hour, and the local day full of distinct entries, until the
      // budget can hold only by cutting.
      const ts = start + m * MINUTE + 1;
      const batch: TallyEvent[] = [];
      for (let i = 0; i < capacity; i++) batch.push({ item: `${m}-${i}-`.padEnd(256, "x"), type: "view", weight: 1, actor: `${m}-${i}`, ts });
      if (ts >= midnight) sinceMidnight += batch.length;
      const now = start + (m + 1) * MINUTE - 1;
      agg.ingest(batch, now);
      agg.advance(now);
      expect(agg.memoryBytes()).toBeLessThanOrEqual(heldBytes(MEMORY_BUDGET_BYTES));
      const today = agg.stats("today", now);
      expect(today.from).toBe(ts >= midnight ? midnight : midnight - 24 * HOUR);
      if (ts >= midnight) expect(today.events).toBe(sinceMidnight);
      expect(today.exact).toBe(true);
    }
    expect(agg.budgetCuts).toBeGreaterThan(0);
  });
});

describe("the config's memory check", () => {
  /** The error `parseConfig` refuses `config` with. */
  function refusalOf(config: Record<string, unknown>) {
    let refused: unknown;
    try {
      parseConfig(config);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeDefined();
    return refused as { code: string; message: string; details: { field: string; allowed: Record<string, number> } };
  }

  it("accepts the default config and the largest capacity that fits, and refuses one more", () => {
    expect(parseConfig({}).capacity).toBe(5000);
    const types = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`t${i}`, {}]));
    const max = maxCapacityWithin(MEMORY_BUDGET_BYTES, 32);
    expect(worstCaseBytes(max, 32)).toBeLessThanOrEqual(heldBytes(MEMORY_BUDGET_BYTES));
    expect(worstCaseBytes(max + 1, 32)).toBeGreaterThan(heldBytes(MEMORY_BUDGET_BYTES));
    expect(parseConfig({ capacity: max, types }).capacity).toBe(max);
    expect(() => parseConfig({ capacity: max + 1, types })).toThrow(/capacity/);
  });

  it("checks a zoned config against its local days too: the widest UTC capacity is refused in Asia/Kathmandu", () => {
    const types = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`t${i}`, {}]));
    const utc = maxCapacityWithin(MEMORY_BUDGET_BYTES, 32);
    const zoned = maxCapacityWithin(MEMORY_BUDGET_BYTES, 32, true);
    expect(zoned).toBeLessThan(utc);
    expect(worstCaseBytes(zoned, 32, true)).toBeLessThanOrEqual(heldBytes(MEMORY_BUDGET_BYTES));
    expect(parseConfig({ capacity: zoned, types, timezone: "Asia/Kathmandu" }).capacity).toBe(zoned);
    expect(parseConfig({ capacity: utc, types, timezone: "UTC" }).capacity).toBe(utc);
    const e = refusalOf({ capacity: zoned + 1, types, timezone: "Asia/Kathmandu" });
    expect(e.code).toBe("invalid_config");
    expect(e.details.field).toBe("capacity");
    expect(e.message).toContain("time zone");
    expect(e.details.allowed.max).toBe(zoned);
  });

  it("refuses the largest capacity with the most types naming capacity, the estimate and the budget", () => {
    const types = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`t${i}`, {}]));
    const e = refusalOf({ capacity: 50_000, types });
    expect(e.code).toBe("invalid_config");
    expect(e.details.field).toBe("capacity");
    expect(e.message).toContain("64.0 MB");
    expect(e.details.allowed.max).toBe(maxCapacityWithin(MEMORY_BUDGET_BYTES, 32));
    expect(e.details.allowed.estimateBytes).toBe(worstCaseBytes(50_000, 32));
  });
});
