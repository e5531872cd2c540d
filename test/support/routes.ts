/**
 * Every route of a namespace, as the auth matrices call it (test/auth.test.ts for the environment
 * tokens, test/key-auth.test.ts for API keys): its scope, a body, and what success looks like.
 */
export type Scope = "ingest" | "read" | "admin";

export interface Route {
  /** How the route reads in a test name, e.g. "POST /v1/namespaces/{ns}/events". */
  label: string;
  method: string;
  /** Path under /v1/namespaces/{ns}; "" for the namespace itself. */
  path: string;
  scope: Scope;
  body?: unknown;
  /** The route answers 404 for a namespace that never received an event. */
  needsData: boolean;
  /** The status of success (docs/api.md). */
  ok: number;
  /** A field every successful answer of the route carries (docs/api.md, README). */
  field: string;
}

export const ROUTES: Route[] = [
  { label: "POST events", method: "POST", path: "events", scope: "ingest", body: { events: [{ item: "a" }] }, needsData: false, ok: 202, field: "accepted" },
  { label: "GET trending", method: "GET", path: "trending", scope: "read", needsData: true, ok: 200, field: "items" },
  { label: "GET stats", method: "GET", path: "stats", scope: "read", needsData: true, ok: 200, field: "uniqueItems" },
  { label: "GET dashboard", method: "GET", path: "dashboard", scope: "read", needsData: true, ok: 200, field: "windows" },
  { label: "GET config", method: "GET", path: "config", scope: "admin", needsData: false, ok: 200, field: "capacity" },
  { label: "PUT config", method: "PUT", path: "config", scope: "admin", body: { maxLimit: 50 }, needsData: false, ok: 200, field: "capacity" },
  { label: "POST refresh", method: "POST", path: "refresh", scope: "admin", needsData: true, ok: 200, field: "computedAt" },
  { label: "POST invalidate", method: "POST", path: "invalidate", scope: "admin", needsData: true, ok: 200, field: "generation" },
  { label: "GET cache", method: "GET", path: "cache", scope: "admin", needsData: true, ok: 200, field: "layers" },
  { label: "DELETE namespace", method: "DELETE", path: "", scope: "admin", needsData: true, ok: 200, field: "deleted" },
  { label: "GET suppressions", method: "GET", path: "suppressions", scope: "admin", needsData: true, ok: 200, field: "suppressions" },
  { label: "PUT suppression", method: "PUT", path: "suppressions/spam", scope: "admin", needsData: true, ok: 201, field: "suppressed" },
  { label: "DELETE suppression", method: "DELETE", path: "suppressions/spam", scope: "admin", needsData: true, ok: 200, field: "suppressed" },
  { label: "GET audit", method: "GET", path: "audit", scope: "admin", needsData: false, ok: 200, field: "entries" },
];

