/**
 * NamespaceAggregator: one Durable Object per namespace (idFromName), the authoritative state.
 *
 * In memory it holds the aggregation core and the latest snapshots, for speed; SQLite holds what
 * must survive (the batch log, checkpoints, pending events, config, generation, counters). Its
 * surface is start-up, a few RPC methods and `alarm()`; the logic lives in the pure modules of
 * src/core.
 */
import { DurableObject } from "cloudflare:workers";
import {
  BATCH_ID_TTL_MS,
  DEFAULT_CONFIG,
  WINDOWS,
  type CacheReport,
  type IngestResult,
  type NamespaceConfig,
  type NamespaceDescriptor,
  type ReadCounts,
  type ReadQuery,
  type SerialisedAnswer,
  type SnapshotRead,
  type SuppressionChange,
  type SuppressionPage,
  type TallyEvent,
} from "../src/shared/contract";
import { defaultWeight, parseConfig } from "../src/core/config";
import { Aggregator } from "../src/core/aggregator";
import { addReadCounts, cacheReport, emptyMetrics, type ServiceMetrics } from "../src/core/metrics";
import { TallyError, internal, notFound, type Outcome } from "../src/shared/errors";
import { messageOf, outcomeOf } from "./outcome";
import { MAX_DEMANDED, buildSnapshot, plan } from "../src/core/snapshots";
import { previousRange, windowRange } from "../src/core/tiers";
import { EXPORT_FORMAT, EXPORT_VERSION, encodeExport, type NamespaceExport, type NamespaceImport } from "../src/core/export";
import { KV_MIN_EXPIRATION_TTL_SECONDS, snapshotKey } from "../src/shared/keys";
import type { IncomingBatch } from "../src/shared/validate";
import { MAX_ROW_BYTES } from "./guarded-sql";
import { HeldAnswers } from "./held-answers";
import { SnapshotMirror } from "./mirror";
import { migrate } from "./migrations";
import { NamespaceStore } from "./store";
import { SuppressionList } from "./suppressions";
import { StoredPending } from "./pending-events";
import { MAX_PENDING_EVENTS, splitDue } from "../src/core/pending";
import { registryOf } from "../src/shared/rpc";
import { ShardMerger } from "./shard-merger";

/** Answers asked for outside the plan (another window or type) stay warm this long after a read
 * (at most MAX_DEMANDED of them, core/snapshots.ts). */
const DEMAND_TTL_MS = 60 * 60_000;
/** Each refresh comes 0–10% early, so that the refreshes of many namespaces spread out; never
 * late, so an answer is at most refreshSeconds old while alarms are on time. */
const REFRESH_JITTER = 0.1;
/** A namespace with no events, no reads and nothing pending for this long stops its loop; the
 * next event or read starts it again. One event no longer keeps an object busy for 30 days. */
export const IDLE_STOP_MS = 60 * 60_000;
/** The next refresh after a merge that left events in a shard (`ShardMerger.behind`). */
export const CATCH_UP_MS = 1000;

function namespaceOf(id: DurableObjectId): string {
  if (id.name === undefined) throw new Error("NamespaceAggregator: the object must be addressed with idFromName(namespace).");
  return id.name;
}


export class NamespaceAggregator extends DurableObject<Env> {
  private status: "zero" | "starting" | "started" = "zero";
  private startup: Promise<void> | undefined;
  /** The namespace this object serves: the name its id was made from (idFromName), available
   * to the object itself, so no RPC call needs to carry it. */
  private readonly namespace: string = namespaceOf(this.ctx.id);
  private readonly store = new NamespaceStore(this.ctx.storage);
  private readonly mirror = new SnapshotMirror(this.env.SNAPSHOTS);
  private readonly suppressions = new SuppressionList(this.store.sql);
  /** Future-stamped events, held in SQLite only (pending-events.ts). */
  private readonly pending = new StoredPending(this.store.sql);
  /** The ingest shards' side of this namespace (API.md v1.1, `ingestShards`). */
  private readonly shards = new ShardMerger(this.env, this.namespace, this.store);
  /** False while the object was never written to: reads of an unknown name create no database. */
  private hasSchema = false;
  private exists = false;
  private config: NamespaceConfig = DEFAULT_CONFIG;
  /** The answers the refresh loop precomputes, by snapshot key; derived from the config. */
  private planned = new Map<string, ReadQuery>();
  private generation = 0;
  private freshSince = 0;
  private metrics: ServiceMetrics = emptyMetrics();
  private aggregator = new Aggregator({ capacity: DEFAULT_CONFIG.capacity, types: [] });
  private readonly snapshots = new HeldAnswers();
  /** Queries outside the plan, by key, with the time they were last read. */
  private readonly demanded = new Map<string, { query: ReadQuery; readAt: number }>();
  private running: Promise<number> | undefined;
  /** The one refresh waiting behind the running one, shared by every caller that asks meanwhile. */
  private queued: Promise<number> | undefined;
  /** Batches counted by this object since it started: part of what a refresh compares. */
  private batchesCounted = 0;
  /** What the last refresh computed from (see `inputsAt`); undefined forces a full refresh. */
  private refreshedInputs: string | undefined;
  /** The last event or read; the loop stops after IDLE_STOP_MS without one. */
  private lastActivity = 0;
  private loopStopped = false;

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

