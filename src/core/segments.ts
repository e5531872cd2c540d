/**
 * Segments (docs/api.md, "Segments"): per bucket, per declared dimension, three Space-Saving
 * summaries over the namespace's segment keys, whatever the dimension's cardinality:
 * - `pairs`, keyed by (value, item): a segment's ranking is the pairs of its value;
 * - `values`, keyed by value, weighted: the dimension's breakdown and a segment's weight;
 * - `events`, keyed by value, one per event: a segment's and a value's events.
 *
 * Memory is the summaries' capacity, not the number of values: a million values cost what a
 * thousand do. Precision goes where the weight is: a pair or a value is exact while its bucket's
 * summary held every one of its kind (no more distinct pairs, or values, than counters), and
 * bounded always by the summary's floor, the same arithmetic as an item ranking (sums.ts).
 */
import type { Counters, SummaryPart } from "./bucket";
import { CompactSummary } from "./compact-summary";
import { mergedSummary } from "./derive";
import { ItemDictionary } from "./dictionary";
import { hash53 } from "./hash";
import { SpaceSaving, type SpaceSavingState } from "./space-saving";

/** Ends a value in a pair key: values never hold it (the door refuses U+0000), items may. */
const SEPARATOR = "\u0000";

/** The key of an item's counter in a value's pairs. */
export function pairKeyOf(value: string, item: string): string {
  return value + SEPARATOR + item;
}

/**
 * A pair key's hash, from its value's hash53 and its item's: ingest has both already, so a pair is
 * found without building or hashing its text (a pair key is up to 385 bytes). Mixed so that the
 * pairs of one value, or of one item, spread over the whole table.
 */
