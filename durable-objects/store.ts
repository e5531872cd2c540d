/**
 * The namespace's SQLite database: the only state that survives eviction, a deploy or a crash.
 * Synchronous `sql.exec` calls made in one turn are committed together, and the output gate holds
 * any answer until they are durable (Durable Objects' storage rules).
 *
 * Nothing is kept in one value that can grow: a bucket is stored in parts, pending events one a
 * row (pending-events.ts), a batch of events in as many log rows as its size needs. Every write
 * goes through GuardedSql, which refuses any row above the platform's 2 MB.
 */
import type { TallyEvent } from "../src/shared/contract";
import type { BucketRecord, CheckpointDelta } from "../src/core/aggregator";
import { BUCKET_FORMAT, type BucketState } from "../src/core/bucket";
import { HYPERLOGLOG_FORMAT } from "../src/core/hyperloglog";
import { SPACE_SAVING_FORMAT } from "../src/core/space-saving";
import type { RecordTier } from "../src/core/aggregator";
import { GuardedSql, utf8Bytes } from "./guarded-sql";
import { decodeLogRow, encodeLogRow } from "./batch-log";
import { schemaExists } from "./migrations";
import { UnknownFormatError } from "./stored-format";
import type { StoredPending } from "./pending-events";

export interface LoggedBatch {
  acceptedAt: number;
  events: TallyEvent[];
}

/** Format of the values in `meta`, each stored as {"v": META_FORMAT, "value": ...}. */
export const META_FORMAT = 1;

/**
 * Longest part of a stored text, in UTF-16 code units. A code unit is at most 3 bytes of UTF-8
 * (a surrogate pair, 2 units, is 4), so a part is at most 1.2 MB: well under the 2 MB row limit
 * with its key columns.
 */
export const PART_UNITS = 400_000;

/** A log row carries at most this many bytes of events; a larger batch takes several rows. */
const LOG_ROW_BYTES = 1_000_000;

export { UnknownFormatError } from "./stored-format";

/** Cuts `text` into parts of at most PART_UNITS code units, never between a surrogate pair. */
export function splitParts(text: string): string[] {
  const parts: string[] = [];
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + PART_UNITS);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1; // keep the pair whole
    parts.push(text.slice(at, end));
    at = end;
  }
  return parts.length === 0 ? [""] : parts;
}

/**
 * A batch as the JSON texts of its log rows, in order: the whole batch if it fits LOG_ROW_BYTES,
 * else its halves, recursively. The rows replay exactly like the whole. `encode` writes one row's
 * text: the namespace's log stores columns (batch-log.ts), a shard's log one object per event.
 */
export function logRows(events: readonly TallyEvent[], encode: (events: readonly TallyEvent[]) => string = JSON.stringify): { text: string; events: number }[] {
  const text = encode(events);
  if (events.length > 1 && utf8Bytes(text) > LOG_ROW_BYTES) {
    const half = events.length >> 1;
    return [...logRows(events.slice(0, half), encode), ...logRows(events.slice(half), encode)];
  }
  return [{ text, events: events.length }];
}

