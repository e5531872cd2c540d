/**
 * GET /openapi.json (docs/api.md): "Every answer the service gives validates against it." Every
 * route's successes and refusals are sent through the Worker, and each answer (status, body and
 * headers) is checked against the description the Worker serves.
 *
 * CASES lists the routes the Worker serves. `GET /` and `GET /docs`, the dashboard and the API
 * reference pages, are served by the static assets before the Worker (wrangler.toml, [assets]),
 * which the test pool does not run: they are in NOT_SERVED_BY_THE_WORKER, and a test proves the
 * Worker itself answers them 404. The pages are tested in a browser against wrangler dev
 * (test/browser).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WireError } from "../src/shared/errors";
import { MAX_PENDING_EVENTS } from "../src/core/pending";
import { DESCRIBED_OPERATIONS, DESCRIPTION, departures, describedResponses, requestBodyErrors } from "./support/openapi";
import { READ_TOKEN, TOKENS, admin, bearer, call, expectError, fetchWith, freshNamespace, get, ingest, json, refresh, seed } from "./support/http";
import { createKey, withKey } from "./support/keys";
import { openLive } from "./support/live";

const NOT_SERVED_BY_THE_WORKER = ["GET /", "GET /docs"];

/** An AGGREGATOR binding whose every object is unreachable. */
const unreachable = {
  idFromName: (name: string) => env.AGGREGATOR.idFromName(name),
  get: () => new Proxy({}, { get: () => () => Promise.reject(new Error("injected fault: object unreachable")) }),
} as unknown as Env["AGGREGATOR"];

/**
 * An AGGREGATOR binding whose objects are the real ones, except that `ingest` answers `refusal`
 * the way an object's refusal crosses the RPC boundary (an Outcome with a WireError). It stands in
 * for a namespace holding 500,000 pending events, which no object of this branch refuses yet; what
 * it tests is the Worker's half: the refusal reaches the client, Retry-After included, as described.
 */
const refusingIngest = (refusal: WireError) =>
  ({
    idFromName: (name: string) => env.AGGREGATOR.idFromName(name),
    get: (id: DurableObjectId) => {
      const real = env.AGGREGATOR.get(id);
      return new Proxy(real, {
        get: (target, key) => (key === "ingest" ? () => Promise.resolve({ ok: false, error: refusal }) : Reflect.get(target, key)),
      });
    },
  }) as unknown as Env["AGGREGATOR"];

/** The refusal docs/api.md describes for a batch that would take a namespace over the cap. */
const TOO_MANY_PENDING: WireError = {
  status: 429,
  code: "too_many_pending",
  message: "The namespace holds too many pending events.",
  details: { limit: MAX_PENDING_EVENTS, pending: MAX_PENDING_EVENTS - 10, retryAfterSeconds: 42 },
};

const jsonHeaders = (token: string) => ({ ...bearer(token), "Content-Type": "application/json" });
const path = (ns: string, rest = "") => `/v1/namespaces/${ns}${rest}`;
const seeded = async (prefix: string) => {
  const ns = freshNamespace(prefix);
  await seed(ns);
  return ns;
};

/** (v1.7) A namespace with declared dimensions whose events carry values of them. */
const DIMENSIONS = { category: {}, tag: { multi: true } };
const segmented = async (prefix: string) => {
  const ns = freshNamespace(prefix);
  await admin("PUT", ns, "config", { dimensions: DIMENSIONS });
  await ingest(ns, [{ item: "a", dims: { category: "sci/fi", tag: ["cats", "dogs"] } }, { item: "b", weight: 2, dims: { tag: "cats" } }]);
  return ns;
};

const HOOK = { url: "https://hooks.example.com/tally", on: ["entered", "left", "spike"], window: "1h", limit: 10, spike: { factor: 3, minScore: 50 } };
const withHook = async (prefix: string) => {
  const ns = await seeded(prefix);
  await admin("PUT", ns, "webhooks/top", HOOK);
  return ns;
};

interface Case {
  /** "METHOD /path/template" of the description, or a shared response (components.responses). */
  operation: string;
  name: string;
  status: number;
  send: () => Promise<Response>;
}

