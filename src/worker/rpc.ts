/** The Worker's side of the RPC boundary: which object serves a namespace, and its outcomes. */
import { fromWire, internal, unavailable, type Outcome } from "../shared/errors";
import { REGISTRY_OBJECT, shardObjectName } from "../shared/keys";

/** How long a caller should wait before retrying a platform condition that clears by itself. */
export const RETRY_AFTER_SECONDS = 1;

/** The namespace's object. idFromName maps one name to one object worldwide. */
export function aggregatorOf(env: Env, namespace: string) {
  return env.AGGREGATOR.get(env.AGGREGATOR.idFromName(namespace));
}

/** Ingest shard `index` of a namespace (API.md v1.1, `ingestShards`), addressed by its own name. */
export function shardOf(env: Env, namespace: string, index: number) {
  return env.INGEST_SHARDS.get(env.INGEST_SHARDS.idFromName(shardObjectName(namespace, index)));
}

/** The one registry of namespaces that hold data (GET /v1/namespaces). */
export function registryOf(env: Env) {
  return env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_OBJECT));
}

/** The properties the platform sets on an error thrown by a Durable Object call. */
interface PlatformError {
  /** The object is overloaded: too many requests queued for it. */
  overloaded?: boolean;
  /** The call may succeed if made again (a reset, a lost connection). */
  retryable?: boolean;
  /** The error was thrown by the object's own code, not by the platform. */
  remote?: boolean;
}

/**
 * Unwraps an RPC outcome. A refusal is rethrown as the TallyError it was. A failure is put in
 * one of two categories (Durable Objects error handling: `overloaded`, `retryable`, `remote`):
 * - a platform condition that will clear (overloaded, resetting, unreachable) is `503
 *   unavailable` with Retry-After, which read paths may answer with a stale copy;
 * - an exception of the object's code is a bug: `500 internal`, which invites no retry.
 * The object itself catches its own failures (NamespaceAggregator.run), so a remote exception
 * here comes from an object that could not even do that.
 */
export async function settle<T>(outcome: Promise<Outcome<T>>): Promise<T> {
  let result: Outcome<T>;
  try {
    result = await outcome;
  } catch (error) {
    console.error("Durable Object call failed", error);
    const platform = (typeof error === "object" && error !== null ? error : {}) as PlatformError;
    if (platform.remote && !platform.retryable && !platform.overloaded) {
      throw internal("A Durable Object of the service failed.");
    }
    const why = platform.overloaded ? "is overloaded" : "could not be reached";
    throw unavailable(`A Durable Object of the service ${why}; retry in ${RETRY_AFTER_SECONDS} s.`, RETRY_AFTER_SECONDS);
  }
  if (!result.ok) throw fromWire(result.error);
  return result.value;
}
