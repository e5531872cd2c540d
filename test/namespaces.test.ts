/**
 * GET /v1/namespaces (docs/api.md, "Admin"): the namespaces that hold data, paginated, kept by the
 * NamespaceRegistry object as namespaces are created (first accepted event) and deleted. The
 * registry is one object for the whole service, shared by the tests of this file, so each test
 * lists under its own prefix.
 */
import { describe, expect, it } from "vitest";
import { READ_TOKEN, TOKENS, admin, bearer, call, expectError, fetchWith, freshNamespace, ingest, json, seed } from "./support/http";

interface Listing {
  namespaces: { namespace: string; createdAt: string }[];
  cursor: string | null;
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function list(query: Record<string, string | number> = {}, token: string = TOKENS.admin): Promise<Response> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return call("GET", `/v1/namespaces${qs ? `?${qs}` : ""}`, { headers: bearer(token) });
}

async function names(query: Record<string, string | number>): Promise<string[]> {
  const res = await list(query);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json<Listing>(res)).namespaces.map((n) => n.namespace);
}

/** Every page of a prefix, following cursors, with the number of pages it took. */
async function allPages(prefix: string, limit: number): Promise<{ names: string[]; pages: number }> {
  const found: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await list(cursor === null ? { prefix, limit } : { prefix, limit, cursor });
    expect(res.status).toBe(200);
    const page = await json<Listing>(res);
    expect(page.namespaces.length).toBeLessThanOrEqual(limit);
    found.push(...page.namespaces.map((n) => n.namespace));
    cursor = page.cursor;
    pages += 1;
    expect(pages).toBeLessThan(50); // a cursor that never ends would loop forever
  } while (cursor !== null);
  return { names: found, pages };
}

describe("GET /v1/namespaces: who may list", () => {
  it("refuses a request without a token with 401 and a Bearer challenge", async () => {
    const res = await call("GET", "/v1/namespaces");
    expect(res.headers.get("WWW-Authenticate") ?? "").toMatch(/^Bearer\b/);
    await expectError(res, 401, "unauthorized");
  });

  it("refuses an unknown token with 401", async () => {
    await expectError(await list({}, "not-a-token"), 401, "unauthorized");
  });

  it("refuses the ingest and read tokens, which lack the admin scope, with 403", async () => {
    for (const token of [TOKENS.ingest, READ_TOKEN]) {
      const res = await fetchWith({ READ_TOKEN }, "/v1/namespaces", { headers: bearer(token) });
      await expectError(res, 403, "forbidden");
    }
  });

  it("is closed with 403 when ADMIN_TOKEN is not configured", async () => {
    const res = await fetchWith({ ADMIN_TOKEN: "" }, "/v1/namespaces", { headers: bearer(TOKENS.admin) });
    await expectError(res, 403, "forbidden");
  });

  it("answers the admin token with 200, a list and a cursor, never cached", async () => {
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = await json<Listing>(res);
    expect(Array.isArray(body.namespaces)).toBe(true);
    expect(body).toHaveProperty("cursor");
  });
});

