/**
 * The namespace's object's side of sharded ingest: which ingest shards may hold events, how far
 * each was merged, and the pulls that bring their events into the one authoritative state.
 *
 * Exactly once, across crashes of either side:
 * - Each shard numbers its log rows (never reusing a number). For each shard the object keeps
 *   `merged`, the last row counted in memory, and `durable`, the last row counted in a durable
 *   checkpoint. The next pull asks for rows after `merged` and acknowledges up to `durable`, and
 *   a shard drops a row only once it is acknowledged.
 * - A checkpoint writes the cursors in the same transaction as the buckets they produced. After a
 *   crash the object restarts from that checkpoint and its cursors, and pulls again whatever
 *   came after: the shard still holds it.
 * - Every batch id a pull brings is checked against the ids the namespace counted in the last 24
 *   hours (its own and the shards'), in the same turn as the merge. A batch already counted
 *   through another route (a retry sent before and after a change of `ingestShards`) is left out
 *   of the pull, so it is counted once.
 */
import { BATCH_ID_TTL_MS, type ShardLag } from "../src/shared/contract";
import type { ShardDelta } from "../src/core/shard-delta";
import { shardOf, valueOrThrow } from "../src/shared/rpc";
import { fanOut } from "./fan-out";
import type { PulledBatchId, ShardPull } from "./ingest-shard";
import { messageOf } from "./outcome";
import type { NamespaceStore } from "./store";

/** The most shards a namespace may have (CONFIG_BOUNDS.ingestShards). */
const MAX_SHARDS = 16;
/**
 * A merge pulls at most this many times from one shard (each about 1 MB of events, some 10,000),
 * so that one refresh stays far within an alarm's CPU limit however far a shard is ahead. A shard
 * with more is merged again by a catch-up refresh a second later (`behind`), until it is not.
 */
export const MAX_PULLS_PER_MERGE = 64;
/**
 * A retired shard (above `ingestShards`) is pulled until it is empty and at least this long has
 * passed since the change: a Worker routes by a descriptor it may hold for up to a refresh period
 * (Descriptors), so batches may still reach a retired shard after the change. The grace only spares
 * churn, never a batch: a shard outside the span calls `shardAwake` before it logs anything, which
 * puts it back (`widen`).
 */
export const DRAIN_GRACE_MS = 10 * 60_000;

/** Stored in `meta` under "shards". */
interface ShardsState {
  /** Shards 0 to span-1 may hold events; 0 while ingest never was sharded. */
  span: number;
  /** When the span or the shard count last changed. */
  changedAt: number;
  /** Per shard, the last row merged durably. */
  cursors: number[];
}

/** The part of a checkpoint that concerns shards: written in the checkpoint's transaction. */
export interface ShardCheckpoint {
  changed: boolean;
  write(): void;
  commit(): void;
}

export class ShardMerger {
  private span = 0;
  private changedAt = 0;
  private shards = 1;
  private merged: number[] = new Array<number>(MAX_SHARDS).fill(0);
  private durable: number[] = new Array<number>(MAX_SHARDS).fill(0);
  private readonly lastMergeAt = new Map<number, number>();
  /** Batch ids merged from shards and not yet in a durable checkpoint. */
  private readonly ids = new Map<string, PulledBatchId>();
  /** Merges run one after another: two concurrent pulls of one shard would merge its rows twice. */
  private chain: Promise<unknown> = Promise.resolve();
  /** True when the last merge left events in a shard because it reached MAX_PULLS_PER_MERGE. */
  behind = false;

  constructor(
    private readonly env: Env,
    private readonly namespace: string,
    private readonly store: NamespaceStore,
  ) {}

  /** Start-up: the stored span and cursors; none for an object that has no schema. */
  load(shards: number, hasSchema: boolean): void {
    const state = hasSchema ? this.store.getMeta<ShardsState>("shards") : undefined;
    this.span = state?.span ?? 0;
    this.changedAt = state?.changedAt ?? 0;
    this.shards = shards;
    this.durable = Array.from({ length: MAX_SHARDS }, (_, i) => state?.cursors[i] ?? 0);
    this.merged = this.durable.slice();
    this.lastMergeAt.clear();
    this.ids.clear();
  }

  /** True while any shard may hold events: the refresh loop then runs even with no data. */
  get active(): boolean {
    return this.span > 0;
  }

  /** The shard count changed (`PUT config`): the new shards join, the retired ones drain. */
  configure(shards: number, now: number): void {
    if (shards === this.shards) return;
    this.shards = shards;
    this.span = Math.max(this.span, shards > 1 ? shards : 0);
    this.changedAt = now;
    this.save();
  }

  /**
   * Shard `index` is about to log a batch: it is pulled from now on. A retired shard that wakes
   * restarts the grace period, so that a merge running now, which may have found it empty a
   * moment ago, does not retire it with the batch in it (`drain` reads `changedAt` after the pulls).
   */
  widen(index: number, now: number): void {
    const inUse = this.shards > 1 ? this.shards : 0;
    if (index < this.span && index < inUse) return;
    this.span = Math.max(this.span, index + 1);
    this.changedAt = now;
    this.save();
  }

  /** A batch id merged from a shard and not yet durable (the store holds the durable ones). */
  heldBatch(batchId: string): { accepted: number } | undefined {
    return this.ids.get(batchId);
  }

  private counted(batchId: string, since: number): boolean {
    return this.ids.has(batchId) || this.store.findBatch(batchId, since) !== undefined;
  }

  /**
   * Pulls every shard that may hold events (at most 6 at a time) and hands each delta to `apply`,
   * in the same turn as its batch ids are recorded. A shard that cannot be reached is logged and
   * left for the next merge: its events wait there, durable, and show as lag.
   */
  merge(apply: (delta: ShardDelta) => void): Promise<void> {
    const run = this.chain.then(() => this.mergeAll(apply));
    this.chain = run.catch(() => {});
    return run;
  }

