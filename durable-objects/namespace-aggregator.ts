/**
 * NamespaceAggregator: one Durable Object per namespace (idFromName), the authoritative state.
 *
 * In memory it holds the aggregation core and the latest snapshots, for speed; SQLite holds what
 * must survive (the batch log, checkpoints, snapshots, config, generation, counters). Its surface
 * is start-up, a few RPC methods and `alarm()`; the logic lives in the pure modules of src/.
 */
import { DurableObject } from "cloudflare:workers";
import {
  BATCH_ID_TTL_MS,
  DEFAULT_CONFIG,
  type CacheReport,
  type IngestResult,
  type NamespaceConfig,
  type NamespaceDescriptor,
  type ReadCounts,
  type ReadQuery,
  type SnapshotRead,
  type TallyEvent,
} from "../src/shared/contract";
import { defaultWeight, parseConfig } from "../src/core/config";
import { Aggregator } from "../src/core/aggregator";
import { addReadCounts, cacheReport, emptyCounters, type Counters } from "../src/core/counters";
import { TallyError, notFound, toWire, type Outcome } from "../src/shared/errors";
import { buildSnapshot, plan } from "../src/core/snapshots";
import { snapshotKey } from "../src/shared/keys";
import type { IncomingBatch } from "../src/shared/validate";
import { SnapshotMirror } from "./mirror";
import { migrate } from "./migrations";
import { NamespaceStore } from "./store";
import { registryOf } from "./namespace-registry";

interface HeldSnapshot {
  body: string;
  computedAt: number;
}

/** Answers asked for outside the plan (another window or type) stay warm this long after a read. */
const DEMAND_TTL_MS = 60 * 60_000;

function namespaceOf(id: DurableObjectId): string {
  if (id.name === undefined) throw new Error("NamespaceAggregator: the object must be addressed with idFromName(namespace).");
  return id.name;
}

export class NamespaceAggregator extends DurableObject<Env> {
  private status: "zero" | "starting" | "started" = "zero";
  private startup: Promise<void> | undefined;
  private readonly store = new NamespaceStore(this.ctx.storage);
  private readonly mirror = new SnapshotMirror(this.env.SNAPSHOTS);
  /** The namespace this object serves: the name its id was made from (idFromName), available
   * to the object itself, so no RPC call needs to carry it. */
  private readonly namespace: string = namespaceOf(this.ctx.id);
  private exists = false;
  private config: NamespaceConfig = DEFAULT_CONFIG;
  /** The answers the refresh loop precomputes, by snapshot key; derived from the config. */
  private planned = new Map<string, ReadQuery>();
  private generation = 0;
  private freshSince = 0;
  private counters: Counters = emptyCounters();
  private aggregator = new Aggregator({ capacity: DEFAULT_CONFIG.capacity, types: [] });
  private readonly snapshots = new Map<string, HeldSnapshot>();
  /** Queries outside the plan, by key, with the time they were last read. */
  private readonly demanded = new Map<string, { query: ReadQuery; readAt: number }>();
  private refreshing: Promise<number> | undefined;

  // ---- start-up ----------------------------------------------------------------------------

  /**
   * Every entry point awaits this first. Start-up runs inside blockConcurrencyWhile (its only
   * proper use: nothing else runs until the state is rebuilt). A failed start leaves the status
   * at "zero" and re-throws outside the gate, so the next call tries again.
   */
  private async ready(): Promise<void> {
    if (this.status === "started") return;
    this.startup ??= (async () => {
      this.status = "starting";
      let failure: unknown;
      await this.ctx.blockConcurrencyWhile(async () => {
        try {
          await this.start();
        } catch (error) {
          failure = error;
        }
      });
      if (failure !== undefined) {
        this.status = "zero";
        this.startup = undefined;
        throw failure;
      }
      this.status = "started";
    })();
    await this.startup;
  }

  /** Rebuilds memory from SQLite: migrations, checkpoint, then the log replayed on top. */
  private async start(): Promise<void> {
    migrate(this.ctx.storage);
    this.exists = this.store.getMeta<number>("createdAt") !== undefined;
    this.useConfig(this.store.getMeta<NamespaceConfig>("config") ?? DEFAULT_CONFIG);
    this.generation = this.store.getMeta<number>("generation") ?? 0;
    this.freshSince = this.store.getMeta<number>("freshSince") ?? 0;
    this.counters = { ...emptyCounters(), ...this.store.getMeta<Counters>("counters") };
    this.aggregator = new Aggregator({ capacity: this.config.capacity, types: Object.keys(this.config.types) });
    for (const record of this.store.buckets()) this.aggregator.restore(record);
    this.aggregator.restorePending(this.store.getMeta<TallyEvent[]>("pending") ?? []);
    for (const batch of this.store.loggedBatches()) this.aggregator.ingest(batch.events, batch.acceptedAt);
    this.snapshots.clear();
    for (const s of this.store.snapshots()) this.snapshots.set(s.key, { body: s.body, computedAt: s.computedAt });
    // The alarm is derived from stored state, so a restart heals a lost schedule.
    await this.schedule(Date.now());
  }

