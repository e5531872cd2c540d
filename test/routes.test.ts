/**
 * Routing and request validation (docs/api.md, "Conventions" and "Endpoints"): every route answers
 * a bad request with the JSON error of docs/api.md, never an HTML page or an empty body.
 */
import { describe, expect, it } from "vitest";
import { TOKENS, admin, bearer, call, expectError, freshNamespace, get, json, refresh, seed } from "./support/http";

/** Supported windows and ranks, from docs/api.md. */
const WINDOWS = ["5m", "1h", "24h", "7d", "30d", "today", "yesterday", "thisWeek", "thisMonth"];
const RANKS = ["top", "rising", "hot", "reach"];
/** The default config of docs/api.md: maxLimit 100, one declared type "view". */
const DEFAULT_MAX_LIMIT = 100;
const DEFAULT_TYPES = ["view"];

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("GET /healthz", () => {
  it("answers 200 {ok: true} as JSON", async () => {
    const res = await call("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ok: true });
  });
});

// GET / (the page) is served by static assets in front of the Worker; SELF reaches the Worker
// itself, not the assets, so the page's routing is tested in a real browser against wrangler dev
// (test/browser/dashboard.browser.mjs, "served as static files").
describe("unknown routes", () => {
  for (const path of ["/v1", "/no-such-page", "/v2/namespaces/x/trending", "/v1/namespaces/x/unknown", "/v1/namespaces/x/trending/extra"]) {
    it(`answers GET ${path} with 404 not_found as JSON`, async () => {
      await expectError(await call("GET", path, { headers: bearer(TOKENS.admin) }), 404, "not_found");
    });
  }
});

describe("wrong methods on known paths", () => {
  const CASES: { method: string; path: string; allowed: string[] }[] = [
    { method: "DELETE", path: "/v1/namespaces/x/trending", allowed: ["GET"] },
    { method: "POST", path: "/v1/namespaces/x/stats", allowed: ["GET"] },
    { method: "PUT", path: "/v1/namespaces/x/dashboard", allowed: ["GET"] },
    { method: "GET", path: "/v1/namespaces/x/events", allowed: ["POST"] },
    { method: "PATCH", path: "/v1/namespaces/x/config", allowed: ["GET", "PUT"] },
    { method: "GET", path: "/v1/namespaces/x/refresh", allowed: ["POST"] },
    { method: "GET", path: "/v1/namespaces/x/invalidate", allowed: ["POST"] },
    { method: "DELETE", path: "/v1/namespaces/x/cache", allowed: ["GET"] },
    { method: "GET", path: "/v1/namespaces/x", allowed: ["DELETE"] },
    { method: "POST", path: "/healthz", allowed: ["GET"] },
    { method: "POST", path: "/v1/namespaces/x/suppressions", allowed: ["GET"] },
    { method: "GET", path: "/v1/namespaces/x/suppressions/item", allowed: ["PUT", "DELETE"] },
  ];
  for (const { method, path, allowed } of CASES) {
    it(`answers ${method} ${path} with 405 method_not_allowed and an Allow header listing ${allowed.join(" and ")}`, async () => {
      const res = await call(method, path, { headers: bearer(TOKENS.admin) });
      const listed = (res.headers.get("Allow") ?? "").split(",").map((m) => m.trim());
      await expectError(res, 405, "method_not_allowed");
      expect(listed).toEqual(expect.arrayContaining(allowed));
      expect(listed).not.toContain(method);
    });
  }
});

describe("bodies that are not JSON", () => {
  const CASES = [
    { label: "POST events", method: "POST", path: "events", token: TOKENS.ingest, body: JSON.stringify({ events: [{ item: "a" }] }) },
    { label: "PUT config", method: "PUT", path: "config", token: TOKENS.admin, body: JSON.stringify({ maxLimit: 5 }) },
  ];
  for (const { label, method, path, token, body } of CASES) {
    it(`answers ${label} sent as text/plain with 415 and changes nothing`, async () => {
      const ns = freshNamespace("rt");
      const res = await call(method, `/v1/namespaces/${ns}/${path}`, { headers: { ...bearer(token), "Content-Type": "text/plain" }, body });
      await expectError(res, 415, "unsupported_media_type");
      // Nothing was ingested (the namespace is still unknown) and no config was stored.
      await expectError(await get(ns, "trending"), 404, "namespace_not_found");
      expect((await json<{ maxLimit: number }>(await admin("GET", ns, "config"))).maxLimit).toBe(DEFAULT_MAX_LIMIT);
    });

    it(`answers ${label} with malformed JSON with 400 invalid_json`, async () => {
      const ns = freshNamespace("rt");
      const res = await call(method, `/v1/namespaces/${ns}/${path}`, {
        headers: { ...bearer(token), "Content-Type": "application/json" },
        body: body.slice(0, -1),
      });
      await expectError(res, 400, "invalid_json");
    });

    it(`answers ${label} without a Content-Type with 415`, async () => {
      const ns = freshNamespace("rt");
      const res = await call(method, `/v1/namespaces/${ns}/${path}`, { headers: bearer(token), body });
      await expectError(res, 415, "unsupported_media_type");
    });
  }
});

describe("bad query values", () => {
  const CASES: { path: string; param: string; values: string[]; allowed: unknown }[] = [
    { path: "trending", param: "window", values: ["2h", "1H", "all"], allowed: WINDOWS },
    { path: "stats", param: "window", values: ["2h"], allowed: WINDOWS },
    { path: "trending", param: "rank", values: ["bottom", "TOP"], allowed: RANKS },
    { path: "trending", param: "type", values: ["like", "View"], allowed: DEFAULT_TYPES },
    { path: "trending", param: "limit", values: ["0", String(DEFAULT_MAX_LIMIT + 1), "-1", "1.5", "ten", "1e1"], allowed: { min: 1, max: DEFAULT_MAX_LIMIT } },
  ];
  for (const { path, param, values, allowed } of CASES) {
    for (const value of values) {
      it(`answers ${path}?${param}=${value} with 400 invalid_${param} listing the allowed values`, async () => {
        const ns = freshNamespace("rt");
        await seed(ns);
        const error = await expectError(await get(ns, path, { [param]: value }), 400, `invalid_${param}`);
        expect(error.allowed).toEqual(allowed);
      });
    }
  }

  it("accepts every supported window, every rank, a declared type and limits 1 and maxLimit", async () => {
    const ns = freshNamespace("rt");
    await seed(ns);
    const queries: Record<string, string | number>[] = [
      ...WINDOWS.map((window) => ({ window })),
      ...RANKS.map((rank) => ({ rank })),
      { type: DEFAULT_TYPES[0]! },
      { limit: 1 },
      { limit: DEFAULT_MAX_LIMIT },
    ];
    for (const query of queries) expect((await get(ns, "trending", query)).status, JSON.stringify(query)).toBe(200);
  });
});

describe("invalid namespace names", () => {
  const NAMES = [
    { what: "with uppercase letters", ns: "Videos" },
    { what: "of 65 characters", ns: "a".repeat(65) },
    { what: "starting with -", ns: "-videos" },
    { what: "starting with _", ns: "_videos" },
    { what: "containing .", ns: "vid.eos" },
  ];
  const ROUTES = [
    { label: "POST events", method: "POST", path: "/events", token: TOKENS.ingest, body: { events: [{ item: "a" }] } },
    { label: "GET trending", method: "GET", path: "/trending", token: TOKENS.admin },
    { label: "GET stats", method: "GET", path: "/stats", token: TOKENS.admin },
    { label: "GET dashboard", method: "GET", path: "/dashboard", token: TOKENS.admin },
    { label: "GET config", method: "GET", path: "/config", token: TOKENS.admin },
    { label: "PUT config", method: "PUT", path: "/config", token: TOKENS.admin, body: {} },
    { label: "POST refresh", method: "POST", path: "/refresh", token: TOKENS.admin },
    { label: "POST invalidate", method: "POST", path: "/invalidate", token: TOKENS.admin },
    { label: "GET cache", method: "GET", path: "/cache", token: TOKENS.admin },
    { label: "DELETE namespace", method: "DELETE", path: "", token: TOKENS.admin },
  ];
  for (const route of ROUTES) {
    for (const { what, ns } of NAMES) {
      it(`${route.label} refuses a namespace ${what} with 400 invalid_namespace`, async () => {
        const headers: Record<string, string> = bearer(route.token);
        if (route.body !== undefined) headers["Content-Type"] = "application/json";
        const body = route.body === undefined ? undefined : JSON.stringify(route.body);
        const res = await call(route.method, `/v1/namespaces/${ns}${route.path}`, { headers, ...(body ? { body } : {}) });
        await expectError(res, 400, "invalid_namespace");
      });
    }
  }

  it("accepts a namespace of exactly 64 characters", async () => {
    const ns = `${freshNamespace("rt")}-`.padEnd(64, "x");
    expect(ns).toHaveLength(64);
    expect((await admin("GET", ns, "config")).status).toBe(200);
  });
});

describe("POST /v1/namespaces/{ns}/refresh", () => {
  it("answers 200 with computedAt as an ISO time once the snapshots are in place, and reads are then not MISS", async () => {
    const ns = freshNamespace("rt");
    await seed(ns);
    const before = Date.now();
    const res = await admin("POST", ns, "refresh");
    expect(res.status).toBe(200);
    const { computedAt } = await json<{ computedAt: string }>(res);
    expect(computedAt).toMatch(ISO_MS);
    expect(Date.parse(computedAt)).toBeGreaterThanOrEqual(before);
    for (const path of ["trending", "stats", "dashboard"]) {
      const read = await get(ns, path);
      expect(read.status).toBe(200);
      expect(read.headers.get("X-Cache"), path).not.toBe("MISS");
      expect((await json<{ computedAt: string }>(read)).computedAt).toBe(computedAt);
    }
  });

  it("answers 404 namespace_not_found for a namespace that never received an event", async () => {
    await expectError(await admin("POST", freshNamespace("rt"), "refresh"), 404, "namespace_not_found");
  });
});

describe("reads of unknown namespaces", () => {
  for (const path of ["trending", "stats", "dashboard"]) {
    it(`answers GET ${path} of a namespace that never received an event with 404 namespace_not_found`, async () => {
      const ns = freshNamespace("rt");
      const error = await expectError(await get(ns, path), 404, "namespace_not_found");
      expect(error.message).toContain(ns);
    });
  }
});
