/**
 * Snapshots: the precomputed answers. Which ones a namespace keeps warm (`plan`), their keys,
 * and how one is built from the aggregation core. Pure: time and generation are passed in.
 */
import {
  RANKS,
  SEGMENT_RANKS,
  isCalendarWindow,
  type Compare,
  type ComparedHeader,
  type DashboardSnapshot,
  type DimensionSnapshot,
  type NamespaceConfig,
  type Segment,
  type SegmentStatsSnapshot,
  type SegmentTrendingSnapshot,
  type Rank,
  type ReadQuery,
  type Snapshot,
  type StatsSnapshot,
  type TrendingSnapshot,
  type ReadWindow,
} from "../shared/contract";
import { snapshotKey } from "../shared/keys";
import type { Aggregator, Compared, Scope, StatsAnswer } from "./aggregator";
import { fitDashboard, fitList, fitRanking } from "./answer-size";
import { compareRefusal } from "./tiers";

/** Top entries per window in the dashboard payload (docs/api.md). */
export const DASHBOARD_TOP = 10;

/** Answers asked for outside the plan (another window or type) are kept warm for at most this
 * many queries per namespace, the least recently read dropped first, so that readers cannot
 * widen every refresh without bound. */
export const MAX_DEMANDED = 64;

/** Every answer the refresh loop precomputes: each configured window × rank (top, rising, hot, reach) ×
 * (all types and each declared type), each window's stats, and the dashboard; then (v1.6) the same
 * rankings and stats with each comparison the config's `compare` lists, for every window that takes
 * it. Comparisons no config lists are not planned: each is computed on its first read and then kept
 * warm like any answer read outside the plan (MAX_DEMANDED), so the plan's cost does not double for
 * namespaces that never compare.
 *
 * A window's rankings of one type come together, each rank beside its comparisons, so that they
 * read the sums of the same periods in turn (aggregator.ts, `sharing`). */
export function plan(config: NamespaceConfig): ReadQuery[] {
  const types: (string | null)[] = [null, ...Object.keys(config.types)];
  const queries: ReadQuery[] = [];
  for (const window of config.windows) {
    const compares: (Compare | undefined)[] = [undefined, ...(config.compare ?? []).filter((c) => compareRefusal(window, c) === undefined)];
    const asked = compares.map((compare) => (compare === undefined ? {} : { compare }));
    for (const type of types) for (const rank of RANKS) for (const a of asked) queries.push({ kind: "trending", window, rank, type, ...a });
    for (const a of asked) queries.push({ kind: "stats", window, ...a });
    for (const dimension of Object.keys(config.dimensions ?? {})) queries.push({ kind: "dimension", window, dimension });
  }
  queries.push({ kind: "dashboard" });
  return queries;
}

/** (v1.7) Segments precomputed per refresh, at most, beside the plan: the values with the most
 * weight, one dimension after another (see `hotSegments`). Each costs its windows' top, rising
 * and hot rankings and stats; others are computed on their first read and kept warm while read. */
export const HOT_SEGMENTS = 8;

/**
 * The segments a refresh precomputes: round by round, each dimension's next value by weight in
 * the first configured window (its breakdown, already built by this refresh), up to HOT_SEGMENTS.
 * A dimension with fewer values gives its turns to the others.
 */
export function hotSegments(config: NamespaceConfig, breakdownOf: (window: ReadWindow, dimension: string) => DimensionSnapshot): Segment[] {
  const window = config.windows[0]!;
  const lists = Object.keys(config.dimensions ?? {}).map((dimension) => ({ dimension, values: breakdownOf(window, dimension).values }));
  const segments: Segment[] = [];
  for (let round = 0; segments.length < HOT_SEGMENTS; round++) {
    const takers = lists.filter((list) => round < list.values.length);
    if (takers.length === 0) break;
    for (const list of takers) if (segments.length < HOT_SEGMENTS) segments.push({ dimension: list.dimension, value: list.values[round]!.value });
  }
  return segments;
}

/** The answers of the hot segments, for every configured window: the ranks a segment takes
 * (reach is per item and actor, which no segment summary holds) and its stats. */
export function segmentQueries(config: NamespaceConfig, segments: readonly Segment[]): ReadQuery[] {
  const queries: ReadQuery[] = [];
  for (const segment of segments) {
    for (const window of config.windows) {
      for (const rank of SEGMENT_RANKS) queries.push({ kind: "trending", window, rank, type: null, segment });
      queries.push({ kind: "stats", window, segment });
    }
  }
  return queries;
}


/**
 * One instant of one namespace: answers built with the same context share work (see `built`), so
 * a context must not outlive a change of the aggregator's state. The object makes one per refresh
 * and one per computed read.
 */
export interface BuildContext {
  namespace: string;
  generation: number;
  at: number;
  config: NamespaceConfig;
}

/**
 * Answers already built with a context, by snapshot key. The refresh builds every window's stats
 * and top and hot rankings before the dashboard, which then reuses them instead of merging the
 * window's buckets again (so a refresh with rank=hot stays within its time budget: measured by
 * `npm run bench:core -- --refresh`).
 */
