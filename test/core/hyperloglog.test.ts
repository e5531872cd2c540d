import { describe, it, expect } from "vitest";
import { HyperLogLog, SPARSE_LIMIT } from "../../src/core/hyperloglog";
import { hash53 } from "../../src/core/hash";

/** A sketch over `${prefix}${i}` for i in [from, to), each value added `times` times. */
function sketchOf(prefix: string, from: number, to: number, times = 1, p?: number): HyperLogLog {
  const sketch = new HyperLogLog(p);
  for (let round = 0; round < times; round++) {
    for (let i = from; i < to; i++) sketch.add(`${prefix}${i}`);
  }
  return sketch;
}

function relativeError(estimate: number, truth: number): number {
  return Math.abs(estimate - truth) / truth;
}

function roundTrip(sketch: HyperLogLog): HyperLogLog {
  return HyperLogLog.fromJSON(JSON.parse(JSON.stringify(sketch.toJSON())));
}

describe("hash53", () => {
  it("returns deterministic integers in [0, 2^53)", () => {
    for (let i = 0; i < 10_000; i++) {
      const value = `value-${i}-${"x".repeat(i % 40)}`;
      const h = hash53(value);
      expect(Number.isSafeInteger(h) && h >= 0).toBe(true);
      expect(hash53(value)).toBe(h);
    }
    expect(Number.isSafeInteger(hash53(""))).toBe(true);
  });

  it("gives distinct hashes to 200k near-identical strings", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) {
      seen.add(hash53(`k${i}`));
      seen.add(hash53(`k${i}\u0000`));
    }
    expect(seen.size).toBe(200_000);
  });

  it("sets each output bit about half the time", () => {
    const samples = 20_000;
    const ones = new Array<number>(53).fill(0);
    for (let i = 0; i < samples; i++) {
      let h = hash53(`bit-${i}`);
      for (let bit = 0; bit < 53; bit++) {
        ones[bit]! += h % 2;
        h = Math.floor(h / 2);
      }
    }
    // 6 standard deviations of a fair coin over `samples` trials.
    const tolerance = 6 * Math.sqrt(samples / 4);
    for (const count of ones) expect(Math.abs(count - samples / 2)).toBeLessThan(tolerance);
  });
});

