/**
 * The Tally Worker: thin. It routes, authorises and validates at the door, answers 400 or 404
 * before any object is touched, serves reads through the cache layers, and calls each namespace's
 * NamespaceAggregator over typed RPC for everything else.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requireScope } from "./worker/auth";
import { jsonBody, namespaceOf, requireJson, type App } from "./worker/door";
import { addKeyRoutes } from "./worker/key-routes";
import { addEmbedRoute } from "./worker/embed";
import { charge } from "./worker/quotas";
import {
  COMPARES,
  DEFAULT_LIMIT,
  DEFAULT_STATS_WINDOW,
  DEFAULT_TRENDING_WINDOW,
  LIVE_ANSWERS,
  MAX_BODY_BYTES,
  RANKS,
  READ_WINDOWS,
  type Compare,
  type Described,
  type LiveAnswer,
  type NamespaceDescriptor,
  type Rank,
  type ReadQuery,
  type ReadWindow,
} from "./shared/contract";
import { errorResponse, invalid, notFound, TallyError, type Outcome } from "./shared/errors";
import { createIsolate, type Isolate } from "./worker/isolate";
import type { LayerSwitch } from "./worker/read-path";
import { aggregatorOf, valueOrThrow } from "./shared/rpc";
import { listNamespaces } from "./worker/namespace-list";
import { ingest } from "./worker/ingest-route";
import { openLive } from "./worker/live-route";
import { parseWebhookId, parseWebhookSpec } from "./shared/webhook-spec";
import { parseConfig } from "./core/config";
import { checkDims, invalidItem, parseBatch, parseItemSegment, parseLimit } from "./shared/validate";
import { openApiJson } from "./worker/openapi";
import { IMPORT_MAX_BYTES, parseExport } from "./core/export";
import { compareRefusal } from "./core/tiers";
import { dimensionOf, offsetOfCursor, segmentOf } from "./worker/segment-params";

export { NamespaceAggregator } from "../durable-objects/namespace-aggregator";
export { NamespaceRegistry } from "../durable-objects/namespace-registry";
export { IngestShard } from "../durable-objects/ingest-shard";
export { QuotaCounter } from "../durable-objects/quota-counter";
export { LiveRelay } from "../durable-objects/live-relay";

const app = new Hono<App>();

/** The isolate memories serving each request, by its ExecutionContext: set by `createWorker`, so
 * that a test can serve requests with memories of its own. */
const isolateOfRequest = new WeakMap<object, Isolate>();
const isolateOf = (c: Context<App>): Isolate => isolateOfRequest.get(c.executionCtx)!;

/** How long a browser may reuse a CORS preflight answer (Access-Control-Max-Age), in seconds. */
const CORS_MAX_AGE_SECONDS = 600;

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
  maxAge: CORS_MAX_AGE_SECONDS,
});
// Only a request with an Origin header can come from a browser (the Fetch standard sends it on every
// cross-origin request and preflight), so only such a request pays for the CORS middleware: a read
// from a server-side client skips it. Read answers say `Vary: Origin` for shared caches.
const whenFromBrowser: MiddlewareHandler<App> = (c, next) => (c.req.header("Origin") === undefined ? next() : browserFacing(c, next));
for (const path of ["events", "trending", "stats", "dashboard", "dimensions/:dim"]) app.use(`/v1/namespaces/:ns/${path}`, whenFromBrowser);

app.get("/healthz", (c) => c.json({ ok: true }));

// The OpenAPI 3.1 description of docs/api.md; public, like the contract it describes, and readable by
// browser tools.
app.use("/openapi.json", browserFacing);
app.get("/openapi.json", (c) => c.body(openApiJson(), 200, { "Content-Type": "application/json; charset=utf-8" }));

const MEBIBYTE = 1024 * 1024;
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new TallyError(413, "body_too_large", `The body is larger than ${MAX_BODY_BYTES / MEBIBYTE} MiB; send smaller batches.`, {
      maxBytes: MAX_BODY_BYTES,
    });
  },
});

