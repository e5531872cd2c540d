/**
 * One time bucket of one tier: what every window is assembled from.
 * It holds a Space-Saving summary over all types, one per declared type, exact totals per
 * type, and HyperLogLog registers for unique items and actors, and a distinct sample of its
 * (item, actor) pairs for rank=reach (pair-sample.ts).
 *
 * While every event of a bucket had the same type, the all-types summary is also that type's
 * summary: the type's own copy is made, exactly, only when a second type arrives. Most buckets of
 * a single-type stream thus do half the Space-Saving work.
 */
import type { TallyEvent, TypeTotals } from "../shared/contract";
import { CompactSummary } from "./compact-summary";
import { mergedSummary } from "./derive";
import { ItemDictionary } from "./dictionary";
import { HyperLogLog, type HyperLogLogState } from "./hyperloglog";
import { OBJECT_BYTES, SMALL_MAP_BYTES } from "./memory";
import { PairSample, SEALED_PAIRS, pairKey, type PairSampleState } from "./pair-sample";
import type { ReachPart } from "./reach";
import { DimensionCounts, type DimensionState, type SegmentMarks, type SegmentScope } from "./segments";
import { SpaceSaving, type SpaceSavingState } from "./space-saving";

/** A sealed bucket that overflowed keeps only its largest counters: research measured no loss
 * of precision at 1000, and it bounds the memory of the many sealed buckets (ARCHITECTURE.md, "The aggregation core"). */
export const SEALED_KEEP = 1000;

/** The serial version of {@link BucketState} (its summaries and sketches carry their own). A
 * stored bucket of any other version is refused on load, never guessed at. A bucket without
 * segments is still written as format 1, which an older build reads; format 2 adds `dims`. */
export const BUCKET_FORMAT = 2;

export interface BucketState {
  v: 1 | typeof BUCKET_FORMAT;
  start: number;
  totals: [string, number, number][];
  summary: SpaceSavingState;
  /** Per declared type: its summary, and the weight the type had counted before it existed. */
  typed: [string, SpaceSavingState, number][];
  items: HyperLogLogState;
  actors: HyperLogLogState;
  /** The one type of every event so far, if there was only one. */
  sole?: string;
  /** Its distinct (item, actor) pairs; absent from buckets stored before pairs were kept, whose
   * reach is unknown (`reachPart`). */
  reach?: PairSampleState;
  /** (format 2) Per dimension, its summaries (segments.ts), over the namespace's segment keys. */
  dims?: DimensionState[];
}

/** A bucket's summary: live while the bucket takes events, compact once sealed (compact-summary.ts). */
export type Summary = SpaceSaving | CompactSummary;

/** What a merge reads of a summary (sums.ts): a bucket's, or a segment's part of one (segments.ts). */
export interface Counters {
  readonly dictionary: ItemDictionary;
  readonly size: number;
  readonly lossy: boolean;
  forEachId(fn: (id: number, count: number, error: number) => void): void;
}

/** What a bucket says about one item ranking: its summary, or only a bound when it has none. */
export interface SummaryPart {
  summary: Counters | undefined;
  /** Upper bound of the true total of any item absent from `summary`. */
  floor: number;
  /** Weight that may belong to any item, present ones included (a type's events counted before
   * its summary existed): added to the score and error of every item the summary holds. */
  extra?: number;
}

/** Cuts an overflowed summary holding more than `above` counters back to SEALED_KEEP. */
function cut(summary: Summary, above: number): boolean {
  if (!summary.lossy || summary.size <= above) return false;
  summary.trim(SEALED_KEEP);
  return true;
}

/** Per-type totals: a Map entry and a small object each. */
const TYPE_TOTALS_BYTES = 120;

export class Bucket {
  readonly totals = new Map<string, TypeTotals>();
  readonly typed = new Map<string, Summary>();
  /** Weight of a type counted before its summary existed (the type was declared later). */
  readonly untracked = new Map<string, number>();
  /** Bumped by every change; the checkpoint compares it with the revision it last saved. */
  private revision = 1;
  private savedRevision = 0;
  /** `bytes()` as of `sizedAt`, a revision (-1: not yet measured, or compacted since): the
   * aggregator checks its budget every 1024 events over every bucket, of which all but a few
   * are unchanged since the last check. */
  private sized = 0;
  private sizedAt = -1;
  /** undefined: no event yet; a type: every event had it; null: several types. */
  private sole: string | null | undefined;

