/**
 * Time tiers: each window is answered from the ring of buckets of exactly one tier.
 * Buckets are aligned to the Unix epoch in UTC, so `from` is always a bucket boundary.
 */
import { DAY, HOUR, MINUTE, WINDOW_MS, isCalendarWindow, type Compare, type ReadWindow, type Window } from "../shared/contract";

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

/** How far back `compare=week` looks. */
export const WEEK_MS = 7 * DAY;

/** A range a window is compared with, the tier whose buckets hold it, and whether it is the
 * very period asked for (`whole`) or was widened to that tier's coarser buckets. */
export interface ComparedRange extends Range {
  tier: Tier;
  whole: boolean;
}

/**
 * The finest tier that holds, at any time, a week before any range of `window`: one whose kept
 * buckets reach back a week, the window and a bucket of each further. Retention is what rank=rising
 * needs (twice the longest window), so for 5m, 1h and 24h this is the quarter tier (6 h buckets).
 */
export function weekTier(window: Window): Tier | undefined {
  const own = tierOf(window);
  const reach = WEEK_MS + WINDOW_MS[window] + own.bucketMs;
  return TIERS.slice(TIERS.indexOf(own)).find((t) => t.retain * t.bucketMs >= reach + t.bucketMs);
}

/**
 * Why `compare=week` cannot be answered for `window`, or undefined when it can. A week earlier
 * overlaps a 7d or 30d window itself; and a window is never compared with buckets longer than
 * itself, since the compared period would then be many times the window (5m and 1h: a week ago is
 * held only in 6-hour buckets).
 */
/** `compare=week` of a calendar window: its previous period is already the day, week or month
 * before (docs/api.md, "Calendar windows"). */
const CALENDAR_WEEK_REFUSAL = "compare=week is for sliding windows up to 24h; a calendar window compares with the calendar period before it: use compare=previous.";

/** Why `window` cannot be compared so, if it cannot: a read is refused with it, and the plan of a
 * config that precomputes `compare` leaves that window out of it. */
export function compareRefusal(window: ReadWindow, compare: Compare): string | undefined {
  if (compare !== "week") return undefined;
  return isCalendarWindow(window) ? CALENDAR_WEEK_REFUSAL : weekRefusal(window);
}

export function weekRefusal(window: Window): string | undefined {
  if (WINDOW_MS[window] > DAY) {
    return `compare=week is for windows up to 24h: a week before a ${window} window overlaps the window itself; use compare=previous.`;
  }
  const tier = weekTier(window);
  if (!tier || tier.bucketMs > WINDOW_MS[window]) {
    const grain = tier ? `${tier.bucketMs / HOUR}-hour buckets` : "no tier";
    return `compare=week needs a week ago at a grain no coarser than the window: a week ago is held only in ${grain}, coarser than ${window}; use compare=previous, or window=24h.`;
  }
  return undefined;
}

/**
 * The period a window at `at` is compared with. `previous` is rank=rising's previous period
 * (`previousRange`), always held (tiers keep twice their longest window). `week` is the same
 * number of whole buckets a week earlier, `[from - 7d, from - 7d + span)`, read from `weekTier`
 * and widened to its bucket boundaries when it does not fall on them (`whole` false then).
 * Callers check `weekRefusal` first.
 */
export function comparedRange(window: Window, at: number, compare: Compare): ComparedRange {
  const previous = previousRange(window, at);
  if (compare === "previous") return { ...previous, tier: tierOf(window), whole: true };
  const span = previous.to - previous.from;
  const from = previous.to - WEEK_MS;
  const to = from + span;
  const tier = weekTier(window) ?? tierOf(window);
  const widened = { from: bucketStart(from, tier), to: Math.ceil(to / tier.bucketMs) * tier.bucketMs };
  return { ...widened, tier, whole: widened.from === from && widened.to === to };
}
