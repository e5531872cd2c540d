/**
 * The aggregation core of one namespace: tiered rings of buckets, fed by validated events and
 * queried per window. Pure: no clock, no storage. Time is always passed in, so tests drive it.
 */
import {
  DEFAULT_DIMENSION_CAPACITY,
  DEFAULT_TIMEZONE,
  isCalendarWindow,
  type CalendarWindow,
  type Compare,
  type DimensionConfig,
  type DimensionValue,
  type Segment,
  type PreviousTotals,
  type RankedItem,
  type ReadWindow,
  type TallyEvent,
  type TypeTotals,
} from "../shared/contract";
import { Bucket, SEALED_KEEP, type BucketState } from "./bucket";
import { LocalCalendar } from "./calendar";
import { LOCAL_DAYS, LocalDay, LocalDays, rebuildDays, type LocalDayState } from "./local-days";
import { ItemDictionary } from "./dictionary";
import { hash53 } from "./hash";
import { HyperLogLog } from "./hyperloglog";
import { heldBytes, holdBudget, type BudgetOutcome, type HeldBucket } from "./budget";
import { MEMORY_BUDGET_BYTES, OBJECT_BYTES } from "./memory";
import { HeldInMemory, holdFrom, type PendingEvents } from "./pending";
import { isExact, merge, rankRising, rankTop, withPrevious, type Bounds, type Hidden, type Merged } from "./ranking";
import type { SummaryPart } from "./bucket";
import { rankReach, reachOver, type Reach } from "./reach";
import { SegmentKeys, SegmentMarks, boundIn, segmentPart, valuePart, type SegmentScope } from "./segments";
import { TypeNames, foldTypes } from "./type-names";
import type { ShardDelta } from "./shard-delta";
import {
  TIERS,
  bucketStart,
  comparedRange,
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
  /** Where future-stamped events wait (pending.ts): the object's SQLite, or memory in tests. */
  pending?: PendingEvents;
  /** The IANA time zone of calendar windows (default UTC). */
  timezone?: string;
  /** (v1.7) The declared dimensions of segments (segments.ts). */
  dimensions?: Record<string, DimensionConfig>;
  /** Bytes held beside the aggregator that count against the same budget (the object's answers
   * and suppressions, budget.ts `BESIDE_BYTES`); read often, so it must be cheap. */
  heldBeside?: () => number;
}

/** The period an answer was compared with, and whether it is the very period `compare` asks for
 * (false when it was widened to coarser buckets that hold it, or holds an approximate local day). */
export interface Compared extends Range {
  whole: boolean;
}

export interface RankingAnswer extends Range {
  items: RankedItem[];
  /** What no item absent from `items` may score above (the merge's floor). */
  floor: number;
  /** True when every listed item's error is 0 (with `compare`, its previousError too, over the
   * very period asked for). */
  exact: boolean;
  /** With `compare`: the range the items' previousScore was computed over. */
  compared?: Compared;
}

export interface StatsAnswer extends Range {
  events: number;
  weight: number;
  uniqueItems: number;
  uniqueActors: number;
  byType: Record<string, TypeTotals>;
  series: ({ start: number } & TypeTotals)[];
  /** With `compare`: the range compared with, and the totals over it. */
  compared?: Compared;
  /** For a calendar window: false when a local day of it was assembled,
   * after a change of time zone, from buckets that straddle its bounds (local-days.ts). */
  exact?: boolean;
  previous?: PreviousTotals;
}

/** (v1.7) A segment's stats: its totals are upper bounds, within `error` of the truth. */
export interface SegmentStatsAnswer extends Range {
  events: number;
  weight: number;
  error: TypeTotals;
  exact: boolean;
  uniqueItems: number;
  series: ({ start: number; error: TypeTotals } & TypeTotals)[];
}

/** (v1.7) A dimension's top values by weight. */
export interface BreakdownAnswer extends Range {
  values: DimensionValue[];
  exact: boolean;
  floor: number;
}

/** What a ranking counts: all types (null), one declared type, or (v1.7) one segment. */
export type Scope = string | null | Segment;

export type RecordTier = TierName | typeof LOCAL_DAYS;

/** A bucket's place in the checkpoint: which tier ring (or the local days), and its serialised
 * state. An older build skips records of a ring it does not know (`restore`). */
export type BucketRecord = { tier: TierName; state: BucketState } | { tier: typeof LOCAL_DAYS; state: LocalDayState };

/** What the last durable checkpoint lacks. Nothing in memory changes when it is taken: the
 * caller writes it, and calls `commit` only once the write is durable. */
export interface CheckpointDelta {
  /** Buckets changed since the last committed checkpoint. */
  changed: BucketRecord[];
  /** Buckets that expired since the last committed checkpoint. */
  expired: { tier: RecordTier; start: number }[];
  /** Every pending event stamped before this time is counted in `changed` buckets: its stored
   * row may go in the same write. */
  countedBefore: number;
  /** Marks this delta durable: call after the write committed, never before. */
  commit(): void;
}

/** A running period's ended finer buckets, derived into one (`Aggregator.partialOf`). */
interface Partial {
  start: number;
  end: number;
  version: number;
  bucket: Bucket | undefined;
}

/**
 * What answers a window at an instant: its range, the buckets holding its events, and how they map
 * onto the stats series and rank=hot's decay.
 */
interface WindowView extends Range {
  buckets: Bucket[];
  /** The series point a bucket adds to. */
  pointOf: (bucket: Bucket) => number;
  /** Where rank=hot decays a bucket from: its period's start (a local day's, for a calendar window). */
  decayFrom: (bucket: Bucket) => number;
  /** The series' point starts, in order; or, for a zoned today or yesterday, the series itself
   * (the local day's own hours). */
  points: number[] | ({ start: number } & TypeTotals)[];
  /** False when a bucket of it straddles its bounds (an approximate local day). */
  whole: boolean;
  /** Names its buckets and their decay: views with the same `source`, `from` and `to` at one
   * state merge the same way (see `sharing`). */
  source: string;
}

/** Merges kept by `sharing`: a window's current, previous and week-before periods, which its
 * rankings and their comparisons read in turn (snapshots.ts, `plan`, orders them so). */
