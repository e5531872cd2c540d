/**
 * Test support: live sockets through SELF, and a reader that awaits each message (never sleeps).
 */
import { SELF } from "cloudflare:test";
import { BASE } from "./http";

/** A live socket of the Worker under test, and the messages it received, in order. */
export class LiveReader {
  private readonly messages: unknown[] = [];
  private waiter: (() => void) | undefined;
  closed: { code: number } | undefined;

  constructor(readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      this.messages.push(JSON.parse(String(event.data)));
      this.waiter?.();
    });
    socket.addEventListener("close", (event) => {
      this.closed = { code: event.code };
      this.waiter?.();
    });
  }

  /** The next message; fails if none comes within `timeoutMs` (a bound on a wait that the
   * socket's own events end, never a sleep). */
  async next<T = Record<string, unknown>>(timeoutMs = 5000): Promise<T> {
    await this.until(() => this.messages.length > 0 || this.closed !== undefined, timeoutMs, "no message came");
    if (this.messages.length === 0) throw new Error(`the socket closed (${this.closed!.code}) with no message`);
    return this.messages.shift() as T;
  }

  /** Messages received and not yet taken. */
  get held(): number {
    return this.messages.length;
  }

  /** Resolves once the socket has closed (within `timeoutMs`, as `next`). */
  async closing(timeoutMs = 5000): Promise<{ code: number }> {
    await this.until(() => this.closed !== undefined, timeoutMs, "the socket stayed open");
    return this.closed!;
  }

  /** Waits for the socket's next message or close until `done` holds; one timer bounds the wait
   * (a real one: some tests fake only Date). */
  private async until(done: () => boolean, timeoutMs: number, failure: string): Promise<void> {
    if (done()) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(failure)), timeoutMs);
        this.waiter = () => {
          if (done()) resolve();
        };
      });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      this.waiter = undefined;
    }
  }
}

/** Opens /live with `query` and `headers`; the response as the Worker gave it. */
export function openLive(ns: string, query: Record<string, string | number> = {}, headers: Record<string, string> = {}) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return SELF.fetch(`${BASE}/v1/namespaces/${ns}/live${qs ? `?${qs}` : ""}`, { headers: { Upgrade: "websocket", ...headers } });
}

/** Opens /live and accepts the socket, expecting the upgrade to succeed. */
export async function follow(ns: string, query: Record<string, string | number> = {}, headers: Record<string, string> = {}): Promise<LiveReader> {
  const res = await openLive(ns, query, headers);
  if (res.status !== 101 || !res.webSocket) throw new Error(`/live answered ${res.status}: ${await res.text()}`);
  res.webSocket.accept();
  return new LiveReader(res.webSocket);
}

/** The client's `openSocket` for workerd tests: the upgrade through SELF, accepted. */
export async function openThroughSelf(url: string, protocols: string[]): Promise<WebSocket> {
  const res = await SELF.fetch(url.replace(/^ws/, "http"), { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": protocols.join(", ") } });
  if (res.status !== 101 || !res.webSocket) throw new Error(`/live answered ${res.status}`);
  res.webSocket.accept();
  return res.webSocket;
}
