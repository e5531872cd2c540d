/**
 * Browser-test support: Tally under `wrangler dev` (test/support/wrangler-dev.mjs) with the tokens
 * each test file chooses, a small client to set up what the page shows, and fresh namespaces.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startWranglerDev } from "../../support/wrangler-dev.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Starts the service with `vars` (every token the file needs; a token given as "" is unset, which
 * Tally treats as not configured, so a developer's own .dev.vars cannot change what tests see).
 * @returns {Promise<{base: string, stop: () => Promise<void>, output: () => string}>}
 */
export function startTally(vars, { readyTimeoutMs = 120_000 } = {}) {
  return startWranglerDev(ROOT, {
    vars: { READ_TOKEN: "", LOCAL_LAYER_SWITCH: "", ...vars },
    storagePrefix: "tally-browser-",
    readyTimeoutMs,
  });
}

/** A small client of the HTTP API for setting up what the page will show. */
export function tally(base, tokens) {
  const call = async (method, path, token, body) => {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  return {
    configure: (ns, config) => call("PUT", `/v1/namespaces/${ns}/config`, tokens.admin, config),
    config: (ns) => call("GET", `/v1/namespaces/${ns}/config`, tokens.admin),
    ingest: (ns, events) => call("POST", `/v1/namespaces/${ns}/events`, tokens.ingest, { events }),
    refresh: (ns) => call("POST", `/v1/namespaces/${ns}/refresh`, tokens.admin),
    trending: (ns, query = "") => call("GET", `/v1/namespaces/${ns}/trending${query}`, tokens.admin),
    createKey: (body) => call("POST", "/v1/keys", tokens.admin, body),
  };
}

let counter = 0;
/** A namespace no other test uses. */
export function freshNamespace(prefix) {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}