const CASES: Case[] = [
  // the namespace list
  { operation: "GET /v1/namespaces", name: "a page", status: 200, send: async () => (await seeded("oa"), call("GET", "/v1/namespaces?limit=2", { headers: bearer(TOKENS.admin) })) },
  { operation: "GET /v1/namespaces", name: "a foreign cursor", status: 400, send: () => call("GET", "/v1/namespaces?cursor=nope", { headers: bearer(TOKENS.admin) }) },
  { operation: "GET /v1/namespaces", name: "no token", status: 401, send: () => call("GET", "/v1/namespaces") },
  // moderation
  { operation: "GET /v1/namespaces/{ns}/suppressions", name: "a page", status: 200, send: async () => admin("GET", await seeded("oa"), "suppressions") },
  { operation: "GET /v1/namespaces/{ns}/suppressions", name: "limit=0", status: 400, send: async () => admin("GET", await seeded("oa"), "suppressions?limit=0") },
  { operation: "GET /v1/namespaces/{ns}/suppressions", name: "an unknown namespace", status: 404, send: () => admin("GET", freshNamespace("oa"), "suppressions") },
  { operation: "PUT /v1/namespaces/{ns}/suppressions/{item}", name: "suppressed", status: 201, send: async () => admin("PUT", await seeded("oa"), "suppressions/spam") },
  {
    operation: "PUT /v1/namespaces/{ns}/suppressions/{item}", name: "already suppressed", status: 200,
    send: async () => {
      const ns = await seeded("oa");
      await admin("PUT", ns, "suppressions/spam");
      return admin("PUT", ns, "suppressions/spam");
    },
  },
  { operation: "PUT /v1/namespaces/{ns}/suppressions/{item}", name: "an item over 256 bytes", status: 400, send: async () => admin("PUT", await seeded("oa"), `suppressions/${"x".repeat(257)}`) },
  { operation: "PUT /v1/namespaces/{ns}/suppressions/{item}", name: "an unknown namespace", status: 404, send: () => admin("PUT", freshNamespace("oa"), "suppressions/spam") },
  { operation: "DELETE /v1/namespaces/{ns}/suppressions/{item}", name: "shown again", status: 200, send: async () => admin("DELETE", await seeded("oa"), "suppressions/spam") },
  { operation: "DELETE /v1/namespaces/{ns}/suppressions/{item}", name: "an item over 256 bytes", status: 400, send: async () => admin("DELETE", await seeded("oa"), `suppressions/${"x".repeat(257)}`) },
  { operation: "DELETE /v1/namespaces/{ns}/suppressions/{item}", name: "an unknown namespace", status: 404, send: () => admin("DELETE", freshNamespace("oa"), "suppressions/spam") },
  { operation: "GET /healthz", name: "ok", status: 200, send: () => call("GET", "/healthz") },
  { operation: "NotFound", name: "an unknown route", status: 404, send: () => call("GET", "/v1/nothing") },
  { operation: "MethodNotAllowed", name: "a wrong method", status: 405, send: () => call("PATCH", "/healthz") },
  // ingest
  { operation: "POST /v1/namespaces/{ns}/events", name: "accepted", status: 202, send: () => ingest(freshNamespace("oa"), [{ item: "a" }]) },
  {
    operation: "POST /v1/namespaces/{ns}/events", name: "a retried batch", status: 200,
    send: async () => {
      const ns = freshNamespace("oa");
      await ingest(ns, [{ item: "a" }], { batchId: "b1" });
      return ingest(ns, [{ item: "a" }], { batchId: "b1" });
    },
  },
  { operation: "POST /v1/namespaces/{ns}/events", name: "a bad event", status: 400, send: () => ingest(freshNamespace("oa"), [{ item: "" }]) },
  { operation: "POST /v1/namespaces/{ns}/events", name: "an empty batch", status: 400, send: () => ingest(freshNamespace("oa"), []) },
  { operation: "POST /v1/namespaces/{ns}/events", name: "a bad namespace", status: 400, send: () => ingest("Bad", [{ item: "a" }]) },
  {
    operation: "POST /v1/namespaces/{ns}/events", name: "malformed JSON", status: 400,
    send: () => call("POST", path(freshNamespace("oa"), "/events"), { headers: jsonHeaders(TOKENS.ingest), body: "{" }),
  },
  { operation: "POST /v1/namespaces/{ns}/events", name: "no token", status: 401, send: () => call("POST", path("x", "/events")) },
  {
    operation: "POST /v1/namespaces/{ns}/events", name: "a read token", status: 403,
    send: () => fetchWith({ READ_TOKEN }, path("x", "/events"), { method: "POST", headers: jsonHeaders(READ_TOKEN), body: "{}" }),
  },
  {
    operation: "POST /v1/namespaces/{ns}/events", name: "too many events", status: 413,
    send: () => ingest(freshNamespace("oa"), Array.from({ length: 1001 }, () => ({ item: "a" }))),
  },
  {
    operation: "POST /v1/namespaces/{ns}/events", name: "a body over 1 MiB", status: 413,
    send: () => call("POST", path("x", "/events"), { headers: jsonHeaders(TOKENS.ingest), body: " ".repeat(1024 * 1024 + 1) }),
  },
  {
    operation: "POST /v1/namespaces/{ns}/events", name: "text/plain", status: 415,
    send: () => call("POST", path("x", "/events"), { headers: { ...bearer(TOKENS.ingest), "Content-Type": "text/plain" }, body: "{}" }),
  },
  {
    operation: "POST /v1/namespaces/{ns}/events", name: "too many pending events (a stand-in object)", status: 429,
    send: () =>
      fetchWith({ AGGREGATOR: refusingIngest(TOO_MANY_PENDING) }, path(freshNamespace("oa"), "/events"), {
        method: "POST", headers: jsonHeaders(TOKENS.ingest), body: '{"events":[{"item":"a","ts":' + (Date.now() + 60_000) + "}]}",
      }),
  },
  {
    operation: "POST /v1/namespaces/{ns}/events", name: "an unreachable object", status: 503,
    send: () => fetchWith({ AGGREGATOR: unreachable }, path("x", "/events"), { method: "POST", headers: jsonHeaders(TOKENS.ingest), body: '{"events":[{"item":"a"}]}' }),
  },
  // reads
  ...(["top", "rising", "hot", "reach"] as const).map((rank): Case => ({
    operation: "GET /v1/namespaces/{ns}/trending", name: `rank=${rank}`, status: 200,
    send: async () => {
      const ns = freshNamespace("oa");
      await ingest(ns, [{ item: "a", type: "view" }, { item: "b", actor: "u" }]);
      return get(ns, "trending", { rank, limit: 5 });
    },
  })),
  {
    operation: "GET /v1/namespaces/{ns}/trending", name: "not modified", status: 304,
    send: async () => {
      const ns = await seeded("oa");
      await refresh(ns);
      const etag = (await get(ns, "trending")).headers.get("ETag") ?? "";
      return get(ns, "trending", {}, { "If-None-Match": etag });
    },
  },
  ...["window=2h", "rank=low", "type=nope", "limit=0"].map((q): Case => ({
    operation: "GET /v1/namespaces/{ns}/trending", name: q, status: 400,
    send: async () => call("GET", `${path(await seeded("oa"), "/trending")}?${q}`),
  })),
  ...(["top", "rising", "hot", "reach"] as const).flatMap((rank) =>
    (["previous", "week"] as const).map((compare): Case => ({
      operation: "GET /v1/namespaces/{ns}/trending", name: `rank=${rank}, compare=${compare}`, status: 200,
      send: async () => {
        const ns = freshNamespace("oa");
        await ingest(ns, [{ item: "a", type: "view" }, { item: "b", actor: "u" }, { item: "a", ts: Date.now() - 7 * 86_400_000 }]);
        return get(ns, "trending", { window: "24h", rank, limit: 5, compare });
      },
    })),
  ),
  ...["compare=nope", "compare=week&window=1h", "compare=week&window=7d"].map((q): Case => ({
    operation: "GET /v1/namespaces/{ns}/trending", name: q, status: 400,
    send: async () => call("GET", `${path(await seeded("oa"), "/trending")}?${q}`),
  })),
  // segments (v1.7)
  ...(["top", "rising", "hot"] as const).map((rank): Case => ({
    operation: "GET /v1/namespaces/{ns}/trending", name: `segment=tag:cats, rank=${rank}`, status: 200,
    send: async () => get(await segmented("oa"), "trending", { segment: "tag:cats", rank, limit: 5 }),
  })),
  {
    operation: "GET /v1/namespaces/{ns}/trending", name: "segment=category:sci/fi, compare=previous", status: 200,
    send: async () => get(await segmented("oa"), "trending", { segment: "category:sci/fi", compare: "previous" }),
  },
  ...["segment=tag:cats&rank=reach", "segment=tag:cats&type=view", "segment=tag", "segment=tag:", "segment=country:de"].map((q): Case => ({
    operation: "GET /v1/namespaces/{ns}/trending", name: q, status: 400,
    send: async () => call("GET", `${path(await segmented("oa"), "/trending")}?${q}`),
  })),
  { operation: "GET /v1/namespaces/{ns}/stats", name: "segment=tag:cats", status: 200, send: async () => get(await segmented("oa"), "stats", { segment: "tag:cats", window: "1h" }) },
  ...["segment=tag:cats&compare=previous", "segment=country:de"].map((q): Case => ({
    operation: "GET /v1/namespaces/{ns}/stats", name: q, status: 400,
    send: async () => call("GET", `${path(await segmented("oa"), "/stats")}?${q}`),
  })),
  ...["", "window=1h&limit=1", "window=7d&limit=1&cursor=o1"].map((q): Case => ({
    operation: "GET /v1/namespaces/{ns}/dimensions/{dimension}", name: `tag?${q}`, status: 200,
    send: async () => call("GET", `${path(await segmented("oa"), "/dimensions/tag")}?${q}`),
  })),
  {
    operation: "GET /v1/namespaces/{ns}/dimensions/{dimension}", name: "not modified", status: 304,
    send: async () => {
      const ns = await segmented("oa");
      await refresh(ns);
      const etag = (await get(ns, "dimensions/tag")).headers.get("ETag") ?? "";
      return get(ns, "dimensions/tag", {}, { "If-None-Match": etag });
    },
  },
  ...["dimensions/country", "dimensions/tag?cursor=nope", "dimensions/tag?limit=0", "dimensions/tag?window=2h"].map((rest): Case => ({
    operation: "GET /v1/namespaces/{ns}/dimensions/{dimension}", name: rest, status: 400,
    send: async () => call("GET", path(await segmented("oa"), `/${rest}`)),
  })),
  { operation: "GET /v1/namespaces/{ns}/dimensions/{dimension}", name: "an unknown namespace", status: 404, send: () => get(freshNamespace("oa"), "dimensions/tag") },
  {
    operation: "GET /v1/namespaces/{ns}/dashboard", name: "with dimensions", status: 200,
    send: async () => {
      const ns = await segmented("oa");
      await refresh(ns);
      return get(ns, "dashboard");
    },
  },
  { operation: "GET /v1/namespaces/{ns}/trending", name: "an unknown namespace", status: 404, send: () => get(freshNamespace("oa"), "trending") },
  { operation: "GET /v1/namespaces/{ns}/trending", name: "no token while reads are gated", status: 401, send: () => fetchWith({ READ_TOKEN }, path("x", "/trending")) },
  { operation: "GET /v1/namespaces/{ns}/trending", name: "an unreachable object", status: 503, send: () => fetchWith({ AGGREGATOR: unreachable }, path(freshNamespace("oa"), "/trending")) },
  { operation: "GET /v1/namespaces/{ns}/stats", name: "stats", status: 200, send: async () => get(await seeded("oa"), "stats", { window: "1h" }) },
  ...(["previous", "week"] as const).map((compare): Case => ({
    operation: "GET /v1/namespaces/{ns}/stats", name: `compare=${compare}`, status: 200,
    send: async () => get(await seeded("oa"), "stats", { window: "24h", compare }),
  })),
  { operation: "GET /v1/namespaces/{ns}/stats", name: "a bad window", status: 400, send: async () => get(await seeded("oa"), "stats", { window: "1y" }) },
  { operation: "GET /v1/namespaces/{ns}/stats", name: "compare=week on 5m", status: 400, send: async () => get(await seeded("oa"), "stats", { window: "5m", compare: "week" }) },
  { operation: "GET /v1/namespaces/{ns}/stats", name: "an unknown namespace", status: 404, send: () => get(freshNamespace("oa"), "stats") },
  {
    operation: "GET /v1/namespaces/{ns}/dashboard", name: "refreshed", status: 200,
    send: async () => {
      const ns = await seeded("oa");
      await refresh(ns);
      return get(ns, "dashboard");
    },
  },
  { operation: "GET /v1/namespaces/{ns}/dashboard", name: "an unknown namespace", status: 404, send: () => get(freshNamespace("oa"), "dashboard") },
  // live
  {
    operation: "GET /v1/namespaces/{ns}/live", name: "a socket", status: 101,
    send: async () => {
      const res = await openLive(await seeded("oa"), { limit: 3 }, { "Sec-WebSocket-Protocol": "tally.v1" });
      res.webSocket?.accept();
      res.webSocket?.close();
      return res;
    },
  },
  { operation: "GET /v1/namespaces/{ns}/live", name: "segment=tag:cats&rank=reach", status: 400, send: async () => openLive(await segmented("oa"), { segment: "tag:cats", rank: "reach" }) },
  { operation: "GET /v1/namespaces/{ns}/live", name: "answer=ranking", status: 400, send: async () => openLive(await seeded("oa"), { answer: "ranking" }) },
  { operation: "GET /v1/namespaces/{ns}/live", name: "an unknown namespace", status: 404, send: () => openLive(freshNamespace("oa")) },
  { operation: "GET /v1/namespaces/{ns}/live", name: "no upgrade", status: 426, send: async () => get(await seeded("oa"), "live") },
  { operation: "GET /v1/namespaces/{ns}/live", name: "no token while reads are gated", status: 401, send: () => fetchWith({ READ_TOKEN }, path("x", "/live"), { headers: { Upgrade: "websocket" } }) },
  // webhooks
  { operation: "GET /v1/namespaces/{ns}/webhooks", name: "a list", status: 200, send: async () => admin("GET", await withHook("oa"), "webhooks") },
  { operation: "GET /v1/namespaces/{ns}/webhooks", name: "an unknown namespace", status: 404, send: () => admin("GET", freshNamespace("oa"), "webhooks") },
  { operation: "PUT /v1/namespaces/{ns}/webhooks/{id}", name: "created", status: 201, send: async () => admin("PUT", await seeded("oa"), "webhooks/top", HOOK) },
  { operation: "PUT /v1/namespaces/{ns}/webhooks/{id}", name: "replaced", status: 200, send: async () => admin("PUT", await withHook("oa"), "webhooks/top", HOOK) },
  { operation: "PUT /v1/namespaces/{ns}/webhooks/{id}", name: "an http url", status: 400, send: async () => admin("PUT", await seeded("oa"), "webhooks/top", { ...HOOK, url: "http://example.com/" }) },
  { operation: "PUT /v1/namespaces/{ns}/webhooks/{id}", name: "an unknown namespace", status: 404, send: () => admin("PUT", freshNamespace("oa"), "webhooks/top", HOOK) },
  {
    operation: "PUT /v1/namespaces/{ns}/webhooks/{id}", name: "a 21st webhook", status: 409,
    send: async () => {
      const ns = await seeded("oa");
      for (let i = 0; i < 20; i++) await admin("PUT", ns, `webhooks/w${i}`, HOOK);
      return admin("PUT", ns, "webhooks/w20", HOOK);
    },
  },
  { operation: "GET /v1/namespaces/{ns}/webhooks/{id}", name: "one", status: 200, send: async () => admin("GET", await withHook("oa"), "webhooks/top") },
  { operation: "GET /v1/namespaces/{ns}/webhooks/{id}", name: "an unknown id", status: 404, send: async () => admin("GET", await seeded("oa"), "webhooks/nope") },
  { operation: "DELETE /v1/namespaces/{ns}/webhooks/{id}", name: "deleted", status: 200, send: async () => admin("DELETE", await withHook("oa"), "webhooks/top") },
  { operation: "DELETE /v1/namespaces/{ns}/webhooks/{id}", name: "a bad id", status: 400, send: async () => admin("DELETE", await seeded("oa"), "webhooks/No!") },
  // admin
  { operation: "GET /v1/namespaces/{ns}/config", name: "defaults", status: 200, send: () => admin("GET", freshNamespace("oa"), "config") },
  { operation: "GET /v1/namespaces/{ns}/config", name: "a bad namespace", status: 400, send: () => admin("GET", "_x", "config") },
  { operation: "PUT /v1/namespaces/{ns}/config", name: "a config", status: 200, send: () => admin("PUT", freshNamespace("oa"), "config", { maxLimit: 20, types: { like: { weight: 2 }, view: {} } }) },
  { operation: "PUT /v1/namespaces/{ns}/config", name: "a bad field", status: 400, send: () => admin("PUT", freshNamespace("oa"), "config", { capacity: 1 }) },
  {
    operation: "PUT /v1/namespaces/{ns}/config", name: "text/plain", status: 415,
    send: () => call("PUT", path("x", "/config"), { headers: { ...bearer(TOKENS.admin), "Content-Type": "text/plain" }, body: "{}" }),
  },
  { operation: "PUT /v1/namespaces/{ns}/config", name: "the ingest token", status: 403, send: () => call("PUT", path("x", "/config"), { headers: jsonHeaders(TOKENS.ingest), body: "{}" }) },
  { operation: "POST /v1/namespaces/{ns}/refresh", name: "refreshed", status: 200, send: async () => admin("POST", await seeded("oa"), "refresh") },
  { operation: "POST /v1/namespaces/{ns}/refresh", name: "an unknown namespace", status: 404, send: () => admin("POST", freshNamespace("oa"), "refresh") },
  { operation: "POST /v1/namespaces/{ns}/invalidate", name: "invalidated", status: 200, send: async () => admin("POST", await seeded("oa"), "invalidate") },
  { operation: "POST /v1/namespaces/{ns}/invalidate", name: "an unknown namespace", status: 404, send: () => admin("POST", freshNamespace("oa"), "invalidate") },
  {
    operation: "GET /v1/namespaces/{ns}/cache", name: "after a refresh and reads", status: 200,
    send: async () => {
      const ns = await seeded("oa");
      await refresh(ns);
      await get(ns, "trending");
      return admin("GET", ns, "cache");
    },
  },
  { operation: "GET /v1/namespaces/{ns}/cache", name: "no token", status: 401, send: () => call("GET", path("x", "/cache")) },
  { operation: "DELETE /v1/namespaces/{ns}", name: "erased", status: 200, send: async () => admin("DELETE", await seeded("oa"), "") },
  { operation: "DELETE /v1/namespaces/{ns}", name: "an unknown namespace", status: 404, send: () => admin("DELETE", freshNamespace("oa"), "") },
  // export and import (v1.1)
  { operation: "GET /v1/namespaces/{ns}/export", name: "a document", status: 200, send: async () => admin("GET", await seeded("oa"), "export") },
  { operation: "GET /v1/namespaces/{ns}/export", name: "an unknown namespace", status: 404, send: () => admin("GET", freshNamespace("oa"), "export") },
  {
    operation: "POST /v1/namespaces/{ns}/import", name: "into an empty namespace", status: 200,
    send: async () => admin("POST", freshNamespace("oa"), "import", await json(await admin("GET", await seeded("oa"), "export"))),
  },
  {
    operation: "POST /v1/namespaces/{ns}/import", name: "into a namespace with data", status: 409,
    send: async () => admin("POST", await seeded("oa"), "import", await json(await admin("GET", await seeded("oa"), "export"))),
  },
  { operation: "POST /v1/namespaces/{ns}/import", name: "a foreign document", status: 400, send: () => admin("POST", freshNamespace("oa"), "import", { json: { format: "x" } }) },
  // keys, quotas and audit logs (v1.2)
  ...KEY_CASES(),
];

