/**
 * The namespace export document (docs/api.md, "export/import"): a complete, versioned copy of a
 * namespace's state (its config, every bucket as `BucketState`, the events still pending) and
 * never its generation, which belongs to the name's cache keys, not to the data.
 *
 * The document is superjson text, so typed values (the export time as a Date, typed arrays in a
 * bucket's state) come back as what they were. superjson runs only here, on export and import,
 * never on the read path. Like every serialised form that is checked on load (as DataSketches
 * does), it carries a family id (`format`) and a serial version, and a document is
 * validated whole before anything of it is written.
 */
import SuperJSON from "superjson";
import { MAX_ITEM_BYTES, MAX_SUPPRESSIONS, MAX_WEIGHT, TYPE_PATTERN, type DimensionConfig, type NamespaceConfig, type TallyEvent } from "../shared/contract";
import { TallyError, invalid } from "../shared/errors";
import { checkDims, parseDims } from "../shared/validate";
import type { BucketRecord } from "./aggregator";
import { Bucket } from "./bucket";
import { canonicalTimeZone } from "./calendar";
import { HOURS_PER_DAY, LOCAL_DAYS, type LocalDayState } from "./local-days";
import { parseConfig } from "./config";
import { TIERS } from "./tiers";

export const EXPORT_FORMAT = "tally.namespace-export";
export const EXPORT_VERSION = 1;
/** The largest document an import takes: well under the 32 MiB of one Workers RPC message. */
export const IMPORT_MAX_BYTES = 16 * 1024 * 1024;

export interface NamespaceExport {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  /** The namespace it was exported from (informational: it may be imported under any name). */
  namespace: string;
  exportedAt: Date;
  config: NamespaceConfig;
  buckets: BucketRecord[];
  /** Accepted events whose `ts` was still ahead at export time. */
  pending: TallyEvent[];
  /** The suppressed items (content moderation), each with the time it was suppressed. */
  suppressions: ExportedSuppression[];
}

export interface ExportedSuppression {
  item: string;
  suppressedAt: Date;
}

/** What an import writes: the document, validated. */
export type NamespaceImport = Pick<NamespaceExport, "config" | "buckets" | "pending" | "suppressions">;

/** A private instance, so that the typed-array transformers do not change superjson elsewhere. */
const codec = new SuperJSON();
const TYPED_ARRAYS = { Uint8Array, Int32Array, Uint32Array, Float32Array, Float64Array } as const;
for (const [name, Type] of Object.entries(TYPED_ARRAYS)) {
  codec.registerCustom<InstanceType<(typeof TYPED_ARRAYS)[keyof typeof TYPED_ARRAYS]>, number[]>(
    { isApplicable: (v): v is InstanceType<typeof Type> => v instanceof Type, serialize: (v) => Array.from(v), deserialize: (v) => Type.from(v) },
    name,
  );
}

/** The document's text. */
export function encodeExport(document: NamespaceExport): string {
  return codec.stringify(document);
}

/** Revives a document's text (typed values included), without validating it. */
export function decodeExport(text: string): unknown {
  return codec.parse(text);
}

const refuse = (field: string, message: string) =>
  invalid("invalid_export", `The export document is damaged or foreign: ${field} ${message}`, { field });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const FIELDS = ["format", "version", "namespace", "exportedAt", "config", "buckets", "pending", "suppressions"];

/** Checks a whole document and returns what an import writes, or throws `400 invalid_export`
 * naming the first bad field. Nothing is written by anyone before this returns. */
export function parseExport(text: string): NamespaceImport {
  let doc: unknown;
  try {
    doc = decodeExport(text);
  } catch {
    throw refuse("(document)", "is not superjson text.");
  }
  if (!isObject(doc) || doc.format !== EXPORT_FORMAT) throw refuse("format", `must be "${EXPORT_FORMAT}".`);
  if (doc.version !== EXPORT_VERSION) throw refuse("version", `must be ${EXPORT_VERSION}; this service reads no other.`);
  const unknown = Object.keys(doc).find((k) => !FIELDS.includes(k));
  if (unknown !== undefined) throw refuse(unknown, "is not a field of this version.");
  if (!(doc.exportedAt instanceof Date) || Number.isNaN(doc.exportedAt.getTime())) throw refuse("exportedAt", "must be a date.");
  let config: NamespaceConfig;
  try {
    config = parseConfig(doc.config);
  } catch (error) {
    throw refuse(`config${error instanceof TallyError && error.details.field ? `.${String(error.details.field)}` : ""}`, "is not a valid config.");
  }
  return {
    config,
    buckets: parseBuckets(doc.buckets),
    pending: parsePending(doc.pending, config.dimensions),
    suppressions: parseSuppressions(doc.suppressions),
  };
}

