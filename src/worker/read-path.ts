/**
 * The layered read path: the edge (this isolate's memory of hot answers, then the data centre's
 * cache, caches.default), then the KV mirror, then the namespace's object. Every layer's copy
 * carries its snapshot's `computedAt`, and freshness is judged from it: the Cache API ignores
 * stale-while-revalidate, so it is built here by hand.
 *
 * - age <= refreshSeconds: fresh, served as is;
 * - age <= refreshSeconds + staleSeconds: served with `X-Stale: true` while ctx.waitUntil
 *   revalidates it from the object (which keeps answering even while the object is down);
 * - older: not served; the next layer is asked.
 */
import type { Background, Layer, NamespaceDescriptor, ReadQuery, TrendingSnapshot } from "../shared/contract";
import { countRead, flushIfDue } from "./read-counts";
import { aggregatorOf, settle } from "./rpc";
import { answerCacheKey, mirrorKey, snapshotKey, type MirrorMetadata } from "../shared/keys";
import { TallyError } from "../shared/errors";
import { forget, keep, recall } from "./hot-answers";

export type CacheLabel = "HIT-EDGE" | "HIT-KV" | "HIT-DO" | "MISS";

/** Local-only: read through one layer alone (benchmarks). See `layerSwitch` in index.ts. */
export type LayerSwitch = "kv" | "do" | "compute";

export interface Read {
  namespace: string;
  query: ReadQuery;
  /** Items to keep of a ranking; null for answers without a limit. */
  limit: number | null;
  descriptor: NamespaceDescriptor;
}

/** An answer as one layer gives it, its body already cut to the read's limit. */
interface Answer {
  body: string;
  computedAt: number;
  generation: number;
  label: CacheLabel;
}

const COMPUTED_AT = "X-Computed-At";
const DECLARED_TYPES = "X-Declared-Types";

/** The data-centre cache key of a read. */
export function answerKeyOf(read: Read): string {
  return answerCacheKey(read.namespace, read.descriptor.generation, read.query, read.limit);
}

/** Concurrent misses for one answer in one isolate share one upstream call. */
const inflight = new Map<string, Promise<Answer>>();

function coalesce(key: string, load: () => Promise<Answer>): Promise<Answer> {
  let promise = inflight.get(key);
  if (!promise) {
    promise = load().finally(() => inflight.delete(key));
    inflight.set(key, promise);
  }
  return promise;
}

export async function serveRead(env: Env, ctx: Background, read: Read): Promise<Response> {
  const { namespace, descriptor } = read;
  const now = Date.now();
  const key = answerKeyOf(read);
  const atEdge = await fromEdge(key, descriptor, now);
  if (atEdge) {
    countRead(namespace, "edge", true);
    flushIfDue(env, ctx, namespace);
    if (isStale(atEdge, descriptor, now)) ctx.waitUntil(revalidate(env, read, key));
    return respond(atEdge, read, now);
  }
  countRead(namespace, "edge", false);
  const answer = await coalesce(key, () => fromUpstream(env, ctx, read, key));
  countUpstream(namespace, answer.label);
  flushIfDue(env, ctx, namespace);
  await keepAtEdge(key, answer, read, now);
  return respond(answer, read, now);
}

/** The edge layer: this isolate's hot answers, then the data centre's cache. Both hold the bytes
 * served (already cut to `limit`) and are judged by the same freshness rules. */
async function fromEdge(key: string, descriptor: NamespaceDescriptor, now: number): Promise<Answer | undefined> {
  const hot = recall(key);
  if (hot) {
    const answer: Answer = { ...hot, generation: descriptor.generation, label: "HIT-EDGE" };
    if (usable(answer, descriptor, now)) return answer;
  }
  const cached = await caches.default.match(key);
  if (!cached) return undefined;
  const answer: Answer = {
    body: await cached.text(),
    computedAt: Number(cached.headers.get(COMPUTED_AT)),
    generation: descriptor.generation,
    label: "HIT-EDGE",
  };
  if (!usable(answer, descriptor, now)) return undefined;
  keep(key, { body: answer.body, computedAt: answer.computedAt });
  return answer;
}

/** Drops an answer from both tiers of the edge in this isolate and data centre. */
export async function dropFromEdge(key: string): Promise<boolean> {
  forget(key);
  return caches.default.delete(key);
}

/** Which layers a read reached, by where its answer came from. */
function countUpstream(namespace: string, label: CacheLabel): void {
  const reached: [Layer, boolean][] =
    label === "HIT-KV" ? [["kv", true]] : [["kv", false], ["do", label === "HIT-DO"]];
  for (const [layer, hit] of reached) countRead(namespace, layer, hit);
}

