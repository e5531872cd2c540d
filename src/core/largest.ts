/**
 * The `keep` largest counters of a summary in ranking order: count descending, then item name
 * ascending (code units, not locale). What trimming a summary keeps (compact-summary.ts, `trim`).
 *
 * A full comparison sort of every counter looks up and compares names at each tie, and a
 * summary of a long tail is mostly ties (thousands of items counted once): trimming each derived
 * hour at 1M distinct items cost ~10% of ingest so. Here a native numeric sort finds the count
 * of the last kept counter; those above it are sorted in full (few), and of those tied at it only
 * the ones kept are chosen by name (a quickselect) and sorted.
 */

/** The slots of the `keep` largest of `size` counters (keep < size), ranked; and `dropped`, the
 * largest count left out. */
export function largestRanked(counts: ArrayLike<number>, size: number, keep: number, nameOf: (slot: number) => string): { kept: number[]; dropped: number } {
  const sorted = new Float64Array(size);
  for (let slot = 0; slot < size; slot++) sorted[slot] = counts[slot]!;
  sorted.sort();
  const dropped = sorted[size - keep - 1]!;
  if (keep === 0) return { kept: [], dropped };
  const last = sorted[size - keep]!; // the count of the last counter kept
  const above: number[] = [];
  const tied: number[] = [];
  for (let slot = 0; slot < size; slot++) {
    const count = counts[slot]!;
    if (count > last) above.push(slot);
    else if (count === last) tied.push(slot);
  }
  above.sort((a, b) => counts[b]! - counts[a]! || byName(nameOf(a), nameOf(b)));
  const names = tied.map(nameOf);
  const wanted = keep - above.length;
  selectFirst(tied, names, wanted);
  const chosen = tied.slice(0, wanted);
  const chosenNames = names.slice(0, wanted);
  const order = Array.from({ length: wanted }, (_, i) => i).sort((a, b) => byName(chosenNames[a]!, chosenNames[b]!));
  for (const i of order) above.push(chosen[i]!);
  return { kept: above, dropped };
}

function byName(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Reorders `slots` (and `names`, their distinct names, alike) so that the first `m` are the ones
 * whose names come first, in no particular order: Hoare's quickselect. */
function selectFirst(slots: number[], names: string[], m: number): void {
  let lo = 0;
  let hi = names.length - 1;
  const k = m - 1;
  while (lo < hi && k >= lo && k < hi) {
    const pivot = names[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (names[i]! < pivot) i++;
      while (names[j]! > pivot) j--;
      if (i <= j) {
        const name = names[i]!;
        names[i] = names[j]!;
        names[j] = name;
        const slot = slots[i]!;
        slots[i] = slots[j]!;
        slots[j] = slot;
        i++;
        j--;
      }
    }
    // Now names[lo..j] <= pivot <= names[i..hi], and anything between equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}
