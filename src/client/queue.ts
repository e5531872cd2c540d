/**
 * The client's event queue: `track()` is cheap and synchronous; events go out in batches of up to
 * `batchSize` (and under the service's 1 MiB body limit), after at most `flushDelayMs`. Each
 * batch gets its own `batchId` once, when it is formed, and keeps it through every retry, so a
 * retry after a lost answer is counted once (docs/api.md: "Retries are safe"). Batches go out one at
 * a time, in order. A batch finally refused is handed to `onError` with its events: never dropped
 * in silence.
 */
import type { EventInput, IngestResult } from "../shared/contract.js";
import { TallyApiError } from "./errors.js";
import type { Scheduler } from "./transport.js";

/** An event as `track()` takes it: `ts` may also be a Date. */
export type TrackedEvent = Omit<EventInput, "ts"> & { ts?: number | string | Date };

export interface Batch {
  batchId: string;
  events: EventInput[];
}

/** Told of every batch the service finally refused, or that could not be delivered. */
export type RefusalHandler = (error: TallyApiError, events: EventInput[]) => void;

export interface QueueSettings {
  batchSize: number;
  flushDelayMs: number;
  scheduler: Scheduler;
  deliver: (batch: Batch, keepalive: boolean) => Promise<IngestResult>;
  onError: RefusalHandler;
  newBatchId: () => string;
}

/** Under docs/api.md's 1 MiB body limit, with room for the envelope and the batchId. */
const MAX_BATCH_BYTES = 1024 * 1024 - 1024;
/** Browsers hold all in-flight keepalive bodies of a page to 64 KiB together (Fetch standard). */
const KEEPALIVE_BYTES = 60 * 1024;

const encoder = new TextEncoder();

interface Queued {
  event: EventInput;
  bytes: number;
}

export class EventQueue {
  private queued: Queued[] = [];
  private timer: unknown;
  /** Every batch handed out so far has settled when this resolves. */
  private delivered: Promise<void> = Promise.resolve();

  constructor(private readonly settings: QueueSettings) {}

  get size(): number {
    return this.queued.length;
  }

  track(event: TrackedEvent): void {
    const wire: EventInput = event.ts instanceof Date ? { ...event, ts: event.ts.getTime() } : (event as EventInput);
    this.queued.push({ event: wire, bytes: encoder.encode(JSON.stringify(wire)).length + 1 });
    if (this.queued.length >= this.settings.batchSize) this.drain();
    else this.timer ??= this.settings.scheduler.setTimeout(() => this.drain(), this.settings.flushDelayMs);
  }

  /** Sends everything queued now; resolves when every batch so far is acknowledged or refused. */
  flush(): Promise<void> {
    this.drain();
    return this.delivered;
  }

  /** The page is going away: send what fits the keepalive budget now, with keepalive, so the
   * browser finishes the requests after the page is gone. What does not fit stays queued for the
   * next flush (the page may come back from the back-forward cache). */
  flushForUnload(): void {
    this.cancelTimer();
    let budget = KEEPALIVE_BYTES;
    const sending: Promise<void>[] = [];
    while (this.queued.length > 0) {
      const batch = this.take(Math.min(budget, MAX_BATCH_BYTES));
      if (batch === undefined) break;
      budget -= batch.bytes;
      sending.push(this.deliver(batch.batch, true));
    }
    this.delivered = Promise.all([this.delivered, ...sending]).then(() => {});
  }

  private drain(): void {
    this.cancelTimer();
    for (let next = this.take(MAX_BATCH_BYTES); next !== undefined; next = this.take(MAX_BATCH_BYTES)) {
      const { batch } = next;
      this.delivered = this.delivered.then(() => this.deliver(batch, false));
    }
  }

  /** Forms the next batch from the front of the queue within `maxBytes`, or undefined if the queue
   * is empty or its first event does not fit. */
  private take(maxBytes: number): { batch: Batch; bytes: number } | undefined {
    let count = 0;
    let bytes = 64; // the envelope and the batchId
    while (count < this.queued.length && count < this.settings.batchSize && bytes + this.queued[count]!.bytes <= maxBytes) {
      bytes += this.queued[count]!.bytes;
      count++;
    }
    // An event larger than a whole batch still goes alone: the service's refusal reaches onError.
    if (count === 0 && this.queued.length > 0 && maxBytes === MAX_BATCH_BYTES) count = 1;
    if (count === 0) return undefined;
    const events = this.queued.splice(0, count).map((q) => q.event);
    return { batch: { batchId: this.settings.newBatchId(), events }, bytes };
  }

  private async deliver(batch: Batch, keepalive: boolean): Promise<void> {
    try {
      await this.settings.deliver(batch, keepalive);
    } catch (error) {
      const refusal = error instanceof TallyApiError ? error : new TallyApiError(String(error), "client_error", 0);
      try {
        this.settings.onError(refusal, batch.events);
      } catch (handlerError) {
        console.error("tally: onError threw", handlerError);
      }
    }
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.settings.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
