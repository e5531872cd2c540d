/**
 * The refresh loop of a namespace's object: one platform alarm that merges the shards, advances
 * the core, holds its memory budget, checkpoints, precomputes every answer and mirrors it to KV,
 * then sets itself again. Its schedule is derived from stored state, so a restart heals a lost
 * alarm, and scheduling is idempotent, so it is safe on every wake.
 */
import { BATCH_ID_TTL_MS, WINDOWS, type AnswerChange, type ReadQuery, type ReadWindow, type SerialisedAnswer } from "../src/shared/contract";
import { answerRoom } from "../src/core/budget";
import { buildSnapshot, builtBreakdown, hotSegments, segmentQueries } from "../src/core/snapshots";
import { previousRange, windowRange } from "../src/core/tiers";
import { KV_MIN_EXPIRATION_TTL_SECONDS, snapshotKey } from "../src/shared/keys";
import type { ChangeFeed } from "./change-feed";
import type { NamespaceState } from "./namespace-state";
import { messageOf } from "./outcome";

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

export class RefreshLoop {
  private running: Promise<number> | undefined;
  /** The one refresh waiting behind the running one, shared by every caller that asks meanwhile. */
  private queued: Promise<number> | undefined;
  /** What the last refresh computed from (see `inputsAt`); undefined forces a full refresh. */
  private refreshedInputs: string | undefined;
  /** The last event or read; the loop stops after IDLE_STOP_MS without one. */
  private lastActivity = 0;
  private stopped = false;
  /** When the platform alarm is set for, as this loop last set or read it: null when none is set,
   * undefined until read. Every ingested batch asks whether an alarm is set; getAlarm is a storage
   * call, so it is read once per start and kept here, since only this loop sets the alarm. */
  private alarmAt: number | null | undefined;

  constructor(
    private readonly state: NamespaceState,
    private readonly ctx: DurableObjectState,
    /** Told of every answer a refresh changes, once all are computed (change-feed.ts). */
    private readonly feed: ChangeFeed,
  ) {}

  /** Start-up: a wake is activity, and the next refresh computes everything. */
  reset(now: number): void {
    this.lastActivity = now;
    this.stopped = false;
    this.refreshedInputs = undefined;
    this.alarmAt = undefined; // an erase deletes the alarm, then starts again
  }

  /** The platform delivered the alarm: none is set any more (the object's `alarm()` calls this first). */
  fired(): void {
    this.alarmAt = null;
  }

  private async setAlarm(at: number): Promise<void> {
    await this.ctx.storage.setAlarm(at);
    this.alarmAt = at;
  }

  /** The next refresh writes everything again (a new config, an import, a new generation). */
  forget(): void {
    this.refreshedInputs = undefined;
  }

  /**
   * Sets the next alarm if data is held: idempotent, safe on every wake. One platform alarm per
   * object, and it does not repeat. `replace` moves an existing alarm to the new period (a
   * config change); otherwise an alarm already set is kept.
   */
  async schedule(now: number, replace = false): Promise<void> {
    if (!this.state.aggregator.hasData(now) && !this.state.shards.active) return;
    if (!replace) {
      this.alarmAt ??= await this.ctx.storage.getAlarm();
      if (this.alarmAt !== null) return;
    }
    const period = this.state.config.refreshSeconds * 1000;
    await this.setAlarm(now + period * (1 - REFRESH_JITTER * Math.random()));
  }

  /**
   * After a merge that left events in a shard (shard-merger.ts, `behind`), sets the next refresh a
   * second away rather than a refresh period, so that a shard's backlog cannot grow faster than
   * it is merged. True if it did.
   */
  private async catchUp(now: number): Promise<boolean> {
    if (!this.state.shards.behind) return false;
    await this.setAlarm(now + CATCH_UP_MS);
    return true;
  }

  /** The next alarm after a refresh asked for outside the loop (an admin's refresh). */
  async next(now: number): Promise<void> {
    if (!(await this.catchUp(now))) await this.schedule(now);
  }

  /** Records activity; restarts a loop that stopped for idleness. */
  async wake(now: number): Promise<void> {
    this.lastActivity = now;
    if (!this.stopped) return; // a running loop keeps its alarm: no storage read per call
    this.stopped = false;
    await this.schedule(now, true);
  }

