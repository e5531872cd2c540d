/**
 * `GET /openapi.json`: the OpenAPI 3.1 description of the contract (docs/api.md). Routes are
 * declared here once, as a table, and the bodies' schemas come from openapi-schemas.ts, which is
 * built from the same constants as the door validation. It is written by hand rather than
 * generated from a schema library (zod, chanfana) to keep the door's exact error bodies and the
 * Worker small; the test that sends every route through the Worker and validates each answer
 * against this description is what keeps the two from drifting (ARCHITECTURE.md, "The OpenAPI
 * description"). `npm run lint:openapi` holds it to two linters' rules (redocly.yaml,
 * .spectral.yaml), so that generators and reference pages (GET /docs) read it without surprises.
 */
import { LAYERS, LIVE_ANSWERS, LIVE_PROTOCOL, LIVE_TOKEN_PROTOCOL_PREFIX, MAX_BODY_BYTES, MAX_RELAYS, MAX_SOCKETS_PER_RELAY, MAX_WEBHOOKS, RANKS, WEBHOOK_ID_PATTERN, WINDOWS } from "../shared/contract";
import { MAX_PENDING_EVENTS } from "../core/pending";
import { SCHEMAS, errorSchema, ref, type Schema } from "./openapi-schemas";
import { DIMENSION_PATTERN } from "../core/config";
import { EMBED_MAX_LIMIT } from "./embed";
import tagTable from "./openapi-tags.json";

type Scope = "public" | "read" | "ingest" | "admin";

/** The groups operations are listed under (the reference page's sections): a table of text, kept
 * as data beside this file. */
const TAGS = tagTable;
type Tag = keyof typeof TAGS;

interface Operation {
  method: "get" | "put" | "post" | "delete";
  path: string;
  /** One line: the reference page's title of the operation. */
  summary: string;
  /** What a caller needs beyond the summary: effects, limits, how refusals come about. */
  description: string;
  tag: Tag;
  scope: Scope;
  parameters?: string[];
  body?: string;
  /** Success answers: status → [schema name (or null for no JSON body), description]. */
  ok: Record<number, [string | null, string]>;
  /** Refusals: status → the codes docs/api.md pins for this route. */
  errors?: Record<number, string[]>;
  /** Refusals with details or headers of their own: status → the whole response. */
  refusals?: Record<number, Record<string, unknown>>;
  /** The route reads through the cache layers (read headers, 304). */
  cached?: boolean;
  /** The route reaches the namespace's object, which may be unreachable (503). */
  object?: boolean;
  /** A WebSocket handshake: it succeeds with 101 alone (the linters' rules allow it by this mark). */
  websocket?: boolean;
}

const NS = "/v1/namespaces/{ns}";
const READ_400 = ["invalid_namespace", "invalid_layer"];
/** (v1.7) The refusals of a read's `segment`: malformed, or of an undeclared dimension. */
const SEGMENT_400 = ["invalid_segment", "invalid_dimension"];
const NOT_FOUND = { 404: ["namespace_not_found"] };
const JSON_BODY = { 413: ["body_too_large"], 415: ["unsupported_media_type"] };

const header = (schema: Schema, description: string, required = true) => ({ schema, description, required });
/** Integer seconds (RFC 9110 also allows an HTTP date, which Tally never sends). */
const retryAfter = (description: string, maximum?: number) =>
  header({ type: "integer", minimum: 1, ...(maximum === undefined ? {} : { maximum }) }, description);

/** The longest Retry-After of `429 too_many_pending`: the seconds until the earliest pending event
 * is due, and an event is stamped at most 5 minutes ahead (docs/api.md, "Future-stamped events"). */
const MAX_PENDING_RETRY_SECONDS = 300;

/** The longest Retry-After of `429 rate_limited`: quotas count one-minute windows. */
const MAX_QUOTA_RETRY_SECONDS = 60;

