/**
 * CORS for browser apps (wrangler.toml CORS_ORIGINS): reads and ingest answer preflights and
 * carry the CORS headers on their actual responses, errors included, so an app can read them.
 */
import { describe, expect, it } from "vitest";
import { TOKENS, bearer, call, fetchWith, freshNamespace, get, refresh, seed } from "./support/http";

const APP = "https://app.example";
const OTHER = "https://other.example";
/** Headers a browser client sends (docs/api.md: Authorization, JSON bodies, Idempotency-Key). */
const CLIENT_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"];

const listOf = (header: string | null) => (header ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);

/** The headers of a browser's preflight for `method` from `origin`. */
function preflightHeaders(method: string, origin: string): Record<string, string> {
  return { Origin: origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": CLIENT_HEADERS.join(", ") };
}

const preflight = (method: string, origin: string): RequestInit => ({ method: "OPTIONS", headers: preflightHeaders(method, origin) });

const PREFLIGHTS = [
  { path: "events", method: "POST" },
  { path: "trending", method: "GET" },
  { path: "stats", method: "GET" },
  { path: "dashboard", method: "GET" },
];

describe("CORS with the default origins (*)", () => {
  for (const { path, method } of PREFLIGHTS) {
    it(`answers a preflight of ${method} ${path} with 204, the origin allowed, ${method} and the client headers allowed`, async () => {
      const ns = freshNamespace("cors");
      const res = await call("OPTIONS", `/v1/namespaces/${ns}/${path}`, { headers: preflightHeaders(method, APP) });
      expect(res.status).toBe(204);
      expect(["*", APP]).toContain(res.headers.get("Access-Control-Allow-Origin"));
      expect(listOf(res.headers.get("Access-Control-Allow-Methods"))).toContain(method.toLowerCase());
      expect(listOf(res.headers.get("Access-Control-Allow-Headers"))).toEqual(
        expect.arrayContaining(CLIENT_HEADERS.map((h) => h.toLowerCase())),
      );
    });
  }

  it("allows the origin and exposes X-Cache, X-Generation and ETag on an actual read", async () => {
    const ns = freshNamespace("cors");
    await seed(ns);
    await refresh(ns);
    const res = await get(ns, "trending", {}, { Origin: APP });
    expect(res.status).toBe(200);
    expect(["*", APP]).toContain(res.headers.get("Access-Control-Allow-Origin"));
    expect(listOf(res.headers.get("Access-Control-Expose-Headers"))).toEqual(expect.arrayContaining(["x-cache", "x-generation", "etag"]));
  });

  it("allows the origin on an actual ingest", async () => {
    const ns = freshNamespace("cors");
    const res = await call("POST", `/v1/namespaces/${ns}/events`, {
      headers: { ...bearer(TOKENS.ingest), "Content-Type": "application/json", Origin: APP },
      body: JSON.stringify({ events: [{ item: "a" }] }),
    });
    expect(res.status).toBe(202);
    expect(["*", APP]).toContain(res.headers.get("Access-Control-Allow-Origin"));
  });

  it("keeps the CORS headers on errors, so a browser app can read why it was refused", async () => {
    const ns = freshNamespace("cors");
    const res = await call("POST", `/v1/namespaces/${ns}/events`, {
      headers: { "Content-Type": "application/json", Origin: APP },
      body: JSON.stringify({ events: [{ item: "a" }] }),
    });
    expect(res.status).toBe(401);
    expect(["*", APP]).toContain(res.headers.get("Access-Control-Allow-Origin"));
    const notFound = await get(ns, "trending", {}, { Origin: APP });
    expect(notFound.status).toBe(404);
    expect(["*", APP]).toContain(notFound.headers.get("Access-Control-Allow-Origin"));
  });
});

describe(`CORS restricted to ${APP}`, () => {
  const RESTRICTED = { CORS_ORIGINS: APP };

  it("echoes the allowed origin on a preflight and varies by Origin", async () => {
    const ns = freshNamespace("cors");
    const res = await fetchWith(RESTRICTED, `/v1/namespaces/${ns}/trending`, preflight("GET", APP));
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(APP);
    expect(listOf(res.headers.get("Vary"))).toContain("origin");
  });

  it("does not allow another origin on a preflight", async () => {
    const ns = freshNamespace("cors");
    const res = await fetchWith(RESTRICTED, `/v1/namespaces/${ns}/events`, preflight("POST", OTHER));
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("echoes the allowed origin on an actual read and gives another origin no Access-Control-Allow-Origin", async () => {
    const ns = freshNamespace("cors");
    await seed(ns);
    await refresh(ns);
    const path = `/v1/namespaces/${ns}/trending`;
    const allowed = await fetchWith(RESTRICTED, path, { headers: { Origin: APP } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe(APP);
    expect(listOf(allowed.headers.get("Vary"))).toContain("origin");
    const other = await fetchWith(RESTRICTED, path, { headers: { Origin: OTHER } });
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("allows each origin of a comma-separated list", async () => {
    const ns = freshNamespace("cors");
    const list = { CORS_ORIGINS: `${OTHER}, ${APP}` };
    for (const origin of [APP, OTHER]) {
      const res = await fetchWith(list, `/v1/namespaces/${ns}/trending`, preflight("GET", origin));
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    }
  });
});

describe("admin routes", () => {
  it("are not browser-facing: a preflight of PUT config is not answered with CORS headers", async () => {
    const ns = freshNamespace("cors");
    const res = await call("OPTIONS", `/v1/namespaces/${ns}/config`, { headers: preflightHeaders("PUT", APP) });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});