const SHARED_MERGES = 3;
/** And at most these bytes of them. A merge is a window's worth of sums: at the widest accepted
 * config, the 1h window's 60 full minutes sum to about 25 MB. Beside a budget of 64 MB in an isolate
 * of 128 MB (memory.ts), a refresh may hold this much more than one answer's merge; a larger merge
 * is made for its answer alone, as without sharing. */
export const SHARED_BYTES = 16 * 2 ** 20;

/** Bytes a held merge keeps: its arrays, and its slot table (at least two 4-byte entries a slot). */
function mergeBytes(held: Merged | Reach): number {
  if ("sums" in held) return 3 * held.sums.ids.byteLength + held.sums.scores.byteLength + held.sums.errors.byteLength;
  return 3 * held.pairs.ids.byteLength + held.pairs.counts.byteLength;
}

/** A view's merges for a ranking of `scope` are known by this: names and values are any text, so last. */
function keyOf(view: WindowView, scope: Scope): string {
  const named = scope === null ? "*" : typeof scope === "string" ? `=${scope}` : `@${scope.dimension}\u0000${scope.value}`;
  return `${view.source}|${view.from}|${view.to}|${named}`;
}

/** A ring's Map entry for one bucket. */
const RING_ENTRY_BYTES = 40;
/** A local day beside its bucket: the ring entry, its range and its hours. */
const LOCAL_DAY_BYTES = RING_ENTRY_BYTES + 3 * OBJECT_BYTES + 50 * 8;
/** What a live counter costs over a compact one: slot table, heap, wider arrays. */
const THAW_BYTES_PER_COUNTER = 40;

function thawBytes(bucket: Bucket): number {
  return bucket.counters * THAW_BYTES_PER_COUNTER;
}

export class Aggregator {
  private readonly rings = new Map<TierName, Map<number, Bucket>>(TIERS.map((t) => [t.name, new Map()]));
  /** The same rings, in the order of TIERS, for the per-event loop. */
  private readonly ringList = TIERS.map((t) => this.rings.get(t.name)!);
  private expired: { tier: RecordTier; start: number }[] = [];
  /** Events stamped at or after the time they were accepted: counted once time reaches them, so
   * that a window ending at `to` never includes an event with `ts >= to` (docs/api.md, "Windows").
   * Held outside the aggregator, at no memory cost per event (pending.ts). */
  readonly pending: PendingEvents;
  /** The time of the last advance(): queries answer only up to it. */
  private advancedTo = 0;
  private capacity: number;
  private declared: Set<string>;
  /** The type names counted by name; the others fold into OTHER_TYPES (type-names.ts). */
  private readonly typeNames: TypeNames;
  /** Suppressed items: counted like any other, listed by no ranking (see `hide`). */
  private hidden: Hidden = new Set<string>();
  /** Every item held by any bucket, once (dictionary.ts). */
  private readonly dictionary = new ItemDictionary();
  readonly budgetBytes: number;
  private readonly heldBeside: () => number;
  private cuts = 0;
  /** The bucket each tier counted the last event in (or found none at), and its start (see `count`). */
  private readonly lastStart: number[] = TIERS.map(() => NaN);
  private readonly lastBucket: (Bucket | undefined)[] = TIERS.map(() => undefined);
  /** Per tier, the start of its first period not yet derived from the finer tier's buckets (see
   * `rollUp`); -Infinity until the first roll-up, which derives every ended period still missing. */
  private readonly rolledUpTo: number[] = TIERS.map(() => -Infinity);
  /** Per tier, the ended finer buckets of its running period merged into one (see `partialOf`). */
  private readonly partials: (Partial | undefined)[] = TIERS.map(() => undefined);
  /** Bumped by every change to a bucket of an ended period (a late event, a cut, a restore, a
   * config change), after which no partial is reused. */
  private pastVersion = 0;
  /** Calendar periods in the namespace's time zone (calendar.ts). */
  private calendar: LocalCalendar;
  /** A zoned namespace's local days (local-days.ts); none in UTC, whose days are the day tier's. */
  private localDays: LocalDays | undefined;
  /** The oldest local day kept at the last `prepare`; +Infinity in UTC, so that the per-event
   * test in `count` skips the local days at once. */
  private localFrom = Infinity;
  /** True until the local days are restored or assembled from the tiers (after a change of zone,
   * or at start-up without a checkpointed day of this zone). */
  private rebuildDue = false;
  /** True once a restored local day was of another zone: the days are assembled again then. */
  private staleDays = false;
  /** Merges shared by the answers computed within `sharing`, by view and type. */
  private shared: Map<string, Merged | Reach> | undefined;
  /** The bytes `shared` holds (see SHARED_BYTES), and the cap of the running `sharing`. */
  private sharedHeld = 0;
  private sharedCap = SHARED_BYTES;
  /** Segment keys (values, and value-and-item pairs) held by any bucket's dimensions, once. */
  private readonly keys = new SegmentKeys(this.dictionary);
  /** The values of the event being counted (see `marksOf`). */
  private readonly marks = new SegmentMarks();
  /** The declared dimensions' capacities, by name. */
  private dimensions = new Map<string, number>();
  /** What derives and restores buckets' dimensions. */
  private readonly segments: SegmentScope = {
    keys: this.keys,
    capacityOf: (dimension) => this.dimensions.get(dimension) ?? DEFAULT_DIMENSION_CAPACITY,
  };

  constructor(options: AggregatorOptions) {
    this.capacity = options.capacity;
    this.declared = new Set(options.types);
    this.typeNames = new TypeNames(this.declared);
    this.dimensions = capacitiesOf(options.dimensions);
    this.budgetBytes = options.budgetBytes ?? MEMORY_BUDGET_BYTES;
    this.pending = options.pending ?? new HeldInMemory();
    this.heldBeside = options.heldBeside ?? (() => 0);
    this.calendar = new LocalCalendar(options.timezone ?? DEFAULT_TIMEZONE);
    this.zone(this.calendar.zone);
  }

  /** Keeps local days for a zone other than UTC, assembled from the tiers at the next `prepare`. */
  private zone(zone: string): void {
    this.localDays?.clear();
    this.calendar = new LocalCalendar(zone);
    this.localDays = zone === DEFAULT_TIMEZONE ? undefined : new LocalDays(this.calendar, (start) => this.expired.push({ tier: LOCAL_DAYS, start }));
    this.rebuildDue = this.localDays !== undefined;
  }

