/**
 * The contract shared by the Worker, the Durable Object and clients: windows, events,
 * snapshots, config and the RPC shapes. docs/api.md is the source of truth for every field here.
 */

/** The sliding windows a read may ask for, shortest first. */
export const WINDOWS = ["5m", "1h", "24h", "7d", "30d"] as const;
export type Window = (typeof WINDOWS)[number];

/** (v1.5) Calendar windows: local periods in the namespace's `timezone`, from local midnight
 * (docs/api.md, "Calendar windows"; core/calendar.ts). */
export const CALENDAR_WINDOWS = ["today", "yesterday", "thisWeek", "thisMonth"] as const;
export type CalendarWindow = (typeof CALENDAR_WINDOWS)[number];

/** Every window a read may ask for, and a config may list: the sliding ones, then the calendar ones. */
export const READ_WINDOWS = [...WINDOWS, ...CALENDAR_WINDOWS] as const;
export type ReadWindow = Window | CalendarWindow;

export function isCalendarWindow(window: ReadWindow): window is CalendarWindow {
  return (CALENDAR_WINDOWS as readonly string[]).includes(window);
}

/** (v1.5) The time zone of a namespace whose config names none. */
export const DEFAULT_TIMEZONE = "UTC";

/** A trending read without `window` reads this one; a stats read, DEFAULT_STATS_WINDOW. */
export const DEFAULT_TRENDING_WINDOW: Window = "1h";
export const DEFAULT_STATS_WINDOW: Window = "24h";

export const RANKS = ["top", "rising", "hot", "reach"] as const;
export type Rank = (typeof RANKS)[number];
/** (v1.7) The ranks a segment read takes: reach counts actors, which segment summaries do not keep. */
export const SEGMENT_RANKS: readonly Rank[] = ["top", "rising", "hot"];

/** (v1.4) What a trending or stats answer is compared with: the period of as many whole buckets
 * right before `from` (`previous`), or those buckets a week earlier (`week`, windows up to 24h
 * whose week-old time is held at their grain: core/tiers.ts, `weekRefusal`). */
export const COMPARES = ["previous", "week"] as const;
export type Compare = (typeof COMPARES)[number];

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Nominal length of each window, in milliseconds. */
export const WINDOW_MS: Record<Window, number> = {
  "5m": 5 * MINUTE,
  "1h": HOUR,
  "24h": DAY,
  "7d": 7 * DAY,
  "30d": 30 * DAY,
};

/** Events may be this old (the longest window) and no older. */
export const MAX_EVENT_AGE_MS = WINDOW_MS["30d"];
/** Events may be this far ahead of the object's clock. */
export const MAX_EVENT_LEAD_MS = 5 * MINUTE;
/** A batchId is remembered this long. */
export const BATCH_ID_TTL_MS = DAY;

export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const TYPE_PATTERN = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;
export const DEFAULT_TYPE = "event";
export const MAX_ITEM_BYTES = 256;
export const MAX_ACTOR_BYTES = 256;
export const MAX_WEIGHT = 1e6;
export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_BATCH = 1000;
/** (v1.7) Segments: dimensions per namespace, values per event and dimension, bytes per value. */
export const MAX_DIMENSIONS = 8;
export const MAX_DIMENSION_VALUES = 8;
export const MAX_VALUE_BYTES = 128;
/** (v1.7) Counters of each dimension's summaries per bucket, unless its config sets `capacity`. */
export const DEFAULT_DIMENSION_CAPACITY = 1000;

/** (v1.7) An event's dimension values, each dimension's as a list (one value: a list of one). */
export type EventDims = Record<string, string[]>;

/** (v1.7) One value of one dimension: the events a segment read counts. */
export interface Segment {
  dimension: string;
  value: string;
}

/** Items of a ranking read without `limit` (or maxLimit, if that is smaller). */
export const DEFAULT_LIMIT = 10;

