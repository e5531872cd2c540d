/**
 * The JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of every body Tally reads or writes. They
 * are built from the same constants the door validation uses (contract.ts, CONFIG_BOUNDS), so a
 * changed bound changes the description with it; test/openapi.test.ts checks every answer of the
 * Worker against them, and that the door accepts and refuses what they say.
 */
import {
  COMPARES,
  MAX_ACTOR_BYTES,
  MAX_BATCH,
  MAX_DIMENSION_VALUES,
  MAX_VALUE_BYTES,
  MAX_ITEM_BYTES,
  MAX_WEIGHT,
  NAMESPACE_PATTERN,
  RANKS,
  TYPE_PATTERN,
  MAX_WEBHOOKS,
  WEBHOOK_EVENTS,
  WEBHOOK_ID_PATTERN,
  READ_WINDOWS,
  SEGMENT_RANKS,
  WINDOWS,
} from "../shared/contract";
import { ANCESTOR_PATTERN, CONFIG_BOUNDS, DIMENSION_PATTERN } from "../core/config";
import { KEY_BOUNDS, KEY_ID_PATTERN, KEY_SCOPES } from "../shared/api-keys";
import { AUDIT_PAGE } from "../shared/audit";
import { PER_MINUTE } from "../shared/quota-limits";
import { EXPORT_FORMAT, EXPORT_VERSION } from "../core/export";

export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });


/** docs/api.md: times in answers are ISO-8601 UTC with milliseconds. */
const ISO_MS = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$";
const count = { type: "integer", minimum: 0 };
const nonNegative = { type: "number", minimum: 0 };
const generation = { type: "integer", minimum: 0 };

