/**
 * Measurement 6b: one refresh's worth of work at 1M distinct items, alone (`npm run bench:core --
 * --refresh`, a few minutes). The stream (with actors, so rank=reach has pairs) is ingested once,
 * live, as in measurement 6; then a full refresh (every planned snapshot of the plan's windows and
 * one declared type: every rank, stats and the dashboard, built and serialised) is timed, and the
 * rankings of each rank alone. Four plans: the five sliding windows in UTC; the same with the four
 * calendar windows in a zone with daylight saving (so local days are kept and answered beside the
 * tiers); the largest plan a namespace can configure, that one with both comparisons precomputed;
 * and (v1.7) the five sliding windows with 8 dimensions at the widest accepted config and their hot
 * segments, after which the first reads of segments off the plan are timed one by one. The target
 * is < 250 ms at 1M distinct items for a refresh, < 50 ms for a segment's first read.
 */
import { CALENDAR_WINDOWS, MAX_DIMENSIONS, RANKS, type DimensionConfig, type EventDims, type NamespaceConfig, type Rank } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { widestDimensionCapacity } from "../../src/core/config";
import { HOT_SEGMENTS, buildSnapshot, builtBreakdown, hotSegments, plan, segmentQueries, type BuildContext } from "../../src/core/snapshots";
import type { Segment } from "../../src/shared/contract";
import { batches, DAY_MS, draw } from "./core-stream";
import { CONFIG } from "./core-scale";
import { nodeProcess, summarise, type Spread } from "./node";

/** A plan to time: which windows the refresh precomputes, in which zone; with dimensions, the
 * values of the i-th event. */
export interface RefreshPlan {
  name: string;
  config: NamespaceConfig;
  dimsOf?: (i: number) => EventDims;
}

/** What the widest dimensions are accepted beside. */
export interface Beside {
  capacity: number;
  types: number;
  zoned?: boolean;
  /** Every dimension multi-valued, not only the last. */
  allMulti?: boolean;
}

/**
 * The widest config of segments a namespace may hold beside a capacity and declared types:
 * MAX_DIMENSIONS dimensions (the last one, `tag`, multi-valued, or every one with `allMulti`), each
 * at the largest capacity the config check accepts (config.ts).
 */
export function widestDimensions({ capacity, types, zoned = false, allMulti = false }: Beside): Record<string, DimensionConfig> {
  const names = Array.from({ length: MAX_DIMENSIONS }, (_, d) => (d === MAX_DIMENSIONS - 1 ? "tag" : `d${d}`));
  const each = widestDimensionCapacity(names.length, capacity, types, zoned);
  return Object.fromEntries(names.map((n) => [n, allMulti || n === "tag" ? { multi: true, capacity: each } : { capacity: each }]));
}

/** Values per dimension: 10 to a million, so the plan meets small and huge cardinalities; 3 tags of 10,000. */
const CARDINALITIES = [10, 100, 1000, 10_000, 100_000, 1_000_000, 50];
function widestDimsOf(i: number): EventDims {
  const dims: EventDims = {};
  CARDINALITIES.forEach((n, d) => (dims[`d${d}`] = [`v${(i * 2_654_435_761 + d) % n}`]));
  dims.tag = [0, 1, 2].map((t) => `t${(i * 40_503 + t * 7_919) % 10_000}`);
  return dims;
}

export const REFRESH_PLANS: RefreshPlan[] = [
  { name: "five sliding windows, UTC", config: CONFIG },
  {
    name: "five sliding and four calendar windows, Europe/Berlin",
    config: { ...CONFIG, windows: [...CONFIG.windows, ...CALENDAR_WINDOWS], timezone: "Europe/Berlin" },
  },
  {
    name: "the same, with compare previous and week precomputed",
    config: { ...CONFIG, windows: [...CONFIG.windows, ...CALENDAR_WINDOWS], timezone: "Europe/Berlin", compare: ["previous", "week"] },
  },
  {
    name: "five sliding windows, UTC, with 8 dimensions at the widest accepted config (10 values an event) and the hot segments",
    config: { ...CONFIG, dimensions: widestDimensions({ capacity: CONFIG.capacity, types: Object.keys(CONFIG.types).length }) },
    dimsOf: widestDimsOf,
  },
];

export interface RefreshResult {
  plan: string;
  windows: number;
  timezone: string;
  items: number;
  events: number;
  snapshots: number;
  fullRefreshMs: Spread;
  /** The same refreshes in CPU time of the process: on a shared machine wall time also counts the
   * time other processes held the CPU, CPU time does not. */
  fullRefreshCpuMs: Spread;
  /** The same plan in CPU time with every answer merging its own periods, as before answers shared
   * their merges (Aggregator.sharing): what sharing saves, measured in the same run. */
  unsharedCpuMs?: Spread;
  /** Every window × (all types, the declared type) of one rank, built as snapshots. */
  byRankMs: Partial<Record<Rank, Spread>>;
  /** (v1.7) With dimensions: the first read of segments off the refresh's plan. */
  offPlan?: OffPlanResult;
}

/** (v1.7) A segment no refresh precomputed, read first: computed on the read, as the object does. */
export interface OffPlanResult {
  /** One per dimension: a value of its breakdown below the hot ones, and one no event carried. */
  segments: number;
  /** Every configured window × (top, rising, hot, stats) of every segment. */
  reads: number;
  /** Each read's first build, in wall time: the median and the largest over the reads, ms. */
  medianMs: number;
  maxMs: number;
  /** The slowest read, as `rank window dimension`. */
  slowest: string;
}


const cpuMs = () => {
  const { user, system } = nodeProcess.cpuUsage();
  return (user + system) / 1000;
};

