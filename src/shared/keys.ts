/**
 * Every key format shared by the Worker and the object, each built and parsed here and nowhere
 * else: the snapshot key of an answer, its KV-mirror key, and its edge-cache key.
 */
import type { ReadQuery } from "./contract";

/** The name of the one NamespaceRegistry object (idFromName), used by the Worker and the objects. */
export const REGISTRY_OBJECT = "namespaces";

/** The snapshot key of a query: one per answer, never per `limit` (limit is sliced on read). */
export function snapshotKey(query: ReadQuery): string {
  switch (query.kind) {
    case "trending":
      return `trending:${query.window}:${query.rank}:${query.type ?? "*"}`;
    case "stats":
      return `stats:${query.window}`;
    case "dashboard":
      return "dashboard";
  }
}

/** Metadata stored beside each mirrored snapshot, readable without parsing the body. */
export interface MirrorMetadata {
  computedAt: number;
  generation: number;
}

/** Every KV-mirror key of a namespace starts with this. */
export function mirrorPrefix(namespace: string): string {
  return `snap/${namespace}/`;
}

/** The KV key mirroring a snapshot: versioned by generation, so an invalidated answer is unreachable. */
export function mirrorKey(namespace: string, generation: number, key: string): string {
  return `${mirrorPrefix(namespace)}g${generation}/${key}`;
}

/** The generation of a KV-mirror key of `namespace`, or undefined for a key of another form. */
export function mirrorKeyGeneration(namespace: string, kvKey: string): number | undefined {
  const prefix = mirrorPrefix(namespace);
  if (!kvKey.startsWith(prefix)) return undefined;
  const match = /^g(\d+)\//.exec(kvKey.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

/**
 * The data-centre cache key of an answer cut to `limit`. The generation is part of it, so an
 * invalidation reaches every data centre without a purge: old entries simply stop being asked for.
 */
export function answerCacheKey(namespace: string, generation: number, query: ReadQuery, limit: number | null): string {
  return `https://tally.internal/answer/${namespace}/g${generation}/${snapshotKey(query)}?limit=${limit ?? ""}`;
}
