import { describe, expect, it } from "vitest";
import { findSlot, placeSlot, removeSlot, tableBits } from "../../src/core/slot-table";
import { rng as seeded } from "../support/random";

describe("the slot table (id -> slot, open addressing)", () => {
  it("sizes the table to stay at most half full", () => {
    expect(1 << tableBits(16)).toBe(32);
    expect(1 << tableBits(5000)).toBe(16384);
    expect(1 << tableBits(1)).toBe(16);
  });

  it("finds every id after random inserts and removals, as a Map would", () => {
    const slots = 64;
    const bits = tableBits(slots);
    const table = new Int32Array(1 << bits);
    const shift = 32 - bits;
    const ids = new Uint32Array(slots);
    const oracle = new Map<number, number>();
    const free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
    const random = seeded(13);
    for (let step = 0; step < 20_000; step++) {
      const id = Math.floor(random() * 200);
      if (oracle.has(id)) {
        if (random() < 0.5) {
          removeSlot(table, shift, ids, id);
          free.push(oracle.get(id)!);
          oracle.delete(id);
        }
      } else if (free.length > 0) {
        const slot = free.pop()!;
        ids[slot] = id;
        placeSlot(table, shift, id, slot);
        oracle.set(id, slot);
      }
      if (step % 97 === 0) {
        for (let probe = 0; probe < 200; probe++) expect(findSlot(table, shift, ids, probe)).toBe(oracle.get(probe) ?? -1);
      }
    }
    expect(oracle.size).toBeGreaterThan(0);
  });
});
