/**
 * The Tally Worker: thin. It routes, authorises and validates at the door, answers 400 or 404
 * before any object is touched, serves reads through the cache layers, and calls each namespace's
 * NamespaceAggregator over typed RPC for everything else.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { etag, RETAINED_304_HEADERS } from "hono/etag";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requireScope } from "./worker/auth";
import { MAX_BODY_BYTES, NAMESPACE_PATTERN, RANKS, WINDOWS, type NamespaceDescriptor, type Rank, type ReadQuery, type Window } from "./shared/contract";
import { describe, forget, noteIngested, remember } from "./worker/descriptors";
import { errorResponse, invalid, notFound, TallyError } from "./shared/errors";
import { discard, flush } from "./worker/read-counts";
import { serveRead, serveThroughLayer, type LayerSwitch } from "./worker/read-path";
import { aggregatorOf, settle } from "./worker/rpc";
import { listNamespaces } from "./worker/namespace-list";
import { parseConfig } from "./core/config";
import { parseBatch } from "./shared/validate";

export { NamespaceAggregator } from "../durable-objects/namespace-aggregator";
export { NamespaceRegistry } from "../durable-objects/namespace-registry";

type App = { Bindings: Env };
const app = new Hono<App>();

// A known path with an unsupported method answers 405 with Allow (registered before the routes).
app.use(
  methodNotAllowed({
    app,
    onMethodNotAllowed: (_c, methods) =>
      errorResponse(
        new TallyError(405, "method_not_allowed", `Use one of: ${methods.join(", ")}.`, { allowed: methods }, {
          Allow: methods.join(", "),
        }),
      ),
  }),
);

// Browser apps may read and ingest from the origins configured in wrangler.toml (CORS_ORIGINS).
const browserFacing = cors({
  origin: (origin, c: Context<App>) => {
    const allowed = (c.env.CORS_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean);
    if (allowed.includes("*")) return "*";
    return allowed.includes(origin) ? origin : null;
  },
  allowMethods: ["GET", "POST", "OPTIONS"],
  allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
  exposeHeaders: ["ETag", "X-Cache", "X-Generation", "X-Stale", "X-Computed-At", "X-Declared-Types", "Retry-After"],
  maxAge: 600,
});
for (const path of ["events", "trending", "stats", "dashboard"]) app.use(`/v1/namespaces/:ns/${path}`, browserFacing);

// Reads carry an ETag derived from generation, computedAt and limit; the middleware answers 304.
app.use(
  "/v1/namespaces/:ns/*",
  etag({ retainedHeaders: [...RETAINED_304_HEADERS, "x-cache", "x-generation", "x-stale", "x-computed-at", "x-declared-types"] }),
);

app.get("/healthz", (c) => c.json({ ok: true }));

/** The namespace of the path, checked before anything else touches it. */
function namespaceOf(c: Context<App>): string {
  const ns = c.req.param("ns") ?? "";
  if (!NAMESPACE_PATTERN.test(ns)) {
    throw invalid("invalid_namespace", "Namespace names match ^[a-z0-9][a-z0-9_-]{0,63}$.", {
      pattern: NAMESPACE_PATTERN.source,
    });
  }
  return ns;
}

function requireJson(c: Context<App>): void {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new TallyError(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.", {
      allowed: ["application/json"],
    });
  }
}

async function jsonBody(c: Context<App>): Promise<unknown> {
  requireJson(c);
  try {
    return JSON.parse(await c.req.text());
  } catch {
    throw invalid("invalid_json", "The body is not valid JSON.");
  }
}

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new TallyError(413, "body_too_large", "The body is larger than 1 MiB; send smaller batches.", {
      maxBytes: MAX_BODY_BYTES,
    });
  },
});

// ---- ingest ------------------------------------------------------------------------------------

app.post("/v1/namespaces/:ns/events", requireScope("ingest"), limitBody, async (c) => {
  const ns = namespaceOf(c);
  const batch = parseBatch(await jsonBody(c), Date.now(), c.req.header("Idempotency-Key"));
  const result = await settle(aggregatorOf(c.env, ns).ingest(batch));
  noteIngested(ns);
  return c.json(result, result.duplicate ? 200 : 202);
});

// ---- reads -------------------------------------------------------------------------------------

function oneOf<T extends string>(c: Context<App>, name: string, allowed: readonly T[], fallback: T): T {
  const value = c.req.query(name);
  if (value === undefined || value === "") return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalid(`invalid_${name}`, `${name} must be one of: ${allowed.join(", ")}.`, { field: name, allowed });
  }
  return value as T;
}

function limitOf(c: Context<App>, d: NamespaceDescriptor): number {
  const raw = c.req.query("limit");
  if (raw === undefined || raw === "") return Math.min(10, d.maxLimit);
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > d.maxLimit) {
    throw invalid("invalid_limit", `limit must be an integer from 1 to ${d.maxLimit}.`, {
      field: "limit",
      allowed: { min: 1, max: d.maxLimit },
    });
  }
  return limit;
}

