/**
 * The sending of webhook messages (docs/api.md, "Webhooks"): at least once, signed per the
 * Standard Webhooks specification, retried with exponential backoff for 24 hours under the same
 * webhook-id. Messages wait in SQLite (webhook_messages), queued by a refresh; they are sent after
 * it, behind it (ctx.waitUntil), at most MAX_OPEN_CONNECTIONS at once (Workers' limit on
 * simultaneous connections), each bounded by a timeout, so no receiver can delay a refresh or an
 * ingest. A webhook that failed for 24 hours is paused, and its messages dropped.
 */
import { Webhook } from "standardwebhooks";
import { DAY, HOUR, MINUTE, type DeliveryOutcome } from "../src/shared/contract";
import { fanOut } from "./fan-out";
import type { ObjectPart } from "./object-part";
import { messageOf } from "./outcome";

/** The wait before attempt n+1 after attempt n failed: from 5 s, growing to 8 h, then 8 h until
 * the 24 hours are out (Standard Webhooks' own schedule is of this shape). */
export const RETRY_DELAYS_MS = [5_000, 30_000, 2 * MINUTE, 10 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR];
/** A webhook whose every attempt failed for this long is paused. */
export const PAUSE_AFTER_MS = DAY;
/** Messages one webhook holds waiting, at most. */
export const MAX_WAITING_PER_WEBHOOK = 1000;
/** The longest a receiver may take to answer. */
const TIMEOUT_MS = 10_000;
/** Messages taken per send step; the rest wait for the next one. */
const BATCH = 24;

interface DueMessage {
  [column: string]: SqlStorageValue;
  id: string;
  webhook: string;
  payload: string;
  attempts: number;
  created_at: number;
  url: string;
  secret: string;
  failing_since: number | null;
}

export class WebhookDelivery {
  private sending: Promise<void> | undefined;
  /** Attempts made and failed since the object started (the cache report). */
  attempts = 0;
  failures = 0;

  constructor(
    private readonly part: ObjectPart,
    /** Called when a webhook is paused, so that its list stops queueing messages for it. */
    private readonly paused: (webhook: string) => void,
  ) {}

  /** Queues a message for `webhook`, to be sent by the next send step. A webhook holds at most
   * MAX_WAITING_PER_WEBHOOK messages: beyond, the oldest go (a receiver down for a day behind a
   * busy namespace would otherwise fill the object's storage). */
  queue(webhook: string, payload: string, now: number): void {
    this.part.sql.exec("INSERT INTO webhook_messages (id, webhook, payload, created_at, next_at) VALUES (?, ?, ?, ?, ?)", `msg_${crypto.randomUUID()}`, webhook, payload, now, now);
    this.part.sql.exec(
      "DELETE FROM webhook_messages WHERE id IN (SELECT id FROM webhook_messages WHERE webhook = ? ORDER BY created_at DESC, id LIMIT -1 OFFSET ?)",
      webhook,
      MAX_WAITING_PER_WEBHOOK,
    );
  }

  /** Messages waiting, in all: a loop with messages waiting does not stop for idleness. */
  get waiting(): number {
    return this.part.sql.exec<{ n: number }>("SELECT count(*) AS n FROM webhook_messages").one().n;
  }

  /** Sends what is due, behind the caller: one send step at a time, never awaited by a refresh. */
  sendDue(): void {
    this.sending ??= this.step().finally(() => {
      this.sending = undefined;
    });
    this.part.ctx.waitUntil(this.sending);
  }

  private async step(): Promise<void> {
    const due = this.part.sql
      .exec<DueMessage>(
        `SELECT m.id, m.webhook, m.payload, m.attempts, m.created_at, w.failing_since,
                json_extract(w.spec, '$.url') AS url, w.secret
           FROM webhook_messages m JOIN webhooks w ON w.id = m.webhook
          WHERE m.next_at <= ? AND w.paused = 0 ORDER BY m.next_at LIMIT ?`,
        Date.now(),
        BATCH,
      )
      .toArray();
    await fanOut(due, (m) => this.attempt(m));
  }

  /** One attempt of one message; its outcome is recorded on the message and on its webhook. */
  private async attempt(m: DueMessage): Promise<void> {
    const attempt = m.attempts + 1;
    const at = new Date();
    let status: number | null = null;
    let error: string | undefined;
    try {
      const signature = new Webhook(m.secret).sign(m.id, at, m.payload);
      const response = await fetch(m.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "Tally-Webhooks",
          "webhook-id": m.id,
          "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body: m.payload,
        redirect: "manual", // a redirect is a failure: the signed URL is the one set
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = response.status;
      await response.body?.cancel();
      if (status < 200 || status >= 300) error = `the receiver answered ${status}`;
    } catch (e) {
      error = messageOf(e);
    }
    this.attempts += 1;
    const now = Date.now();
    const outcome: DeliveryOutcome = { at: at.toISOString(), id: m.id, attempt, outcome: error ? "failed" : "delivered", status, ...(error ? { error } : {}) };
    if (!error) {
      this.part.sql.exec("DELETE FROM webhook_messages WHERE id = ?", m.id);
      this.part.sql.exec("UPDATE webhooks SET last_delivery = ?, failing_since = NULL WHERE id = ?", JSON.stringify(outcome), m.webhook);
      return;
    }
    this.failures += 1;
    const failingSince = m.failing_since ?? now;
    if (now - failingSince >= PAUSE_AFTER_MS) {
      console.error(JSON.stringify({ object: "NamespaceAggregator", namespace: this.part.namespace, webhook: m.webhook, paused: true, cause: error }));
      this.part.sql.transaction(() => {
        this.part.sql.exec("UPDATE webhooks SET last_delivery = ?, paused = 1 WHERE id = ?", JSON.stringify(outcome), m.webhook);
        this.part.sql.exec("DELETE FROM webhook_messages WHERE webhook = ?", m.webhook);
      });
      this.paused(m.webhook);
      return;
    }
    const delay = RETRY_DELAYS_MS[Math.min(m.attempts, RETRY_DELAYS_MS.length - 1)]!;
    this.part.sql.exec("UPDATE webhook_messages SET attempts = ?, next_at = ? WHERE id = ?", attempt, now + delay, m.id);
    this.part.sql.exec("UPDATE webhooks SET last_delivery = ?, failing_since = ? WHERE id = ?", JSON.stringify(outcome), failingSince, m.webhook);
  }
}
