/**
 * The aggregation core of one namespace: tiered rings of buckets, fed by validated events and
 * queried per window. Pure: no clock, no storage. Time is always passed in, so tests drive it.
 */
import type { RankedItem, TallyEvent, TypeTotals, Window } from "../shared/contract";
import { Bucket, SEALED_KEEP, type BucketState } from "./bucket";
import { ItemDictionary } from "./dictionary";
import { hash53 } from "./hash";
import { HyperLogLog } from "./hyperloglog";
import { heldBytes, holdBudget, type BudgetOutcome, type HeldBucket } from "./budget";
import { MEMORY_BUDGET_BYTES, OBJECT_BYTES } from "./memory";
import { merge, rankRising, rankTop } from "./ranking";
import {
  TIERS,
  bucketStart,
  oldestKept,
  previousRange,
  tierOf,
  windowRange,
  type Range,
  type Tier,
  type TierName,
} from "./tiers";

export interface AggregatorOptions {
  /** Counters per Space-Saving summary: exact while a bucket holds no more distinct items. */
  capacity: number;
  /** Declared types, each with its own per-bucket summary for per-type rankings. */
  types: Iterable<string>;
  /** Bytes the aggregator may hold (memory.ts); MEMORY_BUDGET_BYTES unless a test sets less. */
  budgetBytes?: number;
}

export interface RankingAnswer extends Range {
  items: RankedItem[];
  /** True when every listed item's error is 0. */
  exact: boolean;
}

export interface StatsAnswer extends Range {
  events: number;
  weight: number;
  uniqueItems: number;
  uniqueActors: number;
  byType: Record<string, TypeTotals>;
  series: ({ start: number } & TypeTotals)[];
}

/** A bucket's place in the checkpoint: which tier ring, and its serialised state. */
export interface BucketRecord {
  tier: TierName;
  state: BucketState;
}

export interface CheckpointDelta {
  /** Buckets changed since the last checkpoint. */
  changed: BucketRecord[];
  /** Buckets that expired since the last checkpoint. */
  expired: { tier: TierName; start: number }[];
}

/** A pending event: the object, its strings and the array slot (they are bounded by a 5 min lead). */
const PENDING_EVENT_BYTES = 200;
/** A ring's Map entry for one bucket. */
const RING_ENTRY_BYTES = 40;
/** What a live counter costs over a compact one: slot table, heap, wider arrays. */
const THAW_BYTES_PER_COUNTER = 40;

function thawBytes(bucket: Bucket): number {
  return bucket.counters * THAW_BYTES_PER_COUNTER;
}

/**
 * True when every listed score is exact. A list shorter than `limit` also claims that nothing else
 * scored, which a positive floor denies: an item cut from every bucket (budget.ts) is listed nowhere.
 */
function isExact(items: readonly RankedItem[], limit: number, floor: number): boolean {
  return items.every((i) => i.error === 0) && (items.length >= limit || floor === 0);
}

export class Aggregator {
  private readonly rings = new Map<TierName, Map<number, Bucket>>(TIERS.map((t) => [t.name, new Map()]));
  /** The same rings, in the order of TIERS, for the per-event loop. */
  private readonly ringList = TIERS.map((t) => this.rings.get(t.name)!);
  private expired: { tier: TierName; start: number }[] = [];
  /** Events stamped at or after the time they were accepted: counted once time reaches them, so
   * that a window ending at `to` never includes an event with `ts >= to` (API.md, "Windows"). */
  private pending: TallyEvent[] = [];
  private capacity: number;
  private declared: Set<string>;
  /** Every item held by any bucket, once (dictionary.ts). */
  private readonly dictionary = new ItemDictionary();
  readonly budgetBytes: number;
  private cuts = 0;
  /** The bucket each tier counted the last event in, and its start (see `count`). */
  private readonly lastStart: number[] = TIERS.map(() => NaN);
  private readonly lastBucket: (Bucket | undefined)[] = TIERS.map(() => undefined);

  constructor(options: AggregatorOptions) {
    this.capacity = options.capacity;
    this.declared = new Set(options.types);
    this.budgetBytes = options.budgetBytes ?? MEMORY_BUDGET_BYTES;
  }

  /** New buckets use the new capacity; buckets already held keep theirs (README, "Config"). */
  configure(options: AggregatorOptions): void {
    this.capacity = options.capacity;
    this.declared = new Set(options.types);
  }

