/**
 * A sealed bucket's Space-Saving summary, held compactly: the same counters as the live
 * {@link SpaceSaving} they came from, without its slot table and heap, each array in the
 * narrowest type that holds every value exactly. Ids take 16 bits while the namespace's
 * dictionary has fewer than 65,536 ids; counts of small integers take 8 or 16 bits; errors take
 * nothing while all are 0 (an exact summary). A counter costs 4 to 20 bytes instead of ~40 live.
 *
 * It answers rankings (`forEach`), can be cut further (`trim`, as the live summary trims), and
 * serialises to the very same state. A late event for its bucket thaws it back (`thaw`): the live
 * summary is what it would have been had it never been compacted, because the counters are kept
 * in state order (heap order while full), so reloading rebuilds the same heap.
 */
import type { ItemDictionary } from "./dictionary";
import { largestRanked } from "./largest";
import { OBJECT_BYTES, typedArrayBytes } from "./memory";
import { SPACE_SAVING_FORMAT, SpaceSaving, type CounterArrays, type SpaceSavingState } from "./space-saving";

/** The typed arrays counters may be held in, narrowest first. */
type Numbers = Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array;

/** The narrowest array type that holds each of `values` exactly. */
export function narrowest(values: ArrayLike<number>, size: number): Numbers {
  let integral = true;
  let max = 0;
  let single = true;
  for (let i = 0; i < size; i++) {
    const v = values[i]!;
    if (v > max) max = v;
    if (integral && !(Number.isInteger(v) && v >= 0)) integral = false;
    if (single && Math.fround(v) !== v) single = false;
  }
  const out: Numbers = integral
    ? max <= 0xff
      ? new Uint8Array(size)
      : max <= 0xffff
        ? new Uint16Array(size)
        : max <= 0xffffffff
          ? new Uint32Array(size)
          : single
            ? new Float32Array(size)
            : new Float64Array(size)
    : single
      ? new Float32Array(size)
      : new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = values[i]!;
  return out;
}

function allZero(values: ArrayLike<number> | null, size: number): boolean {
  if (values === null) return true;
  for (let i = 0; i < size; i++) if (values[i] !== 0) return false;
  return true;
}

export class CompactSummary {
  private constructor(
    readonly capacity: number,
    readonly dictionary: ItemDictionary,
    private ids: Uint16Array | Uint32Array,
    private counts: Numbers,
    /** Null while every error is 0. */
    private errors: Numbers | null,
    private everLossy: boolean,
    private bound: number,
  ) {}

  /** Compacts a live summary; its counters (and their dictionary references) move here. */
  static of(summary: SpaceSaving): CompactSummary {
    return CompactSummary.adopt(summary.takeCounters(), summary.dictionary);
  }

  /** Restores a serialised summary directly into compact form (start-up holds no live copy). */
  static fromJSON(state: SpaceSavingState, dictionary: ItemDictionary): CompactSummary {
    return CompactSummary.of(SpaceSaving.fromJSON(state, dictionary));
  }

  /** A summary over counters whose dictionary references the caller hands over (derive.ts). */
  static fromCounters(arrays: CounterArrays, dictionary: ItemDictionary): CompactSummary {
    return CompactSummary.adopt(arrays, dictionary);
  }

  private static adopt(arrays: CounterArrays, dictionary: ItemDictionary): CompactSummary {
    const n = arrays.size;
    const ids = dictionary.idLimit <= 0x10000 ? new Uint16Array(n) : new Uint32Array(n);
    for (let i = 0; i < n; i++) ids[i] = arrays.ids[i]!;
    const errors = allZero(arrays.errors, n) ? null : narrowest(arrays.errors!, n);
    return new CompactSummary(arrays.capacity, dictionary, ids, narrowest(arrays.counts, n), errors, arrays.lossy, arrays.floor);
  }

  get size(): number {
    return this.ids.length;
  }

  get lossy(): boolean {
    return this.everLossy;
  }

  /** Every item NOT in the summary has a true total <= floor. */
  get floor(): number {
    return this.bound;
  }

  /** Calls `fn` for every counter, in state order. */
  forEach(fn: (item: string, count: number, error: number) => void): void {
    const { ids, counts, errors, dictionary } = this;
    for (let i = 0; i < ids.length; i++) fn(dictionary.name(ids[i]!), counts[i]!, errors === null ? 0 : errors[i]!);
  }

  /** Calls `fn` for every counter by item id, in state order (no name is looked up). */
  forEachId(fn: (id: number, count: number, error: number) => void): void {
    const { ids, counts, errors } = this;
    for (let i = 0; i < ids.length; i++) fn(ids[i]!, counts[i]!, errors === null ? 0 : errors[i]!);
  }

  /**
   * Keeps only the `keep` largest counters (ties: item asc, as {@link SpaceSaving.trim}) and raises
   * the floor to cover what was dropped, releasing the dropped items. No-op if size <= keep.
   */
  trim(keep: number): void {
    if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`trim keep must be an integer >= 0: ${keep}`);
    const n = this.size;
    if (n <= keep) return;
    const { ids, counts, errors, dictionary } = this;
    const { kept, dropped } = largestRanked(counts, n, keep, (slot) => dictionary.name(ids[slot]!));
    const floor = Math.max(this.bound, dropped);
    const keeps = new Uint8Array(n);
    for (const slot of kept) keeps[slot] = 1;
    for (let slot = 0; slot < n; slot++) if (keeps[slot] === 0) dictionary.release(ids[slot]!);
    const next = CompactSummary.adopt(
      {
        capacity: this.capacity,
        ids: kept.map((i) => ids[i]!),
        counts: kept.map((i) => counts[i]!),
        errors: errors === null ? null : kept.map((i) => errors[i]!),
        size: keep,
        lossy: true,
        floor,
      },
      dictionary,
    );
    this.ids = next.ids;
    this.counts = next.counts;
    this.errors = next.errors;
    this.everLossy = true;
    this.bound = floor;
  }

  /** The live summary again, for a late event; this one is left empty. */
  thaw(): SpaceSaving {
    const live = SpaceSaving.adopt(this.arrays(), this.dictionary);
    this.empty();
    return live;
  }

  /** Releases every counter's dictionary reference (the bucket expired). */
  release(): void {
    for (const id of this.ids) this.dictionary.release(id);
    this.empty();
  }

  /** Holds no counter any more (their references were handed on or released). */
  private empty(): void {
    this.ids = new Uint16Array(0);
    this.counts = new Uint8Array(0);
    this.errors = null;
  }

  /** Estimated bytes held, the dictionary excluded. */
  bytes(): number {
    return OBJECT_BYTES + typedArrayBytes(this.ids) + typedArrayBytes(this.counts) + typedArrayBytes(this.errors);
  }

  /** The same state the live summary would serialise to. */
  toJSON(): SpaceSavingState {
    const { ids, counts, errors, dictionary } = this;
    const items = Array.from(ids, (id, i): [string, number, number] => [dictionary.name(id), counts[i]!, errors === null ? 0 : errors[i]!]);
    return { v: SPACE_SAVING_FORMAT, capacity: this.capacity, floor: this.bound, lossy: this.everLossy, items };
  }

  private arrays(): CounterArrays {
    const { capacity, ids, counts, errors, everLossy, bound } = this;
    return { capacity, ids, counts, errors, size: ids.length, lossy: everLossy, floor: bound };
  }
}
