/**
 * Namespace configuration: validated field by field when it is set, never on first use.
 * A refused config names the field and the values it allows (`400 invalid_config`).
 */
import {
  COMPARES,
  DEFAULT_CONFIG,
  DEFAULT_DIMENSION_CAPACITY,
  MAX_DIMENSIONS,
  MAX_WEIGHT,
  READ_WINDOWS,
  TYPE_PATTERN,
  type Compare,
  type DimensionConfig,
  type NamespaceConfig,
  type ReadWindow,
} from "../shared/contract";
import { invalid } from "../shared/errors";
import { parseLimits } from "../shared/quota-limits";
import { fitsBudget, heldBytes, maxCapacityWithin, maxDimensionCountersWithin, worstCaseBytes } from "./budget";
import { canonicalTimeZone } from "./calendar";
import { MEMORY_BUDGET_BYTES } from "./memory";

/** Bounds that keep one namespace's memory and refresh work within a Durable Object's means. */
export const CONFIG_BOUNDS = {
  maxLimit: { min: 1, max: 1000 },
  /** At least 1 s: KV takes at most one write per key per second. */
  refreshSeconds: { min: 1, max: 3600 },
  staleSeconds: { min: 0, max: 7 * 86400 },
  /** Each declared type adds a summary per bucket. */
  types: { max: 32 },
  capacity: { min: 10, max: 50_000 },
  /** One minute to 30 days, the longest window (docs/api.md). */
  hotHalfLifeSeconds: { min: 60, max: 30 * 86400 },
  /** A namespace's object merges every shard on each refresh, at most 6 at a time (the
   * platform's limit on a request's open connections): 16 shards is three rounds. */
  ingestShards: { min: 1, max: 16 },
  /** Origins allowed to frame GET /embed: a CSP header carries them all, so a few. */
  embedAncestors: { max: 16 },
  /** (v1.7) Each dimension adds three summaries per bucket (segments.ts). */
  dimensions: { max: MAX_DIMENSIONS },
  dimensionCapacity: { min: 10, max: 10_000 },
} as const;

/** (v1.7) A dimension is named like a type, but without ":", which ends its name in `segment=`. */
export const DIMENSION_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** An origin a CSP `frame-ancestors` source may name: scheme, host (optionally `*.` first), port. */
export const ANCESTOR_PATTERN = /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/;

const FIELDS = [
  "windows", "maxLimit", "refreshSeconds", "staleSeconds", "types", "capacity", "hotHalfLifeSeconds", "ingestShards", "limits", "embedAncestors", "timezone", "compare", "dimensions",
] as const;

function refuse(field: string, message: string, allowed: unknown) {
  return invalid("invalid_config", `${field}: ${message}`, { field, allowed });
}

type IntegerField = "maxLimit" | "refreshSeconds" | "staleSeconds" | "capacity" | "hotHalfLifeSeconds" | "ingestShards";

function integerIn(body: Record<string, unknown>, field: IntegerField): number {
  const value = body[field];
  const { min, max } = CONFIG_BOUNDS[field];
  if (value === undefined) return DEFAULT_CONFIG[field];
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw refuse(field, `must be an integer from ${min} to ${max}.`, { min, max });
  }
  return value;
}

function parseWindows(value: unknown): ReadWindow[] {
  if (value === undefined) return [...DEFAULT_CONFIG.windows];
  const allowed = READ_WINDOWS as readonly unknown[];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((w) => allowed.includes(w)) ||
    new Set(value).size !== value.length
  ) {
    throw refuse("windows", `must be a non-empty list of distinct windows out of ${READ_WINDOWS.join(", ")}.`, READ_WINDOWS);
  }
  // Stored in the order of READ_WINDOWS (sliding ones shortest first), so that answers list windows predictably.
  return READ_WINDOWS.filter((w) => value.includes(w));
}

function parseTypes(value: unknown): NamespaceConfig["types"] {
  if (value === undefined) return structuredClone(DEFAULT_CONFIG.types);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw refuse("types", 'must be an object such as {"view": {"weight": 1}}.', { pattern: TYPE_PATTERN.source });
  }
  const entries = Object.entries(value);
  if (entries.length > CONFIG_BOUNDS.types.max) {
    throw refuse("types", `declares at most ${CONFIG_BOUNDS.types.max} types.`, { max: CONFIG_BOUNDS.types.max });
  }
  // Type names are data: collected in a Map and made own properties by Object.fromEntries, so
  // that no name can reach Object's members (the config crosses RPC, so it stays a plain object).
  const types = new Map<string, NamespaceConfig["types"][string]>();
  for (const [name, spec] of entries) {
    if (!TYPE_PATTERN.test(name)) {
      throw refuse(`types.${name}`, `is not a valid type name.`, { pattern: TYPE_PATTERN.source });
    }
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      throw refuse(`types.${name}`, 'must be an object, {} or {"weight": n}.', { fields: ["weight"] });
    }
    const unknown = Object.keys(spec).find((k) => k !== "weight");
    if (unknown !== undefined) throw refuse(`types.${name}.${unknown}`, "is not a type setting.", { fields: ["weight"] });
    const weight = (spec as { weight?: unknown }).weight;
    if (weight === undefined) {
      types.set(name, {});
    } else if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0 || weight > MAX_WEIGHT) {
      throw refuse(`types.${name}.weight`, `must be a number with 0 < weight <= ${MAX_WEIGHT}.`, { min: 0, max: MAX_WEIGHT });
    } else {
      types.set(name, { weight });
    }
  }
  return Object.fromEntries(types);
}

