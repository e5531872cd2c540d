/**
 * Stored formats, pinned: a checked-in bucket of format 1 loads and answers what its events say,
 * and hash53, whose raw values sparse HyperLogLogs store, gives the same values forever.
 */
import { describe, expect, it } from "vitest";
import { Bucket, type BucketState } from "../../src/core/bucket";
import { hash53 } from "../../src/core/hash";
import { merge } from "../../src/core/ranking";
import fixture from "../fixtures/format-1/bucket.json";
import segmentFixture from "../fixtures/format-2/bucket.json";
import { ItemDictionary } from "../../src/core/dictionary";
import { SegmentKeys, segmentPart, valuePart } from "../../src/core/segments";

/** The events the fixture was made of (test/fixtures/README.md): item → [type, weight, count]. */
const EVENTS: Record<string, [string, number, number]> = {
  a: ["view", 1, 292],
  b: ["like", 2, 3],
  c: ["view", 1, 2],
  d: ["view", 1, 1],
  e: ["view", 1, 1],
  f: ["view", 1, 1],
};
const ACTORS = 300;

function truth(type: string | null): Map<string, number> {
  const scores = new Map<string, number>();
  for (const [item, [t, weight, count]] of Object.entries(EVENTS)) if (type === null || t === type) scores.set(item, weight * count);
  return scores;
}

describe("a bucket of format 1, as stored", () => {
  const bucket = Bucket.fromJSON(fixture as BucketState);

  it("keeps its exact totals per type", () => {
    for (const type of ["view", "like"]) {
      const events = Object.values(EVENTS).filter(([t]) => t === type).reduce((s, [, , n]) => s + n, 0);
      const weight = [...truth(type).values()].reduce((s, w) => s + w, 0);
      expect(bucket.totals.get(type)).toEqual({ events, weight });
    }
  });

  it("bounds every item's score by its summary, for all types and for each type", () => {
    for (const type of [null, "view", "like"]) {
      const { scores, floor } = merge([bucket.partFor(type)]);
      for (const [item, score] of truth(type)) {
        const held = scores.get(item);
        if (held === undefined) {
          expect(score, item).toBeLessThanOrEqual(floor);
        } else {
          expect(score, item).toBeLessThanOrEqual(held.score);
          expect(score, item).toBeGreaterThanOrEqual(held.score - held.error);
        }
      }
    }
    const likes = merge([bucket.partFor("like")]).scores.get("b")!;
    expect([likes.score, likes.error]).toEqual([6, 0]); // one item: exact
  });

  it("counts unique items exactly (sparse) and unique actors within 2% (dense)", () => {
    expect(bucket.items.isExact).toBe(true);
    expect(bucket.items.estimate()).toBe(Object.keys(EVENTS).length);
    expect(bucket.actors.isExact).toBe(false);
    expect(Math.abs(bucket.actors.estimate() - ACTORS) / ACTORS).toBeLessThan(0.02);
  });

  it("serialises back to the very same state (the exact hashes of a sketch are a set: their order is free)", () => {
    const sortSparse = (state: BucketState) => {
      for (const h of [state.items, state.actors]) h.sparse?.sort((a, b) => a - b);
      return state;
    };
    expect(sortSparse(JSON.parse(JSON.stringify(bucket.toJSON())))).toEqual(sortSparse(structuredClone(fixture) as BucketState));
  });

  it("is refused at any other version, at every level", () => {
    const state = fixture as BucketState;
    expect(() => Bucket.fromJSON({ ...state, v: 3 } as never)).toThrow(/format 3/);
    expect(() => Bucket.fromJSON({ ...state, summary: { ...state.summary, v: 0 } } as never)).toThrow(/format 0/);
    expect(() => Bucket.fromJSON({ ...state, actors: { ...state.actors, v: 3 } } as never)).toThrow(/format 3/);
  });
});

/** hash53 re-derived in BigInt arithmetic from its definition (two 32-bit lanes, imul steps,
 * xorshift-multiply finalisers, a cross-mix): an implementation that shares no code with it. */
