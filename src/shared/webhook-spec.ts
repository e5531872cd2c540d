/**
 * Validation of a webhook's spec at the door (docs/api.md, "Webhooks"): every field is checked
 * here, before any object is touched; the object then checks what only it knows (the namespace's
 * windows and maxLimit).
 */
import { RANKS, TYPE_PATTERN, WEBHOOK_EVENTS, WEBHOOK_ID_PATTERN, WINDOWS, type WebhookSpec } from "./contract";
import { invalid } from "./errors";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const MAX_URL_LENGTH = 2048;

const refuse = (field: string, message: string, allowed?: unknown) =>
  invalid("invalid_webhook", message, allowed === undefined ? { field } : { field, allowed });

export function parseWebhookId(id: string): string {
  if (!WEBHOOK_ID_PATTERN.test(id)) throw invalid("invalid_webhook_id", `Webhook ids match ${WEBHOOK_ID_PATTERN.source}.`, { pattern: WEBHOOK_ID_PATTERN.source });
  return id;
}

/**
 * A receiver must be `https`. `allowLoopback` (local runs only: LOCAL_WEBHOOK_LOOPBACK in
 * .dev.vars) also admits `http` to this machine's loopback, for a receiver under test.
 */
function parseUrl(raw: unknown, allowLoopback: boolean): string {
  if (typeof raw !== "string" || raw.length > MAX_URL_LENGTH) throw refuse("url", `url must be a string of at most ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse("url", "url is not a URL.");
  }
  const loopback = LOOPBACK.has(url.hostname);
  if (loopback && !allowLoopback) throw refuse("url", "url may not point at a loopback address.");
  if (url.protocol !== "https:" && !(loopback && url.protocol === "http:")) throw refuse("url", "url must be https.");
  if (url.username || url.password) throw refuse("url", "url may not carry credentials; the signature authenticates Tally to the receiver.");
  return url.toString();
}

function positive(raw: unknown, field: string, min: number): number {
  if (typeof raw !== "number" || !Number.isFinite(raw) || raw < min) throw refuse(field, `${field} must be a number of at least ${min}.`);
  return raw;
}

export function parseWebhookSpec(body: unknown, allowLoopback: boolean): WebhookSpec {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw refuse("body", "The body must be a JSON object.");
  const b = body as Record<string, unknown>;
  const known = new Set(["url", "on", "window", "rank", "type", "limit", "spike"]);
  const unknown = Object.keys(b).find((k) => !known.has(k));
  if (unknown !== undefined) throw refuse(unknown, `Unknown field "${unknown}".`, [...known]);
  const url = parseUrl(b.url, allowLoopback);
  const on = b.on;
  if (!Array.isArray(on) || on.length === 0 || on.some((e) => !(WEBHOOK_EVENTS as readonly unknown[]).includes(e))) {
    throw refuse("on", `on must be a non-empty list of: ${WEBHOOK_EVENTS.join(", ")}.`, WEBHOOK_EVENTS);
  }
  const window = b.window ?? "1h";
  if (!(WINDOWS as readonly unknown[]).includes(window)) throw refuse("window", `window must be one of: ${WINDOWS.join(", ")}.`, WINDOWS);
  const rank = b.rank ?? "top";
  if (!(RANKS as readonly unknown[]).includes(rank)) throw refuse("rank", `rank must be one of: ${RANKS.join(", ")}.`, RANKS);
  const type = b.type ?? null;
  if (type !== null && (typeof type !== "string" || !TYPE_PATTERN.test(type))) throw refuse("type", `type must match ${TYPE_PATTERN.source}, or be null.`);
  const limit = b.limit ?? 10;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) throw refuse("limit", "limit must be an integer of at least 1.");
  const spike = (b.spike ?? {}) as Record<string, unknown>;
  if (typeof spike !== "object" || Array.isArray(spike)) throw refuse("spike", "spike must be an object {factor, minScore}.");
  const factor = positive(spike.factor ?? 3, "spike.factor", 1);
  const minScore = positive(spike.minScore ?? 0, "spike.minScore", 0);
  return { url, on: [...new Set(on as WebhookSpec["on"])], window: window as WebhookSpec["window"], rank: rank as WebhookSpec["rank"], type: type as string | null, limit, spike: { factor, minScore } };
}