  /**
   * Rebuilds memory from SQLite: migrations, checkpoint, pending events, then the log replayed on
   * top, and every planned answer computed from the result. A stored state of a format this
   * build does not know stops start-up with an error (UnknownFormatError): nothing is guessed.
   */
  private async start(): Promise<void> {
    this.hasSchema = this.store.hasSchema();
    this.exists = false;
    this.generation = 0;
    this.freshSince = 0;
    this.metrics = emptyMetrics();
    this.useConfig(DEFAULT_CONFIG);
    this.snapshots.clear();
    this.refreshedInputs = undefined;
    this.lastActivity = Date.now(); // a wake is activity
    this.loopStopped = false;
    this.pending.clear();
    this.aggregator = this.newAggregator();
    this.shards.load(DEFAULT_CONFIG.ingestShards, false);
    if (!this.hasSchema) return; // never written: nothing to load, and nothing is written now
    migrate(this.ctx.storage);
    this.exists = this.store.getMeta<number>("createdAt") !== undefined;
    this.useConfig(this.store.getMeta<NamespaceConfig>("config") ?? DEFAULT_CONFIG);
    this.generation = this.store.getMeta<number>("generation") ?? 0;
    this.freshSince = this.store.getMeta<number>("freshSince") ?? 0;
    this.metrics = { ...emptyMetrics(), ...this.store.getMeta<ServiceMetrics>("counters") };
    this.suppressions.load();
    this.shards.load(this.config.ingestShards, true);
    this.aggregator = this.newAggregator();
    for (const record of this.store.buckets()) this.aggregator.restore(record);
    this.pending.load(); // two numbers, however many events wait
    // The log holds only events due when they were accepted, but a log written by an earlier
    // build also holds future ones: those are held provisionally until the checkpoint that
    // truncates the log, so a second restart before it does not hold them twice.
    this.pending.provisionally(() => {
      for (const batch of this.store.loggedBatches()) this.aggregator.ingest(batch.events, batch.acceptedAt);
    });
    const now = Date.now();
    this.aggregator.advance(now);
    if (this.exists) void this.computeAll(now, false); // a restarted object answers at once, never cold
    // The alarm is derived from stored state, so a restart heals a lost schedule.
    await this.schedule(now);
  }

  /** An empty core for the current config, which ranks without the suppressed items (the list is
   * live: a suppression added later is seen at once). */
  private newAggregator(): Aggregator {
    const aggregator = new Aggregator({
      capacity: this.config.capacity,
      types: Object.keys(this.config.types),
      pending: this.pending,
      heldBeside: () => this.snapshots.bytes + this.suppressions.bytes,
    });
    aggregator.hide(this.suppressions);
    return aggregator;
  }

  /** Creates the schema on the first write; until then the object holds no database at all. */
  private ensureSchema(): void {
    if (this.hasSchema) return;
    migrate(this.ctx.storage);
    this.hasSchema = true;
  }

  /** Runs an RPC method once the object has started (outcome.ts puts its failures in categories). */
  private run<T>(method: string, body: () => Promise<T> | T): Promise<Outcome<T>> {
    return outcomeOf({ object: "NamespaceAggregator", namespace: this.namespace, method }, async () => {
      await this.ready();
      return body();
    });
  }

  private requireExisting(): void {
    if (!this.exists) throw notFound(this.namespace);
  }

