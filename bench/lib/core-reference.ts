/**
 * A published reference beside measurement 6: the Top-K of `bloom-filters` (npm, about 1.4M
 * downloads a month; a Count-Min Sketch with a heap of the k best) and Tally's
 * own Space-Saving summary alone, fed the same stream as the core (the same generator, sizes and
 * seed), one `add` per event. Both keep one ranking over all time; the core keeps every window's
 * buckets, per-type summaries and HyperLogLogs besides, so the gap between the sketch alone and
 * the core is what the windows cost.
 */
import bloomFilters from "bloom-filters";
import { SpaceSaving } from "../../src/core/space-saving";
import { draw, DAY_MS } from "./core-stream";
import { nodeProcess, summarise, type Spread } from "./node";

// A CommonJS package: its named exports reach an ES module only through the default one.
const { TopK } = bloomFilters;

const TOPK_EVENTS = 500_000;

export interface ReferenceResult {
  items: number;
  events: number;
  /** Events the Top-K was fed (a prefix of the stream). */
  topkEvents: number;
  /** Events per CPU second of each structure, medians of the runs. */
  perCpuSecond: Record<"bloom-filters TopK (k=100)" | "Space-Saving alone (capacity 5000)", Spread>;
}

/** One structure's rate over the stream: `add` for every event, items materialised per batch of
 * 1000 as fresh strings (as the core benchmark does), only the adds timed. */
function rate(ranks: Int32Array, add: (item: string) => void): number {
  let micros = 0;
  const batch: string[] = new Array(1000);
  for (let i = 0; i < ranks.length; ) {
    const end = Math.min(ranks.length, i + 1000);
    let n = 0;
    for (let j = i; j < end; j++) batch[n++] = `item-${ranks[j]}`;
    const cpu0 = nodeProcess.cpuUsage();
    for (let j = 0; j < n; j++) add(batch[j]!);
    const cpu = nodeProcess.cpuUsage(cpu0);
    micros += cpu.user + cpu.system;
    i = end;
  }
  return ranks.length / (micros / 1e6);
}

export function reference(items: number, events: number, runs: number, log: (s: string) => void): ReferenceResult {
  const { ranks } = draw({ items, count: events, skew: 1.0, everyItem: true, order: "time", seed: items, end: Date.now(), spanMs: 7 * DAY_MS });
  // The Top-K takes ~25 µs per event: it gets the stream's first 500,000 events (its cost per
  // event hardly depends on how many distinct items it has seen: a fixed number of hashes per add).
  const prefix = ranks.subarray(0, Math.min(ranks.length, TOPK_EVENTS));
  const warmTopK = new TopK(100, 0.001, 0.99);
  const warmSketch = new SpaceSaving(5000);
  rate(ranks.subarray(0, 50_000), (item) => warmTopK.add(item)); // warm-up, not counted
  rate(ranks.subarray(0, 50_000), (item) => warmSketch.add(item, 1));
  const topk: number[] = [];
  const sketch: number[] = [];
  for (let run = 0; run < runs; run++) {
    const k = new TopK(100, 0.001, 0.99);
    topk.push(rate(prefix, (item) => k.add(item)));
    const s = new SpaceSaving(5000);
    sketch.push(rate(ranks, (item) => s.add(item, 1)));
  }
  const result: ReferenceResult = {
    items,
    events,
    topkEvents: prefix.length,
    perCpuSecond: { "bloom-filters TopK (k=100)": summarise(topk), "Space-Saving alone (capacity 5000)": summarise(sketch) },
  };
  log(`  reference ${items} items: bloom-filters TopK ${Math.round(result.perCpuSecond["bloom-filters TopK (k=100)"].median).toLocaleString("en")}, Space-Saving alone ${Math.round(result.perCpuSecond["Space-Saving alone (capacity 5000)"].median).toLocaleString("en")} events per CPU second`);
  return result;
}