  /** The namespace's time zone. */
  get timezone(): string {
    return this.calendar.zone;
  }

  /** The start of the local day holding `at`: calendar answers change when it does. */
  dayStart(at: number): number {
    return this.calendar.startOfDay(at);
  }

  /** New buckets use the new capacity; buckets already held keep theirs (README, "Config"). */
  configure(options: AggregatorOptions): void {
    this.pastVersion += 1;
    this.capacity = options.capacity;
    this.declared = new Set(options.types);
    this.typeNames.configure(this.declared);
    this.dimensions = capacitiesOf(options.dimensions);
    // A new zone takes effect for every window at once: its local days are assembled from the
    // tiers at the next `prepare`, exactly where their buckets allow (docs/api.md, "Calendar windows").
    const zone = options.timezone ?? DEFAULT_TIMEZONE;
    if (zone !== this.calendar.zone) this.zone(zone);
  }

  /**
   * Per call that counts events at `now`: each tier's oldest kept and current bucket starts, and the
   * local days brought up to date first (so that no event is counted into a day about to be rebuilt).
   */
  private prepare(now: number): { oldest: number[]; current: number[] } {
    this.rollUp(now);
    if (this.rebuildDue) this.rebuildLocalDays(now);
    this.localFrom = this.localDays ? this.localDays.keptFrom(now) : Infinity;
    return { oldest: TIERS.map((tier) => oldestKept(now, tier)), current: TIERS.map((tier) => bucketStart(now, tier)) };
  }

  /** Counts the events stamped before `now` and holds the others pending (pending.ts). */
  ingest(events: readonly TallyEvent[], now: number): void {
    const { oldest, current } = this.prepare(now);
    const from = holdFrom(this.pending, now);
    let ahead: TallyEvent[] | undefined;
    let counted = 0;
    for (const event of events) {
      if (event.ts >= from) {
        (ahead ??= []).push(event);
        continue;
      }
      // Within a large call too: an event adds at most a few KB (budget.ts, `INGEST_RESERVE_BYTES`),
      // and each of its dimension values about as much again.
      counted += this.count(event, oldest, current);
      if (counted >= 1024) {
        counted = 0;
        this.keepWithinBudget();
      }
    }
    if (ahead) this.pending.hold(ahead);
    this.keepWithinBudget();
  }

