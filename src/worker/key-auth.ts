/**
 * Authentication with API keys (docs/api.md, "Keys"): a presented `tk_<id>_<secret>` is looked up
 * by its id, then its secret's SHA-256 is compared in constant time with the stored one.
 *
 * Lookups are cached in the data centre's cache (caches.default) for at most KEY_CACHE_SECONDS,
 * so the registry sees a request per key and data centre every 30 s, not per request. That cache
 * is per data centre and `cache.delete` purges only the local one (Cache API), which is exactly
 * the revocation bound docs/api.md states: immediate in the data centre that revoked, everywhere
 * else within 30 s. The bound is also checked against the entry's own `fetchedAt`, so it holds
 * however long the cache keeps an entry. On a workers.dev address the Cache API keeps nothing
 * (Cache API: only custom domains have a functional cache), so every request with a key asks the
 * registry there: deploy on a custom domain (docs/operating.md).
 */
import { hashSecret, parseKey, sameDigest, type KeyGrant } from "../shared/api-keys";
import { TallyError } from "../shared/errors";
import { keyLookupUrl as cacheUrl } from "../shared/keys";
import { registryOf, valueOrThrow } from "../shared/rpc";

/** What a lookup needs of the request: to finish work after the answer. */
type Background = Pick<ExecutionContext, "waitUntil">;

export const KEY_CACHE_SECONDS = 30;
/** A key's lastUsedAt is reported at most this often by one isolate (coalesced, not per request). */
const USE_REPORT_MS = 60_000;


interface CachedGrant {
  fetchedAt: number;
  /** null: no key has this id. */
  grant: (Omit<KeyGrant, "hash"> & { hash: string }) | null;
}

const toBase64 = (buffer: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer;

/** The window of the KEY_LOOKUPS binding (wrangler.toml): a refused client retries after it. */
const LOOKUP_PERIOD_SECONDS = 60;

/** Client addresses refused for looking up unknown keys, until when (this isolate's memory). */
const refusedUntil = new Map<string, number>();
/** Beyond this many refused addresses, the expired ones are forgotten first. */
const REFUSED_HELD = 10_000;

const lookupsRefused = () =>
  new TallyError(
    429,
    "rate_limited",
    `Too many lookups of unknown keys from this address; retry in ${LOOKUP_PERIOD_SECONDS} s.`,
    { limit: "keyLookups", retryAfterSeconds: LOOKUP_PERIOD_SECONDS },
    { "Retry-After": String(LOOKUP_PERIOD_SECONDS) },
  );

/** Refuses an address that looked up too many unknown keys, before its lookup reaches the registry. */
function guardLookup(client: string | null, now: number): void {
  if (client !== null && (refusedUntil.get(client) ?? 0) > now) throw lookupsRefused();
}

/**
 * A lookup found no key: charged to the client's address on the KEY_LOOKUPS Rate Limiting binding
 * (fixed, approximate, per location: all a flood guard needs). Only unknown ids are charged, so a
 * client using real keys is never refused, even where the cache does not keep lookups. Past the
 * limit, the address is refused here without asking the registry for the rest of the period.
 * Every request from the internet carries CF-Connecting-IP; one without it (a service binding, a
 * test) is not a client that could flood.
 */
async function chargeUnknown(env: Env, client: string | null, now: number): Promise<void> {
  if (client === null) return;
  const { success } = await env.KEY_LOOKUPS.limit({ key: client });
  if (success) return;
  if (refusedUntil.size >= REFUSED_HELD) for (const [held, until] of refusedUntil) if (until <= now) refusedUntil.delete(held);
  if (refusedUntil.size < REFUSED_HELD) refusedUntil.set(client, now + LOOKUP_PERIOD_SECONDS * 1000);
  throw lookupsRefused();
}

async function cachedGrant(env: Env, ctx: Background, id: string, now: number, client: string | null): Promise<KeyGrant | null> {
  const cache = caches.default;
  const hit = await cache.match(cacheUrl(id));
  if (hit) {
    const held = (await hit.json()) as CachedGrant;
    if (now - held.fetchedAt <= KEY_CACHE_SECONDS * 1000 && now >= held.fetchedAt) {
      return held.grant && { ...held.grant, hash: fromBase64(held.grant.hash) };
    }
  }
  guardLookup(client, now);
  const grant = await valueOrThrow(registryOf(env).grantOf(id));
  if (grant === null) await chargeUnknown(env, client, now);
  const entry: CachedGrant = { fetchedAt: now, grant: grant && { ...grant, hash: toBase64(grant.hash) } };
  const response = new Response(JSON.stringify(entry), { headers: { "Cache-Control": `max-age=${KEY_CACHE_SECONDS}` } });
  ctx.waitUntil(cache.put(cacheUrl(id), response));
  return grant;
}

/** Drops this data centre's cached lookup of `id`: a revocation holds here at once. */
export async function forgetKey(id: string): Promise<void> {
  await caches.default.delete(cacheUrl(id));
}

/** When this isolate last reported each key's use to the registry. */
const reported = new Map<string, number>();

function noteUse(env: Env, ctx: Background, id: string, now: number): void {
  if (now - (reported.get(id) ?? Number.NEGATIVE_INFINITY) < USE_REPORT_MS) return;
  reported.set(id, now);
  // After the answer, and never failing it: lastUsedAt is a hint, not a record.
  ctx.waitUntil(valueOrThrow(registryOf(env).touchKeys({ [id]: now })).catch(() => reported.delete(id)));
}

/**
 * The grant of a presented key, or null when it is not a valid key now: malformed, unknown,
 * expired, revoked or with a wrong secret all answer null alike, so a caller cannot tell them
 * apart. The secret's hash is computed and compared even for an unknown id, so the time taken
 * does not say whether the id exists.
 */
export async function grantOfKey(env: Env, ctx: Background, presented: string, client: string | null, now = Date.now()): Promise<KeyGrant | null> {
  const parsed = parseKey(presented);
  if (parsed === null) return null;
  const [grant, digest] = await Promise.all([cachedGrant(env, ctx, parsed.id, now, client), hashSecret(parsed.secret)]);
  const matches = sameDigest(digest, grant?.hash ?? new ArrayBuffer(0));
  if (grant === null || !matches) return null;
  if (grant.revokedAt !== null || (grant.expiresAt !== null && grant.expiresAt <= now)) return null;
  noteUse(env, ctx, grant.id, now);
  return grant;
}
