// Live answers for the page (docs/api.md, "Live answers"): a WebSocket per read, whose messages are
// the read's answer and then each change of it. The read token goes as the subprotocol
// `tally.token.<token>` (a browser cannot set headers on a WebSocket, and a URL would be logged).
// A socket that closes is reopened with backoff; while none is open the page polls (app.js).

import { token } from "./api.js";

/** The first backoff, doubled on each failed open, up to the most. */
const FIRST_DELAY_MS = 500;
const MOST_DELAY_MS = 30_000;

/**
 * Follows the read `path` (a /live path with its query): `onAnswer(body)` for every answer,
 * `onState("live" | "retrying")` when that changes. Returns a function that stops following.
 */
export function followLive(path, onAnswer, onState) {
  const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
  const held = token.get();
  const protocols = held ? ["tally.v1", `tally.token.${held}`] : ["tally.v1"];
  let socket = null;
  let timer;
  let failures = 0;
  let stopped = false;
  let live = false;
  const become = (next) => {
    if (live === next) return;
    live = next;
    onState(next ? "live" : "retrying");
  };
  const open = () => {
    try {
      socket = new WebSocket(url, protocols);
    } catch {
      return retry();
    }
    socket.addEventListener("message", (event) => {
      const { kind, ...body } = JSON.parse(event.data);
      if (kind !== "answer") return;
      failures = 0;
      become(true);
      onAnswer(body);
    });
    socket.addEventListener("close", retry);
  };
  function retry() {
    socket = null;
    if (stopped) return;
    become(false);
    const delay = Math.min(MOST_DELAY_MS, FIRST_DELAY_MS * 2 ** failures) * Math.random();
    failures = Math.min(failures + 1, 30);
    timer = setTimeout(open, delay);
  }
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close(1000);
  };
}
