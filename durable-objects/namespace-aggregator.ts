/**
 * NamespaceAggregator: one Durable Object per namespace (idFromName), the authoritative state.
 *
 * In memory it holds the aggregation core and the latest answers, for speed (namespace-state.ts);
 * SQLite holds what must survive (the batch log, checkpoints, pending events, config, generation,
 * metrics). Its surface is start-up, a few RPC methods and `alarm()`, which drives the refresh
 * loop (refresh-loop.ts); the logic lives in the pure modules of src/core.
 */
import { DurableObject } from "cloudflare:workers";
import {
  BATCH_ID_TTL_MS,
  type CacheReport,
  type Described,
  type IngestResult,
  type LiveFollow,
  type NamespaceConfig,
  type NamespaceDescriptor,
  type ReadCounts,
  type ReadQuery,
  type SnapshotRead,
  type SuppressionChange,
  type SuppressionPage,
  type WebhookPut,
  type WebhookSpec,
  type WebhookStatus,
} from "../src/shared/contract";
import { defaultWeight, parseConfig } from "../src/core/config";
import { addReadCounts, cacheReport } from "../src/core/metrics";
import { MAX_PENDING_EVENTS, splitDue } from "../src/core/pending";
import { buildSnapshot } from "../src/core/snapshots";
import { EXPORT_FORMAT, EXPORT_VERSION, encodeExport, type NamespaceExport, type NamespaceImport } from "../src/core/export";
import type { Actor, AuditAction, AuditPage } from "../src/shared/audit";
import { TallyError, internal, type Outcome } from "../src/shared/errors";
import { snapshotKey } from "../src/shared/keys";
import { registryOf } from "../src/shared/rpc";
import { eventsOf, type BatchColumns } from "../src/shared/batch-columns";
import { checkDims, type IncomingBatch } from "../src/shared/validate";
import { MAX_ROW_BYTES } from "./guarded-sql";
import { migrate } from "./migrations";
import { NamespaceState } from "./namespace-state";
import { outcomeOf } from "./outcome";
import { RefreshLoop } from "./refresh-loop";
import { ChangeFeed } from "./change-feed";
import { LiveFanOut } from "./live-fan-out";
import { WebhookList } from "./webhooks";
import { Startup } from "./startup";

function namespaceOf(id: DurableObjectId): string {
  if (id.name === undefined) throw new Error("NamespaceAggregator: the object must be addressed with idFromName(namespace).");
  return id.name;
}

export class NamespaceAggregator extends DurableObject<Env> {
  /** Every entry point awaits it first (startup.ts). */
  private readonly startup = new Startup(this.ctx, () => this.start());
  /** The namespace this object serves: the name its id was made from (idFromName), available
   * to the object itself, so no RPC call needs to carry it. */
  private readonly state = new NamespaceState(namespaceOf(this.ctx.id), this.ctx.storage, this.env, () => this.startup.reset());
  /** The relays that follow this namespace's answers, told of every change (live-fan-out.ts). */
  private readonly live = new LiveFanOut({ sql: this.state.store.sql, ctx: this.ctx, namespace: this.state.namespace }, this.env);
  /** The namespace's webhooks, told of every change of the rankings they watch (webhooks.ts). */
  private readonly webhooks = new WebhookList(this.state.store.sql, this.ctx, this.state.namespace);
  /** Every answer's changes, from every refresh, to every listener (change-feed.ts). */
  private readonly feed = new ChangeFeed([this.live, this.webhooks]);
  private readonly loop = new RefreshLoop(this.state, this.ctx, this.feed);

  /** Rebuilds memory from SQLite, computes every planned answer from it, and sets the alarm. */
  private async start(): Promise<void> {
    const now = Date.now();
    this.state.load();
    this.loop.reset(now);
    if (!this.state.hasSchema) return; // never written: nothing is written now either
    this.live.load();
    this.webhooks.load();
    if (this.state.exists) void this.loop.computeAll(now, false); // a restarted object answers at once, never cold
    // The alarm is derived from stored state, so a restart heals a lost schedule.
    await this.loop.schedule(now);
  }