  // ---- ingest ------------------------------------------------------------------------------

  /** Counts a validated batch. The batch is in SQLite before this returns: the output gate holds
   * the answer until the write is durable. Logging and counting happen in one turn, so a
   * checkpoint (also one turn) never sees a logged batch that memory has not counted. */
  ingest(batch: IncomingBatch): Promise<Outcome<IngestResult>> {
    return this.run("ingest", async () => {
      const now = Date.now();
      // Listed before its first batch is counted, and before the batch-id check, so no other
      // request runs between that check and the append. Idempotent; if it fails the batch is refused.
      if (!this.exists) await registryOf(this.env).record(this.namespace, now);
      this.ensureSchema();
      if (batch.batchId !== undefined) {
        const seen = this.store.findBatch(batch.batchId, now - BATCH_ID_TTL_MS) ?? this.shards.heldBatch(batch.batchId);
        if (seen) return { accepted: seen.accepted, duplicate: true };
      }
      const events: TallyEvent[] = batch.events.map((e) => ({ ...e, weight: e.weight ?? defaultWeight(this.config, e.type) }));
      const { due, ahead } = splitDue(events, this.pending, now);
      if (ahead.length > 0 && this.pending.size + ahead.length > MAX_PENDING_EVENTS) throw this.tooManyPending(now);
      if (!this.exists) {
        this.store.setMeta("createdAt", now);
        this.exists = true;
      }
      this.store.appendBatch(now, { due, ahead }, batch.batchId, this.pending);
      this.aggregator.ingest(due, now);
      this.batchesCounted += 1;
      await this.wake(now);
      await this.schedule(now); // a first event, or one after the windows emptied, starts the loop
      return { accepted: events.length, duplicate: false };
    });
  }

  /** A batch that would hold more than MAX_PENDING_EVENTS is refused whole until some are due. */
  private tooManyPending(now: number): TallyError {
    const retryAfterSeconds = Math.min(300, Math.max(1, Math.ceil((this.pending.nextDue - now) / 1000)));
    return new TallyError(
      429,
      "too_many_pending",
      `Namespace "${this.namespace}" holds ${this.pending.size} events stamped ahead of the clock, the most it holds is ${MAX_PENDING_EVENTS}; send this batch again once some are due, or check the senders' clocks.`,
      { limit: MAX_PENDING_EVENTS, pending: this.pending.size, retryAfterSeconds },
      { "Retry-After": String(retryAfterSeconds) },
    );
  }

  /**
   * Ingest shard `index` is about to log its first batch since this object last found it empty:
   * the namespace now exists (listed, as ingest lists it), the shard is pulled from now on, and a
   * stopped loop starts again. The shard logs nothing until this returned.
   */
  shardAwake(index: number): Promise<Outcome<null>> {
    return this.run("shardAwake", async () => {
      const now = Date.now();
      if (!this.exists) await registryOf(this.env).record(this.namespace, now);
      this.ensureSchema();
      if (!this.exists) {
        this.store.setMeta("createdAt", now);
        this.exists = true;
      }
      this.shards.widen(index, now);
      await this.wake(now);
      await this.schedule(now);
      return null;
    });
  }

  /**
   * Merges what the ingest shards hold into the state (shard-merger.ts). A merge that throws
   * part-way may have counted part of a delta whose rows will be pulled again, so memory can no
   * longer be trusted: the caller (a refresh) stops before its checkpoint, and the next call
   * starts the object again from its last checkpoint and cursors, which nothing touched.
   */
  private async mergeShards(): Promise<void> {
    let failure: unknown;
    await this.shards.merge((delta) => {
      if (failure !== undefined) throw failure;
      const now = Date.now();
      try {
        // Its future events are held provisionally: the shards' cursors become durable only
        // with the next checkpoint (pending-events.ts).
        this.pending.provisionally(() => this.aggregator.mergeDelta(delta, now));
      } catch (error) {
        failure = error;
        throw error;
      }
      this.batchesCounted += 1;
      if (delta.events > 0) this.lastActivity = now;
    });
    if (failure === undefined) return;
    this.status = "zero";
    this.startup = undefined;
    throw failure;
  }

  // ---- reads -------------------------------------------------------------------------------

