/**
 * The merge that derives a coarse bucket's summary from the finer buckets of its period (bucket.ts,
 * `Bucket.derive`): the bounds arithmetic of a window's merge (ranking.ts, `merge`), by item id.
 *
 * Every event is counted once, in its minute; hours, quarters and days are derived when their
 * period ends, and a running period's ended part once per change (aggregator.ts). So this runs
 * once per period instead of four updates per event, and it must stay cheap: the parts share the
 * namespace's dictionary, so counters meet by id in an open-addressing table (slot-table.ts), with
 * no string, Map entry or object per counter.
 */
import type { SummaryPart } from "./bucket";
import { CompactSummary } from "./compact-summary";
import type { ItemDictionary } from "./dictionary";
import { findSlot, placeSlot, tableBits } from "./slot-table";

/**
 * One summary over `parts`: an item's score is the sum of its counts, plus each part's floor where it
 * is absent (what it may have had there) and each part's `extra`; `error` grows by the same. Beyond
 * `capacity` items only the largest scores are kept and the floor rises to the largest dropped: the condition for exactness is a counted bucket's, no more
 * distinct items than counters.
 */
export function mergedSummary(parts: readonly SummaryPart[], capacity: number, dictionary: ItemDictionary): CompactSummary {
  let total = 0;
  let lossy = false;
  for (const part of parts) {
    total += part.summary?.size ?? 0;
    lossy ||= part.summary?.lossy === true;
  }
  const ids = new Uint32Array(total);
  const scores = new Float64Array(total);
  const errors = new Float64Array(total);
  /** The floors of the parts that hold the item: those of the others are added at the end. */
  const covered = new Float64Array(total);
  const shift = 32 - tableBits(Math.max(1, total));
  const table = new Int32Array(1 << (32 - shift));
  let used = 0;
  let floor = 0;
  for (const part of parts) {
    const partFloor = part.floor;
    const extra = part.extra ?? 0;
    floor += partFloor;
    part.summary?.forEachId((id, count, error) => {
      let slot = findSlot(table, shift, ids, id);
      if (slot < 0) {
        slot = used++;
        ids[slot] = id;
        placeSlot(table, shift, id, slot);
      }
      scores[slot]! += count + extra;
      errors[slot]! += error + extra;
      covered[slot]! += partFloor;
    });
  }
  if (floor > 0) {
    for (let slot = 0; slot < used; slot++) {
      const missing = floor - covered[slot]!;
      if (missing > 0) {
        scores[slot]! += missing;
        errors[slot]! += missing;
      }
    }
  }
  const kept = used > capacity ? largest(scores, used, capacity) : identity(used);
  if (kept.length < used) {
    const keep = new Uint8Array(used);
    for (const slot of kept) keep[slot] = 1;
    let dropped = 0;
    for (let slot = 0; slot < used; slot++) if (keep[slot] === 0 && scores[slot]! > dropped) dropped = scores[slot]!;
    floor = Math.max(floor, dropped);
    lossy = true;
  }
  lossy ||= floor > 0;
  for (const slot of kept) dictionary.retain(ids[slot]!); // the parts hold them: they are known
  return CompactSummary.fromCounters(
    {
      capacity,
      ids: kept.map((slot) => ids[slot]!),
      counts: kept.map((slot) => scores[slot]!),
      errors: kept.map((slot) => errors[slot]!),
      size: kept.length,
      lossy,
      floor: lossy ? floor : 0,
    },
    dictionary,
  );
}

function identity(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The slots of the `keep` largest scores. A native numeric sort finds the cut-off; of the scores
 * tied at it, the first merged are kept (the earliest parts' first: the same bucket contents always
 * keep the same items), since any of them bounds the dropped ones equally. */
function largest(scores: Float64Array, used: number, keep: number): number[] {
  const cutoff = scores.slice(0, used).sort()[used - keep]!;
  const above: number[] = [];
  const tied: number[] = [];
  for (let slot = 0; slot < used; slot++) {
    const score = scores[slot]!;
    if (score > cutoff) above.push(slot);
    else if (score === cutoff && tied.length < keep) tied.push(slot);
  }
  return above.concat(tied.slice(0, keep - above.length));
}