  /** Runs an RPC method once the object has started (outcome.ts puts its failures in categories). */
  private run<T>(method: string, body: () => Promise<T> | T): Promise<Outcome<T>> {
    return outcomeOf({ object: "NamespaceAggregator", namespace: this.state.namespace, method }, async () => {
      await this.startup.ready();
      return body();
    });
  }

  /**
   * Runs an admin action and records it in the audit log in the same turn as its last write, so
   * an action that answered is recorded once and a refused or failed one never. `actor` is
   * optional only for an older Worker during a deploy (docs/api.md, "Audit log").
   */
  private audited<T>(method: string, actor: Actor | undefined, action: AuditAction, target: string, body: () => Promise<T> | T): Promise<Outcome<T>> {
    return this.run(method, async () => {
      const value = await body();
      this.state.audit.record(actor ?? "unknown", action, target);
      return value;
    });
  }

  /** A change's answer with the descriptor it leaves, so that the Worker needs no second call. */
  private described<T>(value: T): Described<T> {
    return { ...value, descriptor: this.state.describe() };
  }

  // ---- ingest ------------------------------------------------------------------------------

  /** Counts a validated batch, sent as columns (batch-columns.ts). The batch is in SQLite before
   * this returns: the output gate holds the answer until the write is durable. Logging and
   * counting happen in one turn, so a checkpoint (also one turn) never sees a logged batch that
   * memory has not counted. */
  ingest(batch: BatchColumns | IncomingBatch): Promise<Outcome<IngestResult>> {
    return this.run("ingest", async () => {
      const { state } = this;
      const now = Date.now();
      // Listed before its first batch is counted, and before the batch-id check, so no other
      // request runs between that check and the append. Idempotent; if it fails the batch is refused.
      await state.create(now);
      if (batch.batchId !== undefined) {
        const seen = state.store.findBatch(batch.batchId, now - BATCH_ID_TTL_MS) ?? state.shards.heldBatch(batch.batchId);
        if (seen) return { accepted: seen.accepted, duplicate: true };
      }
      const weightOf = (type: string) => defaultWeight(state.config, type);
      // A Worker of the previous version sends events as objects, during a deploy (contract.ts).
      const events = "events" in batch ? batch.events.map((e) => ({ ...e, weight: e.weight ?? weightOf(e.type) })) : eventsOf(batch, weightOf);
      // The namespace's own config is the authority on its dimensions: a Worker's descriptor may be
      // a refresh period old (docs/api.md, "Segments").
      checkDims(events, state.config.dimensions);
      const { due, ahead } = splitDue(events, state.pending, now);
      if (ahead.length > 0 && state.pending.size + ahead.length > MAX_PENDING_EVENTS) throw state.tooManyPending(now);
      state.store.appendBatch(now, { due, ahead }, batch.batchId, state.pending);
      state.aggregator.ingest(due, now);
      state.batchesCounted += 1;
      await this.loop.wake(now);
      await this.loop.schedule(now); // a first event, or one after the windows emptied, starts the loop
      return { accepted: events.length, duplicate: false };
    });
  }

  /**
   * Ingest shard `index` is about to log its first batch since this object last found it empty:
   * the namespace now exists (listed, as ingest lists it), the shard is pulled from now on, and a
   * stopped loop starts again. The shard logs nothing until this returned.
   */
  shardAwake(index: number): Promise<Outcome<null>> {
    return this.run("shardAwake", async () => {
      const now = Date.now();
      await this.state.create(now);
      this.state.shards.widen(index, now);
      await this.loop.wake(now);
      await this.loop.schedule(now);
      return null;
    });
  }

  // ---- reads -------------------------------------------------------------------------------

  describe(): Promise<Outcome<NamespaceDescriptor>> {
    return this.run("describe", () => this.state.describe());
  }

