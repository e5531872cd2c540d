/** The Worker's side of the RPC boundary: which object serves a namespace, and its outcomes. */
import { fromWire, TallyError, type Outcome } from "../shared/errors";
import { REGISTRY_OBJECT } from "../shared/keys";

/** The namespace's object. idFromName maps one name to one object worldwide. */
export function aggregatorOf(env: Env, namespace: string) {
  return env.AGGREGATOR.get(env.AGGREGATOR.idFromName(namespace));
}

/** The one registry of namespaces that hold data (GET /v1/namespaces). */
export function registryOf(env: Env) {
  return env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_OBJECT));
}

/** Unwraps an RPC outcome: a refusal is rethrown as the TallyError it was. An unreachable or
 * failing object becomes `503 unavailable`, which read paths may answer with a stale copy. */
export async function settle<T>(outcome: Promise<Outcome<T>>): Promise<T> {
  let result: Outcome<T>;
  try {
    result = await outcome;
  } catch (error) {
    console.error("Durable Object call failed", error);
    throw new TallyError(503, "unavailable", "A Durable Object of the service could not be reached; retry shortly.", {}, {
      "Retry-After": "1",
    });
  }
  if (!result.ok) throw fromWire(result.error);
  return result.value;
}
