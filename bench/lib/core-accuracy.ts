/**
 * Measurement 7: accuracy against an exact count. The same stream goes into the aggregator and
 * into exact per-item counts (typed arrays indexed by item rank); each window's answer is then
 * compared with the exact top over the very [from, to) range the answer reports.
 */
import { WINDOWS, type Window } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { batches, DAY_MS, draw } from "./core-stream";

export interface WindowAccuracy {
  window: Window;
  eventsInWindow: number;
  distinctInWindow: number;
  precisionAt10: number;
  precisionAt100: number;
  /** Largest |score - true| / true over the top 100 reported. */
  maxRelativeError: number;
  /** Every reported item's true score lay in [score - error, score]. */
  boundsHeld: boolean;
  exact: boolean;
}

export interface AccuracyResult {
  skew: number;
  items: number;
  events: number;
  distinctSeen: number;
  windows: WindowAccuracy[];
}

/**
 * Precision of the top k, tie-aware: a reported item counts as correct when its true score is at
 * least the true k-th score (any of the tied items is an equally right answer).
 */
function precision(reported: string[], truth: Float64Array, sortedDesc: Float64Array, k: number): number {
  const kth = sortedDesc[Math.min(k, sortedDesc.length) - 1] ?? 0;
  let hits = 0;
  for (const item of reported.slice(0, k)) if ((truth[rankOf(item)] ?? 0) >= kth && kth > 0) hits++;
  return hits / k;
}

const rankOf = (item: string): number => Number(item.slice(5)); // "item-123" -> 123

export function accuracy(items: number, events: number, skew: number, log: (s: string) => void): AccuracyResult {
  const now = Date.now();
  // Replayed live (time order, clock following the events, advance() per batch): the way a
  // namespace's summaries are built and sealed in service, trimming included.
  const stream = draw({ items, count: events, skew, everyItem: false, order: "time", seed: Math.round(skew * 1000), end: now, spanMs: 7 * DAY_MS });
  const { ranks, ts: times } = stream;
  const agg = new Aggregator({ capacity: 5000, types: ["view"] });
  for (const [batch, lastTs] of batches(stream)) {
    agg.ingest(batch, lastTs + 1);
    agg.advance(lastTs + 1);
  }
  agg.advance(now);

  const seen = new Uint8Array(items + 1);
  for (const r of ranks) seen[r] = 1;
  const distinctSeen = seen.reduce((a, b) => a + b, 0);

  const windows: WindowAccuracy[] = [];
  for (const window of WINDOWS) {
    const answer = agg.top(window, null, now, 100);
    const truth = new Float64Array(items + 1);
    let inWindow = 0;
    for (let i = 0; i < events; i++) {
      const ts = times[i]!;
      if (ts >= answer.from && ts < answer.to) {
        truth[ranks[i]!]! += 1;
        inWindow++;
      }
    }
    let distinct = 0;
    for (const t of truth) if (t > 0) distinct++;
    const sorted = truth.slice().sort().reverse();
    let maxRel = 0;
    let boundsHeld = true;
    for (const { item, score, error } of answer.items) {
      const t = truth[rankOf(item)] ?? 0;
      if (t > 0) maxRel = Math.max(maxRel, Math.abs(score - t) / t);
      else maxRel = Infinity;
      if (!(t >= score - error - 1e-9 && t <= score + 1e-9)) boundsHeld = false;
    }
    const reported = answer.items.map((i) => i.item);
    windows.push({
      window,
      eventsInWindow: inWindow,
      distinctInWindow: distinct,
      precisionAt10: precision(reported, truth, sorted, 10),
      precisionAt100: precision(reported, truth, sorted, 100),
      maxRelativeError: maxRel,
      boundsHeld,
      exact: answer.exact,
    });
  }
  const worst = (f: (w: WindowAccuracy) => number) => Math.min(...windows.map(f));
  log(
    `  accuracy s=${skew}: ${events.toLocaleString("en")} events, ${distinctSeen.toLocaleString("en")} distinct; ` +
      `worst P@10 ${worst((w) => w.precisionAt10)}, worst P@100 ${worst((w) => w.precisionAt100)}, ` +
      `max rel. error ${Math.max(...windows.map((w) => w.maxRelativeError)).toExponential(2)}, ` +
      `bounds held: ${windows.every((w) => w.boundsHeld)}`,
  );
  return { skew, items, events, distinctSeen, windows };
}