function time(runs: number, body: () => void, cpu: number[] = []): Spread {
  body(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    body();
    ms.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  return summarise(ms);
}

export function refreshAtScale(items: number, events: number, runs: number, log: (s: string) => void, { name, config, dimsOf }: RefreshPlan = REFRESH_PLANS[0]!): RefreshResult {
  const now = Date.now();
  const stream = draw({ items, count: events, skew: 1.0, everyItem: true, order: "time", seed: items, end: now, spanMs: 7 * DAY_MS });
  const agg = new Aggregator({ capacity: config.capacity, types: Object.keys(config.types), timezone: config.timezone, dimensions: config.dimensions });
  let i = 0;
  for (const [batch, lastTs] of batches(stream)) {
    if (dimsOf) for (const event of batch) event.dims = dimsOf(i++);
    agg.ingest(batch, lastTs + 1);
    agg.advance(lastTs + 1);
  }
  agg.advance(now);
  const ctx = () => ({ namespace: "bench", generation: 0, at: now, config });
  const queries = plan(config);
  const cpu: number[] = [];
  // One context per refresh, as the object builds one per refresh, and its answers share their merges.
  let segmentAnswers = 0;
  const refresh = () => {
    const c = ctx();
    for (const q of queries) JSON.stringify(buildSnapshot(agg, q, c));
    // Then the hot segments, chosen by the breakdowns just built, as the object's refresh does.
    const hot = hotSegments(config, (window, dimension) => builtBreakdown(agg, c, window, dimension));
    const segmentPlan = segmentQueries(config, hot);
    segmentAnswers = segmentPlan.length;
    for (const q of segmentPlan) JSON.stringify(buildSnapshot(agg, q, c));
  };
  const fullRefreshMs = time(runs, () => agg.sharing(refresh), cpu);
  const fullRefreshCpuMs = summarise(cpu);
  const unshared: number[] = [];
  time(runs, refresh, unshared);
  const unsharedCpuMs = summarise(unshared);
  const byRankMs: RefreshResult["byRankMs"] = {};
  for (const rank of RANKS) {
    const ranked = queries.filter((q) => q.kind === "trending" && q.rank === rank);
    byRankMs[rank] = time(runs, () =>
      agg.sharing(() => {
        const c = ctx();
        for (const q of ranked) JSON.stringify(buildSnapshot(agg, q, c));
      }),
    );
  }
  const offPlan = config.dimensions ? offPlanReads(agg, config, ctx, log) : undefined;
  const ranks = Object.entries(byRankMs).map(([r, s]) => `${r} ${s!.median.toFixed(0)} ms`).join(", ");
  log(
    `  core refresh at ${items} items, ${name}: full refresh (${queries.length + segmentAnswers} snapshots) ${fullRefreshMs.median.toFixed(0)} ms ` +
      `(${fullRefreshMs.min.toFixed(0)}–${fullRefreshMs.max.toFixed(0)}), CPU ${fullRefreshCpuMs.median.toFixed(0)} ms ` +
      `(${fullRefreshCpuMs.min.toFixed(0)}–${fullRefreshCpuMs.max.toFixed(0)}), CPU without shared merges ${unsharedCpuMs.median.toFixed(0)} ms; by rank: ${ranks}`,
  );
  const timezone = config.timezone ?? "UTC";
  return { plan: name, windows: config.windows.length, timezone, items, events, snapshots: queries.length + segmentAnswers, fullRefreshMs, fullRefreshCpuMs, unsharedCpuMs, byRankMs, ...(offPlan ? { offPlan } : {}) };
}

/**
 * (v1.7) The first read of segments the refresh did not precompute: for each dimension, the value
 * its first window's breakdown ranks just below the hot segments, and a value no event carried.
 * Each read builds its answer on a context of its own and serialises it, without shared merges,
 * as the object computes a read it holds no answer for (namespace-aggregator.ts).
 */
function offPlanReads(agg: Aggregator, config: NamespaceConfig, ctx: () => BuildContext, log: (s: string) => void): OffPlanResult {
  const c = ctx();
  const hot = new Set(hotSegments(config, (window, dimension) => builtBreakdown(agg, c, window, dimension)).map((s) => `${s.dimension}\0${s.value}`));
  const segments: Segment[] = [];
  for (const dimension of Object.keys(config.dimensions ?? {})) {
    const values = builtBreakdown(agg, c, config.windows[0]!, dimension).values.filter((v) => !hot.has(`${dimension}\0${v.value}`));
    if (values.length > 0) segments.push({ dimension, value: values[Math.min(values.length - 1, HOT_SEGMENTS)]!.value });
    segments.push({ dimension, value: "a value no event carried" });
  }
  const reads = segmentQueries(config, segments);
  // Each read built once: none of them has been built before, whatever the aggregator keeps.
  const firsts = reads.map((q) => {
    const t0 = performance.now();
    JSON.stringify(buildSnapshot(agg, q, ctx()));
    return performance.now() - t0;
  });
  const slowestAt = firsts.indexOf(Math.max(...firsts));
  const q = reads[slowestAt]!;
  const label = q.kind === "trending" ? `${q.rank} ${q.window} ${q.segment!.dimension}` : q.kind === "stats" ? `stats ${q.window} ${q.segment!.dimension}` : q.kind;
  const result: OffPlanResult = { segments: segments.length, reads: reads.length, medianMs: summarise(firsts).median, maxMs: firsts[slowestAt]!, slowest: label };
  log(`  off-plan segments beside capacity ${config.capacity}: ${result.reads} first reads of ${result.segments} segments, median ${result.medianMs.toFixed(2)} ms, slowest ${result.maxMs.toFixed(2)} ms (${result.slowest})`);
  return result;
}
