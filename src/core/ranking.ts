/**
 * Ranking over a window: merge the Space-Saving summaries of its buckets into upper-bound
 * scores with a stated overcount, then select the top or the rising items.
 */
import type { RankedItem } from "../shared/contract";
import type { SummaryPart } from "./bucket";

/** Merged scores of a window: `score` is an upper bound, the true total is in [score - error, score]. */
export interface Merged {
  scores: Map<string, { score: number; error: number }>;
  /** What any item absent from `scores` may have at most. */
  floor: number;
}

/**
 * Merges bucket summaries. Where an item is missing from a bucket, that bucket's floor is added to
 * both its score and its error: the item may have had up to that much there (mergeable Space-Saving).
 */
export function merge(parts: readonly SummaryPart[]): Merged {
  const acc = new Map<string, { score: number; error: number; covered: number }>();
  let floor = 0;
  for (const part of parts) {
    floor += part.floor;
    const partFloor = part.floor;
    part.summary?.forEach((item, count, error) => {
      const entry = acc.get(item);
      if (entry) {
        entry.score += count;
        entry.error += error;
        entry.covered += partFloor;
      } else {
        acc.set(item, { score: count, error, covered: partFloor });
      }
    });
  }
  const scores = new Map<string, { score: number; error: number }>();
  for (const [item, e] of acc) {
    const missing = floor - e.covered;
    scores.set(item, missing > 0 ? { score: e.score + missing, error: e.error + missing } : e);
  }
  return { scores, floor };
}

/** Score descending, then item ascending (code-unit order, the same in every runtime). */
export function byScoreThenItem(a: RankedItem, b: RankedItem): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.item < b.item ? -1 : a.item > b.item ? 1 : 0;
}

/**
 * The `limit` best candidates in `byScoreThenItem` order, in one pass: a sorted array of the best
 * so far, entered only by beating its last element. Sorting every merged item would cost
 * O(n log n) on windows with hundreds of thousands of candidates.
 */
export function selectBest(candidates: Iterable<RankedItem>, limit: number): RankedItem[] {
  const best: RankedItem[] = [];
  for (const c of candidates) {
    if (best.length === limit && byScoreThenItem(c, best[limit - 1]!) >= 0) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byScoreThenItem(best[mid]!, c) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, c);
    if (best.length > limit) best.pop();
  }
  return best;
}

function* ranked(merged: Merged): Iterable<RankedItem> {
  for (const [item, { score, error }] of merged.scores) yield { item, score, error };
}

export function rankTop(merged: Merged, limit: number): RankedItem[] {
  return selectBest(ranked(merged), limit);
}

/**
 * rank=rising: `score = current - previous`, the growth against the preceding period of equal
 * length. Both are upper bounds like rank=top scores; `error` is the sum of their errors and bounds
 * how far the true growth may lie from `score`. Only items that grew are listed.
 */
export function rankRising(current: Merged, previous: Merged, limit: number): RankedItem[] {
  function* growth(): Iterable<RankedItem> {
    for (const [item, cur] of current.scores) {
      const prev = previous.scores.get(item) ?? { score: previous.floor, error: previous.floor };
      const score = cur.score - prev.score;
      if (score <= 0) continue;
      yield { item, score, error: cur.error + prev.error, current: cur.score, previous: prev.score };
    }
  }
  return selectBest(growth(), limit);
}
