/**
 * How every RPC method of Tally's objects answers: a value, or an error put in its category here,
 * where its cause is known. A TallyError is a refusal the caller rethrows. Anything else is
 * logged with the object, the namespace and the method, and answered by its category
 * (`failureKind`, the one classification the callers use too): a platform condition that clears
 * by itself is `503 unavailable`; anything else (a bug, a stored state it cannot read) is
 * `500 internal`, which invites no retry.
 */
import { TallyError, internal, toWire, unavailable, type Outcome } from "../src/shared/errors";
import { RETRY_AFTER_SECONDS, failureKind } from "../src/shared/rpc";

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
    const failure =
      failureKind(error, "object") === "fault"
        ? internal(`Namespace "${where.namespace}" failed in ${where.method}.`)
        : unavailable(`Namespace "${where.namespace}" is briefly unavailable; retry in ${RETRY_AFTER_SECONDS} s.`, RETRY_AFTER_SECONDS);
    return { ok: false, error: toWire(failure) };
  }
}