  /** Runs an RPC: a TallyError becomes a refusal the Worker rethrows; anything else propagates. */
  private async run<T>(body: () => Promise<T> | T): Promise<Outcome<T>> {
    await this.ready();
    try {
      return { ok: true, value: await body() };
    } catch (error) {
      if (error instanceof TallyError) return { ok: false, error: toWire(error) };
      throw error;
    }
  }

  private requireExisting(): void {
    if (!this.exists) throw notFound(this.namespace);
  }

  // ---- ingest ------------------------------------------------------------------------------

  /** Counts a validated batch. The batch is in SQLite before this returns: the output gate holds
   * the answer until the write is durable. */
  ingest(batch: IncomingBatch): Promise<Outcome<IngestResult>> {
    return this.run(async () => {
      const now = Date.now();
      // Listed before its first batch is counted, and before the batch-id check, so no other
      // request runs between that check and the append. Idempotent; if it fails the batch is refused.
      if (!this.exists) await registryOf(this.env).record(this.namespace, now);
      if (batch.batchId !== undefined) {
        const seen = this.store.findBatch(batch.batchId, now - BATCH_ID_TTL_MS);
        if (seen) return { accepted: seen.accepted, duplicate: true };
      }
      const events: TallyEvent[] = batch.events.map((e) => ({ ...e, weight: e.weight ?? defaultWeight(this.config, e.type) }));
            if (!this.exists) {
        this.store.setMeta("createdAt", now);
        this.exists = true;
      }
      this.store.appendBatch({ acceptedAt: now, events }, batch.batchId);
      this.aggregator.ingest(events, now);
      await this.schedule(now);
      return { accepted: events.length, duplicate: false };
    });
  }

  // ---- reads -------------------------------------------------------------------------------

  describe(): Promise<Outcome<NamespaceDescriptor>> {
    return this.run(() => ({
      exists: this.exists,
      generation: this.generation,
      maxLimit: this.config.maxLimit,
      types: Object.keys(this.config.types),
      windows: this.config.windows,
      refreshSeconds: this.config.refreshSeconds,
      staleSeconds: this.config.staleSeconds,
      freshSince: this.freshSince,
    }));
  }

  /**
   * The latest snapshot of `query`, computed now only if none exists (`MISS`). With
   * `compute: true` it is always computed now and kept nowhere: the benchmark's compute-on-read.
   */
  read(query: ReadQuery, options: { compute?: boolean } = {}): Promise<Outcome<SnapshotRead>> {
    return this.run(() => {
      this.requireExisting();
      const now = Date.now();
      const key = snapshotKey(query);
      if (!this.planned.has(key)) this.demanded.set(key, { query, readAt: now });
      const held = options.compute ? undefined : this.snapshots.get(key);
      if (held) {
        // Stale-while-revalidate inside the object too: a snapshot older than the refresh period
        // (a late alarm, or an idle namespace whose windows slid) is served, and refreshed behind.
        if (now - held.computedAt > this.config.refreshSeconds * 1000) this.ctx.waitUntil(this.refresh().catch(() => {}));
        return { ...held, generation: this.generation, source: "HIT-DO" as const };
      }
      const body = JSON.stringify(buildSnapshot(this.aggregator, query, this.context(now)));
      if (!options.compute) {
        this.snapshots.set(key, { body, computedAt: now });
        this.counters.syncComputes += 1;
      }
      return { body, computedAt: now, generation: this.generation, source: "MISS" as const };
    });
  }

  private context(at: number) {
    return { namespace: this.namespace, generation: this.generation, at, config: this.config };
  }

  // ---- the refresh loop --------------------------------------------------------------------

  /** Sets the next alarm if data is held and none is set: idempotent, safe on every wake. */
  private async schedule(now: number): Promise<void> {
    if (!this.aggregator.hasData(now)) return;
    if ((await this.ctx.storage.getAlarm()) !== null) return;
    // Jitter spreads the refreshes of many namespaces; it only ever shortens the period, so an
    // answer is never older than refreshSeconds while alarms are on time.
    const period = this.config.refreshSeconds * 1000;
    await this.ctx.storage.setAlarm(now + period * (0.9 + 0.1 * Math.random()));
  }

  /**
   * One platform alarm drives the loop. A failure is caught, logged, counted and rescheduled here
   * rather than left to the platform's limited retries. Delivery is at least once; a duplicate
   * only recomputes the same snapshots.
   */
  override async alarm(): Promise<void> {
    await this.ready();
    if (!this.exists) return;
    try {
      await this.refresh();
    } catch (error) {
      console.error(`NamespaceAggregator "${this.namespace}": refresh failed`, error);
    }
    await this.schedule(Date.now());
  }

