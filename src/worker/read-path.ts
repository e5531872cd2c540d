/**
 * The layered read path: this isolate's memory (isolate answers), then the edge (the data centre's
 * cache, caches.default), then the KV mirror, then the namespace's object. The contract counts the
 * first two as one layer, `edge`, and labels their answers `HIT-EDGE`. Every layer's copy
 * carries its snapshot's `computedAt`, and freshness is judged from it: the Cache API ignores
 * stale-while-revalidate, so it is built here by hand.
 *
 * - age <= refreshSeconds: fresh, served as is;
 * - age <= refreshSeconds + staleSeconds: served with `X-Stale: true` while ctx.waitUntil
 *   revalidates it from the object (which keeps answering even while the object is down);
 * - older: not served; the next layer is asked.
 */
import type { Background, CacheLabel, Layer, NamespaceDescriptor, ReadQuery, SerialisedAnswer } from "../shared/contract";
import { cutAnswer } from "../shared/answer-cut";
import type { ReadCounter } from "./read-counts";
import { aggregatorOf, valueOrThrow } from "../shared/rpc";
import { answerCacheKey, mirrorKey, snapshotKey, type MirrorMetadata } from "../shared/keys";
import { TallyError } from "../shared/errors";
import type { IsolateEntry, IsolateAnswers } from "./isolate-answers";

/** Local-only: read through one layer alone (benchmarks). See `layerSwitch` in index.ts. */
export type LayerSwitch = "kv" | "do" | "compute";

export interface Read {
  namespace: string;
  query: ReadQuery;
  /** Items to keep of a ranking; null for answers without a limit. */
  limit: number | null;
  /** Rankings only: items scoring below this are left out (0, the default: none). */
  minScore?: number;
  /** (v1.7) Breakdowns only: the values before this are the pages already read (cursor). */
  offset?: number;
  descriptor: NamespaceDescriptor;
  /** The request's If-None-Match header, if any. */
  ifNoneMatch?: string | undefined;
}

/** An answer as one layer gives it, its body already cut to the read's limit. */
interface LayerAnswer extends SerialisedAnswer {
  generation: number;
  label: CacheLabel;
}

/** What a response is made of: the body as text, or as the bytes the isolate keeps, and the ETag
 * if already made. */
type Served = Omit<LayerAnswer, "body"> & { body: string | Uint8Array; etag?: string };

const COMPUTED_AT = "X-Computed-At";
const JSON_TYPE = "application/json; charset=utf-8";
const DECLARED_TYPES = "X-Declared-Types";

/** (v1.7) Whether a read is of a segment: `/cache` reports their layers apart too. */
const isSegmentRead = ({ query }: Read) => (query.kind === "trending" || query.kind === "stats") && query.segment !== undefined;

/** The data-centre cache key of a read. */
export function answerKeyOf(read: Read): string {
  return answerCacheKey(read.namespace, read.descriptor.generation, read.query, read.limit, read.minScore, read.offset);
}

/** One isolate's read path: its isolate answers, its read counts, and its misses in flight.
 * index.ts makes one per isolate, a test its own. */
export class ReadPath {
  /** Concurrent misses for one answer in one isolate share one upstream call. */
  private readonly inflight = new Map<string, Promise<LayerAnswer>>();
  /** Answers being revalidated: every hit on a stale copy would otherwise ask the object again. */
  private readonly revalidating = new Set<string>();

  constructor(
    private readonly isolateAnswers: IsolateAnswers,
    private readonly counts: ReadCounter,
  ) {}

  async serve(env: Env, ctx: Background, read: Read): Promise<Response> {
    const { namespace, descriptor } = read;
    const now = Date.now();
    const key = answerKeyOf(read);
    const nearby = this.fromIsolateAnswers(key, descriptor, now) ?? (await this.fromEdge(key, read, now));
    const segment = isSegmentRead(read);
    if (nearby) {
      this.counts.count(namespace, "edge", true, segment);
      this.counts.flushIfDue(env, ctx, namespace);
      if (isStale(nearby, descriptor, now)) ctx.waitUntil(this.revalidate(env, read, key));
      return respond(nearby, read, now);
    }
    this.counts.count(namespace, "edge", false, segment);
    const answer = await this.coalesce(key, () => this.fromUpstream(env, ctx, read, key));
    this.countUpstream(namespace, answer.label, segment);
    this.counts.flushIfDue(env, ctx, namespace);
    await this.keepNearby(key, answer, read, now);
    return respond(answer, read, now);
  }

