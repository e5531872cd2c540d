/**
 * After a namespace refused a batch for holding too many pending (future-stamped) events, this
 * isolate refuses further batches that hold future-stamped events at its door, until the
 * `Retry-After` it was given has passed: the namespace's object would refuse them too, and a flood
 * of them should cost the object nothing (each would be parsed, copied over RPC and refused
 * there). Batches of events already due always pass. Memory of one isolate only: another isolate
 * asks the object once, and is told the same.
 */
import type { IncomingBatch } from "../shared/validate";
import { TallyError } from "../shared/errors";

/** Namespaces remembered at most, the oldest refusal forgotten first. */
const MAX_REMEMBERED = 1024;

export class PendingRefusals {
  private readonly refused = new Map<string, { until: number; error: TallyError }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** Throws the namespace's last refusal, with the seconds left, if `batch` would meet it again. */
  check(namespace: string, batch: IncomingBatch): void {
    const refusal = this.refused.get(namespace);
    if (!refusal) return;
    const now = this.now();
    if (now >= refusal.until) {
      this.refused.delete(namespace);
      return;
    }
    if (!batch.events.some((e) => e.ts >= now)) return;
    const retryAfterSeconds = Math.max(1, Math.ceil((refusal.until - now) / 1000));
    const { status, code, message, details } = refusal.error;
    throw new TallyError(status, code, message, { ...details, retryAfterSeconds }, { "Retry-After": String(retryAfterSeconds) });
  }

  /** Remembers a `too_many_pending` refusal until its `Retry-After`; other errors are ignored. */
  note(namespace: string, error: unknown): void {
    if (!(error instanceof TallyError) || error.code !== "too_many_pending") return;
    const seconds = Number(error.details.retryAfterSeconds);
    if (!(seconds > 0)) return;
    this.refused.delete(namespace);
    this.refused.set(namespace, { until: this.now() + seconds * 1000, error });
    if (this.refused.size > MAX_REMEMBERED) this.refused.delete(this.refused.keys().next().value!);
  }
}
