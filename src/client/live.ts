/**
 * Live answers (docs/api.md, "Live answers"): a WebSocket that gets the answer of a read, then
 * every change of it. `subscribe` reopens a socket that closed (a relay's eviction, a deploy, a
 * network change) with exponential backoff and full jitter, and the first message of every socket
 * is the current answer, so a reader resumes with the latest answer without asking for it.
 */
import { LIVE_PROTOCOL, LIVE_TOKEN_PROTOCOL_PREFIX, type Compare, type DashboardSnapshot, type LiveAnswer, type Rank, type StatsSnapshot, type TrendingSnapshot, type ReadWindow } from "../shared/contract.js";
import { reviveDashboard, reviveStats, reviveTrending, type Dashboard, type Stats, type Trending } from "./answers.js";
import type { Scheduler } from "./transport.js";

export interface LiveQuery {
  /** Which read to follow (default "trending"). */
  answer?: LiveAnswer;
  window?: ReadWindow;
  rank?: Rank;
  type?: string;
  limit?: number;
  minScore?: number;
  /** (v1.4) trending and stats: also answer the compared period (docs/api.md, "Comparisons"). */
  compare?: Compare;
}

/** What `onAnswer` gets, by the `answer` followed. */
export type LiveAnswerOf<A extends LiveAnswer> = A extends "stats" ? Stats : A extends "dashboard" ? Dashboard : Trending;

/** "live" once a socket gave its first answer; "retrying" while none is open (the reader may poll
 * meanwhile); "closed" after `close()`. */
export type LiveState = "live" | "retrying" | "closed";

/** Opens a socket and resolves once it is open. The default is the global WebSocket; a test or a
 * Worker passes its own (e.g. one made with `fetch` and `Upgrade: websocket`). */
export type OpenSocket = (url: string, protocols: string[]) => Promise<WebSocket>;

export interface LiveOptions {
  onState?: (state: LiveState) => void;
  openSocket?: OpenSocket;
  /** The first backoff's upper bound (default 500 ms); each failed open doubles it, to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface Subscription {
  readonly state: LiveState;
  close(): void;
}

const openGlobalSocket: OpenSocket = (url, protocols) =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols);
    socket.addEventListener("open", () => resolve(socket), { once: true });
    socket.addEventListener("error", () => reject(new Error(`tally: the live socket ${url} could not open.`)), { once: true });
  });

const REVIVE: Record<LiveAnswer, (wire: never) => unknown> = {
  trending: (w: TrendingSnapshot) => reviveTrending(w),
  stats: (w: StatsSnapshot) => reviveStats(w),
  dashboard: (w: DashboardSnapshot) => reviveDashboard(w),
};

export interface LiveTarget {
  baseUrl: string;
  namespace: string;
  token: string | undefined;
  scheduler: Scheduler;
  random: () => number;
}

export function subscribe<A extends LiveAnswer = "trending">(
  target: LiveTarget,
  query: LiveQuery & { answer?: A },
  onAnswer: (answer: LiveAnswerOf<A>) => void,
  options: LiveOptions = {},
): Subscription {
  const { scheduler, random } = target;
  const { openSocket = openGlobalSocket, baseDelayMs = 500, maxDelayMs = 30_000, onState } = options;
  const { answer = "trending", ...rest } = query;
  const params = new URLSearchParams(Object.entries({ answer, ...rest }).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
  const url = `${target.baseUrl.replace(/^http/, "ws")}/v1/namespaces/${target.namespace}/live?${params}`;
  // The token rides as a subprotocol: a browser cannot set headers on a WebSocket, and a URL is logged.
  const protocols = target.token ? [LIVE_PROTOCOL, LIVE_TOKEN_PROTOCOL_PREFIX + target.token] : [LIVE_PROTOCOL];
  let state: LiveState = "retrying";
  let failures = 0;
  let socket: WebSocket | undefined;
  let timer: unknown;
  const become = (next: LiveState) => {
    if (state === next) return;
    state = next;
    onState?.(next);
  };

  const retry = () => {
    if (state === "closed") return;
    socket = undefined;
    become("retrying");
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** failures) * random();
    failures = Math.min(failures + 1, 30);
    timer = scheduler.setTimeout(connect, delay);
  };

  const connect = () => {
    openSocket(url, protocols).then(
      (opened) => {
        if (state === "closed") return opened.close(1000);
        socket = opened;
        opened.addEventListener("message", (event: MessageEvent) => {
          const message = JSON.parse(String(event.data)) as { kind?: string };
          if (message.kind !== "answer") return; // a pong
          failures = 0; // an answer came: the next failure starts from the first backoff again
          become("live");
          const { kind: _, ...wire } = message;
          onAnswer(REVIVE[answer](wire as never) as LiveAnswerOf<A>);
        });
        opened.addEventListener("close", () => {
          if (socket === opened) retry();
        });
      },
      () => retry(),
    );
  };

  connect();
  return {
    get state() {
      return state;
    },
    close() {
      become("closed");
      scheduler.clearTimeout(timer);
      socket?.close(1000);
      socket = undefined;
    },
  };
}
