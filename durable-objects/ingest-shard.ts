/**
 * IngestShard: one of a namespace's `ingestShards` ingest objects (docs/api.md v1.1), for namespaces
 * that receive more requests than one object serves (about 1,000 a second, 200–500 when each
 * writes to storage: Durable Objects' limits).
 *
 * It validates nothing new (the Worker did), logs each batch durably before its `202`, exactly as
 * the namespace's object would, and answers the namespace's object's pulls with what it holds,
 * pre-aggregated (core/shard-delta.ts). It keeps a log row until the namespace's object says the
 * merge of that row is durable, so a crash of either side loses nothing; sequence numbers
 * (never reused: AUTOINCREMENT) let the object ask for "everything after n", so nothing is
 * merged twice.
 */
import { DurableObject } from "cloudflare:workers";
import { BATCH_ID_TTL_MS, type IngestResult, type TallyEvent } from "../src/shared/contract";
import { DeltaBuilder, type ShardDelta } from "../src/core/shard-delta";
import { parseShardObjectName } from "../src/shared/keys";
import type { Outcome } from "../src/shared/errors";
import { aggregatorOf, valueOrThrow } from "../src/shared/rpc";
import initShard from "../migrations/shard/0001_ingest_shard.sql";
import { GuardedSql } from "./guarded-sql";
import { migrate, schemaExists } from "./migrations";
import { Startup } from "./startup";
import { outcomeOf } from "./outcome";
import { UnknownFormatError, logRows } from "./store";

const SHARD_MIGRATIONS = [{ name: "shard_0001_ingest_shard", sql: initShard }];

/** Format of a row of `shard_log`: a JSON array of TallyEvents, weights resolved. */
export const SHARD_LOG_FORMAT = 1;

/**
 * A pull returns rows up to about this many bytes of events (never part of a batch), however far
 * the namespace's object fell behind. Up to 6 pulls are in flight at once, and each delta is held
 * by the namespace's object beside its state (a 64 MB budget in a 128 MB isolate), so a pull is
 * kept small; a busy shard takes several pulls per refresh (shard-merger.ts).
 */
const PULL_BYTES = 1_000_000;

/** A batch of validated events, weights resolved by the Worker from the namespace's config. */
export interface ShardBatch {
  batchId?: string;
  events: TallyEvent[];
}

/** A batch id in a pull: the namespace's object records it with its own, so that a batch
 * retried through another route (another shard count) is counted once. */
export interface PulledBatchId {
  batchId: string;
  accepted: number;
  acceptedAt: number;
}

export interface PullRequest {
  /** Rows up to this sequence number are merged durably: the shard may drop them. */
  ack: number;
  /** The last row merged (durably or not): the pull returns rows after it. */
  after: number;
  /** Return no row beyond this one (a repeated pull of the same range). */
  upTo?: number;
  /** Batches the namespace's object has counted already, through another route: left out. */
  exclude?: string[];
}

export interface ShardPull {
  /** The last row the pull covers; `after` when it covers none. */
  through: number;
  /** True when rows beyond `through` were left for the next pull. */
  more: boolean;
  delta: ShardDelta;
  batchIds: PulledBatchId[];
  /** Rows the shard still holds after dropping the acknowledged ones (those pulled included). */
  held: number;
}

/** What the shard holds that the namespace's object has not merged (`GET .../cache`). */
export interface ShardStatus {
  lagEvents: number;
  lagBatches: number;
  oldestWaitingSince: number | null;
}

export class IngestShard extends DurableObject<Env> {
  private readonly name = parseShardObjectName(this.ctx.id.name ?? "");
  private readonly sql = new GuardedSql(this.ctx.storage);
  /** Every entry point awaits it first (startup.ts): it reads whether a schema exists. */
  private readonly startup = new Startup(this.ctx, () => {
    this.hasSchema = schemaExists(this.ctx.storage);
  });
  private hasSchema = false;
  /** True once the namespace's object knows this shard holds data; false again after a pull
   * found nothing, since the object's loop may then stop for idleness (IDLE_STOP_MS). */
  private announced = false;

  /** Which shard of which namespace this is: the name its id was made from. */
  private get place(): { namespace: string; index: number } {
    if (!this.name) throw new Error("IngestShard: the object must be addressed with idFromName(shardObjectName(...)).");
    return this.name;
  }

  private run<T>(method: string, body: () => Promise<T> | T): Promise<Outcome<T>> {
    return outcomeOf({ object: "IngestShard", namespace: this.name?.namespace ?? "?", method }, async () => {
      await this.startup.ready();
      return body();
    });
  }

  /** An object never written to has no schema, and gets none from a pull or a status. */
  private schema(create: boolean): boolean {
    if (!this.hasSchema && create) {
      migrate(this.ctx.storage, SHARD_MIGRATIONS);
      this.hasSchema = true;
    }
    return this.hasSchema;
  }

