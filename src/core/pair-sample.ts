/**
 * A distinct sample of (item, actor) pairs (Gibbons, "Distinct sampling", VLDB 2001): what
 * rank=reach counts, the number of distinct actors per item, which one actor cannot inflate.
 *
 * Each pair has a 53-bit key hashed from the item's and the actor's hash53. At level L the sample
 * holds every distinct pair whose key has its lowest L bits zero, i.e. each distinct pair with
 * probability 2^-L, independently of how many events it had. While it holds more than its
 * capacity, L rises by one and the pairs with bit L-1 set go. So at level 0 the sample is every
 * distinct pair (exact); beyond, an item's sampled pairs times 2^L estimate its distinct actors.
 *
 * Samples of different buckets unite (`union`): at the larger level, each keeps the pairs that
 * level keeps, and a pair in both is one pair. That is what sampling the union directly would
 * give, so a window's reach has the same bounds as one bucket's (reach.ts).
 *
 * Per pair: its key, the item's id in the namespace's dictionary (retained, as a Space-Saving
 * counter retains it, so that the item's name outlives its other counters), and a mask of the
 * declared types it was seen with (bit i: `types[i]` of this sample).
 */
import type { ItemDictionary } from "./dictionary";
import { OBJECT_BYTES, SMALL_MAP_BYTES, TYPED_ARRAY_BYTES, typedArrayBytes } from "./memory";
import { tableBits } from "./slot-table";

/** The serial version of {@link PairSampleState}: bump it with every change of the form. */
export const PAIR_SAMPLE_FORMAT = 1;

/** Pairs a sealed bucket keeps: as many as it keeps Space-Saving counters (bucket.ts, SEALED_KEEP). */
export const SEALED_PAIRS = 1000;

/** Types a sample tells apart: one bit each of a u32 mask (CONFIG_BOUNDS.types.max). */
export const MAX_SAMPLE_TYPES = 32;

/** No key has more trailing zeros than it has bits, but for key 0: at this level a sample is empty
 * (but for that one key, 2^-53 of all pairs). */
export const MAX_LEVEL = 53;

/** A live pair: key (8), id (4), mask (4) and its slot table entries (up to 4 of 4 bytes, the table
 * being at most half full and a power of two). */
export const LIVE_PAIR_BYTES = 32;

/** A sample's fixed part: the object, its arrays' headers, the type table and the untracked map. */
export const PAIR_SAMPLE_FIXED_BYTES = OBJECT_BYTES + 4 * TYPED_ARRAY_BYTES + SMALL_MAP_BYTES + 8 * MAX_SAMPLE_TYPES;

export interface PairSampleState {
  v: typeof PAIR_SAMPLE_FORMAT;
  capacity: number;
  level: number;
  /** Bit i of a mask stands for `types[i]`. */
  types: string[];
  /** Per type: events counted before the type had a bit (it was not declared yet). */
  untracked: [string, number][];
  /** Per item: the keys of its pairs, and their masks in the same order. */
  items: [string, number[], number[]][];
}

const TWO_POW_32 = 4294967296;
const GOLDEN = 0x9e3779b1;
const INITIAL_PAIRS = 64;

/** The murmur3 32-bit finaliser: every output bit depends on every input bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The 53-bit key of a pair from two hash53 values. Its low bits decide the sampling, so they must
 * be uniform and independent for distinct pairs: both lanes of both hashes go through two
 * finaliser rounds, the second lane taking the first, so every bit depends on all 106 input bits.
 */
export function pairKey(itemHash: number, actorHash: number): number {
  const itemLo = itemHash >>> 0;
  const itemHi = Math.floor(itemHash / TWO_POW_32);
  const actorLo = actorHash >>> 0;
  const actorHi = Math.floor(actorHash / TWO_POW_32);
  const a = fmix(itemLo ^ fmix(actorLo ^ GOLDEN));
  const b = fmix(itemHi ^ Math.imul(actorHi, 0x27d4eb2f) ^ fmix(actorLo + 0x165667b1));
  const lo = fmix(a ^ Math.imul(b, 0xcc9e2d51));
  const hi = fmix(b ^ Math.imul(lo, 0x1b873593)) & 0x1fffff;
  return hi * TWO_POW_32 + lo;
}

/** Trailing zero bits of a key in [0, 2^53): the highest level that still samples it. */
export function levelOf(key: number): number {
  const lo = key >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(key / TWO_POW_32);
  return hi === 0 ? MAX_LEVEL : 32 + 31 - Math.clz32(hi & -hi);
}

/** The slot table's home of a key: its low bits are zero at high levels, so both lanes are mixed. */
function home(key: number, shift: number): number {
  const lo = key >>> 0;
  const hi = Math.floor(key / TWO_POW_32);
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca77), GOLDEN) >>> shift;
}

/** A part of a union: a sample, and how many events of a type its bucket counted. */
export interface UnionPart {
  sample: PairSample;
  eventsOf(type: string): number;
}