// ---- ingest ------------------------------------------------------------------------------------

app.post("/v1/namespaces/:ns/events", requireScope("ingest"), limitBody, async (c) => {
  const ns = namespaceOf(c);
  const batch = parseBatch(await jsonBody(c), Date.now(), c.req.header("Idempotency-Key"));
  const { descriptors, pendingRefusals } = isolateOf(c);
  pendingRefusals.check(ns, batch);
  const descriptor = descriptors.held(ns) ?? (await descriptors.descriptorOf(c.env, c.executionCtx, ns));
  // A refused batch is charged to no quota: its dimensions are checked first.
  checkDims(batch.events, descriptor.dimensions);
  // Charged before the batch reaches any object, so a refused batch is not recorded (quotas.ts).
  const { keyId, limits } = c.get("principal");
  const subjects = [{ name: `namespace/${ns}`, limits: descriptor.limits ?? {} }];
  await charge(c.env, keyId === null ? subjects : [{ name: `key/${keyId}`, limits }, ...subjects], batch.events.length);
  const result = await ingest(c.env, ns, descriptor, batch).catch((error: unknown) => {
    pendingRefusals.note(ns, error);
    throw error;
  });
  descriptors.noteIngested(ns);
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
  return parseLimit(c.req.query("limit"), Math.min(DEFAULT_LIMIT, d.maxLimit), d.maxLimit);
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

/**
 * `minScore` (trending): items scoring below it are left out, like `limit` on read, so one snapshot
 * still serves every value. A non-negative decimal number; 0, the default, leaves out nothing.
 */
function minScoreOf(c: Context<App>): number {
  const raw = c.req.query("minScore");
  if (raw === undefined || raw === "") return 0;
  const minScore = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(minScore)) {
    throw invalid("invalid_min_score", "minScore must be a number >= 0, such as 2 or 0.5.", {
      field: "minScore",
      allowed: { min: 0 },
    });
  }
  return minScore;
}

/**
 * `compare` (v1.4, trending and stats): `previous` or `week`, absent by default. `week` is refused
 * here for a window whose week-old time is not held at its grain, or overlaps it (tiers.ts), so
 * no object is asked an answer it could only give wrongly.
 */
function compareOf(c: Context<App>, window: ReadWindow): { compare?: Compare } {
  const raw = c.req.query("compare");
  if (raw === undefined || raw === "") return {};
  const compare = oneOf<Compare>(c, "compare", COMPARES, "previous");
  const refusal = compareRefusal(window, compare);
  if (refusal) throw invalid("invalid_compare", refusal, { field: "compare", allowed: COMPARES.filter((v) => v !== "week") });
  return { compare };
}

/** What a read asks for, once validated against the namespace's descriptor. */
type ReadOf = (d: NamespaceDescriptor) => { query: ReadQuery; limit: number | null; minScore?: number; offset?: number };

/** Each read's query, from its parameters: the same for a GET and for a live socket. Parameters
 * that need no descriptor are checked at once, before any I/O. */
const READS: Record<LiveAnswer, (c: Context<App>) => ReadOf> = {
  trending: (c) => {
    const window = oneOf<ReadWindow>(c, "window", READ_WINDOWS, DEFAULT_TRENDING_WINDOW);
    const rank = oneOf<Rank>(c, "rank", RANKS, "top");
    const minScore = minScoreOf(c);
    const compare = compareOf(c, window);
    return (d) => {
      const type = typeOf(c, d);
      const segment = segmentOf(c.req.query("segment"), d, { type, rank });
      return { query: { kind: "trending", window, rank, type, ...compare, ...segment }, limit: limitOf(c, d), minScore };
    };
  },
  stats: (c) => {
    const window = oneOf<ReadWindow>(c, "window", READ_WINDOWS, DEFAULT_STATS_WINDOW);
    const compare = compareOf(c, window);
    return (d) => {
      const segment = segmentOf(c.req.query("segment"), d, {});
      if (segment.segment !== undefined && compare.compare !== undefined) {
        throw invalid("invalid_compare", "A segment's stats take no compare; its rankings do.", { field: "compare", allowed: [] });
      }
      return { query: { kind: "stats", window, ...compare, ...segment }, limit: null };
    };
  },
  dashboard: () => () => ({ query: { kind: "dashboard" }, limit: null }),
};

/** The descriptor of an existing namespace: a read of an unknown one is a 404. */
async function existing(c: Context<App>, ns: string): Promise<NamespaceDescriptor> {
  const { descriptors } = isolateOf(c);
  // A read answered from isolate answers finds its descriptor in isolate memory: no I/O and no
  // promise on that path.
  const descriptor = descriptors.held(ns) ?? (await descriptors.descriptorOf(c.env, c.executionCtx, ns));
  if (!descriptor.exists) throw notFound(ns);
  return descriptor;
}

async function read(c: Context<App>, build: ReadOf) {
  const ns = namespaceOf(c);
  const descriptor = await existing(c, ns);
  const { query, limit, minScore = 0, offset } = build(descriptor);
  // Reads carry an ETag made of generation, computedAt, limit and minScore, which identify an
  // answer's bytes, so the read path answers If-None-Match itself (304) without hashing any body.
  const request = { namespace: ns, query, limit, minScore, ...(offset === undefined ? {} : { offset }), descriptor, ifNoneMatch: c.req.header("If-None-Match") };
  const layer = layerSwitch(c);
  const { reads } = isolateOf(c);
  return layer ? reads.serveThroughLayer(c.env, request, layer) : reads.serve(c.env, c.executionCtx, request);
}

app.get("/v1/namespaces/:ns/trending", requireScope("read"), (c) => read(c, READS.trending(c)));
app.get("/v1/namespaces/:ns/stats", requireScope("read"), (c) => read(c, READS.stats(c)));
app.get("/v1/namespaces/:ns/dashboard", requireScope("read"), (c) => read(c, READS.dashboard(c)));
// (v1.7) A dimension's top values, a page at a time.
app.get("/v1/namespaces/:ns/dimensions/:dim", requireScope("read"), (c) => {
  const window = oneOf<ReadWindow>(c, "window", READ_WINDOWS, DEFAULT_STATS_WINDOW);
  return read(c, (d) => ({
    query: { kind: "dimension", window, dimension: dimensionOf(c.req.param("dim"), d) },
    limit: limitOf(c, d),
    offset: offsetOfCursor(c.req.query("cursor"), d),
  }));
});

// Live answers: a WebSocket that gets the answer of a read, then every change of it. Read auth
// applies; a browser offers its token as a subprotocol (auth.ts), never in the URL.
app.get("/v1/namespaces/:ns/live", requireScope("read"), async (c) => {
  const ns = namespaceOf(c);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new TallyError(426, "upgrade_required", "Open /live as a WebSocket (Upgrade: websocket); read with GET otherwise.", {}, {
      Upgrade: "websocket",
    });
  }
  const build = READS[oneOf<LiveAnswer>(c, "answer", LIVE_ANSWERS, "trending")](c);
  const { query, limit, minScore = 0 } = build(await existing(c, ns));
  return openLive(c.env, ns, { query, limit, minScore }, c.req.raw);
});

