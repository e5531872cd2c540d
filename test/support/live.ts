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

  /** The next message; fails if none comes within ~5 s (a bound on a wait, not a sleep; counted
   * in turns of 50 ms, since some tests drive Date). */
  async next<T = Record<string, unknown>>(turns = 100): Promise<T> {
    for (let turn = 0; this.messages.length === 0; turn++) {
      if (this.closed) throw new Error(`the socket closed (${this.closed.code}) with no message`);
      if (turn > turns) throw new Error("no message came");
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.messages.shift() as T;
  }

  /** Messages received and not yet taken. */
  get held(): number {
    return this.messages.length;
  }

  /** Resolves once the socket has closed (within ~5 s, counted in turns as `next` does). */
  async closing(turns = 100): Promise<{ code: number }> {
    for (let turn = 0; !this.closed; turn++) {
      if (turn > turns) throw new Error("the socket stayed open");
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.closed;
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
