/**
 * One error type for everything the service refuses, mapped to the JSON error of docs/api.md in one
 * place (`errorResponse`). Anything else becomes a generic 500 with no stack trace.
 */
import type { ErrorDetails } from "./contract";

export class TallyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "TallyError";
  }

  toJSON(): { error: { code: string; message: string } & ErrorDetails } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/** The shape a TallyError takes across the RPC boundary (Workers RPC keeps only name and message). */
export interface WireError {
  status: number;
  code: string;
  message: string;
  details?: ErrorDetails;
}

/** What every Durable Object RPC method returns: a value, or a refusal the Worker rethrows as is. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };

export function toWire(error: TallyError): WireError {
  return { status: error.status, code: error.code, message: error.message, details: error.details };
}

export function fromWire(error: WireError): TallyError {
  const retryAfter = error.details?.retryAfterSeconds;
  const headers: Record<string, string> = typeof retryAfter === "number" ? { "Retry-After": String(retryAfter) } : {};
  return new TallyError(error.status, error.code, error.message, error.details, headers);
}

export function errorResponse(error: unknown): Response {
  if (error instanceof TallyError) {
    return Response.json(error.toJSON(), { status: error.status, headers: error.headers });
  }
  console.error("unhandled error", error);
  return errorResponse(internal("The service failed to answer this request."));
}

/** A bug or a permanent condition: retrying the same request will not help, so nothing here
 * invites it (no Retry-After). The cause is logged where it happened, never sent. */
export const internal = (message: string, details?: ErrorDetails) =>
  new TallyError(500, "internal", `${message} This is a fault of the service, not of the request; report it if it persists.`, details);

/** A platform condition that will clear (an overloaded or resetting object): retry after a pause. */
export const unavailable = (message: string, retryAfterSeconds: number) =>
  new TallyError(503, "unavailable", message, { retryAfterSeconds }, { "Retry-After": String(retryAfterSeconds) });

export const invalid = (code: string, message: string, details?: ErrorDetails) =>
  new TallyError(400, code, message, details);

export const notFound = (namespace: string) =>
  new TallyError(404, "namespace_not_found", `Namespace "${namespace}" has never received an event.`, { namespace });
