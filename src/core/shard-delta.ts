/**
 * What an ingest shard hands the namespace's object: the events it holds, pre-aggregated into
 * compact per-minute deltas, so that merging costs the object one update per distinct
 * (minute, type, item) rather than one per event.
 *
 * Nothing a bucket holds is lost by grouping. Every tier's buckets are whole minutes aligned to
 * the epoch (tiers.ts), so a minute's group lands in exactly the buckets its events would; totals
 * add, and the HyperLogLog sketches take the same hashes, and the pair samples the same distinct
 * (item, actor) pairs (`pairs`, one per distinct pair of the minute and type). Space-Saving takes a group as one
 * weighted update, which keeps its bounds (and is exact wherever the events were exact). Events
 * stamped at or after the time the delta is built are shipped as they are: the object holds them
 * pending, as it holds a future event sent to it directly (docs/api.md, "Windows").
 *
 * (v1.7) Events with different dims are different groups: a group is counted into the segments
 * of its dims, so it carries them (DeltaEntry's fifth element; absent for events without dims).
 */
import type { EventDims, TallyEvent } from "../shared/contract";
import { hash53 } from "./hash";
import { TIERS, bucketStart } from "./tiers";

/** The finest tier: every other tier's bucket is a whole number of its buckets. */
const MINUTE_TIER = TIERS[0]!;

/** One (type, item, dims) of a minute: how many events, and their summed weight. */
export type DeltaEntry = [type: string, item: string, events: number, weight: number, dims?: EventDims];

/** A distinct actor of an entry, for rank=reach: the entry's index in `entries`, and the actor's
 * hash53. One (type, item, actor) may recur under entries of other dims; a pair sample holds a
 * pair once however often it is added. */
export type DeltaPair = [entry: number, actor: number];

/** One minute's events, grouped. `actors` are the hashes (hash53) of its distinct actors. */
export interface DeltaBucket {
  start: number;
  entries: DeltaEntry[];
  actors: number[];
  pairs: DeltaPair[];
}

export interface ShardDelta {
  buckets: DeltaBucket[];
  /** Events stamped at or after the delta was built: counted once time reaches them. */
  future: TallyEvent[];
  /** Every event the delta holds, grouped or not. */
  events: number;
}

/** Builds one delta from batches added in the order they were accepted. */
export class DeltaBuilder {
  private readonly minutes = new Map<number, { entries: Map<string, DeltaEntry>; actors: Set<number>; pairs: Map<string, Set<number>> }>();
  private readonly future: TallyEvent[] = [];
  private events = 0;

  /** @param at the time the delta is built: events stamped at or after it stay whole. */
  constructor(private readonly at: number) {}

  add(events: readonly TallyEvent[]): void {
    for (const event of events) {
      this.events += 1;
      if (event.ts >= this.at) {
        this.future.push(event);
        continue;
      }
      const start = bucketStart(event.ts, MINUTE_TIER);
      let minute = this.minutes.get(start);
      if (!minute) this.minutes.set(start, (minute = { entries: new Map(), actors: new Set(), pairs: new Map() }));
      // A type name never holds "\n" (TYPE_PATTERN), so the first "\n" ends it: no two pairs share a key.
      // With dims, a "\t" (neither in a type name) ends the type, then their key, which holds no raw
      // "\n" (JSON text), ends at the next "\n": a key of dims never equals one without, whatever the item.
      const key = event.dims === undefined ? `${event.type}\n${event.item}` : `${event.type}\t${dimsKey(event.dims)}\n${event.item}`;
      const entry = minute.entries.get(key);
      if (entry) {
        entry[2] += 1;
        entry[3] += event.weight;
      } else {
        minute.entries.set(key, event.dims === undefined ? [event.type, event.item, 1, event.weight] : [event.type, event.item, 1, event.weight, event.dims]);
      }
      if (event.actor !== undefined) {
        const actor = hash53(event.actor);
        minute.actors.add(actor);
        const actors = minute.pairs.get(key);
        if (actors) actors.add(actor);
        else minute.pairs.set(key, new Set([actor]));
      }
    }
  }

  build(): ShardDelta {
    const buckets = [...this.minutes].map(([start, m]) => {
      const keys = [...m.entries.keys()];
      const pairs: DeltaPair[] = [];
      keys.forEach((key, entry) => {
        for (const actor of m.pairs.get(key) ?? []) pairs.push([entry, actor]);
      });
      return { start, entries: keys.map((key) => m.entries.get(key)!), actors: [...m.actors], pairs };
    });
    return { buckets, future: this.future, events: this.events };
  }
}

/** One text for equal dims, whatever the order of their names: the names sorted, each with its
 * values as the door normalised them (validate.ts: a list, without repeats, in the order given). */
function dimsKey(dims: EventDims): string {
  const names = Object.keys(dims).sort();
  return JSON.stringify(names.map((name) => [name, dims[name]]));
}
