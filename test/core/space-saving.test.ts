import { describe, it, expect } from "vitest";
import { ItemDictionary } from "../../src/core/dictionary";
import { SpaceSaving, type SpaceSavingEntry } from "../../src/core/space-saving";
import { rng, zipf } from "../support/random";

interface Event {
  item: string;
  weight: number;
}

/** A weighted Zipf stream. Dyadic weights keep every sum exact, so bounds compare exactly. */
function zipfStream(distinct: number, events: number, seed: number, prefix = "item-"): Event[] {
  const random = rng(seed);
  const rank = zipf(distinct, 1.0, random);
  const weights = [0.5, 1, 2, 3];
  const out: Event[] = [];
  for (let i = 0; i < events; i++) {
    out.push({ item: `${prefix}${rank()}`, weight: weights[Math.floor(random() * weights.length)]! });
  }
  return out;
}

/** Feeds events into the summary and the exact totals alike. */
function feed(summary: SpaceSaving, exact: Map<string, number>, events: Event[]): void {
  for (const { item, weight } of events) {
    summary.add(item, weight);
    exact.set(item, (exact.get(item) ?? 0) + weight);
  }
}

/** The Space-Saving invariant for every item ever added. */
function expectBounds(summary: SpaceSaving, exact: Map<string, number>): void {
  const floor = summary.floor;
  for (const [item, truth] of exact) {
    const count = summary.count(item);
    const error = summary.error(item);
    if (count === undefined) {
      expect(error).toBeUndefined();
      expect(truth, `absent ${item}`).toBeLessThanOrEqual(floor);
    } else {
      expect(error).toBeDefined();
      expect(truth, `upper bound for ${item}`).toBeLessThanOrEqual(count);
      expect(count - error!, `lower bound for ${item}`).toBeLessThanOrEqual(truth);
    }
  }
}

function byCountThenItem(a: SpaceSavingEntry, b: SpaceSavingEntry): number {
  if (a.count !== b.count) return b.count - a.count;
  return a.item < b.item ? -1 : a.item > b.item ? 1 : 0;
}

function entries(summary: SpaceSaving): SpaceSavingEntry[] {
  const out: SpaceSavingEntry[] = [];
  summary.forEach((item, count, error) => out.push({ item, count, error }));
  return out.sort(byCountThenItem);
}

function observable(summary: SpaceSaving) {
  return { size: summary.size, floor: summary.floor, lossy: summary.lossy, entries: entries(summary) };
}