  /**
   * The latest snapshot of `query`, computed now only if none is held (`MISS`). With
   * `compute: true` it is always computed now and kept nowhere: the benchmark's compute-on-read.
   */
  read(query: ReadQuery, options: { compute?: boolean } = {}): Promise<Outcome<SnapshotRead>> {
    return this.run("read", () => this.answer(query, options.compute === true));
  }

  /**
   * A relay opens a socket of `query`'s answer: from now on it is told of every change of that
   * answer (live-fan-out.ts), and it gets the current answer to send first.
   */
  follow({ relay, query }: LiveFollow): Promise<Outcome<SnapshotRead>> {
    return this.run("follow", async () => {
      const answer = await this.answer(query, false);
      const key = snapshotKey(query);
      this.live.follow(relay, key);
      this.feed.note(key, answer.body);
      return answer;
    });
  }

  private async answer(query: ReadQuery, compute: boolean): Promise<SnapshotRead> {
    const { state } = this;
    state.requireExisting();
    const now = Date.now();
    await this.loop.wake(now);
    const key = snapshotKey(query);
    if (!state.planned.has(key)) state.demand(key, query, now);
    const held = compute ? undefined : state.answers.get(key);
    if (held) {
      // Stale-while-revalidate inside the object too: a snapshot older than the refresh period
      // (a late alarm, or an idle namespace whose windows slid) is served, and refreshed behind.
      if (now - held.computedAt > state.config.refreshSeconds * 1000) this.loop.refreshBehind();
      return { ...held, generation: state.generation, source: "HIT-DO" as const };
    }
    state.aggregator.advance(now); // counts what came due since the last refresh, first
    const body = JSON.stringify(buildSnapshot(state.aggregator, query, state.context(now)));
    if (!compute) {
      state.answers.hold(key, { body, computedAt: now });
      state.metrics.syncComputes += 1;
    }
    return { body, computedAt: now, generation: state.generation, source: "MISS" as const };
  }

  // ---- the refresh loop --------------------------------------------------------------------

  /** One platform alarm drives the loop (refresh-loop.ts). */
  override async alarm(): Promise<void> {
    this.loop.fired();
    await this.startup.ready();
    if (!this.state.exists) return;
    await this.loop.alarm();
    // Webhook retries come due between refreshes: each alarm sends what is due, behind itself.
    if (this.webhooks.size > 0) this.webhooks.delivery.sendDue();
  }

  // ---- admin -------------------------------------------------------------------------------

  refreshNow(actor?: Actor): Promise<Outcome<Described<{ computedAt: number; generation: number }>>> {
    return this.audited("refreshNow", actor, "namespace.refresh", this.state.namespace, async () => {
      this.state.requireExisting();
      const computedAt = await this.loop.refresh();
      this.state.markFresh(computedAt);
      await this.loop.next(Date.now());
      return this.described({ computedAt, generation: this.state.generation });
    });
  }

  /** Bumps the generation, drops every snapshot in memory and KV, and recomputes at once. */
  invalidate(actor?: Actor): Promise<Outcome<Described<{ generation: number }>>> {
    return this.audited("invalidate", actor, "namespace.invalidate", this.state.namespace, async () => {
      this.state.requireExisting();
      return this.described({ generation: await this.regenerate() });
    });
  }

  /** Bumps the generation, drops every answer held in memory and KV, and recomputes at once. */
  private async regenerate(): Promise<number> {
    const { state } = this;
    state.generation += 1;
    state.store.setMeta("generation", state.generation);
    state.answers.clear();
    this.loop.forget();
    await state.mirror.dropOlderThan(state.namespace, state.generation);
    state.markFresh(await this.loop.refresh());
    return state.generation;
  }

  getConfig(): Promise<Outcome<NamespaceConfig>> {
    return this.run("getConfig", () => this.state.config);
  }

