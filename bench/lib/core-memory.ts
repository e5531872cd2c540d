/**
 * Measurement 9: memory against the per-namespace budget. Two workloads, each fed
 * live: events stamped at increasing times, each ingest at its own `now`, followed by `advance`
 * and `holdBudget` as the refresh runs them. Memory is the JS heap plus ArrayBuffers after a
 * forced GC, over a baseline taken before the aggregator existed; item strings are built fresh for
 * every batch (as JSON parsing gives them), so what stays alive is the aggregator's own.
 *
 * - steady catalogue: N items, every one seen in every kept bucket of every tier (288 buckets),
 *   with no declared type, or two declared types and each item seen in both.
 * - worst accepted config: the largest capacity the config check accepts with 32 declared types
 *   (and with 1), every event a new 256-byte item, so every summary of every bucket is full of
 *   distinct longest items: the budget can then only hold by cutting. Also with every event from
 *   an actor of its own and a time zone with a 45-minute offset: every bucket's pair sample
 *   (rank=reach) fills with distinct pairs, and every local day kept (from the first day of the
 *   previous local month) is a bucket of its own, straddling two UTC days. And (v1.7) with 8
 *   multi-valued dimensions at the largest dimension capacity accepted beside the default capacity:
 *   every dimension summary of every bucket full of distinct 128-byte values and (value, item) pairs.
 */
