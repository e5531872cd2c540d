/**
 * The client's view of Tally's answers: the contract's shapes with every time revived as a `Date`,
 * and the read headers (X-Cache, X-Generation, X-Stale, ETag) alongside. A `304` is a result of
 * its own in the type, so an app cannot mistake "not modified" for an empty answer.
 */
import type {
  CacheLabel,
  CacheReport as WireCacheReport,
  DashboardSnapshot,
  DimensionSnapshot,
  NamespaceEntry,
  NamespaceListing as WireNamespaceListing,
  SegmentStatsSnapshot,
  SegmentTrendingSnapshot,
  SeriesPoint,
  StatsSnapshot,
  TrendingSnapshot,
  ReadWindow,
} from "../shared/contract.js";

export type { CacheLabel };

type Dated<T, K extends keyof T> = Omit<T, K> & { [P in K]: Date };
/** (v1.4) A compare answer's range compared with, as Dates (absent without `compare`). */
type Compared<T> = Omit<T, "previousFrom" | "previousTo"> & { previousFrom?: Date; previousTo?: Date };

type Timed<T extends { from: string; to: string; computedAt: string }> = Dated<T, "from" | "to" | "computedAt">;
type TrendingOf<T extends TrendingSnapshot> = Compared<Timed<T>>;
type Series<T extends { series: SeriesPoint[] }> = { series: Dated<T["series"][number], "start">[] };

export type Trending = TrendingOf<TrendingSnapshot>;
export type Stats = Compared<Timed<Omit<StatsSnapshot, "series">>> & Series<StatsSnapshot>;
/** (v1.7) A segment's ranking: `segment` names it, `floor` bounds every item not listed. */
export type SegmentTrending = TrendingOf<SegmentTrendingSnapshot>;
/** (v1.7) A segment's stats: `events` and `weight` are upper bounds, the truth within `error`
 * below them (each series point likewise); no `uniqueActors`, `byType` or `compare`. */
export type SegmentStats = Timed<Omit<SegmentStatsSnapshot, "series">> & Series<SegmentStatsSnapshot>;
/** (v1.7) A dimension's top values by weight, as the dashboard holds them (its top 10). */
export type DimensionBreakdown = Timed<DimensionSnapshot>;
/** (v1.7) One page of a breakdown read: `cursor` continues it, `null` on the last page. */
export type DimensionPage = DimensionBreakdown & { cursor: string | null };
export type Dashboard = Dated<Omit<DashboardSnapshot, "windows">, "computedAt"> & {
  windows: Partial<Record<ReadWindow, { stats: Stats; top: Trending; hot: Trending; dimensions?: Record<string, DimensionBreakdown> }>>;
};
export type CacheReport = Omit<WireCacheReport, "lastRefresh"> & {
  lastRefresh: Dated<NonNullable<WireCacheReport["lastRefresh"]>, "at"> | null;
};
export type NamespaceListing = Omit<WireNamespaceListing, "namespaces"> & {
  namespaces: Dated<NamespaceEntry, "createdAt">[];
};

/** A namespace's export document (superjson: `json` and `meta`). Opaque to apps: keep it as it
 * came, and hand it to `importNamespace` (any change makes the import refuse it). */
export interface ExportDocument {
  json: Record<string, unknown>;
  meta?: Record<string, unknown>;
}

export interface ImportResult {
  namespace: string;
  imported: true;
  /** Buckets and pending events restored. */
  buckets: number;
  pending: number;
}

/** What the read headers say, on a 200 and on a 304 alike. */
export interface ReadHeaders {
  /** Send it back as `etag` to get `notModified` while the answer is unchanged. */
  etag: string | null;
  cache: CacheLabel | null;
  generation: number | null;
  /** The answer is older than its max-age and is being revalidated behind it. */
  stale: boolean;
}

export type ReadResult<T> =
  | (ReadHeaders & { notModified: false; status: 200; body: T })
  | (ReadHeaders & { notModified: true; status: 304; body: null });

const date = (iso: string) => new Date(iso);

/** previousFrom and previousTo as Dates, or nothing for an answer without `compare`. */
function comparedRange({ previousFrom, previousTo }: { previousFrom?: string; previousTo?: string }) {
  return previousFrom === undefined || previousTo === undefined ? {} : { previousFrom: date(previousFrom), previousTo: date(previousTo) };
}

/** from, to and computedAt as Dates; the rest as it came. */
function timed<T extends { from: string; to: string; computedAt: string }>(a: T): Timed<T> {
  return { ...a, from: date(a.from), to: date(a.to), computedAt: date(a.computedAt) };
}

export function reviveTrending<T extends TrendingSnapshot>(t: T): TrendingOf<T> {
  const { previousFrom: _from, previousTo: _to, ...rest } = t;
  // TypeScript cannot see through Omit of a generic T that this is T with its times as Dates.
  return { ...timed(rest), ...comparedRange(t) } as unknown as TrendingOf<T>;
}

/** A series' starts as Dates. */
const revivedSeries = <P extends SeriesPoint>(series: P[]) => series.map((p) => ({ ...p, start: date(p.start) }));

export function reviveStats(s: StatsSnapshot): Stats {
  const { previousFrom: _from, previousTo: _to, ...rest } = s;
  return { ...timed(rest), ...comparedRange(s), series: revivedSeries(s.series) };
}

/** (v1.7) A segment's stats, its series starts as Dates. */
export function reviveSegmentStats(s: SegmentStatsSnapshot): SegmentStats {
  return { ...timed(s), series: revivedSeries(s.series) };
}

/** (v1.7) A breakdown (a page of one, with its cursor, or the dashboard's top 10), its times as Dates. */
export function reviveBreakdown<T extends DimensionSnapshot>(b: T): Timed<T> {
  return timed(b);
}

export function reviveDashboard(d: DashboardSnapshot): Dashboard {
  const windows: Dashboard["windows"] = {};
  for (const [window, entry] of Object.entries(d.windows) as [ReadWindow, NonNullable<DashboardSnapshot["windows"][ReadWindow]>][]) {
    const dimensions = entry.dimensions && Object.fromEntries(Object.entries(entry.dimensions).map(([name, b]) => [name, reviveBreakdown(b)]));
    windows[window] = { stats: reviveStats(entry.stats), top: reviveTrending(entry.top), hot: reviveTrending(entry.hot), ...(dimensions ? { dimensions } : {}) };
  }
  return { ...d, computedAt: date(d.computedAt), windows };
}

export function reviveNamespaceListing(l: WireNamespaceListing): NamespaceListing {
  return { ...l, namespaces: l.namespaces.map((n) => ({ ...n, createdAt: new Date(n.createdAt) })) };
}

export function reviveCacheReport(r: WireCacheReport): CacheReport {
  return { ...r, lastRefresh: r.lastRefresh === null ? null : { ...r.lastRefresh, at: date(r.lastRefresh.at) } };
}

function readHeaders(res: Response): ReadHeaders {
  const generation = res.headers.get("X-Generation");
  return {
    etag: res.headers.get("ETag"),
    cache: res.headers.get("X-Cache") as CacheLabel | null,
    generation: generation === null ? null : Number(generation),
    stale: res.headers.get("X-Stale") === "true",
  };
}

/** A read's answer: `notModified` on 304, else the body revived by `revive`. */
export async function readResult<W, T>(res: Response, revive: (wire: W) => T): Promise<ReadResult<T>> {
  const headers = readHeaders(res);
  if (res.status === 304) return { ...headers, notModified: true, status: 304, body: null };
  return { ...headers, notModified: false, status: 200, body: revive((await res.json()) as W) };
}
