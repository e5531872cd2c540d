/**
 * What a namespace's object holds in memory, and how it is rebuilt from SQLite: the aggregation
 * core, the config and what it plans, the generation, the answers held, the service metrics, and
 * the handles of its storage (store, pending events, suppressions, shards, the KV mirror).
 * Memory is a cache of SQLite: `load` rebuilds all of it, and nothing here survives otherwise.
 */
import {
  DEFAULT_CONFIG,
  type CacheReport,
  type NamespaceConfig,
  type NamespaceDescriptor,
  type ReadQuery,
  type Segment,
} from "../src/shared/contract";
import { Aggregator } from "../src/core/aggregator";
import { emptyMetrics, layersOf, type ServiceMetrics } from "../src/core/metrics";
import { MAX_PENDING_EVENTS } from "../src/core/pending";
import { MAX_DEMANDED, plan, type BuildContext } from "../src/core/snapshots";
import { TallyError, notFound } from "../src/shared/errors";
import { snapshotKey } from "../src/shared/keys";
import { registryOf } from "../src/shared/rpc";
import { HeldAnswers } from "./held-answers";
import { SnapshotMirror } from "./mirror";
import { migrate } from "./migrations";
import { StoredPending } from "./pending-events";
import { ShardMerger } from "./shard-merger";
import { NamespaceStore } from "./store";
import { SuppressionList } from "./suppressions";
import { AuditLog } from "./audit-log";

export class NamespaceState {
  readonly store: NamespaceStore;
  readonly mirror: SnapshotMirror;
  readonly suppressions: SuppressionList;
  /** Every admin action on the namespace (migrations/0005_audit.sql). */
  readonly audit: AuditLog;
  /** Future-stamped events, held in SQLite only (pending-events.ts). */
  readonly pending: StoredPending;
  /** The ingest shards' side of this namespace (`ingestShards`). */
  readonly shards: ShardMerger;
  /** The answers held in memory, within their budget (held-answers.ts). */
  readonly answers = new HeldAnswers();
  /** Queries outside the plan, by key, with the time they were last read. */
  readonly demanded = new Map<string, { query: ReadQuery; readAt: number }>();
  /** False while the object was never written to: reads of an unknown name create no database. */
  hasSchema = false;
  exists = false;
  config: NamespaceConfig = DEFAULT_CONFIG;
  /** The answers the refresh loop precomputes, by snapshot key; derived from the config. */
  planned = new Map<string, ReadQuery>();
  generation = 0;
  freshSince = 0;
  metrics: ServiceMetrics = emptyMetrics();
  aggregator: Aggregator;
  /** (v1.7) The segments the last refresh precomputed (snapshots.ts, `hotSegments`). */
  hotSegments: Segment[] = [];
  /** Batches counted since the object started: part of what a refresh compares. */
  batchesCounted = 0;

  constructor(
    readonly namespace: string,
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    /** Called when memory can no longer be trusted: the object starts again from SQLite. */
    private readonly untrusted: () => void,
  ) {
    this.store = new NamespaceStore(storage);
    this.mirror = new SnapshotMirror(env.SNAPSHOTS);
    this.suppressions = new SuppressionList(this.store.sql);
    this.audit = new AuditLog(this.store.sql);
    this.pending = new StoredPending(this.store.sql);
    this.shards = new ShardMerger(env, namespace, this.store);
    this.aggregator = this.newAggregator();
  }

  /**
   * Rebuilds memory from SQLite: migrations, checkpoint, the pending events' count, then the log
   * replayed on top. A stored state of a format this build does not know stops start-up with an
   * error (UnknownFormatError): nothing is guessed.
   */
  load(): void {
    this.hasSchema = this.store.hasSchema();
    this.exists = false;
    this.generation = 0;
    this.freshSince = 0;
    this.metrics = emptyMetrics();
    this.useConfig(DEFAULT_CONFIG);
    this.answers.clear();
    this.pending.clear();
    this.aggregator = this.newAggregator();
    this.shards.load(DEFAULT_CONFIG.ingestShards, false);
    if (!this.hasSchema) return; // never written: nothing to load, and nothing is written now
    migrate(this.storage);
    this.exists = this.store.getMeta<number>("createdAt") !== undefined;
    this.useConfig(this.store.getMeta<NamespaceConfig>("config") ?? DEFAULT_CONFIG);
    this.generation = this.store.getMeta<number>("generation") ?? 0;
    this.freshSince = this.store.getMeta<number>("freshSince") ?? 0;
    // Stored under "counters", its name before it was called metrics: a stored name stays.
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
    this.aggregator.advance(Date.now());
  }