function parseAncestors(value: unknown): string[] {
  if (value === undefined) return [];
  const { max } = CONFIG_BOUNDS.embedAncestors;
  if (!Array.isArray(value) || value.length > max || !value.every((o) => typeof o === "string" && ANCESTOR_PATTERN.test(o))) {
    throw refuse("embedAncestors", `must be at most ${max} origins such as "https://example.com" (lower case, no path).`, {
      max,
      pattern: ANCESTOR_PATTERN.source,
    });
  }
  return [...new Set(value as string[])];
}

/** The comparisons to precompute: distinct values of COMPARES, stored in that order. */
function parseCompare(value: unknown): Compare[] {
  if (value === undefined) return [...DEFAULT_CONFIG.compare!];
  const allowed = COMPARES as readonly unknown[];
  if (!Array.isArray(value) || !value.every((c) => allowed.includes(c)) || new Set(value).size !== value.length) {
    throw refuse("compare", `must be a list of distinct comparisons out of ${COMPARES.join(", ")}.`, COMPARES);
  }
  return COMPARES.filter((c) => value.includes(c));
}

/** (v1.7) The declared dimensions: each `{}`, `{"multi": true}`, and/or `{"capacity": n}`. */
function parseDimensions(value: unknown): Record<string, DimensionConfig> {
  if (value === undefined) return {};
  const example = '{"category": {}, "tag": {"multi": true}}';
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw refuse("dimensions", `must be an object such as ${example}.`, { pattern: DIMENSION_PATTERN.source });
  }
  const entries = Object.entries(value);
  const { max } = CONFIG_BOUNDS.dimensions;
  if (entries.length > max) throw refuse("dimensions", `declares at most ${max} dimensions.`, { max });
  const { min: lo, max: hi } = CONFIG_BOUNDS.dimensionCapacity;
  // Names are data, as type names are (parseTypes).
  const dimensions = new Map<string, DimensionConfig>();
  for (const [name, spec] of entries) {
    if (!DIMENSION_PATTERN.test(name)) throw refuse(`dimensions.${name}`, "is not a valid dimension name.", { pattern: DIMENSION_PATTERN.source });
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      throw refuse(`dimensions.${name}`, 'must be an object: {}, {"multi": true} or {"capacity": n}.', { fields: ["multi", "capacity"] });
    }
    const unknown = Object.keys(spec).find((k) => k !== "multi" && k !== "capacity");
    if (unknown !== undefined) throw refuse(`dimensions.${name}.${unknown}`, "is not a dimension setting.", { fields: ["multi", "capacity"] });
    const { multi, capacity } = spec as { multi?: unknown; capacity?: unknown };
    if (multi !== undefined && typeof multi !== "boolean") throw refuse(`dimensions.${name}.multi`, "must be true or false.", [true, false]);
    if (capacity !== undefined && (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < lo || capacity > hi)) {
      throw refuse(`dimensions.${name}.capacity`, `must be an integer from ${lo} to ${hi}.`, { min: lo, max: hi, default: DEFAULT_DIMENSION_CAPACITY });
    }
    dimensions.set(name, { ...(multi === true ? { multi } : {}), ...(capacity !== undefined ? { capacity: capacity as number } : {}) });
  }
  return Object.fromEntries(dimensions);
}

/** (v1.7) Summaries per bucket of each dimension: (value, item) pairs, values by weight, values by events (segments.ts). */
const SUMMARIES_PER_DIMENSION = 3;

/** (v1.7) Counters per bucket of the dimensions' summaries. */
export function dimensionCounters(dimensions: Record<string, DimensionConfig> | undefined): number {
  let counters = 0;
  for (const d of Object.values(dimensions ?? {})) counters += SUMMARIES_PER_DIMENSION * (d.capacity ?? DEFAULT_DIMENSION_CAPACITY);
  return counters;
}

/**
 * (v1.7) The largest capacity each of `count` dimensions may have, all alike, beside a namespace's
 * `capacity` and declared types (0 when not even the smallest fits): what a refusal offers instead.
 */