  /** Replaces the config; it takes effect from the next refresh, which follows the new period
   * at once (docs/api.md, "Config"). The Worker validated it; it is checked again here, because
   * an older Worker may call a newer object during a deploy. */
  putConfig(body: unknown, actor?: Actor): Promise<Outcome<NamespaceConfig>> {
    return this.audited("putConfig", actor, "config.put", this.state.namespace, async () => {
      const { state } = this;
      const config = parseConfig(body);
      state.ensureSchema();
      state.store.setMeta("config", config);
      state.useConfig(config);
      state.aggregator.configure({ capacity: config.capacity, types: Object.keys(config.types), timezone: config.timezone, dimensions: config.dimensions });
      state.shards.configure(config.ingestShards, Date.now());
      this.loop.forget();
      await this.loop.schedule(Date.now(), true);
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
  suppress(item: string, actor?: Actor): Promise<Outcome<Described<SuppressionChange>>> {
    return this.audited("suppress", actor, "suppression.put", item, async () => {
      this.state.requireExisting();
      const { created, suppressedAt } = this.state.suppressions.add(item, Date.now());
      const generation = await this.regenerate();
      const at = new Date(suppressedAt).toISOString();
      return this.described({ namespace: this.state.namespace, item, suppressed: true, suppressedAt: at, created, generation });
    });
  }

  /** Shows `item` again, with all its counts, and regenerates like `suppress`. */
  unsuppress(item: string, actor?: Actor): Promise<Outcome<Described<SuppressionChange>>> {
    return this.audited("unsuppress", actor, "suppression.delete", item, async () => {
      this.state.requireExisting();
      this.state.suppressions.remove(item);
      return this.described({ namespace: this.state.namespace, item, suppressed: false, generation: await this.regenerate() });
    });
  }

  /** A page of the audit log, newest first; a namespace never written to has none. */
  auditPage(before: number | null, limit: number): Promise<Outcome<AuditPage>> {
    return this.run("auditPage", () => (this.state.hasSchema ? this.state.audit.page(before, limit) : { entries: [], cursor: null }));
  }

  listSuppressions(after: string | null, limit: number): Promise<Outcome<SuppressionPage>> {
    return this.run("listSuppressions", () => {
      const { state } = this;
      state.requireExisting();
      return { namespace: state.namespace, total: state.suppressions.size, ...state.suppressions.page(after, limit) };
    });
  }

  /** Adds a Worker isolate's batch of read counts. */
  recordReads(counts: Partial<ReadCounts>, segments?: Partial<ReadCounts>): Promise<Outcome<null>> {
    return this.run("recordReads", async () => {
      if (!this.state.exists) return null; // reads of unknown namespaces leave no trace
      addReadCounts(this.state.metrics.reads, counts);
      if (segments) addReadCounts(this.state.metrics.segmentReads, segments);
      this.state.saveMetrics();
      await this.loop.wake(Date.now()); // reads served by the edge or KV are activity too
      return null;
    });
  }

  cacheStats(): Promise<Outcome<CacheReport>> {
    return this.run("cacheStats", async () => {
      const { state } = this;
      state.requireExisting();
      const { aggregator, metrics } = state;
      const storage = { largestRowBytes: Math.max(metrics.largestRowBytes, state.store.sql.largestRowBytes), maxRowBytes: MAX_ROW_BYTES };
      const memory = { bytes: aggregator.memoryBytes(), budgetBytes: aggregator.budgetBytes, cuts: aggregator.budgetCuts };
      const ingest = { shards: state.config.ingestShards, perShard: await state.shards.status(Date.now()) };
      const live = { relays: this.live.relays, pushes: this.live.pushes, pushFailures: this.live.pushFailures };
      return { ...cacheReport(state.namespace, state.generation, metrics, { storage, memory, ingest }), live, webhooks: this.webhooks.report(), segments: state.segmentReport() };
    });
  }

  // ---- webhooks (webhooks.ts) -----------------------------------------------------------------

  /** Creates or replaces a webhook (the Worker validated `spec`). */
  putWebhook(id: string, spec: WebhookSpec): Promise<Outcome<WebhookPut>> {
    return this.run("putWebhook", () => {
      this.state.requireExisting();
      return this.webhooks.put(id, spec, this.state.config, (key) => this.state.answers.get(key)?.body, Date.now());
    });
  }

  listWebhooks(): Promise<Outcome<WebhookStatus[]>> {
    return this.run("listWebhooks", () => {
      this.state.requireExisting();
      return this.webhooks.list();
    });
  }

  deleteWebhook(id: string): Promise<Outcome<{ deleted: boolean }>> {
    return this.run("deleteWebhook", () => {
      this.state.requireExisting();
      return { deleted: this.webhooks.delete(id) };
    });
  }

  // ---- export and import (the document itself is src/core/export.ts) --------------------------

  /** The namespace's whole state, from memory and its pending rows (which hold everything
   * acknowledged, once the ingest shards are merged), as the export document. */
  exportState(): Promise<Outcome<string>> {
    return this.run("exportState", async () => {
      const { state } = this;
      state.requireExisting();
      await state.mergeShards();
      const doc = {
        format: EXPORT_FORMAT,
        version: EXPORT_VERSION,
        namespace: state.namespace,
        exportedAt: new Date(),
        config: state.config,
        buckets: state.aggregator.buckets(),
        pending: state.pending.all(),
        suppressions: state.suppressions.all().map(({ item, suppressedAt }) => ({ item, suppressedAt: new Date(suppressedAt) })),
      } satisfies NamespaceExport;
      return encodeExport(doc);
    });
  }

  /** Restores an export into this empty namespace, durably before it answers: the state is
   * written by the one checkpoint path, and a failed write leaves the namespace empty. */
  importState(state: NamespaceImport, actor?: Actor): Promise<Outcome<{ buckets: number; pending: number }>> {
    return this.audited("importState", actor, "namespace.import", this.state.namespace, async () => {
      const held = this.state;
      if (held.exists) {
        throw new TallyError(409, "namespace_not_empty", `Namespace "${held.namespace}" holds data; import only into an empty (or deleted) namespace.`, {
          namespace: held.namespace,
        });
      }
      const now = Date.now();
      await held.open(now); // listed before it holds data, as ingest does
      held.useConfig(state.config);
      held.aggregator = held.newAggregator();
      for (const record of state.buckets) held.aggregator.restore(record);
      held.aggregator.markAllChanged();
      // Through ingest, so that pending events are held as pending rows (or counted, if due):
      // provisionally, so that a failed checkpoint below leaves none behind.
      held.pending.provisionally(() => held.aggregator.ingest(state.pending, now));
      held.aggregator.advance(now);
      if (!this.loop.checkpoint(now)) {
        await this.start(); // back to what storage holds: the namespace stays empty
        throw internal(`Namespace "${held.namespace}": the import could not be written.`);
      }
      held.store.setMeta("config", state.config);
      held.shards.configure(state.config.ingestShards, now);
      for (const { item, suppressedAt } of state.suppressions) held.suppressions.add(item, suppressedAt.getTime());
      held.markCreated(now);
      this.loop.forget();
      await this.loop.schedule(now);
      return { buckets: state.buckets.length, pending: state.pending.length };
    });
  }

  /**
   * Erases data, config, snapshots, the KV mirror and the alarm. Only the generation survives,
   * one higher, so that edge entries of the old namespace can never answer for a new one. The
   * erasure is recorded in the registry's audit log (this one is erased with the rest).
   */
  erase(actor?: Actor): Promise<Outcome<{ generation: number }>> {
    return this.run("erase", async () => {
      const { state } = this;
      state.requireExisting();
      const generation = state.generation + 1;
      // Unlisted first: if the erase then fails, a retried DELETE still finds the data to erase.
      await registryOf(this.env).drop(state.namespace, actor ?? "unknown");
      await this.live.closeAll();
      await state.shards.eraseAll();
      await state.mirror.dropOlderThan(state.namespace, Number.POSITIVE_INFINITY);
      await state.store.eraseAll();
      migrate(this.ctx.storage);
      state.store.setMeta("generation", generation);
      await this.start();
      return { generation };
    });
  }
}