function hash53Reference(s: string): number {
  const u32 = (x: bigint) => BigInt.asUintN(32, x);
  const mul = (a: bigint, b: bigint) => u32(a * b);
  const shr = (x: bigint, n: bigint) => u32(x) >> n;
  const n = BigInt(s.length);
  let lo = u32(0x3c6ef372n ^ n);
  let hi = u32(0xa54ff53an ^ mul(n, 0x9e3779b1n));
  for (let i = 0; i < s.length; i++) {
    const c = BigInt(s.charCodeAt(i));
    lo = mul(lo ^ c, 0x9e3779b1n);
    hi = mul(hi ^ c, 0x85ebca77n);
  }
  lo ^= shr(lo, 16n); lo = mul(lo, 0x7feb352dn); lo ^= shr(lo, 15n); lo = mul(lo, 0x846ca68bn); lo ^= shr(lo, 16n);
  hi ^= shr(hi, 15n); hi = mul(hi, 0x21f0aaadn); hi ^= shr(hi, 15n); hi = mul(hi, 0x735a2d97n); hi ^= shr(hi, 15n);
  lo = u32(lo ^ mul(hi ^ shr(hi, 16n), 0x7feb352dn));
  hi = u32(hi ^ mul(lo ^ shr(lo, 13n), 0x846ca68bn));
  return Number((hi & 0x1fffffn) * 2n ** 32n + lo);
}

describe("hash53", () => {
  // Values stored in every sparse HyperLogLog of format 1: they may never change.
  const PINNED: [string, number][] = [
    ["", 988404371749476],
    ["a", 1871995674918821],
    ["b", 5940251104717857],
    ["item-42", 2804148815089160],
    ["é", 8825125338586036],
    ["🎉", 8968511507135752],
    ["x".repeat(256), 4112310514497645],
    ["constructor", 2257556758035559],
  ];

  it("gives the pinned value for each known input", () => {
    for (const [input, value] of PINNED) expect(hash53(input), JSON.stringify(input.slice(0, 12))).toBe(value);
  });

  it("agrees with a BigInt re-derivation of its definition on many inputs", () => {
    for (let i = 0; i < 2000; i++) {
      const input = `k${i}-${String.fromCharCode(32 + (i % 500))}${"z".repeat(i % 40)}`;
      expect(hash53(input)).toBe(hash53Reference(input));
    }
    for (const [input, value] of PINNED) expect(hash53Reference(input)).toBe(value);
  });
});

/** The events of the format-2 fixture (test/fixtures/README.md): item → [weight, count, dims]. */
const SEGMENT_EVENTS: Record<string, [number, number, Record<string, string[]>]> = {
  a: [1, 5, { category: ["comedy"], tag: ["cats", "funny"] }],
  b: [2, 2, { category: ["news"] }],
  c: [1, 1, { category: ["sport"], tag: ["dogs"] }],
  d: [1, 1, { category: ["opera"] }],
};

describe("a bucket of format 2 (v1.7), with its dimensions, as stored", () => {
  const items = new ItemDictionary();
  const keys = new SegmentKeys(items);
  const bucket = Bucket.fromJSON(segmentFixture as unknown as BucketState, items, keys);
  const truthOf = (dimension: string, value: string) => {
    const scores = new Map<string, number>();
    for (const [item, [weight, count, dims]] of Object.entries(SEGMENT_EVENTS)) if (dims[dimension]?.includes(value)) scores.set(item, weight * count);
    return scores;
  };

  it("bounds every segment's items by its pairs' summary, exactly where it held them all", () => {
    for (const [dimension, values] of [["category", ["comedy", "news", "sport", "opera"]], ["tag", ["cats", "funny", "dogs"]]] as const) {
      for (const value of values) {
        const part = segmentPart(bucket.dims!.get(dimension), keys.lookup(value), keys);
        const merged = merge([part]);
        const truth = truthOf(dimension, value);
        for (const [item, score] of truth) {
          const bound = merged.boundOf(item);
          expect(score).toBeLessThanOrEqual(bound.score);
          expect(score).toBeGreaterThanOrEqual(bound.score - bound.error);
          if (dimension === "tag") expect(bound).toEqual({ score, error: 0 });
        }
      }
    }
  });

  it("bounds each value's weight and events by the values' summaries", () => {
    const counts = bucket.dims!.get("category")!;
    const byWeight = merge([valuePart(counts, "weight")]);
    const byEvents = merge([valuePart(counts, "events")]);
    for (const [, [weight, count, dims]] of Object.entries(SEGMENT_EVENTS)) {
      const value = dims.category![0]!;
      for (const [merged, truth] of [[byWeight, weight * count], [byEvents, count]] as const) {
        const bound = merged.boundOf(value);
        expect(truth).toBeLessThanOrEqual(bound.score);
        expect(truth).toBeGreaterThanOrEqual(bound.score - bound.error);
      }
    }
  });

  it("serialises back to the very same state", () => {
    expect(JSON.parse(JSON.stringify(bucket.toJSON()))).toEqual(structuredClone(segmentFixture));
  });
});