  /** The type `add` counted last, under the declared types it was given, with its totals entry
   * and pair mask: consecutive events mostly share their type, and each would otherwise look it
   * up in the totals and the declared types again. A new config gives a new declared set. */
  private lastType: string | undefined;
  private lastDeclared: ReadonlySet<string> | undefined;
  private lastTotals: TypeTotals | undefined;
  private lastMask = 0;

  private all: Summary;
  /** Its distinct (item, actor) pairs; undefined when unknown (a bucket stored without them, or
   * derived from one): rank=reach then bounds its items by its events (`reachPart`). */
  reach: PairSample | undefined;
  /** Per declared dimension its summaries (segments.ts); undefined until an event with dims. */
  dims: Map<string, DimensionCounts> | undefined;

  constructor(
    readonly start: number,
    summary: Summary,
    readonly items = new HyperLogLog(),
    readonly actors = new HyperLogLog(),
  ) {
    this.all = summary;
  }

  /** The summary over all types. */
  get summary(): Summary {
    return this.all;
  }

  /** @param dictionary the namespace's items, shared by all its buckets. */
  static empty(start: number, capacity: number, dictionary: ItemDictionary = new ItemDictionary()): Bucket {
    const bucket = new Bucket(start, new SpaceSaving(capacity, dictionary));
    bucket.reach = new PairSample(capacity, dictionary);
    return bucket;
  }

  /**
   * A coarse bucket derived from the finer buckets of its period once the period ended (each event
   * is counted once, in the finest tier: aggregator.ts, `rollUp`). Totals are summed, HyperLogLogs
   * united (a union is what counting the same hashes would give), and every ranking's summaries
   * merged with the sums of a window's merge (sums.ts): a derived score bounds the true total exactly as a
   * window's merged score does. A type gets its own summary where a directly counted bucket would
   * have one: when the period saw several types and the type is declared.
   */
  static derive(start: number, parts: readonly Bucket[], capacity: number, declared: ReadonlySet<string>, dictionary: ItemDictionary, segments?: SegmentScope): Bucket {
    const summaryOf = (type: string | null) => mergedSummary(parts.map((part) => part.partFor(type)), capacity, dictionary);
    const bucket = new Bucket(start, summaryOf(null));
    const soles = new Set<string | null>();
    for (const part of parts) {
      bucket.items.merge(part.items);
      bucket.actors.merge(part.actors);
      if (part.sole !== undefined) soles.add(part.sole);
      for (const [type, t] of part.totals) {
        const totals = bucket.totals.get(type);
        if (totals) {
          totals.events += t.events;
          totals.weight += t.weight;
        } else {
          bucket.totals.set(type, { events: t.events, weight: t.weight });
        }
      }
    }
    // One unknown part makes the whole period's pairs unknown: a partial sample would undercount.
    if (parts.every((part) => part.reach !== undefined)) {
      const samples = parts.map((part) => ({ sample: part.reach!, eventsOf: (type: string) => part.totals.get(type)?.events ?? 0 }));
      bucket.reach = PairSample.union(samples, capacity, dictionary);
    }
    if (segments !== undefined) bucket.dims = deriveDims(parts, segments);
    const [only] = soles;
    if (soles.size === 1 && only !== null) {
      bucket.sole = only;
    } else if (soles.size > 0) {
      bucket.sole = null;
      for (const type of bucket.totals.keys()) if (declared.has(type)) bucket.typed.set(type, summaryOf(type));
    }
    return bucket;
  }

  /** True once sealed and compacted; the next event thaws it. */
  get isCompact(): boolean {
    return this.all instanceof CompactSummary;
  }

