/**
 * `GET /v1/namespaces` (admin): the namespaces that hold data, a page at a time, read from the
 * NamespaceRegistry object. Its query is checked here, at the door, like every input.
 */
import { NAMESPACE_PATTERN, type NamespaceListing } from "../shared/contract";
import { invalid } from "../shared/errors";
import { parseLimit } from "../shared/validate";
import { registryOf, valueOrThrow } from "../shared/rpc";

/** Names per page unless `limit` says otherwise, and the most a page may hold. */
export const LIST_DEFAULT_LIMIT = 100;
export const LIST_MAX_LIMIT = 1000;

/** The query of a listing, as sent: absent parameters are undefined. */
export interface ListParams {
  prefix: string | undefined;
  cursor: string | undefined;
  limit: string | undefined;
}

/**
 * The cursor is the last name of the previous page, base64url-encoded: opaque to clients (so the
 * form may change), and a name already in order, so the next page is one index range.
 */
function encodeCursor(name: string): string {
  return btoa(name).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): string {
  let name: string | undefined;
  try {
    name = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    name = undefined;
  }
  if (name === undefined || !NAMESPACE_PATTERN.test(name)) {
    throw invalid("invalid_cursor", "cursor is not one this service gave; start again without it.", { field: "cursor" });
  }
  return name;
}

function prefixOf(raw: string | undefined): string {
  if (raw === undefined || raw === "") return "";
  // A prefix is the start of a namespace name, so it follows the same pattern.
  if (!NAMESPACE_PATTERN.test(raw)) {
    throw invalid("invalid_prefix", "prefix must be the start of a namespace name: ^[a-z0-9][a-z0-9_-]{0,63}$.", {
      field: "prefix",
      pattern: NAMESPACE_PATTERN.source,
    });
  }
  return raw;
}

/** One page of the listing. The cursor is null on the last page. */
export async function listNamespaces(env: Env, params: ListParams): Promise<NamespaceListing> {
  const prefix = prefixOf(params.prefix);
  const limit = parseLimit(params.limit, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT);
  const after = params.cursor === undefined || params.cursor === "" ? null : decodeCursor(params.cursor);
  const page = await valueOrThrow(registryOf(env).list({ prefix, after, limit }));
  const last = page.entries.at(-1);
  return { namespaces: page.entries, cursor: page.more && last ? encodeCursor(last.namespace) : null };
}