  describe(): Promise<Outcome<NamespaceDescriptor>> {
    return this.run("describe", () => ({
      exists: this.exists,
      generation: this.generation,
      maxLimit: this.config.maxLimit,
      types: Object.keys(this.config.types),
      ingestShards: this.config.ingestShards,
      weights: Object.fromEntries(Object.entries(this.config.types).flatMap(([type, t]) => (t.weight === undefined ? [] : [[type, t.weight]]))),
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
    return this.run("read", async () => {
      this.requireExisting();
      const now = Date.now();
      await this.wake(now);
      const key = snapshotKey(query);
      if (!this.planned.has(key)) this.demand(key, query, now);
      const held = options.compute ? undefined : this.snapshots.get(key);
      if (held) {
        // Stale-while-revalidate inside the object too: a snapshot older than the refresh period
        // (a late alarm, or an idle namespace whose windows slid) is served, and refreshed behind.
        if (now - held.computedAt > this.config.refreshSeconds * 1000) this.refreshBehind();
        return { ...held, generation: this.generation, source: "HIT-DO" as const };
      }
      this.aggregator.advance(now);
      const body = JSON.stringify(buildSnapshot(this.aggregator, query, this.context(now)));
      if (!options.compute) {
        this.snapshots.hold(key, { body, computedAt: now });
        this.metrics.syncComputes += 1;
      }
      return { body, computedAt: now, generation: this.generation, source: "MISS" as const };
    });
  }

  private demand(key: string, query: ReadQuery, now: number): void {
    this.demanded.delete(key); // re-inserted last: the Map's order is the order of reads
    this.demanded.set(key, { query, readAt: now });
    if (this.demanded.size > MAX_DEMANDED) this.demanded.delete(this.demanded.keys().next().value!);
  }

  private context(at: number) {
    return { namespace: this.namespace, generation: this.generation, at, config: this.config };
  }

  // ---- the refresh loop --------------------------------------------------------------------

  /**
   * Sets the next alarm if data is held: idempotent, safe on every wake. One platform alarm per
   * object, and it does not repeat. `replace` moves an existing alarm to the new period (a
   * config change); otherwise an alarm already set is kept.
   */
  private async schedule(now: number, replace = false): Promise<void> {
    if (!this.aggregator.hasData(now) && !this.shards.active) return;
    if (!replace && (await this.ctx.storage.getAlarm()) !== null) return;
    const period = this.config.refreshSeconds * 1000;
    await this.ctx.storage.setAlarm(now + period * (1 - REFRESH_JITTER * Math.random()));
  }

  /**
   * After a merge that left events in a shard (shard-merger.ts, `behind`), sets the next refresh a
   * second away rather than a refresh period, so that a shard's backlog cannot grow faster than
   * it is merged. True if it did.
   */
  private async catchUp(now: number): Promise<boolean> {
    if (!this.shards.behind) return false;
    await this.ctx.storage.setAlarm(now + CATCH_UP_MS);
    return true;
  }

  /** Records activity; restarts a loop that stopped for idleness. */
  private async wake(now: number): Promise<void> {
    this.lastActivity = now;
    if (!this.loopStopped) return; // a running loop keeps its alarm: no storage read per call
    this.loopStopped = false;
    await this.schedule(now, true);
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
    const now = Date.now();
    if (await this.catchUp(now)) return;
    if (now - this.lastActivity > IDLE_STOP_MS && this.pending.size === 0) {
      this.loopStopped = true; // no alarm: the next event or read sets one
      return;
    }
    await this.schedule(now);
  }

  /**
   * Precomputes now and resolves to the new `computedAt`. A refresh already running may have
   * started before the caller's writes, so the caller gets the one queued behind it: however
   * many callers ask meanwhile, at most one more refresh runs.
   */
  private refresh(): Promise<number> {
    if (!this.running) {
      this.running = this.refreshOnce().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.refresh();
      });
    return this.queued;
  }

  /** A refresh for a stale read: none is started if one is already running or queued. */
  private refreshBehind(): void {
    if (this.running || this.queued) return;
    this.ctx.waitUntil(this.refresh().catch(() => {}));
  }

  /**
   * What every answer at `at` is computed from, once advanced to it, but for `at` itself: the
   * batches counted, the pending events (held, and counted up to when), and the ranges of every
   * window and of the periods rank=rising compares with. When they are the same as at the last refresh, every answer is the same but for its `to` and
   * `computedAt`, and nothing needs writing.
   */
  private inputsAt(at: number): string {
    const ranges = WINDOWS.map((w) => `${windowRange(w, at).from}/${previousRange(w, at).from}`);
    return `${this.batchesCounted}|${this.pending.size}|${this.pending.countedBefore}|${this.generation}|${ranges.join(",")}`;
  }

  private async refreshOnce(): Promise<number> {
    const started = Date.now();
    let unchanged = false;
    try {
      // Shards first, so that this refresh answers with every event they accepted before it.
      await this.mergeShards();
      const at = Date.now();
      this.aggregator.advance(at); // once per refresh; the queries below only read
      const inputs = this.inputsAt(at);
      unchanged = inputs === this.refreshedInputs;
      // An isolate is reset above 128 MB, and local workerd never says so: the object holds its
      // own accounted budget (core/budget.ts), compacting and then cutting older buckets.
      this.aggregator.holdBudget();
      // An unchanged refresh writes nothing to SQLite or KV: the answers are recomputed in memory
      // only, so the object's own copies stay fresh, and KV keeps the copies it has.
      const durable = unchanged || this.checkpoint(at);
      await this.computeAll(at, !unchanged);
      // After a failed checkpoint the next refresh is never "unchanged": it must retry the write.
      this.refreshedInputs = durable ? inputs : undefined;
      this.metrics.refreshes += 1;
      this.metrics.lastRefresh = { at: new Date(at).toISOString(), durationMs: Date.now() - started, outcome: "ok" };
      return at;
    } catch (error) {
      this.metrics.refreshErrors += 1;
      this.metrics.lastRefresh = {
        at: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        outcome: "error",
        error: messageOf(error),
      };
      throw error;
    } finally {
      if (!unchanged) this.saveMetrics();
    }
  }

  /**
   * Writes what the last checkpoint lacks. A failure is counted and the refresh goes on: the
   * snapshots are computed from memory all the same, and since nothing is marked durable and
   * the log is not truncated, the next checkpoint writes all of it again.
   */
  private checkpoint(at: number): boolean {
    try {
      const delta = this.aggregator.checkpoint();
      // The shards' cursors and batch ids go in the same transaction as the buckets they produced.
      const shards = this.shards.checkpoint();
      // Due pending events change buckets, and provisional pending rows come with shard cursors.
      const unchanged = delta.changed.length === 0 && delta.expired.length === 0 && !shards.changed;
      if (!unchanged) this.store.writeCheckpoint(delta, this.pending, shards.write);
      shards.commit();
      this.store.pruneBatchIds(at - BATCH_ID_TTL_MS);
      this.metrics.lastCheckpoint = { at: new Date(at).toISOString(), outcome: "ok" };
      return true;
    } catch (error) {
      console.error(JSON.stringify({ object: "NamespaceAggregator", namespace: this.namespace, method: "checkpoint", cause: messageOf(error) }));
      this.metrics.checkpointErrors += 1;
      this.metrics.lastCheckpoint = { at: new Date(at).toISOString(), outcome: "error", error: messageOf(error) };
      return false;
    }
  }

  private saveMetrics(): void {
    this.metrics.largestRowBytes = Math.max(this.metrics.largestRowBytes, this.store.sql.largestRowBytes);
    try {
      this.store.setMeta("counters", this.metrics);
    } catch (error) {
      console.error(`NamespaceAggregator "${this.namespace}": counters not saved`, error);
    }
  }

  /**
   * Computes every planned answer and every answer read recently outside the plan, holds those
   * that fit (held-answers.ts), and with `mirror` writes each to KV as it is computed. The answers
   * are computed in one turn, so that all of them describe one state of the aggregator.
   */
  private computeAll(at: number, mirror: boolean): Promise<unknown> {
    const queries = new Map(this.planned);
    for (const [key, d] of this.demanded) {
      if (at - d.readAt > DEMAND_TTL_MS) this.demanded.delete(key);
      else queries.set(key, d.query);
    }
    const ctx = this.context(at);
    this.snapshots.clear();
    const writes: Promise<void>[] = [];
    const ttl = this.mirrorTtl();
    for (const [key, query] of queries) {
      const answer = { body: JSON.stringify(buildSnapshot(this.aggregator, query, ctx)), computedAt: at };
      this.snapshots.hold(key, answer);
      if (mirror) writes.push(this.mirror.put(this.namespace, this.generation, key, answer, ttl));
    }
    return Promise.all(writes);
  }

  /** KV keeps a mirrored answer through its stale period, and never less than KV's 60 s minimum. */
  private mirrorTtl(): number {
    return Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, this.config.staleSeconds + 2 * this.config.refreshSeconds);
  }

  // ---- admin -------------------------------------------------------------------------------

  refreshNow(): Promise<Outcome<{ computedAt: number; generation: number }>> {
    return this.run("refreshNow", async () => {
      this.requireExisting();
      const computedAt = await this.refresh();
      this.markFresh(computedAt);
      const now = Date.now();
      if (!(await this.catchUp(now))) await this.schedule(now);
      return { computedAt, generation: this.generation };
    });
  }

  /** Bumps the generation, drops every snapshot in memory and KV, and recomputes at once. */
  invalidate(): Promise<Outcome<{ generation: number }>> {
    return this.run("invalidate", async () => {
      this.requireExisting();
      return { generation: await this.regenerate() };
    });
  }

  /** Bumps the generation, drops every snapshot in memory, SQLite and KV, and recomputes at once. */
  private async regenerate(): Promise<number> {
    this.generation += 1;
    this.store.setMeta("generation", this.generation);
    this.snapshots.clear();
    this.refreshedInputs = undefined;
    await this.mirror.dropOlderThan(this.namespace, this.generation);
    this.markFresh(await this.refresh());
    return this.generation;
  }

  private useConfig(config: NamespaceConfig): void {
    // A config stored before a field existed (e.g. hotHalfLifeSeconds) takes that field's default.
    this.config = { ...DEFAULT_CONFIG, ...config };
    this.planned = new Map(plan(this.config).map((q) => [snapshotKey(q), q]));
  }

  /** Cached copies computed before `at` may no longer be served (see NamespaceDescriptor). */
  private markFresh(at: number): void {
    this.freshSince = at;
    this.store.setMeta("freshSince", at);
  }

  getConfig(): Promise<Outcome<NamespaceConfig>> {
    return this.run("getConfig", () => this.config);
  }

  /** Replaces the config; it takes effect from the next refresh, which follows the new period
   * at once (README, "Config"). The Worker validated it; it is checked again here, because an
   * older Worker may call a newer object during a deploy. */
  putConfig(body: unknown): Promise<Outcome<NamespaceConfig>> {
    return this.run("putConfig", async () => {
      const config = parseConfig(body);
      this.ensureSchema();
      this.store.setMeta("config", config);
      this.useConfig(config);
      this.aggregator.configure({ capacity: config.capacity, types: Object.keys(config.types) });
      this.shards.configure(config.ingestShards, Date.now());
      this.refreshedInputs = undefined;
      await this.schedule(Date.now(), true);
      return config;
    });
  }

  // ---- moderation --------------------------------------------------------------------------

  /**
   * Suppresses `item` (already validated by the Worker) in SQLite, then regenerates exactly as
   * invalidate does: every cached answer becomes unreachable and the new ones, computed at once,
   * leave the item out. A repeated call regenerates again, so a retry after a failed
   * recomputation still leaves every layer clean.
   */
  suppress(item: string): Promise<Outcome<SuppressionChange>> {
    return this.run("suppress", async () => {
      this.requireExisting();
      const { created, suppressedAt } = this.suppressions.add(item, Date.now());
      const generation = await this.regenerate();
      return { namespace: this.namespace, item, suppressed: true, suppressedAt: new Date(suppressedAt).toISOString(), created, generation };
    });
  }

  /** Shows `item` again, with all its counts, and regenerates like `suppress`. */
  unsuppress(item: string): Promise<Outcome<SuppressionChange>> {
    return this.run("unsuppress", async () => {
      this.requireExisting();
      this.suppressions.remove(item);
      return { namespace: this.namespace, item, suppressed: false, generation: await this.regenerate() };
    });
  }

  listSuppressions(after: string | null, limit: number): Promise<Outcome<SuppressionPage>> {
    return this.run("listSuppressions", () => {
      this.requireExisting();
      return { namespace: this.namespace, total: this.suppressions.size, ...this.suppressions.page(after, limit) };
    });
  }

  /** Adds a Worker isolate's batch of read counts. */
  recordReads(counts: Partial<ReadCounts>): Promise<Outcome<null>> {
    return this.run("recordReads", async () => {
      if (!this.exists) return null; // reads of unknown namespaces leave no trace
      addReadCounts(this.metrics.reads, counts);
      this.saveMetrics();
      await this.wake(Date.now()); // reads served by the edge or KV are activity too
      return null;
    });
  }

  cacheStats(): Promise<Outcome<CacheReport>> {
    return this.run("cacheStats", async () => {
      this.requireExisting();
      const largestRowBytes = Math.max(this.metrics.largestRowBytes, this.store.sql.largestRowBytes);
      const storage = { largestRowBytes, maxRowBytes: MAX_ROW_BYTES };
      const memory = { bytes: this.aggregator.memoryBytes(), budgetBytes: this.aggregator.budgetBytes, cuts: this.aggregator.budgetCuts };
      const ingest = { shards: this.config.ingestShards, perShard: await this.shards.status(Date.now()) };
      return cacheReport(this.namespace, this.generation, this.metrics, { storage, memory, ingest });
    });
  }

  // ---- export and import (the document itself is src/core/export.ts) --------------------------

  /** The namespace's whole state, from memory (which holds everything acknowledged, once the
   * ingest shards are merged), as the export document. */
  exportState(): Promise<Outcome<string>> {
    return this.run("exportState", async () => {
      this.requireExisting();
      await this.mergeShards();
      const doc = {
        format: EXPORT_FORMAT,
        version: EXPORT_VERSION,
        namespace: this.namespace,
        exportedAt: new Date(),
        config: this.config,
        buckets: this.aggregator.buckets(),
        pending: this.pending.all(),
        suppressions: this.suppressions.all().map(({ item, suppressedAt }) => ({ item, suppressedAt: new Date(suppressedAt) })),
      } satisfies NamespaceExport;
      return encodeExport(doc);
    });
  }

  /** Restores an export into this empty namespace, durably before it answers: the state is
   * written by the one checkpoint path, and a failed write leaves the namespace empty. */
  importState(state: NamespaceImport): Promise<Outcome<{ buckets: number; pending: number }>> {
    return this.run("importState", async () => {
      if (this.exists) {
        throw new TallyError(409, "namespace_not_empty", `Namespace "${this.namespace}" holds data; import only into an empty (or deleted) namespace.`, {
          namespace: this.namespace,
        });
      }
      const now = Date.now();
      await registryOf(this.env).record(this.namespace, now); // listed before it holds data, as ingest does
      this.ensureSchema();
      this.useConfig(state.config);
      this.aggregator = this.newAggregator();
      for (const record of state.buckets) this.aggregator.restore(record);
      this.aggregator.markAllChanged();
      // Through ingest, so that pending events are held as pending rows (or counted, if due):
      // provisionally, so that a failed checkpoint below leaves none behind.
      this.pending.provisionally(() => this.aggregator.ingest(state.pending, now));
      this.aggregator.advance(now);
      if (!this.checkpoint(now)) {
        await this.start(); // back to what storage holds: the namespace stays empty
        throw internal(`Namespace "${this.namespace}": the import could not be written.`);
      }
      this.store.setMeta("config", state.config);
      this.shards.configure(state.config.ingestShards, now);
      for (const { item, suppressedAt } of state.suppressions) this.suppressions.add(item, suppressedAt.getTime());
      this.store.setMeta("createdAt", now);
      this.exists = true;
      this.refreshedInputs = undefined;
      await this.schedule(now);
      return { buckets: state.buckets.length, pending: state.pending.length };
    });
  }

  /**
   * Erases data, config, snapshots, the KV mirror and the alarm. Only the generation survives,
   * one higher, so that edge entries of the old namespace can never answer for a new one.
   */
  erase(): Promise<Outcome<{ generation: number }>> {
    return this.run("erase", async () => {
      this.requireExisting();
      const generation = this.generation + 1;
      // Unlisted first: if the erase then fails, a retried DELETE still finds the data to erase.
      await registryOf(this.env).drop(this.namespace);
      await this.shards.eraseAll();
      await this.mirror.dropOlderThan(this.namespace, Number.POSITIVE_INFINITY);
      await this.store.eraseAll();
      migrate(this.ctx.storage);
      this.store.setMeta("generation", generation);
      await this.start();
      return { generation };
    });
  }
}