  /**
   * Counts one event, or `events` events of one type and item whose weights sum to
   * `event.weight` (an ingest shard's group, shard-delta.ts). `itemHash` and `actorHash` are
   * computed once per event, not per tier, and so is `itemId`, the item's id in the summaries'
   * dictionary. `type` is the name the event counts under (type-names.ts).
   */
  add(
    event: TallyEvent,
    itemHash: number,
    actorHash: number | undefined,
    declared: ReadonlySet<string>,
    itemId: number = this.all.dictionary.intern(event.item),
    events = 1,
    type: string = event.type,
  ): void {
    this.revision += 1;
    if (this.all instanceof CompactSummary) this.thaw();
    if (type !== this.lastType || declared !== this.lastDeclared) {
      // The type's bit is given before the totals count this event (see `pairMask`).
      this.lastMask = this.reach === undefined ? 0 : this.pairMask(type, declared);
      let totals = this.totals.get(type);
      if (!totals) this.totals.set(type, (totals = { events: 0, weight: 0 }));
      this.lastTotals = totals;
      this.lastType = type;
      this.lastDeclared = declared;
    }
    const mask = this.lastMask;
    const summary = this.all as SpaceSaving;
    if (this.sole !== type) {
      if (this.sole === undefined) this.sole = type;
      else if (this.sole !== null) this.split(declared);
    }
    const seen = summary.addId(itemId, event.weight);
    if (this.sole === null && declared.has(type)) {
      let typed = this.typed.get(type) as SpaceSaving | undefined;
      if (!typed) {
        // A bucket that already counted this type before it was declared cannot answer exactly
        // for it; the per-type ranking then bounds it by the type's total (see `partFor`).
        typed = new SpaceSaving(summary.capacity, summary.dictionary);
        this.typed.set(type, typed);
        const before = this.totals.get(type)?.weight ?? 0;
        if (before > 0) this.untracked.set(type, before);
      }
      typed.addId(itemId, event.weight);
    }
    const totals = this.lastTotals!;
    totals.events += events;
    totals.weight += event.weight;
    // An item the summary holds was added to this bucket before: its hash is already counted.
    if (!seen) this.items.addHash(itemHash);
    if (actorHash !== undefined) this.actors.addHash(actorHash);
    // After the summary took the item: a sample that drops the new pair at once releases its id.
    if (actorHash !== undefined) this.reach?.add(pairKey(itemHash, actorHash), itemId, mask);
  }

  /**
   * Counts the pair of an item and an actor in the pair sample, under the type's bit if the type
   * is declared: an ingest shard's pairs, whose groups `add` counted without actors (shard-delta.ts).
   * A type that gets its bit after this bucket counted events of it (it was declared since) leaves
   * those events untracked: a bound on any item's reach in that type here (`reachPart`). The
   * caller holds a reference on `itemId`.
   */
  addPair(itemHash: number, actorHash: number, itemId: number, type: string, declared: ReadonlySet<string>): void {
    const reach = this.reach;
    if (reach === undefined) return;
    this.revision += 1;
    reach.add(pairKey(itemHash, actorHash), itemId, this.pairMask(type, declared));
  }

  /** The mask of a pair seen with `type`: its bit, given now if the type is declared and has none. */
  private pairMask(type: string, declared: ReadonlySet<string>): number {
    const reach = this.reach!;
    if (!declared.has(type)) return 0;
    const known = reach.types.length;
    const bit = reach.bitOf(type);
    if (bit >= known) {
      const before = this.totals.get(type)?.events ?? 0;
      if (before > 0) reach.untracked.set(type, before);
    }
    return bit < 0 ? 0 : (1 << bit) >>> 0;
  }

  /** What this bucket says about the reach of items in `type` (null: all types). */
  reachPart(type: string | null): ReachPart {
    const { reach } = this;
    const eventsOf = (t: string | null) => {
      if (t !== null) return this.totals.get(t)?.events ?? 0;
      let events = 0;
      for (const totals of this.totals.values()) events += totals.events;
      return events;
    };
    if (reach === undefined) return { sample: undefined, bit: -1, extra: eventsOf(type) };
    if (type === null) return { sample: reach, bit: -1, extra: 0 };
    const bit = reach.types.indexOf(type);
    if (bit < 0) return { sample: undefined, bit: -1, extra: eventsOf(type) };
    return { sample: reach, bit, extra: reach.untracked.get(type) ?? 0 };
  }

  /**
   * Counts an event's dimension values, right after `add` counted the event here (which thawed
   * the bucket): each mark is one value, interned once per event by the aggregator.
   */
  addSegments(marks: SegmentMarks, weight: number, events: number, keys: ItemDictionary): void {
    this.revision += 1;
    const dims = (this.dims ??= new Map());
    for (let i = 0; i < marks.size; i++) {
      const dimension = marks.dimensions[i]!;
      let counts = dims.get(dimension);
      if (!counts) dims.set(dimension, (counts = DimensionCounts.empty(marks.capacities[i]!, keys)));
      counts.add(marks.valueIds[i]!, marks.pairIds[i]!, weight, events);
    }
  }

  /** Counts the actors of events counted by `add` without theirs (an ingest shard's group). */
  addActors(hashes: readonly number[]): void {
    if (hashes.length === 0) return;
    this.revision += 1;
    for (const hash of hashes) this.actors.addHash(hash);
  }

  /** A second type arrived: the first one gets its own summary, an exact copy of the shared one. */
  private split(declared: ReadonlySet<string>): void {
    const only = this.sole as string;
    if (declared.has(only)) this.typed.set(only, (this.all as SpaceSaving).clone());
    this.sole = null;
  }

