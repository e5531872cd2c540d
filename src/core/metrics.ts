/**
 * The service metrics each namespace's object keeps: reads per cache layer, refreshes,
 * checkpoints, syncComputes, the largest row written; and the cache report made of them. Pure.
 * (Counters, in this code, are the Space-Saving sketch's.)
 */
import { LAYERS, type CacheReport, type ReadCounts } from "../shared/contract";

/** What the object measures: the reads per layer, and the fields of the report it keeps as they are. */
export type ServiceMetrics = {
  reads: ReadCounts;
  /** (v1.7) The reads of segments among them (absent from metrics stored before: none). */
  segmentReads: ReadCounts;
  /** The largest SQLite row ever written for the namespace (kept across restarts). */
  largestRowBytes: number;
} & Pick<
  CacheReport,
  "syncComputes" | "refreshes" | "refreshErrors" | "lastRefresh" | "checkpointErrors" | "lastCheckpoint"
>;

export function emptyReadCounts(): ReadCounts {
  return { edge: { hits: 0, misses: 0 }, kv: { hits: 0, misses: 0 }, do: { hits: 0, misses: 0 } };
}

export function emptyMetrics(): ServiceMetrics {
  return {
    reads: emptyReadCounts(),
    segmentReads: emptyReadCounts(),
    largestRowBytes: 0,
    syncComputes: 0,
    refreshes: 0,
    refreshErrors: 0,
    lastRefresh: null,
    checkpointErrors: 0,
    lastCheckpoint: null,
  };
}

/** Adds `delta` into `into`, ignoring anything that is not a non-negative integer (the Worker's
 * report crosses an RPC boundary, possibly from another version of the code). */
export function addReadCounts(into: ReadCounts, delta: Partial<ReadCounts>): void {
  for (const layer of LAYERS) {
    const d = delta[layer];
    if (!d) continue;
    for (const k of ["hits", "misses"] as const) {
      const n = d[k];
      if (Number.isSafeInteger(n) && n > 0) into[layer][k] += n;
    }
  }
}

export function isEmpty(counts: ReadCounts): boolean {
  return LAYERS.every((l) => counts[l].hits === 0 && counts[l].misses === 0);
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/** Each layer's counts with its hit ratio. */
export function layersOf(reads: ReadCounts): CacheReport["layers"] {
  return Object.fromEntries(LAYERS.map((l) => [l, { ...reads[l], hitRatio: ratio(reads[l].hits, reads[l].hits + reads[l].misses) }])) as CacheReport["layers"];
}

export function cacheReport(
  namespace: string,
  generation: number,
  c: ServiceMetrics,
  { storage, memory, ingest }: Pick<CacheReport, "storage" | "memory" | "ingest">,
): CacheReport {
  const reads = c.reads.edge.hits + c.reads.edge.misses;
  const layers = layersOf(c.reads);
  return {
    namespace,
    generation,
    reads,
    hitRatio: ratio(reads - c.reads.do.misses, reads),
    layers,
    syncComputes: c.syncComputes,
    refreshes: c.refreshes,
    refreshErrors: c.refreshErrors,
    lastRefresh: c.lastRefresh,
    checkpointErrors: c.checkpointErrors,
    lastCheckpoint: c.lastCheckpoint,
    storage,
    memory,
    ingest,
  };
}
