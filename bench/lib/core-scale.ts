/**
 * Measurement 6: the aggregation core alone. Per number of distinct items: ingest rate (events/s
 * on one core: the core is synchronous, so one Node thread is one core), heap after a forced GC,
 * and the time to compute answers from it: every window's top 100, and a full refresh as the
 * Durable Object runs it (every planned snapshot built and serialised).
 */
import { WINDOWS, type NamespaceConfig } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { buildSnapshot, plan } from "../../src/core/snapshots";
import { batches, DAY_MS, draw, type Stream } from "./core-stream";
import { liveMemory, nodeProcess, summarise, type Spread } from "./node";

export interface ScaleCase {
  items: number;
  events: number;
  /**
   * "live": events in time order, each batch ingested at its own time and followed by advance(),
   * as the refresh loop does: every tier's current bucket is updated and old ones sealed.
   * "backfill": a week of events in random order, ingested at one instant (no advance until done).
   */
  mode: "live" | "backfill";
}

export interface ScaleResult extends ScaleCase {
  skew: number;
  eventsPerSec: Spread;
  /** The same rate over the process's CPU time (user + system) instead of wall time: on a shared
   * machine, time spent waiting for a core does not count against it. */
  eventsPerCpuSec: Spread;
  /** JS heap held by the aggregator after a forced GC, MB (2^20 bytes). */
  heapMB: number;
  /** ArrayBuffers it holds besides (HyperLogLog registers, counter arrays), MB. */
  arrayBuffersMB: number;
  /** advance(now) after ingest: seals and trims past buckets; paid once per bucket, not per read. */
  sealMs: number;
  /** Heap + ArrayBuffers once every past bucket is sealed (what a refresh leaves), MB. */
  sealedMB: number;
  top100AllWindowsMs: Spread;
  fullRefreshMs: Spread;
  snapshots: number;
}

const CAPACITY = 5000;
/** All five windows precomputed: the heaviest refresh a namespace can ask for. */
export const CONFIG: NamespaceConfig = {
  windows: [...WINDOWS],
  maxLimit: 100,
  refreshSeconds: 10,
  staleSeconds: 300,
  types: { view: {} },
  ingestShards: 1,
  capacity: CAPACITY,
  hotHalfLifeSeconds: 21_600,
};

/** The aggregator of the last run, kept outside any stack frame: V8 keeps dead locals alive in
 * registers, which would hide the previous run's aggregator inside the next run's baseline. */
let last: Aggregator | undefined;
/** Live memory before the last run's aggregator existed. */
let baseline = { heap: 0, arrayBuffers: 0 };

/** One run: a fresh aggregator fed the whole stream. Returns numbers only (see `last`). */
function ingestOnce(c: ScaleCase, stream: Stream, end: number): { rate: number; cpuRate: number; heapMB: number; arrayBuffersMB: number } {
  last = undefined;
  const before = liveMemory();
  baseline = before;
  const agg = new Aggregator({ capacity: CAPACITY, types: ["view"] });
  let ms = 0;
  let cpuMicros = 0;
  for (const [events, lastTs] of batches(stream)) {
    const cpu0 = nodeProcess.cpuUsage();
    const t0 = performance.now(); // only ingest (and advance) is timed, not building the batch
    if (c.mode === "live") {
      agg.ingest(events, lastTs + 1);
      agg.advance(lastTs + 1);
    } else agg.ingest(events, end);
    ms += performance.now() - t0;
    const cpu = nodeProcess.cpuUsage(cpu0);
    cpuMicros += cpu.user + cpu.system;
  }
  last = agg;
  const after = liveMemory();
  return {
    rate: c.events / (ms / 1000),
    cpuRate: c.events / (cpuMicros / 1e6),
    heapMB: (after.heap - before.heap) / 2 ** 20,
    arrayBuffersMB: (after.arrayBuffers - before.arrayBuffers) / 2 ** 20,
  };
}

function time(runs: number, body: () => void): Spread {
  body(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    body();
    ms.push(performance.now() - t0);
  }
  return summarise(ms);
}

export function scale(c: ScaleCase, runs: number, log: (s: string) => void): ScaleResult {
  const now = Date.now();
  const stream = draw({
    items: c.items,
    count: c.events,
    skew: 1.0,
    everyItem: true,
    order: c.mode === "live" ? "time" : "random",
    seed: c.items,
    end: now,
    spanMs: 7 * DAY_MS,
  });
  const rates: number[] = [];
  const cpuRates: number[] = [];
  let memory = { heapMB: 0, arrayBuffersMB: 0 };
  for (let i = 0; i <= runs; i++) {
    const { rate, cpuRate, ...mem } = ingestOnce(c, stream, now);
    const shown = Math.round(rate).toLocaleString("en");
    if (i === 0) log(`  core ${c.items} items ${c.mode}: warm-up ${shown} events/s`);
    else {
      rates.push(rate);
      cpuRates.push(cpuRate);
      memory = mem;
      log(`  core ${c.items} items ${c.mode}: run ${i}/${runs}: ${shown} events/s (${Math.round(cpuRate).toLocaleString("en")} per CPU second), heap ${mem.heapMB.toFixed(1)} MB + ${mem.arrayBuffersMB.toFixed(1)} MB ArrayBuffers`);
    }
  }
  const agg = last!;
  const t0 = performance.now();
  agg.advance(now);
  const sealMs = performance.now() - t0;
  const sealed = liveMemory();
  const sealedMB = (sealed.heap + sealed.arrayBuffers - baseline.heap - baseline.arrayBuffers) / 2 ** 20;
  const top100AllWindowsMs = time(runs, () => {
    for (const w of WINDOWS) agg.top(w, null, now, 100);
  });
  const queries = plan(CONFIG);
  const ctx = { namespace: "bench", generation: 0, at: now, config: CONFIG };
  const fullRefreshMs = time(runs, () => {
    for (const q of queries) JSON.stringify(buildSnapshot(agg, q, ctx));
  });
  log(
    `  core ${c.items} items ${c.mode}: seal ${sealMs.toFixed(0)} ms (then ${sealedMB.toFixed(1)} MB in all), top 100 of all 5 windows ${top100AllWindowsMs.median.toFixed(1)} ms, ` +
      `full refresh (${queries.length} snapshots) ${fullRefreshMs.median.toFixed(1)} ms`,
  );
  return {
    ...c,
    skew: 1.0,
    eventsPerSec: summarise(rates),
    eventsPerCpuSec: summarise(cpuRates),
    ...memory,
    sealMs,
    sealedMB,
    top100AllWindowsMs,
    fullRefreshMs,
    snapshots: queries.length,
  };
}
