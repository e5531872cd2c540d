/** The Worker's side of the RPC boundary: which object serves a namespace, and its outcomes. */
import { fromWire, TallyError, type Outcome } from "../shared/errors";

/** The namespace's object. idFromName maps one name to one object worldwide. */
export function aggregatorOf(env: Env, namespace: string) {
  return env.AGGREGATOR.get(env.AGGREGATOR.idFromName(namespace));
}

/** What an unreachable object's 503 tells the client to wait, in seconds: an object that failed
 * or was reset (an uncaught exception, a deploy) usually answers again within a second. */
export const RETRY_AFTER_SECONDS = 1;

/** Unwraps an RPC outcome: a refusal is rethrown as the TallyError it was. An unreachable or
 * failing object becomes `503 unavailable`, which read paths may answer with a stale copy. */
export async function settle<T>(outcome: Promise<Outcome<T>>): Promise<T> {
  let result: Outcome<T>;
  try {
    result = await outcome;
  } catch (error) {
    console.error("Durable Object call failed", error);
    throw new TallyError(503, "unavailable", "The namespace's aggregator could not be reached; retry shortly.", {}, {
      "Retry-After": String(RETRY_AFTER_SECONDS),
    });
  }
  if (!result.ok) throw fromWire(result.error);
  return result.value;
}
