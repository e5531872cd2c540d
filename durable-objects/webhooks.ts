/**
 * A namespace's webhooks (docs/api.md, "Webhooks"): their specs in SQLite, and their side of the
 * change feed. On each change of a ranking a webhook watches, it compares the new answer with
 * what the last one held (stored, so a restart fires nothing twice) and queues one message per
 * kind of event that happened: items that entered or left the first `limit` places, items that
 * started to spike. Messages are sent after the refresh (webhook-delivery.ts).
 */
import {
  MAX_WEBHOOKS,
  type AnswerChange,
  type DeliveryOutcome,
  type NamespaceConfig,
  type TrendingSnapshot,
  type WebhookPut,
  type WebhookSpec,
  type WebhookStatus,
} from "../src/shared/contract";
import { newSpikes, placesChanged, spiking } from "../src/core/ranking-events";
import { TallyError, invalid } from "../src/shared/errors";
import { snapshotKey } from "../src/shared/keys";
import type { ChangeListener } from "./change-feed";
import type { GuardedSql } from "./guarded-sql";
import { WebhookDelivery } from "./webhook-delivery";

interface WebhookRow {
  [column: string]: SqlStorageValue;
  id: string;
  spec: string;
  created_at: number;
  places: string | null;
  spiking: string | null;
  last_delivery: string | null;
  failing_since: number | null;
  paused: number;
}

/** A webhook as held in memory: its spec and the two answers it watches. */
interface Held {
  id: string;
  spec: WebhookSpec;
  paused: boolean;
  /** The ranking whose places `entered` and `left` watch. */
  placesKey: string;
  /** The rising ranking `spike` watches. */
  risingKey: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A signing secret in Standard Webhooks' form: "whsec_" and 24 random bytes in base64. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

export class WebhookList implements ChangeListener {
  private held: Held[] = [];
  readonly delivery: WebhookDelivery;

  constructor(
    private readonly sql: GuardedSql,
    ctx: DurableObjectState,
    private readonly namespace: string,
  ) {
    this.delivery = new WebhookDelivery({ sql, ctx, namespace }, () => this.load());
  }

  /** Start-up, once the schema exists. */
  load(): void {
    this.held = this.rows().map((row) => this.hold(row));
  }

  get size(): number {
    return this.held.length;
  }

  /** Messages wait to be sent: the refresh loop keeps running for their retries. */
  busy(): boolean {
    return this.held.length > 0 && this.delivery.waiting > 0;
  }

  watches(key: string): boolean {
    return this.held.some((w) => !w.paused && (w.placesKey === key || (w.spec.on.includes("spike") && w.risingKey === key)));
  }

  /** Compares each change with what its webhooks last saw and queues what happened; the sending
   * runs after the refresh. Runs inside the refresh, so it only reads and writes SQLite. */
  publish(changes: readonly AnswerChange[]): void {
    const now = Date.now();
    let queued = false;
    for (const change of changes) {
      const answer = JSON.parse(change.body) as TrendingSnapshot;
      for (const w of this.held) {
        if (w.paused) continue;
        if (w.placesKey === change.key && (w.spec.on.includes("entered") || w.spec.on.includes("left"))) queued = this.places(w, answer, now) || queued;
        if (w.risingKey === change.key && w.spec.on.includes("spike")) queued = this.spikes(w, answer, now) || queued;
      }
    }
    if (queued) this.delivery.sendDue();
  }

  private places(w: Held, answer: TrendingSnapshot, now: number): boolean {
    const row = this.sql.exec<{ places: string | null }>("SELECT places FROM webhooks WHERE id = ?", w.id).one();
    const next = answer.items.slice(0, w.spec.limit);
    this.sql.exec("UPDATE webhooks SET places = ? WHERE id = ?", JSON.stringify(next.map((i) => i.item)), w.id);
    if (row.places === null) return false; // the first answer seen: nothing entered or left yet
    const { entered, left } = placesChanged(JSON.parse(row.places) as string[], next, w.spec.limit);
    let queued = false;
    if (entered.length > 0 && w.spec.on.includes("entered")) queued = this.queue(w, "ranking.entered", answer, entered, now);
    if (left.length > 0 && w.spec.on.includes("left")) queued = this.queue(w, "ranking.left", answer, left.map((item) => ({ item })), now) || queued;
    return queued;
  }

  private spikes(w: Held, answer: TrendingSnapshot, now: number): boolean {
    const row = this.sql.exec<{ spiking: string | null }>("SELECT spiking FROM webhooks WHERE id = ?", w.id).one();
    const spikes = spiking(answer.items, w.spec.spike.factor, w.spec.spike.minScore);
    this.sql.exec("UPDATE webhooks SET spiking = ? WHERE id = ?", JSON.stringify(spikes.map((s) => s.item)), w.id);
    if (row.spiking === null) return false; // the first answer seen: what spikes already is where it starts
    const fresh = newSpikes(JSON.parse(row.spiking) as string[], spikes);
    return fresh.length > 0 && this.queue(w, "ranking.spike", answer, fresh, now);
  }