/** The cases of the v1.2 routes: keys, the audit logs, quotas and the embeddable list. */
function KEY_CASES(): Case[] {
  const keyBody = (ns: string) => JSON.stringify({ label: "oa", scopes: ["ingest", "read"], namespaces: [ns], limits: { requestsPerMinute: 100 } });
  const root = (method: string, url: string, body?: string) => call(method, url, { headers: body === undefined ? bearer(TOKENS.admin) : jsonHeaders(TOKENS.admin), body });
  const limitedKey = async (ns: string, limits: Record<string, number>) => (await createKey({ label: "limited", scopes: ["ingest"], namespaces: [ns], limits })).key;
  return [
    { operation: "POST /v1/keys", name: "created", status: 201, send: () => root("POST", "/v1/keys", keyBody(freshNamespace("oa"))) },
    { operation: "POST /v1/keys", name: "no scopes", status: 400, send: () => root("POST", "/v1/keys", '{"label":"x","scopes":[],"prefix":"a"}') },
    { operation: "POST /v1/keys", name: "text/plain", status: 415, send: () => call("POST", "/v1/keys", { headers: { ...bearer(TOKENS.admin), "Content-Type": "text/plain" }, body: "{}" }) },
    { operation: "POST /v1/keys", name: "no token", status: 401, send: () => call("POST", "/v1/keys") },
    { operation: "POST /v1/keys", name: "the ingest token", status: 403, send: () => call("POST", "/v1/keys", { headers: bearer(TOKENS.ingest) }) },
    { operation: "GET /v1/keys", name: "the keys", status: 200, send: async () => (await root("POST", "/v1/keys", keyBody(freshNamespace("oa"))), root("GET", "/v1/keys")) },
    { operation: "GET /v1/keys", name: "no token", status: 401, send: () => call("GET", "/v1/keys") },
    { operation: "DELETE /v1/keys/{id}", name: "revoked", status: 200, send: async () => root("DELETE", `/v1/keys/${(await createKey({ label: "x", scopes: ["read"], prefix: "oa" })).id}`) },
    { operation: "DELETE /v1/keys/{id}", name: "an unknown id", status: 404, send: () => root("DELETE", "/v1/keys/0123456789abcdef") },
    { operation: "DELETE /v1/keys/{id}", name: "a malformed id", status: 400, send: () => root("DELETE", "/v1/keys/zz") },
    { operation: "GET /v1/audit", name: "a page", status: 200, send: async () => (await createKey({ label: "x", scopes: ["read"], prefix: "oa" }), root("GET", "/v1/audit?limit=2")) },
    { operation: "GET /v1/audit", name: "a foreign cursor", status: 400, send: () => root("GET", "/v1/audit?cursor=x") },
    { operation: "GET /v1/namespaces/{ns}/audit", name: "a page", status: 200, send: async () => { const ns = await seeded("oa"); await admin("POST", ns, "invalidate"); return admin("GET", ns, "audit?limit=1"); } },
    { operation: "GET /v1/namespaces/{ns}/audit", name: "limit=0", status: 400, send: () => admin("GET", freshNamespace("oa"), "audit?limit=0") },
    {
      operation: "GET /v1/namespaces/{ns}/audit", name: "a key of another namespace", status: 403,
      send: async () => withKey((await createKey({ label: "x", scopes: ["admin"], namespaces: ["elsewhere"] })).key, "GET", path(freshNamespace("oa"), "/audit")),
    },
    {
      operation: "GET /v1/namespaces/{ns}/stats", name: "a key over its requestsPerMinute", status: 429,
      send: async () => {
        const ns = await seeded("oa");
        const key = await limitedKey(ns, { requestsPerMinute: 1 });
        await withKey(key, "GET", path(ns, "/stats"));
        return withKey(key, "GET", path(ns, "/stats"));
      },
    },
    {
      operation: "POST /v1/namespaces/{ns}/events", name: "a key over its eventsPerMinute", status: 429,
      send: async () => {
        const ns = freshNamespace("oa");
        return withKey(await limitedKey(ns, { eventsPerMinute: 1 }), "POST", path(ns, "/events"), { events: [{ item: "a" }, { item: "b" }] });
      },
    },
    { operation: "GET /embed", name: "a list", status: 200, send: () => call("GET", `/embed?ns=${freshNamespace("oa")}&window=24h&rank=hot&limit=5`) },
    { operation: "GET /embed", name: "a bad namespace", status: 400, send: () => call("GET", "/embed?ns=Bad") },
    { operation: "GET /embed", name: "limit over 100", status: 400, send: () => call("GET", "/embed?ns=a&limit=101") },
  ];
}

