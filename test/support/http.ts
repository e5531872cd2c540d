/**
 * Test support: the public HTTP contract, spoken through SELF (the Worker under test, with the
 * bindings of wrangler.toml and the tokens of vitest.config.ts).
 */
import { SELF, env } from "cloudflare:test";
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

export interface EventInput {
  item: string;
  type?: string;
  weight?: number;
  actor?: string;
  ts?: number | string;
}

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
  const namespace = env.AGGREGATOR as unknown as DurableObjectNamespace<NamespaceAggregator>;
  return namespace.get(namespace.idFromName(ns));
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
