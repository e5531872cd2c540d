/**
 * How the client talks to Tally: one `fetch` (injectable, e.g. a service binding's), bearer auth,
 * and retries of what may succeed later. Retried: 408, 429, 502, 503, 504 and network failures,
 * with exponential backoff and full jitter, at most `attempts` tries, never sooner than
 * Retry-After asks (and not at all when it asks for more than `maxDelayMs`). Never retried: any other 4xx (sending it again cannot succeed) and 500 (the
 * service failed on this very request and would most likely fail again).
 */
import { TallyNetworkError, TallyUnavailableError, errorFrom, retryAfterOf, type TallyApiError } from "./errors.js";

/** The `fetch` the client calls: the global one, or e.g. `env.TALLY.fetch.bind(env.TALLY)`. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** Where the client waits. Injectable, so that tests drive time instead of sleeping. */
export interface Scheduler {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

export interface RetryPolicy {
  /** Tries in all, the first included (1 = never retry). */
  attempts: number;
  /** The first backoff's upper bound; each retry doubles it. */
  baseDelayMs: number;
  /** No backoff waits longer than this; a Retry-After longer than this ends the retries. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 30_000 };

const RETRIED = new Set([408, 429, 502, 503, 504]);

export interface Transport {
  baseUrl: string;
  token: string | undefined;
  fetch: Fetch;
  scheduler: Scheduler;
  retry: RetryPolicy;
  /** A number in [0, 1) for jitter. */
  random: () => number;
}

export interface Call {
  method: "GET" | "PUT" | "POST" | "DELETE";
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Retry what may succeed later; only for calls that are safe to repeat. */
  retry: boolean;
  keepalive?: boolean;
}

export const sleep = (scheduler: Scheduler, ms: number) => new Promise<void>((resolve) => scheduler.setTimeout(resolve, ms));

/** The wait before retry number `retry` (1-based): full jitter over an exponential bound. */
export function backoff(policy: RetryPolicy, retry: number, random: () => number): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1)));
}

/** Sends `call`, retrying as described above; resolves to a success or 304, or throws the typed
 * error of the final refusal. */
export async function send(t: Transport, call: Call): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...call.headers };
  if (t.token !== undefined) headers.Authorization = `Bearer ${t.token}`;
  // The body is serialised once, so every try sends the same bytes (and the same batchId).
  let body: string | undefined;
  if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    headers["Content-Type"] = "application/json";
  }
  const init: RequestInit = { method: call.method, headers, ...(body === undefined ? {} : { body }), ...(call.keepalive ? { keepalive: true } : {}) };
  const attempts = call.retry ? t.retry.attempts : 1;
  for (let attempt = 1; ; attempt++) {
    const res = await fetchOnce(t, `${t.baseUrl}${call.path}`, init);
    let failure: TallyApiError;
    if (res instanceof TallyNetworkError) {
      failure = res;
    } else {
      if (res.ok || res.status === 304) return res;
      if (!RETRIED.has(res.status) || attempt >= attempts) throw await errorFrom(res);
      await res.body?.cancel();
      failure = new TallyUnavailableError(`Tally answered ${res.status}.`, "unavailable", res.status, {}, retryAfterOf(res));
    }
    // Never sooner than Retry-After asks; asked to wait longer than maxDelayMs, give up now rather
    // than hold the queue (the refusal reaches the caller, or onError, with the events).
    if (attempt >= attempts || (failure.retryAfterMs ?? 0) > t.retry.maxDelayMs) throw failure;
    await sleep(t.scheduler, Math.max(backoff(t.retry, attempt, t.random), failure.retryAfterMs ?? 0));
  }
}

/** One try. fetch rejects only when no answer came (network, DNS, abort): the request may or may
 * not have been handled, which is why only calls that are safe to repeat are retried. */
async function fetchOnce(t: Transport, url: string, init: RequestInit): Promise<Response | TallyNetworkError> {
  try {
    return await t.fetch(url, init);
  } catch (error) {
    return new TallyNetworkError(error);
  }
}