  /** The ranking source for `type` (null: all types). */
  partFor(type: string | null): SummaryPart & { summary: Summary | undefined } {
    if (type === null || type === this.sole) return { summary: this.summary, floor: this.summary.floor };
    const typed = this.typed.get(type);
    if (!typed) return { summary: undefined, floor: this.totals.get(type)?.weight ?? 0 };
    // Events of the type counted before its summary existed may belong to any item, absent or
    // present: they raise the floor, and the score and error of every item held.
    const untracked = this.untracked.get(type) ?? 0;
    return { summary: typed, floor: typed.floor + untracked, extra: untracked };
  }

  /**
   * Seals a past bucket: a summary that already overflowed keeps only its largest counters.
   * Ingest calls it with a higher `above` for past buckets it writes to, so that a backfill cannot
   * fill every past bucket to capacity before the next refresh seals them; the margin spaces the
   * trims out.
   */
  seal(above = SEALED_KEEP): boolean {
    // Called per event on past buckets during ingest: no allocation on the common no-op path.
    let trimmed = cut(this.summary, above);
    if (this.typed.size > 0) for (const summary of this.typed.values()) trimmed = cut(summary, above) || trimmed;
    if (this.dims !== undefined) {
      for (const counts of this.dims.values()) {
        trimmed = cut(counts.pairs, above) || trimmed;
        trimmed = cut(counts.values, above) || trimmed;
        trimmed = cut(counts.events, above) || trimmed;
      }
    }
    if (this.reach !== undefined && this.reach.size > above) trimmed = this.reach.shrinkTo(SEALED_PAIRS) || trimmed;
    if (trimmed) this.revision += 1;
    return trimmed;
  }

  /** True when the bucket changed since the revision last recorded by {@link saved}. */
  get unsaved(): boolean {
    return this.revision !== this.savedRevision;
  }

  /** The current revision, to hand to {@link saved} once the state read with it is durable. */
  get currentRevision(): number {
    return this.revision;
  }

  /** Records that the state as of `revision` is durable. Called only after the storage
   * transaction commits, so that a failed checkpoint leaves the bucket unsaved and the next
   * checkpoint writes it again. */
  saved(revision: number): void {
    this.savedRevision = revision;
  }

  /**
   * Holds a sealed bucket compactly (compact-summary.ts): a steady catalogue keeps every item in
   * every bucket, and live summaries cost ~40 bytes per counter against 4 to 20 compacted.
   * Returns true if anything was compacted. Answers and `toJSON()` are unchanged by it.
   */
  compact(): boolean {
    const pairs = this.reach?.compact() ?? false;
    // Compacting changes no revision (nothing to save), only the bytes held.
    if (pairs) this.sizedAt = -1;
    if (this.all instanceof CompactSummary) return pairs;
    this.sizedAt = -1;
    this.all = CompactSummary.of(this.all);
    for (const [type, summary] of this.typed) {
      if (summary instanceof SpaceSaving) this.typed.set(type, CompactSummary.of(summary));
    }
    for (const counts of this.dims?.values() ?? []) counts.map((s) => (s instanceof SpaceSaving ? CompactSummary.of(s) : s));
    return true;
  }

  /**
   * Cuts every summary to its `keep` largest counters, exact or not, raising its floor over what
   * was dropped: how the aggregator holds its memory budget (aggregator.ts, `holdBudget`). Answers
   * then show the loss in `error` and `exact`. Returns true if anything was cut.
   */
  cutTo(keep: number): boolean {
    let trimmed = false;
    for (const summary of [this.all, ...this.typed.values(), ...this.dimSummaries()]) {
      if (summary.size > keep) {
        summary.trim(keep);
        trimmed = true;
      }
    }
    // The pair sample is cut the same way: its level rises, and reach answers show it in `error`.
    if (this.reach?.shrinkTo(keep)) trimmed = true;
    if (trimmed) this.revision += 1;
    return trimmed;
  }

  /** Cuts the pair sample to at most `keep` pairs, raising its level: what `holdBudget` cuts first.
   * Returns true if any pair went. */
  cutPairsTo(keep: number): boolean {
    if (!this.reach?.shrinkTo(keep)) return false;
    this.revision += 1;
    return true;
  }

  /** Counters held over all summaries (what `cutTo` can free). */
  get counters(): number {
    let n = this.all.size;
    for (const summary of this.typed.values()) n += summary.size;
    for (const summary of this.dimSummaries()) n += summary.size;
    return n;
  }

