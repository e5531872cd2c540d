/**
 * rank=reach: per item, the number of distinct actors that sent it events in a window, counted
 * from the buckets' distinct pair samples (pair-sample.ts) united over the window.
 *
 * At level 0 every distinct (item, actor) pair is held and the count is exact. At level L each
 * distinct pair is held with probability p = 2^-L, independently (its key's low bits), so an item
 * with n distinct actors has c ~ Binomial(n, p) sampled pairs. Its answer is a ~3-sigma interval:
 *   score = ceil((c + 3·sqrt(c + 1) + 3) · 2^L)      (n above it: c fell over 3 sigmas short)
 *   lower = max(c, ceil((c - 3·sqrt(c)) · 2^L))     (n below it: c rose over 3 sigmas above)
 * and error = score - lower, so the true count lies in [score - error, score] like any rank's.
 * These are probabilistic bounds, not worst cases: they miss an item's true count with a probability
 * of about 1 to 2 in 1,000 (simulated for counts in the thousands; 1 item in 800 over eight seeds of
 * the 1M-pair test), never at level 0. An item with no sampled pair may still have up to
 * 6·2^L (the score with c = 0): the floor.
 *
 * A bucket whose pairs are unknown for a type (stored before pairs were kept, or a type counted
 * before it was declared) adds its events of that type to every item's score and error and to the
 * floor: each event brings at most one actor.
 */
import type { RankedItem } from "../shared/contract";
import type { ItemDictionary } from "./dictionary";
import { levelOf, type PairSample } from "./pair-sample";
import { Selection, type Hidden } from "./ranking";
import { findSlot, placeSlot, tableBits } from "./slot-table";

/** Standard deviations the interval spans on each side. */
export const SIGMAS = 3;

/** What one bucket says about one reach ranking. */
export interface ReachPart {
  /** Its pairs, or undefined when it has none to give (unknown, or no pair of the type). */
  sample: PairSample | undefined;
  /** The bit of the type asked for in `sample.types`; -1: every pair counts (all types). */
  bit: number;
  /** Events whose actors are unknown here: a bound on any item's reach in this bucket. */
  extra: number;
}

/** Upper bound of the distinct actors of an item with `c` sampled pairs at `level`. */
export function reachUpper(c: number, level: number): number {
  if (level === 0) return c;
  return Math.ceil((c + SIGMAS * Math.sqrt(c + 1) + SIGMAS) * 2 ** level);
}

/** Lower bound of the same. */
export function reachLower(c: number, level: number): number {
  if (level === 0) return c;
  return Math.max(c, Math.ceil((c - SIGMAS * Math.sqrt(c)) * 2 ** level));
}

/** Per item id of a window, its sampled pairs: ids and counts in slots, found through a slot table
 * (slot-table.ts) sized for every pair the window's samples hold. */
export interface PairCounts {
  readonly ids: Uint32Array;
  readonly counts: Int32Array;
  readonly used: number;
  /** The slot of an item id, or -1. */
  slotOf(id: number): number;
}

/** A window's reach: per item id its sampled pairs at one level, and what is unknown. */
export class Reach {
  constructor(
    readonly pairs: PairCounts,
    readonly level: number,
    readonly extra: number,
    readonly dictionary: ItemDictionary,
  ) {}

  /** Upper bound of the reach of any item not in `pairs`. */
  get floor(): number {
    return reachUpper(0, this.level) + this.extra;
  }

  /** An item's bound from its sampled pairs. */
  boundOfCount(c: number): { score: number; error: number } {
    const score = reachUpper(c, this.level) + this.extra;
    return { score, error: score - reachLower(c, this.level) };
  }

  /** An item's bound by name: the floor, twice, for one with no sampled pair (it may have none). */
  boundOf(item: string): { score: number; error: number } {
    const id = this.dictionary.lookup(item);
    const slot = id === undefined ? -1 : this.pairs.slotOf(id);
    return slot < 0 ? { score: this.floor, error: this.floor } : this.boundOfCount(this.pairs.counts[slot]!);
  }
}

