/**
 * Weighted Space-Saving (Metwally, Agrawal & El Abbadi, 2005): a bounded summary of the
 * heaviest items in a stream. Invariant, for every item ever added with true total T:
 * present => count - error <= T <= count; absent => T <= floor.
 *
 * Counters live in parallel slots (items / counts / errors) found through a Map<item, slot>.
 * A min-heap over slots is kept only while full, the only time the minimum is needed (to evict
 * it). Slot arrays grow by doubling so a namespace with ten items does not pay for 5000.
 */

/** The serial version of {@link SpaceSavingState}. A stored summary of any other version is
 * refused on load, never guessed at: bump it with every change of the form. */
export const SPACE_SAVING_FORMAT = 1;

/** Serialised form: `items` holds [item, count, error] triples. */
export interface SpaceSavingState {
  v: typeof SPACE_SAVING_FORMAT;
  capacity: number;
  floor: number;
  lossy: boolean;
  items: [string, number, number][];
}

/** One counter as reported by {@link SpaceSaving.top}. */
export interface SpaceSavingEntry {
  item: string;
  count: number;
  error: number;
}

const INITIAL_SLOTS = 16;

/** A weighted Space-Saving summary holding at most `capacity` counters. */
export class SpaceSaving {
  /** Maximum number of counters held. */
  readonly capacity: number;
  private readonly slotOf = new Map<string, number>();
  private items: string[] = [];
  private counts: Float64Array;
  private errors: Float64Array;
  /** heap[i] = slot and position[slot] = i; maintained only while full (used === capacity). */
  private heap = new Int32Array(0);
  private position = new Int32Array(0);
  private used = 0;
  private everLossy = false;
  /**
   * Bound on anything trimmed away, used while NOT full: a returning item re-enters at
   * trimFloor + weight to cover its forgotten history. Never above the smallest counter.
   */
  private trimFloor = 0;

  /** @param capacity maximum number of counters; an integer >= 1. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`SpaceSaving capacity must be an integer >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.counts = new Float64Array(Math.min(capacity, INITIAL_SLOTS));
    this.errors = new Float64Array(this.counts.length);
  }

  /** Number of counters currently held. */
  get size(): number {
    return this.used;
  }

  /** True once any counter was ever evicted or trimmed (counts may then overestimate). */
  get lossy(): boolean {
    return this.everLossy;
  }

  /** Every item NOT in the summary has a true total <= floor. 0 while not lossy. */
  get floor(): number {
    if (!this.everLossy) return 0;
    if (this.used < this.capacity) return this.trimFloor;
    // Evicted items had at most the minimum at eviction time, and the minimum never decreases.
    return Math.max(this.trimFloor, this.counts[this.heap[0]!]!);
  }

  /** Adds `weight` (> 0, finite; validated by the caller) to `item`. */
  add(item: string, weight: number): void {
    const existing = this.slotOf.get(item);
    if (existing !== undefined) {
      this.counts[existing]! += weight;
      // Counts only grow, so a min-heap entry can only need to move down.
      if (this.used === this.capacity) this.siftDown(this.position[existing]!);
      return;
    }
    if (this.used < this.capacity) return this.insert(item, weight);
    // Full: take over the minimum counter. The newcomer may have been evicted before with up
    // to `min`, hence count = min + weight and error = min.
    const slot = this.heap[0]!;
    const min = this.counts[slot]!;
    this.slotOf.delete(this.items[slot]!);
    this.slotOf.set(item, slot);
    this.items[slot] = item;
    this.counts[slot] = min + weight;
    this.errors[slot] = min;
    this.everLossy = true;
    this.siftDown(0);
  }

  /** The counter's count (an upper bound of the true total), or undefined if absent. */
  count(item: string): number | undefined {
    const slot = this.slotOf.get(item);
    return slot === undefined ? undefined : this.counts[slot];
  }

  /** The overcount bound: the true total lies in [count - error, count]. Undefined if absent. */
  error(item: string): number | undefined {
    const slot = this.slotOf.get(item);
    return slot === undefined ? undefined : this.errors[slot];
  }

  /** Calls `fn` for every counter, in no particular order. */
  forEach(fn: (item: string, count: number, error: number) => void): void {
    const { items, counts, errors } = this;
    for (let slot = 0; slot < this.used; slot++) fn(items[slot]!, counts[slot]!, errors[slot]!);
  }

  /** The `n` largest counters, ordered by count desc then item asc (code-unit order). */
  top(n: number): SpaceSavingEntry[] {
    const limit = Math.max(0, Math.floor(n));
    const { items, counts, errors } = this;
    return this.ranked(limit)
      .slice(0, limit)
      .map((slot) => ({ item: items[slot]!, count: counts[slot]!, error: errors[slot]! }));
  }

