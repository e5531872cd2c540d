/**
 * The exact form of a small HyperLogLog: its distinct hashes, sorted, in a Float64Array.
 * A Set of doubles costs ~40 bytes per entry; this costs 8 (plus at most as much again of growth
 * slack), and a lookup is a binary search over at most 256 values. Inserting shifts the tail, but
 * only a new distinct value inserts, at most SPARSE_LIMIT times per sketch.
 */
import { typedArrayBytes } from "./memory";

const INITIAL = 16;

export class ExactHashes {
  private values = new Float64Array(INITIAL);
  private used = 0;

  get size(): number {
    return this.used;
  }

  /** Adds a hash (a non-negative integer below 2^53); false if it was already held. */
  add(h: number): boolean {
    const values = this.values;
    let lo = 0;
    let hi = this.used;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = values[mid]!;
      if (v < h) lo = mid + 1;
      else if (v > h) hi = mid;
      else return false;
    }
    if (this.used === values.length) {
      this.values = new Float64Array(values.length * 2);
      this.values.set(values);
    }
    // A plain loop: over at most 256 values it beats copyWithin's call overhead.
    const to = this.values;
    for (let i = this.used; i > lo; i--) to[i] = to[i - 1]!;
    to[lo] = h;
    this.used++;
    return true;
  }

  /** The hashes in ascending order. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.used; i++) yield this.values[i]!;
  }

  toArray(): number[] {
    return Array.from(this.values.subarray(0, this.used));
  }

  clone(): ExactHashes {
    const copy = new ExactHashes();
    copy.values = this.values.slice();
    copy.used = this.used;
    return copy;
  }

  bytes(): number {
    return typedArrayBytes(this.values);
  }
}
