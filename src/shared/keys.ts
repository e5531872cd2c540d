/**
 * Every key format shared by the Worker and the object, each built and parsed here and nowhere
 * else: the snapshot key of an answer, its KV-mirror key, and its cache key (in isolate answers and at the edge alike).
 */
import type { LiveOpen, ReadQuery, Segment, SnapshotRead } from "./contract";

/** The name of the one NamespaceRegistry object (idFromName), used by the Worker and the objects. */
export const REGISTRY_OBJECT = "namespaces";

/** The data centre's cache entry of an API key's lookup (src/worker/key-auth.ts), by the key's id:
 * on the host of every internal cache key, which no request can ask the cache for. */
export function keyLookupUrl(id: string): string {
  return `https://tally.internal/key/${id}`;
}

/**
 * The snapshot key of a query: one per answer, never per `limit` (limit is sliced on read). A
 * compare answer (v1.4) ends in `;compare=<value>`: ";" is in no type name (TYPE_PATTERN), so no
 * compare key is also a plain one, and the keys of plain answers are what they always were.
 */
export function snapshotKey(query: ReadQuery): string {
  switch (query.kind) {
    case "trending":
      return `trending:${query.window}:${query.rank}:${query.type ?? "*"}${compareSuffix(query.compare)}${segmentSuffix(query.segment)}`;
    case "stats":
      return `stats:${query.window}${compareSuffix(query.compare)}${segmentSuffix(query.segment)}`;
    case "dimension":
      return `dimension:${query.window}:${query.dimension}`;
    case "dashboard":
      return "dashboard";
  }
}

const compareSuffix = (compare: string | undefined) => (compare === undefined ? "" : `;compare=${compare}`);

/**
 * (v1.7) A segment answer's key ends in `;segment=<dimension>:<value>`, the value in base64url of
 * its UTF-8: any text, at most 172 characters for 128 bytes, so that the longest KV-mirror key stays
 * within KV's 512 bytes, and no two values share a key (a hash would let a crafted value read
 * another segment's answer).
 */
const segmentSuffix = (segment: Segment | undefined) => (segment === undefined ? "" : `;segment=${segment.dimension}:${base64url(segment.value)}`);

function base64url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Metadata stored beside each mirrored snapshot (its body is the value), readable without
 * parsing the body: the stamp of the snapshot it mirrors. */
export type MirrorMetadata = Pick<SnapshotRead, "computedAt" | "generation">;

/** Workers KV refuses an expirationTtl below 60 s: a mirrored key lives at least this long. */
export const KV_MIN_EXPIRATION_TTL_SECONDS = 60;

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
 * The data-centre cache key of an answer cut to `limit` and to items scoring at least `minScore`.
 * The generation is part of it, so an invalidation reaches every data centre without a purge: old
 * entries simply stop being asked for. minScore 0 (the default, which cuts nothing) adds nothing,
 * so the keys of reads without it are what they always were.
 */
export function answerCacheKey(namespace: string, generation: number, query: ReadQuery, limit: number | null, minScore = 0, offset = 0): string {
  const cut = (minScore > 0 ? `&minScore=${minScore}` : "") + (offset > 0 ? `&offset=${offset}` : "");
  return `https://tally.internal/answer/${namespace}/g${generation}/${snapshotKey(query)}?limit=${limit ?? ""}${cut}`;
}

/**
 * The name (idFromName) of ingest shard `index` of a namespace. A namespace name never holds
 * "/" (NAMESPACE_PATTERN), so no shard name is also a namespace's, and the name parses back.
 */
export function shardObjectName(namespace: string, index: number): string {
  return `shard/${index}/${namespace}`;
}

export function parseShardObjectName(name: string): { namespace: string; index: number } | undefined {
  const match = /^shard\/(\d+)\/(.+)$/s.exec(name);
  return match ? { index: Number(match[1]), namespace: match[2]! } : undefined;
}

/**
 * The name (idFromName) of live relay `index` of a namespace: like a shard's, it holds a "/" no
 * namespace name holds, and parses back.
 */
export function relayObjectName(namespace: string, index: number): string {
  return `relay/${index}/${namespace}`;
}

export function parseRelayObjectName(name: string): { namespace: string; index: number } | undefined {
  const match = /^relay\/(\d+)\/(.+)$/s.exec(name);
  return match ? { index: Number(match[1]), namespace: match[2]! } : undefined;
}

/** The Worker's internal request to a relay to open a socket (its URL carries the open). */
export function relayOpenUrl(open: LiveOpen): string {
  return `https://relay.internal/open?${new URLSearchParams({ open: JSON.stringify(open) })}`;
}

export function parseRelayOpen(url: string): LiveOpen {
  return JSON.parse(new URL(url).searchParams.get("open") ?? "") as LiveOpen;
}
