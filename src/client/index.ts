/**
 * `tally/client`: a typed client of Tally's HTTP contract (docs/api.md) for browsers, Workers and
 * Node 20+. It needs nothing but `fetch`, `crypto.randomUUID` and timers, and takes an injected
 * `fetch` for Workers service bindings.
 *
 * ```ts
 * const tally = createClient({ baseUrl: "https://tally.example.com", namespace: "videos", token });
 * tally.track({ item: "v42", type: "view", actor: userId });
 * const top = await tally.trending({ window: "1h", limit: 10 });
 * if (!top.notModified) render(top.body.items, top.body.computedAt);
 * ```
 */
import {
  MAX_BATCH,
  NAMESPACE_PATTERN,
  type CacheReport as WireCacheReport,
  type Compare,
  type DashboardSnapshot,
  type DimensionSnapshot,
  type EventInput,
  type IngestResult,
  type LiveAnswer,
  type NamespaceConfig,
  type NamespaceListing as WireNamespaceListing,
  type Rank,
  type Segment,
  type SegmentStatsSnapshot,
  type SegmentTrendingSnapshot,
  type StatsSnapshot,
  type TrendingSnapshot,
  type ReadWindow,
} from "../shared/contract.js";
import {
  reviveBreakdown,
  reviveCacheReport,
  reviveDashboard,
  reviveSegmentStats,
  reviveNamespaceListing,
  reviveStats,
  reviveTrending,
  readResult,
  type CacheReport,
  type Dashboard,
  type DimensionPage,
  type ExportDocument,
  type ImportResult,
  type NamespaceListing,
  type ReadResult,
  type SegmentStats,
  type SegmentTrending,
  type Stats,
  type Trending,
} from "./answers.js";
import { EventQueue, type RefusalHandler, type TrackedEvent } from "./queue.js";
import { DEFAULT_RETRY, realScheduler, send, type Call, type Fetch, type RetryPolicy, type Scheduler, type Transport } from "./transport.js";
import { watchPage } from "./page.js";
import { subscribe, type LiveAnswerOf, type LiveOptions, type LiveQuery, type Subscription } from "./live.js";

export * from "./errors.js";
export type {
  CacheLabel,
  CacheReport,
  Dashboard,
  DimensionBreakdown,
  DimensionPage,
  ExportDocument,
  ImportResult,
  NamespaceListing,
  ReadHeaders,
  ReadResult,
  SegmentStats,
  SegmentTrending,
  Stats,
  Trending,
} from "./answers.js";
export type { Batch, RefusalHandler, TrackedEvent } from "./queue.js";
export type { Fetch, RetryPolicy, Scheduler } from "./transport.js";
export type { LiveAnswerOf, LiveOptions, LiveQuery, LiveState, OpenSocket, Subscription } from "./live.js";
export type { Compare, DimensionConfig, DimensionValue, EventInput, IngestResult, LiveAnswer, NamespaceConfig, Rank, ReadWindow, Segment, Window } from "../shared/contract.js";

/** (v1.7) The ranks a segment read takes (`reach` counts actors, which segments do not keep). */
export type SegmentRank = Exclude<Rank, "reach">;

export interface ClientOptions {
  /** Where Tally answers, e.g. "https://tally.example.com" (for a service binding, any URL). */
  baseUrl: string;
  namespace: string;
  /** A bearer token: INGEST_TOKEN to track, ADMIN_TOKEN for admin calls, READ_TOKEN if reads are gated. */
  token?: string;
  /** Defaults to the global fetch; in a Worker pass e.g. `env.TALLY.fetch.bind(env.TALLY)`. */
  fetch?: Fetch;
  /** Events per batch, 1 to 1000 (default 1000). */
  batchSize?: number;
  /** The longest a tracked event waits before it is sent, in ms (default 1000). */
  flushDelayMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Told of every batch finally refused or undeliverable, with its events. Default: console.error. */
  onError?: RefusalHandler;
  /** In a browser, flush with keepalive when the page is hidden or left (default true). */
  flushOnPageHide?: boolean;
  /** For tests: where the client waits, and its jitter. */
  scheduler?: Scheduler;
  random?: () => number;
}

export interface TrendingQuery {
  window?: ReadWindow;
  /** `reach` (v1.5): distinct actors per item. */
  rank?: Rank;
  type?: string;
  limit?: number;
  /** (v1.4) Also score each item over the compared period: `previous` (the period right before the
   * window) or `week` (window 24h only). */
  compare?: Compare;
  /** The ETag of an answer held: an unchanged answer comes back as `notModified`. */
  etag?: string | null;
}

/** (v1.7) A ranking over only the events with one value of one dimension: every type (no
 * `type`), ranked `top`, `rising` or `hot`. */
export interface SegmentTrendingQuery extends Omit<TrendingQuery, "type" | "rank"> {
  segment: Segment;
  rank?: SegmentRank;
}

