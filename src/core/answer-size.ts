/**
 * Every answer has a bounded size (docs/api.md, "Answer sizes"): a ranking of 1,000 items of 256
 * bytes that JSON escapes six-fold would be 1.6 MB, and an answer of several MB cannot be served
 * from the edge in under 50 ms. Rankings are cut, from the end, to fit MAX_ANSWER_BYTES and say
 * so with `truncated: true`; stats are bounded by construction (type names and buckets are).
 */
import type { DashboardSnapshot, RankedItem, TrendingSnapshot } from "../shared/contract";

/** The largest answer, in bytes of UTF-8 JSON. */
export const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * An upper bound of an item's JSON bytes: escaping makes at most 6 bytes of a UTF-16 unit
 * (`\u0001`, a lone surrogate), and its fields and numbers (up to 24 characters each) ~160, and
 * with compare (v1.4) `previousScore` and `previousError` 82 more (250 in all).
 */
const itemBound = (item: RankedItem) => 6 * item.item.length + (item.previousScore === undefined ? 160 : 250);

const encoder = new TextEncoder();
const bytesOf = (value: unknown) => encoder.encode(JSON.stringify(value)).length;

/** Bytes at most of every answer but its items: a header and, in a dashboard, five stats. */
const HEADER_BOUND = 2048;

/** `ranking` itself if it fits `maxBytes`, else its longest prefix that does, marked `truncated`. */
export function fitRanking(ranking: TrendingSnapshot, maxBytes = MAX_ANSWER_BYTES): TrendingSnapshot {
  let bound = HEADER_BOUND;
  for (const item of ranking.items) bound += itemBound(item);
  if (bound <= maxBytes || bytesOf(ranking) <= maxBytes) return ranking;
  // The longest prefix that fits, by bisection over its length: answers are measured, not guessed.
  let fits = 0;
  let fails = ranking.items.length;
  while (fails - fits > 1) {
    const mid = (fits + fails) >> 1;
    if (bytesOf({ ...ranking, items: ranking.items.slice(0, mid), truncated: true }) <= maxBytes) fits = mid;
    else fails = mid;
  }
  return { ...ranking, items: ranking.items.slice(0, fits), truncated: true };
}

/** `dashboard` itself if it fits, else with every window's lists cut to one length that fits. */
export function fitDashboard(dashboard: DashboardSnapshot): DashboardSnapshot {
  if (bytesOf(dashboard) <= MAX_ANSWER_BYTES) return dashboard;
  const windows = Object.entries(dashboard.windows);
  const longest = Math.max(0, ...windows.flatMap(([, w]) => [w.top.items.length, w.hot.items.length]));
  const cut = (keep: number): DashboardSnapshot => ({
    ...dashboard,
    windows: Object.fromEntries(windows.map(([window, w]) => [window, { ...w, top: cutTo(w.top, keep), hot: cutTo(w.hot, keep) }])),
  });
  for (let keep = longest - 1; keep > 0; keep--) {
    const fitted = cut(keep);
    if (bytesOf(fitted) <= MAX_ANSWER_BYTES) return fitted;
  }
  return cut(0);
}

function cutTo(ranking: TrendingSnapshot, keep: number): TrendingSnapshot {
  return ranking.items.length <= keep ? ranking : { ...ranking, items: ranking.items.slice(0, keep), truncated: true };
}
