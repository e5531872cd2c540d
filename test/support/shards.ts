/**
 * Test support for sharded ingest (`ingestShards` in docs/api.md): with k > 1 the Worker spreads
 * batches over k ingest shards, each logs its batches durably before the `202`, and the
 * namespace's object pulls and merges what they hold into its one authoritative state. The files
 * of test/shards hold it to the contract's promises, one concern a file.
 *
 * Every merge is driven (POST .../refresh or runDurableObjectAlarm): each namespace sets an hour's
 * refreshSeconds so that no alarm fires on its own, and the clock is moved, never waited for.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { expect, vi } from "vitest";
import type { CacheReport, StatsSnapshot, TallyEvent } from "../../src/shared/contract";
import { shardObjectName } from "../../src/shared/keys";
import type { NamespaceAggregator } from "../../durable-objects/namespace-aggregator";
import { withShardStandIn, type ShardStandIn } from "./faulty-objects";
import { admin, get, ingest, json, refresh, stubOf, type EventInput } from "./http";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The shards of a namespace with ingestShards 4. */
export const SHARDS = [0, 1, 2, 3];

/** The config every namespace here uses, but for its shard count. `like` weighs 2 by default, so
 * that a batch routed to a shard must carry the weights the namespace's object would give it. */
export const config = (ingestShards: number) => ({ ingestShards, refreshSeconds: 3600, types: { view: {}, like: { weight: 2 } } });

export async function configure(ns: string, ingestShards: number): Promise<void> {
  const res = await admin("PUT", ns, "config", config(ingestShards));
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Ingest shard `index` of `ns`, addressed as the Worker addresses it. */
export const shard = (ns: string, index: number) => env.INGEST_SHARDS.get(env.INGEST_SHARDS.idFromName(shardObjectName(ns, index)));

/** `aggregate` (an SQL aggregate of its columns) over shard `index`'s log; 0 when the shard holds
 * no log at all (never written to, or erased) or the aggregate is null. */
function overShardLog(ns: string, index: number, aggregate: string): Promise<number> {
  return runInDurableObject(shard(ns, index), (_, state) => {
    const sql = state.storage.sql;
    if (sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'shard_log'").one().n === 0) return 0;
    return sql.exec<{ n: number | null }>(`SELECT ${aggregate} AS n FROM shard_log`).one().n ?? 0;
  });
}

/** Log rows a shard holds. */
export const shardRows = (ns: string, index: number) => overShardLog(ns, index, "count(*)");
/** Events a shard holds in its log. */
export const shardRowsEvents = (ns: string, index: number) => overShardLog(ns, index, "sum(events)");
/** The bytes of the widest row of a shard's log. */
export const widestShardRow = (ns: string, index: number) => overShardLog(ns, index, "max(length(CAST(data AS BLOB)))");

/** The tables of a shard's ingest state that it still holds: none once it is erased. */
export const shardTables = (ns: string, index: number) =>
  runInDurableObject(shard(ns, index), (_, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name IN ('shard_log', 'shard_batch_ids')")
      .toArray()
      .map((t) => t.name),
  );

export const allShardRows = (ns: string) => Promise.all(SHARDS.map((i) => shardRows(ns, i)));
export const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);

/** Events the namespace's object accepted itself and holds uncheckpointed: in its batch log, or
 * held pending (an event stamped at the very time it is accepted, as under a frozen clock). */
export const objectHeldEvents = (ns: string) =>
  runInDurableObject(
    stubOf(ns),
    (_, state) =>
      state.storage.sql
        .exec<{ n: number }>(
          // A log row of format 2 holds its events as columns (batch-log.ts), one of format 1 as an array.
          "SELECT (SELECT coalesce(sum(coalesce(json_array_length(events, '$.items'), json_array_length(events))), 0) FROM batch_log) + (SELECT count(*) FROM pending_events) AS n",
        )
        .one().n,
  );

/** Sends a batch straight to one shard, as a Worker holding a descriptor with that route would. */
export async function sendToShard(ns: string, index: number, events: TallyEvent[], batchId?: string) {
  const result = await shard(ns, index).ingest({ batchId, events });
  if (!result.ok) throw new Error(`shard ${index} refused the batch: ${JSON.stringify(result)}`);
  return result.value;
}

export async function accepted(ns: string, events: EventInput[], batchId?: string): Promise<void> {
  const res = await ingest(ns, events, batchId === undefined ? {} : { batchId });
  expect(res.status, await res.clone().text()).toBe(202);
}

/** What the namespace counts over 30 days once merged: POST .../refresh, then stats. Under a
 * faked clock the clock moves on a second first, so that the refresh is newer than any answer
 * read before it, as it always is in real time. */
export async function counted(ns: string): Promise<{ events: number; weight: number }> {
  if (vi.isFakeTimers()) vi.setSystemTime(Date.now() + 1000);
  await refresh(ns);
  const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "30d" }));
  return { events: stats.events, weight: stats.weight };
}

export async function cacheOf(ns: string): Promise<CacheReport> {
  const res = await admin("GET", ns, "cache");
  expect(res.status, await res.clone().text()).toBe(200);
  return json<CacheReport>(res);
}

/** n events over a few items, both types, explicit weights on some and the type's default on the others. */
export const batch = (prefix: string, n: number): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({
    item: `${prefix}-${i % 7}`,
    type: i % 2 ? "view" : "like",
    ...(i % 3 === 0 ? {} : { weight: i % 3 }),
  }));

/**
 * Runs `body` in the namespace's object while it reaches each shard through `stand(index, real)`:
 * a stand-in that races, counts or fails where a test needs it (`withShardStandIn`).
 */
export function throughShards<T>(ns: string, stand: ShardStandIn, body: (object: NamespaceAggregator) => Promise<T>): Promise<T> {
  return withShardStandIn(ns, stand, () => runInDurableObject(stubOf(ns), body));
}

/** Each shard's events waiting in a cache report; every shard must have been reached. */
export function lags(ingest: CacheReport["ingest"]): number[] {
  return ingest.perShard.map((p) => {
    expect(p.error, `shard ${p.shard}`).toBeUndefined();
    return p.lagEvents ?? Number.NaN;
  });
}

/** `count` batches of sizes `first`, `first + step`…, with ids `<prefix>-0`, `<prefix>-1`…, each accepted. */
export async function acceptedBatches(ns: string, prefix: string, count: number, first: number, step = 1): Promise<EventInput[][]> {
  const batches = Array.from({ length: count }, (_, b) => batch(`${prefix}${b}`, first + step * b));
  for (const [b, events] of batches.entries()) await accepted(ns, events, `${prefix}-${b}`);
  return batches;
}

/** The weight of an event in a namespace of `config`: like weighs 2 unless the event says otherwise. */
const weightOf = (e: EventInput) => e.weight ?? (e.type === "like" ? 2 : 1);

/** Events and weight `batches` add to a namespace of `config`. */
export const total = (...batches: EventInput[][]) => ({
  events: sum(batches.map((b) => b.length)),
  weight: sum(batches.flat().map(weightOf)),
});

/** The same batch as a shard receives it from the Worker: validated, weights resolved. */
export const resolved = (events: EventInput[]): TallyEvent[] =>
  events.map((e) => ({ item: e.item, type: e.type ?? "event", weight: weightOf(e), ts: Date.now() }));