  /** Every summary of every dimension. */
  private dimSummaries(): Summary[] {
    if (this.dims === undefined) return [];
    const out: Summary[] = [];
    for (const counts of this.dims.values()) out.push(...counts.summaries());
    return out;
  }

  /** Gives the bucket's items back to the dictionary: called once, when the bucket is dropped. */
  release(): void {
    this.all.release();
    for (const summary of this.typed.values()) summary.release();
    for (const summary of this.dimSummaries()) summary.release();
    this.reach?.release();
  }

  /** Estimated bytes held, the shared dictionary excluded. */
  bytes(): number {
    if (this.sizedAt === this.revision) return this.sized;
    let bytes = OBJECT_BYTES + 3 * SMALL_MAP_BYTES + this.all.bytes() + this.items.bytes() + this.actors.bytes();
    for (const summary of this.typed.values()) bytes += summary.bytes();
    for (const summary of this.dimSummaries()) bytes += summary.bytes() + SMALL_MAP_BYTES / 3;
    if (this.reach !== undefined) bytes += this.reach.bytes();
    this.sized = bytes + this.totals.size * TYPE_TOTALS_BYTES;
    this.sizedAt = this.revision;
    return this.sized;
  }

  private thaw(): void {
    this.all = (this.all as CompactSummary).thaw();
    for (const [type, summary] of this.typed) {
      if (summary instanceof CompactSummary) this.typed.set(type, summary.thaw());
    }
    for (const counts of this.dims?.values() ?? []) counts.map((s) => (s instanceof CompactSummary ? s.thaw() : s));
  }

  toJSON(): BucketState {
    const dims = this.dims === undefined || this.dims.size === 0 ? undefined : [...this.dims].map(([dimension, counts]) => counts.toJSON(dimension));
    return {
      v: dims === undefined ? 1 : BUCKET_FORMAT,
      start: this.start,
      totals: [...this.totals].map(([type, t]) => [type, t.events, t.weight]),
      summary: this.summary.toJSON(),
      typed: [...this.typed].map(([type, s]) => [type, s.toJSON(), this.untracked.get(type) ?? 0]),
      items: this.items.toJSON(),
      actors: this.actors.toJSON(),
      ...(typeof this.sole === "string" ? { sole: this.sole } : {}),
      ...(this.reach !== undefined ? { reach: this.reach.toJSON() } : {}),
      ...(dims !== undefined ? { dims } : {}),
    };
  }

  /** Restores a checkpointed bucket, compacted: the next event thaws it if it is still current.
   * `keys` are the namespace's segment keys, which its dimensions' summaries are over. */
  static fromJSON(state: BucketState, dictionary: ItemDictionary = new ItemDictionary(), keys: ItemDictionary = new ItemDictionary()): Bucket {
    if (state.v !== 1 && state.v !== BUCKET_FORMAT) {
      throw new RangeError(`bucket state has format ${String(state.v)}; this build reads formats 1 and ${BUCKET_FORMAT} only`);
    }
    const bucket = new Bucket(
      state.start,
      CompactSummary.fromJSON(state.summary, dictionary),
      HyperLogLog.fromJSON(state.items),
      HyperLogLog.fromJSON(state.actors),
    );
    for (const [type, events, weight] of state.totals) bucket.totals.set(type, { events, weight });
    for (const [type, s, untracked] of state.typed) {
      bucket.typed.set(type, CompactSummary.fromJSON(s, dictionary));
      if (untracked > 0) bucket.untracked.set(type, untracked);
    }
    bucket.sole = state.sole ?? (state.totals.length === 0 ? undefined : null);
    if (state.reach !== undefined) bucket.reach = PairSample.fromJSON(state.reach, dictionary);
    if (state.dims !== undefined) bucket.dims = new Map(state.dims.map((dim) => [dim[0], DimensionCounts.fromJSON(dim, keys)]));
    bucket.saved(bucket.revision);
    return bucket;
  }
}

/** A derived bucket's dimensions: every dimension any part counted, merged from the parts. */
function deriveDims(parts: readonly Bucket[], scope: SegmentScope): Map<string, DimensionCounts> | undefined {
  const names = new Set<string>();
  for (const part of parts) for (const dimension of part.dims?.keys() ?? []) names.add(dimension);
  if (names.size === 0) return undefined;
  const dims = new Map<string, DimensionCounts>();
  for (const dimension of names) {
    dims.set(dimension, DimensionCounts.derive(parts.map((part) => part.dims?.get(dimension)), scope.capacityOf(dimension), scope.keys));
  }
  return dims;
}
