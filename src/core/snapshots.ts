/**
 * Snapshots: the precomputed answers. Which ones a namespace keeps warm (`plan`), their keys,
 * and how one is built from the aggregation core. Pure: time and generation are passed in.
 */
import {
  RANKS,
  type DashboardSnapshot,
  type NamespaceConfig,
  type ReadQuery,
  type Snapshot,
  type StatsSnapshot,
  type TrendingSnapshot,
  type Window,
} from "../shared/contract";
import type { Aggregator, StatsAnswer } from "./aggregator";

/** Top entries per window in the dashboard payload (API.md). */
export const DASHBOARD_TOP = 10;

/** Every answer the refresh loop precomputes: each configured window × rank × (all types and each
 * declared type), each window's stats, and the dashboard. */
export function plan(config: NamespaceConfig): ReadQuery[] {
  const types: (string | null)[] = [null, ...Object.keys(config.types)];
  const queries: ReadQuery[] = [];
  for (const window of config.windows) {
    for (const rank of RANKS) for (const type of types) queries.push({ kind: "trending", window, rank, type });
    queries.push({ kind: "stats", window });
  }
  queries.push({ kind: "dashboard" });
  return queries;
}

export interface BuildContext {
  namespace: string;
  generation: number;
  at: number;
  config: NamespaceConfig;
}

const iso = (ms: number) => new Date(ms).toISOString();

function trending(agg: Aggregator, ctx: BuildContext, window: Window, rank: "top" | "rising", type: string | null, limit: number): TrendingSnapshot {
  const answer = rank === "top" ? agg.top(window, type, ctx.at, limit) : agg.rising(window, type, ctx.at, limit);
  return {
    namespace: ctx.namespace,
    window,
    rank,
    type,
    from: iso(answer.from),
    to: iso(answer.to),
    computedAt: iso(ctx.at),
    generation: ctx.generation,
    exact: answer.exact,
    items: answer.items,
  };
}

function stats(agg: Aggregator, ctx: BuildContext, window: Window): StatsSnapshot {
  const a: StatsAnswer = agg.stats(window, ctx.at);
  return {
    namespace: ctx.namespace,
    window,
    from: iso(a.from),
    to: iso(a.to),
    computedAt: iso(ctx.at),
    generation: ctx.generation,
    events: a.events,
    weight: a.weight,
    uniqueItems: a.uniqueItems,
    uniqueActors: a.uniqueActors,
    byType: a.byType,
    series: a.series.map((p) => ({ start: iso(p.start), events: p.events, weight: p.weight })),
  };
}

function dashboard(agg: Aggregator, ctx: BuildContext): DashboardSnapshot {
  const windows: DashboardSnapshot["windows"] = {};
  for (const window of ctx.config.windows) {
    windows[window] = { stats: stats(agg, ctx, window), top: trending(agg, ctx, window, "top", null, DASHBOARD_TOP) };
  }
  return { namespace: ctx.namespace, computedAt: iso(ctx.at), generation: ctx.generation, windows };
}

/** Computes the answer to `query` at `ctx.at`. Rankings keep `maxLimit` items. */
export function buildSnapshot(agg: Aggregator, query: ReadQuery, ctx: BuildContext): Snapshot {
  switch (query.kind) {
    case "trending":
      return trending(agg, ctx, query.window, query.rank, query.type, ctx.config.maxLimit);
    case "stats":
      return stats(agg, ctx, query.window);
    case "dashboard":
      return dashboard(agg, ctx);
  }
}
