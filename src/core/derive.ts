/**
 * The merge that derives a coarse bucket's summary from the finer buckets of its period (bucket.ts,
 * `Bucket.derive`): the sums of a window's merge (sums.ts), cut to the bucket's capacity.
 *
 * Every event is counted once, in its minute; hours, quarters and days are derived when their
 * period ends, and a running period's ended part once per change (aggregator.ts). So this runs
 * once per period instead of four updates per event.
 */
import type { SummaryPart } from "./bucket";
import { CompactSummary } from "./compact-summary";
import type { ItemDictionary } from "./dictionary";
import { sumParts } from "./sums";

/**
 * One summary over `parts`, with the scores and errors of their sums. Beyond `capacity` items only
 * the largest scores are kept and the floor rises to the largest dropped: the condition for
 * exactness is a counted bucket's, no more distinct items than counters.
 */
export function mergedSummary(parts: readonly SummaryPart[], capacity: number, dictionary: ItemDictionary): CompactSummary {
  const sums = sumParts(parts);
  const { ids, scores, errors, used } = sums;
  // The derived summary's ids must be the namespace's: its parts all are (one dictionary per object).
  if (used > 0 && sums.names !== dictionary) throw new RangeError("derive: the parts are not of the namespace's dictionary");
  let { floor, lossy } = sums;
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