describe("every answer of the Worker validates against GET /openapi.json", () => {
  for (const c of CASES) {
    it(`${c.operation}: ${c.name} answers ${c.status} as described`, async () => {
      const res = await c.send();
      // A WebSocket handshake's response cannot be cloned, and has no body to show.
      expect(res.status, res.webSocket ? "a socket" : await res.clone().text()).toBe(c.status);
      expect(await departures(c.operation, res)).toEqual([]);
    });
  }

  it("serves the description as OpenAPI 3.1 JSON", async () => {
    const res = await call("GET", "/openapi.json");
    expect(await departures("GET /openapi.json", res.clone())).toEqual([]);
    const served = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(served.openapi).toBe("3.1.0");
    expect(served).toEqual(JSON.parse(JSON.stringify(DESCRIPTION)));
  });
});

/** `res` again, its JSON body changed by `change` and its headers by `headers`. */
async function altered(res: Response, change: (body: any) => void, headers: Record<string, string | null> = {}): Promise<Response> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const body = await res.json();
  change(body);
  const kept = new Headers(res.headers);
  for (const [name, value] of Object.entries(headers)) value === null ? kept.delete(name) : kept.set(name, value);
  return new Response(JSON.stringify(body), { status: res.status, headers: kept });
}

describe("the check finds answers that depart from the description", () => {
  // Each starts from a real answer of the Worker that validates, and changes one thing about it.
  it("a read answer missing a field, or with a header out of its schema", async () => {
    const ns = await seeded("oa-depart");
    const res = await get(ns, "trending");
    expect(await departures("GET /v1/namespaces/{ns}/trending", res.clone())).toEqual([]);
    expect(await departures("GET /v1/namespaces/{ns}/trending", await altered(res.clone(), (b) => delete b.generation))).not.toEqual([]);
    expect(await departures("GET /v1/namespaces/{ns}/trending", await altered(res.clone(), () => {}, { "X-Cache": "HIT-SOMEWHERE" }))).not.toEqual([]);
    expect(await departures("GET /v1/namespaces/{ns}/trending", await altered(res.clone(), () => {}, { "X-Generation": null }))).not.toEqual([]);
  });

  it("a status the operation does not describe", async () => {
    const res = await call("GET", "/healthz");
    const relabelled = new Response(await res.text(), { status: 429, headers: res.headers });
    expect(await departures("GET /healthz", relabelled)).toEqual(["GET /healthz answered 429, which is not described"]);
  });

  it("a 429 too_many_pending without its details, or whose Retry-After is not 1 to 300 seconds", async () => {
    const send = () =>
      fetchWith({ AGGREGATOR: refusingIngest(TOO_MANY_PENDING) }, path(freshNamespace("oa-depart"), "/events"), {
        method: "POST", headers: jsonHeaders(TOKENS.ingest), body: '{"events":[{"item":"a"}]}',
      });
    const operation = "POST /v1/namespaces/{ns}/events";
    const res = await send();
    expect(res.headers.get("Retry-After")).toBe("42");
    expect(await departures(operation, res.clone())).toEqual([]);
    expect(await departures(operation, await altered(res.clone(), (b) => delete b.error.pending))).not.toEqual([]);
    expect(await departures(operation, await altered(res.clone(), (b) => (b.error.limit = 1000)))).not.toEqual([]);
    expect(await departures(operation, await altered(res.clone(), (b) => (b.error.code = "unavailable")))).not.toEqual([]);
    for (const value of [null, "soon", "1.5", "0", "301", "Wed, 21 Oct 2026 07:28:00 GMT"]) {
      expect(await departures(operation, await altered(res.clone(), () => {}, { "Retry-After": value })), `Retry-After ${value}`).not.toEqual([]);
    }
  });
});

