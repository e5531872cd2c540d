/**
 * Validation of ingest batches, at the door: the Worker refuses a bad batch before any Durable
 * Object is touched, and one bad event refuses the whole batch (docs/api.md, "ingest").
 */
import {
  DAY,
  DEFAULT_TYPE,
  MINUTE,
  MAX_ACTOR_BYTES,
  MAX_BATCH,
  MAX_DIMENSION_VALUES,
  MAX_DIMENSIONS,
  MAX_EVENT_AGE_MS,
  MAX_EVENT_LEAD_MS,
  MAX_ITEM_BYTES,
  MAX_VALUE_BYTES,
  MAX_WEIGHT,
  TYPE_PATTERN,
  type DimensionConfig,
  type ErrorDetails,
  type EventDims,
} from "./contract";
import { TallyError, invalid } from "./errors";

/** An event as accepted at the door: `weight` stays open when absent, because the default comes
 * from the namespace's config, which only its object knows. */
export interface IncomingEvent {
  item: string;
  type: string;
  weight?: number;
  actor?: string;
  ts: number;
  /** (v1.7) Absent when the event gave none (or an empty object). */
  dims?: EventDims;
}

export interface IncomingBatch {
  batchId?: string;
  events: IncomingEvent[];
}

const MAX_BATCH_ID_LENGTH = 128;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const encoder = new TextEncoder();

/** Whether `s` takes at most `max` bytes of UTF-8. A UTF-16 code unit never takes more than 3
 * bytes, so short strings need no encoding on the hot path. */
function fitsUtf8(s: string, max: number): boolean {
  return s.length * 3 <= max || encoder.encode(s).length <= max;
}

/**
 * The item of a suppression path, `{item}` URL-encoded in one path segment: decoded, it must be 1
 * to 256 bytes of UTF-8 like an event's item (`400 invalid_item` otherwise, also for an encoding
 * that is not UTF-8).
 */
export function parseItemSegment(segment: string): string {
  let item: string;
  try {
    item = decodeURIComponent(segment);
  } catch {
    item = "";
  }
  if (item.length === 0 || !fitsUtf8(item, MAX_ITEM_BYTES)) throw invalidItem();
  return item;
}

export const invalidItem = () =>
  invalid("invalid_item", "The item must be 1 to 256 bytes of UTF-8, URL-encoded as one path segment.", { field: "item" });

function eventError(index: number, field: string, message: string, details?: ErrorDetails): TallyError {
  return invalid("invalid_event", `Event ${index}: ${message}`, { index, field, ...details });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function parseTs(raw: unknown, index: number, now: number): number {
  if (raw === undefined || raw === null) return now;
  let ts: number;
  if (typeof raw === "number" && Number.isFinite(raw)) ts = Math.floor(raw);
  else if (typeof raw === "string" && ISO_8601.test(raw) && Number.isFinite(Date.parse(raw))) ts = Date.parse(raw);
  else throw eventError(index, "ts", "ts must be milliseconds since the epoch or an ISO-8601 string.");
  if (ts < now - MAX_EVENT_AGE_MS) {
    throw eventError(index, "ts", `ts is older than ${MAX_EVENT_AGE_MS / DAY} days, the longest window.`);
  }
  if (ts > now + MAX_EVENT_LEAD_MS) {
    throw eventError(index, "ts", `ts is more than ${MAX_EVENT_LEAD_MS / MINUTE} minutes in the future.`);
  }
  return ts;
}

/** The last type name found valid: a batch's events mostly share a few types, so the pattern
 * is tested once per run of one name rather than once per event. */
let validType = DEFAULT_TYPE;

function parseEvent(raw: unknown, index: number, now: number): IncomingEvent {
  if (!isObject(raw)) throw eventError(index, "event", "each event must be a JSON object.");
  const { item, type, weight, actor, dims } = raw;
  if (typeof item !== "string" || item.length === 0 || !fitsUtf8(item, MAX_ITEM_BYTES)) {
    throw eventError(index, "item", `item must be a string of 1 to ${MAX_ITEM_BYTES} bytes of UTF-8.`);
  }
  const event: IncomingEvent = { item, type: DEFAULT_TYPE, ts: parseTs(raw.ts, index, now) };
  if (type !== undefined && type !== null) {
    if (type !== validType) {
      if (typeof type !== "string" || !TYPE_PATTERN.test(type)) {
        throw eventError(index, "type", "type must match ^[a-z0-9][a-z0-9_.:-]{0,63}$.");
      }
      validType = type;
    }
    event.type = type as string;
  }
  if (weight !== undefined && weight !== null) {
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0 || weight > MAX_WEIGHT) {
      throw eventError(index, "weight", `weight must be a finite number with 0 < weight <= ${MAX_WEIGHT}.`);
    }
    event.weight = weight;
  }
  if (actor !== undefined && actor !== null) {
    if (typeof actor !== "string" || !fitsUtf8(actor, MAX_ACTOR_BYTES)) {
      throw eventError(index, "actor", `actor must be a string of at most ${MAX_ACTOR_BYTES} bytes of UTF-8.`);
    }
    event.actor = actor;
  }
  if (dims !== undefined && dims !== null) {
    const parsed = parseDims(dims, (field, message) => eventError(index, field, message));
    if (parsed !== undefined) event.dims = parsed;
  }
  return event;
}

