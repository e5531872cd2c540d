/**
 * The door checks every route shares: the namespace of a path and a JSON body, checked before any
 * object is touched, and the Hono app's type (its bindings and the principal auth sets).
 */
import type { Context } from "hono";
import { NAMESPACE_PATTERN } from "../shared/contract";
import { TallyError, invalid } from "../shared/errors";
import type { AuthVariables } from "./auth";

export type App = { Bindings: Env; Variables: AuthVariables };

/** The namespace `raw` names, checked before anything else touches it. */
export function checkNamespace(raw: string): string {
  if (!NAMESPACE_PATTERN.test(raw)) {
    throw invalid("invalid_namespace", "Namespace names match ^[a-z0-9][a-z0-9_-]{0,63}$.", {
      pattern: NAMESPACE_PATTERN.source,
    });
  }
  return raw;
}

/** The namespace of the path. */
export const namespaceOf = (c: Context<App>): string => checkNamespace(c.req.param("ns") ?? "");

export function requireJson(c: Context<App>): void {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new TallyError(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.", {
      allowed: ["application/json"],
    });
  }
}

export async function jsonBody(c: Context<App>): Promise<unknown> {
  requireJson(c);
  try {
    return JSON.parse(await c.req.text());
  } catch {
    throw invalid("invalid_json", "The body is not valid JSON.");
  }
}
