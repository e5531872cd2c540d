/**
 * `GET /openapi.json`: the OpenAPI 3.1 description of API.md. Routes are declared here once, as
 * a table, and the bodies' schemas come from openapi-schemas.ts, which is built from the same
 * constants as the door validation. It is written by hand rather than generated from a schema
 * library (zod, chanfana) to keep the door's exact error bodies and the Worker small; the test
 * that sends every route through the Worker and validates each answer against this description
 * is what keeps the two from drifting (ARCHITECTURE.md, "The OpenAPI description").
 */
import { LAYERS, MAX_BODY_BYTES, WINDOWS } from "../shared/contract";
import { DESCRIBED_RANKS, SCHEMAS, errorSchema, ref, type Schema } from "./openapi-schemas";

type Scope = "public" | "read" | "ingest" | "admin";

interface Operation {
  method: "get" | "put" | "post" | "delete";
  path: string;
  summary: string;
  scope: Scope;
  parameters?: string[];
  body?: string;
  /** Success answers: status → [schema name (or null for no JSON body), description]. */
  ok: Record<number, [string | null, string]>;
  /** Refusals: status → the codes API.md and the README pin, or null where API.md leaves them open. */
  errors?: Record<number, string[] | null>;
  /** The route reads through the cache layers (read headers, 304). */
  cached?: boolean;
  /** The route reaches the namespace's object, which may be unreachable (503). */
  object?: boolean;
}

const NS = "/v1/namespaces/{ns}";
const READ_400 = ["invalid_namespace", "invalid_layer"];
const NOT_FOUND = { 404: ["namespace_not_found"] };
const JSON_BODY = { 413: ["body_too_large"], 415: ["unsupported_media_type"] };