// ---- admin -------------------------------------------------------------------------------------

/** Who the audit log records for an admin action: a key's id, or ADMIN_TOKEN. */
const actorOf = (c: Context<App>) => c.get("principal").actor;

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
  return c.json(await valueOrThrow(aggregatorOf(c.env, ns).getConfig()));
});

app.put("/v1/namespaces/:ns/config", requireScope("admin"), limitBody, async (c) => {
  const ns = namespaceOf(c);
  // Validated here, like every input, so that a malformed config never wakes an object.
  const config = await valueOrThrow(aggregatorOf(c.env, ns).putConfig(parseConfig(await jsonBody(c)), actorOf(c)));
  await isolateOf(c).descriptors.forgetNamespace(ns); // the next read learns the new limits and types
  return c.json(config);
});

/**
 * Asks the namespace's object for a change to its answers, then has this isolate and data centre
 * learn its new descriptor (generation, freshSince) at once, so that the next read through this
 * Worker reflects the change in every layer. Other data centres follow within refreshSeconds.
 */
async function changeAndRemember<T>(
  c: Context<App>,
  ns: string,
  change: (stub: ReturnType<typeof aggregatorOf>) => Promise<Outcome<Described<T>>>,
): Promise<T> {
  const stub = aggregatorOf(c.env, ns);
  const { descriptor, ...value } = await valueOrThrow(change(stub));
  await isolateOf(c).descriptors.remember(ns, descriptor ?? (await valueOrThrow(stub.describe())));
  return value as T;
}

