/**
 * Sharded ingest, the CPU side: what merging an ingest shard's delta costs the
 * namespace's object per event merged, against ingesting the same events the way the object takes
 * them without shards (one small batch per request), and what building the delta costs the shard.
 *
 * One case = one shard's delta over one refresh period: `events` events in batches of 1 to 10
 * (uniform), Zipf(1.0) items out of a universe of `items`, stamped over the period, one type. Each
 * repetition prepares two aggregators alike (capacity 5000, already holding the preceding period's
 * events, untimed), then:
 * - ingest path: `Aggregator.ingest(batch, now)` for every batch, as the object without shards does
 *   per request (the events freshly made, as JSON parsing would give them);
 * - shard side: the batches as the log rows the shard keeps (JSON text), parsed, added to a
 *   `DeltaBuilder` and built, as a pull does;
 * - the copy: `structuredClone(delta)`, V8's serialiser both ways, a stand-in for the RPC that
 *   carries the delta (shard and object together);
 * - merge path: `Aggregator.mergeDelta(copy, now)` on the other aggregator.
 * Times are the process's CPU time (user + system) over each timed part, summed over the
 * repetitions of a run and divided by the events: nanoseconds of CPU per event.
 */
import type { TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { DeltaBuilder, type ShardDelta } from "../../src/core/shard-delta";
import { rng } from "../../test/support/random";
import { draw, type Stream } from "./core-stream";
import { collect, median, nodeProcess, summarise, type Spread } from "./node";

export interface MergeCase {
  /** Events in the delta: what one shard accepted over one refresh period. */
  events: number;
  /** Distinct items in the universe the Zipf stream draws from. */
  items: number;
}

export interface MergeResult extends MergeCase {
  skew: number;
  capacity: number;
  /** The refresh period the events are stamped over, ms. */
  periodMs: number;
  /** Batch sizes drawn uniformly from this range (requests to the shard). */
  batchSizes: [number, number];
  requests: number;
  /** What the delta holds: (minute, type, item) groups, minutes, distinct items. */
  entries: number;
  minutes: number;
  distinctItems: number;
  /** Repetitions per run (each on fresh aggregators); runs after one warm-up. */
  repetitions: number;
  runs: number;
  /** CPU ns per event: the object ingesting the batches one by one. */
  ingestNsPerEvent: Spread;
  /** CPU ns per event: the object merging the delta (mergeDelta alone). */
  mergeNsPerEvent: Spread;
  /** Per run: merge over ingest (the share of the object's ingest CPU a merge still costs). */
  mergeOverIngest: Spread;
  /** CPU ns per event on the shard: DeltaBuilder.add over parsed events, and build(). */
  buildNsPerEvent: Spread;
  /** CPU ns per event on the shard: JSON.parse of its log rows. */
  parseNsPerEvent: Spread;
  /** CPU ns per event: structuredClone of the delta (the RPC's serialise + deserialise). */
  copyNsPerEvent: Spread;
  /** The merged aggregator's stats (events, weight, distinct items and actors, 1h) equal the
   * ingesting one's; and its top 100, compared only where the ingesting one's is exact (beyond
   * capacity a group is one weighted Space-Saving update, so evictions may differ within the bounds). */
  sameStats: boolean;
  sameTop: boolean | null;
}

const CAPACITY = 5000;
/** Tally's default refresh period (contract.ts): a shard holds this much between two pulls. */
const PERIOD_MS = 10_000;
const MIN_BATCH = 1;
const MAX_BATCH = 10;

const cpuMicros = (): number => {
  const u = nodeProcess.cpuUsage();
  return u.user + u.system;
};

/** Batch sizes 1..10 covering `events`, drawn once per case. */
function batchSizes(events: number, seed: number): number[] {
  const random = rng(seed);
  const sizes: number[] = [];
  for (let n = 0; n < events; ) {
    const size = Math.min(events - n, MIN_BATCH + Math.floor(random() * (MAX_BATCH - MIN_BATCH + 1)));
    sizes.push(size);
    n += size;
  }
  return sizes;
}

/** Fresh event objects for events [from, to) of the stream (fresh strings, like parsed JSON). */
function materialise(stream: Stream, from: number, to: number): TallyEvent[] {
  const out: TallyEvent[] = new Array(to - from);
  for (let i = from, j = 0; i < to; i++, j++) {
    out[j] = { item: `item-${stream.ranks[i]}`, type: "view", weight: 1, actor: `u${stream.actors[i]}`, ts: stream.ts[i]! };
  }
  return out;
}

function batchesOf(stream: Stream, from: number, sizes: readonly number[]): TallyEvent[][] {
  const out: TallyEvent[][] = [];
  let i = from;
  for (const size of sizes) {
    out.push(materialise(stream, i, i + size));
    i += size;
  }
  return out;
}

/** An aggregator holding the preceding period, as the namespace's object would before the merge. */
function prepared(stream: Stream, events: number, start: number): Aggregator {
  const agg = new Aggregator({ capacity: CAPACITY, types: ["view"] });
  agg.ingest(materialise(stream, 0, events), start);
  agg.advance(start);
  return agg;
}

/** Answers to compare over the last hour: the stats, and the top 100 with whether it is exact. */
function answers(agg: Aggregator, now: number): { stats: string; top: string; exact: boolean } {
  agg.advance(now);
  const top = agg.top("1h", null, now, 100);
  const { events, weight, uniqueItems, uniqueActors } = agg.stats("1h", now);
  return {
    stats: JSON.stringify({ events, weight, uniqueItems, uniqueActors }),
    top: JSON.stringify(top.items.map((i) => [i.item, i.score, i.error])),
    exact: top.exact,
  };
}

interface RunTotals {
  ingest: number;
  merge: number;
  build: number;
  parse: number;
  copy: number;
}

export function mergeCost(c: MergeCase, runs: number, log: (s: string) => void, minEventsPerRun = 50_000): MergeResult {
  // Two periods: the first is held already, the second is the delta (and the batches).
  const now = Date.now();
  const start = now - PERIOD_MS;
  const stream = draw({
    items: c.items,
    count: 2 * c.events,
    skew: 1.0,
    everyItem: false,
    order: "time",
    seed: c.items + c.events,
    end: now,
    spanMs: 2 * PERIOD_MS,
  });
  const sizes = batchSizes(c.events, c.events);
  const repetitions = Math.max(1, Math.ceil(minEventsPerRun / c.events));
  let shape = { entries: 0, minutes: 0, distinctItems: 0 };
  let sameStats = true;
  let sameTop: boolean | null = null;

  const once = (check: boolean): RunTotals => {
    const t: RunTotals = { ingest: 0, merge: 0, build: 0, parse: 0, copy: 0 };
    for (let rep = 0; rep < repetitions; rep++) {
      // Without shards: the object ingests each request's batch.
      const direct = prepared(stream, c.events, start);
      const batches = batchesOf(stream, c.events, sizes);
      collect();
      let t0 = cpuMicros();
      for (const batch of batches) direct.ingest(batch, now);
      t.ingest += cpuMicros() - t0;

      // With shards: the shard's log rows, parsed and pre-aggregated by a pull.
      const rows = batchesOf(stream, c.events, sizes).map((b) => JSON.stringify(b));
      collect();
      t0 = cpuMicros();
      const parsed = rows.map((r) => JSON.parse(r) as TallyEvent[]);
      t.parse += cpuMicros() - t0;
      t0 = cpuMicros();
      const builder = new DeltaBuilder(now);
      for (const events of parsed) builder.add(events);
      const delta = builder.build();
      t.build += cpuMicros() - t0;
      t0 = cpuMicros();
      const copy: ShardDelta = structuredClone(delta);
      t.copy += cpuMicros() - t0;

      // The namespace's object merges it.
      const merged = prepared(stream, c.events, start);
      collect();
      t0 = cpuMicros();
      merged.mergeDelta(copy, now);
      t.merge += cpuMicros() - t0;

      if (check && rep === 0) {
        const items = new Set<string>();
        for (const b of delta.buckets) for (const e of b.entries) items.add(e[1]);
        shape = { entries: delta.buckets.reduce((n, b) => n + b.entries.length, 0), minutes: delta.buckets.length, distinctItems: items.size };
        if (delta.events !== c.events || delta.future.length > 0) throw new Error(`delta holds ${delta.events} events (${delta.future.length} future), expected ${c.events}`);
        const [a, b] = [answers(direct, now), answers(merged, now)];
        sameStats = a.stats === b.stats;
        sameTop = a.exact && b.exact ? a.top === b.top : null;
        if (!sameStats || sameTop === false) log(`  merge ${c.events} events / ${c.items} items: WARNING the merged aggregator answers differently from the ingesting one: ${a.stats} vs ${b.stats}`);
      }
    }
    return t;
  };

  const perEvent = (micros: number) => (micros * 1000) / (c.events * repetitions);
  once(true); // warm-up, and the check
  const totals: RunTotals[] = [];
  for (let i = 1; i <= runs; i++) {
    const t = once(false);
    totals.push(t);
    log(
      `  merge ${c.events} events / ${c.items} items: run ${i}/${runs}: CPU per event: ingest ${perEvent(t.ingest).toFixed(0)} ns, ` +
        `merge ${perEvent(t.merge).toFixed(0)} ns (${((t.merge / t.ingest) * 100).toFixed(1)}% of ingest); shard: parse ${perEvent(t.parse).toFixed(0)} ns, ` +
        `build ${perEvent(t.build).toFixed(0)} ns; copy ${perEvent(t.copy).toFixed(0)} ns`,
    );
  }
  const of = (k: keyof RunTotals) => summarise(totals.map((t) => perEvent(t[k])));
  const result: MergeResult = {
    ...c,
    skew: 1.0,
    capacity: CAPACITY,
    periodMs: PERIOD_MS,
    batchSizes: [MIN_BATCH, MAX_BATCH],
    requests: sizes.length,
    ...shape,
    repetitions,
    runs,
    ingestNsPerEvent: of("ingest"),
    mergeNsPerEvent: of("merge"),
    mergeOverIngest: summarise(totals.map((t) => t.merge / t.ingest)),
    buildNsPerEvent: of("build"),
    parseNsPerEvent: of("parse"),
    copyNsPerEvent: of("copy"),
    sameStats,
    sameTop,
  };
  log(
    `  merge ${c.events} events / ${c.items} items: ${shape.entries} groups in ${shape.minutes} minute(s) (${shape.distinctItems} items, ${sizes.length} requests); ` +
      `median CPU per event: ingest ${result.ingestNsPerEvent.median.toFixed(0)} ns, merge ${result.mergeNsPerEvent.median.toFixed(0)} ns ` +
      `(${(median(totals.map((t) => t.merge / t.ingest)) * 100).toFixed(1)}%), build ${result.buildNsPerEvent.median.toFixed(0)} ns; stats ${sameStats ? "equal" : "DIFFER"}, top 100 ${sameTop === null ? "not exact (not compared)" : sameTop ? "equal" : "DIFFERS"}`,
  );
  return result;
}
