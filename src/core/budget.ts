/**
 * Holding a namespace's memory budget (docs/api.md, "Resource limits").
 *
 * Two halves. A config is refused when even its uncuttable worst case would not fit: each tier's
 * newest (live) bucket at capacity in every summary, with every counter a distinct item of the
 * longest length, plus every kept bucket's HyperLogLogs dense and its pair sample's fixed part
 * (`worstCaseBytes`). Everything
 * else is held at run time by `holdBudget`: sealed buckets are compacted, then the oldest ones are
 * cut to fewer counters. Cutting never hides a loss: the bucket's floor rises to the largest
 * dropped count, so windows that include it report that much more `error`, and `exact: false`.
 */
import { MAX_ITEM_BYTES, MAX_SUPPRESSIONS, MAX_VALUE_BYTES } from "../shared/contract";
import { SEALED_KEEP, type Bucket } from "./bucket";
import { LIVE_PAIR_BYTES, PAIR_SAMPLE_FIXED_BYTES } from "./pair-sample";
import { ANSWER_RESERVE_BYTES, MAP_ENTRY_BYTES, OBJECT_BYTES, SNAPSHOT_BUDGET_BYTES, TYPED_ARRAY_BYTES, stringBytes } from "./memory";
import { TIERS } from "./tiers";

/** A bucket as `holdBudget` sees it: the newest of its tier takes events and is cut last. */
export interface HeldBucket {
  bucket: Bucket;
  newest: boolean;
}

export interface BudgetOutcome {
  /** Estimated bytes held afterwards. */
  bytes: number;
  budgetBytes: number;
  /** Buckets compacted (past buckets a late event had thawed). */
  compacted: number;
  /** Buckets cut below what sealing keeps. */
  cut: number;
}

/** Counters each summary keeps, pass after pass, until memory fits. */
export const BUDGET_CUTS = [SEALED_KEEP, 100, 10, 0] as const;
/**
 * The share of the budget the accounting may reach: the estimate measured within a few percent
 * of V8's heap (BENCHMARKS.md, 9), and the rest is the margin for what it misses.
 */
export const HOLD_SHARE = 0.85;
/** Cutting aims this far below the budget, so that the next events do not cut again at once. */
const TARGET_SHARE = 0.75;

/** The accounted bytes at which a budget of `budgetBytes` is held. */
export function heldBytes(budgetBytes: number): number {
  return HOLD_SHARE * budgetBytes;
}

/**
 * Compacts every bucket but each tier's newest, then, while the estimate exceeds the budget, cuts
 * pair samples and then summaries to each of BUDGET_CUTS in turn, oldest buckets first (the oldest
 * half of each tier only serves `rank=rising`'s previous period), the newest buckets last of all.
 * Pair samples go first: a sample cut to fewer pairs only samples at a higher level, which
 * rank=reach shows in a wider `error`, while a cut summary loses items outright.
 */
export function holdBudget(held: readonly HeldBucket[], budgetBytes: number, measure: () => number): BudgetOutcome {
  let compacted = 0;
  for (const { bucket, newest } of held) if (!newest && bucket.compact()) compacted++;
  let bytes = measure();
  let cut = 0;
  if (bytes > heldBytes(budgetBytes)) {
    const target = TARGET_SHARE * budgetBytes;
    const byAge = (a: HeldBucket, b: HeldBucket) => a.bucket.start - b.bucket.start;
    const passes = [held.filter((h) => !h.newest).sort(byAge), held.filter((h) => h.newest).sort(byAge)];
    const cuts: ((bucket: Bucket, keep: number) => boolean)[] = [(b, keep) => b.cutPairsTo(keep), (b, keep) => b.cutTo(keep)];
    outer: for (const cutOne of cuts) {
      for (const pass of passes) {
        for (const keep of BUDGET_CUTS) {
          for (const { bucket } of pass) {
            if (bytes <= target) break outer;
            if (cutOne(bucket, keep)) {
              cut++;
              bytes = measure();
            }
          }
        }
      }
    }
  }
  return { bytes, budgetBytes, compacted, cut };
}

/** A live counter: id, count and error arrays (4 + 8 + 8), slot table (up to 16), heap (8). */
export const LIVE_COUNTER_BYTES = 44;
/** A distinct item at the longest: dictionary entry and slots (52) and its string (16 + 256). */
export const WORST_ITEM_BYTES = 52 + 16 + MAX_ITEM_BYTES;
/** Two HyperLogLogs (items, actors) at p = 14, dense. */
const BUCKET_SKETCH_BYTES = 2 * (OBJECT_BYTES + TYPED_ARRAY_BYTES + 2 ** 14);
/** A bucket's fixed part once cut to nothing: object, maps, totals of a few types, and its pair
 * sample's (a sample cut to nothing holds no pair, but keeps its arrays' headers). */
const BUCKET_FIXED_BYTES = 2048 + PAIR_SAMPLE_FIXED_BYTES;
/** Room for what ingest adds between two budget checks (1024 events, each in every tier): two
 * counters and a pair each (the pair's item is one of the counters'). */
