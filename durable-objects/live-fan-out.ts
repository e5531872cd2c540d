/**
 * The namespace's side of live answers: which relay objects follow which answers (SQLite, since
 * the relays' sockets outlive this object's memory), and the push of each change to them.
 *
 * - Each relay is told once per change, whatever number of sockets it holds.
 * - At most MAX_OPEN_CONNECTIONS pushes are open at once (Workers' limit on simultaneous
 *   connections of one invocation).
 * - At most one push per relay is in flight. Changes that arrive meanwhile wait, and only the
 *   latest of each answer does: a relay slow to answer gets the latest answer, never a queue.
 * - Pushes run behind the refresh (ctx.waitUntil): a refresh never waits for a relay.
 */
import type { AnswerChange } from "../src/shared/contract";
import { relayOf } from "../src/shared/rpc";
import type { ChangeListener } from "./change-feed";
import { MAX_OPEN_CONNECTIONS, fanOut } from "./fan-out";
import type { ObjectPart } from "./object-part";
import { messageOf } from "./outcome";

export class LiveFanOut implements ChangeListener {
  /** Snapshot key → the relays that follow it. */
  private readonly relaysOf = new Map<string, Set<number>>();
  /** Relay → the latest change of each answer not yet pushed to it. */
  private readonly waiting = new Map<number, Map<string, AnswerChange>>();
  private readonly sending = new Set<number>();
  private draining: Promise<void> | undefined;
  /** Pushes made and failed since the object started (the cache report's `live`). */
  pushes = 0;
  pushFailures = 0;

  constructor(
    private readonly part: ObjectPart,
    private readonly env: Env,
  ) {}

  /** Start-up, once the schema exists: who follows what, from SQLite. */
  load(): void {
    this.relaysOf.clear();
    for (const row of this.part.sql.exec<{ relay: number; key: string }>("SELECT relay, key FROM live_listeners")) this.remember(row.relay, row.key);
  }

  /** Relay `relay` holds a socket of answer `key` from now on. Idempotent. */
  follow(relay: number, key: string): void {
    if (this.relaysOf.get(key)?.has(relay)) return;
    this.part.sql.exec("INSERT OR IGNORE INTO live_listeners (relay, key) VALUES (?, ?)", relay, key);
    this.remember(relay, key);
  }

  /** Relays that follow at least one answer: for the cache report. */
  get relays(): number {
    return new Set([...this.relaysOf.values()].flatMap((s) => [...s])).size;
  }

  watches(key: string): boolean {
    return (this.relaysOf.get(key)?.size ?? 0) > 0;
  }

  publish(changes: readonly AnswerChange[]): void {
    for (const change of changes) {
      for (const relay of this.relaysOf.get(change.key) ?? []) {
        let latest = this.waiting.get(relay);
        if (!latest) this.waiting.set(relay, (latest = new Map()));
        latest.set(change.key, change); // coalesced: a newer change of the answer replaces the older
      }
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    this.part.ctx.waitUntil(this.draining);
  }

  /** Pushes until nothing waits, in at most MAX_OPEN_CONNECTIONS lanes. A lane takes a relay
   * with changes waiting and none in flight; a relay busy with a push is left for its own lane,
   * which finds the newer changes when it comes back. */
  private async drain(): Promise<void> {
    const lane = async () => {
      for (;;) {
        const relay = [...this.waiting.keys()].find((r) => !this.sending.has(r));
        if (relay === undefined) return;
        const changes = [...this.waiting.get(relay)!.values()];
        this.waiting.delete(relay);
        this.sending.add(relay);
        try {
          await this.push(relay, changes);
        } finally {
          this.sending.delete(relay);
        }
      }
    };
    while (this.waiting.size > 0) await Promise.all(Array.from({ length: MAX_OPEN_CONNECTIONS }, lane));
  }

  /** One push. A relay that holds no socket of an answer any more says so, and stops being told
   * of it. A failed push is logged and not retried: the relay's sockets closed with it, most
   * likely, and a reconnecting client starts from the latest answer anyway. */
  private async push(relay: number, changes: AnswerChange[]): Promise<void> {
    try {
      const { idle } = await relayOf(this.env, this.part.namespace, relay).push(changes);
      this.pushes += 1;
      for (const key of idle) this.unfollow(relay, key);
    } catch (error) {
      this.pushFailures += 1;
      console.error(JSON.stringify({ object: "NamespaceAggregator", namespace: this.part.namespace, method: "push", relay, cause: messageOf(error) }));
    }
  }

  /** The namespace is erased: every relay that follows it closes its sockets (LIVE_GONE_CODE), and
   * no relay is told anything more. A client that opens again is refused with a 404. */
  async closeAll(): Promise<void> {
    const relays = [...new Set([...this.relaysOf.values()].flatMap((s) => [...s]))];
    this.relaysOf.clear();
    this.waiting.clear();
    await fanOut(relays, (relay) =>
      relayOf(this.env, this.part.namespace, relay)
        .closeAll()
        .catch((error: unknown) => console.error(JSON.stringify({ object: "NamespaceAggregator", namespace: this.part.namespace, method: "closeAll", relay, cause: messageOf(error) }))),
    );
  }

  private unfollow(relay: number, key: string): void {
    this.part.sql.exec("DELETE FROM live_listeners WHERE relay = ? AND key = ?", relay, key);
    const relays = this.relaysOf.get(key);
    relays?.delete(relay);
    if (relays?.size === 0) this.relaysOf.delete(key);
  }

  private remember(relay: number, key: string): void {
    let relays = this.relaysOf.get(key);
    if (!relays) this.relaysOf.set(key, (relays = new Set()));
    relays.add(relay);
  }
}
