/**
 * Bearer-token auth with three scopes (docs/api.md, "Auth"). ADMIN_TOKEN may do everything,
 * INGEST_TOKEN may ingest and read, READ_TOKEN may read; with READ_TOKEN unset, reads are public.
 * An operation whose own token is not configured is closed, never open.
 */
import type { MiddlewareHandler } from "hono";
import { LIVE_TOKEN_PROTOCOL_PREFIX } from "../shared/contract";
import { TallyError } from "../shared/errors";

export type Scope = "read" | "ingest" | "admin";

const GRANTS: Record<Scope, readonly Scope[]> = {
  admin: ["admin", "ingest", "read"],
  ingest: ["ingest", "read"],
  read: ["read"],
};

const TOKEN_OF: Record<Scope, "ADMIN_TOKEN" | "INGEST_TOKEN" | "READ_TOKEN"> = {
  admin: "ADMIN_TOKEN",
  ingest: "INGEST_TOKEN",
  read: "READ_TOKEN",
};

const encoder = new TextEncoder();

/** Constant-time equality (the Workers runtime's crypto.subtle.timingSafeEqual). Both sides are
 * hashed first so that neither the comparison nor its length check leaks the token's length. */
async function sameToken(presented: string, configured: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented)),
    crypto.subtle.digest("SHA-256", encoder.encode(configured)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** The scope a presented token holds, comparing against every configured token (no early exit). */
async function scopeOf(env: Env, presented: string): Promise<Scope | undefined> {
  let found: Scope | undefined;
  for (const scope of ["admin", "ingest", "read"] as const) {
    const configured = configuredToken(env, scope);
    if (configured !== undefined && (await sameToken(presented, configured))) found ??= scope;
  }
  return found;
}

function configuredToken(env: Env, scope: Scope): string | undefined {
  const value = env[TOKEN_OF[scope]];
  return value !== undefined && value.length > 0 ? value : undefined;
}

const unauthorized = (message: string) =>
  new TallyError(401, "unauthorized", message, {}, { "WWW-Authenticate": 'Bearer realm="tally"' });

/**
 * A read token offered as the subprotocol `tally.token.<token>` of a WebSocket handshake, as an
 * Authorization header would carry it: a browser cannot set headers on a WebSocket, and a header
 * stays out of URLs and so out of logs, where a query parameter would not.
 */
function liveBearer(protocols: string | undefined): string | undefined {
  const offered = protocols?.split(",").map((p) => p.trim()).find((p) => p.startsWith(LIVE_TOKEN_PROTOCOL_PREFIX));
  return offered === undefined ? undefined : `Bearer ${offered.slice(LIVE_TOKEN_PROTOCOL_PREFIX.length)}`;
}

/** Middleware: the request must carry a token granting `scope`. */
export function requireScope(scope: Scope): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    if (scope === "read" && configuredToken(c.env, "read") === undefined) return next();
    if (configuredToken(c.env, scope) === undefined) {
      throw new TallyError(403, "forbidden", `This operation is closed: ${TOKEN_OF[scope]} is not configured.`, {
        scope,
      });
    }
    const header = c.req.header("Authorization") ?? liveBearer(c.req.header("Sec-WebSocket-Protocol")) ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized("Send a token as `Authorization: Bearer <token>`.");
    const held = await scopeOf(c.env, match[1]!);
    if (held === undefined) throw unauthorized("The token is not valid; check it, or ask an admin for one.");
    if (!GRANTS[held].includes(scope)) {
      throw new TallyError(403, "forbidden", `This token may not ${scope}; it needs the ${scope} scope.`, {
        scope,
        granted: GRANTS[held],
      });
    }
    return next();
  };
}