const built = new WeakMap<BuildContext, Map<string, Snapshot>>();

function memoOf(ctx: BuildContext): Map<string, Snapshot> {
  let memo = built.get(ctx);
  if (!memo) {
    memo = new Map();
    built.set(ctx, memo);
  }
  return memo;
}

const iso = (ms: number) => new Date(ms).toISOString();

function ranking(agg: Aggregator, ctx: BuildContext, window: ReadWindow, rank: Rank, type: Scope, limit: number, compare?: Compare) {
  switch (rank) {
    case "top":
      return agg.top(window, type, ctx.at, limit, compare);
    case "rising":
      return agg.rising(window, type, ctx.at, limit, compare);
    case "hot":
      return agg.hot(window, type, ctx.at, limit, ctx.config.hotHalfLifeSeconds, compare);
    case "reach":
      if (type !== null && typeof type !== "string") throw new RangeError("rank=reach takes no segment");
      return agg.reach(window, type, ctx.at, limit, compare);
  }
}

/** What a compare answer states of its compared period, right after its own range. */
function comparedHeader(compare: Compare | undefined, compared: Compared | undefined): ComparedHeader | object {
  if (compare === undefined || compared === undefined) return {};
  return { compare, previousFrom: iso(compared.from), previousTo: iso(compared.to) };
}

/** (v1.6) A calendar window's answer names its zone; a sliding window's needs none. */
function zoneOf(agg: Aggregator, window: ReadWindow): { timezone?: string } {
  return isCalendarWindow(window) ? { timezone: agg.timezone } : {};
}

function trending(agg: Aggregator, ctx: BuildContext, window: ReadWindow, rank: Rank, type: string | null, limit: number, compare?: Compare, segment?: Segment): TrendingSnapshot {
  const answer = ranking(agg, ctx, window, rank, segment ?? type, limit, compare);
  const snapshot: TrendingSnapshot = {
    namespace: ctx.namespace,
    window,
    rank,
    type,
    from: iso(answer.from),
    to: iso(answer.to),
    ...comparedHeader(compare, answer.compared),
    computedAt: iso(ctx.at),
    generation: ctx.generation,
    ...zoneOf(agg, window),
    exact: answer.exact,
    items: answer.items,
  };
  // (v1.7) A segment's answer names it, and says what no unlisted item exceeds: an empty list
  // with its floor proves that no item of the segment scores above it.
  if (segment === undefined) return fitRanking(snapshot);
  const { items, ...header } = snapshot;
  return fitRanking<SegmentTrendingSnapshot>({ ...header, segment, floor: answer.floor, items });
}

/** The fields every answer starts with, for an answer over `range`. */
function headerOf(agg: Aggregator, ctx: BuildContext, window: ReadWindow, range: { from: number; to: number }) {
  return { namespace: ctx.namespace, window, from: iso(range.from), to: iso(range.to), computedAt: iso(ctx.at), generation: ctx.generation, ...zoneOf(agg, window) };
}

function segmentStats(agg: Aggregator, ctx: BuildContext, window: ReadWindow, segment: Segment): SegmentStatsSnapshot {
  const a = agg.segmentStats(window, segment, ctx.at);
  return {
    ...headerOf(agg, ctx, window, a),
    segment,
    exact: a.exact,
    events: a.events,
    weight: a.weight,
    error: a.error,
    uniqueItems: a.uniqueItems,
    series: a.series.map((p) => ({ start: iso(p.start), events: p.events, weight: p.weight, error: p.error })),
  };
}

function dimension(agg: Aggregator, ctx: BuildContext, window: ReadWindow, name: string, limit: number): DimensionSnapshot {
  const a = agg.breakdown(window, name, ctx.at, limit);
  return fitList({
    ...headerOf(agg, ctx, window, a),
    dimension: name,
    exact: a.exact,
    floor: a.floor,
    values: a.values,
  });
}

function stats(agg: Aggregator, ctx: BuildContext, window: ReadWindow, compare?: Compare): StatsSnapshot {
  const a: StatsAnswer = agg.stats(window, ctx.at, compare);
  const snapshot: StatsSnapshot = {
    namespace: ctx.namespace,
    window,
    from: iso(a.from),
    to: iso(a.to),
    ...comparedHeader(compare, a.compared),
    computedAt: iso(ctx.at),
    generation: ctx.generation,
    ...zoneOf(agg, window),
    events: a.events,
    weight: a.weight,
    uniqueItems: a.uniqueItems,
    uniqueActors: a.uniqueActors,
    byType: a.byType,
    series: a.series.map((p) => ({ start: iso(p.start), events: p.events, weight: p.weight })),
  };
  // `exact` (v1.5, calendar windows): false when a local day was assembled approximately
  // after a change of time zone; with `compare`, also when the compared period was widened.
  if (a.previous === undefined || a.compared === undefined) return a.exact === undefined ? snapshot : { ...snapshot, exact: a.exact };
  return { ...snapshot, previous: a.previous, exact: a.compared.whole && a.exact !== false };
}

