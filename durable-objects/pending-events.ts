/**
 * A namespace's pending events (core/pending.ts), held in its SQLite table `pending_events` and
 * never in memory: a flood of future-stamped events with long distinct names costs storage,
 * which the platform gives 10 GB of, not the isolate's 128 MB. What memory holds is a count and
 * the earliest `ts`, so start-up after any flood reads two numbers, not the events.
 *
 * A row is durable when it is written: ingest writes it in the transaction of its batch log row.
 * A row written on behalf of a state that is not durable yet (a merge of ingest shards, whose
 * cursors the next checkpoint writes; an import) is provisional: the checkpoint that makes that
 * state durable confirms it, and start-up deletes it, since the shards or the import bring it
 * again. A row is deleted only by the checkpoint that holds its counts (store.ts).
 */
import type { TallyEvent } from "../src/shared/contract";
import { DUE_CHUNK, type PendingEvents } from "../src/core/pending";
import type { GuardedSql } from "./guarded-sql";
import { UnknownFormatError } from "./store";

/** Format of a row of `pending_events`: one TallyEvent as JSON. */
export const PENDING_FORMAT = 1;

/** The lowest `ts` a row can have, as SQLite takes it (it has no -Infinity). */
const NO_TS = Number.MIN_SAFE_INTEGER;

export class StoredPending implements PendingEvents {
  size = 0;
  nextDue = Number.POSITIVE_INFINITY;
  countedBefore = Number.NEGATIVE_INFINITY;
  private provisional = false;

  constructor(private readonly sql: GuardedSql) {}

  /** Start-up: drops provisional rows (see above) and reads the count and the earliest `ts`. */
  load(): void {
    this.sql.exec("DELETE FROM pending_events WHERE provisional = 1");
    const row = this.sql
      .exec<{ n: number; next: number | null; format: number | null }>(
        "SELECT count(*) AS n, min(ts) AS next, (SELECT format FROM pending_events WHERE format != ? LIMIT 1) AS format FROM pending_events",
        PENDING_FORMAT,
      )
      .one();
    // A row this build cannot read stops start-up now, not a refresh minutes later.
    if (row.format !== null) throw new UnknownFormatError("pending event", row.format, PENDING_FORMAT);
    this.size = row.n;
    this.nextDue = row.next ?? Number.POSITIVE_INFINITY;
    this.countedBefore = Number.NEGATIVE_INFINITY;
  }

  /** An object that never held a schema holds nothing. */
  clear(): void {
    this.size = 0;
    this.nextDue = Number.POSITIVE_INFINITY;
    this.countedBefore = Number.NEGATIVE_INFINITY;
  }

  hold(events: readonly TallyEvent[]): void {
    const provisional = this.provisional ? 1 : 0;
    for (const event of events) {
      this.sql.exec(
        "INSERT INTO pending_events (ts, format, event, provisional) VALUES (?, ?, ?, ?)",
        event.ts,
        PENDING_FORMAT,
        JSON.stringify(event),
        provisional,
      );
      if (event.ts < this.nextDue) this.nextDue = event.ts;
    }
    this.size += events.length;
  }

  /** Runs `body` with every row it holds provisional (see above). */
  provisionally<T>(body: () => T): T {
    this.provisional = true;
    try {
      return body();
    } finally {
      this.provisional = false;
    }
  }

  takeDue(before: number, count: (chunk: readonly TallyEvent[]) => void): void {
    if (before <= this.countedBefore) return;
    // Rows below countedBefore were counted already and wait for the checkpoint to delete them.
    const rows = this.sql.exec<{ format: number; event: string }>(
      "SELECT format, event FROM pending_events WHERE ts >= ? AND ts < ? ORDER BY ts, seq",
      Math.max(NO_TS, this.countedBefore),
      before,
    );
    let chunk: TallyEvent[] = [];
    let taken = 0;
    for (const row of rows) {
      chunk.push(readEvent(row));
      if (chunk.length === DUE_CHUNK) {
        count(chunk);
        taken += chunk.length;
        chunk = [];
      }
    }
    if (chunk.length > 0) count(chunk);
    taken += chunk.length;
    this.countedBefore = before;
    this.size = Math.max(0, this.size - taken);
    const next = this.sql.exec<{ next: number | null }>("SELECT min(ts) AS next FROM pending_events WHERE ts >= ?", before).one().next;
    this.nextDue = next ?? Number.POSITIVE_INFINITY;
  }

  all(): TallyEvent[] {
    return this.sql
      .exec<{ format: number; event: string }>(
        "SELECT format, event FROM pending_events WHERE ts >= ? ORDER BY ts, seq",
        Math.max(NO_TS, this.countedBefore),
      )
      .toArray()
      .map(readEvent);
  }

  /**
   * In the checkpoint's transaction: rows counted into the buckets it writes go, and provisional
   * rows become durable with the state (shard cursors, an import) written beside them.
   */
  checkpoint(): void {
    if (this.countedBefore > NO_TS) this.sql.exec("DELETE FROM pending_events WHERE ts < ?", this.countedBefore);
    this.sql.exec("UPDATE pending_events SET provisional = 0 WHERE provisional = 1");
  }
}

function readEvent(row: { format: number; event: string }): TallyEvent {
  if (row.format !== PENDING_FORMAT) throw new UnknownFormatError("pending event", row.format, PENDING_FORMAT);
  return JSON.parse(row.event) as TallyEvent;
}
