/**
 * `ranking.merge` tested the way DataSketches tests its frequent-items sketch: exact mode (no
 * summary ever dropped a counter), estimation mode (it did), merge in each mode, and a
 * serialisation round trip, every answer checked against an exact count: a true total lies in
 * [score - error, score], and an absent item's total is at most the merged floor.
 */
import { describe, expect, it } from "vitest";
import { SpaceSaving } from "../../src/core/space-saving";
import { merge, rankTop, type Merged } from "../../src/core/ranking";
import type { SummaryPart } from "../../src/core/bucket";
import { rng, zipf } from "../support/random";

interface Weighted {
  item: string;
  weight: number;
}

/** A Zipf(1.1) stream over `distinct` items with dyadic weights, so every sum is exact. */
function stream(distinct: number, events: number, seed: number): Weighted[] {
  const random = rng(seed);
  const rank = zipf(distinct, 1.1, random);
  return Array.from({ length: events }, () => ({ item: `item-${rank()}`, weight: [0.5, 1, 2][Math.floor(random() * 3)]! }));
}

function summarise(events: Weighted[], capacity: number): SpaceSaving {
  const summary = new SpaceSaving(capacity);
  for (const { item, weight } of events) summary.add(item, weight);
  return summary;
}

function exactCount(...streams: Weighted[][]): Map<string, number> {
  const out = new Map<string, number>();
  for (const events of streams) for (const { item, weight } of events) out.set(item, (out.get(item) ?? 0) + weight);
  return out;
}

const part = (summary: SpaceSaving): SummaryPart => ({ summary, floor: summary.floor });

/** Every true total within its stated bounds; absent items at most the floor. */
function expectBounds(merged: Merged, truth: Map<string, number>): void {
  for (const [item, total] of truth) {
    const s = merged.scores.get(item);
    if (s === undefined) {
      expect(total, `absent ${item}`).toBeLessThanOrEqual(merged.floor);
    } else {
      expect(total, item).toBeLessThanOrEqual(s.score);
      expect(total, item).toBeGreaterThanOrEqual(s.score - s.error);
    }
  }
  for (const item of merged.scores.keys()) expect(truth.has(item), `${item} was never added`).toBe(true);
}

describe("merge in exact mode", () => {
  it("of one summary that never dropped a counter gives every exact total with error 0", () => {
    const events = stream(50, 2000, 1);
    const merged = merge([part(summarise(events, 100))]);
    expect(merged.floor).toBe(0);
    expect(new Map([...merged.scores].map(([item, s]) => [item, s.score]))).toEqual(exactCount(events));
    for (const s of merged.scores.values()) expect(s.error).toBe(0);
  });

  it("of several exact summaries sums them exactly, items missing from a part included", () => {
    const streams = [stream(40, 800, 2), stream(60, 800, 3), [{ item: "only-here", weight: 7 }]];
    const merged = merge(streams.map((events) => part(summarise(events, 100))));
    expect(new Map([...merged.scores].map(([item, s]) => [item, s.score]))).toEqual(exactCount(...streams));
    for (const s of merged.scores.values()) expect(s.error).toBe(0);
  });

  it("ranks the exact top by score descending, then item ascending", () => {
    const events = [
      { item: "b", weight: 2 },
      { item: "a", weight: 2 },
      { item: "c", weight: 5 },
      { item: "d", weight: 1 },
    ];
    const top = rankTop(merge([part(summarise(events, 10))]), 3);
    expect(top.map((i) => i.item)).toEqual(["c", "a", "b"]);
  });
});

describe("merge in estimation mode", () => {
  it("of one summary that dropped counters keeps every true total within [score - error, score]", () => {
    const events = stream(5000, 20_000, 4);
    const summary = summarise(events, 200);
    expect(summary.lossy).toBe(true);
    const merged = merge([part(summary)]);
    expect(merged.floor).toBeGreaterThan(0);
    expectBounds(merged, exactCount(events));
  });

  it("of several lossy summaries keeps the bounds, and a part's floor is added where an item is missing", () => {
    const streams = [stream(5000, 20_000, 5), stream(3000, 10_000, 6), stream(8000, 15_000, 7)];
    const summaries = streams.map((events) => summarise(events, 150));
    expect(summaries.every((s) => s.lossy)).toBe(true);
    const merged = merge(summaries.map(part));
    expect(merged.floor).toBe(summaries.reduce((sum, s) => sum + s.floor, 0));
    expectBounds(merged, exactCount(...streams));
  });

  it("of exact and lossy summaries together keeps the bounds", () => {
    const streams = [stream(30, 500, 8), stream(5000, 20_000, 9)];
    const summaries = [summarise(streams[0]!, 100), summarise(streams[1]!, 100)];
    expect(summaries.map((s) => s.lossy)).toEqual([false, true]);
    expectBounds(merge(summaries.map(part)), exactCount(...streams));
  });

  it("finds the true heaviest items of a skewed stream", () => {
    const streams = [stream(20_000, 30_000, 10), stream(20_000, 30_000, 11)];
    const merged = merge(streams.map((events) => part(summarise(events, 500))));
    const truth = [...exactCount(...streams)].sort((a, b) => b[1] - a[1]);
    const top = rankTop(merged, 5).map((i) => i.item);
    expect(new Set(top)).toEqual(new Set(truth.slice(0, 5).map(([item]) => item)));
  });

  it("bounds an item absent from a bucket by that bucket's floor: a part without a summary adds its floor", () => {
    const events = stream(40, 500, 12);
    const bounded: SummaryPart = { summary: undefined, floor: 9 };
    const merged = merge([part(summarise(events, 100)), bounded]);
    const truth = exactCount(events);
    expect(merged.floor).toBe(9);
    for (const [item, total] of truth) {
      const { score, error } = merged.scores.get(item)!;
      expect({ score, error }).toEqual({ score: total + 9, error: 9 });
    }
  });
});

describe("serialisation", () => {
  it("round-trips a summary in each mode: the restored merge answers the same", () => {
    for (const capacity of [10_000, 100]) {
      const events = stream(3000, 10_000, 13);
      const summary = summarise(events, capacity);
      const restored = SpaceSaving.fromJSON(JSON.parse(JSON.stringify(summary.toJSON())));
      expect(restored.lossy).toBe(summary.lossy);
      const original = merge([part(summary)]);
      const again = merge([part(restored)]);
      expect(again.floor).toBe(original.floor);
      expect(again.scores).toEqual(original.scores);
    }
  });

  it("continues after a round trip exactly as the original does", () => {
    const first = stream(3000, 10_000, 14);
    const rest = stream(3000, 10_000, 15);
    const summary = summarise(first, 100);
    const restored = SpaceSaving.fromJSON(summary.toJSON());
    for (const { item, weight } of rest) {
      summary.add(item, weight);
      restored.add(item, weight);
    }
    expect(restored.toJSON()).toEqual(summary.toJSON());
    expectBounds(merge([part(restored)]), exactCount(first, rest));
  });
});