export class PairSample {
  private keys: Float64Array;
  private ids: Uint32Array;
  private masks: Uint32Array;
  /** Open addressing over slots (slot + 1, 0 = empty); null while sealed (no lookups). */
  private table: Int32Array | null = null;
  private shift = 0;
  private used = 0;
  private current = 0;
  /** Bit i of a mask: this type. */
  readonly types: string[] = [];
  /** Events of a type counted before it had a bit: a bound on any item's reach in that type. */
  readonly untracked = new Map<string, number>();

  /** @param capacity pairs held at most; 0 holds none, at MAX_LEVEL. */
  constructor(
    readonly capacity: number,
    readonly dictionary: ItemDictionary,
    slots = Math.min(capacity, INITIAL_PAIRS),
  ) {
    this.keys = new Float64Array(slots);
    this.ids = new Uint32Array(slots);
    this.masks = new Uint32Array(slots);
  }

  /** The sampling level: each distinct pair is held with probability 2^-level. */
  get level(): number {
    return this.current;
  }

  /** Pairs held. */
  get size(): number {
    return this.used;
  }

  /** The bit of a type, given it one if it has none and one is free; -1 when all 32 are taken. */
  bitOf(type: string): number {
    const bit = this.types.indexOf(type);
    if (bit >= 0 || this.types.length >= MAX_SAMPLE_TYPES) return bit;
    this.types.push(type);
    return this.types.length - 1;
  }

  /** Counts one pair seen with the types of `mask`. `id` is retained if the pair is new. */
  add(key: number, id: number, mask: number): void {
    if (this.current > 0 && levelOf(key) < this.current) return;
    const table = this.table ?? this.index();
    const mask32 = table.length - 1;
    let i = home(key, this.shift);
    for (; ; i = (i + 1) & mask32) {
      const entry = table[i]!;
      if (entry === 0) break;
      if (this.keys[entry - 1] === key) {
        this.masks[entry - 1]! |= mask;
        return;
      }
    }
    if (this.used === this.keys.length) {
      this.grow();
      this.add(key, id, mask);
      return;
    }
    const slot = this.used++;
    this.keys[slot] = key;
    this.ids[slot] = id;
    this.masks[slot] = mask;
    this.dictionary.retain(id);
    table[i] = slot + 1;
    if (this.used > this.capacity) {
      // The room stays: a live sample that overflowed fills again, and giving the room back only
      // to grow into it again re-allocated and re-indexed each derived hour's sample many times.
      this.raiseLevel(this.capacity);
      this.index();
    }
  }

  /** Raises the level until at most `keep` pairs are held. Returns true if any pair went. */
  shrinkTo(keep: number): boolean {
    if (!this.raiseLevel(keep)) return false;
    // The room freed is given back: a budget cut must lower the bytes it measures.
    this.resize(Math.max(this.used, Math.min(INITIAL_PAIRS, this.capacity)));
    if (this.table !== null) this.index();
    return true;
  }

  /** Raises the level until at most `keep` pairs are held, keeping the arrays' room (the slot
   * table is left stale). Returns true if any pair went. */
  private raiseLevel(keep: number): boolean {
    if (this.used <= keep) return false;
    while (this.used > keep && this.current < MAX_LEVEL) {
      this.current += 1;
      let kept = 0;
      for (let slot = 0; slot < this.used; slot++) {
        const key = this.keys[slot]!;
        if (levelOf(key) < this.current) {
          this.dictionary.release(this.ids[slot]!);
          continue;
        }
        this.keys[kept] = key;
        this.ids[kept] = this.ids[slot]!;
        this.masks[kept] = this.masks[slot]!;
        kept += 1;
      }
      this.used = kept;
    }
    return true;
  }

  /** Calls `fn` for every pair held. */
  forEach(fn: (key: number, id: number, mask: number) => void): void {
    const { keys, ids, masks } = this;
    for (let slot = 0; slot < this.used; slot++) fn(keys[slot]!, ids[slot]!, masks[slot]!);
  }

  /** Drops the slot table and the arrays' unused room: a sealed sample only answers (a late event
   * builds the table again). */
  compact(): boolean {
    if (this.table === null && this.keys.length === this.used) return false;
    this.table = null;
    this.resize(this.used);
    return true;
  }

  /** Gives back every pair's item reference: once, when the bucket is dropped. */
  release(): void {
    for (let slot = 0; slot < this.used; slot++) this.dictionary.release(this.ids[slot]!);
    this.used = 0;
  }

  /** Estimated bytes held, the shared dictionary excluded. */
  bytes(): number {
    return (
      PAIR_SAMPLE_FIXED_BYTES - 4 * TYPED_ARRAY_BYTES +
      typedArrayBytes(this.keys) + typedArrayBytes(this.ids) + typedArrayBytes(this.masks) + typedArrayBytes(this.table)
    );
  }