  /** One message: Standard Webhooks' envelope (type, timestamp, data). */
  private queue(w: Held, type: string, answer: TrendingSnapshot, items: unknown[], now: number): true {
    const { window, rank, type: eventType, limit } = w.spec;
    const data = { namespace: this.namespace, webhook: w.id, window, rank, type: eventType, limit, generation: answer.generation, computedAt: answer.computedAt, items };
    this.delivery.queue(w.id, JSON.stringify({ type, timestamp: new Date(now).toISOString(), data }), now);
    return true;
  }

  /**
   * Creates or replaces webhook `id`. A new one gets its secret, returned here only; a replaced
   * one keeps its secret, and starts again unpaused, from the next answer (nothing it saw before
   * fires). The spec was validated by the Worker; what only this object knows is checked here.
   */
  put(id: string, spec: WebhookSpec, config: NamespaceConfig, held: (key: string) => string | undefined, now: number): WebhookPut {
    if (!config.windows.includes(spec.window)) {
      throw invalid("invalid_webhook", `window must be one of the namespace's windows: ${config.windows.join(", ")}.`, { field: "window", allowed: config.windows });
    }
    if (spec.limit > config.maxLimit) throw invalid("invalid_webhook", `limit may be at most the namespace's maxLimit, ${config.maxLimit}.`, { field: "limit", allowed: { min: 1, max: config.maxLimit } });
    if (spec.type !== null && !(spec.type in config.types)) {
      throw invalid("invalid_webhook", "type must be one of the namespace's declared types.", { field: "type", allowed: Object.keys(config.types) });
    }
    const existing = this.held.some((w) => w.id === id);
    if (!existing && this.held.length >= MAX_WEBHOOKS) {
      throw new TallyError(409, "too_many_webhooks", `Namespace "${this.namespace}" has ${MAX_WEBHOOKS} webhooks, its most; delete one first.`, { limit: MAX_WEBHOOKS });
    }
    let secret: string | undefined;
    if (existing) {
      this.sql.transaction(() => {
        this.sql.exec("UPDATE webhooks SET spec = ?, places = NULL, spiking = NULL, failing_since = NULL, paused = 0 WHERE id = ?", JSON.stringify(spec), id);
        this.sql.exec("DELETE FROM webhook_messages WHERE webhook = ?", id);
      });
    } else {
      secret = newSecret();
      this.sql.exec("INSERT INTO webhooks (id, spec, secret, created_at) VALUES (?, ?, ?, ?)", id, JSON.stringify(spec), secret, now);
    }
    this.load();
    // What the answers hold now is where the webhook starts from: only later changes fire.
    const w = this.held.find((h) => h.id === id)!;
    const places = held(w.placesKey);
    if (places !== undefined) this.places(w, JSON.parse(places) as TrendingSnapshot, now);
    const rising = held(w.risingKey);
    if (rising !== undefined && spec.on.includes("spike")) this.spikes(w, JSON.parse(rising) as TrendingSnapshot, now);
    return { ...this.status(id)!, created: !existing, ...(secret ? { secret } : {}) };
  }

  delete(id: string): boolean {
    const found = this.held.some((w) => w.id === id);
    this.sql.transaction(() => {
      this.sql.exec("DELETE FROM webhooks WHERE id = ?", id);
      this.sql.exec("DELETE FROM webhook_messages WHERE webhook = ?", id);
    });
    this.load();
    return found;
  }

  status(id: string): WebhookStatus | undefined {
    return this.list().find((w) => w.id === id);
  }

  /** Every webhook with its last delivery, its failures and what waits (never its secret). */
  list(): WebhookStatus[] {
    const pending = new Map(this.sql.exec<{ webhook: string; n: number }>("SELECT webhook, count(*) AS n FROM webhook_messages GROUP BY webhook").toArray().map((r) => [r.webhook, r.n]));
    return this.rows().map((row) => ({
      id: row.id,
      ...(JSON.parse(row.spec) as WebhookSpec),
      createdAt: iso(row.created_at)!,
      pending: pending.get(row.id) ?? 0,
      lastDelivery: row.last_delivery === null ? null : (JSON.parse(row.last_delivery) as DeliveryOutcome),
      failingSince: iso(row.failing_since),
      paused: row.paused === 1,
    }));
  }

  /** The cache report's `webhooks`. */
  report(): { webhooks: number; failing: number; paused: number; pending: number; attempts: number; failures: number } {
    const all = this.list();
    return {
      webhooks: all.length,
      failing: all.filter((w) => w.failingSince !== null && !w.paused).length,
      paused: all.filter((w) => w.paused).length,
      pending: all.reduce((n, w) => n + w.pending, 0),
      attempts: this.delivery.attempts,
      failures: this.delivery.failures,
    };
  }

  private rows(): WebhookRow[] {
    return this.sql.exec<WebhookRow>("SELECT id, spec, created_at, places, spiking, last_delivery, failing_since, paused FROM webhooks ORDER BY id").toArray();
  }

  private hold(row: WebhookRow): Held {
    const spec = JSON.parse(row.spec) as WebhookSpec;
    return {
      id: row.id,
      spec,
      paused: row.paused === 1,
      placesKey: snapshotKey({ kind: "trending", window: spec.window, rank: spec.rank, type: spec.type }),
      risingKey: snapshotKey({ kind: "trending", window: spec.window, rank: "rising", type: spec.type }),
    };
  }
}
