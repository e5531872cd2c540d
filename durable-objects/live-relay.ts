/**
 * LiveRelay: holds up to MAX_SOCKETS_PER_RELAY WebSockets of one namespace's live answers, so
 * that the namespace's own object holds none (idFromName "relay/<i>/<namespace>").
 *
 * Sockets are accepted with the Hibernation API (ctx.acceptWebSocket): an idle relay is evicted
 * from memory while the runtime keeps its sockets open, and it bills no duration. Each socket is
 * tagged with the snapshot key it follows, and its cut (limit, minScore) is its attachment
 * (serializeAttachment, kept by the runtime across hibernation), so a woken relay needs no
 * start-up: it holds nothing else, which is why it has no Startup (startup.ts) and no storage.
 *
 * partyserver is not used: it routes by its own URL scheme (/parties/:party/:room) and names
 * rooms through its own fetch, where Tally authorises and validates in the Worker first and
 * pushes to relays over RPC; the Hibernation API it wraps is what this file calls directly.
 */
import { DurableObject } from "cloudflare:workers";
import { LIVE_GONE_CODE, LIVE_PROTOCOL, MAX_SOCKETS_PER_RELAY, type AnswerChange } from "../src/shared/contract";
import { cutAnswer, liveMessage } from "../src/shared/answer-cut";
import { TallyError, errorResponse } from "../src/shared/errors";
import { parseRelayObjectName, parseRelayOpen, snapshotKey } from "../src/shared/keys";
import { aggregatorOf, valueOrThrow } from "../src/shared/rpc";

/** A socket's attachment (at most 16 KiB; this is a few dozen bytes). */
interface Follower {
  limit: number | null;
  minScore: number;
}

/** The answer to a reader's "ping". */
const PONG = '{"kind":"pong"}';

export class LiveRelay extends DurableObject<Env> {
  private readonly address = (() => {
    const parsed = parseRelayObjectName(this.ctx.id.name ?? "");
    if (!parsed) throw new Error('LiveRelay: the object must be addressed with idFromName("relay/<index>/<namespace>") (relayOf in src/shared/rpc.ts).');
    return parsed;
  })();
  /** The most sockets this relay holds (MAX_SOCKETS_PER_RELAY; the Worker moves on to the next relay
   * when it is reached). */
  protected readonly capacity: number = MAX_SOCKETS_PER_RELAY;
  /** Answers a socket is being opened for, with the latest change pushed meanwhile: until its
   * socket is accepted, a push must neither call the answer idle nor be lost. */
  private readonly opening = new Map<string, { count: number; latest?: AnswerChange }>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // A reader's "ping" is answered by the runtime itself, without waking a hibernated relay.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", PONG));
  }

  /** Opens a socket. The Worker has authorised the read and validated the query already. */
  override async fetch(request: Request): Promise<Response> {
    try {
      // Sockets being opened count too: an open waits on the namespace's object, and others may
      // arrive meanwhile.
      const opening = [...this.opening.values()].reduce((n, o) => n + o.count, 0);
      if (this.ctx.getWebSockets().length + opening >= this.capacity) {
        throw new TallyError(503, "relay_full", `Relay ${this.address.index} of "${this.address.namespace}" holds ${this.capacity} sockets, its most.`);
      }
      const open = parseRelayOpen(request.url);
      const key = snapshotKey(open.query);
      const held = this.opening.get(key) ?? { count: 0 };
      this.opening.set(key, { ...held, count: held.count + 1 });
      try {
        const current = await valueOrThrow(aggregatorOf(this.env, this.address.namespace).follow({ relay: this.address.index, query: open.query }));
        const pair = new WebSocketPair();
        const [client, server] = [pair[0], pair[1]];
        const follower: Follower = { limit: open.limit, minScore: open.minScore ?? 0 };
        this.ctx.acceptWebSocket(server, [key]);
        server.serializeAttachment(follower);
        // A change pushed while the follow was under way is newer than the answer it returned.
        const latest = this.opening.get(key)?.latest;
        const first = latest && latest.computedAt > current.computedAt ? latest.body : current.body;
        server.send(liveMessage(cutAnswer(first, follower)));
        const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
        const headers: Record<string, string> = offered.includes(LIVE_PROTOCOL) ? { "Sec-WebSocket-Protocol": LIVE_PROTOCOL } : {};
        return new Response(null, { status: 101, webSocket: client, headers });
      } finally {
        const held = this.opening.get(key)!;
        if (held.count === 1) this.opening.delete(key);
        else held.count -= 1;
      }
    } catch (error) {
      return errorResponse(error);
    }
  }

  /**
   * Sends each change to the sockets that follow its answer, each cut to its reader's limit once
   * per distinct cut. Resolves to the answers this relay holds no socket of any more, so the
   * namespace's object stops telling it. `send` queues in the runtime and never waits for a
   * reader, so one slow socket cannot hold the others back.
   */
  async push(changes: AnswerChange[]): Promise<{ idle: string[] }> {
    const idle: string[] = [];
    for (const change of changes) {
      const opening = this.opening.get(change.key);
      if (opening) opening.latest = change;
      const sockets = this.ctx.getWebSockets(change.key);
      if (sockets.length === 0 && !opening) idle.push(change.key);
      const messages = new Map<string, string>();
      for (const socket of sockets) {
        const follower = socket.deserializeAttachment() as Follower;
        const cut = `${follower.limit}/${follower.minScore}`;
        let message = messages.get(cut);
        if (message === undefined) messages.set(cut, (message = liveMessage(cutAnswer(change.body, follower))));
        try {
          socket.send(message);
        } catch {
          // The socket is closing; its close handler runs next.
        }
      }
    }
    return { idle };
  }

  /** Closes every socket this relay holds: their namespace was erased. */
  closeAll(): number {
    const sockets = this.ctx.getWebSockets();
    for (const socket of sockets) {
      try {
        socket.close(LIVE_GONE_CODE, "The namespace was deleted.");
      } catch {
        // Already closing.
      }
    }
    return sockets.length;
  }

  /** Readers send nothing but "ping" (answered by the runtime, see the constructor), so that a
   * client can check that its socket is alive; anything else is ignored. */
  override webSocketMessage(): void {}

  override webSocketClose(socket: WebSocket, code: number, reason: string): void {
    try {
      socket.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // Already closed: the runtime completed the closing handshake itself.
    }
  }
}