const DIMS_EXAMPLE = '{"category": "comedy", "tag": ["cats", "funny"]}';

/**
 * (v1.7) An event's `dims` (present and not null) by the door's rules, or `refuse(field, message)`
 * thrown for the first problem: an object of at most MAX_DIMENSIONS names matching TYPE_PATTERN,
 * each a value or a list of 1 to MAX_DIMENSION_VALUES values, each value 1 to MAX_VALUE_BYTES
 * bytes of UTF-8 without U+0000, which the core uses as a separator. Normalised to lists without
 * repeats, in the order first given; undefined for `{}`. Whether the namespace declares the names
 * is `checkDims`'s question, asked where the config is known. An import's pending events are
 * checked here too, with their own refusal.
 */
export function parseDims(raw: unknown, refuse: (field: string, message: string) => TallyError): EventDims | undefined {
  if (!isObject(raw)) throw refuse("dims", `dims must be an object of dimension names and values, such as ${DIMS_EXAMPLE}.`);
  const names = Object.keys(raw);
  if (names.length === 0) return undefined;
  if (names.length > MAX_DIMENSIONS) throw refuse("dims", `dims names ${names.length} dimensions; an event names at most ${MAX_DIMENSIONS}.`);
  const dims: EventDims = {};
  for (const name of names) {
    // "__proto__" fails the pattern, so assigning below never reaches a prototype.
    if (!TYPE_PATTERN.test(name)) {
      throw refuse("dims", `dims names ${JSON.stringify(name.slice(0, 80))}, not a dimension name: names match ${TYPE_PATTERN.source}.`);
    }
    dims[name] = parseValues(raw[name], `dims.${name}`, refuse);
  }
  return dims;
}

/** One dimension's value or list of values, as a list without repeats. */
function parseValues(raw: unknown, field: string, refuse: (field: string, message: string) => TallyError): string[] {
  const badValue = () =>
    refuse(field, `${field} must be a string of 1 to ${MAX_VALUE_BYTES} bytes of UTF-8 without U+0000, or a list of 1 to ${MAX_DIMENSION_VALUES} of them.`);
  if (typeof raw === "string") {
    if (!isDimensionValue(raw)) throw badValue();
    return [raw];
  }
  if (!Array.isArray(raw) || raw.length === 0) throw badValue();
  if (raw.length > MAX_DIMENSION_VALUES) throw refuse(field, `${field} lists ${raw.length} values; a dimension takes at most ${MAX_DIMENSION_VALUES} per event.`);
  const values: string[] = [];
  for (const value of raw as unknown[]) {
    if (typeof value !== "string" || !isDimensionValue(value)) throw badValue();
    if (!values.includes(value)) values.push(value);
  }
  return values;
}

const isDimensionValue = (value: string) => value.length > 0 && fitsUtf8(value, MAX_VALUE_BYTES) && !value.includes("\u0000");