  private async mergeAll(apply: (delta: ShardDelta) => void): Promise<void> {
    if (this.span === 0) return;
    const indices = Array.from({ length: this.span }, (_, i) => i);
    const merged = await fanOut(indices, async (i) => {
      try {
        return await this.mergeShard(i, apply);
      } catch (error) {
        console.error(JSON.stringify({ object: "NamespaceAggregator", namespace: this.namespace, method: "merge", shard: i, cause: messageOf(error) }));
        return { held: Number.POSITIVE_INFINITY, more: false }; // unknown: not drained; retried next period
      }
    });
    this.behind = merged.some((m) => m.more);
    this.drain(merged.map((m) => m.held));
  }

  /** Merges one shard until it has nothing more (or MAX_PULLS_PER_MERGE pulls); resolves to the rows it still
   * holds, and whether it has more than this merge took. */
  private async mergeShard(i: number, apply: (delta: ShardDelta) => void): Promise<{ held: number; more: boolean }> {
    const shard = shardOf(this.env, this.namespace, i);
    for (let round = 0; ; round++) {
      const after = this.merged[i]!;
      let exclude: string[] = [];
      let upTo: number | undefined;
      let pull: ShardPull;
      let more = false;
      // Pull, and pull the same rows again without any batch counted meanwhile, until a pull's
      // ids are all new in the turn that merges it.
      for (;;) {
        // RPC's types widen a tuple to an array (DeltaEntry); the value is the shard's ShardPull.
        pull = (await valueOrThrow(shard.pull({ after, ack: this.durable[i]!, exclude, upTo }))) as ShardPull;
        // A repeated pull stops at `upTo` and cannot see what lies beyond it: the first one says.
        if (upTo === undefined) more = pull.more;
        const since = Date.now() - BATCH_ID_TTL_MS;
        const again = pull.batchIds.filter((b) => this.counted(b.batchId, since)).map((b) => b.batchId);
        if (again.length === 0) break;
        exclude = [...exclude, ...again];
        upTo = pull.through;
      }
      if (this.merged[i] !== after) throw new Error(`shard ${i} was merged concurrently`); // the chain forbids it
      if (pull.through > after) {
        apply(pull.delta);
        for (const b of pull.batchIds) this.ids.set(b.batchId, b);
        this.merged[i] = pull.through;
      }
      this.lastMergeAt.set(i, Date.now());
      if (!more || round + 1 >= MAX_PULLS_PER_MERGE) return { held: pull.held, more };
    }
  }

  /** Retires the drained shards above the shard count, once the grace period has passed. */
  private drain(held: readonly number[]): void {
    const keep = this.shards > 1 ? this.shards : 0;
    if (this.span <= keep || Date.now() - this.changedAt < DRAIN_GRACE_MS) return;
    let span = this.span;
    while (span > keep && held[span - 1] === 0) span -= 1;
    if (span === this.span) return;
    this.span = span;
    this.save();
  }

  /** The cursors and ids merged so far, for the checkpoint being taken now (in one turn). */
  checkpoint(): ShardCheckpoint {
    const cursors = this.merged.slice();
    const ids = [...this.ids.values()];
    const changed = ids.length > 0 || cursors.some((c, i) => c !== this.durable[i]);
    return {
      changed,
      write: () => {
        this.store.recordBatchIds(ids);
        this.store.setMeta("shards", this.state(cursors));
      },
      commit: () => {
        this.durable = cursors;
        for (const b of ids) if (this.ids.get(b.batchId) === b) this.ids.delete(b.batchId);
      },
    };
  }

  /** What each shard that may hold events holds unmerged (`GET .../cache`). */
  async status(now: number): Promise<ShardLag[]> {
    const indices = Array.from({ length: this.span }, (_, i) => i);
    return fanOut(indices, async (i): Promise<ShardLag> => {
      const last = this.lastMergeAt.get(i);
      const merged = {
        shard: i,
        retired: i >= this.shards || this.shards === 1,
        lastMergeAt: last === undefined ? null : new Date(last).toISOString(),
        sinceLastMergeMs: last === undefined ? null : Math.max(0, now - last),
      };
      try {
        const s = await valueOrThrow(shardOf(this.env, this.namespace, i).status(this.merged[i]!));
        const oldestWaitingSince = s.oldestWaitingSince === null ? null : new Date(s.oldestWaitingSince).toISOString();
        return { ...merged, lagEvents: s.lagEvents, lagBatches: s.lagBatches, oldestWaitingSince };
      } catch (error) {
        // The report is most needed when a shard is in trouble: it says so rather than fail whole.
        return { ...merged, lagEvents: null, lagBatches: null, oldestWaitingSince: null, error: messageOf(error) };
      }
    });
  }

  /**
   * Erases every shard that may hold events (a deleted namespace), and every shard ever merged
   * from: one drained and dropped from the span still holds the batch ids of the last 24 hours,
   * which would answer a new namespace's batch of the same id as a duplicate and never count it.
   */
  async eraseAll(): Promise<void> {
    const reach = Math.max(this.span, this.shards > 1 ? this.shards : 0);
    const indices = Array.from({ length: MAX_SHARDS }, (_, i) => i).filter((i) => i < reach || this.merged[i]! > 0);
    await fanOut(indices, (i) => valueOrThrow(shardOf(this.env, this.namespace, i).erase()));
  }

  private state(cursors: number[]): ShardsState {
    return { span: this.span, changedAt: this.changedAt, cursors };
  }

  private save(): void {
    this.store.setMeta("shards", this.state(this.durable));
  }
}
