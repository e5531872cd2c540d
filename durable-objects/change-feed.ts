/**
 * The change feed of a namespace's object: every refresh compares each answer someone follows
 * with the one before it, minus `to` and `computedAt` (which move on every refresh), and emits one
 * change per answer that differs. An invalidation or a suppression bumps the generation, which is
 * part of every answer, so their refresh emits a change for every followed answer.
 *
 * Only answers a listener watches are compared, so a namespace nobody follows pays one Map lookup
 * per answer per refresh, and a followed one pays one more serialisation of that answer.
 */
import type { AnswerChange, Snapshot } from "../src/shared/contract";
import { hash53 } from "../src/core/hash";

/** A consumer of the change feed: the live relays, and later webhooks. */
export interface ChangeListener {
  /** Whether this listener wants the changes of `key`. */
  watches(key: string): boolean;
  /** Takes the changes of one refresh. Never awaited by the refresh: the listener sends them on
   * its own time (ctx.waitUntil), so a slow consumer cannot delay a refresh. */
  publish(changes: readonly AnswerChange[]): void;
  /** Work that needs the refresh loop's alarm to go on (webhook retries). */
  busy?(): boolean;
}

/** What identifies an answer's content: all of it but the fields that move on every refresh. */
const moving = (name: string, value: unknown) => (name === "to" || name === "computedAt" ? undefined : value);

export function fingerprintOf(snapshot: Snapshot): number {
  return hash53(JSON.stringify(snapshot, moving));
}

export class ChangeFeed {
  /** The fingerprint of the last answer seen, by snapshot key: for watched answers only. Memory
   * only: after a restart the first refresh emits every watched answer once (a duplicate is
   * harmless to a socket; a missed change would not be). */
  private readonly seen = new Map<string, number>();

  constructor(private readonly listeners: readonly ChangeListener[]) {}

  watched(key: string): boolean {
    return this.listeners.some((l) => l.watches(key));
  }

  /** Records `snapshot` as the answer of `key`; true if it differs from the one before it. */
  differs(key: string, snapshot: Snapshot): boolean {
    const fingerprint = fingerprintOf(snapshot);
    if (this.seen.get(key) === fingerprint) return false;
    this.seen.set(key, fingerprint);
    return true;
  }

  /** Records an answer a listener was just given (a socket's first message) without emitting it. */
  note(key: string, body: string): void {
    if (!this.seen.has(key)) this.seen.set(key, fingerprintOf(JSON.parse(body) as Snapshot));
  }

  /** Whether a listener needs the loop's alarm to go on even when the namespace is idle. */
  busy(): boolean {
    return this.listeners.some((l) => l.busy?.() === true);
  }

  emit(changes: readonly AnswerChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) {
      const wanted = changes.filter((c) => listener.watches(c.key));
      if (wanted.length > 0) listener.publish(wanted);
    }
  }
}