describe("SpaceSaving", () => {
  it("rejects a capacity that is not a positive integer", () => {
    for (const capacity of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new SpaceSaving(capacity)).toThrow(RangeError);
    }
  });

  it("keeps every count exact while distinct items fit the capacity", () => {
    const summary = new SpaceSaving(100);
    const exact = new Map<string, number>();
    const random = rng(1);
    const weights = [0.5, 3, 1e6, 0.1];
    const events: Event[] = [];
    for (let i = 0; i < 5000; i++) {
      events.push({ item: `p${Math.floor(random() * 100)}`, weight: weights[i % weights.length]! });
    }
    feed(summary, exact, events);
    expect(exact.size).toBe(100);
    expect(summary.size).toBe(exact.size);
    expect(summary.lossy).toBe(false);
    expect(summary.floor).toBe(0);
    for (const [item, truth] of exact) {
      expect(summary.count(item)).toBe(truth);
      expect(summary.error(item)).toBe(0);
    }
  });

  it("gives a new item the minimum counter when full: count = min + weight, error = min", () => {
    const summary = new SpaceSaving(3);
    const initial: [string, number][] = [["a", 5], ["b", 2], ["c", 7]];
    for (const [item, weight] of initial) summary.add(item, weight);
    const min = Math.min(...initial.map(([, weight]) => weight));
    summary.add("d", 1.5);
    expect(summary.count("b")).toBeUndefined();
    expect(summary.count("d")).toBe(min + 1.5);
    expect(summary.error("d")).toBe(min);
    expect(summary.lossy).toBe(true);
    expect(summary.floor).toBe(Math.min(5, 7, min + 1.5));
  });

  it("bounds every item of a Zipf stream with 40x more distinct items than counters", () => {
    const capacity = 500;
    const summary = new SpaceSaving(capacity);
    const exact = new Map<string, number>();
    const events = zipfStream(20_000, 200_000, 42);
    feed(summary, exact, events);
    expect(exact.size).toBeGreaterThanOrEqual(10 * capacity);
    expect(summary.size).toBe(capacity);
    expect(summary.lossy).toBe(true);
    expectBounds(summary, exact);

    // The floor is the smallest counter, which Space-Saving bounds by total / capacity, so
    // every item heavier than that must be held.
    const total = events.reduce((sum, e) => sum + e.weight, 0);
    const counts = entries(summary).map((e) => e.count);
    expect(summary.floor).toBe(Math.min(...counts));
    expect(summary.floor).toBeLessThanOrEqual(total / capacity);
    for (const [item, truth] of exact) {
      if (truth > total / capacity) expect(summary.count(item), item).toBeDefined();
    }
  });

  it("orders top() by count descending, then item ascending by code unit", () => {
    const summary = new SpaceSaving(10);
    const exact = new Map<string, number>();
    const events: Event[] = [
      { item: "b", weight: 2 },
      { item: "a", weight: 2 },
      { item: "c", weight: 5 },
      { item: "B", weight: 2 },
      { item: "ä", weight: 1 },
      { item: "ä", weight: 1 },
      { item: "z", weight: 0.5 },
    ];
    feed(summary, exact, events);
    const expected = [...exact]
      .map(([item, count]) => ({ item, count, error: 0 }))
      .sort(byCountThenItem);
    expect(summary.top(100)).toEqual(expected);
    expect(summary.top(3)).toEqual(expected.slice(0, 3));
    expect(summary.top(0)).toEqual([]);
  });

  it("trim keeps the largest counters, ties by item, and raises the floor over what it dropped", () => {
    const summary = new SpaceSaving(300);
    const exact = new Map<string, number>();
    feed(summary, exact, zipfStream(5000, 50_000, 7));
    const before = entries(summary);
    const floorBefore = summary.floor;

    summary.trim(50);
    expect(summary.size).toBe(50);
    expect(entries(summary)).toEqual(before.slice(0, 50));
    expect(summary.floor).toBe(Math.max(floorBefore, before[50]!.count));
    expectBounds(summary, exact);

    // A dropped item comes back covering its forgotten history.
    const dropped = before[60]!.item;
    const floorAfterTrim = summary.floor;
    feed(summary, exact, [{ item: dropped, weight: 2 }]);
    expect(summary.count(dropped)).toBe(floorAfterTrim + 2);
    expect(summary.error(dropped)).toBe(floorAfterTrim);

    // Keep streaming old and new items until full again; the bounds still hold throughout.
    feed(summary, exact, zipfStream(5000, 20_000, 8));
    expectBounds(summary, exact);
    feed(summary, exact, zipfStream(5000, 30_000, 9, "other-"));
    expect(summary.size).toBe(300);
    expectBounds(summary, exact);
  });

  it("trim of an exact summary makes it lossy with the largest dropped count as floor", () => {
    const summary = new SpaceSaving(100);
    const exact = new Map<string, number>();
    const events: Event[] = [];
    for (let i = 1; i <= 40; i++) events.push({ item: `i${i}`, weight: i % 7 });
    feed(summary, exact, events.filter((e) => e.weight > 0));
    const sorted = [...exact.values()].sort((a, b) => b - a);
    summary.trim(10);
    expect(summary.lossy).toBe(true);
    expect(summary.floor).toBe(sorted[10]);
    expectBounds(summary, exact);
  });

  it("trim is a no-op when the summary already fits", () => {
    const summary = new SpaceSaving(10);
    feed(summary, new Map(), [{ item: "x", weight: 1 }, { item: "y", weight: 2 }]);
    const state = summary.toJSON();
    summary.trim(2);
    expect(summary.toJSON()).toEqual(state);
    expect(summary.lossy).toBe(false);
  });

  it("round-trips through JSON and then behaves exactly like the never-serialised original", () => {
    const stream = zipfStream(3000, 60_000, 99);
    const chunks = [stream.slice(0, 50), stream.slice(50, 20_000), stream.slice(20_000, 40_000), stream.slice(40_000)];
    const original = new SpaceSaving(200);
    let restored = new SpaceSaving(200);
    const exact = new Map<string, number>();
    for (const [index, chunk] of chunks.entries()) {
      for (const { item, weight } of chunk) restored.add(item, weight);
      feed(original, exact, chunk);
      if (index === 2) {
        original.trim(120);
        restored.trim(120);
      }
      restored = SpaceSaving.fromJSON(JSON.parse(JSON.stringify(restored.toJSON())));
      expect(observable(restored)).toEqual(observable(original));
      expect(restored.toJSON()).toEqual(original.toJSON());
    }
    expectBounds(restored, exact);
  });

  it("rejects malformed state", () => {
    expect(() => SpaceSaving.fromJSON({ v: 1, capacity: 1, floor: 0, lossy: false, items: [["a", 1, 0], ["b", 1, 0]] }))
      .toThrow(RangeError);
    expect(() => SpaceSaving.fromJSON({ v: 1, capacity: 5, floor: 0, lossy: false, items: [["a", 1, 0], ["a", 2, 0]] }))
      .toThrow(RangeError);
    expect(() => SpaceSaving.fromJSON({ v: 1, capacity: 5, floor: -1, lossy: true, items: [] })).toThrow(RangeError);
  });

  it("refuses a stored summary of an unknown format version instead of guessing", () => {
    const state = { v: 1 as const, capacity: 5, floor: 0, lossy: false, items: [["a", 2, 0]] as [string, number, number][] };
    expect(SpaceSaving.fromJSON(state).count("a")).toBe(2);
    expect(() => SpaceSaving.fromJSON({ ...state, v: 2 } as never)).toThrow(/format 2/);
  });
});

describe("SpaceSaving over a shared dictionary", () => {
  it("holds each item once however many summaries count it, and frees it with the last one", () => {
    const dict = new ItemDictionary();
    const a = new SpaceSaving(3, dict);
    const b = new SpaceSaving(3, dict);
    for (const item of ["x", "y", "z"]) {
      a.add(item, 1);
      b.add(item, 2);
    }
    expect(dict.size).toBe(3);
    a.add("w", 5); // evicts one of x, y, z from a only: b still holds it
    expect(dict.size).toBe(4);
    b.release();
    expect(dict.size).toBe(3);
    expect([...["x", "y", "z", "w"]].filter((i) => dict.lookup(i) !== undefined).sort()).toEqual(
      ["w", "x", "y", "z"].filter((i) => a.count(i) !== undefined).sort(),
    );
  });

  it("finds every held item through its slot table after many evictions", () => {
    const dict = new ItemDictionary();
    const summary = new SpaceSaving(64, dict);
    const exact = new Map<string, number>();
    feed(summary, exact, zipfStream(5000, 50_000, 9));
    let held = 0;
    summary.forEach((item, count) => {
      held++;
      expect(summary.count(item)).toBe(count);
    });
    expect(held).toBe(64);
    expect(dict.size).toBe(64);
    expectBounds(summary, exact);
  });
});
