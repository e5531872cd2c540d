/**
 * The door check of quota limits (docs/api.md v1.2, "Quotas"), one shape for a key's `limits` and
 * a namespace config's `limits`. No runtime API here: the config check of the core uses it too.
 */
import type { QuotaLimits } from "./contract";
import { invalid } from "./errors";

/** A per-minute limit: at least 1 (0 would close the door; revoke the key instead). */
export const PER_MINUTE = { min: 1, max: 10_000_000 } as const;

/** Quota limits from a body (`field` names them in a refusal), shared by keys and namespace configs. */
export function parseLimits(value: unknown, field: string, code = "invalid_key_request"): QuotaLimits {
  if (value === undefined || value === null) return {};
  const fields = ["eventsPerMinute", "requestsPerMinute"] as const;
  const { min, max } = PER_MINUTE;
  if (typeof value !== "object" || Array.isArray(value)) throw invalid(code, `${field}: must be an object such as {"requestsPerMinute": 600}.`, { field, allowed: fields });
  const unknown = Object.keys(value).find((k) => !(fields as readonly string[]).includes(k));
  if (unknown !== undefined) throw invalid(code, `${field}.${unknown}: is not a limit.`, { field: `${field}.${unknown}`, allowed: fields });
  const limits: QuotaLimits = {};
  for (const name of fields) {
    const n = (value as Record<string, unknown>)[name];
    if (n === undefined) continue;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
      throw invalid(code, `${field}.${name}: must be an integer from ${min} to ${max}.`, { field: `${field}.${name}`, allowed: { min, max } });
    }
    limits[name] = n;
  }
  return limits;
}

/** The amounts one request spends, and the limits they count against (absent: none): what the
 * Worker asks of a subject's quota counter (durable-objects/quota-counter.ts). */
export interface QuotaCharge {
  requests: number;
  events: number;
  limits: { requestsPerMinute?: number; eventsPerMinute?: number };
}

/** A quota counter's answer to a charge. */
export type QuotaAnswer = { ok: true } | { ok: false; retryAfterSeconds: number; limit: "requestsPerMinute" | "eventsPerMinute" };
