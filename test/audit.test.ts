/**
 * The audit logs (docs/api.md v1.2, "Audit log"): every admin action on a namespace recorded once
 * in its object, with who, when, what and on what; keys made and revoked, and namespaces erased,
 * in the registry's; both paged newest first and bounded by count and age.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AUDIT_BOUNDS, type AuditEntry, type AuditPage } from "../src/shared/audit";
import { AuditLog } from "../durable-objects/audit-log";
import { TOKENS, admin, bearer, call, expectError, freshNamespace, json, seed, stubOf } from "./support/http";
import { createKey, revokeKey, withKey } from "./support/keys";

afterEach(() => vi.useRealTimers());

async function auditOf(ns: string, query = ""): Promise<AuditPage> {
  const res = await admin("GET", ns, `audit${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<AuditPage>(res);
}

async function serviceAudit(query = ""): Promise<AuditPage> {
  return json<AuditPage>(await call("GET", `/v1/audit${query}`, { headers: bearer(TOKENS.admin) }));
}

/** Every entry of a log, following its cursor. */
async function everyEntry(page: (query: string) => Promise<AuditPage>, limit: number): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let cursor: string | null = null;
  do {
    const next: AuditPage = await page(`?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    entries.push(...next.entries);
    cursor = next.cursor;
  } while (cursor !== null);
  return entries;
}

describe("a namespace's audit log", () => {
  it("records each admin action exactly once, newest first, with its actor and target", async () => {
    const ns = freshNamespace("audit");
    await seed(ns);
    const doc = await json(await admin("GET", ns, "export"));
    const target = freshNamespace("audit-import");
    const { id, key } = await createKey({ label: "ops", scopes: ["admin"], namespaces: [ns, target] });
    expect((await admin("PUT", ns, "config", { maxLimit: 50 })).status).toBe(200);
    expect((await withKey(key, "POST", `/v1/namespaces/${ns}/refresh`)).status).toBe(200);
    expect((await withKey(key, "POST", `/v1/namespaces/${ns}/invalidate`)).status).toBe(200);
    expect((await admin("PUT", ns, "suppressions/spam")).status).toBe(201);
    expect((await admin("DELETE", ns, "suppressions/spam")).status).toBe(200);
    expect((await withKey(key, "POST", `/v1/namespaces/${target}/import`, doc)).status).toBe(200);
    // Refused actions and reads leave no trace.
    expect((await admin("PUT", ns, "config", { capacity: 1 })).status).toBe(400);
    expect((await admin("GET", ns, "config")).status).toBe(200);

    const entries = (await auditOf(ns)).entries.map(({ actor, action, target }) => ({ actor, action, target }));
    expect(entries).toEqual([
      { actor: "ADMIN_TOKEN", action: "suppression.delete", target: "spam" },
      { actor: "ADMIN_TOKEN", action: "suppression.put", target: "spam" },
      { actor: id, action: "namespace.invalidate", target: ns },
      { actor: id, action: "namespace.refresh", target: ns },
      { actor: "ADMIN_TOKEN", action: "config.put", target: ns },
    ]);
    expect((await auditOf(target)).entries).toMatchObject([{ actor: id, action: "namespace.import", target }]);
    for (const entry of (await auditOf(ns)).entries) expect(Date.parse(entry.at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("pages through every entry once, in order, whatever the page size", async () => {
    const ns = freshNamespace("audit");
    await seed(ns);
    for (let i = 0; i < 7; i += 1) expect((await admin("PUT", ns, `suppressions/item-${i}`)).status).toBe(201);
    const expected = Array.from({ length: 7 }, (_, i) => `item-${6 - i}`);
    for (const limit of [1, 2, 3, 7, 100]) {
      const targets = (await everyEntry((q) => auditOf(ns, q), limit)).map((e) => e.target);
      expect(targets, `limit ${limit}`).toEqual(expected);
    }
  });

  it("answers an empty page for a namespace never written to, and refuses a foreign cursor", async () => {
    const ns = freshNamespace("audit");
    expect(await auditOf(ns)).toEqual({ namespace: ns, entries: [], cursor: null });
    await expectError(await admin("GET", ns, "audit?cursor=zzz"), 400, "invalid_cursor");
    await expectError(await admin("GET", ns, "audit?limit=0"), 400, "invalid_limit");
  });

  it("keeps at most its count of entries, and none older than its age", async () => {
    const ns = freshNamespace("audit");
    await seed(ns);
    await runInDurableObject(stubOf(ns), (_, state) => {
      const log = new AuditLog(state.storage.sql);
      const day = 86_400_000;
      const now = Date.now();
      log.record("ADMIN_TOKEN", "config.put", "old", now - (AUDIT_BOUNDS.maxAgeDays + 2) * day);
      log.record("ADMIN_TOKEN", "config.put", "recent", now - day);
      expect(log.page(null, 10).entries.map((e) => e.target)).toEqual(["recent"]);
      for (let i = 0; i < AUDIT_BOUNDS.entries + 5; i += 1) log.record("ADMIN_TOKEN", "suppression.put", `n${i}`, now);
      const held = state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM audit").one();
      expect(held.n).toBe(AUDIT_BOUNDS.entries);
      expect(log.page(null, 1).entries[0]?.target).toBe(`n${AUDIT_BOUNDS.entries + 4}`);
    });
  });
});

describe("the registry's audit log", () => {
  it("records key creation and revocation once each, and the erasure of a namespace", async () => {
    const ns = freshNamespace("audit");
    await seed(ns);
    const { id } = await createKey({ label: "recorded", scopes: ["read"], namespaces: [ns] });
    expect((await revokeKey(id)).status).toBe(200);
    expect((await revokeKey(id)).status).toBe(200); // revoking again is not a second revocation
    expect((await admin("DELETE", ns, "")).status).toBe(200);
    const mine = (await everyEntry(serviceAudit, 50)).filter((e) => e.target === id || e.target === ns);
    expect(mine.map(({ actor, action, target }) => ({ actor, action, target }))).toEqual([
      { actor: "ADMIN_TOKEN", action: "namespace.delete", target: ns },
      { actor: "ADMIN_TOKEN", action: "key.revoke", target: id },
      { actor: "ADMIN_TOKEN", action: "key.create", target: id },
    ]);
  });

  it("is for the root ADMIN_TOKEN, and refuses a foreign cursor", async () => {
    await expectError(await call("GET", "/v1/audit"), 401, "unauthorized");
    await expectError(await call("GET", "/v1/audit?cursor=a0", { headers: bearer(TOKENS.admin) }), 400, "invalid_cursor");
  });
});