describe("HyperLogLog", () => {
  it("rejects precision outside 4..16", () => {
    for (const p of [3, 17, 14.5, Number.NaN]) expect(() => new HyperLogLog(p)).toThrow(RangeError);
    expect(new HyperLogLog().p).toBe(14);
  });

  it("counts exactly while the distinct values fit the sparse form", () => {
    expect(new HyperLogLog().estimate()).toBe(0);
    for (const distinct of [1, 100, SPARSE_LIMIT]) {
      const sketch = sketchOf("small-", 0, distinct, 3);
      expect(sketch.isExact).toBe(true);
      expect(sketch.estimate()).toBe(distinct);
    }
  });

  it("switches to registers past SPARSE_LIMIT and stays within 2%", () => {
    const distinct = SPARSE_LIMIT + 1;
    const sketch = sketchOf("edge-", 0, distinct, 2);
    expect(sketch.isExact).toBe(false);
    expect(relativeError(sketch.estimate(), distinct)).toBeLessThanOrEqual(0.02);
  });

  it("estimates 100k distinct values within 2% for several value sets", () => {
    for (const prefix of ["user:", "session-", "https://example.com/p/"]) {
      const estimate = sketchOf(prefix, 0, 100_000).estimate();
      expect(relativeError(estimate, 100_000), prefix).toBeLessThanOrEqual(0.02);
    }
  });

  it("stays within 2% across the range, including where classic HLL switches estimators", () => {
    for (const distinct of [1_000, 10_000, 41_000, 60_000, 250_000]) {
      const estimate = sketchOf("range-", 0, distinct).estimate();
      expect(relativeError(estimate, distinct), `${distinct}`).toBeLessThanOrEqual(0.02);
    }
  });

  it("keeps error within 4 standard errors at other precisions", () => {
    for (const p of [4, 8, 12, 16]) {
      const estimate = sketchOf("prec-", 0, 50_000, 1, p).estimate();
      const standardError = 1.04 / Math.sqrt(2 ** p);
      expect(relativeError(estimate, 50_000), `p=${p}`).toBeLessThanOrEqual(4 * standardError);
    }
  });

  it("merges two disjoint halves into exactly the sketch of the union", () => {
    const left = sketchOf("m-", 0, 50_000);
    const right = sketchOf("m-", 50_000, 100_000);
    const union = sketchOf("m-", 0, 100_000);
    left.merge(right);
    expect(left.toJSON()).toEqual(union.toJSON());
    expect(relativeError(left.estimate(), 100_000)).toBeLessThanOrEqual(0.02);
  });

  it("counts overlapping values once when merging", () => {
    const left = sketchOf("o-", 0, 70_000);
    const right = sketchOf("o-", 30_000, 100_000);
    const rightBefore = right.toJSON();
    left.merge(right);
    expect(left.toJSON()).toEqual(sketchOf("o-", 0, 100_000).toJSON());
    expect(relativeError(left.estimate(), 100_000)).toBeLessThanOrEqual(0.02);
    expect(right.toJSON()).toEqual(rightBefore);
  });

  it("merges sparse sketches as an exact set union", () => {
    const left = sketchOf("s-", 0, 100);
    left.merge(sketchOf("s-", 50, 150));
    expect(left.isExact).toBe(true);
    expect(left.estimate()).toBe(150);
  });

  it("turns a sparse union that outgrows SPARSE_LIMIT into registers", () => {
    const distinct = SPARSE_LIMIT + 44;
    const half = Math.floor(distinct / 2);
    const left = sketchOf("g-", 0, half + 10);
    left.merge(sketchOf("g-", half - 10, distinct));
    expect(left.isExact).toBe(false);
    expect(left.toJSON()).toEqual(sketchOf("g-", 0, distinct).toJSON());
  });

  it("merges dense into dense register by register, as the union of both streams", () => {
    for (const p of [4, 12, 14]) {
      const merged = sketchOf("m-", 0, 20_000, 1, p);
      const other = sketchOf("m-", 10_000, 50_000, 1, p);
      const before = atob(merged.toJSON().dense!);
      const theirs = atob(other.toJSON().dense!);
      merged.merge(other);
      const after = atob(merged.toJSON().dense!);
      for (let i = 0; i < after.length; i++) expect(after.charCodeAt(i)).toBe(Math.max(before.charCodeAt(i), theirs.charCodeAt(i)));
      expect(merged.toJSON()).toEqual(sketchOf("m-", 0, 50_000, 1, p).toJSON());
    }
  });

  it("merges sparse into dense and dense into sparse", () => {
    const union = sketchOf("x-", 0, 10_050).toJSON();
    const sparseIntoDense = sketchOf("x-", 50, 10_050);
    sparseIntoDense.merge(sketchOf("x-", 0, 100));
    expect(sparseIntoDense.toJSON()).toEqual(union);
    const denseIntoSparse = sketchOf("x-", 0, 100);
    denseIntoSparse.merge(sketchOf("x-", 50, 10_050));
    expect(denseIntoSparse.isExact).toBe(false);
    expect(denseIntoSparse.toJSON()).toEqual(union);
  });

  it("refuses to merge sketches of different precision", () => {
    expect(() => new HyperLogLog(14).merge(new HyperLogLog(12))).toThrow(RangeError);
  });

  it("clones independently", () => {
    const original = sketchOf("c-", 0, 1000);
    const copy = original.clone();
    copy.add("c-extra-1");
    copy.add("c-extra-2");
    expect(original.toJSON()).toEqual(sketchOf("c-", 0, 1000).toJSON());
    expect(copy.toJSON()).toEqual(roundTrip(copy).toJSON());
    const small = sketchOf("c-", 0, 10);
    const smallCopy = small.clone();
    smallCopy.add("c-extra");
    expect(small.estimate()).toBe(10);
    expect(smallCopy.estimate()).toBe(11);
  });

  it("round-trips through JSON in sparse mode, then keeps counting", () => {
    const sketch = sketchOf("j-", 0, 200);
    const restored = roundTrip(sketch);
    expect(restored.isExact).toBe(true);
    expect(restored.toJSON()).toEqual(sketch.toJSON());
    expect(restored.estimate()).toBe(200);
    for (let i = 200; i < 1000; i++) {
      sketch.add(`j-${i}`);
      restored.add(`j-${i}`);
    }
    expect(restored.toJSON()).toEqual(sketch.toJSON());
  });

  it("writes dense registers as btoa would, whatever the remainder of their length by 3 (2^13 and 2^14 bytes)", () => {
    for (const p of [13, 14]) {
      const state = sketchOf(`r${p}-`, 0, 40_000, 1, p).toJSON();
      const bytes = atob(state.dense!);
      expect(bytes.length % 3).toBe(p === 13 ? 2 : 1);
      expect(btoa(bytes)).toBe(state.dense);
      expect(state.dense!.endsWith(p === 13 ? "=" : "==")).toBe(true);
    }
  });

  it("round-trips through JSON in dense mode as standard base64 registers", () => {
    const sketch = sketchOf("d-", 0, 30_000);
    const state = sketch.toJSON();
    expect(state.sparse).toBeUndefined();
    // Decode independently of the implementation: one byte per register, each in 0..53-p+1.
    const bytes = atob(state.dense!);
    expect(bytes.length).toBe(2 ** state.p);
    let binary = "";
    for (let i = 0; i < bytes.length; i++) {
      expect(bytes.charCodeAt(i)).toBeLessThanOrEqual(53 - state.p + 1);
      binary += bytes[i];
    }
    expect(btoa(binary)).toBe(state.dense);

    const restored = roundTrip(sketch);
    expect(restored.estimate()).toBe(sketch.estimate());
    for (let i = 30_000; i < 40_000; i++) {
      sketch.add(`d-${i}`);
      restored.add(`d-${i}`);
    }
    expect(restored.toJSON()).toEqual(sketch.toJSON());
    expect(restored.estimate()).toBe(sketch.estimate());
  });

  it("rejects malformed state", () => {
    const dense = sketchOf("r-", 0, 1000).toJSON().dense!;
    expect(() => HyperLogLog.fromJSON({ v: 1, p: 14 })).toThrow(RangeError);
    expect(() => HyperLogLog.fromJSON({ v: 1, p: 14, sparse: [1], dense })).toThrow(RangeError);
    expect(() => HyperLogLog.fromJSON({ v: 1, p: 12, dense })).toThrow(RangeError);
    expect(() => HyperLogLog.fromJSON({ v: 1, p: 14, dense: dense.slice(4) })).toThrow(RangeError);
    expect(() => HyperLogLog.fromJSON({ v: 1, p: 14, dense: `!${dense.slice(1)}` })).toThrow(RangeError);
    expect(() => HyperLogLog.fromJSON({ v: 1, p: 14, sparse: [2 ** 53] })).toThrow(RangeError);
    expect(() => HyperLogLog.fromJSON({ v: 1, p: 14, sparse: [-1] })).toThrow(RangeError);
  });

  it("refuses a stored sketch of an unknown format version instead of guessing", () => {
    const state = sketchOf("fv-", 0, 10).toJSON();
    expect(HyperLogLog.fromJSON(state).estimate()).toBe(10);
    expect(() => HyperLogLog.fromJSON({ ...state, v: 2 } as never)).toThrow(/format 2/);
    expect(() => HyperLogLog.fromJSON({ p: 14, sparse: [1] } as never)).toThrow(/format undefined/);
  });
});

describe("HyperLogLog memory", () => {
  it("holds 256 exact hashes in a few KB and 2^p registers once dense", () => {
    const sketch = new HyperLogLog();
    for (let i = 0; i < 256; i++) sketch.add(`v-${i}`);
    expect(sketch.isExact).toBe(true);
    expect(sketch.bytes()).toBeLessThan(3 * 1024);
    sketch.add("one more");
    expect(sketch.isExact).toBe(false);
    expect(sketch.bytes()).toBeGreaterThanOrEqual(2 ** 14);
    expect(sketch.bytes()).toBeLessThan(2 ** 14 + 512);
  });
});