app.post("/v1/namespaces/:ns/refresh", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  // The next read through this isolate and data centre skips copies older than this refresh.
  const { computedAt, generation } = await changeAndRemember(c, ns, (stub) => stub.refreshNow(actorOf(c)));
  return c.json({ namespace: ns, computedAt: new Date(computedAt).toISOString(), generation });
});

app.post("/v1/namespaces/:ns/invalidate", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  // Old cache keys become unreachable.
  const { generation } = await changeAndRemember(c, ns, (stub) => stub.invalidate(actorOf(c)));
  return c.json({ namespace: ns, generation });
});

// ---- moderation (admin) --------------------------------------------------------------------------

/** The item of a suppression path, decoded here from its raw segment so that an encoding that is
 * not UTF-8 is refused rather than passed on as the literal text. */
function itemOf(c: Context<App>): string {
  const path = new URL(c.req.url).pathname;
  return parseItemSegment(path.slice(path.lastIndexOf("/") + 1));
}

/** Suppressions per `GET .../suppressions` page: the default and the most a caller may ask for. */
const SUPPRESSION_PAGE = { default: 100, max: 1000 };

function pageLimitOf(c: Context<App>): number {
  return parseLimit(c.req.query("limit"), SUPPRESSION_PAGE.default, SUPPRESSION_PAGE.max);
}

app.get("/v1/namespaces/:ns/suppressions", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  const limit = pageLimitOf(c);
  const cursor = c.req.query("cursor") || null;
  return c.json(await valueOrThrow(aggregatorOf(c.env, ns).listSuppressions(cursor, limit)));
});

// Hiding or showing an item regenerates the namespace's answers as invalidate does.
app.put("/v1/namespaces/:ns/suppressions/:item", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  const change = await changeAndRemember(c, ns, (stub) => stub.suppress(itemOf(c), actorOf(c)));
  return c.json(change, change.created ? 201 : 200);
});

app.delete("/v1/namespaces/:ns/suppressions/:item", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  return c.json(await changeAndRemember(c, ns, (stub) => stub.unsuppress(itemOf(c), actorOf(c))));
});

// An empty item cannot name a route segment; say what is wrong rather than "no such route".
app.on(["PUT", "DELETE"], "/v1/namespaces/:ns/suppressions/", requireScope("admin"), (c) => {
  namespaceOf(c);
  throw invalidItem();
});

app.get("/v1/namespaces/:ns/cache", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  await isolateOf(c).readCounts.flush(c.env, ns).catch(() => {}); // this isolate's unreported reads count too
  return c.json(await valueOrThrow(aggregatorOf(c.env, ns).cacheStats()));
});

app.delete("/v1/namespaces/:ns", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  const { generation } = await valueOrThrow(aggregatorOf(c.env, ns).erase(actorOf(c)));
  const { readCounts, descriptors } = isolateOf(c);
  readCounts.discard(ns);
  await descriptors.forgetNamespace(ns);
  return c.json({ namespace: ns, deleted: true, generation });
});

// ---- webhooks (admin) ---------------------------------------------------------------------------