  /** An empty core for the current config, which ranks without the suppressed items (the list is
   * live: a suppression added later is seen at once), and whose budget counts what is held
   * beside it. */
  newAggregator(): Aggregator {
    const aggregator = new Aggregator({
      capacity: this.config.capacity,
      types: Object.keys(this.config.types),
      timezone: this.config.timezone,
      dimensions: this.config.dimensions,
      pending: this.pending,
      heldBeside: () => this.answers.bytes + this.suppressions.bytes,
    });
    aggregator.hide(this.suppressions);
    return aggregator;
  }

  /** Creates the schema on the first write; until then the object holds no database at all. */
  ensureSchema(): void {
    if (this.hasSchema) return;
    migrate(this.storage);
    this.hasSchema = true;
  }

  /** Lists the namespace in the registry and creates its schema: before its first data is
   * written. Idempotent; if the registry cannot be reached, nothing is written. */
  async open(now: number): Promise<void> {
    if (!this.exists) await registryOf(this.env).record(this.namespace, now);
    this.ensureSchema();
  }

  /** From now on the namespace exists: it holds data (reads answer, `/cache` reports). */
  markCreated(now: number): void {
    if (this.exists) return;
    this.store.setMeta("createdAt", now);
    this.exists = true;
  }

  /** The namespace's creation, for a first event or a first shard's batch. */
  async create(now: number): Promise<void> {
    await this.open(now);
    this.markCreated(now);
  }

  requireExisting(): void {
    if (!this.exists) throw notFound(this.namespace);
  }

  useConfig(config: NamespaceConfig): void {
    // A config stored before a field existed (e.g. hotHalfLifeSeconds) takes that field's default.
    this.config = { ...DEFAULT_CONFIG, ...config };
    this.planned = new Map(plan(this.config).map((q) => [snapshotKey(q), q]));
  }

  /** Cached copies computed before `at` may no longer be served (see NamespaceDescriptor). */
  markFresh(at: number): void {
    this.freshSince = at;
    this.store.setMeta("freshSince", at);
  }

  context(at: number): BuildContext {
    return { namespace: this.namespace, generation: this.generation, at, config: this.config };
  }

  /** Keeps `query`, read outside the plan, warm; the least recently read beyond MAX_DEMANDED go. */
  demand(key: string, query: ReadQuery, now: number): void {
    this.demanded.delete(key); // re-inserted last: the Map's order is the order of reads
    this.demanded.set(key, { query, readAt: now });
    if (this.demanded.size > MAX_DEMANDED) this.demanded.delete(this.demanded.keys().next().value!);
  }

  describe(): NamespaceDescriptor {
    const { config } = this;
    return {
      exists: this.exists,
      generation: this.generation,
      maxLimit: config.maxLimit,
      types: Object.keys(config.types),
      dimensions: config.dimensions ?? {},
      ingestShards: config.ingestShards,
      weights: Object.fromEntries(Object.entries(config.types).flatMap(([type, t]) => (t.weight === undefined ? [] : [[type, t.weight]]))),
      windows: config.windows,
      refreshSeconds: config.refreshSeconds,
      staleSeconds: config.staleSeconds,
      freshSince: this.freshSince,
      limits: config.limits ?? {},
      embedAncestors: config.embedAncestors ?? [],
      batchColumns: true,
      dimColumns: true,
    };
  }

  /** (v1.7) What `/cache` says of segments. */
  segmentReport(): NonNullable<CacheReport["segments"]> {
    const isSegment = (key: string) => key.includes(";segment=");
    let warm = 0;
    for (const key of this.demanded.keys()) if (isSegment(key)) warm += 1;
    const { segmentReads } = this.metrics;
    return { hot: this.hotSegments, held: this.answers.count(isSegment), warm, reads: segmentReads.edge.hits + segmentReads.edge.misses, layers: layersOf(segmentReads) };
  }

  saveMetrics(): void {
    this.metrics.largestRowBytes = Math.max(this.metrics.largestRowBytes, this.store.sql.largestRowBytes);
    try {
      this.store.setMeta("counters", this.metrics);
    } catch (error) {
      console.error(`NamespaceAggregator "${this.namespace}": metrics not saved`, error);
    }
  }

  /** A batch that would hold more than MAX_PENDING_EVENTS is refused whole until some are due. */
  tooManyPending(now: number): TallyError {
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
   * Merges what the ingest shards hold into the state (shard-merger.ts), and resolves to the time
   * of the last delta that held events (undefined if none did). A merge that throws part-way may
   * have counted part of a delta whose rows will be pulled again, so memory can no longer be
   * trusted: the caller (a refresh) stops before its checkpoint, and the next call starts the
   * object again from its last checkpoint and cursors, which nothing touched.
   */
  async mergeShards(): Promise<number | undefined> {
    let failure: unknown;
    let active: number | undefined;
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
      if (delta.events > 0) active = now;
    });
    if (failure === undefined) return active;
    this.untrusted();
    throw failure;
  }
}
