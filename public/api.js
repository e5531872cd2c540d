// The page's only way to the service: the same public HTTP API any client uses (docs/api.md). It
// holds no privilege of its own; a token typed in by the person is kept in sessionStorage (this
// tab, this session) and sent as a Bearer header, never put in a URL.
//
// Not `tally/client` (src/client): its read results carry the ETag, X-Cache, X-Generation and
// X-Stale, but not the Cache-Control max-age, X-Computed-At and X-Declared-Types the page runs on
// (when to ask again, how old an answer is, which types to offer), and it is built to dist/, which
// the static assets of public/ do not include.

const TOKEN_KEY = "tally.token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
  set(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
    remembered.clear(); // answers read with another token must not be revalidated under this one
  },
};

/**
 * A share link (`/?ns=videos#key=tk_...`, docs/operating.md) carries a read key in the address's
 * fragment, which browsers never send to a server, so it reaches no log. The key is kept for this
 * tab like a typed token, and the fragment is taken out of the address, so that the key is not
 * copied on with it or kept in the history. Returns the key taken, or "" when there was none.
 */
export function takeSharedKey() {
  const shared = new URLSearchParams(location.hash.slice(1)).get("key") ?? "";
  if (!shared) return "";
  token.set(shared);
  history.replaceState(null, "", location.pathname + location.search);
  return shared;
}

/** A refusal of the service (its JSON error), or status 0 when the service could not be reached. */
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** Unreachable, or the service says its object is (503): a stale answer is still worth showing. */
  get unreachable() {
    return this.status === 0 || this.status === 503;
  }
}

/** The last answer of each read URL with its ETag, so an unchanged answer costs a 304. */
const remembered = new Map();

function headers(extra = {}) {
  const held = token.get();
  return held ? { Authorization: `Bearer ${held}`, ...extra } : extra;
}

async function errorOf(res) {
  try {
    const { error } = await res.json();
    const { code, message, ...details } = error;
    return new ApiError(res.status, code, message, details);
  } catch {
    return new ApiError(res.status, "http_" + res.status, `The service answered ${res.status}.`);
  }
}

async function send(path, init) {
  try {
    // The page revalidates by itself (If-None-Match); the browser's cache must not answer instead.
    return await fetch(path, { cache: "no-store", ...init });
  } catch {
    throw new ApiError(0, "unreachable", "The service could not be reached.");
  }
}

/** What the page uses of a read answer's headers. */
function metaOf(res) {
  const maxAge = /max-age=(\d+)/.exec(res.headers.get("Cache-Control") ?? "");
  const computedAt = Number(res.headers.get("X-Computed-At"));
  // The answer's age when served, by this machine's clock (to the millisecond); the service's Date
  // header (to the second) only where the two clocks disagree by more than a second.
  const serverNow = Date.parse(res.headers.get("Date") ?? "");
  const servedAt = Number.isFinite(serverNow) && Math.abs(serverNow - Date.now()) > 1500 ? serverNow : Date.now();
  return {
    maxAge: maxAge ? Number(maxAge[1]) : null,
    age: Number.isFinite(computedAt) && computedAt > 0 ? Math.max(0, (servedAt - computedAt) / 1000) : null,
    stale: res.headers.get("X-Stale") === "true",
    cache: res.headers.get("X-Cache"),
    declaredTypes: (res.headers.get("X-Declared-Types") ?? "").split(",").filter(Boolean),
  };
}

/**
 * A read (trending, stats, dashboard, and (v1.7) a dimension's breakdown): `{body, meta, changed}`.
 * With a remembered ETag the request carries If-None-Match, and a 304 reuses the remembered body.
 */
export async function read(path) {
  const held = remembered.get(path);
  const res = await send(path, { headers: headers(held ? { "If-None-Match": held.etag } : {}) });
  if (res.status === 304 && held) {
    await res.arrayBuffer(); // read to its (empty) end, so the request completes rather than is dropped
    return { body: held.body, meta: metaOf(res), changed: false };
  }
  if (!res.ok) throw await errorOf(res);
  const body = await res.json();
  const etag = res.headers.get("ETag");
  if (etag) remembered.set(path, { etag, body });
  return { body, meta: metaOf(res), changed: true };
}

/** Any other call (admin): its JSON answer, or an ApiError. */
export async function call(method, path) {
  const res = await send(path, { method, headers: headers() });
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

export const nsPath = (ns, rest = "") => `/v1/namespaces/${encodeURIComponent(ns)}${rest ? `/${rest}` : ""}`;