  ingest(events: readonly TallyEvent[], now: number): void {
    const oldest = TIERS.map((tier) => oldestKept(now, tier));
    const current = TIERS.map((tier) => bucketStart(now, tier));
    let counted = 0;
    for (const event of events) {
      if (event.ts >= now) this.pending.push(event);
      else this.count(event, oldest, current);
      // Within a large call too: an event adds at most a few KB (budget.ts, `INGEST_RESERVE_BYTES`).
      if ((++counted & 1023) === 0) this.keepWithinBudget();
    }
    this.keepWithinBudget();
  }

  /** Estimated bytes held: buckets, the item dictionary and pending events (memory.ts). */
  memoryBytes(): number {
    let bytes = OBJECT_BYTES + this.dictionary.bytes() + this.pending.length * PENDING_EVENT_BYTES;
    for (const ring of this.ringList) for (const bucket of ring.values()) bytes += RING_ENTRY_BYTES + bucket.bytes();
    return bytes;
  }

  /**
   * Brings memory within the budget: compacts every bucket but each tier's newest, then cuts
   * summaries, oldest buckets first, to fewer counters (memory.ts, `holdBudget`). A cut raises the
   * bucket's floor, so answers that include it show the loss in `error` and `exact`. The refresh
   * calls it after `advance`; ingest calls it whenever the estimate exceeds the budget.
   */
  holdBudget(budgetBytes: number = this.budgetBytes): BudgetOutcome {
    const held: HeldBucket[] = [];
    for (const ring of this.ringList) {
      let newest = -Infinity;
      for (const start of ring.keys()) newest = Math.max(newest, start);
      for (const [start, bucket] of ring) held.push({ bucket, newest: start === newest });
    }
    const outcome = holdBudget(held, budgetBytes, () => this.memoryBytes());
    this.cuts += outcome.cut;
    return outcome;
  }

  /** Buckets cut below what sealing keeps to hold the budget, since this aggregator was made. */
  get budgetCuts(): number {
    return this.cuts;
  }

  /** The per-tier bucket cache of `count` is only valid while no ring changes. */
  private forgetLastBuckets(): void {
    this.lastStart.fill(NaN);
    this.lastBucket.fill(undefined);
  }

  private keepWithinBudget(): void {
    if (this.memoryBytes() > heldBytes(this.budgetBytes)) this.holdBudget();
  }

  /** Events accepted but not yet counted because their `ts` is still ahead. */
  get pendingEvents(): readonly TallyEvent[] {
    return this.pending;
  }

  /** Counts one event in every tier that keeps its time: `oldest[i]` and `current[i]` are the
   * starts of tier i's oldest kept bucket and of its current one. */
  private count(event: TallyEvent, oldest: readonly number[], current: readonly number[]): void {
    const itemHash = hash53(event.item);
    const actorHash = event.actor === undefined ? undefined : hash53(event.actor);
    // Held for the whole event: cutting a past bucket (below) or holding the budget may drop the
    // item's last other counter between two tiers, which would free the id mid-event.
    const itemId = this.dictionary.intern(event.item);
    this.dictionary.retain(itemId);
    for (let i = 0; i < TIERS.length; i++) {
      const tier = TIERS[i]!;
      const start = bucketStart(event.ts, tier);
      if (start < oldest[i]!) continue; // no window of this tier reaches that far back
      const ring = this.ringList[i]!;
      // Consecutive events mostly share their buckets: skip the ring lookup then.
      let bucket = this.lastStart[i] === start ? this.lastBucket[i] : ring.get(start);
      if (!bucket) {
        bucket = Bucket.empty(start, this.capacity, this.dictionary);
        ring.set(start, bucket);
      } else if (bucket.isCompact && this.memoryBytes() + thawBytes(bucket) > heldBytes(this.budgetBytes)) {
        // A late event thaws a sealed bucket back to ~40 bytes per counter: make room first.
        this.holdBudget();
      }
      this.lastStart[i] = start;
      this.lastBucket[i] = bucket;
      bucket.add(event, itemHash, actorHash, this.declared, itemId);
      if (start < current[i]!) bucket.seal(2 * SEALED_KEEP);
    }
    this.dictionary.release(itemId); // forgets it if no tier kept a bucket that old
  }