/** Every route of API.md v1.1. Routes marked v1.1 arrive with other branches. */
export const OPERATIONS: Operation[] = [
  { method: "get", path: "/healthz", summary: "Liveness; touches no object, KV or cache.", scope: "public", ok: { 200: ["Health", "Always ok."] } },
  { method: "get", path: "/openapi.json", summary: "This description.", scope: "public", ok: { 200: [null, "OpenAPI 3.1 JSON."] } },
  { method: "get", path: "/", summary: "The dashboard page for people (v1.1); `?ns=` opens a namespace.", scope: "public", ok: { 200: [null, "HTML."] } },
  {
    method: "post", path: `${NS}/events`, summary: "Ingest a batch of events (all or nothing, idempotent by batchId).", scope: "ingest",
    parameters: ["ns", "IdempotencyKey"], body: "Batch", object: true,
    ok: { 202: ["IngestResult", "Accepted and durable."], 200: ["IngestResult", "A retry of a batch already accepted: nothing counted again."] },
    errors: { 400: ["invalid_namespace", "invalid_json", "invalid_batch", "invalid_event"], 413: ["batch_too_large", "body_too_large"], 415: ["unsupported_media_type"] },
  },
  {
    method: "get", path: `${NS}/trending`, summary: "The top items of a window.", scope: "read", cached: true, object: true,
    parameters: ["ns", "trendingWindow", "limit", "type", "rank", "minScore", "IfNoneMatch"], ok: { 200: ["Trending", "The ranking."] },
    errors: { 400: [...READ_400, "invalid_window", "invalid_rank", "invalid_type", "invalid_limit", "invalid_min_score"], 404: ["namespace_not_found", "not_in_layer"] },
  },
  {
    method: "get", path: `${NS}/stats`, summary: "Totals, unique counts and the series of a window.", scope: "read", cached: true, object: true,
    parameters: ["ns", "statsWindow", "IfNoneMatch"], ok: { 200: ["Stats", "The stats."] },
    errors: { 400: [...READ_400, "invalid_window"], 404: ["namespace_not_found", "not_in_layer"] },
  },
  {
    method: "get", path: `${NS}/dashboard`, summary: "Every configured window's stats and top 10.", scope: "read", cached: true, object: true,
    parameters: ["ns", "IfNoneMatch"], ok: { 200: ["Dashboard", "The dashboard."] },
    errors: { 400: READ_400, 404: ["namespace_not_found", "not_in_layer"] },
  },
  {
    method: "get", path: `${NS}/config`, summary: "The namespace's config (defaults until one is set).", scope: "admin", object: true,
    parameters: ["ns"], ok: { 200: ["Config", "The config."] }, errors: { 400: ["invalid_namespace"] },
  },
  {
    method: "put", path: `${NS}/config`, summary: "Replace the config; every field is validated.", scope: "admin", object: true,
    parameters: ["ns"], body: "ConfigInput", ok: { 200: ["Config", "The config now in force."] },
    errors: { 400: ["invalid_namespace", "invalid_json", "invalid_config"], ...JSON_BODY },
  },
  {
    method: "post", path: `${NS}/refresh`, summary: "Precompute now; answers once the new snapshots are in place.", scope: "admin", object: true,
    parameters: ["ns"], ok: { 200: ["RefreshResult", "Refreshed."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "post", path: `${NS}/invalidate`, summary: "Drop every cached answer, bump the generation, recompute.", scope: "admin", object: true,
    parameters: ["ns"], ok: { 200: ["InvalidateResult", "The new generation."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "get", path: `${NS}/cache`, summary: "Hit and miss counts per layer and the last refresh.", scope: "admin", object: true,
    parameters: ["ns"], ok: { 200: ["CacheReport", "The report."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "delete", path: NS, summary: "Erase the namespace's data, config and cached answers.", scope: "admin", object: true,
    parameters: ["ns"], ok: { 200: ["DeleteResult", "Erased."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  // ---- v1.1
  {
    method: "get", path: "/v1/namespaces", summary: "The namespaces that hold data, paginated (v1.1).", scope: "admin", object: true,
    parameters: ["cursor", "prefix", "pageLimit"], ok: { 200: ["NamespaceList", "A page; `cursor` is null on the last."] },
    errors: { 400: ["invalid_cursor", "invalid_prefix", "invalid_limit"] },
  },
  {
    method: "get", path: `${NS}/suppressions`, summary: "The suppressed items, with the time each was suppressed (v1.1).", scope: "admin", object: true,
    parameters: ["ns", "cursor", "pageLimit"], ok: { 200: ["Suppressions", "One page, items in ascending order."] },
    errors: { 400: ["invalid_namespace", "invalid_limit"], ...NOT_FOUND },
  },
  {
    method: "put", path: `${NS}/suppressions/{item}`, summary: "Hide an item from every ranking (v1.1).", scope: "admin", object: true,
    parameters: ["ns", "item"],
    ok: { 201: ["SuppressionChange", "Suppressed."], 200: ["SuppressionChange", "Already suppressed: its first time is kept."] },
    errors: { 400: ["invalid_namespace", "invalid_item"], ...NOT_FOUND, 409: ["too_many_suppressions"] },
  },
  {
    method: "delete", path: `${NS}/suppressions/{item}`, summary: "Show a suppressed item again (v1.1).", scope: "admin", object: true,
    parameters: ["ns", "item"], ok: { 200: ["SuppressionChange", "Shown again (or was not suppressed)."] },
    errors: { 400: ["invalid_namespace", "invalid_item"], ...NOT_FOUND },
  },
  {
    method: "get", path: `${NS}/export`, summary: "A complete, versioned copy of the namespace's state (v1.1).", scope: "admin", object: true,
    parameters: ["ns"], ok: { 200: ["ExportDocument", "The document."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "post", path: `${NS}/import`, summary: "Restore an export into an empty namespace (v1.1).", scope: "admin", object: true,
    parameters: ["ns"], body: "ExportDocument", ok: { 200: ["ImportResult", "Imported: the namespace now answers as the exported one."] },
    errors: { 400: ["invalid_namespace", "invalid_export"], 409: ["namespace_not_empty"], ...JSON_BODY },
  },
];

const header = (schema: Schema, description: string, required = true) => ({ schema, description, required });
const RETRY_AFTER = header({ type: "string", pattern: "^\\d+$" }, "Seconds to wait before retrying.");
const READ_HEADERS = {
  "X-Cache": header({ enum: ["HIT-EDGE", "HIT-KV", "HIT-DO", "MISS"] }, "The layer that answered; MISS: computed while the client waited."),
  ETag: header({ type: "string" }, "Identifies the answer's bytes (generation, computedAt, limit)."),
  "Cache-Control": header({ type: "string", pattern: "max-age=\\d+" }, "max-age no longer than the refresh period."),
  "X-Generation": header({ type: "string", pattern: "^\\d+$" }, "The namespace's generation."),
  "X-Computed-At": header({ type: "string", pattern: "^\\d+$" }, "The snapshot's computedAt, epoch ms."),
  "X-Declared-Types": header({ type: "string" }, "The namespace's declared types, comma-separated: the values `type=` accepts."),
  "X-Stale": header({ const: "true" }, "Present when older than max-age and being revalidated.", false),
};

const query = (name: string, schema: Schema, description: string) => ({ name, in: "query", required: false, schema, description });
const PARAMETERS: Record<string, Schema> = {
  ns: { name: "ns", in: "path", required: true, schema: ref("Namespace") },
  item: { name: "item", in: "path", required: true, schema: { type: "string", minLength: 1 }, description: "URL-encoded item." },
  trendingWindow: query("window", { ...ref("Window"), default: "1h" }, "One of the supported windows."),
  statsWindow: query("window", { ...ref("Window"), default: "24h" }, "One of the supported windows."),
  limit: query("limit", { type: "integer", minimum: 1, default: 10 }, "1 to the namespace's maxLimit."),
  type: query("type", { type: "string" }, "One of the namespace's declared types; omitted means all types."),
  rank: query("rank", { ...ref("Rank"), default: "top" }, "top, rising or hot."),
  cursor: query("cursor", { type: "string" }, "Continues a listing."),
  minScore: query("minScore", { type: "number", minimum: 0, default: 0 }, "Items scoring below this are left out (rankings)."),
  pageLimit: query("limit", { type: "integer", minimum: 1, maximum: 1000, default: 100 }, "Entries per page."),
  prefix: query("prefix", { type: "string" }, "Only namespaces starting with this."),
  IfNoneMatch: { name: "If-None-Match", in: "header", required: false, schema: { type: "string" }, description: "An ETag; a match answers 304." },
  IdempotencyKey: {
    name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", minLength: 1, maxLength: 128 },
    description: "Equivalent to batchId; if both are sent they must be equal.",
  },
};

const jsonContent = (schema: Schema) => ({ "application/json": { schema } });

function errorResponse(codes: string[] | null, description: string, headers?: Record<string, unknown>) {
  return { description, ...(headers ? { headers } : {}), content: jsonContent(codes ? errorSchema(codes) : ref("Error")) };
}

function responses(op: Operation): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, [schema, description]] of Object.entries(op.ok)) {
    const content = schema ? jsonContent(ref(schema)) : undefined;
    out[status] = { description, ...(op.cached ? { headers: READ_HEADERS } : {}), ...(content ? { content } : {}) };
  }
  if (op.cached) {
    const { "X-Stale": _, ...kept } = READ_HEADERS;
    out["304"] = { description: "Not modified: If-None-Match matched the answer's ETag.", headers: kept };
  }
  for (const [status, codes] of Object.entries(op.errors ?? {})) out[status] = errorResponse(codes, "Refused; see `code`.");
  if (op.scope === "read" || op.scope === "ingest" || op.scope === "admin") {
    out["401"] = errorResponse(["unauthorized"], "No token or an unknown one.", { "WWW-Authenticate": header({ type: "string" }, "Bearer.") });
    out["403"] = errorResponse(["forbidden"], "The token lacks the scope, or the operation's token is not configured.");
  }
  if (op.object) out["503"] = errorResponse(["unavailable"], "The namespace's object cannot be reached.", { "Retry-After": RETRY_AFTER });
  out["500"] = errorResponse(["internal_error"], "The service failed; no stack trace is ever sent.");
  return out;
}

const SECURITY: Record<Scope, unknown[]> = {
  public: [],
  read: [{}, { bearer: [] }], // public while READ_TOKEN is unset
  ingest: [{ bearer: [] }],
  admin: [{ bearer: [] }],
};

function operation(op: Operation): Record<string, unknown> {
  return {
    summary: op.summary,
    operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "By_$1").replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    security: SECURITY[op.scope],
    ...(op.parameters ? { parameters: op.parameters.map((p) => ({ $ref: `#/components/parameters/${p}` })) } : {}),
    ...(op.body ? { requestBody: { required: true, content: jsonContent(ref(op.body)) } } : {}),
    responses: responses(op),
    ...(op.scope === "public" ? {} : { "x-tally-scope": op.scope }),
  };
}

/** The whole description. Built once per isolate, on its first request. */
export function describeApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  return {
    openapi: "3.1.0",
    info: {
      title: "Tally",
      version: "1.1",
      description:
        "Trending and dashboard aggregation. Every error is `{\"error\": {\"code\", \"message\", ...details}}`. " +
        `Windows: ${WINDOWS.join(", ")}; ranks: ${DESCRIBED_RANKS.join(", ")}; cache layers: ${LAYERS.join(", ")}. ` +
        `Bodies are limited to ${MAX_BODY_BYTES} bytes. Any unknown route answers 404 \`not_found\`, a known path with ` +
        "another method 405 `method_not_allowed` with `Allow` (components.responses).",
    },
    paths,
    components: {
      schemas: SCHEMAS,
      parameters: PARAMETERS,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN, INGEST_TOKEN or READ_TOKEN." } },
      responses: {
        NotFound: errorResponse(["not_found"], "No such route."),
        MethodNotAllowed: errorResponse(["method_not_allowed"], "Another method is served here.", {
          Allow: header({ type: "string" }, "The methods served at this path."),
        }),
      },
    },
  };
}

let described: string | undefined;
/** The description's JSON text, built on first use (no start-up cost for other requests). */
export function openApiJson(): string {
  return (described ??= JSON.stringify(describeApi()));
}