function typeOf(c: Context<App>, d: NamespaceDescriptor): string | null {
  const type = c.req.query("type");
  if (type === undefined || type === "") return null;
  if (!d.types.includes(type)) {
    throw invalid("invalid_type", `type must be one of the declared types: ${d.types.join(", ") || "(none)"}.`, {
      field: "type",
      allowed: d.types,
    });
  }
  return type;
}

/** Local-only benchmark switch: honoured only when LOCAL_LAYER_SWITCH=on (set in .dev.vars, never
 * in wrangler.toml) and the request is addressed to this machine's loopback. */
function layerSwitch(c: Context<App>): LayerSwitch | undefined {
  const layer = c.req.header("X-Tally-Layer");
  if (layer === undefined || c.env.LOCAL_LAYER_SWITCH !== "on") return undefined;
  const host = new URL(c.req.url).hostname;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) return undefined;
  if (layer !== "kv" && layer !== "do" && layer !== "compute") {
    throw invalid("invalid_layer", "X-Tally-Layer must be one of: kv, do, compute.", { allowed: ["kv", "do", "compute"] });
  }
  return layer;
}

async function read(c: Context<App>, build: (d: NamespaceDescriptor) => { query: ReadQuery; limit: number | null }) {
  const ns = namespaceOf(c);
  const descriptor = await describe(c.env, c.executionCtx, ns);
  if (!descriptor.exists) throw notFound(ns);
  const { query, limit } = build(descriptor);
  const request = { namespace: ns, query, limit, descriptor };
  const layer = layerSwitch(c);
  return layer ? serveThroughLayer(c.env, request, layer) : serveRead(c.env, c.executionCtx, request);
}

app.get("/v1/namespaces/:ns/trending", requireScope("read"), (c) => {
  const window = oneOf<Window>(c, "window", WINDOWS, "1h");
  const rank = oneOf<Rank>(c, "rank", RANKS, "top");
  return read(c, (d) => ({ query: { kind: "trending", window, rank, type: typeOf(c, d) }, limit: limitOf(c, d) }));
});

app.get("/v1/namespaces/:ns/stats", requireScope("read"), (c) => {
  const window = oneOf<Window>(c, "window", WINDOWS, "24h");
  return read(c, () => ({ query: { kind: "stats", window }, limit: null }));
});

app.get("/v1/namespaces/:ns/dashboard", requireScope("read"), (c) =>
  read(c, () => ({ query: { kind: "dashboard" }, limit: null })),
);

// ---- admin -------------------------------------------------------------------------------------

app.get("/v1/namespaces", requireScope("admin"), async (c) => {
  const listing = await listNamespaces(c.env, {
    prefix: c.req.query("prefix"),
    cursor: c.req.query("cursor"),
    limit: c.req.query("limit"),
  });
  // A listing changes with every create and delete: never kept by a cache on the way.
  return c.json(listing, 200, { "Cache-Control": "no-store" });
});

app.get("/v1/namespaces/:ns/config", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  return c.json(await settle(aggregatorOf(c.env, ns).getConfig()));
});

app.put("/v1/namespaces/:ns/config", requireScope("admin"), limitBody, async (c) => {
  const ns = namespaceOf(c);
  // Validated here, like every input, so that a malformed config never wakes an object.
  const config = await settle(aggregatorOf(c.env, ns).putConfig(parseConfig(await jsonBody(c))));
  await forget(ns); // the next read learns the new limits and types
  return c.json(config);
});

app.post("/v1/namespaces/:ns/refresh", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  const stub = aggregatorOf(c.env, ns);
  const { computedAt, generation } = await settle(stub.refreshNow());
  // The next read through this isolate and data centre skips copies older than this refresh.
  await remember(ns, await settle(stub.describe()));
  return c.json({ namespace: ns, computedAt: new Date(computedAt).toISOString(), generation });
});

app.post("/v1/namespaces/:ns/invalidate", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  const stub = aggregatorOf(c.env, ns);
  const { generation } = await settle(stub.invalidate());
  // This isolate and data centre learn the new generation now; old edge keys become unreachable.
  await remember(ns, await settle(stub.describe()));
  return c.json({ namespace: ns, generation });
});

app.get("/v1/namespaces/:ns/cache", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  await flush(c.env, ns).catch(() => {}); // this isolate's unreported reads count too
  return c.json(await settle(aggregatorOf(c.env, ns).cacheStats()));
});

app.delete("/v1/namespaces/:ns", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  const { generation } = await settle(aggregatorOf(c.env, ns).erase());
  discard(ns);
  await forget(ns);
  return c.json({ namespace: ns, deleted: true, generation });
});

app.notFound(() =>
  errorResponse(new TallyError(404, "not_found", "No such route; see API.md for the routes Tally serves.")),
);
app.onError((error) => errorResponse(error));

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
