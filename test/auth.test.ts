/**
 * The auth matrix (docs/api.md, "Conventions", auth): every route, each with no token, an unknown
 * token, a token of the wrong scope, the right token, and its own token not configured at all.
 * Every call goes to the Worker directly (`fetchWith`) so that each case states its bindings.
 */
import { describe, expect, it } from "vitest";
import { READ_TOKEN, TOKENS, bearer, expectError, fetchWith, freshNamespace, seed, type EnvOverrides } from "./support/http";
import { ROUTES, type Route } from "./support/routes";

type Scope = Route["scope"];
type TokenName = "admin" | "ingest" | "read";

const TOKEN_VALUE: Record<TokenName, string> = { admin: TOKENS.admin, ingest: TOKENS.ingest, read: READ_TOKEN };
const BINDING: Record<Scope, keyof EnvOverrides> = { admin: "ADMIN_TOKEN", ingest: "INGEST_TOKEN", read: "READ_TOKEN" };
/** All three tokens configured: the wrong-scope cases need a read token to exist. */
const ALL_TOKENS: EnvOverrides = { READ_TOKEN };

/** Calls `route` on a fresh namespace (seeded first when success needs data) with `token`. */
async function callRoute(route: Route, token: string | undefined, overrides: EnvOverrides, seeded = false): Promise<Response> {
  const ns = freshNamespace("auth");
  if (seeded && route.needsData) await seed(ns);
  const headers: Record<string, string> = token === undefined ? {} : bearer(token);
  if (route.body !== undefined) headers["Content-Type"] = "application/json";
  return fetchWith(overrides, `/v1/namespaces/${ns}${route.path ? `/${route.path}` : ""}`, {
    method: route.method,
    headers,
    body: route.body === undefined ? undefined : JSON.stringify(route.body),
  });
}

async function expectUnauthorized(res: Response): Promise<void> {
  expect(res.headers.get("WWW-Authenticate") ?? "").toMatch(/^Bearer\b/);
  await expectError(res, 401, "unauthorized");
}

async function expectSuccess(res: Response, route: Route): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(route.ok);
  expect(JSON.parse(text)).toHaveProperty(route.field);
}

interface Case {
  name: string;
  applies: (route: Route) => boolean;
  run: (route: Route) => Promise<void>;
}

const gated = (route: Route) => route.scope !== "read";
const isRead = (route: Route) => route.scope === "read";

/** Tokens that are valid but lack the route's scope: a read token lacks ingest and admin, an ingest token lacks admin. */
const lacking = (scope: Scope): TokenName[] => (scope === "admin" ? ["ingest", "read"] : scope === "ingest" ? ["read"] : []);
/** Tokens that hold the route's scope: admin holds every scope, ingest holds ingest and read. */
const holding = (scope: Scope): TokenName[] => (scope === "admin" ? ["admin"] : scope === "ingest" ? ["ingest", "admin"] : ["read", "ingest", "admin"]);

const CASES: Case[] = [
  {
    name: "refuses a request without a token with 401 and a Bearer challenge",
    applies: gated,
    run: async (route) => expectUnauthorized(await callRoute(route, undefined, ALL_TOKENS)),
  },
  {
    name: "refuses an unknown token with 401 and a Bearer challenge",
    applies: gated,
    run: async (route) => expectUnauthorized(await callRoute(route, "not-a-token", ALL_TOKENS)),
  },
  ...(["ingest", "read"] as const).map((token): Case => ({
    name: `refuses the ${token} token, which lacks the needed scope, with 403 forbidden`,
    applies: (route) => lacking(route.scope).includes(token),
    run: async (route) => void (await expectError(await callRoute(route, TOKEN_VALUE[token], ALL_TOKENS), 403, "forbidden")),
  })),
  ...(["admin", "ingest"] as const).map((token): Case => ({
    name: `accepts the ${token} token and answers its success status`,
    applies: (route) => gated(route) && holding(route.scope).includes(token),
    run: async (route) => expectSuccess(await callRoute(route, TOKEN_VALUE[token], ALL_TOKENS, true), route),
  })),
  ...([undefined, ""] as const).map((unset): Case => ({
    name: `is closed with 403 forbidden when its token is not configured (${unset === undefined ? "absent" : "empty"}), even for the token it used to accept`,
    applies: gated,
    run: async (route) => {
      const res = await callRoute(route, TOKEN_VALUE[route.scope], { ...ALL_TOKENS, [BINDING[route.scope]]: unset }, true);
      await expectError(res, 403, "forbidden");
    },
  })),
  ...([undefined, ""] as const).map((unset): Case => ({
    name: `is public while READ_TOKEN is not configured (${unset === undefined ? "absent" : "empty"}): no token answers 200`,
    applies: isRead,
    run: async (route) => expectSuccess(await callRoute(route, undefined, { READ_TOKEN: unset }, true), route),
  })),
  {
    name: "is public while READ_TOKEN is not configured: an unknown token is ignored and answers 200",
    applies: isRead,
    run: async (route) => expectSuccess(await callRoute(route, "not-a-token", { READ_TOKEN: undefined }, true), route),
  },
  {
    name: "refuses a request without a token with 401 and a Bearer challenge once READ_TOKEN is set",
    applies: isRead,
    run: async (route) => expectUnauthorized(await callRoute(route, undefined, ALL_TOKENS, true)),
  },
  {
    name: "refuses an unknown token with 401 and a Bearer challenge once READ_TOKEN is set",
    applies: isRead,
    run: async (route) => expectUnauthorized(await callRoute(route, "not-a-token", ALL_TOKENS, true)),
  },
  ...(["read", "ingest", "admin"] as const).map((token): Case => ({
    name: `accepts the ${token} token once READ_TOKEN is set`,
    applies: isRead,
    run: async (route) => expectSuccess(await callRoute(route, TOKEN_VALUE[token], ALL_TOKENS, true), route),
  })),
];

