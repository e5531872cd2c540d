/**
 * Time tiers: each window is answered from the ring of buckets of exactly one tier.
 * Buckets are aligned to the Unix epoch in UTC, so `from` is always a bucket boundary.
 */
import { DAY, HOUR, MINUTE, WINDOW_MS, type Window } from "../shared/contract";

export type TierName = "minute" | "hour" | "quarter" | "day";

export interface Tier {
  name: TierName;
  bucketMs: number;
  /** Buckets kept behind the current one: twice the longest window the tier serves, so that
   * rank=rising can compare a window with the period before it, plus the partial bucket. */
  retain: number;
}

export const TIERS: readonly Tier[] = [
  { name: "minute", bucketMs: MINUTE, retain: 2 * 60 + 1 },
  { name: "hour", bucketMs: HOUR, retain: 2 * 24 + 1 },
  { name: "quarter", bucketMs: 6 * HOUR, retain: 2 * 28 + 1 },
  { name: "day", bucketMs: DAY, retain: 2 * 30 + 1 },
];

const TIER_OF_WINDOW: Record<Window, TierName> = {
  "5m": "minute",
  "1h": "minute",
  "24h": "hour",
  "7d": "quarter",
  "30d": "day",
};

export function tierOf(window: Window): Tier {
  const name = TIER_OF_WINDOW[window];
  return TIERS.find((t) => t.name === name)!;
}

export function bucketStart(ts: number, tier: Tier): number {
  return Math.floor(ts / tier.bucketMs) * tier.bucketMs;
}

/** Oldest bucket start a tier still keeps at time `now`. */
export function oldestKept(now: number, tier: Tier): number {
  return bucketStart(now, tier) - tier.retain * tier.bucketMs;
}

/** A half-open time range [from, to) in epoch milliseconds. */
export interface Range {
  from: number;
  to: number;
}

/**
 * The exact range a window covers at time `at`: from the bucket boundary at or before
 * `at - length` up to `at`. It covers the nominal length and at most one bucket more.
 */
export function windowRange(window: Window, at: number): Range {
  return { from: bucketStart(at - WINDOW_MS[window], tierOf(window)), to: at };
}

/** The period rank=rising compares against: as many whole buckets, right before `from`. */
export function previousRange(window: Window, at: number): Range {
  const { from, to } = windowRange(window, at);
  const { bucketMs } = tierOf(window);
  const span = Math.ceil((to - from) / bucketMs) * bucketMs;
  return { from: from - span, to: from };
}
