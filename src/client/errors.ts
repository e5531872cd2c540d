/**
 * The client's errors: one class per family of docs/api.md's error codes, each carrying the `code`,
 * the HTTP `status` and the error's details (`field`, `index`, `allowed`, ...) as the service
 * sent them, so that an app can branch with `instanceof` and still read the exact code.
 */

import type { ErrorDetails } from "../shared/contract.js";

export type { ErrorDetails };

/** Any refusal or failure of a call to Tally. */
export class TallyApiError extends Error {
  constructor(
    message: string,
    /** docs/api.md's snake_case code, e.g. `invalid_event`; `network_error` when no answer came. */
    readonly code: string,
    /** The HTTP status; 0 when no answer came. */
    readonly status: number,
    readonly details: ErrorDetails = {},
    /** How long the service asked to wait (Retry-After), when it did. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** The offending field (`invalid_event`, `invalid_config`, `invalid_window`, ...), if named. */
  get field(): string | null | undefined {
    return this.details.field as string | null | undefined;
  }
}

/** 401 `unauthorized` (no or unknown token) and 403 `forbidden` (token without the scope). */
export class TallyAuthError extends TallyApiError {}
/** 400, 413 and 415: the request itself is wrong; sending it again cannot succeed. */
export class TallyValidationError extends TallyApiError {
  /** `invalid_event`: the index of the first offending event of the batch. */
  get index(): number | undefined {
    return this.details.index as number | undefined;
  }
  /** The values or bounds allowed, where the error is about a value. */
  get allowed(): unknown {
    return this.details.allowed;
  }
}
/** 404: `namespace_not_found` (no event yet) or `not_found` (no such route). */
export class TallyNotFoundError extends TallyApiError {}
/** 409, e.g. `namespace_not_empty` on import. */
export class TallyConflictError extends TallyApiError {}
/** 503 `unavailable`, 429, 408 and gateway answers: retrying later may succeed. */
export class TallyUnavailableError extends TallyApiError {}
/** 500 `internal_error` and any other server failure. */
export class TallyInternalError extends TallyApiError {}
/** No answer at all: the network failed or the request was aborted. */
export class TallyNetworkError extends TallyApiError {
  constructor(override readonly cause: unknown) {
    super(`Tally could not be reached: ${cause instanceof Error ? cause.message : String(cause)}`, "network_error", 0);
  }
}

type ErrorClass = new (message: string, code: string, status: number, details?: ErrorDetails, retryAfterMs?: number) => TallyApiError;

function classOf(status: number): ErrorClass {
  if (status === 401 || status === 403) return TallyAuthError;
  if (status === 400 || status === 413 || status === 415) return TallyValidationError;
  if (status === 404) return TallyNotFoundError;
  if (status === 409) return TallyConflictError;
  if (status === 408 || status === 429 || status === 502 || status === 503 || status === 504) return TallyUnavailableError;
  if (status >= 500) return TallyInternalError;
  return TallyApiError;
}

/** Retry-After in milliseconds: delta seconds or an HTTP date (RFC 9110). */
export function retryAfterOf(res: Response, now = Date.now()): number | undefined {
  const value = res.headers.get("Retry-After");
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** The typed error of a refusal. Reads the body; an answer that is not docs/api.md's error JSON (a proxy's
 * page, say) still becomes an error of the status's family, with code `unexpected_response`. */
export async function errorFrom(res: Response): Promise<TallyApiError> {
  const Class = classOf(res.status);
  const text = await res.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = (body as { error?: unknown } | undefined)?.error;
  if (typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string") {
    const { code, message, ...details } = error as { code: string; message?: unknown } & ErrorDetails;
    return new Class(typeof message === "string" ? message : code, code, res.status, details, retryAfterOf(res));
  }
  return new Class(`Tally answered ${res.status}: ${text.slice(0, 200)}`, "unexpected_response", res.status, {}, retryAfterOf(res));
}