/**
 * (v1.7) Refuses (`400 invalid_event`, its `index` and `field: "dims.<name>"`) the first event that
 * names a dimension `dimensions` does not declare (the declared ones in `allowed`), or gives several
 * values to one not declared `multi`. The Worker asks it with the namespace's descriptor before
 * any object is touched; the object asks it again with its config, which a descriptor held by the
 * Worker may lag. Names are data: a dimension named `constructor` is only a name (`Object.hasOwn`).
 */
export function checkDims(events: readonly { dims?: EventDims }[], dimensions: Record<string, DimensionConfig> | undefined): void {
  for (let index = 0; index < events.length; index++) {
    const dims = events[index]!.dims;
    if (dims === undefined) continue;
    for (const name of Object.keys(dims)) {
      const declared = dimensions !== undefined && Object.hasOwn(dimensions, name) ? dimensions[name] : undefined;
      if (declared === undefined) {
        const allowed = Object.keys(dimensions ?? {});
        const listed = allowed.length === 0 ? "it declares none (config `dimensions`)" : `it declares ${allowed.join(", ")}`;
        throw eventError(index, `dims.${name}`, `dims names "${name}", a dimension this namespace does not declare: ${listed}.`, { allowed });
      }
      if (dims[name]!.length > 1 && declared.multi !== true) {
        throw eventError(index, `dims.${name}`, `dims.${name} gives ${dims[name]!.length} values; "${name}" takes one, as it is not declared {"multi": true}.`);
      }
    }
  }
}

/**
 * Parses a decoded JSON body into a batch, or throws the first problem found.
 * `idempotencyKey` is the `Idempotency-Key` header, equivalent to `batchId`.
 */
export function parseBatch(body: unknown, now: number, idempotencyKey?: string | null): IncomingBatch {
  if (!isObject(body) || !Array.isArray(body.events)) {
    throw invalid("invalid_batch", 'The body must be a JSON object with an "events" array.', { field: "events" });
  }
  const events: unknown[] = body.events;
  if (events.length === 0) {
    throw invalid("invalid_batch", "The batch holds no events; send at least one.", { field: "events" });
  }
  if (events.length > MAX_BATCH) {
    throw new TallyError(413, "batch_too_large", `A batch holds at most ${MAX_BATCH} events; split it.`, {
      maxBatch: MAX_BATCH,
      received: events.length,
    });
  }
  const batchId = parseBatchId(body.batchId, idempotencyKey);
  const parsed = events.map((raw, index) => parseEvent(raw, index, now));
  return batchId === undefined ? { events: parsed } : { batchId, events: parsed };
}

function parseBatchId(fromBody: unknown, fromHeader: string | null | undefined): string | undefined {
  if (fromBody !== undefined && fromBody !== null) {
    if (typeof fromBody !== "string" || fromBody.length === 0 || fromBody.length > MAX_BATCH_ID_LENGTH) {
      throw invalid("invalid_batch", `batchId must be a string of 1 to ${MAX_BATCH_ID_LENGTH} characters.`, {
        field: "batchId",
      });
    }
  }
  const header = fromHeader ?? undefined;
  if (header !== undefined && (header.length === 0 || header.length > MAX_BATCH_ID_LENGTH)) {
    throw invalid("invalid_batch", `Idempotency-Key must be 1 to ${MAX_BATCH_ID_LENGTH} characters.`, {
      field: "Idempotency-Key",
    });
  }
  if (typeof fromBody === "string" && header !== undefined && header !== fromBody) {
    throw invalid("invalid_batch", "batchId and the Idempotency-Key header differ; send one, or the same value.", {
      field: "batchId",
    });
  }
  return typeof fromBody === "string" ? fromBody : header;
}

/**
 * A `limit` query parameter: absent or empty is `fallback`, else an integer from 1 to `max`
 * (`400 invalid_limit`, stating the range). Every listing and ranking reads its limit here.
 */
export function parseLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > max) {
    throw invalid("invalid_limit", `limit must be an integer from 1 to ${max}.`, { field: "limit", allowed: { min: 1, max } });
  }
  return limit;
}
