/**
 * Snapshots: the precomputed answers. Which ones a namespace keeps warm (`plan`), their keys,
 * and how one is built from the aggregation core. Pure: time and generation are passed in.
 */
import {
  RANKS,
  isCalendarWindow,
  type Compare,
  type ComparedHeader,
  type DashboardSnapshot,
  type NamespaceConfig,
  type Rank,
  type ReadQuery,
  type Snapshot,
  type StatsSnapshot,
  type TrendingSnapshot,
  type ReadWindow,
} from "../shared/contract";
import { snapshotKey } from "../shared/keys";
import type { Aggregator, Compared, StatsAnswer } from "./aggregator";
import { fitDashboard, fitRanking } from "./answer-size";
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
  }
  queries.push({ kind: "dashboard" });
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

function ranking(agg: Aggregator, ctx: BuildContext, window: ReadWindow, rank: Rank, type: string | null, limit: number, compare?: Compare) {
  switch (rank) {
    case "top":
      return agg.top(window, type, ctx.at, limit, compare);
    case "rising":
      return agg.rising(window, type, ctx.at, limit, compare);
    case "hot":
      return agg.hot(window, type, ctx.at, limit, ctx.config.hotHalfLifeSeconds, compare);
    case "reach":
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

function trending(agg: Aggregator, ctx: BuildContext, window: ReadWindow, rank: Rank, type: string | null, limit: number, compare?: Compare): TrendingSnapshot {
  const answer = ranking(agg, ctx, window, rank, type, limit, compare);
  return fitRanking({
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

function dashboard(agg: Aggregator, ctx: BuildContext): DashboardSnapshot {
  const windows: DashboardSnapshot["windows"] = {};
  const memo = memoOf(ctx);
  for (const window of ctx.config.windows) {
    windows[window] = {
      stats: (memo.get(snapshotKey({ kind: "stats", window })) as StatsSnapshot | undefined) ?? stats(agg, ctx, window),
      top: dashboardRanking(agg, ctx, window, "top"),
      hot: dashboardRanking(agg, ctx, window, "hot"),
    };
  }
  return fitDashboard({ namespace: ctx.namespace, computedAt: iso(ctx.at), generation: ctx.generation, timezone: agg.timezone, windows });
}

/** Computes the answer to `query` at `ctx.at`. Rankings keep `maxLimit` items. */
export function buildSnapshot(agg: Aggregator, query: ReadQuery, ctx: BuildContext): Snapshot {
  let snapshot: Snapshot;
  switch (query.kind) {
    case "trending":
      snapshot = trending(agg, ctx, query.window, query.rank, query.type, ctx.config.maxLimit, query.compare);
      break;
    case "stats":
      snapshot = stats(agg, ctx, query.window, query.compare);
      break;
    case "dashboard":
      return dashboard(agg, ctx);
  }
  // Only what the dashboard reuses is kept: a refresh builds hundreds of answers at the widest
  // config, and keeping every one until the refresh ends would hold them all in memory at once.
  if (query.compare !== undefined) return snapshot; // the dashboard reuses no compare answer
  if (query.kind === "stats" || (query.type === null && (query.rank === "top" || query.rank === "hot"))) memoOf(ctx).set(snapshotKey(query), snapshot);
  return snapshot;
}
