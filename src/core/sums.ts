/**
 * The sums of a merge of bucket summaries, by item id: the bounds arithmetic that both a window's
 * answer (ranking.ts, `merge`) and a derived coarse bucket (derive.ts) rest on.
 *
 * An item's score is the sum of its counts, plus each part's floor where it is absent (what it may
 * have had there) and each part's `extra`; its error grows by the same (mergeable Space-Saving).
 *
 * Every refresh merges every window's buckets several times over (top, rising, hot, each type), so
 * this is the refresh's hot loop: the parts of one namespace share its dictionary, so counters meet
 * by id in an open-addressing table (slot-table.ts), with no string, Map entry or object per counter.
 * Parts over different dictionaries (summaries built apart) meet by name, through a dictionary of
 * the merge's own.
 */
import type { SummaryPart } from "./bucket";
import { ItemDictionary } from "./dictionary";
import { findSlot, placeSlot, tableBits } from "./slot-table";

export interface Sums {
  /** The dictionary `ids` are of. */
  readonly names: ItemDictionary;
  readonly ids: Uint32Array;
  readonly scores: Float64Array;
  readonly errors: Float64Array;
  /** Slots in use: the merged items. */
  readonly used: number;
  /** What any item absent from the sums may have at most. */
  readonly floor: number;
  /** Whether some part had dropped a counter. */
  readonly lossy: boolean;
  /** The slot of an item id of `names`, or -1. */
  slotOf(id: number): number;
}

/**
 * Sums `parts`. With `factors` (one per part: rank=hot's decay), each part's counts, errors and
 * floor are scaled alike; consecutive parts with the same factor are one period (a running period
 * read from its finer buckets), summed before they are scaled, so a score is the same to the last
 * bit whether its period was derived into one bucket yet or not.
 */
export function sumParts(parts: readonly SummaryPart[], factors?: readonly number[]): Sums {
  let total = 0;
  let lossy = false;
  let shared: ItemDictionary | undefined;
  let foreign = false;
  for (const part of parts) {
    const summary = part.summary;
    if (!summary) continue;
    total += summary.size;
    lossy ||= summary.lossy;
    if (shared === undefined) shared = summary.dictionary;
    else foreign ||= summary.dictionary !== shared;
  }
  const names = foreign || shared === undefined ? new ItemDictionary() : shared;
  const ids = new Uint32Array(total);
  const scores = new Float64Array(total);
  const errors = new Float64Array(total);
  /** The floors of the parts that hold the item: those of the others are added at the end. */
  const covered = new Float64Array(total);
  // A period's unscaled sums, with the period (group) each slot last took part in.
  const scaled = factors !== undefined;
  const raw = scaled ? new Float64Array(total) : scores;
  const rawErrors = scaled ? new Float64Array(total) : errors;
  const rawCovered = scaled ? new Float64Array(total) : covered;
  const groupOf = scaled ? new Int32Array(total) : undefined;
  const factorOf = scaled ? new Float64Array(total) : undefined;
  const flush = (slot: number) => {
    const f = factorOf![slot]!;
    scores[slot]! += raw[slot]! * f;
    errors[slot]! += rawErrors[slot]! * f;
    covered[slot]! += rawCovered[slot]! * f;
    raw[slot] = rawErrors[slot] = rawCovered[slot] = 0;
  };

  const shift = 32 - tableBits(Math.max(1, total));
  const table = new Int32Array(1 << (32 - shift));
  let used = 0;
  let floor = 0;
  let groupFloor = 0;
  let group = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    const f = scaled ? factors[p]! : 1;
    if (scaled && p > 0 && f !== factors[p - 1]) {
      floor += groupFloor * factors[p - 1]!;
      groupFloor = 0;
      group++;
    }
    const partFloor = part.floor;
    const extra = part.extra ?? 0;
    if (scaled) groupFloor += partFloor;
    else floor += partFloor;
    const summary = part.summary;
    if (!summary) continue;
    const own = summary.dictionary;
    summary.forEachId((partId, count, error) => {
      const id = foreign ? names.intern(own.name(partId)) : partId;
      let slot = findSlot(table, shift, ids, id);
      if (slot < 0) {
        slot = used++;
        ids[slot] = id;
        placeSlot(table, shift, id, slot);
        if (scaled) {
          groupOf![slot] = group;
          factorOf![slot] = f;
        }
      } else if (scaled && groupOf![slot] !== group) {
        flush(slot);
        groupOf![slot] = group;
        factorOf![slot] = f;
      }
      raw[slot]! += count + extra;
      rawErrors[slot]! += error + extra;
      rawCovered[slot]! += partFloor;
    });
  }
  if (scaled) {
    if (parts.length > 0) floor += groupFloor * factors[parts.length - 1]!;
    for (let slot = 0; slot < used; slot++) flush(slot);
  }
  // `covered` is what the item's own parts' floors sum to, so the floors of the parts it is
  // missing from are `floor - covered`.
  if (floor > 0) {
    for (let slot = 0; slot < used; slot++) {
      const missing = floor - covered[slot]!;
      if (missing > 0) {
        scores[slot]! += missing;
        errors[slot]! += missing;
      }
    }
  }
  return { names, ids, scores, errors, used, floor, lossy, slotOf: (id) => findSlot(table, shift, ids, id) };
}
