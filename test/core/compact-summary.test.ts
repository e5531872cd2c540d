/**
 * The compact form of a sealed bucket's summary: the same counters, answers and state as the live
 * summary it came from, in far fewer bytes, and the same live summary again when thawed.
 */
import { describe, expect, it } from "vitest";
import { CompactSummary, narrowest } from "../../src/core/compact-summary";
import { ItemDictionary } from "../../src/core/dictionary";
import { SpaceSaving } from "../../src/core/space-saving";
import { rng, zipf } from "../support/random";

interface Event {
  item: string;
  weight: number;
}

function zipfStream(distinct: number, events: number, seed: number, weights = [0.5, 1, 2, 3]): Event[] {
  const random = rng(seed);
  const rank = zipf(distinct, 1.0, random);
  return Array.from({ length: events }, () => ({ item: `item-${rank()}`, weight: weights[Math.floor(random() * weights.length)]! }));
}

function exactTotals(events: Event[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { item, weight } of events) out.set(item, (out.get(item) ?? 0) + weight);
  return out;
}

function summaryOf(capacity: number, events: Event[], dict = new ItemDictionary()): SpaceSaving {
  const summary = new SpaceSaving(capacity, dict);
  for (const { item, weight } of events) summary.add(item, weight);
  return summary;
}

function counters(summary: { forEach(fn: (item: string, count: number, error: number) => void): void }) {
  const out: [string, number, number][] = [];
  summary.forEach((item, count, error) => out.push([item, count, error]));
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

describe("narrowest", () => {
  it("picks the narrowest array that holds every value exactly", () => {
    expect(narrowest([0, 1, 255], 3)).toBeInstanceOf(Uint8Array);
    expect(narrowest([256, 3], 2)).toBeInstanceOf(Uint16Array);
    expect(narrowest([65_536], 1)).toBeInstanceOf(Uint32Array);
    expect(narrowest([2 ** 32], 1)).toBeInstanceOf(Float32Array); // a power of two is exact in 32 bits
    expect(narrowest([2 ** 32 + 1], 1)).toBeInstanceOf(Float64Array);
    expect(narrowest([0.5, 1.25], 2)).toBeInstanceOf(Float32Array);
    expect(narrowest([0.1], 1)).toBeInstanceOf(Float64Array);
    expect(Array.from(narrowest([0.1, 7], 2))).toEqual([0.1, 7]);
  });

  it("takes only the first `size` values", () => {
    expect(Array.from(narrowest(new Float64Array([1, 2, 300]), 2))).toEqual([1, 2]);
  });
});

describe("CompactSummary", () => {
  it("holds an exact summary's counters and state unchanged, in a few bytes per counter", () => {
    const events = zipfStream(3000, 20_000, 1, [1, 2]);
    const live = summaryOf(5000, events);
    const state = live.toJSON();
    const before = counters(live);
    const liveBytes = live.bytes();
    const compact = CompactSummary.of(live);
    expect(compact.toJSON()).toEqual(state);
    expect(counters(compact)).toEqual(before);
    expect(compact.floor).toBe(0);
    expect(compact.lossy).toBe(false);
    // Integer counts below 65,536, ids below 65,536 and no errors: 2 + 2 bytes per counter.
    expect(compact.bytes()).toBeLessThanOrEqual(4 * compact.size + 600);
    expect(compact.bytes()).toBeLessThan(liveBytes / 5);
    // And every count is still the exact total.
    const truth = exactTotals(events);
    for (const [item, count, error] of counters(compact)) {
      expect(count).toBe(truth.get(item));
      expect(error).toBe(0);
    }
  });

  it("keeps a full lossy summary's state, so that thawing continues exactly like the original", () => {
    const first = zipfStream(20_000, 30_000, 2);
    const second = zipfStream(20_000, 30_000, 3);
    const dictA = new ItemDictionary();
    const dictB = new ItemDictionary();
    const original = summaryOf(500, first, dictA);
    const twin = summaryOf(500, first, dictB);
    const compact = CompactSummary.of(twin);
    expect(compact.toJSON()).toEqual(original.toJSON());
    const thawed = compact.thaw();
    expect(compact.size).toBe(0);
    for (const { item, weight } of second) {
      original.add(item, weight);
      thawed.add(item, weight);
    }
    expect(thawed.toJSON()).toEqual(original.toJSON());
    // The bounds still hold for every item of both streams.
    const truth = exactTotals([...first, ...second]);
    for (const [item, t] of truth) {
      const count = thawed.count(item);
      if (count === undefined) expect(t).toBeLessThanOrEqual(thawed.floor);
      else {
        expect(t).toBeLessThanOrEqual(count);
        expect(count - thawed.error(item)!).toBeLessThanOrEqual(t);
      }
    }
  });

  it("trims as the live summary trims: same counters kept, same floor", () => {
    const events = zipfStream(4000, 20_000, 4);
    const live = summaryOf(3000, events);
    const compact = CompactSummary.of(summaryOf(3000, events));
    live.trim(100);
    compact.trim(100);
    expect(compact.toJSON()).toEqual(live.toJSON());
    expect(compact.lossy).toBe(true);
    const truth = exactTotals(events);
    for (const [item, t] of truth) {
      const held = counters(compact).find((c) => c[0] === item);
      if (held === undefined) expect(t).toBeLessThanOrEqual(compact.floor);
      else expect(t).toBeLessThanOrEqual(held[1]);
    }
  });

  it("trims an exact summary to nothing, leaving a floor that bounds every item", () => {
    const events = zipfStream(50, 500, 5, [1]);
    const compact = CompactSummary.of(summaryOf(100, events));
    compact.trim(0);
    expect(compact.size).toBe(0);
    expect(compact.floor).toBe(Math.max(...exactTotals(events).values()));
  });

  it("gives every item back to the dictionary when released or trimmed away", () => {
    const dict = new ItemDictionary();
    const compact = CompactSummary.of(summaryOf(100, zipfStream(80, 1000, 6), dict));
    const other = summaryOf(100, [{ item: "item-1", weight: 1 }], dict);
    compact.trim(10);
    expect(dict.size).toBe(10 + (counters(compact).some((c) => c[0] === "item-1") ? 0 : 1));
    compact.release();
    expect(dict.size).toBe(1);
    other.release();
    expect(dict.size).toBe(0);
  });

  it("round-trips through JSON into compact form", () => {
    const dict = new ItemDictionary();
    const live = summaryOf(200, zipfStream(1000, 5000, 7), dict);
    const state = JSON.parse(JSON.stringify(live.toJSON()));
    const restored = CompactSummary.fromJSON(state, dict);
    expect(restored.toJSON()).toEqual(live.toJSON());
    expect(restored.thaw().toJSON()).toEqual(live.toJSON());
  });

  it("keeps fractional and large counts exact", () => {
    const live = new SpaceSaving(10);
    live.add("a", 0.1);
    live.add("b", 1e6);
    live.add("b", 1e6);
    live.add("c", 2 ** 40 + 3);
    const compact = CompactSummary.of(live);
    expect(counters(compact)).toEqual([["a", 0.1, 0], ["b", 2e6, 0], ["c", 2 ** 40 + 3, 0]]);
  });
});