  /**
   * One alarm of the loop. A failure is caught, logged, counted and rescheduled here rather than
   * left to the platform's limited retries. Delivery is at least once; a duplicate only
   * recomputes the same snapshots.
   */
  async alarm(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      console.error(`NamespaceAggregator "${this.state.namespace}": refresh failed`, error);
    }
    const now = Date.now();
    if (await this.catchUp(now)) return;
    if (now - this.lastActivity > IDLE_STOP_MS && this.state.pending.size === 0 && !this.feed.busy()) {
      this.stopped = true; // no alarm: the next event or read sets one
      return;
    }
    await this.schedule(now);
  }

  /**
   * Precomputes now and resolves to the new `computedAt`. A refresh already running may have
   * started before the caller's writes, so the caller gets the one queued behind it: however
   * many callers ask meanwhile, at most one more refresh runs.
   */
  refresh(): Promise<number> {
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
  refreshBehind(): void {
    if (this.running || this.queued) return;
    this.ctx.waitUntil(this.refresh().catch(() => {}));
  }

  /**
   * What every answer at `at` is computed from, once advanced to it, but for `at` itself: the
   * batches counted, the pending events (held, and counted up to when), and the ranges of every
   * window and of the periods rank=rising compares with. When they are the same as at the last
   * refresh, every answer is the same but for its `to` and `computedAt`, and nothing needs writing.
   */
  private inputsAt(at: number): string {
    const { batchesCounted, pending, generation } = this.state;
    const ranges = WINDOWS.map((w) => `${windowRange(w, at).from}/${previousRange(w, at).from}`);
    // Every calendar window's range moves at a local midnight, and only then.
    const day = this.state.aggregator.dayStart(at);
    return `${batchesCounted}|${pending.size}|${pending.countedBefore}|${generation}|${ranges.join(",")}|${day}`;
  }

  private async refreshOnce(): Promise<number> {
    const { state } = this;
    const started = Date.now();
    let unchanged = false;
    try {
      // Shards first, so that this refresh answers with every event they accepted before it.
      const active = await state.mergeShards();
      if (active !== undefined) this.lastActivity = active;
      const at = Date.now();
      state.aggregator.advance(at); // once per refresh; the queries below only read
      const inputs = this.inputsAt(at);
      unchanged = inputs === this.refreshedInputs;
      // An isolate is reset above 128 MB, and local workerd never says so: the object holds its
      // own accounted budget (core/budget.ts), compacting and then cutting older buckets.
      state.aggregator.holdBudget();
      // An unchanged refresh writes nothing to SQLite or KV: the answers are recomputed in memory
      // only, so the object's own copies stay fresh, and KV keeps the copies it has.
      const durable = unchanged || this.checkpoint(at);
      await this.computeAll(at, !unchanged);
      // After a failed checkpoint the next refresh is never "unchanged": it must retry the write.
      this.refreshedInputs = durable ? inputs : undefined;
      state.metrics.refreshes += 1;
      state.metrics.lastRefresh = { at: new Date(at).toISOString(), durationMs: Date.now() - started, outcome: "ok" };
      return at;
    } catch (error) {
      state.metrics.refreshErrors += 1;
      state.metrics.lastRefresh = { at: new Date(started).toISOString(), durationMs: Date.now() - started, outcome: "error", error: messageOf(error) };
      throw error;
    } finally {
      if (!unchanged) state.saveMetrics();
    }
  }

  /**
   * Writes what the last checkpoint lacks. A failure is counted and the refresh goes on: the
   * snapshots are computed from memory all the same, and since nothing is marked durable and
   * the log is not truncated, the next checkpoint writes all of it again.
   */
  checkpoint(at: number): boolean {
    const { state } = this;
    try {
      const delta = state.aggregator.checkpoint();
      // The shards' cursors and batch ids go in the same transaction as the buckets they produced.
      const shards = state.shards.checkpoint();
      // Due pending events change buckets, and provisional pending rows come with shard cursors.
      const unchanged = delta.changed.length === 0 && delta.expired.length === 0 && !shards.changed;
      if (!unchanged) state.store.writeCheckpoint(delta, state.pending, shards.write);
      shards.commit();
      state.store.pruneBatchIds(at - BATCH_ID_TTL_MS);
      state.metrics.lastCheckpoint = { at: new Date(at).toISOString(), outcome: "ok" };
      return true;
    } catch (error) {
      console.error(JSON.stringify({ object: "NamespaceAggregator", namespace: state.namespace, method: "checkpoint", cause: messageOf(error) }));
      state.metrics.checkpointErrors += 1;
      state.metrics.lastCheckpoint = { at: new Date(at).toISOString(), outcome: "error", error: messageOf(error) };
      return false;
    }
  }

  /**
   * Computes every planned answer and every answer read recently outside the plan, holds those
   * that fit (held-answers.ts), and with `mirror` writes each to KV as it is computed. The answers
   * are computed in one turn, so that all of them describe one state of the aggregator. Each
   * followed answer that differs from the one before it is one change of the change feed, emitted
   * once all are computed; the feed's listeners send them behind the refresh.
   */
  computeAll(at: number, mirror: boolean): Promise<unknown> {
    const { state } = this;
    const queries = new Map(state.planned);
    for (const [key, d] of state.demanded) {
      // A followed answer (a live socket, a webhook) stays computed however long ago it was read.
      if (at - d.readAt > DEMAND_TTL_MS && !this.feed.watched(key)) state.demanded.delete(key);
      else queries.set(key, d.query);
    }
    const ctx = state.context(at);
    // The answers get what the budget leaves beside the buckets and suppressions (budget.ts).
    const others = state.aggregator.memoryBytes() - state.answers.bytes;
    state.answers.clear(answerRoom(state.aggregator.budgetBytes, others));
    const writes: Promise<void>[] = [];
    // KV keeps a mirrored answer through its stale period, and never less than KV's 60 s minimum.
    const ttl = Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, state.config.staleSeconds + 2 * state.config.refreshSeconds);
    const changes: AnswerChange[] = [];
    const compute = (key: string, query: ReadQuery) => {
      const snapshot = buildSnapshot(state.aggregator, query, ctx);
      const answer: SerialisedAnswer = { body: JSON.stringify(snapshot), computedAt: at };
      state.answers.hold(key, answer);
      if (mirror) writes.push(state.mirror.put(state.namespace, state.generation, key, answer, ttl));
      if (this.feed.watched(key) && this.feed.differs(key, snapshot)) changes.push({ key, generation: state.generation, ...answer });
    };
    // One state for every answer, so the answers of one window share its merges (aggregator.ts).
    state.aggregator.sharing(() => {
      for (const [key, query] of queries) compute(key, query);
      // (v1.7) Then the hot segments, chosen by the breakdowns just built (snapshots.ts, HOT_SEGMENTS).
      const breakdownOf = (window: ReadWindow, dimension: string) => builtBreakdown(state.aggregator, ctx, window, dimension);
      state.hotSegments = hotSegments(state.config, breakdownOf);
      for (const query of segmentQueries(state.config, state.hotSegments)) {
        const key = snapshotKey(query);
        if (!queries.has(key)) compute(key, query);
      }
    });
    this.feed.emit(changes);
    return Promise.all(writes);
  }
}
