/**
 * The first tier of the edge layer: answers this isolate served recently, in memory. An isolate
 * serves many requests, so a hot answer is found here without the I/O of a `caches.default` lookup.
 * Keys are the edge keys (namespace, generation, snapshot, limit) and freshness is judged exactly
 * as for `caches.default`, so invalidation and staleness behave the same. Bounded in entries and
 * bytes; the least recently used entry goes first (a Map keeps insertion order).
 */
export interface HotAnswer {
  body: string;
  computedAt: number;
}

const MAX_ENTRIES = 512;
/** Bodies are UTF-16 in memory: 2 bytes per code unit. An isolate has 128 MB in all. */
const MAX_BYTES = 16 * 1024 * 1024;

const entries = new Map<string, HotAnswer>();
let bytes = 0;

export function recall(key: string): HotAnswer | undefined {
  const hit = entries.get(key);
  if (hit) {
    entries.delete(key); // most recently used moves to the end
    entries.set(key, hit);
  }
  return hit;
}

export function keep(key: string, answer: HotAnswer): void {
  forget(key);
  entries.set(key, answer);
  bytes += answer.body.length * 2;
  for (const [oldest, old] of entries) {
    if (entries.size <= MAX_ENTRIES && bytes <= MAX_BYTES) break;
    entries.delete(oldest);
    bytes -= old.body.length * 2;
  }
}

export function forget(key: string): void {
  const old = entries.get(key);
  if (old) {
    entries.delete(key);
    bytes -= old.body.length * 2;
  }
}
