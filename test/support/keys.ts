/**
 * Test support for API keys (docs/api.md v1.2, "Keys"): making one through the public route, and
 * calling a route with it.
 */
import { expect } from "vitest";
import { TOKENS, bearer, call, json } from "./http";

export interface CreatedKey {
  id: string;
  key: string;
  [field: string]: unknown;
}

/** POST /v1/keys with the root ADMIN_TOKEN, expecting 201. */
export async function createKey(body: Record<string, unknown>): Promise<CreatedKey> {
  const res = await call("POST", "/v1/keys", { headers: { ...bearer(TOKENS.admin), "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return JSON.parse(text) as CreatedKey;
}

export async function revokeKey(id: string): Promise<Response> {
  return call("DELETE", `/v1/keys/${id}`, { headers: bearer(TOKENS.admin) });
}

/** A request with `key` as its bearer token: a JSON body when one is given. */
export function withKey(key: string, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = bearer(key);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return call(method, path, { headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

export { json };
