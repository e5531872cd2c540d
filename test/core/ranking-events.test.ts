/**
 * The webhook events of two rankings (src/core/ranking-events.ts), against brute-force oracles
 * written from the contract's definitions (docs/api.md, "Webhooks") over seeded random rankings.
 */
import { describe, expect, it } from "vitest";
import type { RankedItem } from "../../src/shared/contract";
import { newSpikes, placesChanged, spiking } from "../../src/core/ranking-events";
import { rng } from "../support/random";

/** A random ranking of up to 12 of 20 items, ordered by score desc as answers are. */
function ranking(random: () => number): RankedItem[] {
  const items = Array.from({ length: 20 }, (_, i) => `i${i}`).filter(() => random() < 0.6).slice(0, 12);
  return items
    .map((item) => {
      const previous = Math.floor(random() * 10);
      const current = Math.floor(random() * 40);
      return { item, score: current, error: 0, current, previous };
    })
    .sort((a, b) => b.score - a.score || a.item.localeCompare(b.item));
}

describe("entered and left", () => {
  it("are the set differences of the first `limit` places, in ranking order, on 500 random pairs", () => {
    const random = rng(7);
    for (let round = 0; round < 500; round++) {
      const [before, after] = [ranking(random), ranking(random)];
      const limit = 1 + Math.floor(random() * 10);
      const was = before.slice(0, limit).map((i) => i.item);
      const is = after.slice(0, limit);
      const { entered, left } = placesChanged(was, after, limit);
      expect(entered).toEqual(is.flatMap((i, at) => (was.includes(i.item) ? [] : [{ item: i.item, position: at + 1, score: i.score }])));
      expect(left).toEqual(was.filter((item) => !is.some((i) => i.item === item)));
    }
  });

  it("are empty for the same ranking", () => {
    const same = ranking(rng(3));
    expect(placesChanged(same.map((i) => i.item), same, 5)).toEqual({ entered: [], left: [] });
  });
});

describe("spike", () => {
  it("is current >= factor × previous and current >= minScore, and fires only for items not spiking before", () => {
    const random = rng(11);
    for (let round = 0; round < 500; round++) {
      const answer = ranking(random);
      const factor = 1 + random() * 4;
      const minScore = Math.floor(random() * 20);
      const oracle = answer.filter((i) => i.current! >= factor * i.previous! && i.current! >= minScore);
      const got = spiking(answer, factor, minScore);
      expect(got).toEqual(oracle.map((i) => ({ item: i.item, current: i.current, previous: i.previous })));
      const before = answer.filter(() => random() < 0.5).map((i) => i.item);
      expect(newSpikes(before, got).map((s) => s.item)).toEqual(oracle.map((i) => i.item).filter((item) => !before.includes(item)));
    }
  });

  it("counts an item with no earlier events once it reaches minScore", () => {
    const fresh = [{ item: "n", score: 5, error: 0, current: 5, previous: 0 }];
    expect(spiking(fresh, 3, 5)).toEqual([{ item: "n", current: 5, previous: 0 }]);
    expect(spiking(fresh, 3, 6)).toEqual([]);
  });
});
