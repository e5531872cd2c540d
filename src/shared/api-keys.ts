/**
 * API keys (docs/api.md, "Keys"): their public shape, the one text format of a key, how a secret
 * is hashed and compared, and the door check of a new key's request. Shared by the Worker, which
 * authenticates with them, and the registry, which stores them; built and parsed here only.
 *
 * A key reads `tk_<id>_<secret>`. The id is not secret: it names the key in lists, in the audit
 * log and in the registry's table. The secret is 32 random bytes; only its SHA-256 is stored, so
 * the stored state can never give a key back, and a guess must be a guess of 256 bits.
 */
import { NAMESPACE_PATTERN, type QuotaLimits } from "./contract";
import { invalid } from "./errors";
import { parseLimits } from "./quota-limits";

export type KeyScope = "ingest" | "read" | "admin";
export const KEY_SCOPES: readonly KeyScope[] = ["ingest", "read", "admin"];

/** What a scope lets a key do: admin also ingests and reads, ingest also reads, as the
 * environment tokens always did. */
export const GRANTS: Record<KeyScope, readonly KeyScope[]> = {
  admin: ["admin", "ingest", "read"],
  ingest: ["ingest", "read"],
  read: ["read"],
};

export type { QuotaLimits };

/** A key as it is listed: everything but its secret, which exists only in the answer that made it. */
export interface ApiKey {
  id: string;
  label: string;
  scopes: KeyScope[];
  /** The namespaces it may touch: a list, or every name starting with `prefix` (one of the two). */
  namespaces: string[] | null;
  prefix: string | null;
  limits: QuotaLimits;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /** Updated at most once a minute per Worker isolate (docs/api.md, "Keys"), so it may lag by that. */
  lastUsedAt: string | null;
}

/** What the Worker needs to authorise a request made with a key: its rights and its secret's hash. */
export interface KeyGrant {
  id: string;
  scopes: KeyScope[];
  namespaces: string[] | null;
  prefix: string | null;
  limits: QuotaLimits;
  expiresAt: number | null;
  revokedAt: number | null;
  /** SHA-256 of the secret. */
  hash: ArrayBuffer;
}

/** A validated `POST /v1/keys` body. */
export interface NewKey {
  label: string;
  scopes: KeyScope[];
  namespaces: string[] | null;
  prefix: string | null;
  limits: QuotaLimits;
  expiresAt: number | null;
}

const ID_HEX = 16;
const SECRET_BYTES = 32;
/** `tk_`, 16 hex characters of id, `_`, 43 base64url characters of secret. */
const KEY_FORMAT = /^tk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
export const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;
export const KEY_PREFIX = "tk_";

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** A new key: its id, its secret and the text given to the caller once. */
export function mintKey(): { id: string; secret: string; key: string } {
  const id = hex(crypto.getRandomValues(new Uint8Array(ID_HEX / 2)));
  const secret = base64url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
  return { id, secret, key: `${KEY_PREFIX}${id}_${secret}` };
}

/** The id and secret of a presented key, or null when it is not of the key format at all. */
export function parseKey(presented: string): { id: string; secret: string } | null {
  const match = KEY_FORMAT.exec(presented);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

export function hashSecret(secret: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
}

const DIGEST_BYTES = 32;

/**
 * Constant-time equality of two SHA-256 digests (crypto.subtle.timingSafeEqual, workerd's own).
 * Both are always full 32-byte digests, so its time depends on neither how many bytes agree nor
 * how long the presented secret was; a stored digest of another length (corrupt) compares with
 * itself, taking the same time, and answers false.
 */
export function sameDigest(presented: ArrayBuffer, stored: ArrayBuffer): boolean {
  const valid = stored.byteLength === DIGEST_BYTES && presented.byteLength === DIGEST_BYTES;
  const other = valid ? stored : presented;
  return crypto.subtle.timingSafeEqual(presented, other) && valid;
}

/** Whether `grant` lets a request of `scope` touch `namespace` (null: a route of no namespace,
 * which only the root keys may use). */
export function permits(grant: Pick<KeyGrant, "scopes" | "namespaces" | "prefix">, scope: KeyScope, namespace: string | null): boolean {
  if (!grant.scopes.some((held) => GRANTS[held].includes(scope))) return false;
  if (namespace === null) return false;
  if (grant.namespaces !== null) return grant.namespaces.includes(namespace);
  return grant.prefix !== null && namespace.startsWith(grant.prefix);
}

/** Bounds of a key request: enough for real use, small enough for one registry row. */
export const KEY_BOUNDS = {
  label: { max: 100 },
  namespaces: { max: 100 },
} as const;

const KEY_FIELDS = ["label", "scopes", "namespaces", "prefix", "expiresAt", "limits"];
const refuse = (field: string, message: string, allowed: unknown) => invalid("invalid_key_request", `${field}: ${message}`, { field, allowed });

/** Validates a `POST /v1/keys` body at the door (`400 invalid_key_request`, naming the field). */
export function parseNewKey(body: unknown, now: number): NewKey {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw refuse("body", "must be a JSON object.", KEY_FIELDS);
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).find((k) => !KEY_FIELDS.includes(k));
  if (unknown !== undefined) throw refuse(unknown, "is not a key field.", KEY_FIELDS);
  const { label, scopes, namespaces, prefix, expiresAt } = record;
  if (typeof label !== "string" || label.trim() === "" || label.length > KEY_BOUNDS.label.max) {
    throw refuse("label", `must be a non-empty string of at most ${KEY_BOUNDS.label.max} characters.`, { max: KEY_BOUNDS.label.max });
  }
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => KEY_SCOPES.includes(s)) || new Set(scopes).size !== scopes.length) {
    throw refuse("scopes", `must be a non-empty list of distinct scopes out of ${KEY_SCOPES.join(", ")}.`, KEY_SCOPES);
  }
  if ((namespaces === undefined) === (prefix === undefined)) throw refuse("namespaces", "give either namespaces or prefix, not both.", ["namespaces", "prefix"]);
  if (
    namespaces !== undefined &&
    (!Array.isArray(namespaces) || namespaces.length === 0 || namespaces.length > KEY_BOUNDS.namespaces.max ||
      !namespaces.every((n) => typeof n === "string" && NAMESPACE_PATTERN.test(n)))
  ) {
    throw refuse("namespaces", `must be 1 to ${KEY_BOUNDS.namespaces.max} namespace names.`, { pattern: NAMESPACE_PATTERN.source, max: KEY_BOUNDS.namespaces.max });
  }
  // A prefix is the start of a namespace name, so it follows the same pattern.
  if (prefix !== undefined && (typeof prefix !== "string" || !NAMESPACE_PATTERN.test(prefix))) {
    throw refuse("prefix", "must be the start of a namespace name, such as \"app1-\".", { pattern: NAMESPACE_PATTERN.source });
  }
  let expires: number | null = null;
  if (expiresAt !== undefined && expiresAt !== null) {
    expires = typeof expiresAt === "string" && /^\d{4}-\d{2}-\d{2}T/.test(expiresAt) ? Date.parse(expiresAt) : Number.NaN;
    if (!Number.isFinite(expires) || expires <= now) throw refuse("expiresAt", "must be an ISO-8601 time in the future.", { format: "date-time" });
  }
  return {
    label,
    scopes: KEY_SCOPES.filter((s) => scopes.includes(s)),
    namespaces: namespaces === undefined ? null : [...new Set(namespaces as string[])],
    prefix: prefix === undefined ? null : (prefix as string),
    limits: parseLimits(record.limits, "limits"),
    expiresAt: expires,
  };
}
