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

/** The ranking API.md specifies: score descending, then item ascending. */
export function ranked(scoreMap: Map<string, number>): { item: string; score: number }[] {
  return [...scoreMap]
    .map(([item, score]) => ({ item, score }))
    .sort((a, b) => b.score - a.score || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
}
