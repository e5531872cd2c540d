/**
 * Quotas at the Worker (docs/api.md, "Quotas"): a request is charged to every limited subject it
 * concerns (its key, its namespace) before it touches the namespace's object, so a refused batch
 * is never recorded and can be retried under the same batchId. Each subject's counter is its own
 * QuotaCounter object (durable-objects/quota-counter.ts), asked in parallel; if one refuses, what
 * the others took is given back, so a refusal spends nothing anywhere.
 */
import type { QuotaLimits } from "../shared/api-keys";
import type { QuotaAnswer } from "../shared/quota-limits";
import { TallyError } from "../shared/errors";
import { valueOrThrow } from "../shared/rpc";

/** One subject to charge: `key/<id>` or `namespace/<name>`, with its limits. */
export interface QuotaSubject {
  name: string;
  limits: QuotaLimits;
}

const hasLimits = (limits: QuotaLimits) => limits.requestsPerMinute !== undefined || limits.eventsPerMinute !== undefined;

function counterOf(env: Env, name: string) {
  return env.QUOTAS.get(env.QUOTAS.idFromName(name));
}

/** Charges one request carrying `events` events to every subject with limits, or throws 429. */
export async function charge(env: Env, subjects: QuotaSubject[], events: number): Promise<void> {
  const limited = subjects.filter((s) => hasLimits(s.limits));
  if (limited.length === 0) return;
  const now = Date.now();
  const charges = limited.map((s) => ({ requests: 1, events, limits: s.limits }));
  // The counters answer plain values (they refuse nothing of their own); valueOrThrow still puts a
  // failed call in its category (503 or 500), as for every object.
  const answers: QuotaAnswer[] = await valueOrThrow(
    Promise.all(limited.map((s, i) => counterOf(env, s.name).take(charges[i]!, now))).then((value) => ({ ok: true as const, value })),
  );
  const refused = answers.findIndex((a) => !a.ok);
  if (refused === -1) return;
  await Promise.all(answers.map((a, i) => (a.ok ? counterOf(env, limited[i]!.name).giveBack(charges[i]!, now) : undefined)));
  const answer = answers[refused] as Extract<QuotaAnswer, { ok: false }>;
  const subject = limited[refused]!.name.startsWith("key/") ? "key" : "namespace";
  throw new TallyError(
    429,
    "rate_limited",
    `This ${subject}'s ${answer.limit} is spent for this minute; retry in ${answer.retryAfterSeconds} s. Nothing of this request was recorded.`,
    { limit: answer.limit, retryAfterSeconds: answer.retryAfterSeconds },
    { "Retry-After": String(answer.retryAfterSeconds) },
  );
}