/** A window's top or hot entry of the dashboard: the first DASHBOARD_TOP items of the ranking
 * built with this context if there is one (the same selection, cut shorter), else computed. */
function dashboardRanking(agg: Aggregator, ctx: BuildContext, window: ReadWindow, rank: "top" | "hot"): TrendingSnapshot {
  const whole = memoOf(ctx).get(snapshotKey({ kind: "trending", window, rank, type: null })) as TrendingSnapshot | undefined;
  if (!whole || ctx.config.maxLimit < DASHBOARD_TOP) return trending(agg, ctx, window, rank, null, DASHBOARD_TOP);
  const items = whole.items.slice(0, DASHBOARD_TOP);
  const { truncated, ...rest } = whole;
  const cut = truncated && items.length === whole.items.length ? { truncated } : {};
  return { ...rest, ...cut, items, exact: items.every((i) => i.error === 0) };
}

/** (v1.7) A window's breakdown of each declared dimension in the dashboard: its top
 * DASHBOARD_TOP values, from the breakdown built with this context if there is one. */
function dashboardDimensions(agg: Aggregator, ctx: BuildContext, window: ReadWindow): { dimensions?: Record<string, DimensionSnapshot> } {
  const names = Object.keys(ctx.config.dimensions ?? {});
  if (names.length === 0) return {};
  const dimensions = new Map<string, DimensionSnapshot>();
  for (const name of names) {
    const whole = memoOf(ctx).get(snapshotKey({ kind: "dimension", window, dimension: name })) as DimensionSnapshot | undefined;
    if (!whole || ctx.config.maxLimit < DASHBOARD_TOP) {
      dimensions.set(name, dimension(agg, ctx, window, name, DASHBOARD_TOP));
      continue;
    }
    const values = whole.values.slice(0, DASHBOARD_TOP);
    const { truncated, ...rest } = whole;
    const cut = truncated && values.length === whole.values.length ? { truncated } : {};
    dimensions.set(name, { ...rest, ...cut, values, exact: values.every((v) => v.error === 0 && v.eventsError === 0) && (values.length === DASHBOARD_TOP || whole.floor === 0) });
  }
  // Dimension names are data: own properties only (see `recordOf` in aggregator.ts).
  return { dimensions: Object.fromEntries(dimensions) };
}

function dashboard(agg: Aggregator, ctx: BuildContext): DashboardSnapshot {
  const windows: DashboardSnapshot["windows"] = {};
  const memo = memoOf(ctx);
  for (const window of ctx.config.windows) {
    windows[window] = {
      stats: (memo.get(snapshotKey({ kind: "stats", window })) as StatsSnapshot | undefined) ?? stats(agg, ctx, window),
      top: dashboardRanking(agg, ctx, window, "top"),
      hot: dashboardRanking(agg, ctx, window, "hot"),
      ...dashboardDimensions(agg, ctx, window),
    };
  }
  return fitDashboard({ namespace: ctx.namespace, computedAt: iso(ctx.at), generation: ctx.generation, timezone: agg.timezone, windows });
}

/** A dimension's breakdown built with this context, or built now (the choice of hot segments). */
export function builtBreakdown(agg: Aggregator, ctx: BuildContext, window: ReadWindow, name: string): DimensionSnapshot {
  const query: ReadQuery = { kind: "dimension", window, dimension: name };
  return (memoOf(ctx).get(snapshotKey(query)) as DimensionSnapshot | undefined) ?? (buildSnapshot(agg, query, ctx) as DimensionSnapshot);
}

/** Computes the answer to `query` at `ctx.at`. Rankings keep `maxLimit` items. */
export function buildSnapshot(agg: Aggregator, query: ReadQuery, ctx: BuildContext): Snapshot {
  let snapshot: Snapshot;
  switch (query.kind) {
    case "trending":
      if (query.segment !== undefined) return trending(agg, ctx, query.window, query.rank, null, ctx.config.maxLimit, query.compare, query.segment);
      snapshot = trending(agg, ctx, query.window, query.rank, query.type, ctx.config.maxLimit, query.compare);
      break;
    case "stats":
      if (query.segment !== undefined) return segmentStats(agg, ctx, query.window, query.segment);
      snapshot = stats(agg, ctx, query.window, query.compare);
      break;
    case "dimension":
      snapshot = dimension(agg, ctx, query.window, query.dimension, ctx.config.maxLimit);
      break;
    case "dashboard":
      return dashboard(agg, ctx);
  }
  // Only what the dashboard (and the choice of hot segments) reuses is kept: a refresh builds
  // hundreds of answers at the widest config, and keeping every one until the refresh ends would
  // hold them all in memory at once.
  if (query.kind !== "dimension" && query.compare !== undefined) return snapshot; // the dashboard reuses no compare answer
  if (query.kind !== "trending" || (query.type === null && (query.rank === "top" || query.rank === "hot"))) memoOf(ctx).set(snapshotKey(query), snapshot);
  return snapshot;
}