const rateLimitedSchema = errorSchema(["rate_limited"], {
  limit: { enum: ["requestsPerMinute", "eventsPerMinute", "keyLookups"], description: "The limit spent (keyLookups: lookups of unknown keys from one address)." },
  retryAfterSeconds: { type: "integer", minimum: 1, maximum: MAX_QUOTA_RETRY_SECONDS },
});

/** Any request made with a key that has limits may be refused so (docs/api.md v1.2, "Quotas"). */
const RATE_LIMITED = {
  description: "A key's quota is spent for this minute, or its address looked up too many unknown keys: nothing of the request was recorded.",
  headers: { "Retry-After": retryAfter("Seconds until the next minute starts.", MAX_QUOTA_RETRY_SECONDS) },
  content: { "application/json": { schema: rateLimitedSchema } },
};

const TOO_MANY_PENDING = {
  description:
    `The namespace would hold more than ${MAX_PENDING_EVENTS} pending (future-stamped) events, or a quota of the key or ` +
    "the namespace is spent (`rate_limited`): the whole batch is refused and nothing of it is kept, so it can be " +
    "retried under the same batchId once Retry-After has passed.",
  headers: { "Retry-After": retryAfter("Seconds until the earliest pending event is due, or the next minute.", MAX_PENDING_RETRY_SECONDS) },
  content: {
    "application/json": {
      schema: {
        oneOf: [
          errorSchema(["too_many_pending"], {
            limit: { const: MAX_PENDING_EVENTS, description: "The cap on pending events." },
            pending: { type: "integer", minimum: 0, description: "The events the namespace holds pending now." },
          }),
          rateLimitedSchema,
        ],
      },
    },
  },
};

