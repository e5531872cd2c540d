/**
 * A validated batch as it crosses RPC from the Worker to the namespace's object: one array per
 * field instead of one object per event. RPC copies its arguments with V8's serializer, which
 * writes every object with its property names: for 1000 events that copy measured about four
 * times the cost of the same values as columns (typed arrays are one memcpy). Built and read here only.
 * An event's dims go the same way (`DimColumns`): as an object and arrays per event, their copy cost
 * about five times the rest of the batch's (1.2 against 0.23 µs an event with 2 values, in Node).
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
  /** (v1.7) Present only when some event of the batch has dims, for an object that reads them. */
  dimColumns?: DimColumns;
  /** (v1.7) The same for an object of the build before, which reads only this: each event's dims,
   * null where it has none. */
  dims?: (EventDims | null)[];
}

/**
 * (v1.7) A batch's dims as flat columns: the dimension names its events use (k of them: declared
 * ones, at most MAX_DIMENSIONS, since the Worker refuses others first), every value in event order,
 * and where each event's values of each name start: event i's values of `names[d]` are
 * `values[starts[i * k + d]]` up to `values[starts[i * k + d + 1]]`, none where the two are equal.
 */
export interface DimColumns {
  names: string[];
  values: string[];
  starts: Uint32Array;
}

/** The dims of `events` as flat columns, or undefined when none has any. */
function dimColumnsOf(events: readonly { dims?: EventDims }[]): DimColumns | undefined {
  const names = typeIndex();
  for (const event of events) if (event.dims !== undefined) for (const name in event.dims) names.indexOf(name);
  const k = names.names.length;
  if (k === 0) return undefined;
  const values: string[] = [];
  const starts = new Uint32Array(events.length * k + 1);
  for (let i = 0; i < events.length; i++) {
    const dims = events[i]!.dims;
    for (let d = 0; d < k; d++) {
      starts[i * k + d] = values.length;
      const name = names.names[d]!;
      // Own keys only: a dimension may be named "constructor", which every object inherits.
      if (dims !== undefined && Object.hasOwn(dims, name)) for (const value of dims[name]!) values.push(value);
    }
  }
  starts[events.length * k] = values.length;
  return { names: names.names, values, starts };
}

/** The dims of `events` one object per event, null where one has none; undefined when none has any. */
function dimsPerEvent(events: readonly { dims?: EventDims }[]): (EventDims | null)[] | undefined {
  if (!events.some((e) => e.dims !== undefined)) return undefined;
  return events.map((e) => e.dims ?? null);
}

/** Event `i`'s dims out of `columns`, undefined where it had none. */
function dimsAt({ names, values, starts }: DimColumns, i: number): EventDims | undefined {
  const k = names.length;
  let dims: EventDims | undefined;
  for (let d = 0; d < k; d++) {
    const from = starts[i * k + d]!;
    const to = starts[i * k + d + 1]!;
    if (to > from) (dims ??= {})[names[d]!] = values.slice(from, to);
  }
  return dims;
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
 * type index always fits (a batch cannot hold more distinct types than events). Dims go as flat
 * columns to an object whose descriptor says `dimColumns`, else one object per event, which an
 * object of the build before reads (a deploy mixes versions for a while). */
export function columnsOf(batch: IncomingBatch, flatDims = true): BatchColumns {
  const n = batch.events.length;
  const items = new Array<string>(n);
  const actors = new Array<string | null>(n);
  const typeOf = new Uint16Array(n);
  const weights = new Float64Array(n);
  const ts = new Float64Array(n);
  const types = typeIndex();
  for (let i = 0; i < n; i++) {
    const event = batch.events[i]!;
    items[i] = event.item;
    actors[i] = event.actor ?? null;
    weights[i] = event.weight ?? NaN;
    ts[i] = event.ts;
    typeOf[i] = types.indexOf(event.type);
  }
  const columns: BatchColumns = { items, typeNames: types.names, typeOf, weights, actors, ts };
  if (batch.batchId !== undefined) columns.batchId = batch.batchId;
  if (flatDims) {
    const dims = dimColumnsOf(batch.events);
    if (dims !== undefined) columns.dimColumns = dims;
  } else {
    const dims = dimsPerEvent(batch.events);
    if (dims !== undefined) columns.dims = dims;
  }
  return columns;
}

/** The events of `columns`, each without a weight given the one `defaultWeight` names for its type;
 * an event without dims has no `dims` key. */
export function eventsOf(columns: BatchColumns, defaultWeight: (type: string) => number): TallyEvent[] {
  const { items, typeNames, typeOf, weights, actors, ts, dims, dimColumns } = columns;
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
    const eventDims = dimColumns !== undefined ? dimsAt(dimColumns, i) : dims?.[i];
    if (eventDims) events[i]!.dims = eventDims;
  }
  return events;
}
