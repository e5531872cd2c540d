/**
 * The straightforward exact count the answers are checked against: a scan of every generated
 * event whose ts lies in [from, to).
 */
import type { EventInput } from "./http";

export interface Counted extends EventInput {
  ts: number;
  weight: number;
  type: string;
}

export function inRange(events: readonly Counted[], from: number, to: number, type: string | null = null): Counted[] {
  return events.filter((e) => e.ts >= from && e.ts < to && (type === null || e.type === type));
}

export function scores(events: readonly Counted[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) out.set(e.item, (out.get(e.item) ?? 0) + e.weight);
  return out;
}

/** The ranking docs/api.md specifies: score descending, then item ascending. */
export function ranked(scoreMap: Map<string, number>): { item: string; score: number }[] {
  return [...scoreMap]
    .map(([item, score]) => ({ item, score }))
    .sort((a, b) => b.score - a.score || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
}


/**
 * rank=hot computed from its definition in docs/api.md: each bucket's total for an item, multiplied by
 * 2^(-(to - bucketStart) / halfLife), summed over the buckets of [from, to), oldest first.
 * `bucketMs` is the window's bucket size; every event in [from, to) belongs to one such bucket.
 */
export function hotScores(events: readonly Counted[], from: number, to: number, bucketMs: number, halfLifeSeconds: number, type: string | null = null): Map<string, number> {
  const out = new Map<string, number>();
  for (let start = from; start < to; start += bucketMs) {
    const factor = Math.pow(2, -(to - start) / (halfLifeSeconds * 1000));
    for (const [item, total] of scores(inRange(events, start, Math.min(start + bucketMs, to), type))) {
      out.set(item, (out.get(item) ?? 0) + total * factor);
    }
  }
  return out;
}
