/**
 * Measurement 6c: segments in the core (`npm run bench:core -- --segments`).
 * - Ingest CPU per event with 0, 2 and 8 dimension values, at 1k and 1M distinct items, live.
 * - The two designs the choice was between, on the same stream of 2 values per event:
 *   (a) what the core does, one aggregator with a Space-Saving summary per dimension and bucket;
 *   (b) a derived object per segment, each an aggregator of its own that pulls the namespace's log
 *       (its JSON rows, parsed by each, as a shard's pull parses its rows) and counts the events of
 *       its value: the CPU for the `k` hottest segments only, beside (a)'s for every segment.
 */
import type { EventDims, TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { batches, draw, type Stream } from "./core-stream";
import { nodeProcess, summarise, type Spread } from "./node";

const CAPACITY = 5000;
const DIMENSIONS = { category: {}, country: {}, tag: { multi: true } };
/** Cardinalities: 20 categories, 200 countries, 5,000 tags (6 an event in the 8-value case). */
const CATEGORIES = 20;
const COUNTRIES = 200;
const TAGS = 5000;

/** An event's values, a deterministic function of its index: 0, 2 (category, country) or 8 (and 6 tags). */
export function dimsOf(i: number, values: 0 | 2 | 8): EventDims | undefined {
  if (values === 0) return undefined;
  const dims: EventDims = { category: [`c${(i * 7919) % CATEGORIES}`], country: [`k${(i * 104_729) % COUNTRIES}`] };
  if (values === 8) dims.tag = Array.from({ length: 6 }, (_, t) => `t${(i * 31 + t * 977) % TAGS}`);
  return dims;
}

const cpuMicros = () => {
  const { user, system } = nodeProcess.cpuUsage();
  return user + system;
};

/** The stream's batches with their dims, materialised before any is timed. */
function withDims(stream: Stream, values: 0 | 2 | 8): [TallyEvent[], number][] {
  const out: [TallyEvent[], number][] = [];
  let i = 0;
  for (const [events, lastTs] of batches(stream)) {
    for (const event of events) {
      const dims = dimsOf(i++, values);
      if (dims) event.dims = dims;
    }
    out.push([events, lastTs]);
  }
  return out;
}

export interface SegmentIngestResult {
  items: number;
  events: number;
  values: 0 | 2 | 8;
  cpuMicrosPerEvent: Spread;
}

/** Core ingest, live: CPU µs per event, median of `runs`. */
export function segmentIngest(items: number, events: number, values: 0 | 2 | 8, runs: number, log: (s: string) => void): SegmentIngestResult {
  const now = Date.now();
  const stream = draw({ items, count: events, skew: 1.0, everyItem: true, order: "time", seed: items, end: now, spanMs: 3_600_000 });
  const micros: number[] = [];
  for (let run = 0; run < runs; run++) {
    const batched = withDims(stream, values);
    const agg = new Aggregator({ capacity: CAPACITY, types: ["view"], dimensions: DIMENSIONS });
    let spent = 0;
    for (const [batch, lastTs] of batched) {
      const c0 = cpuMicros();
      agg.ingest(batch, lastTs + 1);
      agg.advance(lastTs + 1);
      spent += cpuMicros() - c0;
    }
    micros.push(spent / events);
  }
  const cpuMicrosPerEvent = summarise(micros);
  log(`  [6c] core ingest at ${items} items, ${values} values per event: ${cpuMicrosPerEvent.median.toFixed(2)} µs of CPU per event`);
  return { items, events, values, cpuMicrosPerEvent };
}

export interface DesignResult {
  items: number;
  events: number;
  /** (a): one aggregator with dimension summaries, every segment of every dimension answerable. */
  summariesMicrosPerEvent: Spread;
  /** (b): per derived object, parsing the log's rows and counting its value's events; by how many
   * segments are derived (the hottest first). */
  derived: { segments: number; microsPerEvent: Spread }[];
}

/**
 * Design (a) against (b) on one stream of 2 values per event. (b)'s derived objects are in one
 * process here, without the requests between them: its figures are a lower bound of what (b) costs.
 */
export function designs(items: number, events: number, runs: number, log: (s: string) => void): DesignResult {
  const now = Date.now();
  const stream = draw({ items, count: events, skew: 1.0, everyItem: true, order: "time", seed: items, end: now, spanMs: 3_600_000 });
  const summaries: number[] = [];
  const derivedRuns = new Map<number, number[]>();
  const counts = [1, 8, 20];
  for (let run = 0; run < runs; run++) {
    const batched = withDims(stream, 2);
    const agg = new Aggregator({ capacity: CAPACITY, types: ["view"], dimensions: DIMENSIONS });
    const c0 = cpuMicros();
    for (const [batch, lastTs] of batched) agg.ingest(batch, lastTs + 1);
    summaries.push((cpuMicros() - c0) / events);
    // The log as the namespace's object writes it: one JSON row per batch.
    const rows = batched.map(([batch]) => JSON.stringify(batch));
    for (const k of counts) {
      const values = Array.from({ length: k }, (_, v) => `c${v}`);
      const objects = values.map(() => new Aggregator({ capacity: CAPACITY, types: ["view"] }));
      const d0 = cpuMicros();
      values.forEach((value, v) => {
        // Each derived object pulls every row since its cursor and keeps its value's events.
        for (const row of rows) {
          const mine = (JSON.parse(row) as TallyEvent[]).filter((e) => e.dims?.category?.includes(value));
          if (mine.length > 0) objects[v]!.ingest(mine, now);
        }
      });
      (derivedRuns.get(k) ?? derivedRuns.set(k, []).get(k)!).push((cpuMicros() - d0) / events);
    }
  }
  const result: DesignResult = {
    items,
    events,
    summariesMicrosPerEvent: summarise(summaries),
    derived: counts.map((segments) => ({ segments, microsPerEvent: summarise(derivedRuns.get(segments)!) })),
  };
  log(
    `  [6c] designs at ${items} items: (a) summaries ${result.summariesMicrosPerEvent.median.toFixed(2)} µs per event for every segment; ` +
      result.derived.map((d) => `(b) ${d.segments} derived ${d.microsPerEvent.median.toFixed(2)} µs`).join(", "),
  );
  return result;
}
