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

/** What the sums take in: a bucket's part, or the sums of several (one period's, below). */
interface Source {
  readonly dictionary: ItemDictionary;
  readonly size: number;
  readonly lossy: boolean;
  /** Upper bound of any absent item's total. */
  readonly floor: number;
  /** Every counter with `extra` already added to its count and error. */
  forEach(fn: (id: number, count: number, error: number) => void): void;
}

function sourceOf(part: SummaryPart): Source | { floor: number } {
  const { summary, floor } = part;
  if (!summary) return { floor };
  const extra = part.extra ?? 0;
  return {
    dictionary: summary.dictionary,
    size: summary.size,
    lossy: summary.lossy,
    floor,
    forEach: (fn) => (extra === 0 ? summary.forEachId(fn) : summary.forEachId((id, count, error) => fn(id, count + extra, error + extra))),
  };
}

function sourceOfSums(sums: Sums): Source {
  const { names, ids, scores, errors, used, floor, lossy } = sums;
  return {
    dictionary: names,
    size: used,
    lossy,
    floor,
    forEach: (fn) => {
      for (let slot = 0; slot < used; slot++) fn(ids[slot]!, scores[slot]!, errors[slot]!);
    },
  };
}

/**
 * Sums `parts`. With `factors` (one per part: rank=hot's decay), each part's counts, errors and
 * floor are scaled alike. Consecutive parts with the same factor are one period (a running period
 * read from its finer buckets): they are summed first and scaled once, so a score is the same to
 * the last bit whether its period was derived into one bucket yet or not.
 */
export function sumParts(parts: readonly SummaryPart[], factors?: readonly number[]): Sums {
  if (factors === undefined) return sum(parts.map(sourceOf));
  const sources: (Source | { floor: number })[] = [];
  const scales: number[] = [];
  for (let p = 0; p < parts.length; ) {
    let end = p + 1;
    while (end < parts.length && factors[end] === factors[p]) end++;
    sources.push(end - p === 1 ? sourceOf(parts[p]!) : sourceOfSums(sumParts(parts.slice(p, end))));
    scales.push(factors[p]!);
    p = end;
  }
  return sum(sources, scales);
}

function sum(sources: readonly (Source | { floor: number })[], scales?: readonly number[]): Sums {
  let total = 0;
  let lossy = false;
  let shared: ItemDictionary | undefined;
  let foreign = false;
  for (const source of sources) {
    if (!("forEach" in source)) continue;
    total += source.size;
    lossy ||= source.lossy;
    if (shared === undefined) shared = source.dictionary;
    else foreign ||= source.dictionary !== shared;
  }
  const names = foreign || shared === undefined ? new ItemDictionary() : shared;
  const ids = new Uint32Array(total);
  const scores = new Float64Array(total);
  const errors = new Float64Array(total);
  /** The floors of the sources that hold the item: those of the others are added at the end. */
  const covered = new Float64Array(total);
  const shift = 32 - tableBits(Math.max(1, total));
  const table = new Int32Array(1 << (32 - shift));
  let used = 0;
  let floor = 0;
  sources.forEach((source, s) => {
    const f = scales === undefined ? 1 : scales[s]!;
    const sourceFloor = source.floor * f;
    floor += sourceFloor;
    if (!("forEach" in source)) return;
    const own = source.dictionary;
    source.forEach((sourceId, count, error) => {
      const id = foreign ? names.intern(own.name(sourceId)) : sourceId;
      let slot = findSlot(table, shift, ids, id);
      if (slot < 0) {
        slot = used++;
        ids[slot] = id;
        placeSlot(table, shift, id, slot);
      }
      scores[slot]! += count * f;
      errors[slot]! += error * f;
      covered[slot]! += sourceFloor;
    });
  });
  // `covered` is what the item's own sources' floors sum to, so the floors of the sources it is
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
