/**
 * Local days: the buckets a zoned namespace's calendar windows are answered from (docs/api.md,
 * "Calendar windows"). The tiers' buckets are aligned to UTC, and a local midnight falls inside one
 * of their buckets in most zones (at :30 in Asia/Kolkata, :15 in Asia/Kathmandu, and in every zone
 * whose offset is not a multiple of the coarse tiers' 6 hours): a day assembled from them could not
 * be exact. So each event is counted once more, into the bucket of its local day, which keeps the
 * day's totals per local hour for the stats series. A namespace in UTC keeps none: its local days
 * are the day tier's (aggregator.ts, `view`).
 */
import type { TypeTotals } from "../shared/contract";
import { HOUR } from "../shared/contract";
import { Bucket, type BucketState } from "./bucket";
import type { LocalCalendar } from "./calendar";
import type { ItemDictionary } from "./dictionary";
import type { Range } from "./tiers";

/** A local day has at most 25 hours. */
export const HOURS_PER_DAY = 25;

/** Where local days are checkpointed and exported, beside the tiers' rings. */
export const LOCAL_DAYS = "local";

/** A local day's bucket as checkpointed: the bucket's state and the day's own fields. */
export interface LocalDayState extends BucketState {
  /** The zone the day was counted in: a day of another zone is dropped on restore, never mixed in. */
  zone: string;
  /** The next local day's start. */
  end: number;
  /** Events and weight per local hour from `start`, flattened: [events0, weight0, events1, ...]. */
  hours: number[];
  /** Present when the day was assembled from the tiers after a change of time zone and some
   * bucket of theirs straddled a local midnight: its counts are then not exactly the day's. */
  approximate?: true;
}

export class LocalDay {
  readonly hours = new Float64Array(2 * HOURS_PER_DAY);

  constructor(
    readonly range: Range,
    readonly bucket: Bucket,
    /** True when the day was assembled from buckets that straddle its bounds (see `rebuild`). */
    readonly approximate = false,
  ) {}

  /** Adds `events` events of total `weight` to the local hour holding `ts`. */
  addToHour(ts: number, events: number, weight: number): void {
    const hour = Math.min(HOURS_PER_DAY - 1, Math.floor((ts - this.range.from) / HOUR));
    this.hours[2 * hour] = this.hours[2 * hour]! + events;
    this.hours[2 * hour + 1] = this.hours[2 * hour + 1]! + weight;
  }

  /** The day's hourly series up to `to`: one point per local hour begun before it. */
  series(to: number): ({ start: number } & TypeTotals)[] {
    const points: ({ start: number } & TypeTotals)[] = [];
    const end = Math.min(to, this.range.to);
    for (let h = 0, start = this.range.from; start < end; h++, start += HOUR) {
      points.push({ start, events: this.hours[2 * h]!, weight: this.hours[2 * h + 1]! });
    }
    return points;
  }

  toJSON(zone: string): LocalDayState {
    return {
      ...this.bucket.toJSON(),
      zone,
      end: this.range.to,
      hours: [...this.hours],
      ...(this.approximate ? { approximate: true as const } : {}),
    };
  }

  static fromJSON(state: LocalDayState, dictionary: ItemDictionary, keys?: ItemDictionary): LocalDay {
    const day = new LocalDay({ from: state.start, to: state.end }, Bucket.fromJSON(state, dictionary, keys), state.approximate === true);
    day.hours.set(state.hours.slice(0, 2 * HOURS_PER_DAY));
    return day;
  }
}

/** A tier's ring as `rebuild` reads it: its bucket length and its buckets by start. */
export interface HeldRing {
  bucketMs: number;
  buckets: ReadonlyMap<number, Bucket>;
}

/**
 * The local days of `days` (consecutive, in order) assembled from the tiers' buckets, finest first
 * (`rings` is ordered finest to coarsest), each bucket used once: at each instant the finest held
 * bucket that begins there (or, at a day's first instant, that holds it). A day is exact where
 * every bucket it took lies within it: always for a zone whose midnights fall on the boundaries of
 * the buckets held then (the minute tier's two hours, or hours for whole-hour offsets); otherwise a
 * bucket straddling midnight counts in the day it begins in, and the day is marked approximate.
 */