function parseSuppressions(value: unknown): ExportedSuppression[] {
  if (!Array.isArray(value)) throw refuse("suppressions", "must be a list.");
  if (value.length > MAX_SUPPRESSIONS) throw refuse("suppressions", `holds more than ${MAX_SUPPRESSIONS} items.`);
  const seen = new Set<string>();
  return value.map((s: unknown, i) => {
    const ok =
      isObject(s) &&
      typeof s.item === "string" &&
      s.item.length > 0 &&
      utf8.encode(s.item).length <= MAX_ITEM_BYTES &&
      !seen.has(s.item) &&
      s.suppressedAt instanceof Date &&
      !Number.isNaN(s.suppressedAt.getTime());
    if (!ok) throw refuse(`suppressions[${i}]`, "is not a suppressed item with its date, or repeats one.");
    seen.add(s.item as string);
    return { item: s.item as string, suppressedAt: s.suppressedAt as Date };
  });
}

const utf8 = new TextEncoder();

function parseBuckets(value: unknown): BucketRecord[] {
  if (!Array.isArray(value)) throw refuse("buckets", "must be a list.");
  const seen = new Set<string>();
  return value.map((record: unknown, i) => {
    const field = `buckets[${i}]`;
    if (!isObject(record) || !isObject(record.state)) throw refuse(field, "must be {tier, state}.");
    if (record.tier === LOCAL_DAYS) return parseLocalDay(field, record.state, seen);
    const tier = TIERS.find((t) => t.name === record.tier);
    if (!tier) throw refuse(`${field}.tier`, `must be one of ${TIERS.map((t) => t.name).join(", ")}.`);
    const start = record.state.start;
    if (!Number.isSafeInteger(start) || (start as number) % tier.bucketMs !== 0) throw refuse(`${field}.state.start`, "must be a bucket boundary of its tier.");
    const key = `${tier.name}:${start}`;
    if (seen.has(key)) throw refuse(field, "repeats a bucket.");
    seen.add(key);
    try {
      // The core's own loader checks the summaries and sketches (bounds, repeats, registers);
      // its round trip proves the state is exactly what a bucket serialises to.
      const state = Bucket.fromJSON(record.state as never).toJSON();
      checkTotals(state.totals);
      return { tier: tier.name, state };
    } catch (error) {
      if (error instanceof TallyError) throw refuse(field, error.message);
      throw refuse(field, "is not a valid bucket state.");
    }
  });
}

/** A local day (v1.5): a bucket state with its zone, end and hours (local-days.ts). */
function parseLocalDay(field: string, state: Record<string, unknown>, seen: Set<string>): BucketRecord {
  const { start, end, zone, hours } = state;
  const ok =
    Number.isSafeInteger(start) &&
    Number.isSafeInteger(end) &&
    (end as number) > (start as number) &&
    typeof zone === "string" &&
    canonicalTimeZone(zone) === zone &&
    Array.isArray(hours) &&
    hours.length === HOURS_PER_DAY * 2 &&
    hours.every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0);
  if (!ok) throw refuse(`${field}.state`, "must be a local day: start, end, zone and its hours.");
  const key = `${LOCAL_DAYS}:${zone}:${start}`;
  if (seen.has(key)) throw refuse(field, "repeats a bucket.");
  seen.add(key);
  try {
    const bucket = Bucket.fromJSON(state as never).toJSON();
    checkTotals(bucket.totals);
    const day: LocalDayState = { ...bucket, zone, end: end as number, hours: hours as number[], ...(state.approximate === true ? { approximate: true } : {}) };
    return { tier: LOCAL_DAYS, state: day };
  } catch (error) {
    if (error instanceof TallyError) throw refuse(field, error.message);
    throw refuse(field, "is not a valid bucket state.");
  }
}

function checkTotals(totals: unknown): void {
  const ok =
    Array.isArray(totals) &&
    totals.every(
      (t) => Array.isArray(t) && typeof t[0] === "string" && Number.isSafeInteger(t[1]) && t[1] >= 0 && Number.isFinite(t[2]) && t[2] >= 0,
    );
  if (!ok) throw new RangeError("bad totals");
}

/** The pending events, their dims by the door's rules and against the document's own config. */
function parsePending(value: unknown, dimensions: Record<string, DimensionConfig> | undefined): TallyEvent[] {
  if (!Array.isArray(value)) throw refuse("pending", "must be a list.");
  const events = value.map((e: unknown, i) => {
    const ok =
      isObject(e) &&
      typeof e.item === "string" &&
      e.item.length > 0 &&
      typeof e.type === "string" &&
      TYPE_PATTERN.test(e.type) &&
      typeof e.weight === "number" &&
      e.weight > 0 &&
      e.weight <= MAX_WEIGHT &&
      Number.isSafeInteger(e.ts) &&
      (e.actor === undefined || typeof e.actor === "string");
    if (!ok) throw refuse(`pending[${i}]`, "is not a valid event.");
    const event: TallyEvent = { item: e.item as string, type: e.type as string, weight: e.weight as number, ts: e.ts as number };
    if (typeof e.actor === "string") event.actor = e.actor;
    if (e.dims !== undefined && e.dims !== null) {
      const dims = parseDims(e.dims, (field, message) => refuse(`pending[${i}].${field}`, message));
      if (dims !== undefined) event.dims = dims;
    }
    return event;
  });
  try {
    checkDims(events, dimensions);
  } catch (error) {
    if (error instanceof TallyError) throw refuse(`pending[${String(error.details.index)}].${String(error.details.field)}`, error.message);
    throw error;
  }
  return events;
}
