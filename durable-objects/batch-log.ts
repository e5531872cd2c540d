/**
 * The rows of `batch_log`: the events a namespace's object acknowledged since its last checkpoint,
 * replayed at start-up. Every accepted batch is written here before its `202`, so this encoding is
 * on the ingest path of every event.
 *
 * Format 2 stores a row's events as columns: one array per field, the type names once, times as
 * offsets from the row's earliest. For 1000 events that is less than half the text of an object
 * per event (format 1) and about a quarter of the time to serialise; SQLite writes, and the
 * checkpoint deletes, fewer pages. A format-1 row (a JSON array of events) is still replayed.
 *
 * Format 3 (v1.7) is format 2 plus a `dims` column, null where an event has none. It is written
 * only for a row where some event has dims, so a row without dims stays format 2, byte for byte,
 * and is still read by a build of before segments.
 */
import type { EventDims, TallyEvent } from "../src/shared/contract";
import { typeIndex } from "../src/shared/batch-columns";
import { UnknownFormatError } from "./stored-format";

/** The newest format written: 3 for a row with dims, else 2 (COLUMNS_FORMAT). */
export const BATCH_LOG_FORMAT = 3;
const COLUMNS_FORMAT = 2;

export interface LogRow {
  v: typeof COLUMNS_FORMAT | typeof BATCH_LOG_FORMAT;
  /** The earliest `ts` of the row; `ts` holds each event's offset from it. */
  base: number;
  items: string[];
  /** The row's distinct type names; `typeOf[i]` indexes them. */
  types: string[];
  typeOf: number[];
  weights: number[];
  /** null where the event named no actor. */
  actors: (string | null)[];
  ts: number[];
  /** Format 3 only: each event's dims, null where it has none. */
  dims?: (EventDims | null)[];
}

/** The JSON text of a row holding `events`: format 3 if one of them has dims, else format 2. */
export function encodeLogRow(events: readonly TallyEvent[]): string {
  const n = events.length;
  const items = new Array<string>(n);
  const typeOf = new Array<number>(n);
  const weights = new Array<number>(n);
  const actors = new Array<string | null>(n);
  const ts = new Array<number>(n);
  const types = typeIndex();
  let dims: (EventDims | null)[] | undefined;
  let base = Infinity;
  for (const event of events) base = Math.min(base, event.ts);
  for (let i = 0; i < n; i++) {
    const event = events[i]!;
    items[i] = event.item;
    typeOf[i] = types.indexOf(event.type);
    weights[i] = event.weight;
    actors[i] = event.actor ?? null;
    ts[i] = event.ts - base;
    if (event.dims !== undefined) (dims ??= new Array<EventDims | null>(n).fill(null))[i] = event.dims;
  }
  const row: LogRow = { v: COLUMNS_FORMAT, base: n === 0 ? 0 : base, items, types: types.names, typeOf, weights, actors, ts };
  if (dims !== undefined) Object.assign(row, { v: BATCH_LOG_FORMAT, dims });
  return JSON.stringify(row);
}

/** The events of a stored row, of format 3, 2 or 1; any other is refused, never guessed. */
export function decodeLogRow(text: string): TallyEvent[] {
  const stored = JSON.parse(text) as TallyEvent[] | LogRow;
  if (Array.isArray(stored)) return stored; // format 1: one object per event
  if (stored.v !== COLUMNS_FORMAT && stored.v !== BATCH_LOG_FORMAT) throw new UnknownFormatError("batch log row", stored.v, BATCH_LOG_FORMAT);
  const { base, items, types, typeOf, weights, actors, ts } = stored;
  const dims = stored.v === BATCH_LOG_FORMAT ? stored.dims : undefined;
  const n = items.length;
  if (typeOf.length !== n || weights.length !== n || actors.length !== n || ts.length !== n || (stored.v === BATCH_LOG_FORMAT && dims?.length !== n)) {
    throw new Error("malformed batch log row: its columns differ in length");
  }
  const events = new Array<TallyEvent>(n);
  for (let i = 0; i < n; i++) {
    const type = types[typeOf[i]!];
    if (type === undefined) throw new Error("malformed batch log row: a type index out of range");
    const actor = actors[i];
    events[i] =
      actor === null
        ? { item: items[i]!, type, weight: weights[i]!, ts: base + ts[i]! }
        : { item: items[i]!, type, weight: weights[i]!, actor: actor!, ts: base + ts[i]! };
    const eventDims = dims?.[i];
    if (eventDims) events[i]!.dims = eventDims;
  }
  return events;
}
