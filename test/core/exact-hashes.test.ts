import { describe, expect, it } from "vitest";
import { ExactHashes } from "../../src/core/exact-hashes";
import { rng as seeded } from "../support/random";

describe("ExactHashes (a small HyperLogLog's exact form)", () => {
  it("holds each distinct hash once, in ascending order", () => {
    const random = seeded(5);
    const set = new ExactHashes();
    const truth = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const h = Math.floor(random() * 300) * 2 ** 40 + 7; // repeats on purpose, large values
      expect(set.add(h)).toBe(!truth.has(h));
      truth.add(h);
    }
    expect(set.size).toBe(truth.size);
    expect([...set]).toEqual([...truth].sort((a, b) => a - b));
    expect(set.toArray()).toEqual([...set]);
  });

  it("keeps 53-bit hashes exactly", () => {
    const set = new ExactHashes();
    const big = 2 ** 53 - 1;
    set.add(big);
    set.add(big - 1);
    set.add(0);
    expect(set.toArray()).toEqual([0, big - 1, big]);
  });

  it("costs 8 bytes per hash, up to twice that while growing (a Set costs ~40)", () => {
    const set = new ExactHashes();
    for (let i = 0; i < 256; i++) set.add(i * 1_000_003);
    expect(set.bytes()).toBeLessThanOrEqual(256 * 8 + 200);
  });

  it("clones into an independent copy", () => {
    const set = new ExactHashes();
    set.add(1);
    const copy = set.clone();
    copy.add(2);
    expect(set.toArray()).toEqual([1]);
    expect(copy.toArray()).toEqual([1, 2]);
  });
});