/** An event as a client sends it (docs/api.md, "Event"): defaults are applied by the service. */
export interface EventInput {
  item: string;
  type?: string;
  weight?: number;
  actor?: string;
  /** Milliseconds since the epoch or an ISO-8601 string; default now. */
  ts?: number | string;
  /** (v1.7) Values of declared dimensions: one string, or a list for a `multi` dimension. */
  dims?: Record<string, string | string[]>;
}

/** An event after validation: every default applied, `ts` in epoch milliseconds. */
export interface TallyEvent {
  item: string;
  type: string;
  weight: number;
  actor?: string;
  ts: number;
  /** (v1.7) Its values of declared dimensions, distinct within each dimension; absent: none. */
  dims?: EventDims;
}

export interface TypeConfig {
  weight?: number;
}

/** (v1.7) A declared dimension: `multi` takes up to MAX_DIMENSION_VALUES values per event;
 * `capacity` is the counters of each of its summaries per bucket. */
export interface DimensionConfig {
  multi?: boolean;
  capacity?: number;
}

/** Per-namespace configuration (docs/api.md, "Config fields and defaults"). */
/** Per-minute quotas (docs/api.md v1.2, "Quotas"), of a key or of a namespace's ingest; an absent
 * field is no limit. */
export interface QuotaLimits {
  eventsPerMinute?: number;
  requestsPerMinute?: number;
}

export interface NamespaceConfig {
  /** The windows whose answers are precomputed (any window may be read). */
  windows: ReadWindow[];
  maxLimit: number;
  refreshSeconds: number;
  staleSeconds: number;
  types: Record<string, TypeConfig>;
  capacity: number;
  /** The half-life of rank=hot: a bucket this old counts half (docs/api.md v1.1). */
  hotHalfLifeSeconds: number;
  /** How many ingest objects share the namespace's ingest, 1 to 16 (docs/api.md v1.1): 1 means the
   * namespace's own object takes every batch. */
  ingestShards: number;
  /** The namespace's ingest quotas (docs/api.md v1.2, "Quotas"). Absent in configs stored before. */
  limits?: QuotaLimits;
  /** The origins allowed to frame GET /embed of this namespace (CSP frame-ancestors); none: none. */
  embedAncestors?: string[];
  /** (v1.5) The IANA time zone of calendar windows. Absent in configs stored before: UTC. */
  timezone?: string;
  /** (v1.6) The comparisons precomputed for every configured window that takes them. Absent in
   * configs stored before: none. */
  compare?: Compare[];
  /** (v1.7) The declared dimensions of segments. Absent in configs stored before: none. */
  dimensions?: Record<string, DimensionConfig>;
}

export const DEFAULT_CONFIG: NamespaceConfig = {
  windows: ["1h", "24h", "7d"],
  maxLimit: 100,
  refreshSeconds: 10,
  staleSeconds: 300,
  types: { view: { weight: 1 } },
  capacity: 5000,
  hotHalfLifeSeconds: 21_600,
  ingestShards: 1,
  limits: {},
  embedAncestors: [],
  timezone: DEFAULT_TIMEZONE,
  compare: [],
  dimensions: {},
};

export interface RankedItem {
  item: string;
  score: number;
  error: number;
  /** rank=rising only: the score in the current window. */
  current?: number;
  /** rank=rising only: the score in the preceding period of equal length. */
  previous?: number;
  /** rank=rising only: true when the item provably had no events in the preceding period (its
   * upper bound there is 0); false when it had some, or may have had some. */
  new?: boolean;
  /** (v1.4) With `compare` only: the item's score over the compared period, computed as the rank
   * scores the window (an upper bound; the compared period's floor for an item absent there). */
  previousScore?: number;
  /** (v1.4) With `compare` only: the overcount of `previousScore`, as `error` is of `score`. */
  previousError?: number;
}

/** (v1.4) What a compare answer states of the period it was compared with. */
export interface ComparedHeader {
  compare: Compare;
  /** The range actually compared, [previousFrom, previousTo), ISO-8601 like `from` and `to`. */
  previousFrom: string;
  previousTo: string;
}

/** (v1.4) A stats answer's totals over the compared period (no series, no per-type totals). */
export interface PreviousTotals {
  events: number;
  weight: number;
  uniqueItems: number;
  uniqueActors: number;
}