describe("auth matrix", () => {
  for (const route of ROUTES) {
    describe(`${route.label} (${route.scope} scope)`, () => {
      for (const c of CASES.filter((c) => c.applies(route))) it(c.name, () => c.run(route));
    });
  }
});

describe("auth details", () => {
  it("accepts the scheme name in any case and refuses a token sent without the Bearer scheme", async () => {
    const ns = freshNamespace("auth");
    const lower = await fetchWith({}, `/v1/namespaces/${ns}/config`, { headers: { Authorization: `bearer ${TOKENS.admin}` } });
    expect(lower.status).toBe(200);
    const bare = await fetchWith({}, `/v1/namespaces/${ns}/config`, { headers: { Authorization: TOKENS.admin } });
    await expectUnauthorized(bare);
  });

  it("refuses a token that only shares a prefix with the admin token", async () => {
    const ns = freshNamespace("auth");
    for (const token of [TOKENS.admin.slice(0, -1), `${TOKENS.admin}x`]) {
      await expectUnauthorized(await fetchWith({}, `/v1/namespaces/${ns}/config`, { headers: bearer(token) }));
    }
  });
});

describe("auth before input", () => {
  // README: a request is authorised before its namespace or body is looked at, so an unauthorised
  // caller learns nothing about them: 401, never the 400, 413 or 415 the input would earn.
  const BAD_NAMESPACE = "Not-A-Namespace";

  it("answers 401, not 400 invalid_namespace, to a call without a token on a bad namespace", async () => {
    for (const route of ROUTES.filter(gated)) {
      const headers: Record<string, string> = route.body === undefined ? {} : { "Content-Type": "application/json" };
      const res = await fetchWith(ALL_TOKENS, `/v1/namespaces/${BAD_NAMESPACE}${route.path ? `/${route.path}` : ""}`, {
        method: route.method,
        headers,
        body: route.body === undefined ? undefined : JSON.stringify(route.body),
      });
      expect(res.status, route.label).toBe(401);
    }
  });

  it("answers 401, not 400 invalid_namespace, to a read without a token on a bad namespace once READ_TOKEN is set", async () => {
    for (const path of ["trending", "stats", "dashboard"]) {
      await expectUnauthorized(await fetchWith(ALL_TOKENS, `/v1/namespaces/${BAD_NAMESPACE}/${path}`));
    }
  });

  it("answers 401 to an unknown token before looking at a malformed, mistyped or oversized body", async () => {
    const ns = freshNamespace("auth");
    const bodies: { path: string; method: string; contentType: string; body: string }[] = [
      { path: "events", method: "POST", contentType: "application/json", body: "{not json" },
      { path: "events", method: "POST", contentType: "application/json", body: JSON.stringify({ events: [{ item: "" }] }) },
      { path: "events", method: "POST", contentType: "text/plain", body: "a" },
      { path: "events", method: "POST", contentType: "application/json", body: "x".repeat(1024 * 1024 + 1) },
      { path: "config", method: "PUT", contentType: "application/json", body: JSON.stringify({ capacity: -1 }) },
    ];
    for (const { path, method, contentType, body } of bodies) {
      const res = await fetchWith(ALL_TOKENS, `/v1/namespaces/${ns}/${path}`, {
        method,
        headers: { ...bearer("not-a-token"), "Content-Type": contentType },
        body,
      });
      expect(res.status, `${method} ${path} ${contentType} ${body.slice(0, 20)}`).toBe(401);
    }
  });
});
