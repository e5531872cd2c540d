/**
 * The items of one namespace, each held once: summaries keep a 32-bit id per counter instead of
 * their own copy of the item's string and a Map entry keyed by it. The first design measured that copy at
 * ~100 bytes per counter per bucket; an id costs 2 to 4.
 *
 * Ids are reference counted: every summary counter that holds an id retains it and releases it
 * when the counter is evicted, trimmed or its bucket expires. An id nobody holds is forgotten at
 * once and reused by the next new item, so ids stay dense (sealed summaries store them in 16 bits
 * while a namespace holds fewer than 65,536 items) and memory follows what buckets still hold.
 */
import { stringBytes } from "./memory";

const INITIAL_IDS = 64;
/** V8's OrderedHashMap: per slot of its capacity a key, a value and a chain link (24), plus a
 * bucket head per two slots (4). */
const MAP_SLOT_BYTES = 28;
/** The `names` slot (a pointer, with the array's growth slack of up to half) and the `refs` slot. */
const ID_SLOT_BYTES = 12 + 4;

export class ItemDictionary {
  private readonly idOf = new Map<string, number>();
  private names: (string | undefined)[] = [];
  private refs = new Uint32Array(INITIAL_IDS);
  /** Ids forgotten and ready for reuse, most recent last. */
  private readonly free: number[] = [];
  private heldStringBytes = 0;
  /** The capacity V8 gives `idOf`: it doubles when full and halves below a quarter full, so after
   * churn it can be 4x the entries; modelled here rather than guessed from the size. */
  private mapCapacity = 4;

  /** The item's id, created (with no reference yet) if the item is new. */
  intern(name: string): number {
    const known = this.idOf.get(name);
    if (known !== undefined) return known;
    const id = this.free.length > 0 ? this.free.pop()! : this.names.length;
    if (id === this.names.length) this.names.push(name);
    else this.names[id] = name;
    if (id >= this.refs.length) {
      const refs = new Uint32Array(this.refs.length * 2);
      refs.set(this.refs);
      this.refs = refs;
    }
    this.refs[id] = 0;
    this.idOf.set(name, id);
    if (this.idOf.size > this.mapCapacity) this.mapCapacity *= 2;
    this.heldStringBytes += stringBytes(name);
    return id;
  }

  /** The item's id if some summary holds it. */
  lookup(name: string): number | undefined {
    return this.idOf.get(name);
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
    return this.idOf.size;
  }

  /** Every id in use is below this: sealed summaries size their id arrays by it. */
  get idLimit(): number {
    return this.names.length;
  }

  /** Estimated bytes held: the map, the per-id slots and every item string once. */
  bytes(): number {
    return this.mapCapacity * MAP_SLOT_BYTES + this.names.length * ID_SLOT_BYTES + this.heldStringBytes + this.free.length * 8;
  }

  private forget(id: number): void {
    const name = this.names[id]!;
    this.idOf.delete(name);
    if (this.mapCapacity > 4 && this.idOf.size < this.mapCapacity / 4) this.mapCapacity /= 2;
    this.heldStringBytes -= stringBytes(name);
    this.names[id] = undefined;
    this.free.push(id);
    // An idle namespace (every bucket expired) gives back its id slots too.
    if (this.idOf.size === 0) {
      this.names = [];
      this.free.length = 0;
      this.refs = new Uint32Array(INITIAL_IDS);
    }
  }
}