function pairHash(valueHash: number, itemHash: number): number {
  let h = Math.imul((valueHash >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ (itemHash >>> 0);
  h = Math.imul(h ^ (h >>> 16), 0xc2b2ae35);
  return (h ^ (h >>> 13)) >>> 0;
}

/** A segment key's hash in SegmentKeys: a value's own hash53, a pair's from its parts'. */
function keyHash(name: string): number {
  const cut = name.indexOf(SEPARATOR);
  return cut < 0 ? hash53(name) : pairHash(hash53(name.slice(0, cut)), hash53(name.slice(cut + 1)));
}

type Summary = SpaceSaving | CompactSummary;

/**
 * The namespace's segment keys: values, and pairs of a value and an item. A pair key holds, by id,
 * its value's id here and its item's id in the namespace's item dictionary (both retained while the
 * pair is known), so that a segment's ranking picks its value's pairs by comparing integers and names
 * them by the items' own ids, with no string read per counter (at the widest config a refresh's
 * segments read about 14,000 pair counters per window: by name they cost 1.5 µs each). Every key is
 * linked as it is interned, whether counted, derived or restored.
 */
export class SegmentKeys extends ItemDictionary {
  /** Per key id: its value's id + 1 for a pair key, 0 for a value. */
  private values = new Int32Array(64);
  /** Per pair key id: its item's id in `items`. */
  private itemIds = new Int32Array(64);

  /** The pair `internPair` looks for: its value's id + 1 and its item's id. */
  private wanted = { value: 0, item: 0 };
  private readonly isWanted = (id: number) => this.values[id] === this.wanted.value && this.itemIds[id] === this.wanted.item;

  constructor(readonly items: ItemDictionary) {
    super();
  }

  override intern(name: string, hash: number = keyHash(name)): number {
    const held = this.size;
    const id = super.intern(name, hash);
    if (this.size > held) this.link(id, name);
    return id;
  }

  override lookup(name: string, hash: number = keyHash(name)): number | undefined {
    return super.lookup(name, hash);
  }

  /**
   * The key of the pair of `valueId` (a value interned here) and `itemId` (an item of `items`),
   * found by their ids, its text built only when the pair is new: an event's way in, which holds
   * both ids and both hashes already.
   */
  internPair(valueId: number, valueHash: number, itemId: number, itemHash: number): number {
    const hash = pairHash(valueHash, itemHash);
    this.wanted.value = valueId + 1;
    this.wanted.item = itemId;
    const found = this.probe(hash, this.isWanted);
    if (found >= 0) return found;
    const id = this.insert(-1 - found, pairKeyOf(this.name(valueId), this.items.name(itemId)), hash);
    this.linkTo(id, valueId, itemId);
    return id;
  }

  /** A pair key's value id, or -1 for a key that is a value. */
  valueIdOf(id: number): number {
    return this.values[id]! - 1;
  }

  /** A pair key's item id in `items`. */
  itemIdOf(id: number): number {
    return this.itemIds[id]!;
  }

  override bytes(): number {
    return super.bytes() + this.values.byteLength + this.itemIds.byteLength;
  }

  private link(id: number, name: string): void {
    const cut = name.indexOf(SEPARATOR);
    if (cut < 0) {
      this.linkTo(id, -1, 0);
      return;
    }
    const valueId = super.intern(name.slice(0, cut));
    this.linkTo(id, valueId, this.items.intern(name.slice(cut + 1)));
  }

  /** Links key `id` to its value's id and item's id, retaining both; a value key (-1) to none. */
  private linkTo(id: number, valueId: number, itemId: number): void {
    if (id >= this.values.length) {
      const size = Math.max(2 * this.values.length, id + 1);
      const values = new Int32Array(size);
      values.set(this.values);
      this.values = values;
      const itemIds = new Int32Array(size);
      itemIds.set(this.itemIds);
      this.itemIds = itemIds;
    }
    if (valueId < 0) {
      this.values[id] = 0;
      return;
    }
    this.retain(valueId);
    this.items.retain(itemId);
    this.values[id] = valueId + 1;
    this.itemIds[id] = itemId;
  }

  protected override forgotten(id: number): void {
    const value = this.values[id]!;
    if (value === 0) return;
    this.values[id] = 0;
    this.items.release(this.itemIds[id]!);
    this.release(value - 1);
  }
}

/** What derives and restores a bucket's dimensions: the namespace's segment keys, and the
 * counters each declared dimension's summaries hold (its config's `capacity`). */
export interface SegmentScope {
  readonly keys: ItemDictionary;
  capacityOf(dimension: string): number;
}

/**
 * An event's values, each interned once per event and counted in every bucket the event reaches:
 * a buffer the aggregator refills for each event, so that the per-event path allocates nothing
 * for its values (at 1M items, the garbage of one object per value was a sixth of ingest's time).
 */
export class SegmentMarks {
  size = 0;
  readonly dimensions: string[] = [];
  readonly capacities: number[] = [];
  readonly valueIds: number[] = [];
  readonly pairIds: number[] = [];

  push(dimension: string, capacity: number, valueId: number, pairId: number): void {
    const i = this.size++;
    this.dimensions[i] = dimension;
    this.capacities[i] = capacity;
    this.valueIds[i] = valueId;
    this.pairIds[i] = pairId;
  }
}

export type DimensionState = [dimension: string, pairs: SpaceSavingState, values: SpaceSavingState, events: SpaceSavingState];

/** One dimension's counts in one bucket. */
export class DimensionCounts {
  constructor(
    public pairs: Summary,
    public values: Summary,
    public events: Summary,
  ) {}

  static empty(capacity: number, keys: ItemDictionary): DimensionCounts {
    return new DimensionCounts(new SpaceSaving(capacity, keys), new SpaceSaving(capacity, keys), new SpaceSaving(capacity, keys));
  }

  /** Counts `events` events of one value and item whose weights sum to `weight`. Live only:
   * the bucket thaws before it counts (bucket.ts, `add`). */
  add(valueId: number, pairId: number, weight: number, events: number): void {
    (this.values as SpaceSaving).addId(valueId, weight);
    (this.events as SpaceSaving).addId(valueId, events);
    (this.pairs as SpaceSaving).addId(pairId, weight);
  }

  summaries(): Summary[] {
    return [this.pairs, this.values, this.events];
  }

  /** Applies `fn` to each summary in place (compact, thaw). */
  map(fn: (summary: Summary) => Summary): void {
    this.pairs = fn(this.pairs);
    this.values = fn(this.values);
    this.events = fn(this.events);
  }

  toJSON(dimension: string): DimensionState {
    return [dimension, this.pairs.toJSON(), this.values.toJSON(), this.events.toJSON()];
  }

  static fromJSON([, pairs, values, events]: DimensionState, keys: ItemDictionary): DimensionCounts {
    return new DimensionCounts(CompactSummary.fromJSON(pairs, keys), CompactSummary.fromJSON(values, keys), CompactSummary.fromJSON(events, keys));
  }

  /**
   * A period's counts from its finer buckets' (bucket.ts, `derive`): each summary merged with a
   * window's sums and cut to the dimension's capacity, as an item ranking's summary is. A part
   * without the dimension counted no event with it: it adds nothing, with a floor of 0.
   */
  static derive(parts: readonly (DimensionCounts | undefined)[], capacity: number, keys: ItemDictionary): DimensionCounts {
    const of = (pick: (counts: DimensionCounts) => Summary) =>
      mergedSummary(parts.map((counts) => (counts === undefined ? { summary: undefined, floor: 0 } : partOf(pick(counts)))), capacity, keys);
    return new DimensionCounts(of((c) => c.pairs), of((c) => c.values), of((c) => c.events));
  }
}

function partOf(summary: Summary): SummaryPart {
  return { summary, floor: summary.floor };
}

/** A bucket's part in a breakdown of a dimension's values, by weight or by events. */
export function valuePart(counts: DimensionCounts | undefined, by: "weight" | "events"): SummaryPart {
  if (counts === undefined) return { summary: undefined, floor: 0 };
  return partOf(by === "weight" ? counts.values : counts.events);
}

/**
 * The counters of one value's pairs, by the namespace's item ids, so that they meet every other
 * bucket's by id in sums.ts. Any item absent from them had at most the pairs' floor in this bucket:
 * the summary's, whatever the value.
 */
class ValuePairs implements Counters {
  constructor(
    readonly dictionary: ItemDictionary,
    private readonly ids: number[],
    private readonly counts: number[],
    private readonly errors: number[],
    readonly lossy: boolean,
  ) {}

  get size(): number {
    return this.ids.length;
  }

  forEachId(fn: (id: number, count: number, error: number) => void): void {
    for (let i = 0; i < this.ids.length; i++) fn(this.ids[i]!, this.counts[i]!, this.errors[i]!);
  }
}

/** A bucket's part in a segment's ranking: the pairs of the value with id `valueId` among `keys`
 * (undefined: a value no summary holds, so none of its pairs either), or only a floor. */
export function segmentPart(counts: DimensionCounts | undefined, valueId: number | undefined, keys: SegmentKeys): SummaryPart {
  if (counts === undefined) return { summary: undefined, floor: 0 };
  const { pairs } = counts;
  if (valueId === undefined) return { summary: undefined, floor: pairs.floor };
  const ids: number[] = [];
  const scores: number[] = [];
  const errors: number[] = [];
  pairs.forEachId((id, count, error) => {
    if (keys.valueIdOf(id) !== valueId) return;
    ids.push(keys.itemIdOf(id));
    scores.push(count);
    errors.push(error);
  });
  return { summary: new ValuePairs(keys.items, ids, scores, errors, pairs.lossy), floor: pairs.floor };
}

/** A value's count in one summary as an upper bound and its overcount: the floor, twice, when
 * the summary holds no counter of it (it may have had up to the floor, and may have had nothing). */
export function boundIn(summary: Summary, id: number | undefined): { count: number; error: number } {
  const { floor } = summary;
  if (id === undefined) return { count: floor, error: floor };
  let found: { count: number; error: number } | undefined;
  summary.forEachId((held, count, error) => {
    if (held === id) found = { count, error };
  });
  return found ?? { count: floor, error: floor };
}