function object(properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema {
  return { type: "object", properties, required, additionalProperties: false };
}

const typeTotals = object({ events: count, weight: nonNegative });

const rankedItem = object(
  {
    item: { type: "string" },
    score: { type: "number" },
    error: nonNegative,
    current: { type: "number", description: "rank=rising only: the score in the current window." },
    previous: { type: "number", description: "rank=rising only: the score in the preceding period." },
    new: { type: "boolean", description: "rank=rising only: true when the item provably had no events in the preceding period." },
    previousScore: { type: "number", description: "(v1.4) With compare only: the item's score over [previousFrom, previousTo), scored as the rank scores the window (an upper bound)." },
    previousError: { ...nonNegative, description: "(v1.4) With compare only: the overcount of previousScore; the true score lies in [previousScore - previousError, previousScore]." },
  },
  ["item", "score", "error"],
);

/** (v1.4) What a compare answer states of the period it was compared with. */
const compared = {
  compare: ref("Compare"),
  previousFrom: { ...ref("Time"), description: "(v1.4) With compare only: the start of the range compared with (inclusive)." },
  previousTo: { ...ref("Time"), description: "(v1.4) With compare only: the end of the range compared with (exclusive)." },
};

const webhook = object({
  id: { type: "string", pattern: WEBHOOK_ID_PATTERN.source },
  url: { type: "string" },
  on: { type: "array", items: { enum: [...WEBHOOK_EVENTS] } },
  window: ref("Window"),
  rank: ref("Rank"),
  type: { type: ["string", "null"] },
  limit: { type: "integer", minimum: 1 },
  spike: object({ factor: { type: "number" }, minScore: { type: "number" } }),
  createdAt: ref("Time"),
  pending: count,
  lastDelivery: {
    oneOf: [
      { type: "null" },
      object(
        { at: ref("Time"), id: { type: "string" }, attempt: { type: "integer", minimum: 1 }, outcome: { enum: ["delivered", "failed"] }, status: { type: ["integer", "null"] }, error: { type: "string" } },
        ["at", "id", "attempt", "outcome", "status"],
      ),
    ],
  },
  failingSince: { oneOf: [{ type: "null" }, ref("Time")] },
  paused: { type: "boolean" },
});

const header = {
  namespace: ref("Namespace"),
  window: ref("Window"),
  from: ref("Time"),
  to: ref("Time"),
  computedAt: ref("Time"),
  generation,
};

/** (v1.6) The zone a calendar window's answer is bounded in (not sent for sliding windows). */
const zone = { type: "string", maxLength: 64, description: "(v1.6) Calendar windows only: the IANA time zone of from, to and the series." };

const perMinute = { type: "integer", minimum: PER_MINUTE.min, maximum: PER_MINUTE.max };
const quotaLimits = object({ eventsPerMinute: perMinute, requestsPerMinute: perMinute }, []);

const configBounds = {
  windows: { type: "array", items: ref("Window"), minItems: 1, uniqueItems: true },
  maxLimit: { type: "integer", minimum: CONFIG_BOUNDS.maxLimit.min, maximum: CONFIG_BOUNDS.maxLimit.max },
  refreshSeconds: { type: "integer", minimum: CONFIG_BOUNDS.refreshSeconds.min, maximum: CONFIG_BOUNDS.refreshSeconds.max },
  staleSeconds: { type: "integer", minimum: CONFIG_BOUNDS.staleSeconds.min, maximum: CONFIG_BOUNDS.staleSeconds.max },
  types: {
    type: "object",
    maxProperties: CONFIG_BOUNDS.types.max,
    propertyNames: { pattern: TYPE_PATTERN.source },
    additionalProperties: object({ weight: { type: "number", exclusiveMinimum: 0, maximum: MAX_WEIGHT } }, []),
  },
  capacity: { type: "integer", minimum: CONFIG_BOUNDS.capacity.min, maximum: CONFIG_BOUNDS.capacity.max },
  // v1.1 (docs/api.md, "Config fields").
  hotHalfLifeSeconds: { type: "integer", minimum: CONFIG_BOUNDS.hotHalfLifeSeconds.min, maximum: CONFIG_BOUNDS.hotHalfLifeSeconds.max },
  ingestShards: { type: "integer", minimum: CONFIG_BOUNDS.ingestShards.min, maximum: CONFIG_BOUNDS.ingestShards.max },
  // v1.5 (docs/api.md, "Calendar windows").
  timezone: { type: "string", maxLength: 64, default: "UTC", description: "The IANA time zone of calendar windows, such as Europe/Berlin." },
  // v1.6 (docs/api.md, "Comparisons").
  compare: {
    type: "array",
    items: ref("Compare"),
    uniqueItems: true,
    default: [],
    description: "The comparisons precomputed for every configured window that takes them (week: sliding windows up to 24h); others are computed on first read.",
  },
  // v1.7 (docs/api.md, "Segments").
  dimensions: {
    type: "object",
    maxProperties: CONFIG_BOUNDS.dimensions.max,
    propertyNames: { pattern: DIMENSION_PATTERN.source },
    additionalProperties: object(
      {
        multi: { type: "boolean", description: `Takes up to ${MAX_DIMENSION_VALUES} values per event; each counts the event's full weight.` },
        capacity: {
          type: "integer",
          minimum: CONFIG_BOUNDS.dimensionCapacity.min,
          maximum: CONFIG_BOUNDS.dimensionCapacity.max,
          default: 1000,
          description: "The counters of each of the dimension's summaries per bucket.",
        },
      },
      [],
    ),
    default: {},
    description: "(v1.7) The dimensions of segments, by name (no `:`): events carry their values in `dims`.",
  },
  // v1.2 (docs/api.md, "Quotas" and "Embedding a list").
  limits: { ...quotaLimits, description: "Ingest quotas of the namespace, per minute." },
  embedAncestors: {
    type: "array",
    maxItems: CONFIG_BOUNDS.embedAncestors.max,
    items: { type: "string", pattern: ANCESTOR_PATTERN.source },
    description: "Origins that may frame GET /embed (CSP frame-ancestors); none by default.",
  },
};
const V1_0_CONFIG_FIELDS = ["windows", "maxLimit", "refreshSeconds", "staleSeconds", "types", "capacity"];

const apiKey = {
  id: { type: "string", pattern: KEY_ID_PATTERN.source },
  label: { type: "string" },
  scopes: { type: "array", items: { enum: [...KEY_SCOPES] } },
  namespaces: { type: ["array", "null"], items: ref("Namespace") },
  prefix: { type: ["string", "null"] },
  limits: quotaLimits,
  createdAt: ref("Time"),
  expiresAt: { oneOf: [ref("Time"), { type: "null" }] },
  revokedAt: { oneOf: [ref("Time"), { type: "null" }] },
  lastUsedAt: { oneOf: [ref("Time"), { type: "null" }], description: "Reported at most once a minute per Worker isolate." },
};

const auditPage = {
  entries: {
    type: "array",
    maxItems: AUDIT_PAGE.max,
    items: object({
      at: ref("Time"),
      actor: { type: "string", description: "A key id, or ADMIN_TOKEN." },
      action: { type: "string" },
      target: { type: ["string", "null"] },
    }),
  },
  cursor: { type: ["string", "null"], description: "Continues with older entries; null on the last page." },
};

/** (v1.7) One value of one dimension, as a segment answer names it. */
const segment = object({
  dimension: { type: "string", pattern: DIMENSION_PATTERN.source },
  value: { type: "string", minLength: 1, description: `1 to ${MAX_VALUE_BYTES} bytes of UTF-8.` },
});

/** (v1.7) A dimension's top values by weight: the dashboard's per dimension, and (with `cursor`) a page of a breakdown read. */
const breakdown = {
  ...header,
  dimension: { type: "string", pattern: DIMENSION_PATTERN.source },
  exact: { type: "boolean", description: "True when every listed value's weight and events are exact." },
  floor: { ...nonNegative, description: "No value absent from the list may have more weight than this." },
  values: {
    type: "array",
    items: object({
      value: { type: "string", minLength: 1 },
      events: { ...count, description: "An upper bound: the truth lies in [events - eventsError, events]." },
      weight: { ...nonNegative, description: "An upper bound: the truth lies in [weight - error, weight]." },
      error: nonNegative,
      eventsError: count,
    }),
  },
  truncated: { const: true, description: "Values were left out to keep the answer within 256 KiB." },
  timezone: zone,
};
const breakdownRequired = [...Object.keys(header), "dimension", "exact", "floor", "values"];

const layerCounts = object({ hits: count, misses: count, hitRatio: { type: ["number", "null"], minimum: 0, maximum: 1 } });

/** GET .../cache. `segments` (v1.7) is absent from an object of an earlier version. */
const cacheReport: Record<string, Schema> = {
  namespace: ref("Namespace"),
  generation,
  reads: count,
  hitRatio: { type: ["number", "null"], minimum: 0, maximum: 1 },
  layers: object({ edge: layerCounts, kv: layerCounts, do: layerCounts }),
  syncComputes: count,
  refreshes: count,
  refreshErrors: count,
  lastRefresh: {
    oneOf: [
      { type: "null" },
      object(
        { at: ref("Time"), durationMs: nonNegative, outcome: { enum: ["ok", "error"] }, error: { type: "string" } },
        ["at", "durationMs", "outcome"],
      ),
    ],
  },
  checkpointErrors: count,
  lastCheckpoint: {
    oneOf: [
      { type: "null" },
      object({ at: ref("Time"), outcome: { enum: ["ok", "error"] }, error: { type: "string" } }, ["at", "outcome"]),
    ],
  },
  storage: object({ largestRowBytes: count, maxRowBytes: count }),
  memory: object({ bytes: count, budgetBytes: count, cuts: count }),
  live: object({ relays: count, pushes: count, pushFailures: count }),
  webhooks: object({ webhooks: count, failing: count, paused: count, pending: count, attempts: count, failures: count }),
  ingest: object({
    shards: { type: "integer", minimum: CONFIG_BOUNDS.ingestShards.min, maximum: CONFIG_BOUNDS.ingestShards.max },
    perShard: {
      type: "array",
      description: "Each ingest shard that may hold events not merged yet; empty when the namespace's object takes every batch.",
      items: object(
        {
          shard: count,
          retired: { type: "boolean" },
          lagEvents: { type: ["integer", "null"], minimum: 0 },
          lagBatches: { type: ["integer", "null"], minimum: 0 },
          oldestWaitingSince: { oneOf: [{ type: "null" }, ref("Time")] },
          lastMergeAt: { oneOf: [{ type: "null" }, ref("Time")] },
          sinceLastMergeMs: { type: ["integer", "null"], minimum: 0 },
          error: { type: "string", description: "Why the shard could not be asked; its lag is then null." },
        },
        ["shard", "retired", "lagEvents", "lagBatches", "oldestWaitingSince", "lastMergeAt", "sinceLastMergeMs"],
      ),
    },
  }),
  segments: {
    ...object({
      hot: { type: "array", items: segment, description: "The segments the last refresh precomputed." },
      held: { ...count, description: "Segment answers held in the object's memory." },
      warm: { ...count, description: "Segment answers kept warm for their readers, outside the hot ones." },
      reads: { ...count, description: "The segment reads among reads." },
      layers: object({ edge: layerCounts, kv: layerCounts, do: layerCounts }),
    }),
    description: "(v1.7) Segments: the hot ones, the answers held and kept warm, and the layers of segment reads.",
  },
};

export const SCHEMAS: Record<string, Schema> = {
  Namespace: { type: "string", pattern: NAMESPACE_PATTERN.source },
  Window: {
    type: "string",
    enum: [...READ_WINDOWS],
    description: "Sliding windows, and (v1.5) calendar windows in the namespace's timezone: today, yesterday, thisWeek (from Monday), thisMonth.",
  },
  SlidingWindow: { type: "string", enum: [...WINDOWS], description: "A sliding window." },
  Rank: { type: "string", enum: [...RANKS] },
  Compare: { type: "string", enum: [...COMPARES], description: "(v1.4) previous: the period of as many whole buckets right before `from`; week: those buckets 7 days earlier." },
  Time: { type: "string", format: "date-time", pattern: ISO_MS },
  Event: {
    type: "object",
    description: "Unknown fields are ignored; optional fields sent as null are treated as absent.",
    properties: {
      item: { type: "string", minLength: 1, description: `1 to ${MAX_ITEM_BYTES} bytes of UTF-8.` },
      type: { type: ["string", "null"], pattern: TYPE_PATTERN.source, description: 'Default "event".' },
      weight: {
        type: ["number", "null"],
        exclusiveMinimum: 0,
        maximum: MAX_WEIGHT,
        description: "Default: the type's configured weight, else 1.",
      },
      actor: { type: ["string", "null"], description: `At most ${MAX_ACTOR_BYTES} bytes of UTF-8.` },
      ts: {
        type: ["number", "string", "null"],
        description: "Milliseconds since the epoch or ISO-8601; default now. No older than 30 days, at most 5 minutes ahead.",
      },
      dims: {
        type: ["object", "null"],
        propertyNames: { pattern: DIMENSION_PATTERN.source },
        additionalProperties: {
          oneOf: [
            { type: "string", minLength: 1 },
            { type: "array", items: { type: "string", minLength: 1 }, minItems: 1, maxItems: MAX_DIMENSION_VALUES },
          ],
        },
        description:
          `(v1.7) The event's values of the namespace's declared dimensions: one value, or a list of up to ${MAX_DIMENSION_VALUES} for a \`multi\` dimension; ` +
          `each 1 to ${MAX_VALUE_BYTES} bytes of UTF-8 without U+0000. An undeclared dimension refuses the batch.`,
      },
    },
    required: ["item"],
  },
  Batch: {
    type: "object",
    properties: {
      batchId: { type: ["string", "null"], minLength: 1, maxLength: 128 },
      events: { type: "array", items: ref("Event"), minItems: 1, maxItems: MAX_BATCH },
    },
    required: ["events"],
  },
  IngestResult: object({ accepted: count, duplicate: { type: "boolean" } }),
  RankedItem: rankedItem,
  Trending: object(
    {
      ...header,
      rank: ref("Rank"),
      type: { type: ["string", "null"] },
      exact: { type: "boolean" },
      items: { type: "array", items: ref("RankedItem") },
      truncated: { const: true, description: "Items were left out to keep the answer within 256 KiB." },
      ...compared,
      timezone: zone,
    },
    [...Object.keys(header), "rank", "type", "exact", "items"],
  ),
  // ---- v1.7 (docs/api.md, "Segments").
  Segment: segment,
  SegmentTrending: object(
    {
      ...header,
      segment: ref("Segment"),
      rank: { enum: [...SEGMENT_RANKS] },
      type: { type: "null", description: "A segment read counts every type." },
      exact: { type: "boolean" },
      floor: { ...nonNegative, description: "No item absent from the list scores above this: an empty list with floor 0 proves the segment has no item in the window." },
      items: { type: "array", items: ref("RankedItem") },
      truncated: { const: true, description: "Items were left out to keep the answer within 256 KiB." },
      ...compared,
      timezone: zone,
    },
    [...Object.keys(header), "segment", "rank", "type", "exact", "floor", "items"],
  ),
  SegmentStats: object(
    {
      ...header,
      segment: ref("Segment"),
      events: { ...count, description: "An upper bound: the truth lies within error.events below it." },
      weight: { ...nonNegative, description: "An upper bound: the truth lies within error.weight below it." },
      error: ref("TypeTotals"),
      exact: { type: "boolean", description: "True while every bucket of the window held the value: error is then 0." },
      uniqueItems: { ...count, description: "The segment's items held: exact when exact is true, else at least this many." },
      series: { type: "array", items: object({ start: ref("Time"), events: count, weight: nonNegative, error: ref("TypeTotals") }) },
      timezone: zone,
    },
    [...Object.keys(header), "segment", "events", "weight", "error", "exact", "uniqueItems", "series"],
  ),
  TrendingAnswer: { oneOf: [ref("Trending"), ref("SegmentTrending")], description: "A ranking; with segment= (v1.7), a segment's." },
  StatsAnswer: { oneOf: [ref("Stats"), ref("SegmentStats")], description: "A window's stats; with segment= (v1.7), a segment's." },
  Breakdown: object(breakdown, breakdownRequired),
  DimensionPage: object(
    { ...breakdown, cursor: { type: ["string", "null"], description: "Continues with the next page (pass it as `cursor`); null on the last page." } },
    [...breakdownRequired, "cursor"],
  ),
  TypeTotals: typeTotals,
  Stats: object({
    ...header,
    events: count,
    weight: nonNegative,
    uniqueItems: count,
    uniqueActors: count,
    byType: { type: "object", additionalProperties: ref("TypeTotals") },
    series: { type: "array", items: object({ start: ref("Time"), events: count, weight: nonNegative }) },
    ...compared,
    timezone: zone,
    previous: {
      ...object({ events: count, weight: nonNegative, uniqueItems: count, uniqueActors: count }),
      description: "(v1.4) With compare only: the totals over [previousFrom, previousTo).",
    },
    exact: { type: "boolean", description: "(v1.4) With compare only: true when [previousFrom, previousTo) is the very period compare asks for; false when it was widened to the coarser buckets that hold it." },
  }, [...Object.keys(header), "events", "weight", "uniqueItems", "uniqueActors", "byType", "series"]),
  Dashboard: object({
    namespace: ref("Namespace"),
    computedAt: ref("Time"),
    generation,
    timezone: { type: "string", maxLength: 64, description: "(v1.6) The namespace's time zone, that of its calendar windows." },
    windows: {
      type: "object",
      propertyNames: ref("Window"),
      additionalProperties: object(
        {
          stats: ref("Stats"),
          top: ref("Trending"),
          hot: ref("Trending"),
          dimensions: {
            type: "object",
            additionalProperties: ref("Breakdown"),
            description: "(v1.7) With declared dimensions: per dimension, its breakdown's top 10 values.",
          },
        },
        ["stats", "top", "hot"],
      ),
    },
  }, ["namespace", "computedAt", "generation", "windows"]),
  Config: object(configBounds, V1_0_CONFIG_FIELDS),
  ConfigInput: { ...object(configBounds, []), description: "PUT replaces the whole config: omitted fields take their defaults." },
  RefreshResult: object({ namespace: ref("Namespace"), computedAt: ref("Time"), generation }),
  InvalidateResult: object({ namespace: ref("Namespace"), generation }),
  CacheReport: object(cacheReport, Object.keys(cacheReport).filter((k) => k !== "segments")),
  // ---- webhooks (docs/api.md, "Webhooks")
  WebhookInput: {
    type: "object",
    additionalProperties: false,
    required: ["url", "on"],
    properties: {
      url: { type: "string", format: "uri", maxLength: 2048, description: "https (http to loopback only while running locally)." },
      on: { type: "array", items: { enum: [...WEBHOOK_EVENTS] }, minItems: 1 },
      window: { ...ref("SlidingWindow"), default: "1h" },
      rank: { ...ref("Rank"), default: "top" },
      type: { type: ["string", "null"], pattern: TYPE_PATTERN.source, default: null },
      limit: { type: "integer", minimum: 1, default: 10, description: "At most the namespace's maxLimit." },
      spike: {
        type: "object",
        additionalProperties: false,
        properties: { factor: { type: "number", minimum: 1, default: 3 }, minScore: { type: "number", minimum: 0, default: 0 } },
      },
    },
  },
  Webhook: webhook,
  WebhookPut: {
    ...webhook,
    properties: { ...(webhook.properties as Schema), created: { type: "boolean" }, secret: { type: "string", pattern: "^whsec_", description: "Only when created: shown once." } },
    required: [...(webhook.required as string[]), "created"],
  },
  WebhookList: object({ namespace: ref("Namespace"), webhooks: { type: "array", items: webhook, maxItems: MAX_WEBHOOKS } }),
  WebhookDeleted: object({ namespace: ref("Namespace"), id: { type: "string", pattern: WEBHOOK_ID_PATTERN.source }, deleted: { const: true } }),
  DeleteResult: object({ namespace: ref("Namespace"), deleted: { const: true }, generation }),
  // ---- v1.2 (docs/api.md): keys and audit logs.
  KeyInput: {
    ...object(
      {
        label: { type: "string", minLength: 1, maxLength: KEY_BOUNDS.label.max },
        scopes: { type: "array", items: { enum: [...KEY_SCOPES] }, minItems: 1, uniqueItems: true },
        namespaces: { type: "array", items: ref("Namespace"), minItems: 1, maxItems: KEY_BOUNDS.namespaces.max },
        prefix: ref("Namespace"),
        expiresAt: { type: ["string", "null"], format: "date-time" },
        limits: quotaLimits,
      },
      ["label", "scopes"],
    ),
    oneOf: [{ required: ["namespaces"] }, { required: ["prefix"] }],
  },
  Key: object(apiKey),
  CreatedKey: object({ ...apiKey, key: { type: "string", pattern: "^tk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", description: "The key itself: shown in this answer only." } }),
  KeyList: object({ keys: { type: "array", items: ref("Key") } }),
  AuditPage: object(auditPage),
  NamespaceAuditPage: object({ namespace: ref("Namespace"), ...auditPage }),
  // ---- v1.1 (docs/api.md).
  NamespaceList: object({
    namespaces: { type: "array", items: object({ namespace: ref("Namespace"), createdAt: ref("Time") }) },
    cursor: { type: ["string", "null"] },
  }),
  Suppressions: object({
    namespace: ref("Namespace"),
    total: count,
    suppressions: { type: "array", items: object({ item: { type: "string" }, suppressedAt: ref("Time") }) },
    cursor: { type: ["string", "null"] },
  }),
  SuppressionChange: object(
    {
      namespace: ref("Namespace"),
      item: { type: "string" },
      suppressed: { type: "boolean" },
      suppressedAt: ref("Time"),
      created: { type: "boolean" },
      generation,
    },
    ["namespace", "item", "suppressed", "generation"],
  ),
  ExportDocument: {
    type: "object",
    description:
      "A versioned copy of a namespace's state (config, buckets, pending events; not its generation), encoded with " +
      "superjson: `json` holds the values, `meta` says which to revive as dates or typed arrays. Validated whole on import.",
    properties: {
      json: {
        type: "object",
        properties: {
          format: { const: EXPORT_FORMAT },
          version: { const: EXPORT_VERSION },
          namespace: ref("Namespace"),
          exportedAt: ref("Time"),
          config: ref("Config"),
          buckets: { type: "array", items: { type: "object", properties: { tier: { type: "string" }, state: { type: "object" } }, required: ["tier", "state"] } },
          pending: { type: "array", items: { type: "object" } },
        },
        required: ["format", "version", "exportedAt", "config", "buckets", "pending"],
      },
      meta: { type: "object" },
    },
    required: ["json"],
  },
  ImportResult: object({ namespace: ref("Namespace"), imported: { const: true }, buckets: count, pending: count }),
  Health: object({ ok: { const: true } }),
  Error: object({
    error: {
      type: "object",
      properties: {
        code: { type: "string", pattern: "^[a-z][a-z0-9_]*$" },
        message: { type: "string", minLength: 1 },
        field: { type: ["string", "null"], description: "The offending field, where one is to blame." },
        index: { type: "integer", minimum: 0, description: "invalid_event: the first offending event." },
        allowed: { description: "The values or bounds allowed, where the error is about a value." },
      },
      required: ["code", "message"],
    },
  }),
};

/** An error answer whose `code` is one of `codes`, with `details` (all required) beside it. */
export function errorSchema(codes: readonly string[], details: Record<string, Schema> = {}): Schema {
  const error = { type: "object", properties: { code: { enum: [...codes] }, ...details }, required: ["code", ...Object.keys(details)] };
  return { allOf: [ref("Error"), { type: "object", properties: { error } }] };
}
