/**
 * The namespace's SQLite database: the only state that survives eviction, a deploy or a crash.
 * Synchronous `sql.exec` calls made in one turn are committed together, and the output gate holds
 * any answer until they are durable (Durable Objects' storage rules).
 */
import type { TallyEvent } from "../src/shared/contract";
import type { BucketRecord, CheckpointDelta } from "../src/core/aggregator";

export interface LoggedBatch {
  acceptedAt: number;
  events: TallyEvent[];
}

export interface StoredSnapshot {
  key: string;
  body: string;
  computedAt: number;
}

export class NamespaceStore {
  constructor(private readonly storage: DurableObjectStorage) {}

  private get sql() {
    return this.storage.sql;
  }

  getMeta<T>(key: string): T | undefined {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  setMeta(key: string, value: unknown): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      JSON.stringify(value),
    );
  }

  /** The batch recorded under `batchId` since `since`, if any. */
  findBatch(batchId: string, since: number): { accepted: number } | undefined {
    return this.sql
      .exec<{ accepted: number }>(
        "SELECT accepted FROM batch_ids WHERE batch_id = ? AND accepted_at >= ?",
        batchId,
        since,
      )
      .toArray()[0];
  }

  /** Appends a batch to the log together with its id: both are written, or neither. */
  appendBatch(batch: LoggedBatch, batchId: string | undefined): void {
    this.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT INTO batch_log (accepted_at, events) VALUES (?, ?)",
        batch.acceptedAt,
        JSON.stringify(batch.events),
      );
      if (batchId !== undefined) {
        this.sql.exec(
          `INSERT INTO batch_ids (batch_id, accepted, accepted_at) VALUES (?, ?, ?)
           ON CONFLICT (batch_id) DO UPDATE SET accepted = excluded.accepted, accepted_at = excluded.accepted_at`,
          batchId,
          batch.events.length,
          batch.acceptedAt,
        );
      }
    });
  }

  /** Batches logged since the last checkpoint, oldest first. */
  loggedBatches(): LoggedBatch[] {
    return this.sql
      .exec<{ accepted_at: number; events: string }>("SELECT accepted_at, events FROM batch_log ORDER BY seq")
      .toArray()
      .map((r) => ({ acceptedAt: r.accepted_at, events: JSON.parse(r.events) as TallyEvent[] }));
  }

  /**
   * Writes the changed buckets and the pending events, then truncates the log, in one
   * transaction: the log is only dropped once what it held is in the checkpoint.
   */
  writeCheckpoint(delta: CheckpointDelta, pending: readonly TallyEvent[]): void {
    this.storage.transactionSync(() => {
      for (const { tier, state } of delta.changed) {
        this.sql.exec(
          `INSERT INTO buckets (tier, start, state) VALUES (?, ?, ?)
           ON CONFLICT (tier, start) DO UPDATE SET state = excluded.state`,
          tier,
          state.start,
          JSON.stringify(state),
        );
      }
      for (const { tier, start } of delta.expired) {
        this.sql.exec("DELETE FROM buckets WHERE tier = ? AND start = ?", tier, start);
      }
      this.setMeta("pending", pending);
      this.sql.exec("DELETE FROM batch_log");
    });
  }

  buckets(): BucketRecord[] {
    return this.sql
      .exec<{ tier: string; state: string }>("SELECT tier, state FROM buckets")
      .toArray()
      .map((r) => ({ tier: r.tier, state: JSON.parse(r.state) }) as BucketRecord);
  }

  /** Forgets batch ids older than `before` (they may be counted again after 24 hours). */
  pruneBatchIds(before: number): void {
    this.sql.exec("DELETE FROM batch_ids WHERE accepted_at < ?", before);
  }

  /** Replaces the persisted snapshot set with `snapshots`. */
  saveSnapshots(snapshots: Iterable<StoredSnapshot>): void {
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM snapshots");
      for (const s of snapshots) {
        this.sql.exec("INSERT INTO snapshots (key, body, computed_at) VALUES (?, ?, ?)", s.key, s.body, s.computedAt);
      }
    });
  }

  snapshots(): StoredSnapshot[] {
    return this.sql
      .exec<{ key: string; body: string; computed_at: number }>("SELECT key, body, computed_at FROM snapshots")
      .toArray()
      .map((r) => ({ key: r.key, body: r.body, computedAt: r.computed_at }));
  }

  /** Drops every snapshot, e.g. on invalidate. */
  clearSnapshots(): void {
    this.sql.exec("DELETE FROM snapshots");
  }

  /** Erases everything the namespace holds. */
  async eraseAll(): Promise<void> {
    await this.storage.deleteAlarm();
    await this.storage.deleteAll();
  }
}
