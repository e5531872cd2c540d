/**
 * Hit and miss counts of the Worker's cache layers. They are counted in the isolate and reported
 * to the namespace's object in batches, at most once per FLUSH_MS per namespace and isolate: a
 * report per read would cost the object a request per read. Counts of an isolate evicted before
 * its next report are lost, at most FLUSH_MS worth.
 */
import type { Background, Layer, ReadCounts } from "../shared/contract";
import { addReadCounts, emptyReadCounts, isEmpty } from "../core/counters";
import { aggregatorOf, settle } from "./rpc";

export const FLUSH_MS = 5000;

const pending = new Map<string, { counts: ReadCounts; since: number }>();

export function countRead(namespace: string, layer: Layer, hit: boolean): void {
  let entry = pending.get(namespace);
  if (!entry) {
    entry = { counts: emptyReadCounts(), since: Date.now() };
    pending.set(namespace, entry);
  }
  entry.counts[layer][hit ? "hits" : "misses"] += 1;
}

/** Reports the namespace's counts if they have waited FLUSH_MS; called after each read. */
export function flushIfDue(env: Env, ctx: Background, namespace: string): void {
  const entry = pending.get(namespace);
  if (entry && Date.now() - entry.since >= FLUSH_MS) ctx.waitUntil(flush(env, namespace).catch(() => {}));
}

/** Reports the namespace's counts now. On failure they are put back for the next report. */
export async function flush(env: Env, namespace: string): Promise<void> {
  const entry = pending.get(namespace);
  if (!entry || isEmpty(entry.counts)) return;
  pending.delete(namespace);
  try {
    await settle(aggregatorOf(env, namespace).recordReads(entry.counts));
  } catch (error) {
    const again = pending.get(namespace);
    if (again) addReadCounts(again.counts, entry.counts);
    else pending.set(namespace, entry);
    throw error;
  }
}

/** Drops the namespace's unreported counts (after a delete). */
export function discard(namespace: string): void {
  pending.delete(namespace);
}