export function rebuildDays(
  days: readonly Range[],
  rings: readonly HeldRing[],
  derive: (start: number, parts: Bucket[]) => Bucket,
): LocalDay[] {
  const built: LocalDay[] = [];
  const finest = rings[0]!.bucketMs;
  let t = days[0]?.from ?? 0;
  /** The end of the last bucket taken: no bucket starting before it is taken again. */
  let covered = -Infinity;
  for (const day of days) {
    const parts: Bucket[] = [];
    let straddles = false;
    t = Math.max(t, day.from);
    while (t < day.to) {
      let taken = false;
      for (const ring of rings) {
        const start = Math.floor(t / ring.bucketMs) * ring.bucketMs;
        const bucket = ring.buckets.get(start);
        if (bucket === undefined || start < covered || (start !== t && t !== day.from)) continue;
        parts.push(bucket);
        if (start < day.from || start + ring.bucketMs > day.to) straddles = true;
        t = covered = start + ring.bucketMs;
        taken = true;
        break;
      }
      if (!taken) t = Math.floor(t / finest) * finest + finest;
    }
    if (parts.length === 0) continue;
    const local = new LocalDay(day, derive(day.from, parts), straddles);
    for (const part of parts) {
      let events = 0;
      let weight = 0;
      for (const totals of part.totals.values()) {
        events += totals.events;
        weight += totals.weight;
      }
      local.addToHour(Math.max(part.start, day.from), events, weight);
    }
    built.push(local);
  }
  return built;
}

/** The local days a zoned namespace keeps: from the start of the previous local month, so that
 * `thisMonth` can be compared with the whole month before it. */
export class LocalDays {
  readonly days = new Map<number, LocalDay>();
  /** The day the last event was counted in: consecutive events mostly share it. */
  private last: LocalDay | undefined;

  constructor(
    readonly calendar: LocalCalendar,
    /** Told the start of every day dropped, so that the next checkpoint deletes it. */
    private readonly dropped: (start: number) => void,
  ) {}

  get zone(): string {
    return this.calendar.zone;
  }

  /** The day `keptFrom` last answered for, and its answer: it changes only at a local midnight,
   * and every ingest asks (calendar.ts formats dates with Intl, a few microseconds a call). */
  private kept = { day: { from: NaN, to: NaN } as Range, from: NaN };

  /** The start of the oldest day kept at `now`. */
  keptFrom(now: number): number {
    const { day } = this.kept;
    if (now >= day.from && now < day.to) return this.kept.from;
    const from = this.calendar.previous("thisMonth", now).from;
    this.kept = { day: { ...this.calendar.dayOf(now) }, from };
    return from;
  }

  /** The day holding `ts`, made with `make` if missing. */
  dayFor(ts: number, make: (range: Range) => Bucket): LocalDay {
    const last = this.last;
    if (last && ts >= last.range.from && ts < last.range.to) return last;
    const range = this.calendar.dayOf(ts);
    let day = this.days.get(range.from);
    if (!day) {
      day = new LocalDay({ ...range }, make(range));
      this.days.set(range.from, day);
    }
    this.last = day;
    return day;
  }

  /** Holds `day` (a restored or rebuilt one), replacing any of the same start. */
  put(day: LocalDay): void {
    this.days.get(day.range.from)?.bucket.release();
    this.days.set(day.range.from, day);
    this.last = undefined;
  }

  /** Drops the days older than the oldest kept at `now`. */
  expire(now: number): void {
    const from = this.keptFrom(now);
    for (const [start, day] of this.days) {
      if (start >= from) continue;
      this.drop(start, day);
    }
  }

  /** Drops every day (a change of time zone). */
  clear(): void {
    for (const [start, day] of this.days) this.drop(start, day);
  }

  private drop(start: number, day: LocalDay): void {
    this.days.delete(start);
    day.bucket.release();
    this.dropped(start);
    if (this.last === day) this.last = undefined;
  }

  /** The days overlapping `range`, in time order. */
  within(range: Range): LocalDay[] {
    const out: LocalDay[] = [];
    for (const day of this.days.values()) if (day.range.from < range.to && day.range.to > range.from) out.push(day);
    return out.sort((a, b) => a.range.from - b.range.from);
  }
}