/** Fields every precomputed answer carries. Times are ISO-8601 UTC with milliseconds. */
export interface SnapshotHeader {
  namespace: string;
  window: ReadWindow;
  from: string;
  to: string;
  computedAt: string;
  generation: number;
  /** (v1.6) Calendar windows only: the IANA time zone whose local midnights bound the answer and
   * its series, so that any reader can show local times. */
  timezone?: string;
}

export interface TrendingSnapshot extends SnapshotHeader, Partial<ComparedHeader> {
  rank: Rank;
  type: string | null;
  /** True when every listed score is exact; with `compare`, every `previousScore` too, over the
   * very period `compare` asks for. */
  exact: boolean;
  /** Up to maxLimit items; a read slices `limit` off the front. */
  items: RankedItem[];
  /** Present and true when items were left out to keep the answer within its size bound
   * (core/answer-size.ts): the list is a prefix of the ranking, shorter than asked. */
  truncated?: true;
}

/** (v1.7) A segment's ranking: the same answer over only the events with one value of one
 * dimension, with `floor`, the score no item absent from the list may exceed. */
export interface SegmentTrendingSnapshot extends TrendingSnapshot {
  segment: Segment;
  floor: number;
}

export interface TypeTotals {
  events: number;
  weight: number;
}

export interface SeriesPoint extends TypeTotals {
  start: string;
}

export interface StatsSnapshot extends SnapshotHeader, Partial<ComparedHeader> {
  events: number;
  weight: number;
  uniqueItems: number;
  uniqueActors: number;
  byType: Record<string, TypeTotals>;
  series: SeriesPoint[];
  /** (v1.4) With `compare` only: the totals over [previousFrom, previousTo). */
  previous?: PreviousTotals;
  /** (v1.4) With `compare` only: true when [previousFrom, previousTo) is the very period
   * `compare` asks for, false when it had to be widened to coarser buckets that hold it. */
  exact?: boolean;
}

/** (v1.7) A segment's stats: its totals are upper bounds, the truth within `error` below them. */
export interface SegmentStatsSnapshot extends SnapshotHeader {
  segment: Segment;
  events: number;
  weight: number;
  error: TypeTotals;
  exact: boolean;
  /** Items held by the segment's summaries: exact when `exact`, else at least this many. */
  uniqueItems: number;
  series: (SeriesPoint & { error: TypeTotals })[];
}

/** (v1.7) One value of a dimension's breakdown: its events and weight, upper bounds each. */
export interface DimensionValue {
  value: string;
  events: number;
  weight: number;
  /** The overcount of `weight`: the truth lies in [weight - error, weight]. */
  error: number;
  /** The overcount of `events`, likewise. */
  eventsError: number;
}

/** (v1.7) A dimension's top values by weight: a bounded top-K, whatever its cardinality. */
export interface DimensionSnapshot extends SnapshotHeader {
  dimension: string;
  exact: boolean;
  /** The weight no value absent from the list may exceed. */
  floor: number;
  /** Up to maxLimit values; a read pages through them with `limit` and `cursor`. */
  values: DimensionValue[];
  truncated?: true;
}

export interface DashboardSnapshot {
  namespace: string;
  computedAt: string;
  generation: number;
  /** (v1.6) The namespace's time zone (config `timezone`), the zone of its calendar windows. */
  timezone: string;
  windows: Partial<Record<ReadWindow, { stats: StatsSnapshot; top: TrendingSnapshot; hot: TrendingSnapshot; dimensions?: Record<string, DimensionSnapshot> }>>;
}

export type Snapshot = TrendingSnapshot | StatsSnapshot | SegmentStatsSnapshot | DimensionSnapshot | DashboardSnapshot;

/** What a read asks for. `limit` is applied by whoever serves the answer, never stored. */
export type ReadQuery =
  | { kind: "trending"; window: ReadWindow; rank: Rank; type: string | null; compare?: Compare; segment?: Segment }
  | { kind: "stats"; window: ReadWindow; compare?: Compare; segment?: Segment }
  | { kind: "dimension"; window: ReadWindow; dimension: string }
  | { kind: "dashboard" };

