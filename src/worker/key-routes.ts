/**
 * The routes of API keys and audit logs (docs/api.md v1.2, "Keys" and "Audit log"). Keys are
 * managed with the root ADMIN_TOKEN only: a key can never make, list or revoke keys, so a leaked
 * key cannot widen itself.
 */
import type { Hono } from "hono";
import { KEY_ID_PATTERN, hashSecret, mintKey, parseNewKey } from "../shared/api-keys";
import { AUDIT_PAGE, parseAuditCursor } from "../shared/audit";
import { invalid } from "../shared/errors";
import { aggregatorOf, registryOf, valueOrThrow } from "../shared/rpc";
import { parseLimit } from "../shared/validate";
import { requireScope } from "./auth";
import { jsonBody, namespaceOf, type App } from "./door";
import { forgetKey } from "./key-auth";

/** Answers holding keys or audit entries change with every action: never kept by a cache. */
const NO_STORE = { "Cache-Control": "no-store" };

function keyIdOf(raw: string | undefined): string {
  if (raw === undefined || !KEY_ID_PATTERN.test(raw)) {
    throw invalid("invalid_key_id", "A key id is the 16 hex characters after `tk_` in the key.", { field: "id", pattern: KEY_ID_PATTERN.source });
  }
  return raw;
}

export function addKeyRoutes(app: Hono<App>): void {
  app.post("/v1/keys", requireScope("admin"), async (c) => {
    const request = parseNewKey(await jsonBody(c), Date.now());
    const { id, secret, key } = mintKey();
    const created = await valueOrThrow(registryOf(c.env).createKey(id, await hashSecret(secret), request, c.get("principal").actor));
    // The only answer that ever holds the secret: it is stored as its hash alone.
    return c.json({ ...created, key }, 201, NO_STORE);
  });

  app.get("/v1/keys", requireScope("admin"), async (c) => c.json({ keys: await valueOrThrow(registryOf(c.env).listKeys()) }, 200, NO_STORE));

  app.delete("/v1/keys/:id", requireScope("admin"), async (c) => {
    const id = keyIdOf(c.req.param("id"));
    const revoked = await valueOrThrow(registryOf(c.env).revokeKey(id, c.get("principal").actor));
    await forgetKey(id); // immediate in this data centre; elsewhere within KEY_CACHE_SECONDS
    return c.json(revoked, 200, NO_STORE);
  });

  const pageOf = (cursor: string | undefined, limit: string | undefined) =>
    [parseAuditCursor(cursor), parseLimit(limit, AUDIT_PAGE.default, AUDIT_PAGE.max)] as const;

  // The service's own log: keys made and revoked, namespaces erased.
  app.get("/v1/audit", requireScope("admin"), async (c) => {
    const [before, limit] = pageOf(c.req.query("cursor"), c.req.query("limit"));
    return c.json(await valueOrThrow(registryOf(c.env).auditPage(before, limit)), 200, NO_STORE);
  });

  app.get("/v1/namespaces/:ns/audit", requireScope("admin"), async (c) => {
    const ns = namespaceOf(c);
    const [before, limit] = pageOf(c.req.query("cursor"), c.req.query("limit"));
    return c.json({ namespace: ns, ...(await valueOrThrow(aggregatorOf(c.env, ns).auditPage(before, limit))) }, 200, NO_STORE);
  });
}
