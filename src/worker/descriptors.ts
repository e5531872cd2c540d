/**
 * What the Worker knows of a namespace before serving a read: its generation (part of every
 * cache key) and the config that bounds `limit` and `type`. Looked up in isolate memory, then the
 * data centre's cache, then the object. Invalidate, config and delete update the first two at once,
 * so the next read through this Worker sees the new generation; other data centres see it within
 * one refresh period (ARCHITECTURE.md, "Consistency").
 */
import type { Background, NamespaceDescriptor } from "../shared/contract";
import { aggregatorOf, settle } from "./rpc";

/** Isolate memory answers for this long: short, because other isolates may change the namespace. */
const MEMO_MS = 1000;

/** Namespaces remembered per isolate, oldest dropped first: names that answer 404 are remembered
 * too (to spare their object), so without a bound any caller could grow this without end. */
const MEMO_MAX = 10_000;

const memo = new Map<string, { descriptor: NamespaceDescriptor; until: number }>();

function memoize(namespace: string, descriptor: NamespaceDescriptor): void {
  memo.delete(namespace); // re-inserted last: the Map's order is the order of use
  memo.set(namespace, { descriptor, until: Date.now() + MEMO_MS });
  if (memo.size > MEMO_MAX) memo.delete(memo.keys().next().value!);
}

const edgeKey = (namespace: string) => `https://tally.internal/descriptor/${namespace}`;

export async function describe(env: Env, ctx: Background, namespace: string): Promise<NamespaceDescriptor> {
  const now = Date.now();
  const held = memo.get(namespace);
  if (held && held.until > now) return held.descriptor;
  const cached = await caches.default.match(edgeKey(namespace));
  if (cached) {
    const descriptor = (await cached.json()) as NamespaceDescriptor;
    memoize(namespace, descriptor);
    return descriptor;
  }
  let descriptor: NamespaceDescriptor;
  try {
    descriptor = await settle(aggregatorOf(env, namespace).describe());
  } catch (error) {
    // While the object cannot be reached, the last descriptor known here still lets stale
    // answers be served (API.md: stale answers also when the object cannot be reached).
    if (held) return held.descriptor;
    throw error;
  }
  ctx.waitUntil(remember(namespace, descriptor));
  return descriptor;
}

/**
 * Records a descriptor in this isolate and this data centre. A namespace that does not exist yet
 * is kept only in memory (never in the cache, so there is nothing to delete there): its first
 * event must become visible quickly.
 */
export async function remember(namespace: string, descriptor: NamespaceDescriptor): Promise<void> {
  memoize(namespace, descriptor);
  if (!descriptor.exists) return;
  const response = Response.json(descriptor, {
    headers: { "Cache-Control": `public, max-age=${Math.max(1, descriptor.refreshSeconds)}` },
  });
  await caches.default.put(edgeKey(namespace), response);
}

/** After an accepted batch: a namespace this isolate knew as unknown now exists. Unknown
 * namespaces are only ever remembered in memory, so no cache I/O is needed on the ingest path. */
export function noteIngested(namespace: string): void {
  if (memo.get(namespace)?.descriptor.exists === false) memo.delete(namespace);
}

/** Forgets a namespace in this isolate and data centre, e.g. after its first event or a delete. */
export async function forget(namespace: string): Promise<void> {
  memo.delete(namespace);
  await caches.default.delete(edgeKey(namespace));
}