// ---- RPC shapes between the Worker and the NamespaceAggregator. A new Worker may call an object
// still running old code (and the reverse) during a deploy, so fields are only ever added, and
// readers treat a missing field as its default.

export interface IngestResult {
  accepted: number;
  duplicate: boolean;
}

/** What the Worker needs to know of a namespace before it can serve a read of it. */
export interface NamespaceDescriptor {
  exists: boolean;
  generation: number;
  maxLimit: number;
  types: string[];
  /** (v1.7) The declared dimensions (absent from an older object: none): the door checks events'
   * `dims` and reads' `segment` against them. */
  dimensions?: Record<string, DimensionConfig>;
  windows: ReadWindow[];
  refreshSeconds: number;
  staleSeconds: number;
  /** computedAt of the last refresh an admin asked for: cached copies older than this are not
   * served, so the next read after `POST .../refresh` sees the new snapshots. 0 when none. */
  freshSince: number;
  /** Where ingest goes: the namespace's object (1) or that many ingest shards. */
  ingestShards: number;
  /** The namespace's ingest quotas, charged at the Worker (absent from an older object). */
  limits?: QuotaLimits;
  /** The origins that may frame its GET /embed (absent from an older object: none). */
  embedAncestors?: string[];
  /** The declared types' default weights, for the types that set one: a batch sent to a shard
   * carries its weights resolved, as the namespace's object would resolve them. */
  weights: Record<string, number>;
  /** The object takes a batch as columns (batch-columns.ts). Absent from an object of an older
   * version, which takes `IncomingBatch` only: a Worker sends that shape to it during a deploy. */
  batchColumns?: true;
  /** (v1.7) The object reads a batch's dims as flat columns (batch-columns.ts `DimColumns`). Absent
   * from an object of an older build, which reads them one object per event: a Worker sends that. */
  dimColumns?: true;
}

/** A change's answer (refresh, invalidate, suppress, unsuppress) with the descriptor it leaves,
 * so that the Worker learns the new generation without a second call. An object of an older
 * build answers without `descriptor`; the Worker then asks for it. */
export type Described<T> = T & { descriptor?: NamespaceDescriptor };

/**
 * An answer as every layer holds it: its JSON text, served as is, and the time it was computed
 * (epoch ms), from which each layer judges its freshness. The one name for this shape: the
 * object's snapshots, the KV mirror's values, the edge's entries (isolate answers keep it as bytes).
 */
export interface SerialisedAnswer {
  body: string;
  computedAt: number;
}

/** What a read's `X-Cache` header says: the layer that answered it (docs/api.md, "Read responses
 * and caching"). */
export type CacheLabel = "HIT-EDGE" | "HIT-KV" | "HIT-DO" | "MISS";

/** What an error body carries besides `code` and `message` (`field`, `index`, `allowed`, ...). */
export type ErrorDetails = Record<string, unknown>;

/** A snapshot as the object serves it: the answer, its generation, and whether it had to be
 * computed now. */
export interface SnapshotRead extends SerialisedAnswer {
  generation: number;
  source: Extract<CacheLabel, "HIT-DO" | "MISS">;
}

export const LAYERS = ["edge", "kv", "do"] as const;
export type Layer = (typeof LAYERS)[number];

export interface LayerCounts {
  hits: number;
  misses: number;
}

/** Hits and misses per layer, as the Worker counts them and reports them in batches. */
export type ReadCounts = Record<Layer, LayerCounts>;

export interface RefreshRecord {
  at: string;
  durationMs: number;
  outcome: "ok" | "error";
  error?: string;
}

/** The last checkpoint of the namespace's state to SQLite. A failed one loses nothing (the batch
 * log keeps every event until a checkpoint holds it) and is retried whole by the next refresh. */
export interface CheckpointRecord {
  at: string;
  outcome: "ok" | "error";
  error?: string;
}

