/**
 * Every answer has a bounded size (docs/api.md, "Answer sizes"): a ranking of 1,000 items of 256
 * bytes that JSON escapes six-fold would be 1.6 MB, and an answer of several MB cannot be served
 * from the edge in under 50 ms. Rankings are cut, from the end, to fit MAX_ANSWER_BYTES and say
 * so with `truncated: true`; stats are bounded by construction (type names and buckets are).
 */
import type { DashboardSnapshot, DimensionSnapshot, DimensionValue, RankedItem, TrendingSnapshot } from "../shared/contract";

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
export function fitRanking<T extends TrendingSnapshot>(ranking: T, maxBytes = MAX_ANSWER_BYTES): T {
  return fitPrefix(ranking, ranking.items, itemBound, (items) => ({ ...ranking, items }), maxBytes);
}

/** (v1.7) A value's JSON bytes at most: six per UTF-16 unit, and its four numbers and names. */
const valueBound = (value: DimensionValue) => 6 * value.value.length + 160;

/** (v1.7) A dimension's breakdown, cut like a ranking. */
export function fitList(breakdown: DimensionSnapshot, maxBytes = MAX_ANSWER_BYTES): DimensionSnapshot {
  return fitPrefix(breakdown, breakdown.values, valueBound, (values) => ({ ...breakdown, values }), maxBytes);
}

/** `answer` if its list fits, else with the longest prefix of `list` that does, marked `truncated`. */
function fitPrefix<T extends object, E>(answer: T, list: readonly E[], bound: (entry: E) => number, withList: (list: E[]) => T, maxBytes: number): T {
  let bytes = HEADER_BOUND;
  for (const entry of list) bytes += bound(entry);
  if (bytes <= maxBytes || bytesOf(answer) <= maxBytes) return answer;
  // The longest prefix that fits, by bisection over its length: answers are measured, not guessed.
  let fits = 0;
  let fails = list.length;
  while (fails - fits > 1) {
    const mid = (fits + fails) >> 1;
    if (bytesOf({ ...withList(list.slice(0, mid)), truncated: true }) <= maxBytes) fits = mid;
    else fails = mid;
  }
  return { ...withList(list.slice(0, fits)), truncated: true };
}

type DashboardWindow = NonNullable<DashboardSnapshot["windows"][keyof DashboardSnapshot["windows"]]>;

/** `dashboard` itself if it fits, else with every window's lists (its rankings, and its
 * dimensions' values) cut to one length that fits. */
export function fitDashboard(dashboard: DashboardSnapshot): DashboardSnapshot {
  if (bytesOf(dashboard) <= MAX_ANSWER_BYTES) return dashboard;
  const windows = Object.entries(dashboard.windows) as [string, DashboardWindow][];
  const lengths = (w: DashboardWindow) => [w.top.items.length, w.hot.items.length, ...Object.values(w.dimensions ?? {}).map((d) => d.values.length)];
  const longest = Math.max(0, ...windows.flatMap(([, w]) => lengths(w)));
  const cutDimensions = (w: DashboardWindow, keep: number) =>
    w.dimensions === undefined ? {} : { dimensions: Object.fromEntries(Object.entries(w.dimensions).map(([name, d]) => [name, cutValues(d, keep)])) };
  const cut = (keep: number): DashboardSnapshot => ({
    ...dashboard,
    windows: Object.fromEntries(windows.map(([window, w]) => [window, { ...w, top: cutTo(w.top, keep), hot: cutTo(w.hot, keep), ...cutDimensions(w, keep) }])),
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

function cutValues(breakdown: DimensionSnapshot, keep: number): DimensionSnapshot {
  return breakdown.values.length <= keep ? breakdown : { ...breakdown, values: breakdown.values.slice(0, keep), truncated: true };
}
