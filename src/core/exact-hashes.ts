/**
 * The exact form of a small HyperLogLog: its distinct hashes, sorted, in a Float64Array.
 * A Set of doubles costs ~40 bytes per entry; this costs 8 (plus at most as much again of growth
 * slack), and a lookup is a binary search over at most 256 values.
 *
 * New values wait unsorted at the end (at most TAIL of them, found by a scan) and are merged into
 * the sorted run TAIL at a time: inserting each one in place shifted half the run per new value,
 * and nearly every event of a busy minute brings a new item and a new actor.
 */
import { typedArrayBytes } from "./memory";

const INITIAL = 16;
/** New values held unsorted before they are merged into the sorted run. */
const TAIL = 16;
/** Where a merge sorts the tail (one per process: a merge never runs inside another). */
const scratch = new Float64Array(TAIL);

export class ExactHashes {
  private values = new Float64Array(INITIAL);
  private used = 0;
  /** values[0, sorted) ascending; values[sorted, used) the unsorted tail. */
  private sorted = 0;

  get size(): number {
    return this.used;
  }

  /** Adds a hash (a non-negative integer below 2^53); false if it was already held. */
  add(h: number): boolean {
    const values = this.values;
    let lo = 0;
    let hi = this.sorted;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = values[mid]!;
      if (v < h) lo = mid + 1;
      else if (v > h) hi = mid;
      else return false;
    }
    for (let i = this.sorted; i < this.used; i++) if (values[i] === h) return false;
    if (this.used === values.length) {
      this.values = new Float64Array(values.length * 2);
      this.values.set(values);
    }
    this.values[this.used++] = h;
    if (this.used - this.sorted === TAIL) this.settle();
    return true;
  }

  /** Merges the tail into the sorted run, from the back, in place. */
  private settle(): void {
    const tail = this.used - this.sorted;
    if (tail === 0) return;
    const values = this.values;
    // An insertion sort of the few pending values: cheaper than a native sort's call at this size.
    const pending = scratch;
    for (let k = 0; k < tail; k++) {
      const v = values[this.sorted + k]!;
      let at = k;
      for (; at > 0 && pending[at - 1]! > v; at--) pending[at] = pending[at - 1]!;
      pending[at] = v;
    }
    let i = this.sorted - 1;
    let j = tail - 1;
    for (let out = this.used - 1; j >= 0; out--) {
      if (i >= 0 && values[i]! > pending[j]!) values[out] = values[i--]!;
      else values[out] = pending[j--]!;
    }
    this.sorted = this.used;
  }

  /** The hashes in ascending order. */
  *[Symbol.iterator](): IterableIterator<number> {
    this.settle();
    for (let i = 0; i < this.used; i++) yield this.values[i]!;
  }

  toArray(): number[] {
    this.settle();
    return Array.from(this.values.subarray(0, this.used));
  }

  clone(): ExactHashes {
    const copy = new ExactHashes();
    copy.values = this.values.slice();
    copy.used = this.used;
    copy.sorted = this.sorted;
    return copy;
  }

  bytes(): number {
    return typedArrayBytes(this.values);
  }
}
