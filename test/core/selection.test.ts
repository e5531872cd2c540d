/**
 * Rankings in the pure core: rank=hot's decay (the README's worked example, numbers by hand),
 * hidden items skipped while selecting, and rising's `new` flag under bounded previous periods.
 */
import { describe, expect, it } from "vitest";
import type { TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { merge, rankRising, rankTop } from "../../src/core/ranking";
import { SpaceSaving } from "../../src/core/space-saving";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** 12:00 UTC on a day: 1h windows then start on a minute boundary exactly one hour back. */
const NOON = Date.UTC(2026, 10, 21, 12, 0, 0);

const ev = (item: string, ts: number, weight = 1): TallyEvent => ({ item, type: "view", weight, ts });

function summaryOf(capacity: number, adds: [string, number][]): SpaceSaving {
  const s = new SpaceSaving(capacity);
  for (const [item, weight] of adds) s.add(item, weight);
  return s;
}

describe("rank=hot", () => {
  // The README's worked example: half-life 30 minutes, 1h window read at 12:00, so `to` = 12:00.
  // "old" has 8 in the 11:00 bucket: factor 2^(-60/30) = 1/4, score 2. "new" has 5 in the 11:30
  // bucket: factor 2^(-30/30) = 1/2, score 2.5. "both" has 2 in each: 2/4 + 2/2 = 1.5.
  // Top ranks old (8), new (5), both (4); hot ranks new (2.5), old (2), both (1.5).
  it("weights each bucket by 2^(-(to - bucketStart) / halfLife): the README's worked example", () => {
    const agg = new Aggregator({ capacity: 10, types: [] });
    agg.ingest([ev("old", NOON - HOUR + 5_000, 8), ev("new", NOON - 30 * MINUTE + 5_000, 5)], NOON);
    agg.advance(NOON);
    agg.ingest([ev("both", NOON - HOUR + 9_000, 2), ev("both", NOON - 30 * MINUTE + 9_000, 2)], NOON);
    agg.advance(NOON);
    const hot = agg.hot("1h", null, NOON, 10, 30 * 60);
    expect(hot.from).toBe(NOON - HOUR);
    expect(hot.items).toEqual([
      { item: "new", score: 2.5, error: 0 },
      { item: "old", score: 2, error: 0 },
      { item: "both", score: 1.5, error: 0 },
    ]);
    expect(agg.top("1h", null, NOON, 10).items.map((i) => [i.item, i.score])).toEqual([["old", 8], ["new", 5], ["both", 4]]);
  });

  it("scales errors and floors by the same factors, so [score - error, score] holds the decayed truth", () => {
    // Bucket A (factor 1/2): capacity 2 overflows and evicts "x"; bucket B (factor 1): exact.
    // "x" is missing from A's summary, so A's floor (scaled) is added to its score and its error.
    const a = summaryOf(2, [["x", 1], ["p", 5], ["q", 4]]);
    const b = summaryOf(10, [["x", 6], ["p", 1]]);
    expect(a.count("x")).toBeUndefined();
    const merged = merge([{ summary: a, floor: a.floor }, { summary: b, floor: b.floor }], [0.5, 1]);
    const truth = { x: 0.5 * 1 + 6, p: 0.5 * 5 + 1, q: 0.5 * 4 };
    for (const [item, exact] of Object.entries(truth)) {
      const { score, error } = merged.scores.get(item)!;
      expect(exact, item).toBeLessThanOrEqual(score);
      expect(exact, item).toBeGreaterThanOrEqual(score - error);
    }
    expect(merged.scores.get("x")).toMatchObject({ score: 0.5 * a.floor + 6, error: 0.5 * a.floor });
  });
});

describe("hidden items", () => {
  it("are skipped while selecting, so the list is still filled from the items below them", () => {
    const summary = summaryOf(10, [["a", 9], ["b", 8], ["c", 7], ["d", 6]]);
    const merged = merge([{ summary, floor: 0 }]);
    expect(rankTop(merged, 2, new Set(["a"])).map((i) => i.item)).toEqual(["b", "c"]);
    expect(rankTop(merged, 3, new Set(["b", "c", "zzz"])).map((i) => i.item)).toEqual(["a", "d"]);
    const agg = new Aggregator({ capacity: 10, types: [] });
    agg.ingest([ev("a", NOON - MINUTE, 3), ev("b", NOON - MINUTE, 2), ev("c", NOON - MINUTE, 1)], NOON);
    agg.advance(NOON);
    const hidden = new Set(["a"]);
    agg.hide(hidden);
    for (const answer of [agg.top("1h", null, NOON, 2), agg.rising("1h", null, NOON, 2), agg.hot("1h", null, NOON, 2, 3600)]) {
      expect(answer.items.map((i) => i.item)).toEqual(["b", "c"]);
    }
    hidden.delete("a"); // a live view: showing an item again needs no call
    expect(agg.top("1h", null, NOON, 2).items.map((i) => i.item)).toEqual(["a", "b"]);
    expect(agg.stats("1h", NOON).weight).toBe(6);
  });
});

describe("rank=rising's new", () => {
  it("is true only when the item's bound in the previous period is 0", () => {
    const current = merge([{ summary: summaryOf(10, [["fresh", 5], ["back", 5], ["maybe", 5]]), floor: 0 }]);
    // The previous period overflowed: "maybe" is absent from its summary, yet may have had up to
    // the floor there, so it is not provably new.
    const lossy = summaryOf(1, [["maybe", 1], ["back", 2]]);
    expect(lossy.floor).toBeGreaterThan(0);
    const bounded = rankRising(current, merge([{ summary: lossy, floor: lossy.floor }]), 10);
    expect(bounded.find((i) => i.item === "maybe")).toMatchObject({ new: false, previous: lossy.floor });
    expect(bounded.find((i) => i.item === "fresh")!.new).toBe(false);

    const exact = summaryOf(10, [["back", 2]]);
    const rising = rankRising(current, merge([{ summary: exact, floor: 0 }]), 10);
    expect(Object.fromEntries(rising.map((i) => [i.item, i.new]))).toEqual({ fresh: true, maybe: true, back: false });
  });
});
