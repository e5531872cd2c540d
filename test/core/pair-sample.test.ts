/**
 * The distinct pair sample (core/pair-sample.ts): it holds exactly the distinct pairs its level
 * keeps, a union is the sample of the union, and it holds the dictionary's items while it keeps them.
 */
import { describe, expect, it } from "vitest";
import { ItemDictionary } from "../../src/core/dictionary";
import { hash53 } from "../../src/core/hash";
import { MAX_LEVEL, PairSample, levelOf, pairKey } from "../../src/core/pair-sample";
import { reachOver, reachUpper } from "../../src/core/reach";

/** Adds `actors` distinct actors of `item` to the sample; returns their keys. */
function addActors(sample: PairSample, item: string, actors: number, from = 0, mask = 0): number[] {
  const id = sample.dictionary.intern(item);
  const keys: number[] = [];
  for (let a = from; a < from + actors; a++) {
    const key = pairKey(hash53(item), hash53(`actor-${a}`));
    keys.push(key);
    sample.add(key, id, mask);
  }
  return keys;
}

function heldKeys(sample: PairSample): Set<number> {
  const keys = new Set<number>();
  sample.forEach((key) => keys.add(key));
  return keys;
}

describe("pair keys", () => {
  it("sample each level with probability 2^-level", () => {
    let atLeast3 = 0;
    let atLeast8 = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const level = levelOf(pairKey(hash53(`item-${i % 50}`), hash53(`actor-${Math.floor(i / 50)}`)));
      if (level >= 3) atLeast3++;
      if (level >= 8) atLeast8++;
    }
    // Binomial: 25,000 ± 150 (1 sigma) and 781 ± 28.
    expect(Math.abs(atLeast3 - n / 8)).toBeLessThan(800);
    expect(Math.abs(atLeast8 - n / 256)).toBeLessThan(150);
  });

  it("tell the trailing zeros of both halves of a 53-bit key", () => {
    expect(levelOf(1)).toBe(0);
    expect(levelOf(2 ** 31)).toBe(31);
    expect(levelOf(2 ** 32)).toBe(32);
    expect(levelOf(2 ** 52 + 2 ** 40)).toBe(40);
    expect(levelOf(0)).toBe(MAX_LEVEL);
  });
});

