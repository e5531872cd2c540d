/**
 * Hit and miss counts of the Worker's cache layers. They are counted in the isolate and reported
 * to the namespace's object in batches, at most once per FLUSH_MS per namespace and isolate: a
 * report per read would cost the object a request per read (an object serves roughly 500-1000
 * requests per second). Counts of an isolate evicted before its next report are lost, at most
 * FLUSH_MS worth.
 */
import type { Background, Layer, ReadCounts } from "../shared/contract";
import { addReadCounts, emptyReadCounts, isEmpty } from "../core/metrics";
import { aggregatorOf, valueOrThrow } from "../shared/rpc";

export const FLUSH_MS = 5000;

/** One isolate's unreported read counts; index.ts makes one per isolate, a test its own (with
 * its own clock, so that FLUSH_MS passes without waiting). */
export class ReadCounter {
  /** Per namespace: every read's layers, and (v1.7) those of segment reads again on their own. */
  private readonly pending = new Map<string, { counts: ReadCounts; segments: ReadCounts; since: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  count(namespace: string, layer: Layer, hit: boolean, segment = false): void {
    let entry = this.pending.get(namespace);
    if (!entry) {
      entry = { counts: emptyReadCounts(), segments: emptyReadCounts(), since: this.now() };
      this.pending.set(namespace, entry);
    }
    entry.counts[layer][hit ? "hits" : "misses"] += 1;
    if (segment) entry.segments[layer][hit ? "hits" : "misses"] += 1;
  }

  /** Reports the namespace's counts if they have waited FLUSH_MS; called after each read. */
  flushIfDue(env: Env, ctx: Background, namespace: string): void {
    const entry = this.pending.get(namespace);
    if (entry && this.now() - entry.since >= FLUSH_MS) ctx.waitUntil(this.flush(env, namespace).catch(() => {}));
  }

  /** Reports the namespace's counts now. On failure they are put back for the next report. */
  async flush(env: Env, namespace: string): Promise<void> {
    const entry = this.pending.get(namespace);
    if (!entry || isEmpty(entry.counts)) return;
    this.pending.delete(namespace);
    try {
      await valueOrThrow(aggregatorOf(env, namespace).recordReads(entry.counts, entry.segments));
    } catch (error) {
      const again = this.pending.get(namespace);
      if (again) {
        addReadCounts(again.counts, entry.counts);
        addReadCounts(again.segments, entry.segments);
      } else this.pending.set(namespace, entry);
      throw error;
    }
  }

  /** Drops the namespace's unreported counts (after a delete). */
  discard(namespace: string): void {
    this.pending.delete(namespace);
  }
}