  /**
   * Precomputes now and resolves to the new `computedAt`. A refresh already running may have
   * started before the caller's writes, so it is waited out and a new one runs after it.
   */
  private async refresh(): Promise<number> {
    while (this.refreshing) await this.refreshing.catch(() => {});
    this.refreshing = this.refreshOnce().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<number> {
    const started = Date.now();
    try {
      const at = started;
      this.aggregator.advance(at);
      this.store.writeCheckpoint(this.aggregator.checkpoint(), this.aggregator.pendingEvents);
      this.store.pruneBatchIds(at - BATCH_ID_TTL_MS);
      const computed = this.computeAll(at);
      this.store.saveSnapshots(computed.map(([key, s]) => ({ key, ...s })));
      await this.mirror.write(this.namespace, this.generation, computed, this.mirrorTtl());
      this.counters.refreshes += 1;
      this.counters.lastRefresh = { at: new Date(at).toISOString(), durationMs: Date.now() - started, outcome: "ok" };
      return at;
    } catch (error) {
      this.counters.refreshErrors += 1;
      this.counters.lastRefresh = {
        at: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        outcome: "error",
        error: error instanceof Error ? error.message : String(error),
      };
      throw error;
    } finally {
      this.store.setMeta("counters", this.counters);
    }
  }

  /** Computes every planned answer and every answer read recently outside the plan. */
  private computeAll(at: number): [string, HeldSnapshot][] {
    const queries = new Map(this.planned);
    for (const [key, d] of this.demanded) {
      if (at - d.readAt > DEMAND_TTL_MS) this.demanded.delete(key);
      else queries.set(key, d.query);
    }
    const ctx = this.context(at);
    this.snapshots.clear();
    for (const [key, query] of queries) {
      this.snapshots.set(key, { body: JSON.stringify(buildSnapshot(this.aggregator, query, ctx)), computedAt: at });
    }
    return [...this.snapshots];
  }

  /** KV keeps a mirrored answer through its stale period, and never less than KV's 60 s minimum. */
  private mirrorTtl(): number {
    return Math.max(60, this.config.staleSeconds + 2 * this.config.refreshSeconds);
  }

  // ---- admin -------------------------------------------------------------------------------

  refreshNow(): Promise<Outcome<{ computedAt: number; generation: number }>> {
    return this.run(async () => {
      this.requireExisting();
      const computedAt = await this.refresh();
      this.markFresh(computedAt);
      await this.schedule(Date.now());
      return { computedAt, generation: this.generation };
    });
  }

  /** Bumps the generation, drops every snapshot in memory, SQLite and KV, and recomputes at once. */
  invalidate(): Promise<Outcome<{ generation: number }>> {
    return this.run(async () => {
      this.requireExisting();
      this.generation += 1;
      this.store.setMeta("generation", this.generation);
      this.snapshots.clear();
      this.store.clearSnapshots();
      await this.mirror.dropOlderThan(this.namespace, this.generation);
      this.markFresh(await this.refresh());
      return { generation: this.generation };
    });
  }

  private useConfig(config: NamespaceConfig): void {
    this.config = config;
    this.planned = new Map(plan(config).map((q) => [snapshotKey(q), q]));
  }

  /** Cached copies computed before `at` may no longer be served (see NamespaceDescriptor). */
  private markFresh(at: number): void {
    this.freshSince = at;
    this.store.setMeta("freshSince", at);
  }

  getConfig(): Promise<Outcome<NamespaceConfig>> {
    return this.run(() => this.config);
  }

  /** Replaces the config; it takes effect from the next refresh (README, "Config"). */
  putConfig(body: unknown): Promise<Outcome<NamespaceConfig>> {
    return this.run(async () => {
      const config = parseConfig(body);
            this.store.setMeta("config", config);
      this.useConfig(config);
      this.aggregator.configure({ capacity: config.capacity, types: Object.keys(config.types) });
      return config;
    });
  }

  /** Adds a Worker isolate's batch of read counts. */
  recordReads(counts: Partial<ReadCounts>): Promise<Outcome<null>> {
    return this.run(() => {
      if (!this.exists) return null; // reads of unknown namespaces leave no trace
      addReadCounts(this.counters.reads, counts);
      this.store.setMeta("counters", this.counters);
      return null;
    });
  }

  cacheStats(): Promise<Outcome<CacheReport>> {
    return this.run(() => {
      this.requireExisting();
      return cacheReport(this.namespace, this.generation, this.counters);
    });
  }

  /**
   * Erases data, config, snapshots, the KV mirror and the alarm. Only the generation survives,
   * one higher, so that edge entries of the old namespace can never answer for a new one.
   */
  erase(): Promise<Outcome<{ generation: number }>> {
    return this.run(async () => {
      this.requireExisting();
      const generation = this.generation + 1;
      // Unlisted first: if the erase then fails, a retried DELETE still finds the data to erase.
      await registryOf(this.env).drop(this.namespace);
      await this.mirror.dropOlderThan(this.namespace, Number.POSITIVE_INFINITY);
      await this.store.eraseAll();
      migrate(this.ctx.storage);
      this.store.setMeta("generation", generation);
      await this.start();
      return { generation };
    });
  }
}
