/**
 * Weighted Space-Saving (Metwally, Agrawal & El Abbadi, 2005): a bounded summary of the
 * heaviest items in a stream. Invariant, for every item ever added with true total T:
 * present => count - error <= T <= count; absent => T <= floor.
 *
 * Counters live in parallel typed arrays (item ids / counts / errors). Items are ids of an
 * {@link ItemDictionary} shared by every summary of a namespace, so a counter costs no string
 * and no Map entry: it is found through an open-addressing table of slots keyed by id. A min-heap
 * over slots is kept only while full, the only time the minimum is needed (to evict it). Arrays
 * grow by doubling so a namespace with ten items does not pay for 5000.
 */
import { ItemDictionary } from "./dictionary";
import { OBJECT_BYTES, typedArrayBytes } from "./memory";
import { findSlot, placeSlot, removeSlot, tableBits } from "./slot-table";

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

/** Counters handed from one holder to another with their dictionary references (see `adopt`). */
export interface CounterArrays {
  capacity: number;
  /** Item ids; the holder owns one dictionary reference per id. */
  ids: ArrayLike<number>;
  counts: ArrayLike<number>;
  /** Null when every error is 0. */
  errors: ArrayLike<number> | null;
  size: number;
  lossy: boolean;
  floor: number;
}

/** A new bucket's summary starts with room for 64 counters: growing (a copy of three arrays and a
 * rebuilt slot table each time) measured ~9% of ingest at 1k items with 16. Few summaries are live
 * at once, so the unused room costs little. */
const INITIAL_SLOTS = 64;

