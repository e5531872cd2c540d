/**
 * How a stored answer becomes what one reader asked for: the first `limit` items of a ranking
 * that score at least `minScore`. One function for every place that serves answers (the read
 * path, the live relays), so a live message is the same JSON as the GET.
 */
import type { TrendingSnapshot } from "./contract";

/** What a reader asked to keep of a stored answer: `limit` null for answers without one. */
export interface AnswerCut {
  limit: number | null;
  minScore?: number;
}

/**
 * Keeps the first `limit` items of a ranking that score at least `minScore`; other answers are
 * served whole. Items are ordered by score, so those that pass are a prefix of the snapshot, and
 * the snapshot holds maxLimit of them: the cut equals the ranking computed with both.
 */
export function cutAnswer(body: string, { limit, minScore = 0 }: AnswerCut): string {
  if (limit === null) return body;
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
