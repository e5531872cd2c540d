/**
 * Bearer-token auth with three scopes (docs/api.md, "Auth"). The environment tokens are the root
 * keys: ADMIN_TOKEN may do everything, INGEST_TOKEN may ingest and read, READ_TOKEN may read; with
 * READ_TOKEN unset, reads are public. An operation whose own token is not configured is closed to
 * them, never open. API keys (`tk_...`, key-auth.ts) hold scopes for some namespaces only.
 */
import type { MiddlewareHandler } from "hono";
import { GRANTS, KEY_PREFIX, hashSecret, permits, sameDigest, type KeyScope, type QuotaLimits } from "../shared/api-keys";
import type { Actor } from "../shared/audit";
import { LIVE_TOKEN_PROTOCOL_PREFIX } from "../shared/contract";
import { TallyError } from "../shared/errors";
import { grantOfKey } from "./key-auth";
import { charge } from "./quotas";

export type Scope = KeyScope;

/** Who makes a request: what the audit log records, and the limits a key brings (docs/api.md). */
export interface Principal {
  actor: Actor;
  /** The key's id, or null for an environment token or a public read. */
  keyId: string | null;
  limits: QuotaLimits;
}

export type AuthVariables = { principal: Principal };
type AuthEnv = { Bindings: Env; Variables: AuthVariables };

/** The one answer to a key used beyond its rights, whatever the reason (scope or namespace), so
 * that a key cannot learn which namespaces exist or what another key may do. */
export const keyForbidden = () =>
  new TallyError(403, "forbidden", "This key may not do this: a key works only for its scopes and its namespaces.");

const TOKEN_OF: Record<Scope, "ADMIN_TOKEN" | "INGEST_TOKEN" | "READ_TOKEN"> = {
  admin: "ADMIN_TOKEN",
  ingest: "INGEST_TOKEN",
  read: "READ_TOKEN",
};

/**
 * The digests of the configured tokens, once per isolate: they are the Worker's own constants, so
 * hashing them on every request (three scopes, each side) was a sixth of a small ingest's CPU in
 * the Worker. Keyed by the value, so a rotated token is hashed anew.
 */
const configuredDigests = new Map<string, Promise<ArrayBuffer>>();

function digestOf(configured: string): Promise<ArrayBuffer> {
  let digest = configuredDigests.get(configured);
  if (digest === undefined) configuredDigests.set(configured, (digest = hashSecret(configured)));
  return digest;
}

/**
 * The scope a presented token holds, comparing against every configured token (no early exit), in
 * constant time (api-keys.ts, `sameDigest`). Both sides are hashed first so that neither the
 * comparison nor its length check leaks the token's length.
 */
async function scopeOf(env: Env, presented: string): Promise<Scope | undefined> {
  const offered = await hashSecret(presented);
  let found: Scope | undefined;
  for (const scope of ["admin", "ingest", "read"] as const) {
    const configured = configuredToken(env, scope);
    if (configured !== undefined && sameDigest(offered, await digestOf(configured))) found ??= scope;
  }
  return found;
}

function configuredToken(env: Env, scope: Scope): string | undefined {
  const value = env[TOKEN_OF[scope]];
  return value !== undefined && value.length > 0 ? value : undefined;
}

const unauthorized = (message: string) =>
  new TallyError(401, "unauthorized", message, {}, { "WWW-Authenticate": 'Bearer realm="tally"' });

const INVALID_TOKEN = "The token is not valid; check it, or ask an admin for one.";
const bearerOf = (header: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];

/**
 * A read token offered as the subprotocol `tally.token.<token>` of a WebSocket handshake, as an
 * Authorization header would carry it: a browser cannot set headers on a WebSocket, and a header
 * stays out of URLs and so out of logs, where a query parameter would not.
 */
function liveBearer(protocols: string | undefined): string | undefined {
  const offered = protocols?.split(",").map((p) => p.trim()).find((p) => p.startsWith(LIVE_TOKEN_PROTOCOL_PREFIX));
  return offered === undefined ? undefined : `Bearer ${offered.slice(LIVE_TOKEN_PROTOCOL_PREFIX.length)}`;
}

/**
 * Middleware: the request must carry a token granting `scope` for the path's namespace (`:ns`;
 * a route of no namespace takes a root key), in its Authorization header or, for a WebSocket, its
 * subprotocol. A key is charged its requestsPerMinute here, except on ingest, whose route charges
 * the request and its events together (quotas.ts).
 */
export function requireScope(scope: Scope): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const presented = bearerOf(c.req.header("Authorization") ?? liveBearer(c.req.header("Sec-WebSocket-Protocol")));
    if (presented?.startsWith(KEY_PREFIX)) {
      const grant = await grantOfKey(c.env, c.executionCtx, presented, c.req.header("CF-Connecting-IP") ?? null);
      if (grant === null) throw unauthorized(INVALID_TOKEN);
      if (!permits(grant, scope, c.req.param("ns") ?? null)) throw keyForbidden();
      c.set("principal", { actor: grant.id, keyId: grant.id, limits: grant.limits });
      // Only requestsPerMinute concerns a request without events: a key of eventsPerMinute alone costs nothing here.
      const { requestsPerMinute } = grant.limits;
      if (scope !== "ingest") await charge(c.env, [{ name: `key/${grant.id}`, limits: { requestsPerMinute } }], 0);
      return next();
    }
    c.set("principal", { actor: TOKEN_OF[scope], keyId: null, limits: {} });
    if (scope === "read" && configuredToken(c.env, "read") === undefined) return next();
    if (configuredToken(c.env, scope) === undefined) {
      throw new TallyError(403, "forbidden", `This operation is closed: ${TOKEN_OF[scope]} is not configured.`, {
        scope,
      });
    }
    if (presented === undefined) throw unauthorized("Send a token as `Authorization: Bearer <token>`.");
    const held = await scopeOf(c.env, presented);
    if (held === undefined) throw unauthorized(INVALID_TOKEN);
    c.set("principal", { actor: TOKEN_OF[held], keyId: null, limits: {} });
    if (!GRANTS[held].includes(scope)) {
      throw new TallyError(403, "forbidden", `This token may not ${scope}; it needs the ${scope} scope.`, {
        scope,
        granted: GRANTS[held],
      });
    }
    return next();
  };
}
