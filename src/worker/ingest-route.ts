/**
 * Where an accepted batch goes: the namespace's object, or one of its ingest shards when the
 * namespace spreads its ingest (docs/api.md v1.1, `ingestShards`).
 */
import type { IngestResult, NamespaceDescriptor, TallyEvent } from "../shared/contract";
import { checkDims, type IncomingBatch } from "../shared/validate";
import { columnsOf } from "../shared/batch-columns";
import { hash53 } from "../core/hash";
import { aggregatorOf, shardOf, valueOrThrow } from "../shared/rpc";
import { TallyError } from "../shared/errors";

/**
 * The shard a batch goes to out of `shards`: a batch with an id always goes to the same one, so
 * that a retry meets the shard that holds the first attempt and is answered as a duplicate; a
 * batch without one goes anywhere, which spreads the load.
 *
 * By rendezvous hashing (the shard whose hash with the id is highest) rather than `hash % k`, so
 * that a change of `ingestShards` moves as few ids as it can: raising k moves only the ids the new
 * shards win, lowering it only the ids of the retired shards. A retry across a change then still
 * meets its first attempt's shard, and is answered as a duplicate, for most ids.
 */
export function shardFor(batch: IncomingBatch, shards: number, random: () => number = Math.random): number {
  const id = batch.batchId;
  if (id === undefined) return Math.floor(random() * shards);
  let best = 0;
  let highest = -1;
  for (let shard = 0; shard < shards; shard++) {
    const score = hash53(`${shard}\n${id}`);
    if (score > highest) [best, highest] = [shard, score];
  }
  return best;
}

/** The events with the weights the namespace's object would give them (its types' defaults). */
function weighted(batch: IncomingBatch, weights: Readonly<Record<string, number>>): TallyEvent[] {
  return batch.events.map((e) => ({ ...e, weight: e.weight ?? (Object.hasOwn(weights, e.type) ? weights[e.type]! : 1) }));
}

/**
 * Sends a validated batch where the namespace takes its ingest, and answers what it answered. A
 * call that failed on the way (`503 unavailable`: the object was overloaded or the call was lost)
 * may still have recorded the batch; with a `batchId` it is safe to send once more, since the
 * object then answers `duplicate` if it was recorded, and a retry costs the client nothing.
 *
 * A batch naming a dimension the descriptor does not declare, or several values of one not
 * `multi`, is refused here (`400 invalid_event`) before any shard or object is asked: a shard
 * logs what it is sent, and validates nothing itself.
 */
export async function ingest(env: Env, namespace: string, descriptor: NamespaceDescriptor, batch: IncomingBatch): Promise<IngestResult> {
  checkDims(batch.events, descriptor.dimensions);
  try {
    return await send(env, namespace, descriptor, batch);
  } catch (error) {
    if (batch.batchId === undefined || !(error instanceof TallyError) || error.code !== "unavailable") throw error;
    return send(env, namespace, descriptor, batch);
  }
}

function send(env: Env, namespace: string, descriptor: NamespaceDescriptor, batch: IncomingBatch): Promise<IngestResult> {
  // A descriptor cached before shards existed has no `ingestShards`: the object takes the batch.
  const shards = descriptor.ingestShards ?? 1;
  if (shards <= 1) {
    const sent = descriptor.batchColumns ? columnsOf(batch, descriptor.dimColumns === true) : batch;
    return valueOrThrow(aggregatorOf(env, namespace).ingest(sent));
  }
  return valueOrThrow(shardOf(env, namespace, shardFor(batch, shards)).ingest({ batchId: batch.batchId, events: weighted(batch, descriptor.weights ?? {}) }));
}
