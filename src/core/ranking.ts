/**
 * Ranking over a window: merge the Space-Saving summaries of its buckets into upper-bound
 * scores with a stated overcount, then select the top or the rising items.
 */
import type { RankedItem } from "../shared/contract";
import type { SummaryPart } from "./bucket";
import type { ItemDictionary } from "./dictionary";
import { sumParts, type Sums } from "./sums";

/**
 * Merged scores of a window: an item's `score` is an upper bound, its true total lies in
 * [score - error, score], and any item absent from the merge has at most `floor`.
 */
export class Merged {
  private map?: Map<string, { score: number; error: number }>;

  constructor(readonly sums: Sums) {}

  get floor(): number {
    return this.sums.floor;
  }

  /** Every merged item by name: a Map built on first use, for small merges and their tests (the
   * rankings read the sums by id and name only what they list). */
  get scores(): Map<string, { score: number; error: number }> {
    if (this.map) return this.map;
    const { names, ids, scores, errors, used } = this.sums;
    this.map = new Map();
    for (let slot = 0; slot < used; slot++) this.map.set(names.name(ids[slot]!), { score: scores[slot]!, error: errors[slot]! });
    return this.map;
  }

  /** An item's upper bound and overcount in this merge: the floor, twice, for an item absent
   * from it (it may have had up to the floor, and may have had nothing). */
  boundOf(item: string): { score: number; error: number } {
    const { sums } = this;
    const id = sums.names.lookup(item);
    const slot = id === undefined ? -1 : sums.slotOf(id);
    return slot < 0 ? { score: sums.floor, error: sums.floor } : { score: sums.scores[slot]!, error: sums.errors[slot]! };
  }

  /** The slot of the item `id` of `names` stands for, or -1. */
  slotOf(id: number, names: ItemDictionary): number {
    if (names === this.sums.names) return this.sums.slotOf(id);
    const own = this.sums.names.lookup(names.name(id));
    return own === undefined ? -1 : this.sums.slotOf(own);
  }
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
  return new Merged(sumParts(parts, factors));
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
  const { names, ids, scores, errors, used } = merged.sums;
  for (let slot = 0; slot < used; slot++) {
    const score = scores[slot]!;
    const item = names.name(ids[slot]!);
    if (selection.admits(score, item)) selection.add({ item, score, error: errors[slot]! });
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
  const { names, ids, scores, errors, used } = current.sums;
  const before = previous.sums;
  for (let slot = 0; slot < used; slot++) {
    const id = ids[slot]!;
    const at = previous.slotOf(id, names);
    const prevScore = at < 0 ? before.floor : before.scores[at]!;
    const score = scores[slot]! - prevScore;
    if (score <= 0) continue;
    const item = names.name(id);
    if (!selection.admits(score, item)) continue;
    const prevError = at < 0 ? before.floor : before.errors[at]!;
    selection.add({ item, score, error: errors[slot]! + prevError, current: scores[slot]!, previous: prevScore, new: prevScore === 0 });
  }
  return selection.best;
}

/** What a compared period says of an item, whatever the rank: an upper bound and its overcount,
 * and the bound of any item it lists nowhere. */
export interface Bounds {
  readonly floor: number;
  boundOf(item: string): { score: number; error: number };
}

/**
 * (compare) Each listed item with its score over the compared period, `previous` merged the way
 * the rank merged the window (decayed for rank=hot): `previousScore` an upper bound, the true
 * score within [previousScore - previousError, previousScore]. Only the listed items are looked
 * up, so this costs `limit` lookups whatever the merge's size.
 */
export function withPrevious(items: readonly RankedItem[], previous: Bounds): RankedItem[] {
  return items.map((i) => {
    const { score, error } = previous.boundOf(i.item);
    return { ...i, previousScore: score, previousError: error };
  });
}

/**
 * True when every listed score is exact. A list shorter than `limit` also claims that nothing else
 * scored, which a positive floor denies: an item cut from every bucket (budget.ts) is listed nowhere.
 */
export function isExact(items: readonly RankedItem[], limit: number, floor: number): boolean {
  return items.every((i) => i.error === 0) && (items.length >= limit || floor === 0);
}
