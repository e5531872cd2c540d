/**
 * The RPC boundary, for every caller alike (the Worker and the objects that call one another):
 * which object serves what, how a call's outcome is unwrapped, and in which category a failure
 * falls. One module, so that the Worker and the objects address and classify the same way and
 * neither imports the other.
 */
import { fromWire, internal, unavailable, type Outcome, type TallyError } from "./errors";
import { REGISTRY_OBJECT, relayObjectName, shardObjectName } from "./keys";

/** How long a caller should wait before retrying a platform condition that clears by itself. */
export const RETRY_AFTER_SECONDS = 1;

/** The namespace's object. idFromName maps one name to one object worldwide. */
export function aggregatorOf(env: Env, namespace: string) {
  return env.AGGREGATOR.get(env.AGGREGATOR.idFromName(namespace));
}

/** Ingest shard `index` of a namespace (`ingestShards` in docs/api.md), addressed by its own name. */
export function shardOf(env: Env, namespace: string, index: number) {
  return env.INGEST_SHARDS.get(env.INGEST_SHARDS.idFromName(shardObjectName(namespace, index)));
}

/** Live relay `index` of a namespace: it holds sockets of that namespace's live answers. */
export function relayOf(env: Env, namespace: string, index: number) {
  return env.LIVE_RELAYS.get(env.LIVE_RELAYS.idFromName(relayObjectName(namespace, index)));
}

/** The one registry of namespaces that hold data (GET /v1/namespaces): one object, by a fixed name. */
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
 * The category of a failure (Durable Objects error handling: `overloaded`, `retryable`, `remote`):
 * - "overloaded", "unreachable": a platform condition that clears by itself, `503 unavailable`
 *   with Retry-After, which read paths may answer with a stale copy;
 * - "fault": a bug or a stored state that cannot be read, `500 internal`, which invites no retry.
 *
 * An error the platform did not mark is judged by where it was caught: at the caller of an
 * object (`caught: "call"`) it is the call that failed, not the object's code (which would have
 * been marked `remote`); inside an object (`caught: "object"`) it is the object's own code.
 */
export function failureKind(error: unknown, caught: "call" | "object"): "overloaded" | "unreachable" | "fault" {
  const platform = (typeof error === "object" && error !== null ? error : {}) as PlatformError;
  if (platform.overloaded) return "overloaded";
  if (platform.retryable) return "unreachable";
  if (platform.remote) return "fault";
  return caught === "call" ? "unreachable" : "fault";
}

/** The TallyError a failed call is answered with, by its category (`failureKind`). */
function callFailure(error: unknown): TallyError {
  const kind = failureKind(error, "call");
  if (kind === "fault") return internal("A Durable Object of the service failed.");
  const why = kind === "overloaded" ? "is overloaded" : "could not be reached";
  return unavailable(`A Durable Object of the service ${why}; retry in ${RETRY_AFTER_SECONDS} s.`, RETRY_AFTER_SECONDS);
}

/**
 * Awaits an object's answer and returns its value, or throws: a refusal as the TallyError it was,
 * a failed call as the TallyError of its category (`failureKind`). The objects catch their own
 * failures (`outcomeOf`), so a `remote` exception here comes from an object that could not even
 * do that.
 */
export async function valueOrThrow<T>(outcome: Promise<Outcome<T>>): Promise<T> {
  let result: Outcome<T>;
  try {
    result = await outcome;
  } catch (error) {
    console.error("Durable Object call failed", error);
    throw callFailure(error);
  }
  if (!result.ok) throw fromWire(result.error);
  return result.value;
}