describe("GET /v1/namespaces: what it lists", () => {
  it("lists a namespace from its first accepted event, with the time of that event", async () => {
    const prefix = freshNamespace("reg-create");
    const ns = `${prefix}-a`;
    expect(await names({ prefix })).toEqual([]);
    const before = Date.now();
    await seed(ns);
    const res = await list({ prefix });
    const body = await json<Listing>(res);
    expect(body.namespaces.map((n) => n.namespace)).toEqual([ns]);
    expect(body.namespaces[0]!.createdAt).toMatch(ISO_MS);
    expect(Date.parse(body.namespaces[0]!.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(body.cursor).toBeNull();
  });

  it("keeps the first createdAt when more events arrive", async () => {
    const prefix = freshNamespace("reg-again");
    await seed(`${prefix}-a`);
    const first = (await json<Listing>(await list({ prefix }))).namespaces[0]!.createdAt;
    await seed(`${prefix}-a`, "another");
    const again = (await json<Listing>(await list({ prefix }))).namespaces;
    expect(again).toEqual([{ namespace: `${prefix}-a`, createdAt: first }]);
  });

  it("does not list a namespace that only has a config, or whose batch was refused", async () => {
    const prefix = freshNamespace("reg-nodata");
    expect((await admin("PUT", `${prefix}-config`, "config", { maxLimit: 20 })).status).toBe(200);
    const refused = await ingest(`${prefix}-refused`, [{ item: "" }]);
    expect(refused.status).toBe(400);
    expect(await names({ prefix })).toEqual([]);
  });

  it("stops listing a deleted namespace, and lists it again after its next event", async () => {
    const prefix = freshNamespace("reg-delete");
    await seed(`${prefix}-a`);
    await seed(`${prefix}-b`);
    expect(await names({ prefix })).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect((await admin("DELETE", `${prefix}-a`, "")).status).toBe(200);
    expect(await names({ prefix })).toEqual([`${prefix}-b`]);
    await seed(`${prefix}-a`);
    expect(await names({ prefix })).toEqual([`${prefix}-a`, `${prefix}-b`]);
  });

  it("filters by prefix: only names that start with it, in ascending order", async () => {
    const prefix = freshNamespace("reg-prefix");
    for (const suffix of ["b", "a", "ab", "c_d"]) await seed(`${prefix}-${suffix}`);
    await seed(`${prefix}x`); // starts with the prefix too, without the dash
    expect(await names({ prefix: `${prefix}-a` })).toEqual([`${prefix}-a`, `${prefix}-ab`]);
    expect(await names({ prefix })).toEqual([`${prefix}-a`, `${prefix}-ab`, `${prefix}-b`, `${prefix}-c_d`, `${prefix}x`]);
    expect(await names({ prefix: `${prefix}-zzz` })).toEqual([]);
  });

  it("pages through every name exactly once, following cursors", async () => {
    const prefix = freshNamespace("reg-pages");
    const created = Array.from({ length: 7 }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
    for (const ns of created) await seed(ns);
    const twoAtATime = await allPages(prefix, 2);
    expect(twoAtATime.names).toEqual(created);
    expect(twoAtATime.pages).toBe(4);
    const exact = await allPages(prefix, 7);
    expect(exact).toEqual({ names: created, pages: 1 });
  });

  it("continues after a cursor even when the name it points at was deleted meanwhile", async () => {
    const prefix = freshNamespace("reg-cursor");
    for (const s of ["a", "b", "c"]) await seed(`${prefix}-${s}`);
    const first = await json<Listing>(await list({ prefix, limit: 2 }));
    expect(first.namespaces.map((n) => n.namespace)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect((await admin("DELETE", `${prefix}-b`, "")).status).toBe(200);
    const next = await json<Listing>(await list({ prefix, limit: 2, cursor: first.cursor! }));
    expect(next).toEqual({ namespaces: [expect.objectContaining({ namespace: `${prefix}-c` })], cursor: null });
  });
});

describe("GET /v1/namespaces: bad queries", () => {
  it("refuses a prefix that no namespace name could start with", async () => {
    for (const prefix of ["UPPER", "-dash", "a/b", "x".repeat(65)]) {
      const error = await expectError(await list({ prefix }), 400, "invalid_prefix");
      expect(error.field).toBe("prefix");
    }
  });

  it("refuses a cursor it did not give", async () => {
    for (const cursor of ["%%%", "not base64!", btoa("UPPER")]) {
      await expectError(await list({ cursor }), 400, "invalid_cursor");
    }
  });

  it("refuses a limit outside 1 to 1000", async () => {
    for (const limit of ["0", "1001", "ten", "1.5"]) {
      const error = await expectError(await list({ limit }), 400, "invalid_limit");
      expect(error.allowed).toEqual({ min: 1, max: 1000 });
    }
  });
});
