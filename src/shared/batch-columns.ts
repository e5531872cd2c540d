/**
 * A validated batch as it crosses RPC from the Worker to the namespace's object: one array per
 * field instead of one object per event. RPC copies its arguments with V8's serializer, which
 * writes every object with its property names: for 1000 events that copy measured about four
 * times the cost of the same values as columns (typed arrays are one memcpy). Built and read here only.
 */
import type { EventDims, TallyEvent } from "./contract";
import type { IncomingBatch } from "./validate";

export interface BatchColumns {
  batchId?: string;
  items: string[];
  /** The batch's distinct type names; `typeOf[i]` indexes them. */
  typeNames: string[];
  typeOf: Uint16Array;
  /** NaN where the event gave no weight: the namespace's default for its type applies. */
  weights: Float64Array;
  /** null where the event named no actor. */
  actors: (string | null)[];
  ts: Float64Array;
  /** (v1.7) Present only when some event of the batch has dims; null where an event has none. */
  dims?: (EventDims | null)[];
}

/** A batch's distinct type names in order of first use, and each one's index among them: a batch
 * as columns names each type once. */
export function typeIndex(): { names: string[]; indexOf(type: string): number } {
  const names: string[] = [];
  const index = new Map<string, number>();
  return {
    names,
    indexOf(type) {
      let i = index.get(type);
      if (i === undefined) {
        i = names.push(type) - 1;
        index.set(type, i);
      }
      return i;
    },
  };
}

/** The columns of a batch the door accepted (validate.ts): at most MAX_BATCH events, so a Uint16
 * type index always fits (a batch cannot hold more distinct types than events). */
export function columnsOf(batch: IncomingBatch): BatchColumns {
  const n = batch.events.length;
  const items = new Array<string>(n);
  const actors = new Array<string | null>(n);
  const typeOf = new Uint16Array(n);
  const weights = new Float64Array(n);
  const ts = new Float64Array(n);
  const types = typeIndex();
  // Made at the first event with dims, so a batch without any carries no column.
  let dims: (EventDims | null)[] | undefined;
  for (let i = 0; i < n; i++) {
    const event = batch.events[i]!;
    items[i] = event.item;
    actors[i] = event.actor ?? null;
    weights[i] = event.weight ?? NaN;
    ts[i] = event.ts;
    typeOf[i] = types.indexOf(event.type);
    if (event.dims !== undefined) (dims ??= new Array<EventDims | null>(n).fill(null))[i] = event.dims;
  }
  const columns: BatchColumns = { items, typeNames: types.names, typeOf, weights, actors, ts };
  if (batch.batchId !== undefined) columns.batchId = batch.batchId;
  if (dims !== undefined) columns.dims = dims;
  return columns;
}

/** The events of `columns`, each without a weight given the one `defaultWeight` names for its type;
 * an event without dims has no `dims` key. */
export function eventsOf(columns: BatchColumns, defaultWeight: (type: string) => number): TallyEvent[] {
  const { items, typeNames, typeOf, weights, actors, ts, dims } = columns;
  const defaults = typeNames.map(defaultWeight);
  const events = new Array<TallyEvent>(items.length);
  for (let i = 0; i < items.length; i++) {
    const type = typeOf[i]!;
    const weight = weights[i]!;
    const actor = actors[i];
    events[i] =
      actor === null
        ? { item: items[i]!, type: typeNames[type]!, weight: Number.isNaN(weight) ? defaults[type]! : weight, ts: ts[i]! }
        : { item: items[i]!, type: typeNames[type]!, weight: Number.isNaN(weight) ? defaults[type]! : weight, actor: actor!, ts: ts[i]! };
    const eventDims = dims?.[i];
    if (eventDims) events[i]!.dims = eventDims;
  }
  return events;
}
