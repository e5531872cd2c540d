/**
 * Test support: the public HTTP contract, spoken through SELF (the Worker under test, with the
 * bindings of wrangler.toml and the tokens of vitest.config.ts).
 */
import { SELF, createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import worker, { createWorker } from "../../src/index";
import { createIsolate, type Isolate } from "../../src/worker/isolate";
import type { NamespaceAggregator } from "../../durable-objects/namespace-aggregator";

export const TOKENS = { admin: "test-admin", ingest: "test-ingest" } as const;
export const BASE = "http://tally.test";

let counter = 0;
/** A namespace no other test uses: storage is isolated per file, not per test. */
export function freshNamespace(prefix = "ns"): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

import type { EventInput } from "../../src/shared/contract";
export type { EventInput };

/** POST a batch of events with the ingest token. */
export function ingest(ns: string, events: EventInput[], init: { batchId?: string; headers?: Record<string, string> } = {}) {
  const body = init.batchId === undefined ? { events } : { batchId: init.batchId, events };
  return SELF.fetch(`${BASE}/v1/namespaces/${ns}/events`, {
    method: "POST",
    headers: { ...bearer(TOKENS.ingest), "Content-Type": "application/json", ...init.headers },
    body: JSON.stringify(body),
  });
}

/** Ingests `events` in batches of up to 1000, expecting each to be accepted. */
export async function ingestAll(ns: string, events: EventInput[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const res = await ingest(ns, events.slice(i, i + 1000));
    if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  }
}

/** GET a read endpoint (trending, stats, dashboard) with optional query and headers. */
export function get(ns: string, path: string, query: Record<string, string | number> = {}, headers: Record<string, string> = {}) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return SELF.fetch(`${BASE}/v1/namespaces/${ns}/${path}${qs ? `?${qs}` : ""}`, { headers });
}

/** An admin call: method, path under the namespace ("" for the namespace itself), optional JSON body. */
export function admin(method: string, ns: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { ...bearer(TOKENS.admin) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return SELF.fetch(`${BASE}/v1/namespaces/${ns}${path ? `/${path}` : ""}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Precomputes now, as a deploy pipeline would. */
export async function refresh(ns: string): Promise<void> {
  const res = await admin("POST", ns, "refresh");
  if (res.status !== 200) throw new Error(`refresh answered ${res.status}: ${await res.text()}`);
}

/** The namespace's object, for tests of its internals (alarms, eviction). */
export function stubOf(ns: string): DurableObjectStub<NamespaceAggregator> {
  return env.AGGREGATOR.get(env.AGGREGATOR.idFromName(ns));
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

// ---- additions for the auth, admin, routing and CORS tests ----------------------------------------

/** Bindings a test may set, unset or replace (an injected fault, a spy) for one direct call of
 * the Worker (see `fetchWith`). */
export type EnvOverrides = { [K in keyof Env]?: Env[K] | undefined };

/** A read token for tests that gate reads; vitest.config.ts leaves READ_TOKEN unset. */
export const READ_TOKEN = "test-read";

/**
 * Calls the Worker directly with the test bindings changed by `overrides`, e.g. READ_TOKEN set or
 * ADMIN_TOKEN unset. Waits for its background work, as SELF would let it finish.
 */
export async function fetchWith(
  overrides: EnvOverrides,
  path: string,
  init: RequestInit = {},
  through: ReturnType<typeof createWorker> = worker,
): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(path.startsWith("http") ? path : `${BASE}${path}`, init) as Parameters<typeof worker.fetch>[0];
  const res = await through.fetch(request, { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/**
 * The Worker with memories of its own (descriptors, isolate answers, read counts, misses in flight),
 * as a fresh isolate would have them; `now` is the clock of those memories.
 */
export function isolatedWorker(options: { now?: () => number } = {}) {
  const isolate: Isolate = createIsolate(options);
  const through = createWorker(isolate);
  return {
    isolate,
    fetch: (path: string, init: RequestInit = {}, overrides: EnvOverrides = {}) => fetchWith(overrides, path, init, through),
  };
}

/** Any request through SELF, path relative to BASE. */
export function call(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  return SELF.fetch(`${BASE}${path}`, { method, ...init });
}

/** The namespace exists: one event is accepted into it. */
export async function seed(ns: string, item = "seed"): Promise<void> {
  await ingestAll(ns, [{ item }]);
}

export interface ErrorBody {
  code: string;
  message: string;
  field?: string | null;
  allowed?: unknown;
  [detail: string]: unknown;
}

/** Expects the JSON error of docs/api.md with `status` and `code`, and returns its details. */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type") ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: ErrorBody };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

/**
 * An AGGREGATOR binding over the real objects whose calls of `method` go through `around` (given
 * the call's arguments and the real call), every other call straight to the object. The seam is
 * the binding: nothing inside the object is touched. Pass it to `fetchWith` as `AGGREGATOR`.
 */
export function aroundAggregator(method: string, around: (args: unknown[], call: () => unknown) => unknown): Env["AGGREGATOR"] {
  const real = env.AGGREGATOR;
  return {
    idFromName: (name: string) => real.idFromName(name),
    get: (id: DurableObjectId) =>
      new Proxy(real.get(id), {
        get(target, prop) {
          const value = Reflect.get(target, prop) as unknown;
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            const call = () => Reflect.apply(value, target, args) as unknown;
            return prop === method ? around(args, call) : call();
          };
        },
      }),
  } as unknown as Env["AGGREGATOR"];
}

/**
 * An AGGREGATOR binding that passes every call to the real object and records the first argument
 * of each call of `method`. Pass `env` to `fetchWith` or an isolated worker's `fetch`.
 */
export function recordingAggregator(method: string) {
  const calls: unknown[] = [];
  const binding = aroundAggregator(method, (args, call) => {
    calls.push(structuredClone(args[0]));
    return call();
  });
  return { calls, env: { AGGREGATOR: binding } };
}