export const INGEST_RESERVE_BYTES = 1024 * TIERS.length * (2 * (LIVE_COUNTER_BYTES + WORST_ITEM_BYTES) + LIVE_PAIR_BYTES);

const KEPT_BUCKETS = TIERS.reduce((n, t) => n + t.retain + 1, 0);

/** A suppressed item held in the object's list: its Map entry, its time and its string. */
export function suppressionBytes(item: string): number {
  return MAP_ENTRY_BYTES + 8 + stringBytes(item);
}

/** A suppressed item at the longest. */
export const SUPPRESSION_BYTES = suppressionBytes("x".repeat(MAX_ITEM_BYTES));

/** What the object always holds beside the aggregator, at most: the answers' reserve and the
 * suppression list. Answers beyond the reserve are held only while the budget has room. */
export const BESIDE_BYTES = ANSWER_RESERVE_BYTES + MAX_SUPPRESSIONS * SUPPRESSION_BYTES;

/**
 * The room for answers at a refresh: SNAPSHOT_BUDGET_BYTES, or what the budget leaves beside
 * everything else the object holds (`otherBytes`), but never less than the reserve.
 */
export function answerRoom(budgetBytes: number, otherBytes: number): number {
  return Math.min(SNAPSHOT_BUDGET_BYTES, Math.max(ANSWER_RESERVE_BYTES, heldBytes(budgetBytes) - otherBytes));
}

/** What cutting cannot free: every bucket's sketches and fixed part, the ingest reserve, and
 * what the object holds beside the aggregator (which counts against the same budget). */
const FIXED_BYTES = KEPT_BUCKETS * (BUCKET_SKETCH_BYTES + BUCKET_FIXED_BYTES) + INGEST_RESERVE_BYTES + BESIDE_BYTES;

/** A zoned namespace's local days (local-days.ts): from the previous local month's first day to
 * today, at most 31 + 31 of them, each with its hours beside the bucket's fixed part. */
const LOCAL_DAYS_KEPT = 63;
const ZONED_FIXED_BYTES = LOCAL_DAYS_KEPT * (BUCKET_SKETCH_BYTES + BUCKET_FIXED_BYTES + 1024);

/** Bytes of the live buckets at worst: every counter of every summary a distinct longest item, in
 * each tier's newest bucket and, for a zoned namespace, today's local day. Pair samples are not in
 * it: `holdBudget` cuts them before any summary, so their pairs are never what stops a config from
 * fitting (their fixed part is, in BUCKET_FIXED_BYTES). */
export function liveBytesBound(capacity: number, declaredTypes: number, zoned = false, dimensionCounters = 0): number {
  const live = TIERS.length + (zoned ? 1 : 0);
  return live * ((1 + declaredTypes) * capacity * (LIVE_COUNTER_BYTES + WORST_ITEM_BYTES) + dimensionCounters * WORST_DIMENSION_COUNTER_BYTES);
}

/** (v1.7) A dimension's counter at worst: a pair key of the longest value and item (segments.ts). */
const WORST_DIMENSION_COUNTER_BYTES = LIVE_COUNTER_BYTES + WORST_ITEM_BYTES + MAX_VALUE_BYTES;

function fixedBytes(zoned: boolean): number {
  return FIXED_BYTES + (zoned ? ZONED_FIXED_BYTES : 0);
}

/** The worst case a config can reach with every older bucket cut to nothing. */
export function worstCaseBytes(capacity: number, declaredTypes: number, zoned = false, dimensionCounters = 0): number {
  return fixedBytes(zoned) + liveBytesBound(capacity, declaredTypes, zoned, dimensionCounters);
}

/** True when a config's worst case can be held within `budgetBytes` (with the accounting's margin). */
export function fitsBudget(capacity: number, declaredTypes: number, budgetBytes: number, zoned = false, dimensionCounters = 0): boolean {
  return worstCaseBytes(capacity, declaredTypes, zoned, dimensionCounters) <= heldBytes(budgetBytes);
}

/** (v1.7) The most dimension counters a bucket's worst case fits beside `capacity` and this many declared types. */
export function maxDimensionCountersWithin(budgetBytes: number, capacity: number, declaredTypes: number, zoned = false): number {
  const perCounter = liveBytesBound(0, declaredTypes, zoned, 1);
  return Math.max(0, Math.floor((heldBytes(budgetBytes) - fixedBytes(zoned) - liveBytesBound(capacity, declaredTypes, zoned)) / perCounter));
}

/** The largest capacity whose worst case fits `budgetBytes` with this many declared types. */
export function maxCapacityWithin(budgetBytes: number, declaredTypes: number, zoned = false, dimensionCounters = 0): number {
  const perCounter = liveBytesBound(1, declaredTypes, zoned);
  const dims = liveBytesBound(0, declaredTypes, zoned, dimensionCounters);
  return Math.max(0, Math.floor((heldBytes(budgetBytes) - fixedBytes(zoned) - dims) / perCounter));
}