export interface StatsQuery {
  window?: ReadWindow;
  /** (v1.4) Also total the compared period (`previous`, or `week` for window 24h). */
  compare?: Compare;
  etag?: string | null;
}

/** (v1.7) The stats of one segment (no `compare`: a segment's stats take none). */
export interface SegmentStatsQuery {
  window?: ReadWindow;
  segment: Segment;
  etag?: string | null;
}

/** (v1.7) A page of a dimension's top values by weight. */
export interface DimensionQuery {
  /** Default 24h. */
  window?: ReadWindow;
  /** Values per page, 1 to the namespace's maxLimit (default 10). */
  limit?: number;
  /** The `cursor` of the page before; omitted, the first page. */
  cursor?: string | null;
  etag?: string | null;
}

/** (v1.7) `segment=<dimension>:<value>`: the dimension's name holds no ":", so the first one ends
 * it and the value may hold any (URLSearchParams encodes the whole, ":" and "/" and "%" included). */
const segmentParam = (segment: Segment | undefined) => (segment === undefined ? undefined : `${segment.dimension}:${segment.value}`);

export type TallyClient = ReturnType<typeof createClient>;

function checked(options: ClientOptions) {
  const { baseUrl, namespace, batchSize = MAX_BATCH, flushDelayMs = 1000 } = options;
  if (!/^https?:\/\//.test(baseUrl)) throw new TypeError(`tally: baseUrl must be an http(s) URL, got "${baseUrl}".`);
  if (!NAMESPACE_PATTERN.test(namespace)) throw new TypeError(`tally: namespace must match ${NAMESPACE_PATTERN.source}.`);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) throw new TypeError(`tally: batchSize must be 1 to ${MAX_BATCH}.`);
  if (!(flushDelayMs >= 0)) throw new TypeError("tally: flushDelayMs must be 0 or more.");
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) throw new TypeError("tally: retry.attempts must be 1 or more.");
  const fetch = options.fetch ?? ((url: string, init: RequestInit) => globalThis.fetch(url, init));
  return { baseUrl: baseUrl.replace(/\/+$/, ""), namespace, batchSize, flushDelayMs, retry, fetch };
}