  /** Moves time to `now`: counts pending events that are due, seals past buckets, drops expired ones. */
  advance(now: number): void {
    if (this.pending.length > 0) {
      const due = this.pending.filter((e) => e.ts < now);
      if (due.length > 0) {
        this.pending = this.pending.filter((e) => e.ts >= now);
        this.ingest(due, now);
      }
    }
    for (const tier of TIERS) {
      const ring = this.rings.get(tier.name)!;
      const oldest = oldestKept(now, tier);
      for (const [start, bucket] of ring) {
        if (start < oldest) {
          ring.delete(start);
          bucket.release();
          this.expired.push({ tier: tier.name, start });
        } else if (start + tier.bucketMs <= now) {
          bucket.seal();
          bucket.compact();
        }
      }
    }
    this.forgetLastBuckets(); // after the loop: it may drop a bucket the due events were counted in
  }

  /** True while the longest window holds data or events are still due: the refresh loop runs then. */
  hasData(now: number): boolean {
    if (this.pending.length > 0) return true;
    const { from } = windowRange("30d", now);
    for (const start of this.rings.get(tierOf("30d").name)!.keys()) if (start >= from) return true;
    return false;
  }

  private bucketsIn(tier: Tier, range: Range): Bucket[] {
    const out: Bucket[] = [];
    for (const [start, bucket] of this.rings.get(tier.name)!) {
      if (start >= range.from && start < range.to) out.push(bucket);
    }
    return out.sort((a, b) => a.start - b.start);
  }

  private merged(window: Window, type: string | null, range: Range) {
    return merge(this.bucketsIn(tierOf(window), range).map((b) => b.partFor(type)));
  }

  /** rank=top: the `limit` highest scores of the window ending at `at`. */
  top(window: Window, type: string | null, at: number, limit: number): RankingAnswer {
    this.advance(at);
    const range = windowRange(window, at);
    const merged = this.merged(window, type, range);
    const items = rankTop(merged, limit);
    return { ...range, items, exact: isExact(items, limit, merged.floor) };
  }

  /** rank=rising: the largest growth against the preceding period of equal length. */
  rising(window: Window, type: string | null, at: number, limit: number): RankingAnswer {
    this.advance(at);
    const range = windowRange(window, at);
    const current = this.merged(window, type, range);
    const previous = this.merged(window, type, previousRange(window, at));
    const items = rankRising(current, previous, limit);
    return { ...range, items, exact: isExact(items, limit, current.floor + previous.floor) };
  }

  stats(window: Window, at: number): StatsAnswer {
    this.advance(at);
    const tier = tierOf(window);
    const range = windowRange(window, at);
    const buckets = this.bucketsIn(tier, range);
    const items = new HyperLogLog();
    const actors = new HyperLogLog();
    const byType: Record<string, TypeTotals> = {};
    let events = 0;
    let weight = 0;
    const series: StatsAnswer["series"] = [];
    const byStart = new Map(buckets.map((b) => [b.start, b]));
    for (let start = range.from; start < range.to; start += tier.bucketMs) {
      const bucket = byStart.get(start);
      const point = { start, events: 0, weight: 0 };
      if (bucket) {
        for (const [type, t] of bucket.totals) {
          const acc = (byType[type] ??= { events: 0, weight: 0 });
          acc.events += t.events;
          acc.weight += t.weight;
          point.events += t.events;
          point.weight += t.weight;
        }
        items.merge(bucket.items);
        actors.merge(bucket.actors);
      }
      events += point.events;
      weight += point.weight;
      series.push(point);
    }
    return {
      ...range,
      events,
      weight,
      uniqueItems: items.estimate(),
      uniqueActors: actors.estimate(),
      byType,
      series,
    };
  }

  /** What changed since the last call: written to storage by the caller, then forgotten here. */
  checkpoint(): CheckpointDelta {
    const changed: BucketRecord[] = [];
    for (const tier of TIERS) {
      for (const bucket of this.rings.get(tier.name)!.values()) {
        if (!bucket.dirty) continue;
        changed.push({ tier: tier.name, state: bucket.toJSON() });
        bucket.dirty = false;
      }
    }
    const expired = this.expired;
    this.expired = [];
    return { changed, expired };
  }

  /** Loads a checkpointed bucket (start-up). */
  restore(record: BucketRecord): void {
    const ring = this.rings.get(record.tier);
    if (!ring) return;
    this.forgetLastBuckets();
    ring.get(record.state.start)?.release();
    ring.set(record.state.start, Bucket.fromJSON(record.state, this.dictionary));
  }

  /** Loads the checkpointed pending events (start-up). */
  restorePending(events: readonly TallyEvent[]): void {
    this.pending.push(...events);
  }
}