  /**
   * Logs a batch; the output gate holds the `202` until the write is durable. The namespace's
   * object is told first (it registers the namespace and wakes its loop), then the batch id is
   * checked and the batch logged in one turn, so no other request runs between the two.
   */
  ingest(batch: ShardBatch): Promise<Outcome<IngestResult>> {
    return this.run("ingest", async () => {
      const { namespace, index } = this.place;
      if (!this.announced) {
        await valueOrThrow(aggregatorOf(this.env, namespace).shardAwake(index));
        this.announced = true;
      }
      this.schema(true);
      const now = Date.now();
      if (batch.batchId !== undefined) {
        const seen = this.sql
          .exec<{ accepted: number }>("SELECT accepted FROM shard_batch_ids WHERE batch_id = ? AND accepted_at >= ?", batch.batchId, now - BATCH_ID_TTL_MS)
          .toArray()[0];
        if (seen) return { accepted: seen.accepted, duplicate: true };
      }
      this.sql.transaction(() => {
        logRows(batch.events).forEach(({ text, events }, part) => {
          this.sql.exec(
            "INSERT INTO shard_log (part, accepted_at, batch_id, events, format, data) VALUES (?, ?, ?, ?, ?, ?)",
            part,
            now,
            batch.batchId ?? null,
            events,
            SHARD_LOG_FORMAT,
            text,
          );
        });
        if (batch.batchId !== undefined) {
          this.sql.exec(
            `INSERT INTO shard_batch_ids (batch_id, accepted, accepted_at) VALUES (?, ?, ?)
             ON CONFLICT (batch_id) DO UPDATE SET accepted = excluded.accepted, accepted_at = excluded.accepted_at`,
            batch.batchId,
            batch.events.length,
            now,
          );
        }
      });
      return { accepted: batch.events.length, duplicate: false };
    });
  }

  /**
   * Drops the acknowledged rows, then pre-aggregates the rows after `after` (about PULL_BYTES of
   * them, whole batches only) into one delta. Read-only but for that drop, so a pull repeated
   * after a crash of the caller returns the same rows again.
   */
  pull(request: PullRequest): Promise<Outcome<ShardPull>> {
    return this.run("pull", () => {
      const builder = new DeltaBuilder(Date.now());
      if (!this.schema(false)) return { through: request.after, more: false, delta: builder.build(), batchIds: [], held: 0 };
      this.sql.exec("DELETE FROM shard_log WHERE seq <= ?", request.ack);
      this.sql.exec("DELETE FROM shard_batch_ids WHERE accepted_at < ?", Date.now() - BATCH_ID_TTL_MS);
      const exclude = new Set(request.exclude ?? []);
      const ids = new Map<string, PulledBatchId>();
      let through = request.after;
      let bytes = 0;
      let more = false;
      const rows = this.sql.exec<{ seq: number; part: number; accepted_at: number; batch_id: string | null; events: number; format: number; data: string }>(
        "SELECT seq, part, accepted_at, batch_id, events, format, data FROM shard_log WHERE seq > ? AND seq <= ? ORDER BY seq",
        request.after,
        request.upTo ?? Number.MAX_SAFE_INTEGER,
      );
      for (const row of rows) {
        if (row.part === 0 && bytes >= PULL_BYTES) {
          more = true;
          break;
        }
        if (row.format !== SHARD_LOG_FORMAT) throw new UnknownFormatError("shard log row", row.format, SHARD_LOG_FORMAT);
        through = row.seq;
        bytes += row.data.length;
        if (row.batch_id !== null && exclude.has(row.batch_id)) continue;
        builder.add(JSON.parse(row.data) as TallyEvent[]);
        if (row.batch_id !== null) {
          const id = ids.get(row.batch_id);
          if (id) id.accepted += row.events;
          else ids.set(row.batch_id, { batchId: row.batch_id, accepted: row.events, acceptedAt: row.accepted_at });
        }
      }
      const held = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM shard_log").one().n;
      if (through === request.after) this.announced = false; // nothing new: the object may go idle
      return { through, more, delta: builder.build(), batchIds: [...ids.values()], held };
    });
  }

  /** What waits after row `after` (the last one the namespace's object merged). */
  status(after: number): Promise<Outcome<ShardStatus>> {
    return this.run("status", () => {
      if (!this.schema(false)) return { lagEvents: 0, lagBatches: 0, oldestWaitingSince: null };
      const row = this.sql
        .exec<{ events: number | null; batches: number; oldest: number | null }>(
          "SELECT sum(events) AS events, count(*) FILTER (WHERE part = 0) AS batches, min(accepted_at) AS oldest FROM shard_log WHERE seq > ?",
          after,
        )
        .one();
      return { lagEvents: row.events ?? 0, lagBatches: row.batches, oldestWaitingSince: row.oldest };
    });
  }

  /** Erases everything the shard holds (a deleted namespace). */
  erase(): Promise<Outcome<null>> {
    return this.run("erase", async () => {
      await this.ctx.storage.deleteAll();
      this.hasSchema = false;
      this.announced = false;
      return null;
    });
  }
}