  /**
   * The union of samples, as if one sample had seen all their pairs: at the highest of their
   * levels, a pair in several is one pair with its masks joined, then shrunk to `capacity`. Type
   * bits are renumbered by name; a type whose bit a part lacks (its bucket counted it before it was
   * declared) has that part's events of it as untracked, a bound on its reach there.
   */
  static union(parts: readonly UnionPart[], capacity: number, dictionary: ItemDictionary): PairSample {
    // Room for every part's pairs (up to the one past capacity that shrinks it): growing by
    // doubling re-indexed each derived hour's sample several times.
    const pairs = parts.reduce((n, { sample }) => n + sample.used, 0);
    const out = new PairSample(capacity, dictionary, Math.max(Math.min(capacity, INITIAL_PAIRS), Math.min(pairs, capacity + 1)));
    for (const { sample } of parts) {
      out.current = Math.max(out.current, sample.current);
      for (const type of sample.types) out.bitOf(type);
    }
    for (const type of out.types) {
      let untracked = 0;
      for (const { sample, eventsOf } of parts) untracked += sample.types.includes(type) ? (sample.untracked.get(type) ?? 0) : eventsOf(type);
      if (untracked > 0) out.untracked.set(type, untracked);
    }
    for (const { sample } of parts) {
      const bits = sample.types.map((type) => out.types.indexOf(type));
      sample.forEach((key, id, mask) => {
        let remapped = 0;
        for (let bit = 0; mask !== 0 && bit < bits.length; bit++) {
          if (mask & (1 << bit) && bits[bit]! >= 0) remapped |= 1 << bits[bit]!;
        }
        out.add(key, id, remapped >>> 0);
      });
    }
    return out;
  }

  toJSON(): PairSampleState {
    const byItem = new Map<number, [string, number[], number[]]>();
    this.forEach((key, id, mask) => {
      let entry = byItem.get(id);
      if (!entry) byItem.set(id, (entry = [this.dictionary.name(id), [], []]));
      entry[1].push(key);
      entry[2].push(mask);
    });
    return {
      v: PAIR_SAMPLE_FORMAT,
      capacity: this.capacity,
      level: this.current,
      types: [...this.types],
      untracked: [...this.untracked],
      items: [...byItem.values()],
    };
  }

  /** Restores a stored sample, sealed (no slot table until an event needs one). */
  static fromJSON(state: PairSampleState, dictionary: ItemDictionary): PairSample {
    if (state.v !== PAIR_SAMPLE_FORMAT) {
      throw new RangeError(`pair sample has format ${String(state.v)}; this build reads format ${PAIR_SAMPLE_FORMAT} only`);
    }
    const { capacity, level } = state;
    if (!Number.isInteger(capacity) || capacity < 0 || !Number.isInteger(level) || level < 0 || level > MAX_LEVEL) {
      throw new RangeError("pair sample: capacity and level must be integers in range");
    }
    if (state.types.length > MAX_SAMPLE_TYPES) throw new RangeError(`pair sample: at most ${MAX_SAMPLE_TYPES} types`);
    const pairs = state.items.reduce((n, [, keys]) => n + keys.length, 0);
    const sample = new PairSample(capacity, dictionary, pairs);
    sample.current = level;
    sample.types.push(...state.types);
    for (const [type, events] of state.untracked) sample.untracked.set(type, events);
    const seen = new Set<number>();
    for (const [item, keys, masks] of state.items) {
      if (keys.length !== masks.length) throw new RangeError("pair sample: an item's keys and masks differ in length");
      const id = dictionary.intern(item);
      keys.forEach((key, i) => {
        // A key the level would not hold, or held twice, is not a sample this build wrote.
        if (!Number.isSafeInteger(key) || key < 0 || levelOf(key) < level || seen.has(key)) throw new RangeError("pair sample: invalid key");
        seen.add(key);
        const slot = sample.used++;
        sample.keys[slot] = key;
        sample.ids[slot] = id;
        sample.masks[slot] = masks[i]! >>> 0;
        dictionary.retain(id);
      });
    }
    return sample;
  }

  /** The slot table over the pairs held, made anew (at most half full). */
  private index(): Int32Array {
    const bits = tableBits(Math.max(this.keys.length, 1));
    this.shift = 32 - bits;
    // A table of the same size is cleared and reused (after a level rise in `add`).
    const table = this.table?.length === 1 << bits ? this.table.fill(0) : new Int32Array(1 << bits);
    const mask = table.length - 1;
    for (let slot = 0; slot < this.used; slot++) {
      let i = home(this.keys[slot]!, this.shift);
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = slot + 1;
    }
    this.table = table;
    return table;
  }

  /** Doubles the arrays (up to one past capacity: the pair that makes the sample shrink). */
  private grow(): void {
    this.resize(Math.max(this.used + 1, Math.min(2 * this.keys.length, this.capacity + 1)));
    this.index();
  }

  private resize(slots: number): void {
    const keys = new Float64Array(slots);
    const ids = new Uint32Array(slots);
    const masks = new Uint32Array(slots);
    keys.set(this.keys.subarray(0, this.used));
    ids.set(this.ids.subarray(0, this.used));
    masks.set(this.masks.subarray(0, this.used));
    this.keys = keys;
    this.ids = ids;
    this.masks = masks;
  }
}