/** A weighted Space-Saving summary holding at most `capacity` counters. */
export class SpaceSaving {
  /** Maximum number of counters held. */
  readonly capacity: number;
  /** Where item names live; shared by every summary of a namespace. */
  readonly dictionary: ItemDictionary;
  // The slot arrays and their table, all sized together by `allocate` (which the constructor calls).
  private ids!: Uint32Array;
  private counts!: Float64Array;
  private errors!: Float64Array;
  /** Open addressing, linear probing: slot + 1 per entry, 0 = empty; at most half full. */
  private table!: Int32Array;
  private shift!: number;
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
  constructor(capacity: number, dictionary: ItemDictionary = new ItemDictionary()) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`SpaceSaving capacity must be an integer >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.dictionary = dictionary;
    this.allocate(Math.min(capacity, INITIAL_SLOTS));
  }

  /** Empty slot arrays of `slots` counters, and their slot table. */
  private allocate(slots: number): void {
    this.ids = new Uint32Array(slots);
    this.counts = new Float64Array(slots);
    this.errors = new Float64Array(slots);
    this.shift = 32 - tableBits(slots);
    this.table = new Int32Array(1 << (32 - this.shift));
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
    const id = this.dictionary.intern(item);
    this.addId(id, weight);
    this.dictionary.releaseIfUnused(id); // only if the summary did not take it (it always does)
  }

  /**
   * Adds `weight` to the item with dictionary id `id` (interned by the caller). Returns true if the
   * item already had a counter: a summary only ever holds items added to it, so the caller then
   * knows the item was seen before (a bucket skips its HyperLogLog update).
   */
  addId(id: number, weight: number): boolean {
    const existing = this.slotOf(id);
    if (existing >= 0) {
      this.counts[existing]! += weight;
      // Counts only grow, so a min-heap entry can only need to move down.
      if (this.used === this.capacity) this.siftDown(this.position[existing]!);
      return true;
    }
    if (this.used < this.capacity) {
      this.insert(id, weight);
      return false;
    }
    // Full: take over the minimum counter. The newcomer may have been evicted before with up
    // to `min`, hence count = min + weight and error = min.
    const slot = this.heap[0]!;
    const min = this.counts[slot]!;
    const evicted = this.ids[slot]!;
    this.unindex(evicted);
    this.ids[slot] = id;
    this.index(id, slot);
    this.dictionary.retain(id);
    this.dictionary.release(evicted);
    this.counts[slot] = min + weight;
    this.errors[slot] = min;
    this.everLossy = true;
    this.siftDown(0);
    return false;
  }

  /** The counter's count (an upper bound of the true total), or undefined if absent. */
  count(item: string): number | undefined {
    const slot = this.slotOfItem(item);
    return slot < 0 ? undefined : this.counts[slot];
  }

  /** The overcount bound: the true total lies in [count - error, count]. Undefined if absent. */
  error(item: string): number | undefined {
    const slot = this.slotOfItem(item);
    return slot < 0 ? undefined : this.errors[slot];
  }

  /** Calls `fn` for every counter, in no particular order. */
  forEach(fn: (item: string, count: number, error: number) => void): void {
    const { ids, counts, errors, dictionary } = this;
    for (let slot = 0; slot < this.used; slot++) fn(dictionary.name(ids[slot]!), counts[slot]!, errors[slot]!);
  }

  /** Calls `fn` for every counter by item id, in no particular order (no name is looked up). */
  forEachId(fn: (id: number, count: number, error: number) => void): void {
    const { ids, counts, errors } = this;
    for (let slot = 0; slot < this.used; slot++) fn(ids[slot]!, counts[slot]!, errors[slot]!);
  }

  /** The `n` largest counters, ordered by count desc then item asc (code-unit order). */
  top(n: number): SpaceSavingEntry[] {
    const limit = Math.max(0, Math.floor(n));
    return this.ranked(limit)
      .slice(0, limit)
      .map((slot) => ({ item: this.dictionary.name(this.ids[slot]!), count: this.counts[slot]!, error: this.errors[slot]! }));
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
    const kept = order.slice(0, keep);
    const keeps = new Uint8Array(this.used);
    for (const slot of kept) keeps[slot] = 1;
    for (let slot = 0; slot < this.used; slot++) if (keeps[slot] === 0) this.dictionary.release(this.ids[slot]!);
    this.load({
      capacity: this.capacity,
      ids: kept.map((s) => this.ids[s]!),
      counts: kept.map((s) => this.counts[s]!),
      errors: kept.map((s) => this.errors[s]!),
      size: keep,
      lossy: true,
      floor,
    });
  }

  /** A copy holding the same counters (each id retained once more). */
  clone(): SpaceSaving {
    const arrays = this.arrays();
    for (let i = 0; i < arrays.size; i++) this.dictionary.retain(arrays.ids[i]!);
    return SpaceSaving.adopt(arrays, this.dictionary);
  }

  /**
   * The counters in state order (heap order while full, so that reloading rebuilds the same heap),
   * handing over this summary's dictionary references: the summary is left empty.
   */
  takeCounters(): CounterArrays {
    const arrays = this.arrays();
    this.used = 0;
    this.table.fill(0);
    return arrays;
  }

  /** Releases every counter's dictionary reference (the summary is being dropped). */
  release(): void {
    for (let slot = 0; slot < this.used; slot++) this.dictionary.release(this.ids[slot]!);
    this.used = 0;
    this.table.fill(0);
  }

  /** Estimated bytes held, the dictionary excluded (it is shared and counted once). */
  bytes(): number {
    const { ids, counts, errors, table, heap, position } = this;
    return OBJECT_BYTES + typedArrayBytes(ids) + typedArrayBytes(counts) + typedArrayBytes(errors) +
      typedArrayBytes(table) + typedArrayBytes(heap) + typedArrayBytes(position);
  }

  /** Serialises the summary; fromJSON(toJSON()) continues exactly like the original. */
  toJSON(): SpaceSavingState {
    const { ids, counts, errors, size } = this.arrays();
    const items = Array.from({ length: size }, (_, i): [string, number, number] => [
      this.dictionary.name(ids[i]!),
      counts[i]!,
      errors === null ? 0 : errors[i]!,
    ]);
    return { v: SPACE_SAVING_FORMAT, capacity: this.capacity, floor: this.floor, lossy: this.everLossy, items };
  }

  /** Restores a summary produced by {@link SpaceSaving.toJSON}. Throws RangeError on bad state. */
  static fromJSON(state: SpaceSavingState, dictionary: ItemDictionary = new ItemDictionary()): SpaceSaving {
    if (state.v !== SPACE_SAVING_FORMAT) {
      throw new RangeError(`SpaceSaving state has format ${String(state.v)}; this build reads format ${SPACE_SAVING_FORMAT} only`);
    }
    const { capacity, floor, lossy, items } = state;
    const wellFormed =
      Number.isInteger(capacity) &&
      capacity >= 1 &&
      items.length <= capacity &&
      Number.isFinite(floor) &&
      floor >= 0 &&
      items.every(([item, count, error]) => typeof item === "string" && error >= 0 && error <= count);
    const ids = wellFormed ? items.map(([item]) => dictionary.intern(item)) : [];
    if (!wellFormed || new Set(ids).size !== ids.length) {
      for (const id of ids) dictionary.releaseIfUnused(id);
      throw new RangeError("malformed SpaceSaving state");
    }
    for (const id of ids) dictionary.retain(id);
    return SpaceSaving.adopt(
      { capacity, ids, counts: items.map((e) => e[1]), errors: items.map((e) => e[2]), size: ids.length, lossy, floor },
      dictionary,
    );
  }

  /** A summary over counters whose dictionary references the caller hands over. */
  static adopt(arrays: CounterArrays, dictionary: ItemDictionary): SpaceSaving {
    const summary = new SpaceSaving(arrays.capacity, dictionary);
    summary.load(arrays);
    return summary;
  }

  /** The counters in state order, as views (no references taken). */
  private arrays(): CounterArrays {
    const n = this.used;
    const full = n === this.capacity;
    const order = full ? this.heap : null;
    const pick = <T extends Uint32Array | Float64Array>(a: T): T => {
      if (order === null) return a.slice(0, n) as T;
      const out = new (a.constructor as new (n: number) => T)(n);
      for (let i = 0; i < n; i++) out[i] = a[order[i]!]!;
      return out;
    };
    return {
      capacity: this.capacity,
      ids: pick(this.ids),
      counts: pick(this.counts),
      errors: pick(this.errors),
      size: n,
      lossy: this.everLossy,
      floor: this.floor,
    };
  }

  /** Replaces all counters (references already held by the caller), rebuilding the heap if full. */
  private load(arrays: CounterArrays): void {
    const n = arrays.size;
    this.allocate(Math.min(this.capacity, Math.max(INITIAL_SLOTS, n)));
    this.used = n;
    for (let slot = 0; slot < n; slot++) {
      this.ids[slot] = arrays.ids[slot]!;
      this.counts[slot] = arrays.counts[slot]!;
      this.errors[slot] = arrays.errors === null ? 0 : arrays.errors[slot]!;
      this.index(arrays.ids[slot]!, slot);
    }
    this.everLossy = arrays.lossy;
    // While full the heap minimum dominates trimFloor, so storing the reported floor is exact.
    this.trimFloor = arrays.lossy ? arrays.floor : 0;
    if (n === this.capacity) this.heapify();
  }

  /** Places a new item in a free slot; it may have been trimmed before, hence trimFloor. */
  private insert(id: number, weight: number): void {
    const slot = this.used++;
    if (slot === this.counts.length) this.grow(Math.min(this.capacity, slot * 2));
    this.ids[slot] = id;
    this.index(id, slot);
    this.dictionary.retain(id);
    this.counts[slot] = this.trimFloor + weight;
    this.errors[slot] = this.trimFloor;
    if (this.used === this.capacity) this.heapify();
  }

  private grow(slots: number): void {
    const ids = new Uint32Array(slots);
    const counts = new Float64Array(slots);
    const errors = new Float64Array(slots);
    ids.set(this.ids);
    counts.set(this.counts);
    errors.set(this.errors);
    this.ids = ids;
    this.counts = counts;
    this.errors = errors;
    const bits = tableBits(slots);
    if (bits !== 32 - this.shift) {
      this.shift = 32 - bits;
      this.table = new Int32Array(1 << bits);
      for (let slot = 0; slot < this.used - 1; slot++) this.index(this.ids[slot]!, slot);
    }
  }

  private slotOfItem(item: string): number {
    const id = this.dictionary.lookup(item);
    return id === undefined ? -1 : this.slotOf(id);
  }

  /** The slot holding `id`, or -1. */
  private slotOf(id: number): number {
    return findSlot(this.table, this.shift, this.ids, id);
  }

  private index(id: number, slot: number): void {
    placeSlot(this.table, this.shift, id, slot);
  }

  private unindex(id: number): void {
    removeSlot(this.table, this.shift, this.ids, id);
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

  /**
   * At least the `limit` largest slots, ordered by count desc then item asc (code units, not
   * locale). A native numeric sort finds the cut-off first so few slots hit the comparator.
   */
  private ranked(limit: number): number[] {
    const { ids, counts, used, dictionary } = this;
    if (limit <= 0) return [];
    const cutoff = limit < used ? counts.slice(0, used).sort()[used - limit]! : -Infinity;
    const order: number[] = [];
    for (let slot = 0; slot < used; slot++) if (counts[slot]! >= cutoff) order.push(slot);
    return order.sort((a, b) => {
      const byCount = counts[b]! - counts[a]!;
      if (byCount !== 0) return byCount;
      const x = dictionary.name(ids[a]!);
      const y = dictionary.name(ids[b]!);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
}