  /**
   * Keeps only the `keep` largest counters (ties: item asc) and raises the floor to cover
   * what was dropped. No-op if size <= keep.
   */
  trim(keep: number): void {
    if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`trim keep must be an integer >= 0: ${keep}`);
    if (this.used <= keep) return;
    const order = this.ranked(keep + 1);
    const largestDropped = this.counts[order[keep]!]!; // order is by count, descending
    const floor = Math.max(this.floor, largestDropped);
    this.load(order.slice(0, keep).map((slot) => this.entry(slot)));
    this.everLossy = true;
    this.trimFloor = floor;
  }

  /** Serialises the summary; fromJSON(toJSON()) continues exactly like the original. */
  toJSON(): SpaceSavingState {
    // While full, emit in heap order: reloading rebuilds the same heap, hence the same evictions.
    const full = this.used === this.capacity;
    const items = Array.from({ length: this.used }, (_, i) => this.entry(full ? this.heap[i]! : i));
    return { v: SPACE_SAVING_FORMAT, capacity: this.capacity, floor: this.floor, lossy: this.everLossy, items };
  }

  /** Restores a summary produced by {@link SpaceSaving.toJSON}. Throws RangeError on bad state. */
  static fromJSON(state: SpaceSavingState): SpaceSaving {
    if (state.v !== SPACE_SAVING_FORMAT) {
      throw new RangeError(`SpaceSaving state has format ${String(state.v)}; this build reads format ${SPACE_SAVING_FORMAT} only`);
    }
    const { capacity, floor, lossy, items } = state;
    const summary = new SpaceSaving(capacity);
    const wellFormed =
      items.length <= capacity &&
      Number.isFinite(floor) &&
      floor >= 0 &&
      items.every(([item, count, error]) => typeof item === "string" && error >= 0 && error <= count);
    if (wellFormed) summary.load(items); // skips repeats, so duplicates show as a size mismatch
    if (!wellFormed || summary.used !== items.length) throw new RangeError("malformed SpaceSaving state");
    summary.everLossy = lossy;
    // While full the heap minimum dominates trimFloor, so storing the reported floor is exact.
    summary.trimFloor = lossy ? floor : 0;
    return summary;
  }

  /** Replaces all counters with `entries`, in slot order, rebuilding the heap if full. */
  private load(entries: readonly (readonly [string, number, number])[]): void {
    const slots = Math.min(this.capacity, Math.max(INITIAL_SLOTS, entries.length));
    this.counts = new Float64Array(slots);
    this.errors = new Float64Array(slots);
    this.items = [];
    this.slotOf.clear();
    this.used = 0;
    for (const [item, count, error] of entries) {
      if (this.slotOf.has(item)) continue;
      const slot = this.used++;
      this.slotOf.set(item, slot);
      this.items.push(item);
      this.counts[slot] = count;
      this.errors[slot] = error;
    }
    if (this.used === this.capacity) this.heapify();
  }

  /** Places a new item in a free slot; it may have been trimmed before, hence trimFloor. */
  private insert(item: string, weight: number): void {
    const slot = this.used++;
    if (slot === this.counts.length) {
      const counts = new Float64Array(Math.min(this.capacity, slot * 2));
      const errors = new Float64Array(counts.length);
      counts.set(this.counts);
      errors.set(this.errors);
      this.counts = counts;
      this.errors = errors;
    }
    this.slotOf.set(item, slot);
    this.items.push(item);
    this.counts[slot] = this.trimFloor + weight;
    this.errors[slot] = this.trimFloor;
    if (this.used === this.capacity) this.heapify();
  }

  /** Builds the min-heap over all slots in O(capacity); done once each time the summary fills. */
  private heapify(): void {
    const n = this.used;
    if (this.heap.length !== n) this.position = new Int32Array(n);
    this.heap = Int32Array.from({ length: n }, (_, i) => i);
    this.position.set(this.heap);
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** Moves the heap entry at `pos` down until both children are >= it. */
  private siftDown(pos: number): void {
    const { heap, position, counts, used } = this;
    const slot = heap[pos]!;
    const count = counts[slot]!;
    for (let child = 2 * pos + 1; child < used; child = 2 * pos + 1) {
      if (child + 1 < used && counts[heap[child + 1]!]! < counts[heap[child]!]!) child++;
      const childSlot = heap[child]!;
      // Stop on ties: fewer moves, and nothing to gain from reordering equal counts.
      if (counts[childSlot]! >= count) break;
      heap[pos] = childSlot;
      position[childSlot] = pos;
      pos = child;
    }
    heap[pos] = slot;
    position[slot] = pos;
  }

  private entry(slot: number): [string, number, number] {
    return [this.items[slot]!, this.counts[slot]!, this.errors[slot]!];
  }

  /**
   * At least the `limit` largest slots, ordered by count desc then item asc (code units, not
   * locale). A native numeric sort finds the cut-off first so few slots hit the comparator.
   */
  private ranked(limit: number): number[] {
    const { items, counts, used } = this;
    if (limit <= 0) return [];
    const cutoff = limit < used ? counts.slice(0, used).sort()[used - limit]! : -Infinity;
    const order: number[] = [];
    for (let slot = 0; slot < used; slot++) if (counts[slot]! >= cutoff) order.push(slot);
    return order.sort((a, b) => {
      const byCount = counts[b]! - counts[a]!;
      if (byCount !== 0) return byCount;
      return items[a]! < items[b]! ? -1 : items[a]! > items[b]! ? 1 : 0;
    });
  }
}
