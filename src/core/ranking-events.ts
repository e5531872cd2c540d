/**
 * What a webhook is told (docs/api.md, "Webhooks"), from two answers of one ranking: the items
 * that entered or left its first `limit` places, and the items that spiked. Pure: the object
 * keeps the previous state and passes it in.
 */
import type { RankedItem } from "../shared/contract";

export interface Placed {
  item: string;
  /** 1 for the first place. */
  position: number;
  score: number;
}

export interface Spike {
  item: string;
  /** The item's score in the window. */
  current: number;
  /** Its score in the preceding period of equal length (0 if none). */
  previous: number;
}

/**
 * The items among the first `limit` of `next` that were not among the first `limit` of
 * `previous` (entered), and the other way round (left), each in its ranking's order.
 */
export function placesChanged(previous: readonly string[], next: readonly RankedItem[], limit: number): { entered: Placed[]; left: string[] } {
  const now = next.slice(0, limit);
  const was = new Set(previous.slice(0, limit));
  const is = new Set(now.map((i) => i.item));
  const entered = now.flatMap((i, at) => (was.has(i.item) ? [] : [{ item: i.item, position: at + 1, score: i.score }]));
  const left = previous.slice(0, limit).filter((item) => !is.has(item));
  return { entered, left };
}

/**
 * The items of a rising answer whose score in the window is at least `factor` times their score
 * in the preceding period, and at least `minScore`. An item with no events before spikes once it
 * reaches `minScore`.
 */
export function spiking(rising: readonly RankedItem[], factor: number, minScore: number): Spike[] {
  return rising.flatMap((i) => {
    const current = i.current ?? i.score;
    const previous = i.previous ?? 0;
    return current >= minScore && current >= factor * previous ? [{ item: i.item, current, previous }] : [];
  });
}

/** The spikes that are new: items that were not spiking at the previous answer. An item fires
 * once when it starts to spike, and again only after it stopped. */
export function newSpikes(wasSpiking: readonly string[], now: readonly Spike[]): Spike[] {
  const was = new Set(wasSpiking);
  return now.filter((s) => !was.has(s.item));
}
