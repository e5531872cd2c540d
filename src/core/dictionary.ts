/**
 * The items of one namespace, each held once: summaries keep a 32-bit id per counter instead of
 * their own copy of the item's string and a Map entry keyed by it. The first design measured that copy at
 * ~100 bytes per counter per bucket; an id costs 2 to 4.
 *
 * Ids are reference counted: every summary counter that holds an id retains it and releases it
 * when the counter is evicted, trimmed or its bucket expires. An id nobody holds is forgotten at
 * once and reused by the next new item, so ids stay dense (sealed summaries store them in 16 bits
 * while a namespace holds fewer than 65,536 items) and memory follows what buckets still hold.
 *
 * Items are found by their hash53, which every event computes anyway (for the HyperLogLog and the
 * pair sample): an open-addressing table of ids keyed by its low 32 bits. A Map keyed by the string
 * hashed each fresh event string a second time and was the largest single cost of ingest at 1M
 * distinct items; the table costs 8 to 16 bytes per item against the Map's 28 to 112.
 */
import { hash53 } from "./hash";
import { stringBytes } from "./memory";

const INITIAL_IDS = 64;
/** The smallest table: a power of two, at most half full. */
const INITIAL_TABLE = 16;
/** A table entry (id + 1, 0 = empty): an Int32. */
const TABLE_SLOT_BYTES = 4;
/** The `names` slot (a pointer, with the array's growth slack of up to half), the `refs` slot and
 * the `tags` slot. */
const ID_SLOT_BYTES = 12 + 4 + 4;

export class ItemDictionary {
  /** Open addressing, linear probing, by the low 32 bits of the item's hash53: id + 1 per entry,
   * 0 = empty; at most half full, and shrunk below an eighth. */
  private table = new Int32Array(INITIAL_TABLE);
  private shift = 32 - Math.log2(INITIAL_TABLE);
  private held = 0;
  private names: (string | undefined)[] = [];
  private refs = new Uint32Array(INITIAL_IDS);
  /** Per id, the low 32 bits of its item's hash53: its home in `table`, and a cheap first test. */
  private tags = new Uint32Array(INITIAL_IDS);
  /** Ids forgotten and ready for reuse, most recent last. */
  private readonly free: number[] = [];
  private heldStringBytes = 0;
  /** The item's id, created (with no reference yet) if the item is new. `hash` is the item's
   * hash53, when the caller has it already. */
  intern(name: string, hash: number = hash53(name)): number {
    const tag = hash >>> 0;
    const { table, tags, names } = this;
    const mask = table.length - 1;
    let i = tag >>> this.shift;
    for (; ; i = (i + 1) & mask) {
      const entry = table[i]!;
      if (entry === 0) break;
      if (tags[entry - 1] === tag && names[entry - 1] === name) return entry - 1;
    }
    return this.insert(i, name, tag);
  }

  /**
   * The first slot of `tag`'s probe sequence whose entry `same` accepts (an id), else the empty
   * slot that ends it, as `-1 - slot`: a subclass's own test of a key, by what it holds of it.
   */
  protected probe(tag: number, same: (id: number) => boolean): number {
    const { table, tags } = this;
    const mask = table.length - 1;
    for (let i = tag >>> this.shift; ; i = (i + 1) & mask) {
      const entry = table[i]!;
      if (entry === 0) return -1 - i;
      if (tags[entry - 1] === tag && same(entry - 1)) return entry - 1;
    }
  }

  /** Makes a new id for `name` at the empty `slot` its probe ended on. */
  protected insert(slot: number, name: string, tag: number): number {
    const { table } = this;
    const id = this.free.length > 0 ? this.free.pop()! : this.names.length;
    if (id === this.names.length) this.names.push(name);
    else this.names[id] = name;
    if (id >= this.refs.length) this.growIds();
    this.refs[id] = 0;
    this.tags[id] = tag;
    table[slot] = id + 1;
    this.held += 1;
    if (2 * this.held > table.length) this.rehash(table.length * 2);
    this.heldStringBytes += stringBytes(name);
    return id;
  }