  /** Local-only: one layer alone, never counted and never stored in the isolate or at the edge. */
  async serveThroughLayer(env: Env, read: Read, layer: LayerSwitch): Promise<Response> {
    const answer = layer === "kv" ? await readKv(env, read) : await readObject(env, read, layer === "compute");
    if (!answer) throw new TallyError(404, "not_in_layer", `The ${layer} layer holds no copy of this answer yet.`);
    return respond(answer, read, Date.now());
  }

  /** Drops an answer from this isolate's memory and from the edge of this data centre. */
  async dropNearby(key: string): Promise<boolean> {
    this.isolateAnswers.drop(key);
    return caches.default.delete(key);
  }

  private coalesce(key: string, load: () => Promise<LayerAnswer>): Promise<LayerAnswer> {
    let promise = this.inflight.get(key);
    if (!promise) {
      promise = load().finally(() => this.inflight.delete(key));
      this.inflight.set(key, promise);
    }
    return promise;
  }

  /** This isolate's answers, without I/O. */
  private fromIsolateAnswers(key: string, descriptor: NamespaceDescriptor, now: number): Served | undefined {
    const kept = this.isolateAnswers.recall(key);
    if (!kept || !usable(kept, descriptor, now)) return undefined;
    return { body: kept.bytes, computedAt: kept.computedAt, etag: kept.etag, generation: descriptor.generation, label: "HIT-EDGE" };
  }

  /** The edge, the data centre's cache: the same bytes (already cut to `limit`), judged by the
   * same freshness rules; a usable answer is kept in the isolate too. */
  private async fromEdge(key: string, read: Read, now: number): Promise<LayerAnswer | undefined> {
    const { descriptor } = read;
    const cached = await caches.default.match(key);
    if (!cached) return undefined;
    const answer: LayerAnswer = {
      body: await cached.text(),
      computedAt: Number(cached.headers.get(COMPUTED_AT)),
      generation: descriptor.generation,
      label: "HIT-EDGE",
    };
    if (!usable(answer, descriptor, now)) return undefined;
    this.isolateAnswers.keep(key, isolateEntry(answer, read));
    return answer;
  }

  /** Which layers a read reached, by where its answer came from. */
  private countUpstream(namespace: string, label: CacheLabel, segment: boolean): void {
    const reached: [Layer, boolean][] =
      label === "HIT-KV" ? [["kv", true]] : [["kv", false], ["do", label === "HIT-DO"]];
    for (const [layer, hit] of reached) this.counts.count(namespace, layer, hit, segment);
  }

  /** KV, then the object. A stale KV copy is served while the object is asked behind it. */
  private async fromUpstream(env: Env, ctx: Background, read: Read, key: string): Promise<LayerAnswer> {
    const fromKv = await readKv(env, read);
    if (fromKv && usable(fromKv, read.descriptor, Date.now())) {
      if (isStale(fromKv, read.descriptor, Date.now())) ctx.waitUntil(this.revalidate(env, read, key));
      return fromKv;
    }
    return readObject(env, read, false);
  }

  /** Fetches the object's newest snapshot into the isolate's and the edge's entries behind a stale
   * answer, once at a time per answer in this isolate. */
  private async revalidate(env: Env, read: Read, key: string): Promise<void> {
    if (this.revalidating.has(key)) return;
    this.revalidating.add(key);
    try {
      await this.keepNearby(key, await readObject(env, read, false), read, Date.now());
    } catch (error) {
      console.error(`revalidation of ${key} failed; the stale copy stays in use`, error);
    } finally {
      this.revalidating.delete(key);
    }
  }

  /** Keeps the answer in this isolate's memory and at the edge (the data centre's cache), for as
   * long as it stays usable. */
  private async keepNearby(key: string, answer: LayerAnswer, read: Read, now: number): Promise<void> {
    const { refreshSeconds, staleSeconds } = read.descriptor;
    const ttl = Math.floor(refreshSeconds + staleSeconds - (now - answer.computedAt) / 1000);
    if (ttl <= 0) return;
    this.isolateAnswers.keep(key, isolateEntry(answer, read));
    const headers = { "Content-Type": JSON_TYPE, "Cache-Control": `public, max-age=${ttl}`, [COMPUTED_AT]: String(answer.computedAt) };
    await caches.default.put(key, new Response(answer.body, { headers }));
  }
}

