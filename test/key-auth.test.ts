/**
 * The auth matrix of API keys (docs/api.md v1.2, "Keys"): every route × every scope × a key for
 * its own namespace, for another one, or for a prefix the namespace does or does not start with;
 * and keys that are expired, revoked or malformed. A key used beyond its rights answers 403 with
 * one body whatever the reason; a key that is not valid now answers 401 like an unknown token.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { GRANTS, type KeyScope } from "../src/shared/api-keys";
import { expectError, freshNamespace, seed } from "./support/http";
import { createKey, revokeKey, withKey } from "./support/keys";
import { ROUTES, type Route } from "./support/routes";

afterEach(() => vi.useRealTimers());

const SCOPES: KeyScope[] = ["read", "ingest", "admin"];

/** Calls `route` on `ns` with `key`, seeding `ns` first when success needs data. */
async function callRoute(route: Route, ns: string, key: string): Promise<Response> {
  if (route.needsData) await seed(ns);
  return withKey(key, route.method, `/v1/namespaces/${ns}${route.path ? `/${route.path}` : ""}`, route.body);
}

async function expectSuccess(res: Response, route: Route): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(route.ok);
  expect(JSON.parse(text)).toHaveProperty(route.field);
}

/** The one 403 body of a key used beyond its rights. */
const FORBIDDEN = { code: "forbidden", message: "This key may not do this: a key works only for its scopes and its namespaces." };

async function expectForbidden(res: Response): Promise<void> {
  expect(await expectError(res, 403, "forbidden")).toEqual(FORBIDDEN);
}

async function expectInvalid(res: Response): Promise<void> {
  expect(res.headers.get("WWW-Authenticate") ?? "").toMatch(/^Bearer\b/);
  await expectError(res, 401, "unauthorized");
}

/** Where the key points, and the namespace the request names. */
const PLACEMENTS = [
  { name: "its own namespace", own: true, make: (ns: string) => ({ key: { namespaces: [ns] }, target: ns }) },
  { name: "another namespace", own: false, make: (ns: string) => ({ key: { namespaces: [ns] }, target: `${ns}-other` }) },
  { name: "a namespace under its prefix", own: true, make: (ns: string) => ({ key: { prefix: `${ns}-` }, target: `${ns}-app` }) },
  { name: "a namespace outside its prefix", own: false, make: (ns: string) => ({ key: { prefix: `${ns}-` }, target: `x${ns}` }) },
];

describe("key auth matrix", () => {
  for (const route of ROUTES) {
    describe(`${route.label} (${route.scope} scope)`, () => {
      for (const scope of SCOPES) {
        const allowed = GRANTS[scope].includes(route.scope);
        for (const placement of PLACEMENTS) {
          const succeeds = allowed && placement.own;
          it(`a ${scope} key on ${placement.name} ${succeeds ? `answers ${route.ok}` : "is refused with the one 403 body"}`, async () => {
            const { key, target } = placement.make(freshNamespace("ka"));
            const created = await createKey({ label: `${scope} key`, scopes: [scope], ...key });
            const res = await callRoute(route, target, created.key);
            await (succeeds ? expectSuccess(res, route) : expectForbidden(res));
          });
        }
      }

      it("an expired key answers 401 like an unknown token", async () => {
        vi.useFakeTimers({ toFake: ["Date"] });
        const ns = freshNamespace("ka");
        const created = await createKey({ label: "expiring", scopes: ["admin"], namespaces: [ns], expiresAt: new Date(Date.now() + 1000).toISOString() });
        vi.setSystemTime(Date.now() + 1000);
        await expectInvalid(await callRoute(route, ns, created.key));
      });

      it("a revoked key answers 401 like an unknown token", async () => {
        const ns = freshNamespace("ka");
        const created = await createKey({ label: "revoked", scopes: ["admin"], namespaces: [ns] });
        expect((await revokeKey(created.id)).status).toBe(200);
        await expectInvalid(await callRoute(route, ns, created.key));
      });

      it("a malformed key, or a known id with a wrong secret, answers 401 like an unknown token", async () => {
        const ns = freshNamespace("ka");
        const created = await createKey({ label: "real", scopes: ["admin"], namespaces: [ns] });
        const wrongSecret = `${created.key.slice(0, -1)}${created.key.endsWith("A") ? "B" : "A"}`;
        for (const bad of ["tk_", `tk_${created.id}`, `${created.key}x`, wrongSecret]) await expectInvalid(await callRoute(route, ns, bad));
      });
    });
  }
});

describe("routes of no namespace take the root keys", () => {
  const ROOT_ONLY: [string, string, unknown?][] = [
    ["GET", "/v1/namespaces"],
    ["GET", "/v1/keys"],
    ["POST", "/v1/keys", { label: "x", scopes: ["read"], namespaces: ["a"] }],
    ["DELETE", "/v1/keys/0123456789abcdef"],
    ["GET", "/v1/audit"],
  ];
  for (const [method, path, body] of ROOT_ONLY) {
    it(`${method} ${path} refuses an admin key with the one 403 body`, async () => {
      const created = await createKey({ label: "admin by prefix", scopes: ["admin"], prefix: "a" });
      await expectForbidden(await withKey(created.key, method, path, body));
    });
  }
});

describe("the 403 says nothing of why", () => {
  it("a key of the wrong scope and a key of another namespace get the same answer, headers included", async () => {
    const ns = freshNamespace("ka");
    const readKey = await createKey({ label: "read", scopes: ["read"], namespaces: [ns] });
    const otherKey = await createKey({ label: "admin elsewhere", scopes: ["admin"], namespaces: [`${ns}-b`] });
    const [a, b] = [await withKey(readKey.key, "GET", `/v1/namespaces/${ns}/config`), await withKey(otherKey.key, "GET", `/v1/namespaces/${ns}/config`)];
    expect(a.status).toBe(403);
    expect(await a.text()).toBe(await b.text());
    expect([...a.headers]).toEqual([...b.headers]);
  });

  it("is the same whether or not the named namespace exists", async () => {
    const ns = freshNamespace("ka");
    await seed(ns);
    const key = await createKey({ label: "elsewhere", scopes: ["admin"], namespaces: ["somewhere-else"] });
    const existing = await withKey(key.key, "GET", `/v1/namespaces/${ns}/config`);
    const missing = await withKey(key.key, "GET", `/v1/namespaces/${ns}-never/config`);
    expect(existing.status).toBe(403);
    expect(await existing.text()).toBe(await missing.text());
  });
});