describe("the description covers the contract", () => {
  it("every served route has a success case and, where it describes one, a refusal case above", () => {
    for (const operation of DESCRIBED_OPERATIONS.filter((o) => !NOT_SERVED_BY_THE_WORKER.includes(o) && o !== "GET /openapi.json")) {
      const statuses = CASES.filter((c) => c.operation === operation).map((c) => c.status);
      expect(statuses.some((s) => s < 300), `${operation} has no success case`).toBe(true);
      const refusable = Object.keys(describedResponses(operation)).some((s) => s.startsWith("4"));
      if (refusable) expect(statuses.some((s) => s >= 400), `${operation} has no refusal case`).toBe(true);
    }
  });

  for (const operation of NOT_SERVED_BY_THE_WORKER) {
    it(`${operation} is served by the static assets, not by the Worker`, async () => {
      const [method, template] = operation.split(" ") as [string, string];
      const res = await call(method, template, { headers: bearer(TOKENS.admin) });
      // No route of the Worker serves it, so it is the unknown-route 404: a route added for it
      // would shadow the page only where assets are not served first.
      await expectError(res, 404, "not_found");
    });
  }

  it("lists every route of docs/api.md", () => {
    const API_MD_ROUTES = [
      "GET /healthz", "GET /", "GET /docs", "GET /openapi.json", "POST /v1/namespaces/{ns}/events", "GET /v1/namespaces/{ns}/trending",
      "GET /v1/namespaces/{ns}/stats", "GET /v1/namespaces/{ns}/dashboard", "GET /v1/namespaces/{ns}/config",
      "PUT /v1/namespaces/{ns}/config", "POST /v1/namespaces/{ns}/refresh", "POST /v1/namespaces/{ns}/invalidate",
      "GET /v1/namespaces/{ns}/cache", "DELETE /v1/namespaces/{ns}", "GET /v1/namespaces",
      "PUT /v1/namespaces/{ns}/suppressions/{item}", "DELETE /v1/namespaces/{ns}/suppressions/{item}",
      "GET /v1/namespaces/{ns}/suppressions", "GET /v1/namespaces/{ns}/export", "POST /v1/namespaces/{ns}/import",
      "POST /v1/keys", "GET /v1/keys", "DELETE /v1/keys/{id}", "GET /v1/audit", "GET /v1/namespaces/{ns}/audit", "GET /embed",
      "GET /v1/namespaces/{ns}/live", "GET /v1/namespaces/{ns}/webhooks", "PUT /v1/namespaces/{ns}/webhooks/{id}",
      "GET /v1/namespaces/{ns}/webhooks/{id}", "DELETE /v1/namespaces/{ns}/webhooks/{id}", "GET /v1/namespaces/{ns}/dimensions/{dimension}",
    ];
    expect([...DESCRIBED_OPERATIONS].sort()).toEqual([...API_MD_ROUTES].sort());
  });
});

