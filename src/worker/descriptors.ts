/**
 * What the Worker knows of a namespace before serving a read: its generation (part of every
 * cache key) and the config that bounds `limit` and `type`. Looked up in isolate memory, then the
 * data centre's cache, then the object. Invalidate, config and delete update the first two at once,
 * so the next read through this Worker sees the new generation; other data centres see it within
 * one refresh period, since their descriptors are cached for that long.
 */
import type { Background, NamespaceDescriptor } from "../shared/contract";
import { aggregatorOf, valueOrThrow } from "../shared/rpc";

/** Isolate memory answers for this long: short, because other isolates may change the namespace. */
export const DESCRIPTOR_MEMO_MS = 1000;

/** Namespaces remembered per isolate, oldest dropped first: names that answer 404 are remembered
 * too (to spare their object), so without a bound any caller could grow this without end. */
export const DESCRIPTOR_MEMO_MAX = 10_000;

const edgeKey = (namespace: string) => `https://tally.internal/descriptor/${namespace}`;

/** One isolate's memory of namespace descriptors; index.ts makes one per isolate, a test its own. */
export class Descriptors {
  private readonly memo = new Map<string, { descriptor: NamespaceDescriptor; until: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** The descriptor held in this isolate's memory while it is fresh: the path of a read answered
   * from isolate answers, which needs no I/O and no promise. */
  held(namespace: string): NamespaceDescriptor | undefined {
    const held = this.memo.get(namespace);
    return held && held.until > this.now() ? held.descriptor : undefined;
  }

  /** The namespace's descriptor: isolate memory, then the data centre's cache, then the object. */
  async descriptorOf(env: Env, ctx: Background, namespace: string): Promise<NamespaceDescriptor> {
    const fresh = this.held(namespace);
    if (fresh) return fresh;
    const cached = await caches.default.match(edgeKey(namespace));
    if (cached) {
      const descriptor = (await cached.json()) as NamespaceDescriptor;
      this.memoize(namespace, descriptor);
      return descriptor;
    }
    let descriptor: NamespaceDescriptor;
    try {
      descriptor = await valueOrThrow(aggregatorOf(env, namespace).describe());
    } catch (error) {
      // While the object cannot be reached, the last descriptor known here still lets stale
      // answers be served (docs/api.md: stale answers also when the object cannot be reached).
      const last = this.memo.get(namespace);
      if (last) return last.descriptor;
      throw error;
    }
    ctx.waitUntil(this.remember(namespace, descriptor));
    return descriptor;
  }

  /**
   * Records a descriptor in this isolate and this data centre. A namespace that does not exist yet
   * is kept only in memory (never in the cache, so there is nothing to delete there): its first
   * event must become visible quickly.
   */
  async remember(namespace: string, descriptor: NamespaceDescriptor): Promise<void> {
    this.memoize(namespace, descriptor);
    if (!descriptor.exists) return;
    const response = Response.json(descriptor, {
      headers: { "Cache-Control": `public, max-age=${Math.max(1, descriptor.refreshSeconds)}` },
    });
    await caches.default.put(edgeKey(namespace), response);
  }

  /** After an accepted batch: a namespace this isolate knew as unknown now exists. Unknown
   * namespaces are only ever remembered in memory, so no cache I/O is needed on the ingest path. */
  noteIngested(namespace: string): void {
    if (this.memo.get(namespace)?.descriptor.exists === false) this.memo.delete(namespace);
  }

  /** Forgets a namespace in this isolate and data centre, e.g. after a config change or a delete. */
  async forgetNamespace(namespace: string): Promise<void> {
    this.memo.delete(namespace);
    await caches.default.delete(edgeKey(namespace));
  }

  private memoize(namespace: string, descriptor: NamespaceDescriptor): void {
    this.memo.delete(namespace); // re-inserted last: the Map's order is the order of use
    this.memo.set(namespace, { descriptor, until: this.now() + DESCRIPTOR_MEMO_MS });
    if (this.memo.size > DESCRIPTOR_MEMO_MAX) this.memo.delete(this.memo.keys().next().value!);
  }
}
