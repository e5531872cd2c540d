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

/** Items no ranking lists (content moderation): a Set, or a Map keyed by item. Their events are
 * still counted, so they are skipped only where a ranking selects its items. */
export interface Hidden {
  readonly size: number;
  has(item: string): boolean;
}

/**
 * Merges bucket summaries. Where an item is missing from a bucket, that bucket's floor is added to
 * both its score and its error: the item may have had up to that much there (mergeable Space-Saving).
 *
 * `factors`, one per part, scale each bucket's counts, errors and floor alike (rank=hot's decay).
 * A sum of scaled bounds bounds the scaled sum, so `[score - error, score]` still holds the truth.
 */
export function merge(parts: readonly SummaryPart[], factors?: readonly number[]): Merged {
  if (factors !== undefined) return mergeScaled(parts, factors);
  const scores = new Map<string, { score: number; error: number; covered: number }>();
  let floor = 0;
  for (const part of parts) {
    const partFloor = part.floor;
    const extra = part.extra ?? 0;
    floor += partFloor;
    part.summary?.forEach((item, count, error) => {
      const entry = scores.get(item);
      if (entry) {
        entry.score += count + extra;
        entry.error += error + extra;
        entry.covered += partFloor;
      } else {
        scores.set(item, { score: count + extra, error: error + extra, covered: partFloor });
      }
    });
  }
  addMissingFloors(scores, floor);
  return { scores, floor };
}

interface ScaledEntry {
  score: number;
  error: number;
  covered: number;
  /** The unscaled sums of the group (period) last seen, and its factor and index. */
  raw: number;
  rawError: number;
  rawCovered: number;
  factor: number;
  group: number;
}

/**
 * `merge` with factors. Consecutive parts with the same factor are one period (a running period
 * read from its finer buckets): they are summed before they are scaled, so a score is the same to
 * the last bit whether the period was derived into one bucket yet or not.
 */
function mergeScaled(parts: readonly SummaryPart[], factors: readonly number[]): Merged {
  const scores = new Map<string, ScaledEntry>();
  let floor = 0;
  let groupFloor = 0;
  let group = -1;
  const flush = (e: ScaledEntry) => {
    e.score += e.raw * e.factor;
    e.error += e.rawError * e.factor;
    e.covered += e.rawCovered * e.factor;
    e.raw = e.rawError = e.rawCovered = 0;
  };
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const f = factors[i]!;
    if (i === 0 || f !== factors[i - 1]) {
      if (i > 0) floor += groupFloor * factors[i - 1]!;
      groupFloor = 0;
      group++;
    }
    const partFloor = part.floor;
    const extra = part.extra ?? 0;
    groupFloor += partFloor;
    part.summary?.forEach((item, count, error) => {
      let entry = scores.get(item);
      if (!entry) {
        entry = { score: 0, error: 0, covered: 0, raw: 0, rawError: 0, rawCovered: 0, factor: f, group };
        scores.set(item, entry);
      } else if (entry.group !== group) {
        flush(entry);
        entry.factor = f;
        entry.group = group;
      }
      entry.raw += count + extra;
      entry.rawError += error + extra;
      entry.rawCovered += partFloor;
    });
  }
  if (parts.length > 0) floor += groupFloor * factors[parts.length - 1]!;
  for (const entry of scores.values()) flush(entry);
  addMissingFloors(scores, floor);
  return { scores, floor };
}

/** Entries are completed in place (no second map): `covered` is what the item's own buckets'
 * floors sum to, so the floors of the buckets it is missing from are `floor - covered`. */
function addMissingFloors(scores: Map<string, { score: number; error: number; covered: number }>, floor: number): void {
  if (floor <= 0) return;
  for (const e of scores.values()) {
    const missing = floor - e.covered;
    if (missing > 0) {
      e.score += missing;
      e.error += missing;
    }
  }
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
 *
 * Hidden items are skipped here, while selecting, so that they never take the place of a listed
 * item: a list holds `limit` items whenever that many unhidden candidates exist. The check is made
 * only for a candidate that would enter, which few do.
 */
export class Selection {
  readonly best: RankedItem[] = [];

  constructor(
    private readonly limit: number,
    private readonly hidden?: Hidden,
  ) {}

  /** Whether an item with this score would enter: checked before a candidate is built. */
  admits(score: number, item: string): boolean {
    const { best, limit, hidden } = this;
    if (limit <= 0) return false;
    if (best.length === limit) {
      const last = best[limit - 1]!;
      if (score < last.score || (score === last.score && item >= last.item)) return false;
    }
    return hidden === undefined || hidden.size === 0 || !hidden.has(item);
  }

  /** Enters a candidate that `admits` accepted. */
  add(c: RankedItem): void {
    const { best } = this;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byScoreThenItem(best[mid]!, c) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, c);
    if (best.length > this.limit) best.pop();
  }
}

export function selectBest(candidates: Iterable<RankedItem>, limit: number, hidden?: Hidden): RankedItem[] {
  const selection = new Selection(limit, hidden);
  for (const c of candidates) if (selection.admits(c.score, c.item)) selection.add(c);
  return selection.best;
}

/** rank=top and rank=hot (over scaled summaries): the `limit` highest merged scores. */
export function rankTop(merged: Merged, limit: number, hidden?: Hidden): RankedItem[] {
  const selection = new Selection(limit, hidden);
  for (const [item, { score, error }] of merged.scores) {
    if (selection.admits(score, item)) selection.add({ item, score, error });
  }
  return selection.best;
}

/**
 * rank=rising: `score = current - previous`, the growth against the preceding period of equal
 * length. Both are upper bounds like rank=top scores; `error` is the sum of their errors and bounds
 * how far the true growth may lie from `score`. Only items that grew are listed.
 *
 * `new` is true only when the item's upper bound in the previous period is 0, i.e. it provably had
 * no event there. An item absent from the previous summary may still have had up to its floor, so
 * absence alone does not make an item new.
 */
export function rankRising(current: Merged, previous: Merged, limit: number, hidden?: Hidden): RankedItem[] {
  const selection = new Selection(limit, hidden);
  const absent = { score: previous.floor, error: previous.floor };
  for (const [item, cur] of current.scores) {
    const prev = previous.scores.get(item) ?? absent;
    const score = cur.score - prev.score;
    if (score <= 0 || !selection.admits(score, item)) continue;
    selection.add({ item, score, error: cur.error + prev.error, current: cur.score, previous: prev.score, new: prev.score === 0 });
  }
  return selection.best;
}

/**
 * True when every listed score is exact. A list shorter than `limit` also claims that nothing else
 * scored, which a positive floor denies: an item cut from every bucket (budget.ts) is listed nowhere.
 */
export function isExact(items: readonly RankedItem[], limit: number, floor: number): boolean {
  return items.every((i) => i.error === 0) && (items.length >= limit || floor === 0);
}