/** A client of one namespace. Options are checked here, not on first use. */
export function createClient(options: ClientOptions) {
  const { baseUrl, namespace, batchSize, flushDelayMs, retry, fetch } = checked(options);
  const scheduler = options.scheduler ?? realScheduler;
  const transport: Transport = { baseUrl, token: options.token, fetch, scheduler, retry, random: options.random ?? Math.random };
  const at = (path = "") => `/v1/namespaces/${namespace}${path}`;
  const call = (c: Call) => send(transport, c);
  const json = async <T>(c: Call) => (await (await call(c)).json()) as T;
  const query = (q: Record<string, string | number | undefined>) => {
    const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    const text = params.toString();
    return text === "" ? "" : `?${text}`;
  };
  const read = (path: string, etag: string | null | undefined) =>
    call({ method: "GET", path, retry: true, headers: etag ? { "If-None-Match": etag } : {} });

  const ingest = (batch: { batchId: string; events: EventInput[] }, keepalive = false) =>
    json<IngestResult>({ method: "POST", path: at("/events"), body: batch, retry: true, keepalive });
  const queue = new EventQueue({
    batchSize,
    flushDelayMs,
    scheduler,
    deliver: ingest,
    onError: options.onError ?? ((error, events) => console.error(`tally: ${events.length} events were refused`, error)),
    newBatchId: () => crypto.randomUUID(),
  });
  const unwatch = options.flushOnPageHide === false ? () => {} : watchPage(() => queue.flushForUnload());

  /** The ranking of a window; with `segment` (v1.7), over only that segment's events. */
  function trending(q: SegmentTrendingQuery): Promise<ReadResult<SegmentTrending>>;
  function trending(q?: TrendingQuery): Promise<ReadResult<Trending>>;
  async function trending(q: TrendingQuery & { segment?: Segment } = {}): Promise<ReadResult<Trending | SegmentTrending>> {
    const path = at(`/trending${query({ window: q.window, rank: q.rank, type: q.type, limit: q.limit, compare: q.compare, segment: segmentParam(q.segment) })}`);
    return readResult(await read(path, q.etag), (w: TrendingSnapshot | SegmentTrendingSnapshot) => reviveTrending(w));
  }

  /** The stats of a window; with `segment` (v1.7), that segment's own (bounded) totals. */
  function stats(q: SegmentStatsQuery): Promise<ReadResult<SegmentStats>>;
  function stats(q?: StatsQuery): Promise<ReadResult<Stats>>;
  async function stats(q: StatsQuery & { segment?: Segment } = {}): Promise<ReadResult<Stats | SegmentStats>> {
    const path = at(`/stats${query({ window: q.window, compare: q.compare, segment: segmentParam(q.segment) })}`);
    return readResult(await read(path, q.etag), (w: StatsSnapshot | SegmentStatsSnapshot) => ("segment" in w ? reviveSegmentStats(w) : reviveStats(w)));
  }

  return {
    namespace,
    /** Queues an event; it is sent in a batch within `flushDelayMs`. Never throws for the service's
     * sake: refusals reach `onError`. */
    track: (event: TrackedEvent): void => queue.track(event),
    /** Sends everything queued; resolves when every batch is acknowledged (or refused, see onError). */
    flush: (): Promise<void> => queue.flush(),
    /** Events queued and not yet handed to a batch. */
    get queued(): number {
      return queue.size;
    },
    /** Sends one batch now (retried under one batchId) and resolves to the service's answer; a
     * refusal throws its typed error. */
    send: (events: TrackedEvent[], batchId: string = crypto.randomUUID()): Promise<IngestResult> =>
      ingest({ batchId, events: events.map((e) => (e.ts instanceof Date ? { ...e, ts: e.ts.getTime() } : (e as EventInput))) }),

    trending,
    stats,
    /** (v1.7) A page of a dimension's top values by weight in a window, each with its bounds;
     * pass the answer's `cursor` back for the next page (`null`: the last). */
    dimension: async (name: string, q: DimensionQuery = {}): Promise<ReadResult<DimensionPage>> =>
      readResult(
        await read(at(`/dimensions/${encodeURIComponent(name)}${query({ window: q.window, limit: q.limit, cursor: q.cursor ?? undefined })}`), q.etag),
        (w: DimensionSnapshot & { cursor: string | null }) => reviveBreakdown(w),
      ),
    dashboard: async (q: { etag?: string | null } = {}): Promise<ReadResult<Dashboard>> =>
      readResult(await read(at("/dashboard"), q.etag), (w: DashboardSnapshot) => reviveDashboard(w)),

    /** Follows a read live: `onAnswer` gets its current answer, then every change of it, over a
     * WebSocket reopened with backoff whenever it closes (see LiveOptions). */
    subscribe: <A extends LiveAnswer = "trending">(q: LiveQuery & { answer?: A }, onAnswer: (answer: LiveAnswerOf<A>) => void, live: LiveOptions = {}): Subscription =>
      subscribe({ baseUrl, namespace, token: options.token, scheduler, random: transport.random }, q, onAnswer, live),

    // ---- admin (ADMIN_TOKEN)
    getConfig: () => json<NamespaceConfig>({ method: "GET", path: at("/config"), retry: true }),
    /** Replaces the whole config: omitted fields take their defaults. */
    putConfig: (config: Partial<NamespaceConfig>) => json<NamespaceConfig>({ method: "PUT", path: at("/config"), body: config, retry: true }),
    refresh: async () => {
      const r = await json<{ namespace: string; computedAt: string; generation: number }>({ method: "POST", path: at("/refresh"), retry: false });
      return { ...r, computedAt: new Date(r.computedAt) };
    },
    invalidate: () => json<{ namespace: string; generation: number }>({ method: "POST", path: at("/invalidate"), retry: false }),
    cacheReport: async (): Promise<CacheReport> => reviveCacheReport(await json<WireCacheReport>({ method: "GET", path: at("/cache"), retry: true })),
    deleteNamespace: () => json<{ namespace: string; deleted: true; generation: number }>({ method: "DELETE", path: at(), retry: true }),

    // ---- v1.1 admin routes (docs/api.md)
    listNamespaces: async (q: { cursor?: string; prefix?: string } = {}): Promise<NamespaceListing> => {
      return reviveNamespaceListing(await json<WireNamespaceListing>({ method: "GET", path: `/v1/namespaces${query(q)}`, retry: true }));
    },
    suppress: (item: string) => call({ method: "PUT", path: at(`/suppressions/${encodeURIComponent(item)}`), retry: true }).then(() => undefined),
    unsuppress: (item: string) => call({ method: "DELETE", path: at(`/suppressions/${encodeURIComponent(item)}`), retry: true }).then(() => undefined),
    suppressions: () => json<unknown>({ method: "GET", path: at("/suppressions"), retry: true }),
    /** The namespace's export document, as the service sent it (opaque: hand it to importNamespace). */
    exportNamespace: () => json<ExportDocument>({ method: "GET", path: at("/export"), retry: true }),
    /** Restores an export into this namespace, which must hold no data (else TallyConflictError);
     * a damaged or foreign document is a TallyValidationError (`invalid_export`, naming the field). */
    importNamespace: (document: ExportDocument) => json<ImportResult>({ method: "POST", path: at("/import"), body: document, retry: false }),

    /** Flushes, then stops watching the page. */
    close: async (): Promise<void> => {
      unwatch();
      await queue.flush();
    },
  };
}
