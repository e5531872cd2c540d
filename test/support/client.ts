/**
 * Test support for the client: a scheduler the test drives (nothing sleeps), and fetch functions
 * that reach the real Worker (SELF) while recording, delaying or breaking answers on the way.
 */
import { SELF } from "cloudflare:test";
import type { Fetch, Scheduler } from "../../src/client";
import { BASE, TOKENS, get, json, refresh } from "./http";

/** Time moves only when the test says so. */
export class ManualScheduler implements Scheduler {
  private now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; run: () => void }>();
  private wake: (() => void) | undefined;
  /** Every wait the client asked for, in ms, in order. */
  readonly waits: number[] = [];

  setTimeout(run: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, run });
    this.waits.push(ms);
    this.wake?.();
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (let next = this.earliest(); next && next[1].at <= target; next = this.earliest()) this.fire(next);
    this.now = target;
  }

  /** Until `promise` settles, runs the next timer whenever the client waits on one: backoffs pass
   * at once, in order, and are recorded in `waits`. */
  async drive<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const done = promise.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    while (!settled) {
      const next = this.earliest();
      if (next) {
        this.fire(next);
        await Promise.resolve();
        continue;
      }
      await Promise.race([done, new Promise<void>((resolve) => (this.wake = resolve))]);
      this.wake = undefined;
    }
    return promise;
  }

  private earliest(): [number, { at: number; run: () => void }] | undefined {
    let found: [number, { at: number; run: () => void }] | undefined;
    for (const entry of this.timers) if (!found || entry[1].at < found[1].at) found = entry;
    return found;
  }

  private fire([id, timer]: [number, { at: number; run: () => void }]): void {
    this.timers.delete(id);
    this.now = Math.max(this.now, timer.at);
    timer.run();
  }
}

export interface SentRequest {
  url: string;
  method: string;
  body: string | undefined;
  keepalive: boolean;
}

/** The Worker under test, reached through SELF, with every request recorded in `sent`. */
export function recordingFetch(): { fetch: Fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const fetch: Fetch = (url, init) => {
    const body = typeof init.body === "string" ? init.body : undefined;
    // keepalive (a browser's promise to finish after the page is gone) is recorded, not passed on.
    const { keepalive, ...rest } = init as RequestInit & { keepalive?: boolean };
    sent.push({ url, method: init.method ?? "GET", body, keepalive: keepalive === true });
    return SELF.fetch(url, rest);
  };
  return { fetch, sent };
}

/** The batch ids and event counts of the recorded ingest requests. */
export function batchesOf(sent: SentRequest[]): { batchId: string; events: number }[] {
  return sent
    .filter((r) => r.url.endsWith("/events"))
    .map((r) => {
      const body = JSON.parse(r.body ?? "{}") as { batchId: string; events: unknown[] };
      return { batchId: body.batchId, events: body.events.length };
    });
}

/** Client options for the Worker under test. */
export const service = (namespace: string, token: string = TOKENS.ingest) => ({ baseUrl: BASE, namespace, token, flushOnPageHide: false });

/** How many events the namespace holds over the last hour, after a refresh. */
export async function countedEvents(ns: string): Promise<number> {
  await refresh(ns);
  return (await json<{ events: number }>(await get(ns, "stats", { window: "1h" }))).events;
}