describe("a distinct pair sample", () => {
  it("holds every distinct pair at level 0 while they fit, however often each was seen", () => {
    const sample = new PairSample(100, new ItemDictionary());
    for (let round = 0; round < 5; round++) addActors(sample, "a", 40);
    addActors(sample, "b", 60);
    expect(sample.level).toBe(0);
    expect(sample.size).toBe(100);
    const reach = reachOver([{ sample, bit: -1, extra: 0 }], sample.dictionary);
    expect(reach.boundOf("a")).toEqual({ score: 40, error: 0 });
    expect(reach.boundOf("b")).toEqual({ score: 60, error: 0 });
    expect(reach.floor).toBe(0);
  });

  it("beyond its capacity, holds exactly the distinct pairs whose keys have `level` low zero bits", () => {
    const sample = new PairSample(100, new ItemDictionary());
    const keys = [...addActors(sample, "a", 5000), ...addActors(sample, "b", 5000), ...addActors(sample, "a", 2000)];
    expect(sample.size).toBeLessThanOrEqual(100);
    expect(sample.level).toBeGreaterThan(5);
    const expected = new Set(keys.filter((key) => levelOf(key) >= sample.level));
    expect(heldKeys(sample)).toEqual(expected);
    // One level lower would not have fit: the level is the lowest that does.
    expect(new Set(keys.filter((key) => levelOf(key) >= sample.level - 1)).size).toBeGreaterThan(100);
  });

  it("unites samples as one sample of all their pairs would be, a shared pair once, masks joined", () => {
    const dictionary = new ItemDictionary();
    const one = new PairSample(300, dictionary);
    const two = new PairSample(300, dictionary);
    one.bitOf("view");
    two.bitOf("like");
    two.bitOf("view");
    const keys = [...addActors(one, "a", 2000, 0, 1), ...addActors(two, "a", 1000, 1500, 0b10), ...addActors(two, "b", 100, 0, 0b01)];
    const union = PairSample.union(
      [
        { sample: one, eventsOf: () => 0 },
        { sample: two, eventsOf: () => 0 },
      ],
      300,
      dictionary,
    );
    expect(union.level).toBeGreaterThanOrEqual(Math.max(one.level, two.level));
    expect(heldKeys(union)).toEqual(new Set(keys.filter((key) => levelOf(key) >= union.level)));
    expect(union.types).toEqual(["view", "like"]);
    // A shared pair (actors 1500 to 1999 of "a") was seen as a view in both: bit 0 only.
    const shared = pairKey(hash53("a"), hash53("actor-1700"));
    const masks = new Map<number, number>();
    union.forEach((key, _, mask) => masks.set(key, mask));
    if (levelOf(shared) >= union.level) expect(masks.get(shared)).toBe(1);
    const likes = [...masks].filter(([, mask]) => mask & 2).length;
    expect(likes).toBe(new Set(keys.slice(3000).filter((key) => levelOf(key) >= union.level)).size);
  });

  it("counts a part's events of a type it has no bit for as untracked in the union", () => {
    const dictionary = new ItemDictionary();
    const early = new PairSample(10, dictionary); // counted "like" before it was declared
    const late = new PairSample(10, dictionary);
    late.bitOf("like");
    late.untracked.set("like", 2);
    const union = PairSample.union(
      [
        { sample: early, eventsOf: (type) => (type === "like" ? 7 : 0) },
        { sample: late, eventsOf: () => 3 },
      ],
      10,
      dictionary,
    );
    expect(union.untracked.get("like")).toBe(9);
  });

  it("retains the items it holds and gives each back when it drops the pair or is released", () => {
    const dictionary = new ItemDictionary();
    const sample = new PairSample(50, dictionary);
    addActors(sample, "a", 30);
    const id = dictionary.lookup("a")!;
    expect(dictionary.references(id)).toBe(30);
    addActors(sample, "b", 3000);
    let held = 0;
    sample.forEach((_, pairId) => (held += pairId === id ? 1 : 0));
    expect(dictionary.references(id)).toBe(held);
    sample.release();
    expect(dictionary.size).toBe(0);
  });

  it("round-trips through its stored state, sealed or live", () => {
    const dictionary = new ItemDictionary();
    const sample = new PairSample(200, dictionary);
    sample.bitOf("view");
    sample.untracked.set("view", 4);
    addActors(sample, "a", 700, 0, 1);
    addActors(sample, "b", 300);
    const state = sample.toJSON();
    const restored = PairSample.fromJSON(JSON.parse(JSON.stringify(state)), dictionary);
    expect(restored.toJSON()).toEqual(state);
    expect(heldKeys(restored)).toEqual(heldKeys(sample));
    // A restored sample takes pairs again, deduplicating against what it held.
    addActors(restored, "a", 700, 0, 1);
    expect(restored.toJSON()).toEqual(state);
    sample.compact();
    expect(sample.toJSON()).toEqual(state);
    expect(() => PairSample.fromJSON({ ...state, level: state.level + 5 }, dictionary)).toThrow(/invalid key/);
    expect(() => PairSample.fromJSON({ ...state, v: 2 as never }, dictionary)).toThrow(/format/);
  });

  it("cut to nothing, stops at the first level that samples none of its pairs, and bounds items by its floor", () => {
    const sample = new PairSample(100, new ItemDictionary());
    const keys = addActors(sample, "a", 50);
    sample.shrinkTo(0);
    expect(sample.size).toBe(0);
    expect(sample.level).toBe(Math.max(...keys.map(levelOf)) + 1);
    expect(sample.level).toBeLessThan(MAX_LEVEL);
    const reach = reachOver([{ sample, bit: -1, extra: 0 }], sample.dictionary);
    expect(reach.boundOf("a")).toEqual({ score: reachUpper(0, sample.level), error: reachUpper(0, sample.level) });
    expect(reach.boundOf("a").score).toBeGreaterThanOrEqual(50);
  });
});