async function readKv(env: Env, read: Read): Promise<LayerAnswer | undefined> {
  const { namespace, descriptor, query } = read;
  const kvKey = mirrorKey(namespace, descriptor.generation, snapshotKey(query));
  const { value, metadata } = await env.SNAPSHOTS.getWithMetadata<MirrorMetadata>(kvKey, "text");
  if (value === null || !metadata) return undefined;
  const { computedAt, generation } = metadata;
  return { body: cutAnswer(value, read), computedAt, generation, label: "HIT-KV" };
}

async function readObject(env: Env, read: Read, compute: boolean): Promise<LayerAnswer> {
  const stub = aggregatorOf(env, read.namespace);
  const r = await valueOrThrow(stub.read(read.query, compute ? { compute } : {}));
  return { body: cutAnswer(r.body, read), computedAt: r.computedAt, generation: r.generation, label: r.source };
}

/** Freshness needs only the time an answer was computed. */
type Stamped = Pick<SerialisedAnswer, "computedAt">;

const ageOf = (a: Stamped, now: number) => Math.max(0, now - a.computedAt);
const isStale = (a: Stamped, d: NamespaceDescriptor, now: number) => ageOf(a, now) > d.refreshSeconds * 1000;
const usable = (a: Stamped, d: NamespaceDescriptor, now: number) =>
  Number.isFinite(a.computedAt) &&
  a.computedAt >= (d.freshSince ?? 0) &&
  ageOf(a, now) <= (d.refreshSeconds + d.staleSeconds) * 1000;

/** The ETag of an answer: generation, computedAt, limit, minScore, compare and a page's offset
 * identify its bytes, so no body is hashed. */
function etagOf(generation: number, computedAt: number, { limit, minScore, offset, query }: Read): string {
  const compare = "compare" in query && query.compare !== undefined ? `-${query.compare}` : "";
  return `"g${generation}-${computedAt}-${limit ?? "all"}${minScore ? `-${minScore}` : ""}${compare}${offset ? `-o${offset}` : ""}"`;
}

/** Whether If-None-Match names `etag` (weak comparison, RFC 9110 13.1.2), or is "*". */
function matches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/** What the isolate keeps of an answer: its bytes, and its ETag made once rather than on every
 * hit. Isolate answers are served under the descriptor's generation, which is part of their key. */
function isolateEntry(answer: SerialisedAnswer, read: Read): IsolateEntry {
  const etag = etagOf(read.descriptor.generation, answer.computedAt, read);
  return { bytes: utf8.encode(answer.body), computedAt: answer.computedAt, etag };
}

const utf8 = new TextEncoder();

function respond(answer: Served, read: Read, now: number): Response {
  const age = ageOf(answer, now);
  const { refreshSeconds, staleSeconds } = read.descriptor;
  const maxAge = Math.max(0, Math.floor(refreshSeconds - age / 1000));
  const etag = answer.etag ?? etagOf(answer.generation, answer.computedAt, read);
  const headers: Record<string, string> = {
    "Cache-Control": `public, max-age=${maxAge}, stale-while-revalidate=${staleSeconds}`,
    ETag: etag,
    Vary: "Origin",
    "X-Cache": answer.label,
    "X-Generation": String(answer.generation),
    [COMPUTED_AT]: String(answer.computedAt),
    // The types a `type=` filter accepts, so a client (the dashboard page) can offer exactly those.
    [DECLARED_TYPES]: read.descriptor.types.join(","),
  };
  if (isStale(answer, read.descriptor, now)) headers["X-Stale"] = "true";
  // A 304 carries the headers a 200 would have, but no body and so no Content-Type (RFC 9110 15.4.5).
  if (read.ifNoneMatch !== undefined && matches(read.ifNoneMatch, etag)) return new Response(null, { status: 304, headers });
  headers["Content-Type"] = JSON_TYPE;
  return new Response(answer.body, { headers });
}