const TWO_POW_32 = 4294967296;

/**
 * The keys seen by a union, in an open-addressing table of key + 1 (0 = empty; keys are below
 * 2^53, so key + 1 is exact): a Set of keys would box every key above 2^31 as a heap number.
 * Sized at most half full for `pairs` keys. True if `key` was new.
 */
class SeenKeys {
  private readonly table: Float64Array;
  private readonly shift: number;

  constructor(pairs: number) {
    const bits = tableBits(Math.max(1, pairs));
    this.table = new Float64Array(1 << bits);
    this.shift = 32 - bits;
  }

  add(key: number): boolean {
    const { table } = this;
    const mask = table.length - 1;
    // A sampled key's low `level` bits are all zero: its high lane goes into the hash too.
    const mixed = (key >>> 0) ^ Math.imul(Math.floor(key / TWO_POW_32), 0x85ebca6b);
    for (let i = Math.imul(mixed, GOLDEN) >>> this.shift; ; i = (i + 1) & mask) {
      const entry = table[i]!;
      if (entry === 0) {
        table[i] = key + 1;
        return true;
      }
      if (entry === key + 1) return false;
    }
  }
}

const GOLDEN = 0x9e3779b1;

/** Sampled pairs by item id, for at most `pairs` distinct items. */
class CountsById implements PairCounts {
  readonly ids: Uint32Array;
  readonly counts: Int32Array;
  used = 0;
  private readonly table: Int32Array;
  private readonly shift: number;

  constructor(pairs: number) {
    this.ids = new Uint32Array(pairs);
    this.counts = new Int32Array(pairs);
    const bits = tableBits(Math.max(1, pairs));
    this.table = new Int32Array(1 << bits);
    this.shift = 32 - bits;
  }

  slotOf(id: number): number {
    return findSlot(this.table, this.shift, this.ids, id);
  }

  add(id: number): void {
    const slot = this.slotOf(id);
    if (slot >= 0) {
      this.counts[slot]! += 1;
      return;
    }
    const fresh = this.used++;
    this.ids[fresh] = id;
    this.counts[fresh] = 1;
    placeSlot(this.table, this.shift, id, fresh);
  }
}

/**
 * Unites the parts' samples at their highest level: a pair sampled in several buckets (one actor
 * on several minutes) is one actor. With a type, only pairs seen with it count.
 */
export function reachOver(parts: readonly ReachPart[], dictionary: ItemDictionary): Reach {
  let level = 0;
  let extra = 0;
  let samples = 0;
  let pairs = 0;
  for (const part of parts) {
    extra += part.extra;
    if (part.sample === undefined) continue;
    level = Math.max(level, part.sample.level);
    samples += 1;
    pairs += part.sample.size;
  }
  const counts = new CountsById(pairs);
  // Keys are distinct within a sample: only a union of several needs to drop repeats.
  const seen = samples > 1 ? new SeenKeys(pairs) : undefined;
  for (const { sample, bit } of parts) {
    if (sample === undefined) continue;
    const filtered = sample.level < level;
    sample.forEach((key, id, mask) => {
      if (bit >= 0 && ((mask >>> bit) & 1) === 0) return;
      if (filtered && levelOf(key) < level) return;
      if (seen && !seen.add(key)) return;
      counts.add(id);
    });
  }
  return new Reach(counts, level, extra, dictionary);
}

/** rank=reach: the `limit` items of highest reach (ties: item ascending), hidden ones skipped. */
export function rankReach(reach: Reach, limit: number, hidden?: Hidden): RankedItem[] {
  const selection = new Selection(limit, hidden);
  const { ids, counts, used } = reach.pairs;
  const { level, extra, dictionary } = reach;
  for (let slot = 0; slot < used; slot++) {
    // The bound's object only for an item that enters: most do not.
    const c = counts[slot]!;
    const score = reachUpper(c, level) + extra;
    const item = dictionary.name(ids[slot]!);
    if (selection.admits(score, item)) selection.add({ item, score, error: score - reachLower(c, level) });
  }
  return selection.best;
}