describe("the request bodies described are the ones the door accepts", () => {
  // Rules JSON Schema cannot state (bytes of UTF-8, ts relative to now) are described in prose and
  // left out here.
  const BATCHES: unknown[] = [
    { events: [{ item: "a" }] },
    { batchId: "b", events: [{ item: "a", type: "view", weight: 2, actor: "u", ts: null }] },
    { events: [{ item: "a", weight: null, type: null }] },
    { events: [] },
    { events: [{ item: "" }] },
    { events: [{ item: "a", weight: 0 }] },
    { events: [{ item: "a", weight: 1e6 + 1 }] },
    { events: [{ item: "a", type: "View" }] },
    { events: [{ item: 3 }] },
    { batchId: "", events: [{ item: "a" }] },
    { batchId: 7, events: [{ item: "a" }] },
    { events: "a" },
    [],
  ];
  for (const body of BATCHES) {
    it(`POST events ${JSON.stringify(body)}: the description and the Worker agree`, async () => {
      const res = await call("POST", path(freshNamespace("door"), "/events"), { headers: jsonHeaders(TOKENS.ingest), body: JSON.stringify(body) });
      const described = requestBodyErrors("POST /v1/namespaces/{ns}/events", body).length === 0;
      expect(res.status < 300, await res.text()).toBe(described);
    });
  }

  // expiresAt is described as a date-time; "in the future" is prose, so only future times are sent.
  const KEYS: unknown[] = [
    { label: "a", scopes: ["read"], namespaces: ["a"] },
    { label: "a", scopes: ["ingest", "admin"], prefix: "app-", expiresAt: "2099-01-01T00:00:00.000Z", limits: { requestsPerMinute: 5 } },
    { label: "a", scopes: ["read"], namespaces: ["a"], prefix: "a" },
    { label: "a", scopes: ["read"] },
    { label: "", scopes: ["read"], namespaces: ["a"] },
    { label: "a", scopes: ["read", "read"], namespaces: ["a"] },
    { label: "a", scopes: ["owner"], namespaces: ["a"] },
    { label: "a", scopes: ["read"], namespaces: [] },
    { label: "a", scopes: ["read"], namespaces: ["A"] },
    { label: "a", scopes: ["read"], prefix: "A" },
    { label: "a", scopes: ["read"], namespaces: ["a"], limits: { eventsPerMinute: 0 } },
    { label: "a", scopes: ["read"], namespaces: ["a"], colour: 1 },
    [],
  ];
  for (const body of KEYS) {
    it(`POST /v1/keys ${JSON.stringify(body)}: the description and the Worker agree`, async () => {
      const res = await call("POST", "/v1/keys", { headers: jsonHeaders(TOKENS.admin), body: JSON.stringify(body) });
      const described = requestBodyErrors("POST /v1/keys", body).length === 0;
      expect(res.status < 300, await res.text()).toBe(described);
    });
  }

  const CONFIGS: unknown[] = [
    {},
    { windows: ["5m", "30d"], maxLimit: 1000, refreshSeconds: 1, staleSeconds: 0, capacity: 10, types: { "a.b": {}, c: { weight: 0.5 } } },
    { windows: [] },
    { windows: ["1h", "1h"] },
    { windows: ["2h"] },
    { maxLimit: 0 },
    { maxLimit: 1.5 },
    { refreshSeconds: 3601 },
    { staleSeconds: -1 },
    { capacity: 50_001 },
    { types: { Bad: {} } },
    { types: { a: { weight: 0 } } },
    { types: { a: { colour: 1 } } },
    { types: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, {}])) },
    { unknown: 1 },
    { hotHalfLifeSeconds: 60 },
    { hotHalfLifeSeconds: 59 },
    { ingestShards: 4 },
    { ingestShards: 16 },
    { ingestShards: 0 },
    { ingestShards: 17 },
    { ingestShards: 2.5 },
    { limits: { eventsPerMinute: 60000, requestsPerMinute: 600 } },
    { limits: { eventsPerMinute: 0 } },
    { limits: { colour: 1 } },
    { embedAncestors: ["https://example.com", "https://*.example.org:8443"] },
    { embedAncestors: ["example.com"] },
    { dimensions: { category: {}, tag: { multi: true }, "region.city_2": { capacity: 10 }, country: { multi: false, capacity: 500 } } },
    { dimensions: { "a:b": {} } },
    { dimensions: { Category: {} } },
    { dimensions: { a: { capacity: 9 } } },
    { dimensions: { a: { capacity: 10_001 } } },
    { dimensions: { a: { multi: "yes" } } },
    { dimensions: { a: { colour: 1 } } },
    { dimensions: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`d${i}`, {}])) },
    { dimensions: [] },
    [],
  ];
  for (const body of CONFIGS) {
    it(`PUT config ${JSON.stringify(body).slice(0, 80)}: the description and the Worker agree`, async () => {
      const res = await admin("PUT", freshNamespace("door"), "config", body);
      const described = requestBodyErrors("PUT /v1/namespaces/{ns}/config", body).length === 0;
      expect(res.status < 300, await res.text()).toBe(described);
    });
  }
});
