/**
 * How every RPC method of Tally's objects answers: a value, or an error put in a category here,
 * where its cause is known. A TallyError is a refusal the caller rethrows. Anything else is
 * logged with the object, the namespace and the method: a platform condition that clears by
 * itself (Durable Objects set `overloaded` or `retryable`) is `503 unavailable`; anything else (a
 * bug, a stored state it cannot read) is `500 internal`, which invites no retry.
 */
import { TallyError, internal, toWire, unavailable, type Outcome } from "../src/shared/errors";

export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function outcomeOf<T>(
  where: { object: string; namespace: string; method: string },
  body: () => Promise<T> | T,
): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    if (error instanceof TallyError) return { ok: false, error: toWire(error) };
    console.error(JSON.stringify({ ...where, cause: messageOf(error) }));
    const flags = error as { overloaded?: boolean; retryable?: boolean };
    const failure =
      flags.overloaded || flags.retryable
        ? unavailable(`Namespace "${where.namespace}" is briefly unavailable; retry in 1 s.`, 1)
        : internal(`Namespace "${where.namespace}" failed in ${where.method}.`);
    return { ok: false, error: toWire(failure) };
  }
}
