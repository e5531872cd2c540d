/**
 * How a stored answer becomes what one reader asked for: the first `limit` items of a ranking
 * that score at least `minScore`. One function for every place that serves answers (the read
 * path, the live relays), so a live message is the same JSON as the GET.
 */
import type { DimensionSnapshot, TrendingSnapshot } from "./contract";

/** What a reader asked to keep of a stored answer: `limit` null for answers without one. */
export interface AnswerCut {
  limit: number | null;
  minScore?: number;
  /** (v1.7) A breakdown's page, given for breakdown reads only: the values before it were read already. */
  offset?: number;
}

/** (v1.7) A breakdown's cursor: the offset of its next page, opaque to readers. */
export function cursorOf(offset: number): string {
  return `o${offset}`;
}

/** The offset a cursor names, or undefined for a string that is not one Tally gave. */
export function offsetOf(cursor: string): number | undefined {
  const match = /^o([1-9]\d{0,3})$/.exec(cursor);
  return match ? Number(match[1]) : undefined;
}

/**
 * Keeps the first `limit` items of a ranking that score at least `minScore`; other answers are
 * served whole. Items are ordered by score, so those that pass are a prefix of the snapshot, and
 * the snapshot holds maxLimit of them: the cut equals the ranking computed with both.
 */
export function cutAnswer(body: string, { limit, minScore = 0, offset }: AnswerCut): string {
  if (limit === null) return body;
  // Told by the read, not found in the body: a ranking's read scans nothing more for it.
  if (offset !== undefined) return cutPage(JSON.parse(body) as DimensionSnapshot, limit, offset);
  const snapshot = JSON.parse(body) as TrendingSnapshot;
  let keep = Math.min(limit, snapshot.items.length);
  if (minScore > 0) {
    const below = snapshot.items.findIndex((i) => i.score < minScore);
    if (below >= 0) keep = Math.min(keep, below);
  }
  if (keep === snapshot.items.length) return body;
  // A prefix cut by `limit` or `minScore` is what was asked for: no longer truncated.
  const { truncated: _, ...whole } = snapshot;
  return JSON.stringify({ ...whole, items: whole.items.slice(0, keep) });
}

/** A live message: the answer's JSON, as the GET serves it, with `"kind": "answer"` first. */
export function liveMessage(cutBody: string): string {
  return `{"kind":"answer",${cutBody.slice(1)}`;
}

/**
 * (v1.7) One page of a breakdown: `limit` values from `offset`, and the cursor of the next page
 * (null on the last). The answer holds the dimension's top maxLimit values; `truncated` stays only
 * on the page that reaches its end.
 */
function cutPage(breakdown: DimensionSnapshot, limit: number, offset: number): string {
  const end = offset + limit;
  const { truncated, ...whole } = breakdown;
  const cursor = end < breakdown.values.length ? cursorOf(end) : null;
  return JSON.stringify({ ...whole, ...(truncated && cursor === null ? { truncated } : {}), values: breakdown.values.slice(offset, end), cursor });
}