export function widestDimensionCapacity(count: number, capacity: number, declaredTypes: number, zoned = false): number {
  if (count === 0) return 0;
  const each = Math.floor(maxDimensionCountersWithin(MEMORY_BUDGET_BYTES, capacity, declaredTypes, zoned) / (SUMMARIES_PER_DIMENSION * count));
  return each < CONFIG_BOUNDS.dimensionCapacity.min ? 0 : Math.min(CONFIG_BOUNDS.dimensionCapacity.max, each);
}

/** An IANA time zone name, stored as given where the runtime knows it (calendar.ts `canonicalTimeZone`). */
function parseTimezone(value: unknown): string {
  if (value === undefined) return DEFAULT_CONFIG.timezone!;
  const zone = typeof value === "string" && value.length <= 64 ? canonicalTimeZone(value) : undefined;
  if (zone === undefined) {
    throw refuse("timezone", 'must be an IANA time zone name such as "Europe/Berlin" or "UTC".', { examples: ["UTC", "Europe/Berlin", "Asia/Kolkata"] });
  }
  return zone;
}

/** Parses a whole config (`PUT` replaces it: omitted fields take their defaults). */
export function parseConfig(body: unknown): NamespaceConfig {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("invalid_config", "The config must be a JSON object.", { field: null, allowed: FIELDS });
  }
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) throw refuse(unknown, "is not a config field.", FIELDS);
  const config: NamespaceConfig = {
    windows: parseWindows(record.windows),
    maxLimit: integerIn(record, "maxLimit"),
    refreshSeconds: integerIn(record, "refreshSeconds"),
    staleSeconds: integerIn(record, "staleSeconds"),
    types: parseTypes(record.types),
    capacity: integerIn(record, "capacity"),
    hotHalfLifeSeconds: integerIn(record, "hotHalfLifeSeconds"),
    ingestShards: integerIn(record, "ingestShards"),
    limits: parseLimits(record.limits, "limits", "invalid_config"),
    embedAncestors: parseAncestors(record.embedAncestors),
    timezone: parseTimezone(record.timezone),
    compare: parseCompare(record.compare),
    dimensions: parseDimensions(record.dimensions),
  };
  checkMemory(config);
  return config;
}

/**
 * Refuses a config whose worst case cannot be held within the namespace's memory budget even
 * with every older bucket cut to nothing (budget.ts): capacity times the number of summaries per
 * bucket is what the live buckets hold, so `capacity` is the field named, with the largest one
 * that fits this many declared types.
 */
function checkMemory(config: NamespaceConfig): void {
  const types = Object.keys(config.types).length;
  // A zoned namespace also keeps its local days (local-days.ts): one more live bucket.
  const zoned = config.timezone !== undefined && config.timezone !== DEFAULT_CONFIG.timezone;
  const dims = dimensionCounters(config.dimensions);
  if (fitsBudget(config.capacity, types, MEMORY_BUDGET_BYTES, zoned, dims)) return;
  const estimate = worstCaseBytes(config.capacity, types, zoned, dims);
  const { min } = CONFIG_BOUNDS.capacity;
  const max = Math.min(CONFIG_BOUNDS.capacity.max, maxCapacityWithin(MEMORY_BUDGET_BYTES, types, zoned, dims));
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
  if (max < min) {
    const count = Object.keys(config.dimensions ?? {}).length;
    const each = widestDimensionCapacity(count, config.capacity, types, zoned);
    throw refuse(
      "dimensions",
      `their summaries could hold ${mb(estimate)} at worst, beyond the namespace's memory budget at any capacity; ` +
        (each > 0
          ? `beside a capacity of ${config.capacity}, each of ${count} dimensions fits with a capacity of at most ${each}.`
          : `declare fewer dimensions, or lower capacity.`),
      { maxDimensionCapacity: each, estimateBytes: estimate, budgetBytes: MEMORY_BUDGET_BYTES },
    );
  }
  throw refuse(
    "capacity",
    `with ${types} declared type${types === 1 ? "" : "s"}${dims > 0 ? ` and ${dims} dimension counters` : ""}, a capacity of ${config.capacity} could hold ${mb(estimate)} ` +
      `at worst (every counter a distinct 256-byte item), over the ${mb(heldBytes(MEMORY_BUDGET_BYTES))} a namespace may ` +
      `account for within its memory budget of ${mb(MEMORY_BUDGET_BYTES)}; ` +
      `at most ${max} fits${zoned ? " with a time zone other than UTC" : ""}.`,
    { min, max, estimateBytes: estimate, budgetBytes: MEMORY_BUDGET_BYTES },
  );
}

/** The default weight of an event of `type`: the type's configured weight, else 1. */
export function defaultWeight(config: NamespaceConfig, type: string): number {
  return Object.hasOwn(config.types, type) ? (config.types[type]?.weight ?? 1) : 1;
}