  /** Estimated bytes held: buckets, the item dictionary, and what is held beside (memory.ts).
   * Pending events cost nothing here: they are held outside (pending.ts). */
  memoryBytes(): number {
    let bytes = OBJECT_BYTES + this.dictionary.bytes() + this.keys.bytes() + this.heldBeside();
    for (const partial of this.partials) if (partial?.bucket) bytes += partial.bucket.bytes();
    for (const ring of this.ringList) for (const bucket of ring.values()) bytes += RING_ENTRY_BYTES + bucket.bytes();
    if (this.localDays) for (const day of this.localDays.days.values()) bytes += LOCAL_DAY_BYTES + day.bucket.bytes();
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
    if (this.localDays) {
      const today = Math.max(-Infinity, ...this.localDays.days.keys());
      for (const [start, day] of this.localDays.days) held.push({ bucket: day.bucket, newest: start === today });
    }
    const outcome = holdBudget(held, budgetBytes, () => this.memoryBytes());
    this.cuts += outcome.cut;
    if (outcome.cut > 0) this.pastVersion += 1;
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

  /**
   * Merges what an ingest shard accepted (shard-delta.ts) as if its events were ingested now:
   * each group is one weighted update of the buckets its minute belongs to, and the events still
   * ahead of `now` are held pending like any others.
   */
  mergeDelta(delta: ShardDelta, now: number): void {
    const { oldest, current } = this.prepare(now);
    let counted = 0;
    for (const minute of delta.buckets) {
      for (const [type, item, events, weight, dims] of minute.entries) {
        counted += this.count(dims === undefined ? { item, type, weight, ts: minute.start } : { item, type, weight, ts: minute.start, dims }, oldest, current, events);
        if (counted >= 1024) {
          counted = 0;
          this.keepWithinBudget();
        }
      }
      const buckets: Bucket[] = [];
      let finest = true;
      for (let i = 0; i < TIERS.length; i++) {
        const start = bucketStart(minute.start, TIERS[i]!);
        if (start < oldest[i]!) continue;
        const bucket = this.bucketFor(i, start, finest);
        finest = false;
        if (bucket === undefined) continue;
        bucket.addActors(minute.actors);
        buckets.push(bucket);
      }
      const day = minute.start >= this.localFrom ? this.localDayOf(minute.start) : undefined;
      if (day) {
        day.bucket.addActors(minute.actors);
        buckets.push(day.bucket);
      }
      // The groups were counted without actors: their distinct pairs go to the same buckets.
      for (const [entry, actorHash] of minute.pairs) {
        const [type, item] = minute.entries[entry]!;
        const itemHash = hash53(item);
        const itemId = this.dictionary.intern(item, itemHash);
        this.dictionary.retain(itemId);
        const name = this.typeNames.nameOf(type);
        for (const bucket of buckets) bucket.addPair(itemHash, actorHash, itemId, name, this.declared);
        this.dictionary.release(itemId);
      }
    }
    this.pastVersion += 1; // a delta's minutes may be past ones
    this.ingest(delta.future, now);
  }

  /**
   * Counts one event once, in the finest tier that keeps its time (the minute, but for a late
   * event), and in a coarser tier only where that tier's period no longer comes from the finer
   * buckets (`bucketFor`): a period still running is derived from them when it ends (`rollUp`).
   * `oldest[i]` and `current[i]` are the starts of tier i's oldest kept bucket and of its current
   * one. With `events` > 1, `event` is a shard's group of that many events and their summed
   * weight (`mergeDelta`). Returns what it added, in events' worth of counters: 1, plus one per
   * dimension value.
   */
  private count(event: TallyEvent, oldest: readonly number[], current: readonly number[], events = 1): number {
    const itemHash = hash53(event.item);
    const actorHash = event.actor === undefined ? undefined : hash53(event.actor);
    // Held for the whole event: cutting a past bucket (below) or holding the budget may drop the
    // item's last other counter between two tiers, which would free the id mid-event.
    const itemId = this.dictionary.intern(event.item, itemHash);
    this.dictionary.retain(itemId);
    const type = this.typeNames.nameOf(event.type);
    const marks = event.dims === undefined ? undefined : this.marksOf(event, itemId, itemHash);
    let finest = true;
    for (let i = 0; i < TIERS.length; i++) {
      const start = bucketStart(event.ts, TIERS[i]!);
      if (start < oldest[i]!) continue; // no window of this tier reaches that far back
      const bucket = this.bucketFor(i, start, finest);
      finest = false;
      if (bucket === undefined) continue;
      bucket.add(event, itemHash, actorHash, this.declared, itemId, events, type);
      if (marks !== undefined) bucket.addSegments(marks, event.weight, events, this.keys);
      if (start < current[i]!) {
        // A backfill between two refreshes would fill every past bucket to capacity: cut one that
        // overflowed twice over, but only once its coarser period is derived (merge before the cut).
        if (this.isRolledUp(i, start)) bucket.seal(2 * SEALED_KEEP);
        this.pastVersion += 1;
      }
    }
    if (event.ts >= this.localFrom) {
      const day = this.localDayOf(event.ts);
      if (day) {
        day.bucket.add(event, itemHash, actorHash, this.declared, itemId, events, type);
        if (marks !== undefined) day.bucket.addSegments(marks, event.weight, events, this.keys);
        day.addToHour(event.ts, events, event.weight);
        if (day.range.to <= current[0]!) day.bucket.seal(2 * SEALED_KEEP); // a backfill, as above
      }
    }
    this.dictionary.release(itemId); // forgets it if no tier kept a bucket that old
    if (marks === undefined) return 1;
    for (let i = 0; i < marks.size; i++) {
      this.keys.release(marks.valueIds[i]!);
      this.keys.release(marks.pairIds[i]!);
    }
    return 1 + marks.size;
  }

  /**
   * An event's values of declared dimensions, each value and its pair with the item interned once
   * and held for the whole event (as the item is in `count`). A dimension no longer declared is
   * passed over: segments count events accepted while their dimension is declared (docs/api.md).
   */
  private marksOf(event: TallyEvent, itemId: number, itemHash: number): SegmentMarks | undefined {
    const { marks, keys } = this;
    const dims = event.dims!;
    marks.size = 0;
    for (const dimension in dims) {
      const capacity = this.dimensions.get(dimension);
      if (capacity === undefined) continue;
      for (const value of dims[dimension]!) {
        const valueHash = hash53(value);
        const valueId = keys.intern(value, valueHash);
        keys.retain(valueId);
        const pairId = keys.internPair(valueId, valueHash, itemId, itemHash);
        keys.retain(pairId);
        marks.push(dimension, capacity, valueId, pairId);
      }
    }
    return marks.size === 0 ? undefined : marks;
  }

  /** The local day holding `ts`, made if missing; none in UTC. */
  private localDayOf(ts: number): LocalDay | undefined {
    return this.localDays?.dayFor(ts, (range) => Bucket.empty(range.from, this.capacity, this.dictionary));
  }

  /**
   * Assembles the local days still kept from the tiers' buckets (local-days.ts, `rebuildDays`):
   * after a change of time zone, or at start-up when no day of this zone was checkpointed.
   */
  private rebuildLocalDays(now: number): void {
    const localDays = this.localDays!;
    this.rebuildDue = false;
    localDays.clear();
    const days = this.calendar.daysIn({ from: localDays.keptFrom(now), to: now });
    const rings = TIERS.map((tier, i) => ({ bucketMs: tier.bucketMs, buckets: this.ringList[i]! }));
    const derive = (start: number, parts: Bucket[]) => Bucket.derive(start, parts, this.capacity, this.declared, this.dictionary, this.segments);
    for (const day of rebuildDays(days, rings, derive)) {
      localDays.put(day);
      if (day.range.to <= now) day.bucket.seal();
    }
    this.pastVersion += 1;
  }

  /**
   * Where an event at tier i's `start` is counted: the finest tier keeping its time always counts
   * it; a coarser one only once its period was derived (a late event, counted in the derived bucket
   * too) or where a bucket of a running period exists (counted directly by an older build, or an
   * import of its export): such a bucket is whole, and is never derived again.
   */
  private bucketFor(i: number, start: number, finest: boolean): Bucket | undefined {
    if (finest || start < this.rolledUpTo[i]!) return this.bucketAt(i, start);
    if (this.lastStart[i] === start) return this.lastBucket[i];
    if (this.ringList[i]!.has(start)) return this.bucketAt(i, start);
    this.lastStart[i] = start;
    this.lastBucket[i] = undefined;
    return undefined;
  }

  /**
   * Derives every coarse bucket whose period ended by `now` from the finer buckets of that period
   * (`Bucket.derive`), the finest tier first, so that an hour is whole before its quarter is
   * derived. This is how each event is counted once instead of once per tier: the coarse tiers cost
   * one merge per period instead of one update per event. Runs before anything is counted or
   * expired, so a finer bucket never expires before its period was derived (each tier keeps its
   * buckets longer than the next one's period lasts: tiers.ts).
   */
  private rollUp(now: number): void {
    // Every coarse period ends on an hour boundary: nothing ended since the last call in this hour.
    if (bucketStart(now, TIERS[1]!) <= this.rolledUpTo[1]!) return;
    for (let i = 1; i < TIERS.length; i++) {
      const tier = TIERS[i]!;
      const end = bucketStart(now, tier);
      const from = Math.max(this.rolledUpTo[i]!, oldestKept(now, tier));
      if (end <= this.rolledUpTo[i]!) continue;
      const ring = this.ringList[i]!;
      const periods = new Map<number, Bucket[]>();
      for (const [start, bucket] of this.ringList[i - 1]!) {
        const period = bucketStart(start, tier);
        if (period < from || period >= end || ring.has(period)) continue;
        const parts = periods.get(period);
        if (parts) parts.push(bucket);
        else periods.set(period, [bucket]);
      }
      for (const [period, parts] of periods) {
        parts.sort((a, b) => a.start - b.start);
        const bucket = Bucket.derive(period, parts, this.capacity, this.declared, this.dictionary, this.segments);
        bucket.seal();
        ring.set(period, bucket);
      }
      this.rolledUpTo[i] = end;
    }
    this.forgetLastBuckets();
  }

  /**
   * Whether tier i's bucket at `start` may be cut: once the coarser period it belongs to was derived
   * (the coarsest tier's always). Merged before the cut, that period carries one floor of its own
   * instead of the sum of its parts' cut floors.
   */
  private isRolledUp(i: number, start: number): boolean {
    const coarser = TIERS[i + 1];
    return coarser === undefined || bucketStart(start, coarser) < this.rolledUpTo[i + 1]!;
  }

  /** Tier i's bucket starting at `start`, made if missing and thawable within the budget. */
  private bucketAt(i: number, start: number): Bucket {
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
    return bucket;
  }

  /**
   * Moves time to `now`: counts pending events that are due, seals past buckets, drops expired
   * ones. The owner calls it once per refresh (and before an answer computed on demand); the
   * queries never do, so that asking changes nothing.
   */
  advance(now: number): void {
    if (now < this.advancedTo) return; // time never moves back; a late caller changes nothing
    this.advancedTo = now;
    const { oldest, current } = this.prepare(now);
    if (this.pending.nextDue < now) {
      this.pending.takeDue(now, (due) => {
        for (const event of due) this.count(event, oldest, current);
        this.keepWithinBudget(); // a chunk is at most DUE_CHUNK events (pending.ts)
      });
    }
    TIERS.forEach((tier, i) => {
      const ring = this.ringList[i]!;
      const oldest = oldestKept(now, tier);
      for (const [start, bucket] of ring) {
        if (start < oldest) {
          ring.delete(start);
          bucket.release();
          this.expired.push({ tier: tier.name, start });
        } else if (start + tier.bucketMs <= now) {
          if (this.isRolledUp(i, start) && bucket.seal()) this.pastVersion += 1;
          bucket.compact();
        }
      }
    });
    if (this.localDays) {
      this.localDays.expire(now);
      for (const day of this.localDays.days.values()) {
        if (day.range.to > now) continue;
        day.bucket.seal();
        day.bucket.compact();
      }
    }
    this.forgetLastBuckets(); // after the loop: it may drop a bucket the due events were counted in
    this.keepWithinBudget(); // derived buckets are new
    this.typeNames.retain(this.allBuckets());
  }

  private *allBuckets(): Iterable<Bucket> {
    for (const ring of this.ringList) yield* ring.values();
    if (this.localDays) for (const day of this.localDays.days.values()) yield day.bucket;
  }

  /** True while the longest window holds data or events are still due: the refresh loop runs then. */
  hasData(now: number): boolean {
    if (this.pending.size > 0) return true;
    const { from } = windowRange("30d", now);
    for (const ring of this.ringList) for (const start of ring.keys()) if (start >= from) return true;
    return false;
  }

  /**
   * The buckets holding a range's events, in time order: the tier's own buckets where its periods
   * were derived (or counted directly), and for a period still running the finer tier's, down to
   * the minutes of the running hour (`count`). `range.from` is a boundary of `tier`.
   */
  private bucketsIn(tier: Tier, range: Range): Bucket[] {
    const out: Bucket[] = [];
    this.cover(TIERS.indexOf(tier), range, out);
    return out;
  }

  private cover(i: number, range: Range, out: Bucket[]): void {
    const tier = TIERS[i]!;
    const ring = this.ringList[i]!;
    for (let start = range.from; start < range.to; start += tier.bucketMs) {
      const bucket = ring.get(start);
      if (bucket) out.push(bucket);
      else if (i > 0 && start >= this.rolledUpTo[i]!) {
        const end = Math.min(start + tier.bucketMs, range.to);
        // The running period: its ended finer periods merged once, then its running finer period.
        const split = start === bucketStart(this.advancedTo, tier) ? Math.min(end, bucketStart(this.advancedTo, TIERS[i - 1]!)) : start;
        const partial = split > start ? this.partialOf(i, start, split) : undefined;
        if (partial) out.push(partial);
        this.cover(i - 1, { from: Math.max(start, split), to: end }, out);
      }
    }
  }

  /**
   * Tier i's running period up to `end` (a boundary of the finer tier, at or before now): its ended
   * finer buckets derived into one, as `rollUp` will derive the whole period when it ends. Every
   * answer over a long window would otherwise merge the same 60 minutes, 5 hours and 3 quarters;
   * this merges them once per change. Truncated to `capacity` like a counted bucket, so an answer
   * over it is exact under the same condition (no more distinct items than counters).
   */
  private partialOf(i: number, start: number, end: number): Bucket | undefined {
    const held = this.partials[i];
    if (held && held.start === start && held.end === end && held.version === this.pastVersion) return held.bucket;
    held?.bucket?.release();
    const parts: Bucket[] = [];
    this.cover(i - 1, { from: start, to: end }, parts);
    const bucket = parts.length === 0 ? undefined : Bucket.derive(start, parts, this.capacity, this.declared, this.dictionary, this.segments);
    this.partials[i] = { start, end, version: this.pastVersion, bucket };
    return bucket;
  }

  /** Queries read the state as it is; they never advance it. Asking about a time by which a
   * pending event is due, before advance() counted it, would miss that event: a caller's bug,
   * refused loudly. (Sealing and expiry only tighten memory; the bounds hold either way.) */
  private requireAdvanced(at: number): void {
    if (at <= this.advancedTo) return;
    if (this.pending.nextDue < at) throw new RangeError(`advance(${at}) before asking about that time`);
  }

  /** The view of a sliding window's range, or a compared period's, from one tier's buckets. */
  private tierView(tier: Tier, range: Range): WindowView {
    const points: number[] = [];
    for (let start = range.from; start < range.to; start += tier.bucketMs) points.push(start);
    // A finer bucket of a running period adds to its period's point, and decays from its start (bucketsIn).
    const pointOf = (bucket: Bucket) => bucketStart(bucket.start, tier);
    return { ...range, buckets: this.bucketsIn(tier, range), pointOf, decayFrom: pointOf, points, whole: true, source: tier.name };
  }

  /**
   * The view of a calendar window's range (or the period before it): in UTC, the hour tier's
   * buckets for a day and the day tier's for a week or month; in another zone, its local days.
   * Every bucket decays from the start of its local day, in any zone.
   */
  private calendarView(window: CalendarWindow, range: Range): WindowView {
    const hourly = window === "today" || window === "yesterday";
    const decayFrom = (bucket: Bucket) => this.calendar.startOfDay(bucket.start);
    // In UTC, a day within the hour tier's reach has its hourly series; an older one (the day before
    // yesterday, compared with yesterday) comes from the day tier.
    const tier = hourly && range.from >= oldestKept(this.advancedTo, TIERS[1]!) ? TIERS[1]! : TIERS[3]!;
    if (!this.localDays) return { ...this.tierView(tier, range), decayFrom, source: `${tier.name}, decayed by day` };
    const days = this.localDays.within(range);
    const points = hourly ? (days[0]?.series(range.to) ?? []) : this.calendar.daysIn(range).map((day) => day.from);
    const buckets = days.map((day) => day.bucket);
    return { ...range, buckets, pointOf: (bucket) => bucket.start, decayFrom, points, whole: days.every((day) => !day.approximate), source: "local days" };
  }

  /** What answers `window` at `at`. */
  private view(window: ReadWindow, at: number): WindowView {
    if (isCalendarWindow(window)) return this.calendarView(window, this.calendar.range(window, at));
    return this.tierView(tierOf(window), windowRange(window, at));
  }

  /**
   * The period `window` at `at` is compared with: for a sliding window, `comparedRange` (tiers.ts);
   * for a calendar window, the whole calendar period before it (`compare=week` is refused for
   * those: docs/api.md). Without `compare`, the period rank=rising grows against, the same one for
   * a calendar window, `previousRange` for a sliding one.
   */
  private comparedView(window: ReadWindow, at: number, compare?: Compare): WindowView & Compared {
    if (isCalendarWindow(window)) {
      if (compare === "week") throw new RangeError(`compare=week is not defined for the calendar window ${window}`);
      const view = this.calendarView(window, this.calendar.previous(window, at));
      return { ...view, whole: view.whole };
    }
    if (compare === undefined) return { ...this.tierView(tierOf(window), previousRange(window, at)), whole: true };
    const compared = comparedRange(window, at, compare);
    return { ...this.tierView(compared.tier, compared), whole: compared.whole };
  }

  /**
   * Runs `compute` with the merges of its answers shared: a ranking, the other ranks of the same
   * window and type, and their comparisons read the same periods' sums, merged once here instead of
   * once per answer (the refresh's largest cost: `npm run bench:core -- --refresh`). `compute` must
   * be synchronous and only read, so that the state every held merge was made from stays the same.
   */
  sharing<T>(compute: () => T, capBytes: number = SHARED_BYTES): T {
    this.shared = new Map();
    this.sharedHeld = 0;
    this.sharedCap = capBytes;
    try {
      return compute();
    } finally {
      this.shared = undefined;
      this.sharedHeld = 0;
    }
  }

  /** Bytes of merges held by the running `sharing` (tests and diagnostics). */
  get sharedBytes(): number {
    return this.sharedHeld;
  }

  /** What `make` gives for `key`, made once within `sharing`: at most SHARED_MERGES kept, the
   * oldest given up first, within the cap's bytes. */
  private shareable<T extends Merged | Reach>(key: string, make: () => T): T {
    const shared = this.shared;
    if (shared === undefined) return make();
    const held = shared.get(key);
    if (held !== undefined) return held as T;
    const made = make();
    const bytes = mergeBytes(made);
    if (bytes > this.sharedCap) return made; // too large to keep beside the others: this answer's alone
    shared.set(key, made);
    this.sharedHeld += bytes;
    for (const [oldest, merge] of shared) {
      if (shared.size <= SHARED_MERGES && this.sharedHeld <= this.sharedCap) break;
      shared.delete(oldest);
      this.sharedHeld -= mergeBytes(merge);
    }
    return made;
  }

  /** What each of a view's buckets says about a ranking of `scope`: for a segment, its value's
   * pairs, by item id (segments.ts). */
  private partsOf(view: WindowView, scope: Scope): SummaryPart[] {
    if (scope === null || typeof scope === "string") return view.buckets.map((b) => b.partFor(scope));
    const valueId = this.keys.lookup(scope.value);
    return view.buckets.map((b) => segmentPart(b.dims?.get(scope.dimension), valueId, this.keys));
  }

  /** A view's buckets summed for a ranking of `scope`. */
  private merged(view: WindowView, scope: Scope): Merged {
    return this.shareable(`sum|${keyOf(view, scope)}`, () => merge(this.partsOf(view, scope)));
  }

  /** A view's buckets, each scaled by its decay relative to the view's `to` (rank=hot). */
  private decayed(view: WindowView, scope: Scope, halfLifeSeconds: number): Merged {
    return this.shareable(`hot ${halfLifeSeconds}|${keyOf(view, scope)}`, () => {
      const halfLifeMs = halfLifeSeconds * 1000;
      // The decay of a bucket's period, for a finer bucket of a running period too: the answer is the
      // same whether the period was derived yet or not.
      const factors = view.buckets.map((b) => 2 ** (-(view.to - view.decayFrom(b)) / halfLifeMs));
      return merge(this.partsOf(view, scope), factors);
    });
  }

  /**
   * With `compare`, each listed item gains its previousScore and previousError over the compared
   * period (ranking.ts, `withPrevious`), and `exact` holds only when those are exact too, over the
   * very period asked for.
   */
  private comparing(answer: RankingAnswer, limit: number, current: Bounds, compared: Compared, previous: Bounds): RankingAnswer {
    const items = withPrevious(answer.items, previous);
    const exact =
      answer.exact && compared.whole && isExact(items, limit, current.floor + previous.floor) && items.every((i) => i.previousError === 0);
    return { ...answer, items, exact, compared: { from: compared.from, to: compared.to, whole: compared.whole } };
  }

  /** A ranking of `view`, compared with `compare`'s period when asked: `score` merges a view's buckets. */
  private ranked(window: ReadWindow, at: number, limit: number, compare: Compare | undefined, score: (view: WindowView) => Merged): RankingAnswer {
    this.requireAdvanced(at);
    const view = this.view(window, at);
    const merged = score(view);
    const items = rankTop(merged, limit, this.hidden);
    const answer = { from: view.from, to: view.to, items, floor: merged.floor, exact: view.whole && isExact(items, limit, merged.floor) };
    if (compare === undefined) return answer;
    const compared = this.comparedView(window, at, compare);
    return this.comparing(answer, limit, merged, compared, score(compared));
  }

  /** rank=top: the `limit` highest scores of the window ending at `at`. */
  top(window: ReadWindow, scope: Scope, at: number, limit: number, compare?: Compare): RankingAnswer {
    return this.ranked(window, at, limit, compare, (view) => this.merged(view, scope));
  }

  /**
   * rank=reach: the `limit` items with the most distinct actors in the window ending at `at`
   * (reach.ts), from the window's buckets' pair samples united; with `compare`, each item's reach
   * over the compared period too, as rank=top does.
   */
  reach(window: ReadWindow, type: string | null, at: number, limit: number, compare?: Compare): RankingAnswer {
    this.requireAdvanced(at);
    const view = this.view(window, at);
    const current = this.reachOf(view, type);
    const items = rankReach(current, limit, this.hidden);
    const answer = { from: view.from, to: view.to, items, floor: current.floor, exact: view.whole && isExact(items, limit, current.floor) };
    if (compare === undefined) return answer;
    const compared = this.comparedView(window, at, compare);
    return this.comparing(answer, limit, current, compared, this.reachOf(compared, type));
  }

  /** A view's pair samples, united. */
  private reachOf(view: WindowView, type: string | null): Reach {
    return this.shareable(`reach|${keyOf(view, type)}`, () => reachOver(view.buckets.map((b) => b.reachPart(type)), this.dictionary));
  }

  /**
   * rank=rising: the largest growth against the preceding period of equal length (for a calendar
   * window, the calendar period before it). With `compare`, the growth is measured against the
   * compared period instead (the same period for `previous`), and previousScore is the item's
   * score there: a rising score over the compared period would need the period before it, which
   * no tier keeps.
   */
  rising(window: ReadWindow, scope: Scope, at: number, limit: number, compare?: Compare): RankingAnswer {
    this.requireAdvanced(at);
    const view = this.view(window, at);
    const current = this.merged(view, scope);
    const compared = this.comparedView(window, at, compare);
    const previous = this.merged(compared, scope);
    const items = rankRising(current, previous, limit, this.hidden);
    // An item absent from both merges grew by at most the current floor.
    const answer = { from: view.from, to: view.to, items, floor: current.floor, exact: view.whole && compared.whole && isExact(items, limit, current.floor + previous.floor) };
    return compare === undefined ? answer : this.comparing(answer, limit, current, compared, previous);
  }

  /**
   * rank=hot: like top, with each bucket's summary scaled by 2^(-(to - bucketStart) / halfLife)
   * before merging (docs/api.md), so recent events count more. Errors and floors are scaled by the
   * same factors, so the true decayed score stays within [score - error, score]. With `compare`,
   * the compared period decays the same way relative to its own `to`.
   */
  hot(window: ReadWindow, scope: Scope, at: number, limit: number, halfLifeSeconds: number, compare?: Compare): RankingAnswer {
    return this.ranked(window, at, limit, compare, (view) => this.decayed(view, scope, halfLifeSeconds));
  }

  /**
   * (v1.7) A segment's stats: per bucket its value's weight and events, read from the dimension's
   * summaries, upper bounds whose overcounts add up in `error` (the summary's floor, twice, for a
   * value it holds no counter of). `uniqueItems` counts the items of the segment's pairs merged,
   * exact while the answer is. A zoned today's or yesterday's series has one point per local day
   * here: a local day's bucket holds its hours' totals, not its segments' (local-days.ts).
   */
  segmentStats(window: ReadWindow, segment: Segment, at: number): SegmentStatsAnswer {
    this.requireAdvanced(at);
    const view = this.view(window, at);
    const given = typeof view.points[0] === "object";
    const starts = given ? view.buckets.map((b) => b.start) : (view.points as number[]);
    const series = starts.map((start) => ({ start, events: 0, weight: 0, error: { events: 0, weight: 0 } }));
    const index = new Map(series.map((point, i) => [point.start, i]));
    const valueId = this.keys.lookup(segment.value);
    for (const bucket of view.buckets) {
      const counts = bucket.dims?.get(segment.dimension);
      if (counts === undefined) continue; // no event with the dimension here: 0, exactly
      const point = series[index.get(given ? bucket.start : view.pointOf(bucket))!]!;
      const weight = boundIn(counts.values, valueId);
      const events = boundIn(counts.events, valueId);
      point.events += events.count;
      point.weight += weight.count;
      point.error.events += events.error;
      point.error.weight += weight.error;
    }
    const error = { events: 0, weight: 0 };
    let events = 0;
    let weight = 0;
    for (const point of series) {
      events += point.events;
      weight += point.weight;
      error.events += point.error.events;
      error.weight += point.error.weight;
    }
    const pairs = this.merged(view, segment);
    const exact = view.whole && error.events === 0 && error.weight === 0 && pairs.floor === 0 && !pairs.sums.lossy;
    return { from: view.from, to: view.to, events, weight, error, exact, uniqueItems: pairs.sums.used, series };
  }

  /**
   * (v1.7) A dimension's `limit` values with the most weight in the window, each with its events:
   * the dimension's value summaries merged like an item ranking's, so a breakdown of a million
   * values is as bounded as one of ten.
   */
  breakdown(window: ReadWindow, dimension: string, at: number, limit: number): BreakdownAnswer {
    this.requireAdvanced(at);
    const view = this.view(window, at);
    const byWeight = merge(view.buckets.map((b) => valuePart(b.dims?.get(dimension), "weight")));
    const byEvents = merge(view.buckets.map((b) => valuePart(b.dims?.get(dimension), "events")));
    const top = rankTop(byWeight, limit);
    const values = top.map((v): DimensionValue => {
      const events = byEvents.boundOf(v.item);
      return { value: v.item, events: events.score, weight: v.score, error: v.error, eventsError: events.error };
    });
    const exact = view.whole && isExact(top, limit, byWeight.floor) && values.every((v) => v.eventsError === 0);
    return { from: view.from, to: view.to, values, exact, floor: byWeight.floor };
  }

  /**
   * Items no ranking lists from now on (content moderation), held by the caller: a live view, so
   * that suppressing or showing an item again needs no call here. Stats still count them.
   */
  hide(items: Hidden): void {
    this.hidden = items;
  }

  stats(window: ReadWindow, at: number, compare?: Compare): StatsAnswer {
    this.requireAdvanced(at);
    const view = this.view(window, at);
    // Type names are data, never keys of a plain object: "constructor" would read Object's.
    const byType = new Map<string, TypeTotals>();
    const given = typeof view.points[0] === "object";
    const series = view.points.map((p) => (typeof p === "object" ? { ...p } : { start: p, events: 0, weight: 0 }));
    const index = new Map(series.map((point, i) => [point.start, i]));
    for (const bucket of view.buckets) {
      const point = given ? undefined : series[index.get(view.pointOf(bucket))!]!;
      for (const [type, t] of bucket.totals) {
        let acc = byType.get(type);
        if (!acc) byType.set(type, (acc = { events: 0, weight: 0 }));
        acc.events += t.events;
        acc.weight += t.weight;
        if (point) {
          point.events += t.events;
          point.weight += t.weight;
        }
      }
    }
    let events = 0;
    let weight = 0;
    for (const point of series) {
      events += point.events;
      weight += point.weight;
    }
    const answer: StatsAnswer = {
      from: view.from,
      to: view.to,
      events,
      weight,
      ...uniquesOf(view.buckets),
      byType: recordOf(foldTypes(byType, this.declared)),
      series,
      ...(isCalendarWindow(window) ? { exact: view.whole } : {}),
    };
    if (compare === undefined) return answer;
    const compared = this.comparedView(window, at, compare);
    return { ...answer, compared: { from: compared.from, to: compared.to, whole: compared.whole }, previous: totalsOf(compared.buckets) };
  }

  /**
   * What the last committed checkpoint lacks. Taking it changes nothing; `commit()` records it as
   * durable. A checkpoint whose write fails is simply never committed, so the next one carries
   * everything again (the batch log is only truncated by a write that holds all of it).
   */
  checkpoint(): CheckpointDelta {
    const changed: BucketRecord[] = [];
    const revisions: [Bucket, number][] = [];
    for (const tier of TIERS) {
      for (const bucket of this.rings.get(tier.name)!.values()) {
        if (!bucket.unsaved) continue;
        changed.push({ tier: tier.name, state: bucket.toJSON() });
        revisions.push([bucket, bucket.currentRevision]);
      }
    }
    for (const day of this.localDays?.days.values() ?? []) {
      if (!day.bucket.unsaved) continue;
      changed.push({ tier: LOCAL_DAYS, state: day.toJSON(this.calendar.zone) });
      revisions.push([day.bucket, day.bucket.currentRevision]);
    }
    const expiredCount = this.expired.length;
    return {
      changed,
      expired: this.expired.slice(),
      countedBefore: this.pending.countedBefore,
      commit: () => {
        for (const [bucket, revision] of revisions) bucket.saved(revision);
        this.expired.splice(0, expiredCount);
      },
    };
  }

  /** Loads a checkpointed bucket (start-up). A local day of another zone than the namespace's
   * (a change of zone whose checkpoint did not land) is dropped, and the days assembled again. */
  restore(record: BucketRecord): void {
    this.forgetLastBuckets();
    this.pastVersion += 1;
    if (record.tier === LOCAL_DAYS) {
      if (this.localDays && record.state.zone === this.calendar.zone) {
        const day = LocalDay.fromJSON(record.state, this.dictionary, this.keys);
        this.localDays.put(day);
        this.typeNames.restore(day.bucket);
        if (!this.staleDays) this.rebuildDue = false;
      } else {
        this.expired.push({ tier: LOCAL_DAYS, start: record.state.start });
        this.staleDays = true;
        this.rebuildDue = this.localDays !== undefined;
      }
      return;
    }
    const ring = this.rings.get(record.tier);
    if (!ring) return;
    ring.get(record.state.start)?.release();
    const bucket = Bucket.fromJSON(record.state, this.dictionary, this.keys);
    ring.set(record.state.start, bucket);
    this.typeNames.restore(bucket);
  }

  /** Marks every bucket changed, so that the next checkpoint writes them all (an import). */
  markAllChanged(): void {
    // Revisions start at 1 and only grow, so "saved at revision 0" leaves every bucket unsaved.
    for (const bucket of this.allBuckets()) bucket.saved(0);
  }

  /** Every bucket held, serialised: what an export carries (taking it changes nothing). */
  buckets(): BucketRecord[] {
    const records: BucketRecord[] = TIERS.flatMap((tier) => [...this.rings.get(tier.name)!.values()].map((b) => ({ tier: tier.name, state: b.toJSON() })));
    for (const day of this.localDays?.days.values() ?? []) records.push({ tier: LOCAL_DAYS, state: day.toJSON(this.calendar.zone) });
    return records;
  }
}

/** The declared dimensions' capacities (segments.ts), by name. */
function capacitiesOf(dimensions: Record<string, DimensionConfig> | undefined): Map<string, number> {
  return new Map(Object.entries(dimensions ?? {}).map(([name, d]) => [name, d.capacity ?? DEFAULT_DIMENSION_CAPACITY]));
}

/** A Map of type names as an object whose keys are all own properties (Object.fromEntries
 * defines them, so even "__proto__" would be a key, never the prototype). */
function recordOf<T>(map: ReadonlyMap<string, T>): Record<string, T> {
  return Object.fromEntries(map);
}

/** Unique items and actors over buckets: their HyperLogLogs merged. */
function uniquesOf(buckets: readonly Bucket[]): { uniqueItems: number; uniqueActors: number } {
  const items = new HyperLogLog();
  const actors = new HyperLogLog();
  for (const bucket of buckets) {
    items.merge(bucket.items);
    actors.merge(bucket.actors);
  }
  return { uniqueItems: items.estimate(), uniqueActors: actors.estimate() };
}

/** A compared period's totals, summed per bucket in the order a window's series sums them. */
function totalsOf(buckets: readonly Bucket[]): PreviousTotals {
  let events = 0;
  let weight = 0;
  for (const bucket of buckets) {
    for (const t of bucket.totals.values()) {
      events += t.events;
      weight += t.weight;
    }
  }
  return { events, weight, ...uniquesOf(buckets) };
}