  /** The item's id if some summary holds it. */
  lookup(name: string, hash: number = hash53(name)): number | undefined {
    const tag = hash >>> 0;
    const { table, tags, names } = this;
    const mask = table.length - 1;
    for (let i = tag >>> this.shift; ; i = (i + 1) & mask) {
      const entry = table[i]!;
      if (entry === 0) return undefined;
      if (tags[entry - 1] === tag && names[entry - 1] === name) return entry - 1;
    }
  }

  /** The item an id stands for. Only valid while the id is retained (or just interned). */
  name(id: number): string {
    return this.names[id]!;
  }

  retain(id: number): void {
    this.refs[id]! += 1;
  }

  /** Drops one reference; the last one forgets the item. */
  release(id: number): void {
    // A release nobody retained would free an id some summary still shows: refuse it loudly.
    if (this.refs[id] === 0) throw new RangeError(`ItemDictionary: id ${id} released more often than retained`);
    if (--this.refs[id]! === 0) this.forget(id);
  }

  /** Forgets an interned id that no summary took (its event reached no kept bucket). */
  releaseIfUnused(id: number): void {
    if (this.refs[id] === 0 && this.names[id] !== undefined) this.forget(id);
  }

  /** References held on `id` (tests and diagnostics). */
  references(id: number): number {
    return this.names[id] === undefined ? 0 : this.refs[id]!;
  }

  /** Items currently held. */
  get size(): number {
    return this.held;
  }

  /** Every id in use is below this: sealed summaries size their id arrays by it. */
  get idLimit(): number {
    return this.names.length;
  }

  /** Estimated bytes held: the map, the per-id slots and every item string once. */
  bytes(): number {
    return this.table.length * TABLE_SLOT_BYTES + this.names.length * ID_SLOT_BYTES + this.heldStringBytes + this.free.length * 8;
  }

  private forget(id: number): void {
    const name = this.names[id]!;
    this.unindex(id);
    this.held -= 1;
    this.heldStringBytes -= stringBytes(name);
    this.names[id] = undefined;
    this.free.push(id);
    // An idle namespace (every bucket expired) gives back its id slots too.
    if (this.held === 0) {
      this.names = [];
      this.free.length = 0;
      this.refs = new Uint32Array(INITIAL_IDS);
      this.tags = new Uint32Array(INITIAL_IDS);
      this.rehash(INITIAL_TABLE);
    } else if (this.table.length > INITIAL_TABLE && 8 * this.held < this.table.length) {
      this.rehash(this.table.length / 2);
    }
    this.forgotten(id);
  }

  /** Called once an id is forgotten, its own bookkeeping done: a subclass releases what the id
   * held (segments.ts, `SegmentKeys`). */
  protected forgotten(_id: number): void {}

  private growIds(): void {
    const refs = new Uint32Array(this.refs.length * 2);
    refs.set(this.refs);
    this.refs = refs;
    const tags = new Uint32Array(this.tags.length * 2);
    tags.set(this.tags);
    this.tags = tags;
  }

  /** Removes `id` from the table by backward-shift deletion (slot-table.ts): no tombstones. */
  private unindex(id: number): void {
    const { table, tags } = this;
    const mask = table.length - 1;
    let hole = tags[id]! >>> this.shift;
    while (table[hole] !== id + 1) hole = (hole + 1) & mask;
    for (let i = (hole + 1) & mask; table[i] !== 0; i = (i + 1) & mask) {
      const home = tags[table[i]! - 1]! >>> this.shift;
      // The entry at i may move into the hole unless its home lies cyclically in (hole, i].
      const stays = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (!stays) {
        table[hole] = table[i]!;
        hole = i;
      }
    }
    table[hole] = 0;
  }

  /** A table of `size` entries over every held id. */
  private rehash(size: number): void {
    const table = new Int32Array(size);
    const mask = size - 1;
    this.shift = 32 - Math.log2(size);
    for (let id = 0; id < this.names.length; id++) {
      if (this.names[id] === undefined) continue;
      let i = this.tags[id]! >>> this.shift;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = id + 1;
    }
    this.table = table;
  }
}