/** Every route of docs/api.md. */
export const OPERATIONS: Operation[] = [
  {
    method: "get", path: "/healthz", summary: "Liveness", tag: "service", scope: "public", ok: { 200: ["Health", "Always ok."] },
    description: "Answers `{\"ok\": true}` while the Worker runs. Touches no object, KV or cache, so it says nothing of a namespace's health (see `GET .../cache`).",
  },
  {
    method: "get", path: "/openapi.json", summary: "This description", tag: "service", scope: "public", ok: { 200: [null, "OpenAPI 3.1 JSON."] },
    description: "The OpenAPI 3.1 description of every route, built from the same constants as the service's own validation. Every answer the service gives validates against it.",
  },
  {
    method: "get", path: "/", summary: "The dashboard page", tag: "service", scope: "public", ok: { 200: [null, "HTML."] },
    description: "The dashboard for people, served as static assets; `?ns=` opens a namespace. It reads the same API as any client.",
  },
  {
    method: "get", path: "/docs", summary: "This API reference page", tag: "service", scope: "public", ok: { 200: [null, "HTML."] },
    description: "This description rendered for people, served as static assets from this origin (no request leaves it).",
  },
  {
    method: "post", path: `${NS}/events`, summary: "Ingest a batch of events", tag: "ingest", scope: "ingest",
    description:
      "All or nothing: every event is validated before any is counted, and the events are durable before the answer. " +
      "Idempotent by `batchId` (or `Idempotency-Key`): a retry within 24 hours answers 200 and counts nothing again. " +
      "A refused batch is not recorded under its id. The first accepted event of a namespace creates it.",
    parameters: ["ns", "IdempotencyKey"], body: "Batch", object: true,
    ok: { 202: ["IngestResult", "Accepted and durable."], 200: ["IngestResult", "A retry of a batch already accepted: nothing counted again."] },
    errors: { 400: ["invalid_namespace", "invalid_json", "invalid_batch", "invalid_event"], 413: ["batch_too_large", "body_too_large"], 415: ["unsupported_media_type"] },
    refusals: { 429: TOO_MANY_PENDING },
  },
  {
    method: "get", path: `${NS}/trending`, summary: "Trending items", tag: "reads", scope: "read", cached: true, object: true,
    description:
      "The top items of a window by `rank`: `top` (score in the window), `rising` (growth against the preceding period) " +
      "`hot` (exponentially decayed score) or `reach` (v1.5: distinct actors of the item). Served from precomputed snapshots through the cache layers. " +
      "(v1.7) With `segment=<dimension>:<value>`, the same ranking over only the events with that value (ranks top, rising and hot; every type, so no `type`), " +
      "with `floor`: no item absent from the list scores above it.",
    parameters: ["ns", "trendingWindow", "limit", "type", "rank", "minScore", "compare", "segment", "IfNoneMatch"],
    ok: { 200: ["TrendingAnswer", "The ranking; with `segment`, the segment's (with `segment` and `floor`)."] },
    errors: { 400: [...READ_400, "invalid_window", "invalid_rank", "invalid_type", "invalid_limit", "invalid_min_score", "invalid_compare", ...SEGMENT_400], 404: ["namespace_not_found", "not_in_layer"] },
  },
  {
    method: "get", path: `${NS}/stats`, summary: "Stats of a window", tag: "reads", scope: "read", cached: true, object: true,
    description:
      "Totals, unique item and actor counts, per-type totals and the series of a window. Served from precomputed snapshots through the cache layers. " +
      "(v1.7) With `segment=<dimension>:<value>`, the segment's events, weight (upper bounds, with their `error`), items held and series; no `compare`.",
    parameters: ["ns", "statsWindow", "compare", "segment", "IfNoneMatch"], ok: { 200: ["StatsAnswer", "The stats; with `segment`, the segment's."] },
    errors: { 400: [...READ_400, "invalid_window", "invalid_compare", ...SEGMENT_400], 404: ["namespace_not_found", "not_in_layer"] },
  },
  {
    method: "get", path: `${NS}/dimensions/{dimension}`, summary: "A dimension's top values", tag: "reads", scope: "read", cached: true, object: true,
    description:
      "(v1.7) The values of a declared dimension with the most weight in the window, each with its events and weight (upper bounds, with their errors), " +
      "ordered by weight descending, then value. The answer holds the top maxLimit values; `limit` pages through them and `cursor` continues " +
      "(null on the last page). `floor` bounds the weight of any value not listed. Precomputed for every configured window.",
    parameters: ["ns", "dimension", "statsWindow", "limit", "breakdownCursor", "IfNoneMatch"], ok: { 200: ["DimensionPage", "A page of the breakdown."] },
    errors: { 400: [...READ_400, "invalid_window", "invalid_limit", "invalid_cursor", "invalid_dimension"], 404: ["namespace_not_found", "not_in_layer"] },
  },
  {
    method: "get", path: `${NS}/dashboard`, summary: "The dashboard", tag: "reads", scope: "read", cached: true, object: true,
    description: "Every configured window's stats, top 10 and hot 10 in one answer, as the dashboard page shows them; (v1.7) with declared dimensions, each dimension's top 10 values too.",
    parameters: ["ns", "IfNoneMatch"], ok: { 200: ["Dashboard", "The dashboard."] },
    errors: { 400: READ_400, 404: ["namespace_not_found", "not_in_layer"] },
  },
  {
    method: "get", path: `${NS}/live`, summary: "Follow an answer live (WebSocket)", tag: "live", scope: "read", object: true, websocket: true,
    description:
      "Opens a WebSocket (`Upgrade: websocket`) that receives the answer of a read, then one message per change of it: " +
      "the same JSON as the GET, plus `\"kind\": \"answer\"`. `answer` chooses the read (trending, stats or dashboard), " +
      "with that read's parameters. A browser offers its read token as the subprotocol `tally.token.<token>` beside " +
      `\`${LIVE_PROTOCOL}\`, which the answer selects. A socket that sends \`ping\` gets \`{"kind":"pong"}\`. ` +
      `A relay holds up to ${MAX_SOCKETS_PER_RELAY} sockets, a namespace up to ${MAX_RELAYS} relays.`,
    parameters: ["ns", "liveAnswer", "liveWindow", "limit", "type", "rank", "minScore", "compare", "segment", "Upgrade", "SecWebSocketProtocol"],
    ok: { 101: [null, "Switching protocols: the socket is open, and its first message is the current answer."] },
    errors: { 400: ["invalid_namespace", "invalid_answer", "invalid_window", "invalid_rank", "invalid_type", "invalid_limit", "invalid_min_score", "invalid_compare", ...SEGMENT_400], ...NOT_FOUND },
    refusals: {
      503: {
        description: "The namespace's object cannot be reached (`unavailable`), or the namespace holds the most sockets it may (`live_full`).",
        headers: { "Retry-After": retryAfter("Seconds to wait before opening again.") },
        content: { "application/json": { schema: errorSchema(["unavailable", "live_full"]) } },
      },
      426: {
        description: "Not a WebSocket handshake: read with GET, or open a socket.",
        headers: { Upgrade: header({ const: "websocket" }, "The protocol to upgrade to.") },
        content: { "application/json": { schema: errorSchema(["upgrade_required"]) } },
      },
    },
  },
  {
    method: "get", path: `${NS}/config`, summary: "Read the config", tag: "admin", scope: "admin", object: true,
    description: "The namespace's config; a namespace that never had one set answers the defaults.",
    parameters: ["ns"], ok: { 200: ["Config", "The config."] }, errors: { 400: ["invalid_namespace"] },
  },
  {
    method: "put", path: `${NS}/config`, summary: "Replace the config", tag: "admin", scope: "admin", object: true,
    description: "Replaces the whole config: omitted fields take their defaults. Every field is validated, and a config whose worst case would not fit the object's memory budget is refused.",
    parameters: ["ns"], body: "ConfigInput", ok: { 200: ["Config", "The config now in force."] },
    errors: { 400: ["invalid_namespace", "invalid_json", "invalid_config"], ...JSON_BODY },
  },
  {
    method: "post", path: `${NS}/refresh`, summary: "Refresh now", tag: "admin", scope: "admin", object: true,
    description: "Precomputes every snapshot now instead of at the next refresh period, and answers once the new snapshots are in place.",
    parameters: ["ns"], ok: { 200: ["RefreshResult", "Refreshed."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "post", path: `${NS}/invalidate`, summary: "Invalidate cached answers", tag: "admin", scope: "admin", object: true,
    description: "Drops every cached answer of the namespace, bumps its generation (so older ETags no longer match) and recomputes.",
    parameters: ["ns"], ok: { 200: ["InvalidateResult", "The new generation."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "get", path: `${NS}/cache`, summary: "Cache report", tag: "admin", scope: "admin", object: true,
    description: "Hit and miss counts per cache layer, the last refresh and checkpoint, storage and memory use, and the lag of each ingest shard.",
    parameters: ["ns"], ok: { 200: ["CacheReport", "The report."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "delete", path: NS, summary: "Erase a namespace", tag: "admin", scope: "admin", object: true,
    description: "Erases the namespace's events, config, suppressions and cached answers; its reads answer 404 afterwards.",
    parameters: ["ns"], ok: { 200: ["DeleteResult", "Erased."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "get", path: "/v1/namespaces", summary: "List namespaces", tag: "namespaces", scope: "admin", object: true,
    description: "The namespaces that hold data, in name order, a page at a time; `cursor` continues the listing and is null on the last page.",
    parameters: ["cursor", "prefix", "pageLimit"], ok: { 200: ["NamespaceList", "A page; `cursor` is null on the last."] },
    errors: { 400: ["invalid_cursor", "invalid_prefix", "invalid_limit"] },
  },
  {
    method: "get", path: `${NS}/suppressions`, summary: "List suppressed items", tag: "moderation", scope: "admin", object: true,
    description: "The suppressed items in ascending order, with the time each was suppressed, a page at a time.",
    parameters: ["ns", "cursor", "pageLimit"], ok: { 200: ["Suppressions", "One page, items in ascending order."] },
    errors: { 400: ["invalid_namespace", "invalid_limit"], ...NOT_FOUND },
  },
  {
    method: "put", path: `${NS}/suppressions/{item}`, summary: "Suppress an item", tag: "moderation", scope: "admin", object: true,
    description: "Hides an item from every ranking (its events still count in stats). Suppressing it again keeps its first time.",
    parameters: ["ns", "item"],
    ok: { 201: ["SuppressionChange", "Suppressed."], 200: ["SuppressionChange", "Already suppressed: its first time is kept."] },
    errors: { 400: ["invalid_namespace", "invalid_item"], ...NOT_FOUND, 409: ["too_many_suppressions"] },
  },
  {
    method: "delete", path: `${NS}/suppressions/{item}`, summary: "Unsuppress an item", tag: "moderation", scope: "admin", object: true,
    description: "Shows a suppressed item in rankings again; an item that was not suppressed answers the same.",
    parameters: ["ns", "item"], ok: { 200: ["SuppressionChange", "Shown again (or was not suppressed)."] },
    errors: { 400: ["invalid_namespace", "invalid_item"], ...NOT_FOUND },
  },
  {
    method: "get", path: `${NS}/webhooks`, summary: "List webhooks", tag: "webhooks", scope: "admin", object: true,
    description: "Every webhook of the namespace with its last delivery, the messages waiting, since when it fails, and whether it is paused. Secrets are never listed.",
    parameters: ["ns"], ok: { 200: ["WebhookList", "The webhooks."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "put", path: `${NS}/webhooks/{id}`, summary: "Create or replace a webhook", tag: "webhooks", scope: "admin", object: true,
    description:
      `Creates a webhook (at most ${MAX_WEBHOOKS} per namespace) and answers its signing secret, once; replacing one keeps its secret, ` +
      "and starts it again unpaused from the current answers. Messages are signed per Standard Webhooks and retried for 24 hours.",
    parameters: ["ns", "webhookId"], body: "WebhookInput",
    ok: { 201: ["WebhookPut", "Created: `secret` is in this answer only."], 200: ["WebhookPut", "Replaced: its secret is kept."] },
    errors: { 400: ["invalid_namespace", "invalid_webhook_id", "invalid_json", "invalid_webhook"], ...NOT_FOUND, 409: ["too_many_webhooks"], ...JSON_BODY },
  },
  {
    method: "get", path: `${NS}/webhooks/{id}`, summary: "Read a webhook", tag: "webhooks", scope: "admin", object: true,
    description: "One webhook, as the list shows it.",
    parameters: ["ns", "webhookId"], ok: { 200: ["Webhook", "The webhook."] },
    errors: { 400: ["invalid_namespace", "invalid_webhook_id"], 404: ["namespace_not_found", "webhook_not_found"] },
  },
  {
    method: "delete", path: `${NS}/webhooks/{id}`, summary: "Delete a webhook", tag: "webhooks", scope: "admin", object: true,
    description: "Deletes the webhook and the messages it has waiting.",
    parameters: ["ns", "webhookId"], ok: { 200: ["WebhookDeleted", "Deleted."] },
    errors: { 400: ["invalid_namespace", "invalid_webhook_id"], 404: ["namespace_not_found", "webhook_not_found"] },
  },
  {
    method: "get", path: `${NS}/export`, summary: "Export a namespace", tag: "transfer", scope: "admin", object: true,
    description: "A complete, versioned copy of the namespace's state. Keep the document as it came: any change to it makes the import refuse it.",
    parameters: ["ns"], ok: { 200: ["ExportDocument", "The document."] }, errors: { 400: ["invalid_namespace"], ...NOT_FOUND },
  },
  {
    method: "post", path: `${NS}/import`, summary: "Import a namespace", tag: "transfer", scope: "admin", object: true,
    description: "Restores an export into an empty namespace (one that only has a config counts as empty). The whole document is validated before anything is written; the target keeps its own generation.",
    parameters: ["ns"], body: "ExportDocument", ok: { 200: ["ImportResult", "Imported: the namespace now answers as the exported one."] },
    errors: { 400: ["invalid_namespace", "invalid_export"], 409: ["namespace_not_empty"], ...JSON_BODY },
  },
  {
    method: "post", path: "/v1/keys", summary: "Create a key", tag: "keys", scope: "admin", object: true,
    description:
      "Makes a key for some scopes and either a list of namespaces or every namespace starting with a prefix, " +
      "optionally expiring and with per-minute limits. The key itself is in this answer only: only its hash is stored. Root ADMIN_TOKEN only.",
    body: "KeyInput", ok: { 201: ["CreatedKey", "Created: keep `key`, it is never shown again."] },
    errors: { 400: ["invalid_json", "invalid_key_request"], 409: ["too_many_keys"], 415: ["unsupported_media_type"] },
  },
  {
    method: "get", path: "/v1/keys", summary: "List keys", tag: "keys", scope: "admin", object: true,
    description: "Every key, revoked ones for 30 days, without secrets, with `lastUsedAt`. Root ADMIN_TOKEN only.",
    ok: { 200: ["KeyList", "The keys."] },
  },
  {
    method: "delete", path: "/v1/keys/{id}", summary: "Revoke a key", tag: "keys", scope: "admin", object: true,
    description: "Revokes a key: refused at once in the data centre that answered, everywhere within 30 s. Revoking it again answers the same. Root ADMIN_TOKEN only.",
    parameters: ["keyId"], ok: { 200: ["Key", "Revoked."] }, errors: { 400: ["invalid_key_id"], 404: ["key_not_found"] },
  },
  {
    method: "get", path: "/v1/audit", summary: "The service's audit log", tag: "audit", scope: "admin", object: true,
    description: "Keys created and revoked, and namespaces erased, newest first, a page at a time. Root ADMIN_TOKEN only.",
    parameters: ["cursor", "auditLimit"], ok: { 200: ["AuditPage", "A page; `cursor` is null on the last."] },
    errors: { 400: ["invalid_cursor", "invalid_limit"] },
  },
  {
    method: "get", path: `${NS}/audit`, summary: "A namespace's audit log", tag: "audit", scope: "admin", object: true,
    description: "Every admin action on the namespace (config, refresh, invalidate, suppressions, import), newest first, a page at a time.",
    parameters: ["ns", "cursor", "auditLimit"], ok: { 200: ["NamespaceAuditPage", "A page; `cursor` is null on the last."] },
    errors: { 400: ["invalid_namespace", "invalid_cursor", "invalid_limit"] },
  },
  {
    method: "get", path: "/embed", summary: "An embeddable list", tag: "sharing", scope: "public", object: true,
    description:
      "A small HTML page showing one ranking, for an <iframe>. Frameable only by the namespace's `embedAncestors` (its own CSP). " +
      "The list is read in the browser, with the read key of the URL's fragment (`#key=`) when reads need one.",
    parameters: ["embedNs", "trendingWindow", "rank", "embedLimit"], ok: { 200: [null, "HTML."] },
    errors: { 400: ["invalid_namespace", "invalid_window", "invalid_rank", "invalid_limit"] },
  },
];

const READ_HEADERS = {
  "X-Cache": header({ enum: ["HIT-EDGE", "HIT-KV", "HIT-DO", "MISS"] }, "The layer that answered; MISS: computed while the client waited."),
  ETag: header({ type: "string" }, "Identifies the answer's bytes (generation, computedAt, limit, minScore, compare)."),
  "Cache-Control": header({ type: "string", pattern: "max-age=\\d+" }, "max-age no longer than the refresh period."),
  "X-Generation": header({ type: "string", pattern: "^\\d+$" }, "The namespace's generation."),
  "X-Computed-At": header({ type: "string", pattern: "^\\d+$" }, "The snapshot's computedAt, epoch ms."),
  "X-Declared-Types": header({ type: "string" }, "The namespace's declared types, comma-separated: the values `type=` accepts."),
  "X-Stale": header({ const: "true" }, "Present when older than max-age and being revalidated.", false),
};

const query = (name: string, schema: Schema, description: string) => ({ name, in: "query", required: false, schema, description });
const PARAMETERS: Record<string, Schema> = {
  ns: { name: "ns", in: "path", required: true, schema: ref("Namespace"), description: "The namespace: its own data, config and cache." },
  item: { name: "item", in: "path", required: true, schema: { type: "string", minLength: 1 }, description: "URL-encoded item." },
  trendingWindow: query("window", { ...ref("Window"), default: "1h" }, "One of the supported windows."),
  statsWindow: query("window", { ...ref("Window"), default: "24h" }, "One of the supported windows."),
  limit: query("limit", { type: "integer", minimum: 1, default: 10 }, "1 to the namespace's maxLimit."),
  type: query("type", { type: "string" }, "One of the namespace's declared types; omitted means all types."),
  rank: query("rank", { ...ref("Rank"), default: "top" }, "top, rising, hot or reach (v1.5)."),
  cursor: query("cursor", { type: "string" }, "Continues a listing."),
  minScore: query("minScore", { type: "number", minimum: 0, default: 0 }, "Items scoring below this are left out (rankings)."),
  compare: query(
    "compare",
    ref("Compare"),
    "(v1.4) Trending and stats: also answer the period compared with (`previous`, or `week` for window=24h; 400 invalid_compare otherwise). Omitted: no comparison.",
  ),
  segment: query(
    "segment",
    { type: "string", minLength: 3 },
    "(v1.7) Trending and stats: `<dimension>:<value>`, URL-encoded (e.g. `tag:cats`, `category:sci%2Ffi`): only the events with that value of a declared dimension. " +
      "Trending takes rank top, rising or hot with it, and no `type`; stats take no `compare` with it (400 invalid_segment, invalid_dimension, invalid_compare).",
  ),
  dimension: { name: "dimension", in: "path", required: true, schema: { type: "string", pattern: DIMENSION_PATTERN.source }, description: "(v1.7) One of the namespace's declared dimensions." },
  breakdownCursor: query("cursor", { type: "string" }, "The `cursor` of the page before; omitted, the first page (400 invalid_cursor if it is not one Tally gave)."),
  liveAnswer: query("answer", { enum: [...LIVE_ANSWERS], default: "trending" }, "The read to follow."),
  liveWindow: query("window", ref("Window"), "One of the supported windows (default: the read's own, 1h for trending, 24h for stats)."),
  Upgrade: { name: "Upgrade", in: "header", required: true, schema: { const: "websocket" }, description: "A WebSocket handshake." },
  SecWebSocketProtocol: {
    name: "Sec-WebSocket-Protocol", in: "header", required: false, schema: { type: "string" },
    description: `Offer \`${LIVE_PROTOCOL}\`, and the read token as \`${LIVE_TOKEN_PROTOCOL_PREFIX}<token>\` where a browser cannot send Authorization. Never logged.`,
  },
  webhookId: { name: "id", in: "path", required: true, schema: { type: "string", pattern: WEBHOOK_ID_PATTERN.source }, description: "The webhook's id, chosen by the admin." },
  pageLimit: query("limit", { type: "integer", minimum: 1, maximum: 1000, default: 100 }, "Entries per page."),
  prefix: query("prefix", { type: "string" }, "Only namespaces starting with this."),
  keyId: { name: "id", in: "path", required: true, schema: { type: "string", pattern: "^[0-9a-f]{16}$" }, description: "The key's id." },
  auditLimit: query("limit", { type: "integer", minimum: 1, maximum: 1000, default: 100 }, "Entries per page."),
  embedNs: { name: "ns", in: "query", required: true, schema: ref("Namespace"), description: "The namespace whose list is shown." },
  embedLimit: query("limit", { type: "integer", minimum: 1, maximum: EMBED_MAX_LIMIT, default: 10 }, "Items shown."),
  IfNoneMatch: { name: "If-None-Match", in: "header", required: false, schema: { type: "string" }, description: "An ETag; a match answers 304." },
  IdempotencyKey: {
    name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", minLength: 1, maxLength: 128 },
    description: "Equivalent to batchId; if both are sent they must be equal.",
  },
};

const jsonContent = (schema: Schema) => ({ "application/json": { schema } });

function errorResponse(codes: string[], description: string, headers?: Record<string, unknown>) {
  return { description, ...(headers ? { headers } : {}), content: jsonContent(errorSchema(codes)) };
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
  Object.assign(out, op.refusals);
  if (op.scope === "read" || op.scope === "ingest" || op.scope === "admin") {
    out["401"] = errorResponse(["unauthorized"], "No token or an unknown one.", { "WWW-Authenticate": header({ type: "string" }, "Bearer.") });
    out["403"] = errorResponse(["forbidden"], "The token lacks the scope, a key its namespace, or the operation's token is not configured.");
    out["429"] ??= RATE_LIMITED;
  }
  if (op.object && !out["503"]) {
    out["503"] = errorResponse(["unavailable"], "The namespace's object cannot be reached.", {
      "Retry-After": retryAfter("Seconds to wait before retrying."),
    });
  }
  out["500"] = errorResponse(["internal"], "The service failed; no stack trace is ever sent.");
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
    tags: [TAGS[op.tag].name],
    summary: op.summary,
    description: op.description,
    operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "By_$1").replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    security: SECURITY[op.scope],
    ...(op.parameters ? { parameters: op.parameters.map((p) => ({ $ref: `#/components/parameters/${p}` })) } : {}),
    ...(op.body ? { requestBody: { required: true, content: jsonContent(ref(op.body)) } } : {}),
    responses: responses(op),
    ...(op.scope === "public" ? {} : { "x-tally-scope": op.scope }),
    ...(op.websocket ? { "x-tally-websocket": true } : {}),
  };
}

/**
 * The answers to requests that match no operation: an unknown route, or a known path with a method
 * it does not serve. OpenAPI has no place for a response that belongs to no operation, and a
 * component that no operation references is flagged by both linters, so they live under an
 * extension; test/support/openapi.ts validates those answers against them like any other.
 */
const UNROUTED_RESPONSES = {
  NotFound: errorResponse(["not_found"], "No such route."),
  MethodNotAllowed: errorResponse(["method_not_allowed"], "Another method is served here.", {
    Allow: header({ type: "string" }, "The methods served at this path."),
  }),
};

/** The whole description. Built once per isolate, on its first request. */
export function describeApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  return {
    openapi: "3.1.0",
    info: {
      title: "Tally",
      version: "1.7",
      summary: "Trending and dashboard aggregation on Cloudflare Workers and Durable Objects.",
      description:
        "Trending and dashboard aggregation. Every error is `{\"error\": {\"code\", \"message\", ...details}}`. " +
        `Windows: ${WINDOWS.join(", ")}; ranks: ${RANKS.join(", ")}; cache layers: ${LAYERS.join(", ")}. ` +
        `Ingest and config bodies are limited to ${MAX_BODY_BYTES} bytes. Any unknown route answers 404 \`not_found\`, ` +
        "a known path with another method 405 `method_not_allowed` with `Allow` (`x-tally-unrouted-responses`).",
      license: { name: "MIT", identifier: "MIT" },
    },
    // Relative to where this description is served: each deployment is its own origin.
    servers: [{ url: "/", description: "The origin serving this description." }],
    tags: Object.values(TAGS),
    paths,
    components: {
      schemas: SCHEMAS,
      parameters: PARAMETERS,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN, INGEST_TOKEN, READ_TOKEN or an API key (tk_...)." } },
    },
    "x-tally-unrouted-responses": UNROUTED_RESPONSES,
  };
}

let described: string | undefined;
/** The description's JSON text, built on first use (no start-up cost for other requests). */
export function openApiJson(): string {
  return (described ??= JSON.stringify(describeApi()));
}