import { MAX_DIMENSION_VALUES, MAX_VALUE_BYTES, type DimensionConfig, type TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { maxCapacityWithin } from "../../src/core/budget";
import { dimensionCounters } from "../../src/core/config";
import { MEMORY_BUDGET_BYTES } from "../../src/core/memory";
import { TIERS, bucketStart, oldestKept } from "../../src/core/tiers";
import { LocalCalendar } from "../../src/core/calendar";
import { spawnSync } from "node:child_process";
import { liveMemory, nodeProcess } from "./node";
import { widestDimensions } from "./core-refresh";

export interface MemoryResult {
  scenario: "steady catalogue" | "worst accepted config";
  /** Distinct items per bucket (steady), or the capacity (worst). */
  items: number;
  capacity: number;
  declaredTypes: number;
  itemBytes: number;
  /** Every event from an actor of its own (pair samples full), or none with an actor. */
  actors: boolean;
  /** The namespace's time zone (local days kept beside the tiers where it is not UTC). */
  timezone: string;
  /** (v1.7) The declared dimensions, all multi-valued, and the values the events carried. */
  dimensions?: { count: number; capacity: number; valuesPerEvent: number; valueBytes: number; eventsWithValues: number };
  events: number;
  /** Largest measured heap + ArrayBuffers over the samples taken during the fill, MB. */
  peakMB: number;
  /** Largest `memoryBytes()` seen during the fill (checked after every step), MB. */
  peakAccountedMB: number;
  /** Measured once every bucket is filled and sealed (after advance + holdBudget), MB. */
  settledMB: number;
  /** `memoryBytes()` at the same moment, MB. */
  settledAccountedMB: number;
  budgetMB: number;
  /** Buckets cut below what sealing keeps while holding the budget. */
  cuts: number;
  /** Events per second of the whole fill (ingest + advance + holdBudget), one core. */
  eventsPerSec: number;
}

const MB = 2 ** 20;
const BATCH = 1000;
/** Measured samples during a fill (each costs a full GC). */
const SAMPLES = 12;

/** Every kept bucket of every tier at time `end`, and every local day kept in `timezone`, as the
 * time an event in it is stamped. */
function stamps(end: number, timezone: string): number[] {
  const out = new Set<number>();
  const calendar = new LocalCalendar(timezone);
  if (timezone !== "UTC") {
    // As local-days.ts keeps them: from the first day of the previous local month.
    const kept = calendar.previous("thisMonth", end).from;
    for (const day of calendar.daysIn({ from: kept, to: end })) out.add(Math.min(day.from + Math.floor((day.to - day.from) / 2), end - 1));
  }
  for (const tier of TIERS) {
    for (let start = oldestKept(end, tier); start <= bucketStart(end, tier); start += tier.bucketMs) {
      // Mid-bucket, but never at or after `end` (the current bucket is partial).
      out.add(Math.min(start + Math.floor(tier.bucketMs / 2), end - 1));
    }
  }
  return [...out].sort((a, b) => a - b);
}

let held: Aggregator | undefined;

interface Fill {
  capacity: number;
  types: string[];
  timezone?: string;
  dimensions?: Record<string, DimensionConfig>;
  /** The events stamped at `ts`, produced lazily in batches. */
  eventsAt(ts: number): Iterable<TallyEvent[]>;
}

type Filled = Omit<MemoryResult, "scenario" | "items" | "itemBytes" | "declaredTypes" | "actors" | "timezone" | "dimensions">;

/**
 * One scenario's fill, its memory over the lower of two floors: live memory before the aggregator
 * existed, and again once it is dropped (in this frame, after `filled`'s has returned, so that no
 * register of it still holds the aggregator). A baseline may still include garbage of the scenario
 * before that a forced GC had not yet returned; without the second floor that showed as a
 * negative "settled".
 */
function fill(spec: Fill): Filled {
  const { peakBytes, settledBytes, baseBytes, ...rest } = filled(spec);
  held = undefined;
  const dropped = liveMemory();
  const floor = Math.min(baseBytes, dropped.heap + dropped.arrayBuffers);
  return { ...rest, peakMB: (peakBytes - floor) / MB, settledMB: (settledBytes - floor) / MB };
}

function filled(spec: Fill): Omit<Filled, "peakMB" | "settledMB"> & { peakBytes: number; settledBytes: number; baseBytes: number } {
  held = undefined;
  const base = liveMemory();
  const agg = new Aggregator({ capacity: spec.capacity, types: spec.types, timezone: spec.timezone, dimensions: spec.dimensions });
  held = agg;
  const end = Date.UTC(2026, 10, 21, 12, 0, 0) + 30_000;
  const times = stamps(end, agg.timezone);
  const every = Math.max(1, Math.floor(times.length / SAMPLES));
  let events = 0;
  let peak = 0;
  let peakAccounted = 0;
  let cuts = 0;
  let busyMs = 0;
  times.forEach((ts, i) => {
    const now = ts + 1;
    for (const batch of spec.eventsAt(ts)) {
      const t0 = performance.now();
      agg.ingest(batch, now);
      busyMs += performance.now() - t0;
      events += batch.length;
      peakAccounted = Math.max(peakAccounted, agg.memoryBytes());
    }
    const t0 = performance.now();
    agg.advance(now);
    agg.holdBudget();
    busyMs += performance.now() - t0;
    peakAccounted = Math.max(peakAccounted, agg.memoryBytes());
    if (i % every === every - 1 || i === times.length - 1) {
      const m = liveMemory();
      peak = Math.max(peak, m.heap + m.arrayBuffers);
    }
  });
  agg.advance(end);
  agg.holdBudget();
  cuts = agg.budgetCuts;
  const settled = liveMemory();
  return {
    capacity: spec.capacity,
    events,
    peakBytes: peak,
    peakAccountedMB: peakAccounted / MB,
    settledBytes: settled.heap + settled.arrayBuffers,
    baseBytes: base.heap + base.arrayBuffers,
    settledAccountedMB: agg.memoryBytes() / MB,
    budgetMB: agg.budgetBytes / MB,
    cuts,
    eventsPerSec: events / (busyMs / 1000),
  };
}

/** N items in every kept bucket; with 2 declared types each item comes once in each. */
export function steadyCatalogue(n: number, declaredTypes: 0 | 2, log: (s: string) => void): MemoryResult {
  const types = declaredTypes === 2 ? ["view", "like"] : [];
  const eventTypes = declaredTypes === 2 ? types : ["view"];
  const result = fill({
    capacity: 5000,
    types,
    *eventsAt(ts) {
      let batch: TallyEvent[] = [];
      for (let i = 0; i < n; i++) {
        for (const type of eventTypes) {
          batch.push({ item: `item-${i}`, type, weight: 1, ts });
          if (batch.length === BATCH) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
    },
  });
  const r: MemoryResult = { scenario: "steady catalogue", items: n, declaredTypes, itemBytes: `item-${n - 1}`.length, actors: false, timezone: "UTC", ...result };
  log(describe(r));
  return r;
}

/** What the worst accepted config adds besides its declared types. */
export interface WorstOptions {
  /** Every event from a new 64-byte actor id, so each bucket's pair sample fills with distinct pairs. */
  actors?: boolean;
  /** The namespace's time zone: where it is not UTC, the accepted capacity is the zoned one. */
  timezone?: string;
  capacityCap?: number;
  /** (v1.7) MAX_DIMENSIONS multi-valued dimensions at the largest capacity accepted beside
   * `capacityCap` (the default capacity, 5000, if none), each of a bucket's first events carrying
   * MAX_DIMENSION_VALUES new values of MAX_VALUE_BYTES in every one: enough events to fill each
   * dimension's summaries twice over with distinct longest values and (value, item) pairs. */
  dimensions?: boolean;
}

/**
 * The largest accepted capacity for `declaredTypes` (and the zone), each bucket fed `capacity`
 * new 256-byte items per declared type (so every typed summary fills and the all-types one overflows).
 */
export function worstAcceptedConfig(declaredTypes: number, log: (s: string) => void, options: WorstOptions = {}): MemoryResult {
  const timezone = options.timezone ?? "UTC";
  const zoned = timezone !== "UTC";
  const dimensions = options.dimensions ? widestDimensions({ capacity: options.capacityCap ?? 5000, types: declaredTypes, zoned, allMulti: true }) : undefined;
  const capacity = Math.min(options.capacityCap ?? Infinity, maxCapacityWithin(MEMORY_BUDGET_BYTES, declaredTypes, zoned, dimensionCounters(dimensions)));
  const types = Array.from({ length: declaredTypes }, (_, i) => `type-${i}`);
  const names = Object.keys(dimensions ?? {});
  const dimensionCapacity = Object.values(dimensions ?? {})[0]?.capacity ?? 0;
  const eventsWithValues = Math.ceil((2 * dimensionCapacity) / MAX_DIMENSION_VALUES);
  let next = 0;
  let nextValue = 0;
  const valuesOf = () => `[${Array.from({ length: MAX_DIMENSION_VALUES }, () => `"${String(nextValue++).padStart(MAX_VALUE_BYTES, "v")}"`).join(",")}]`;
  const result = fill({
    capacity,
    types,
    timezone,
    dimensions,
    *eventsAt(ts) {
      // Built as the JSON text of a request and parsed, as the Worker receives it: parsed strings
      // are flat, where padStart or concatenation would leave cons strings V8 stores differently.
      let batch: string[] = [];
      for (const type of types) {
        for (let i = 0; i < capacity; i++) {
          const actor = options.actors ? `,"actor":"${String(next).padStart(64, "a")}"` : "";
          const dims = i < eventsWithValues && names.length > 0 ? `,"dims":{${names.map((n) => `"${n}":${valuesOf()}`).join(",")}}` : "";
          batch.push(`{"item":"${String(next++).padStart(256, "x")}","type":"${type}","weight":1,"ts":${ts}${actor}${dims}}`);
          if (batch.length === BATCH) {
            yield JSON.parse(`[${batch.join(",")}]`) as TallyEvent[];
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield JSON.parse(`[${batch.join(",")}]`) as TallyEvent[];
    },
  });
  const r: MemoryResult = {
    scenario: "worst accepted config",
    items: capacity,
    declaredTypes,
    itemBytes: 256,
    actors: !!options.actors,
    timezone,
    ...(dimensions
      ? { dimensions: { count: names.length, capacity: dimensionCapacity, valuesPerEvent: names.length * MAX_DIMENSION_VALUES, valueBytes: MAX_VALUE_BYTES, eventsWithValues } }
      : {}),
    ...result,
  };
  log(describe(r));
  return r;
}

function describe(r: MemoryResult): string {
  const what =
    (r.scenario === "steady catalogue" ? `${r.items} items` : `capacity ${r.capacity}, 256-byte items`) +
    (r.actors ? ", an actor per event" : "") +
    (r.timezone !== "UTC" ? `, ${r.timezone}` : "") +
    (r.dimensions ? `, ${r.dimensions.count} dimensions of capacity ${r.dimensions.capacity}, ${r.dimensions.valuesPerEvent} values an event` : "");
  return (
    `  memory, ${r.scenario}, ${what}, ${r.declaredTypes} declared types: ${r.events.toLocaleString("en")} events, ` +
    `peak ${r.peakMB.toFixed(1)} MB (accounted ${r.peakAccountedMB.toFixed(1)}), settled ${r.settledMB.toFixed(1)} MB ` +
    `(accounted ${r.settledAccountedMB.toFixed(1)}), budget ${r.budgetMB} MB, ${r.cuts} cuts, ${Math.round(r.eventsPerSec).toLocaleString("en")} events/s`
  );
}

/** One memory scenario, as `npm run bench:core` runs it. */
export type Scenario =
  | { kind: "steady"; items: number; declaredTypes: 0 | 2 }
  | { kind: "worst"; declaredTypes: number; options?: WorstOptions };

export function runScenario(s: Scenario, log: (s: string) => void): MemoryResult {
  return s.kind === "steady" ? steadyCatalogue(s.items, s.declaredTypes, log) : worstAcceptedConfig(s.declaredTypes, log, s.options);
}

const RESULT = "memory-scenario-result ";

/**
 * Runs `s` in a Node process of its own (this one's flags, bench/core.ts --memory-scenario), so
 * that nothing of the scenario before is alive at its baseline: in one process, an optimised
 * frame's stale stack slot kept the previous scenario's aggregator alive through forced GCs, and
 * the next baseline stood above what that scenario then held (a negative "settled").
 */
export function inFreshProcess(s: Scenario, log: (s: string) => void): MemoryResult {
  const child = spawnSync(nodeProcess.execPath, [...nodeProcess.execArgv, "bench/core.ts", "--memory-scenario", JSON.stringify(s)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  const lines = (child.stdout ?? "").split("\n");
  const result = lines.find((l) => l.startsWith(RESULT));
  if (child.status !== 0 || result === undefined) throw new Error(`memory scenario ${JSON.stringify(s)} failed (exit ${child.status})`);
  for (const line of lines) if (line && !line.startsWith(RESULT)) log(line);
  return JSON.parse(result.slice(RESULT.length)) as MemoryResult;
}

/** The child's side of `inFreshProcess`. */
export function answerScenario(s: Scenario): void {
  const r = runScenario(s, (line) => console.log(line));
  console.log(RESULT + JSON.stringify(r));
}
