/**
 * QuotaCounter: one small Durable Object per limited subject (a key, or a namespace), by name
 * (`quotaOf`), counting requests and events in fixed one-minute windows (docs/api.md, "Quotas").
 *
 * Why an object and not the platform's Rate Limiting binding: a binding's limit and period are
 * fixed in wrangler.toml, while each key and each namespace sets its own limits through the API;
 * and a binding counts per location and approximately, while one object per subject sees every
 * request worldwide, so a limit holds as stated.
 *
 * The counts live in memory only: a write per request would spend the object's storage throughput
 * on bookkeeping. An evicted object (idle, or on deploy) forgets its minute and starts it again at
 * zero, which can only let a subject through, never refuse it wrongly. A fixed window also lets a
 * subject spend a full minute's quota on each side of a boundary: at most twice the limit in any
 * 60 s, documented beside the limits.
 */
import { DurableObject } from "cloudflare:workers";
import type { QuotaAnswer, QuotaCharge } from "../src/shared/quota-limits";


const WINDOW_MS = 60_000;

export class QuotaCounter extends DurableObject<Env> {
  private window = -1;
  private requests = 0;
  private events = 0;

  /** Spends `charge` if it fits this minute's limits, else spends nothing (a refused batch can be
   * retried whole). One turn, so concurrent requests are counted one after the other. */
  take(charge: QuotaCharge, now = Date.now()): QuotaAnswer {
    const window = Math.floor(now / WINDOW_MS);
    if (window !== this.window) {
      this.window = window;
      this.requests = 0;
      this.events = 0;
    }
    const { requestsPerMinute, eventsPerMinute } = charge.limits;
    const over =
      requestsPerMinute !== undefined && this.requests + charge.requests > requestsPerMinute
        ? "requestsPerMinute"
        : eventsPerMinute !== undefined && this.events + charge.events > eventsPerMinute
          ? "eventsPerMinute"
          : null;
    if (over !== null) return { ok: false, limit: over, retryAfterSeconds: Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000)) };
    this.requests += charge.requests;
    this.events += charge.events;
    return { ok: true };
  }

  /** Gives back a charge taken for a request another subject's quota then refused. */
  giveBack(charge: QuotaCharge, takenAt: number): void {
    if (Math.floor(takenAt / WINDOW_MS) !== this.window) return;
    this.requests = Math.max(0, this.requests - charge.requests);
    this.events = Math.max(0, this.events - charge.events);
  }
}