export class NamespaceStore {
  readonly sql: GuardedSql;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = new GuardedSql(storage);
  }

  /** True once any schema exists: an object that was only ever read has none, and stays so. */
  hasSchema(): boolean {
    return schemaExists(this.storage);
  }

  getMeta<T>(key: string): T | undefined {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    if (row === undefined) return undefined;
    const stored = JSON.parse(row.value) as { v?: unknown; value: T };
    if (stored.v !== META_FORMAT) throw new UnknownFormatError(`meta value "${key}"`, stored.v, META_FORMAT);
    return stored.value;
  }

  setMeta(key: string, value: unknown): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      JSON.stringify({ v: META_FORMAT, value }),
    );
  }

  /** The batch recorded under `batchId` since `since`, if any. */
  findBatch(batchId: string, since: number): { accepted: number } | undefined {
    return this.sql
      .exec<{ accepted: number }>("SELECT accepted FROM batch_ids WHERE batch_id = ? AND accepted_at >= ?", batchId, since)
      .toArray()[0];
  }

  /**
   * Appends a batch to the log together with its id, and holds its future-stamped events as
   * pending rows (pending-events.ts): all of it is written, or none. A batch too large for one
   * row is logged in halves, which replay exactly like the whole.
   */
  appendBatch(acceptedAt: number, batch: { due: TallyEvent[]; ahead: TallyEvent[] }, batchId: string | undefined, pending: StoredPending): void {
    this.sql.transaction(() => {
      if (batch.due.length > 0) this.logEvents(acceptedAt, batch.due);
      if (batch.ahead.length > 0) pending.hold(batch.ahead);
      const accepted = batch.due.length + batch.ahead.length;
      if (batchId !== undefined) this.recordBatchIds([{ batchId, accepted, acceptedAt }]);
    });
  }

  private logEvents(acceptedAt: number, events: readonly TallyEvent[]): void {
    for (const { text } of logRows(events, encodeLogRow)) this.sql.exec("INSERT INTO batch_log (accepted_at, events) VALUES (?, ?)", acceptedAt, text);
  }

  /** Batches logged since the last checkpoint, oldest first. */
  loggedBatches(): LoggedBatch[] {
    return this.sql
      .exec<{ accepted_at: number; events: string }>("SELECT accepted_at, events FROM batch_log ORDER BY seq")
      .toArray()
      .map((r) => ({ acceptedAt: r.accepted_at, events: decodeLogRow(r.events) }));
  }

  /**
   * Writes a checkpoint in one transaction: expired buckets go, changed buckets are rewritten in
   * parts, the pending events now counted are dropped (and provisional ones confirmed), and only
   * then is the log truncated. Everything the log holds is counted in memory (a batch is logged and counted in
   * the same turn, and this runs in one turn), and all of memory that is not yet durable is in
   * `delta` (it is only marked durable by `delta.commit()`, after the commit). So the log is
   * dropped only once what it held is in the checkpoint, and a failed write rolls back whole.
   */
  writeCheckpoint(delta: CheckpointDelta, pending: StoredPending, alongside?: () => void): void {
    this.sql.transaction(() => {
      alongside?.(); // what else the buckets imply (shard-merger.ts: the shards' cursors)
      // Deletions first: a bucket that expired and was counted into again is written after.
      for (const { tier, start } of delta.expired) this.deleteBucket(tier, start);
      for (const record of delta.changed) this.writeBucket(record);
      pending.checkpoint(); // the pending rows these buckets count go (pending-events.ts)
      this.sql.exec("DELETE FROM batch_log");
    });
    delta.commit();
  }

  private deleteBucket(tier: RecordTier, start: number): void {
    this.sql.exec("DELETE FROM bucket_parts WHERE tier = ? AND start = ?", tier, start);
  }

  private writeBucket({ tier, state }: BucketRecord): void {
    this.deleteBucket(tier, state.start);
    const parts = splitParts(JSON.stringify(state));
    parts.forEach((data, part) => {
      this.sql.exec(
        "INSERT INTO bucket_parts (tier, start, part, parts, data) VALUES (?, ?, ?, ?, ?)",
        tier,
        state.start,
        part,
        parts.length,
        data,
      );
    });
  }

  /** Every checkpointed bucket, each reassembled from its parts and checked for its format. */
  buckets(): BucketRecord[] {
    const records: BucketRecord[] = [];
    let current: { tier: RecordTier; start: number; parts: number; data: string[] } | undefined;
    const finish = () => {
      if (!current) return;
      if (current.data.length !== current.parts) {
        throw new Error(`bucket ${current.tier}/${current.start} has ${current.data.length} of its ${current.parts} parts`);
      }
      records.push({ tier: current.tier, state: readBucket(current.data.join("")) } as BucketRecord);
    };
    const rows = this.sql.exec<{ tier: string; start: number; part: number; parts: number; data: string }>(
      "SELECT tier, start, part, parts, data FROM bucket_parts ORDER BY tier, start, part",
    );
    for (const row of rows) {
      if (!current || current.tier !== row.tier || current.start !== row.start) {
        finish();
        current = { tier: row.tier as RecordTier, start: row.start, parts: row.parts, data: [] };
      }
      current.data.push(row.data);
    }
    finish();
    return records;
  }

  /** Records batch ids counted through ingest shards, as ingest records its own. */
  recordBatchIds(ids: readonly { batchId: string; accepted: number; acceptedAt: number }[]): void {
    for (const id of ids) {
      this.sql.exec(
        `INSERT INTO batch_ids (batch_id, accepted, accepted_at) VALUES (?, ?, ?)
         ON CONFLICT (batch_id) DO UPDATE SET accepted = excluded.accepted, accepted_at = excluded.accepted_at`,
        id.batchId,
        id.accepted,
        id.acceptedAt,
      );
    }
  }

  /** Forgets batch ids older than `before` (they may be counted again after 24 hours). */
  pruneBatchIds(before: number): void {
    this.sql.exec("DELETE FROM batch_ids WHERE accepted_at < ?", before);
  }

  /** Erases everything the namespace holds. */
  async eraseAll(): Promise<void> {
    await this.storage.deleteAlarm();
    await this.storage.deleteAll();
  }
}

/** Parses a stored bucket, refusing any format this build does not know, at every level. */
function readBucket(text: string): BucketState {
  const state = JSON.parse(text) as BucketState;
  if (state.v !== 1 && state.v !== BUCKET_FORMAT) throw new UnknownFormatError("bucket", state.v, BUCKET_FORMAT);
  const summaries = [state.summary, ...state.typed.map(([, s]) => s)];
  for (const s of summaries) if (s.v !== SPACE_SAVING_FORMAT) throw new UnknownFormatError("summary", s.v, SPACE_SAVING_FORMAT);
  for (const h of [state.items, state.actors]) if (h.v !== HYPERLOGLOG_FORMAT) throw new UnknownFormatError("sketch", h.v, HYPERLOGLOG_FORMAT);
  return state;
}