const webhookIdOf = (c: Context<App>) => parseWebhookId(c.req.param("id") ?? "");

app.get("/v1/namespaces/:ns/webhooks", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  return c.json({ namespace: ns, webhooks: await valueOrThrow(aggregatorOf(c.env, ns).listWebhooks()) });
});

app.put("/v1/namespaces/:ns/webhooks/:id", requireScope("admin"), limitBody, async (c) => {
  const ns = namespaceOf(c);
  const id = webhookIdOf(c);
  const spec = parseWebhookSpec(await jsonBody(c), c.env.LOCAL_WEBHOOK_LOOPBACK === "on");
  const put = await valueOrThrow(aggregatorOf(c.env, ns).putWebhook(id, spec));
  // The secret is in this answer only: never kept by a cache on the way.
  return c.json(put, put.created ? 201 : 200, { "Cache-Control": "no-store" });
});

app.get("/v1/namespaces/:ns/webhooks/:id", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  const id = webhookIdOf(c);
  const found = (await valueOrThrow(aggregatorOf(c.env, ns).listWebhooks())).find((w) => w.id === id);
  if (!found) throw webhookNotFound(ns, id);
  return c.json(found);
});

app.delete("/v1/namespaces/:ns/webhooks/:id", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  const id = webhookIdOf(c);
  const { deleted } = await valueOrThrow(aggregatorOf(c.env, ns).deleteWebhook(id));
  if (!deleted) throw webhookNotFound(ns, id);
  return c.json({ namespace: ns, id, deleted: true });
});

const webhookNotFound = (ns: string, id: string) =>
  new TallyError(404, "webhook_not_found", `Namespace "${ns}" has no webhook "${id}".`, { id });

// ---- export and import (v1.1) -------------------------------------------------------------------

app.get("/v1/namespaces/:ns/export", requireScope("admin"), async (c) => {
  const ns = namespaceOf(c);
  const document = await valueOrThrow(aggregatorOf(c.env, ns).exportState());
  return c.body(document, 200, { "Content-Type": "application/json; charset=utf-8" });
});

// A document holds every bucket of a namespace, so it may be far larger than an ingest batch.
const limitImport = bodyLimit({
  maxSize: IMPORT_MAX_BYTES,
  onError: () => {
    throw new TallyError(413, "body_too_large", `An export document is at most ${IMPORT_MAX_BYTES} bytes.`, { maxBytes: IMPORT_MAX_BYTES });
  },
});

app.post("/v1/namespaces/:ns/import", requireScope("admin"), limitImport, async (c) => {
  const ns = namespaceOf(c);
  requireJson(c);
  // The whole document is validated here, before the object is asked to write anything.
  const state = parseExport(await c.req.text());
  const imported = await valueOrThrow(aggregatorOf(c.env, ns).importState(state, actorOf(c)));
  await isolateOf(c).descriptors.forgetNamespace(ns); // a 404 this isolate remembered for the name no longer holds
  return c.json({ namespace: ns, imported: true, ...imported });
});

// Keys, the audit logs (v1.2) and the embeddable list.
addKeyRoutes(app);
addEmbedRoute(app, (c, ns) => {
  const { descriptors } = isolateOf(c);
  return Promise.resolve(descriptors.held(ns) ?? descriptors.descriptorOf(c.env, c.executionCtx, ns));
});

app.notFound(() =>
  errorResponse(new TallyError(404, "not_found", "No such route; see /docs for the routes Tally serves.")),
);
app.onError((error) => errorResponse(error));

/** A Worker serving requests with `isolate`'s memories. The runtime gets one per isolate (the
 * default export); a test may make its own, so that it starts from empty memories. */
export function createWorker(isolate: Isolate = createIsolate()) {
  return {
    fetch: (request, env, ctx) => {
      isolateOfRequest.set(ctx, isolate);
      return app.fetch(request, env, ctx);
    },
  } satisfies ExportedHandler<Env>;
}

export default createWorker();
