/**
 * Event streams for the core benchmark. A stream is drawn once into typed arrays (item rank, ts),
 * so that runs replay the same events and sampling is not timed; events are then materialised
 * batch by batch with fresh item strings (as JSON parsing would give the service), so that no
 * event outlives its batch and the heap measured after ingest is the aggregator's own.
 */
import type { TallyEvent } from "../../src/shared/contract";
import { rng, zipf } from "../../test/support/random";

export const DAY_MS = 86_400_000;

export interface StreamSpec {
  /** Distinct items in the universe (ranks 1..items). */
  items: number;
  /** Events in the stream. */
  count: number;
  /** Zipf exponent of item popularity. */
  skew: number;
  /** Spread every item of the universe through the stream at least once, so that `items`
   * distinct items really occur (plain Zipf sampling leaves most of a long tail unseen). */
  everyItem: boolean;
  /** "time": ts increasing, as a live namespace receives them; "random": uniform, unordered. */
  order: "time" | "random";
  seed: number;
  /** ts lies in [end - spanMs, end). */
  end: number;
  spanMs: number;
}

export interface Stream {
  ranks: Int32Array;
  ts: Float64Array;
  actors: Int32Array;
}

export function draw(spec: StreamSpec): Stream {
  const random = rng(spec.seed);
  const rank = zipf(spec.items, spec.skew, random);
  const { count, spanMs, end } = spec;
  const ranks = new Int32Array(count);
  const ts = new Float64Array(count);
  const actors = new Int32Array(count);
  // Every `stride`-th event introduces the next item not yet guaranteed to occur.
  const stride = spec.everyItem ? Math.max(1, Math.floor(count / spec.items)) : 0;
  let nextUnique = 1;
  for (let i = 0; i < count; i++) {
    ranks[i] = stride > 0 && i % stride === 0 && nextUnique <= spec.items ? nextUnique++ : rank();
    const u = spec.order === "time" ? (i + random()) / count : random();
    ts[i] = end - spanMs + Math.floor(u * (spanMs - 1));
    actors[i] = (random() * 10_000) | 0;
  }
  return { ranks, ts, actors };
}

/** Batches of fresh event objects: [events, ts of the batch's last event]. */
export function* batches(stream: Stream, batch = 1000): Generator<[TallyEvent[], number]> {
  const { ranks, ts, actors } = stream;
  for (let i = 0; i < ranks.length; ) {
    const end = Math.min(ranks.length, i + batch);
    const events: TallyEvent[] = new Array(end - i);
    for (let j = 0; i < end; i++, j++) {
      events[j] = { item: `item-${ranks[i]}`, type: "view", weight: 1, actor: `u${actors[i]}`, ts: ts[i]! };
    }
    yield [events, ts[end - 1]!];
  }
}