/** KV, then the object. A stale KV copy is served while the object is asked behind it. */
async function fromUpstream(env: Env, ctx: Background, read: Read, key: string): Promise<Answer> {
  const fromKv = await readKv(env, read);
  if (fromKv && usable(fromKv, read.descriptor, Date.now())) {
    if (isStale(fromKv, read.descriptor, Date.now())) ctx.waitUntil(revalidate(env, read, key));
    return fromKv;
  }
  return readObject(env, read, false);
}

async function readKv(env: Env, read: Read): Promise<Answer | undefined> {
  const { namespace, descriptor, query } = read;
  const kvKey = mirrorKey(namespace, descriptor.generation, snapshotKey(query));
  const { value, metadata } = await env.SNAPSHOTS.getWithMetadata<MirrorMetadata>(kvKey, "text");
  if (value === null || !metadata) return undefined;
  const { computedAt, generation } = metadata;
  return { body: sliced(value, read.limit), computedAt, generation, label: "HIT-KV" };
}

async function readObject(env: Env, read: Read, compute: boolean): Promise<Answer> {
  const stub = aggregatorOf(env, read.namespace);
  const r = await settle(stub.read(read.query, compute ? { compute } : {}));
  return { body: sliced(r.body, read.limit), computedAt: r.computedAt, generation: r.generation, label: r.source };
}

/** Fetches the object's newest snapshot into the edge entry behind a stale answer. */
async function revalidate(env: Env, read: Read, key: string): Promise<void> {
  try {
    await keepAtEdge(key, await readObject(env, read, false), read, Date.now());
  } catch (error) {
    console.error(`revalidation of ${key} failed; the stale copy stays in use`, error);
  }
}

const ageOf = (a: Answer, now: number) => Math.max(0, now - a.computedAt);
const isStale = (a: Answer, d: NamespaceDescriptor, now: number) => ageOf(a, now) > d.refreshSeconds * 1000;
const usable = (a: Answer, d: NamespaceDescriptor, now: number) =>
  Number.isFinite(a.computedAt) &&
  a.computedAt >= (d.freshSince ?? 0) &&
  ageOf(a, now) <= (d.refreshSeconds + d.staleSeconds) * 1000;

/** Keeps `limit` items of a ranking; other answers are served whole. */
function sliced(body: string, limit: number | null): string {
  if (limit === null) return body;
  const snapshot = JSON.parse(body) as TrendingSnapshot;
  if (snapshot.items.length <= limit) return body;
  return JSON.stringify({ ...snapshot, items: snapshot.items.slice(0, limit) });
}

function respond(answer: Answer, read: Read, now: number): Response {
  const age = ageOf(answer, now);
  const { refreshSeconds, staleSeconds } = read.descriptor;
  const maxAge = Math.max(0, Math.floor(refreshSeconds - age / 1000));
  const headers = new Headers({
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": `public, max-age=${maxAge}, stale-while-revalidate=${staleSeconds}`,
    ETag: `"g${answer.generation}-${answer.computedAt}-${read.limit ?? "all"}"`,
    "X-Cache": answer.label,
    "X-Generation": String(answer.generation),
    [COMPUTED_AT]: String(answer.computedAt),
    // The types a `type=` filter accepts, so a client (the dashboard page) can offer exactly those.
    [DECLARED_TYPES]: read.descriptor.types.join(","),
  });
  if (isStale(answer, read.descriptor, now)) headers.set("X-Stale", "true");
  return new Response(answer.body, { headers });
}

/** Stores the answer at the edge, in memory and in the data centre's cache, for as long as it
 * stays usable. */
async function keepAtEdge(key: string, answer: Answer, read: Read, now: number): Promise<void> {
  const { refreshSeconds, staleSeconds } = read.descriptor;
  const ttl = Math.floor(refreshSeconds + staleSeconds - (now - answer.computedAt) / 1000);
  if (ttl <= 0) return;
  keep(key, { body: answer.body, computedAt: answer.computedAt });
  const headers = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": `public, max-age=${ttl}` };
  await caches.default.put(key, new Response(answer.body, { headers: { ...headers, [COMPUTED_AT]: String(answer.computedAt) } }));
}

/** Local-only: one layer alone, never counted and never stored at the edge. */
export async function serveThroughLayer(env: Env, read: Read, layer: LayerSwitch): Promise<Response> {
  const answer = layer === "kv" ? await readKv(env, read) : await readObject(env, read, layer === "compute");
  if (!answer) throw new TallyError(404, "not_in_layer", `The ${layer} layer holds no copy of this answer yet.`);
  return respond(answer, read, Date.now());
}
