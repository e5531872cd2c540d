/**
 * The memory estimate, kind by kind, against real heap: each kind of state the namespace's
 * object holds is built alone in Node (node --expose-gc), and its live heap plus ArrayBuffers
 * after a forced GC, over a baseline taken just before, is set beside what the accounting says
 * (`Aggregator.memoryBytes`, `HeldAnswers.bytes`, `suppressionBytes`). The estimate should be
 * within ±25% of the measurement, or above it. Buckets and the item dictionary under a steady
 * catalogue and the worst accepted config are measured by core-memory.ts.
 *
 * - 200,000 undeclared type names: one event each, over the last hour.
 * - a future-stamped flood: 400,000 events 4 minutes ahead with distinct 200-byte names, held
 *   as the object holds them (in storage: memory keeps a count and the earliest time), and then
 *   the same events counted once due.
 * - the answers held: the object's answer budget filled with answers of ~200 KB.
 * - the suppression list at its limit: 10,000 items of 256 bytes.
 */
import type { SerialisedAnswer, TallyEvent } from "../../src/shared/contract";
import { MAX_SUPPRESSIONS } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { suppressionBytes } from "../../src/core/budget";
import { DUE_CHUNK, type PendingEvents } from "../../src/core/pending";
import { HeldAnswers } from "../../durable-objects/held-answers";
import { liveMemory } from "./node";

export interface KindResult {
  kind: string;
  /** What the accounting says the kind holds, MB. */
  estimateMB: number;
  /** Live heap + ArrayBuffers over the baseline, MB. */
  measuredMB: number;
}

const MB = 2 ** 20;
const NOW = Date.UTC(2026, 10, 21, 12, 0, 30);
const fresh = (s: string) => (" " + s).slice(1); // a new string, as JSON parsing gives one

/**
 * Runs `build`, keeping what it returns alive, and measures it against `estimate` of it. A first
 * run is thrown away, so that what V8 allocates once (compiled code, hidden classes, inline
 * caches) is not counted as state.
 */
function measure<T>(kind: string, build: () => T, estimate: (held: T) => number): KindResult {
  build();
  const base = liveMemory();
  const held = build();
  const after = liveMemory();
  const result = {
    kind,
    estimateMB: estimate(held) / MB,
    measuredMB: (after.heap + after.arrayBuffers - base.heap - base.arrayBuffers) / MB,
  };
  keep(held);
  return result;
}

let kept: unknown;
const keep = (value: unknown) => {
  kept = value; // alive until the next measurement replaces it
};

/** The object's pending events as memory sees them: a count and the earliest time (the events
 * themselves are rows of SQLite, durable-objects/pending-events.ts). */
class Stored implements PendingEvents {
  size = 0;
  nextDue = Number.POSITIVE_INFINITY;
  countedBefore = Number.NEGATIVE_INFINITY;
  hold(events: readonly TallyEvent[]): void {
    this.size += events.length;
    for (const e of events) this.nextDue = Math.min(this.nextDue, e.ts);
  }
  takeDue(): void {}
  all(): TallyEvent[] {
    return [];
  }
}

function* batches(n: number, event: (i: number) => TallyEvent): Iterable<TallyEvent[]> {
  for (let at = 0; at < n; at += DUE_CHUNK) yield Array.from({ length: Math.min(DUE_CHUNK, n - at) }, (_, i) => event(at + i));
}

const floodItem = (i: number) => fresh(`${i}`.padStart(12, "0") + "x".repeat(188));

export function memoryKinds(quick: boolean, log: (s: string) => void): KindResult[] {
  const results: KindResult[] = [];
  const types = quick ? 20_000 : 200_000;
  results.push(
    measure(
      `${types.toLocaleString("en")} undeclared type names`,
      () => {
        const agg = new Aggregator({ capacity: 5000, types: ["view"] });
        for (const batch of batches(types, (i) => ({ item: fresh(`item-${i % 1000}`), type: fresh(`t-${i}`), weight: 1, ts: NOW - 1 - ((i * 17) % 3_600_000) }))) agg.ingest(batch, NOW);
        agg.advance(NOW);
        agg.holdBudget();
        return agg;
      },
      (agg) => agg.memoryBytes(),
    ),
  );
  const flood = quick ? 40_000 : 400_000;
  results.push(
    measure(
      `a flood of ${flood.toLocaleString("en")} future-stamped events, pending`,
      () => {
        const agg = new Aggregator({ capacity: 5000, types: ["view"], pending: new Stored() });
        for (const batch of batches(flood, (i) => ({ item: floodItem(i), type: "view", weight: 1, ts: NOW + 4 * 60_000, actor: fresh(`a-${i}`) }))) agg.ingest(batch, NOW);
        return agg;
      },
      (agg) => agg.memoryBytes(),
    ),
  );
  results.push(
    measure(
      `the same flood, counted once due`,
      () => {
        const agg = new Aggregator({ capacity: 5000, types: ["view"] });
        const due = NOW + 4 * 60_000 + 1;
        for (const batch of batches(flood, (i) => ({ item: floodItem(i), type: "view", weight: 1, ts: due - 1, actor: fresh(`a-${i}`) }))) agg.ingest(batch, due);
        agg.advance(due);
        agg.holdBudget();
        return agg;
      },
      (agg) => agg.memoryBytes(),
    ),
  );
  results.push(
    measure(
      "answers held, to the object's answer budget",
      () => {
        const held = new HeldAnswers();
        const body = (i: number) => fresh(JSON.stringify({ i, items: Array.from({ length: 700 }, (_, k) => ({ item: `item-${k}-${"y".repeat(250)}`, score: k, error: 0 })) }));
        for (let i = 0; ; i++) {
          const answer: SerialisedAnswer = { body: body(i), computedAt: NOW };
          if (!held.hold(fresh(`trending:1h:top:type-${i}`), answer)) break;
        }
        return held;
      },
      (held) => held.bytes,
    ),
  );
  results.push(
    measure(
      `the suppression list at its limit (${MAX_SUPPRESSIONS.toLocaleString("en")} items of 256 bytes)`,
      () => {
        const list = new Map<string, number>();
        for (let i = 0; i < MAX_SUPPRESSIONS; i++) list.set(fresh(`${i}`.padStart(8, "0") + "z".repeat(248)), NOW);
        return list;
      },
      (list) => [...list.keys()].reduce((bytes, item) => bytes + suppressionBytes(item), 0),
    ),
  );
  for (const r of results) log(`memory by kind: ${r.kind}: estimate ${r.estimateMB.toFixed(2)} MB, measured ${r.measuredMB.toFixed(2)} MB`);
  keep(undefined);
  return results;
}

