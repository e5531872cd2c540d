/**
 * The slot table of a live Space-Saving summary: item id -> counter slot, by open addressing with
 * linear probing over an Int32Array (slot + 1 per entry, 0 = empty), kept at most half full.
 * A typed array of 4 bytes per entry replaces a Map keyed by item strings (the first design measured
 * ~100 bytes per counter with the Map, the heap slot and the string copy).
 *
 * `ids` is the summary's slot -> id array: entries hold slots, so a probe compares ids[slot].
 */

/** Fibonacci hashing of ids: their top bits after a multiply by 2^32 / golden ratio. */
const GOLDEN = 0x9e3779b1;

/** Bits of a table that stays at most half full with `slots` entries. */
export function tableBits(slots: number): number {
  return Math.max(4, 32 - Math.clz32(2 * slots - 1));
}

/** The slot holding `id`, or -1. `shift` is 32 - bits of the table. */
export function findSlot(table: Int32Array, shift: number, ids: Uint32Array, id: number): number {
  const mask = table.length - 1;
  for (let i = Math.imul(id, GOLDEN) >>> shift; ; i = (i + 1) & mask) {
    const entry = table[i]!;
    if (entry === 0) return -1;
    if (ids[entry - 1] === id) return entry - 1;
  }
}

/** Enters `id` at `slot`; the caller knows it is absent. */
export function placeSlot(table: Int32Array, shift: number, id: number, slot: number): void {
  const mask = table.length - 1;
  let i = Math.imul(id, GOLDEN) >>> shift;
  while (table[i] !== 0) i = (i + 1) & mask;
  table[i] = slot + 1;
}

/** Removes `id` (still in ids[] at its slot) by backward-shift deletion: no tombstones to sweep. */
export function removeSlot(table: Int32Array, shift: number, ids: Uint32Array, id: number): void {
  const mask = table.length - 1;
  let hole = Math.imul(id, GOLDEN) >>> shift;
  while (ids[table[hole]! - 1] !== id) hole = (hole + 1) & mask;
  for (let i = (hole + 1) & mask; table[i] !== 0; i = (i + 1) & mask) {
    const home = Math.imul(ids[table[i]! - 1]!, GOLDEN) >>> shift;
    // The entry at i may move into the hole unless its home lies cyclically in (hole, i].
    const stays = hole <= i ? home > hole && home <= i : home > hole || home <= i;
    if (!stays) {
      table[hole] = table[i]!;
      hole = i;
    }
  }
  table[hole] = 0;
}