/** `GET /v1/namespaces/{ns}/cache`. */
export interface CacheReport {
  namespace: string;
  generation: number;
  /** Reads counted by the Worker: every counted read asks the `edge` layer first (isolate answers,
   * then the data centre's cache). */
  reads: number;
  /** Share of reads answered without computing while the client waited. */
  hitRatio: number | null;
  layers: Record<Layer, LayerCounts & { hitRatio: number | null }>;
  syncComputes: number;
  refreshes: number;
  refreshErrors: number;
  lastRefresh: RefreshRecord | null;
  checkpointErrors: number;
  lastCheckpoint: CheckpointRecord | null;
  /** The largest row ever written to the namespace's SQLite, against the platform's limit. */
  storage: { largestRowBytes: number; maxRowBytes: number };
  /** The bytes the namespace's state holds, by the object's own accounting, against its budget;
   * `cuts` counts buckets cut below what sealing keeps to hold it (docs/api.md, "Resource limits"). */
  memory: { bytes: number; budgetBytes: number; cuts: number };
  /** Where ingest goes, and what each ingest shard holds that the namespace's object has not
   * merged yet (docs/api.md v1.1, `ingestShards`). */
  ingest: { shards: number; perShard: ShardLag[] };
  /** Live answers: relays that follow an answer, and the pushes to them since the object started. */
  live?: { relays: number; pushes: number; pushFailures: number };
  /** Webhooks: how many, how many fail or are paused, messages waiting, and attempts since the
   * object started (docs/api.md, "Webhooks"). */
  webhooks?: { webhooks: number; failing: number; paused: number; pending: number; attempts: number; failures: number };
  /** (v1.7) Segments: those the last refresh precomputed, segment answers held in the object's
   * memory and kept warm for their readers, and the layers of segment reads. */
  segments?: { hot: Segment[]; held: number; warm: number; reads: number; layers: Record<Layer, LayerCounts & { hitRatio: number | null }> };
}

/** One ingest shard in `GET .../cache`: what it accepted that is not merged yet, and when it
 * was last merged. A retired shard (above `ingestShards`) is listed until it is drained. */
export interface ShardLag {
  shard: number;
  retired: boolean;
  /** Events (and batches) accepted by the shard and not yet merged by the namespace's object;
   * null when the shard could not be asked (see `error`). */
  lagEvents: number | null;
  lagBatches: number | null;
  /** When the oldest of them was accepted; null when none waits (or the shard was not reached). */
  oldestWaitingSince: string | null;
  /** Why the shard could not be asked, when it could not: its events wait, durable, for a merge. */
  error?: string;
  /** When the namespace's object last merged from this shard since it started; null if never. */
  lastMergeAt: string | null;
  sinceLastMergeMs: number | null;
}

/** Content moderation: at most this many items of a namespace are suppressed at once. */
export const MAX_SUPPRESSIONS = 10_000;

/** One suppressed item, as `GET .../suppressions` lists it. */
export interface Suppression {
  item: string;
  suppressedAt: string;
}

/** `GET .../suppressions`: one page, items in ascending order; `cursor` continues, null at the end. */
export interface SuppressionPage {
  namespace: string;
  total: number;
  suppressions: Suppression[];
  cursor: string | null;
}

/** What `PUT` and `DELETE .../suppressions/{item}` answer (RPC and HTTP alike). */
export interface SuppressionChange {
  namespace: string;
  item: string;
  suppressed: boolean;
  /** PUT only: when the item was first suppressed (a repeated PUT keeps the first time). */
  suppressedAt?: string;
  /** PUT only: false when the item was already suppressed. */
  created?: boolean;
  /** The generation the namespace's answers now carry (every cached answer was dropped). */
  generation: number;
}

/** The part of a request's ExecutionContext that work after the response needs. Spelled out
 * rather than picked from ExecutionContext, so that this module's types (which the client's
 * declarations import) need no Workers types. */
export interface Background {
  waitUntil(promise: Promise<unknown>): void;
}
/** One namespace of `GET /v1/namespaces`: its name and when its first event was accepted. */
export interface NamespaceEntry {
  namespace: string;
  createdAt: string;
}

/** `GET /v1/namespaces`: a page of namespaces that hold data, and the cursor of the next page. */
export interface NamespaceListing {
  namespaces: NamespaceEntry[];
  cursor: string | null;
}

/** A page as the registry object gives it (RPC); the Worker turns `more` into a cursor. */
export interface NamespacePage {
  entries: NamespaceEntry[];
  more: boolean;
}


// ---- live answers (docs/api.md, "Live answers") -----------------------------------------------

/** The answers a live socket may follow (`answer=` on /live): the same as the three reads. */
export const LIVE_ANSWERS = ["trending", "stats", "dashboard"] as const;
export type LiveAnswer = (typeof LIVE_ANSWERS)[number];

/** The subprotocol a live socket speaks; a browser offers it, with its read token beside it. */
export const LIVE_PROTOCOL = "tally.v1";
/** A read token in `Sec-WebSocket-Protocol`, as `tally.token.<token>` (a browser cannot set headers). */
export const LIVE_TOKEN_PROTOCOL_PREFIX = "tally.token.";
/** Sockets one relay object holds. Cloudflare's guidance is thousands per object; one message per
 * socket per change is the relay's whole cost, so this bounds the CPU of one push. */
export const MAX_SOCKETS_PER_RELAY = 1000;
/** The close code of a live socket whose namespace was erased (an application code, 4000–4999). */
export const LIVE_GONE_CODE = 4404;
/** Relays per namespace: MAX_SOCKETS_PER_RELAY × this is the most sockets a namespace holds. */
export const MAX_RELAYS = 32;

/**
 * One change of the change feed: an answer that a refresh, an invalidation or a suppression made
 * different (its body, minus `to` and `computedAt`, is not what it was). `body` is the whole
 * snapshot, as stored; readers cut `limit` off it.
 */
export interface AnswerChange {
  key: string;
  generation: number;
  computedAt: number;
  body: string;
}

/** What the Worker asks a relay to open: the answer to follow, and the reader's cut of it. */
export interface LiveOpen {
  query: ReadQuery;
  limit: number | null;
  minScore?: number;
}

/** What a relay asks the namespace's object when a socket opens: the answer to follow. */
export interface LiveFollow {
  relay: number;
  query: ReadQuery;
}

// ---- webhooks (docs/api.md, "Webhooks") ---------------------------------------------------------

export const WEBHOOK_EVENTS = ["entered", "left", "spike"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
/** Webhooks per namespace. */
export const MAX_WEBHOOKS = 20;
export const WEBHOOK_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A webhook as an admin sets it (PUT .../webhooks/{id}). */
export interface WebhookSpec {
  url: string;
  on: WebhookEvent[];
  window: Window;
  /** The ranking whose first `limit` places `entered` and `left` watch. */
  rank: Rank;
  type: string | null;
  limit: number;
  /** `spike`: an item's score in the window is at least `factor` × its score in the preceding
   * period, and at least `minScore`. */
  spike: { factor: number; minScore: number };
}

/** The outcome of a webhook's last delivery attempt. */
export interface DeliveryOutcome {
  at: string;
  /** The webhook-id of the message (the same on every retry). */
  id: string;
  attempt: number;
  outcome: "delivered" | "failed";
  /** The receiver's status, or null when none came (a network failure, a timeout). */
  status: number | null;
  error?: string;
}

/** A webhook as GET .../webhooks lists it: its spec and how its deliveries fare. */
export interface WebhookStatus extends WebhookSpec {
  id: string;
  createdAt: string;
  /** Messages waiting for delivery or a retry. */
  pending: number;
  lastDelivery: DeliveryOutcome | null;
  /** Since when every attempt has failed, or null. */
  failingSince: string | null;
  /** True once it failed for 24 hours: nothing is sent until it is PUT again. */
  paused: boolean;
}

/** The answer to a PUT: the secret only when the webhook was created (it is shown once). */
export interface WebhookPut extends WebhookStatus {
  created: boolean;
  secret?: string;
}
