/**
 * GET /v1/namespaces/{ns}/live (docs/api.md, "Live answers"): the Worker's side. The read was
 * authorised and its query validated by the route; this hands the socket to a relay of the
 * namespace (relays hold the sockets, so the namespace's object holds none).
 */
import { LIVE_PROTOCOL, MAX_RELAYS, type LiveOpen } from "../shared/contract";
import { TallyError } from "../shared/errors";
import { relayOf } from "../shared/rpc";
import { relayOpenUrl } from "../shared/keys";

/** How long a client should wait before opening again when every relay is full. */
const FULL_RETRY_AFTER_SECONDS = 30;

/** The lowest relay of each namespace this isolate last found with room: relays fill in order,
 * so one that was full is skipped next time, without asking it again. A hint only. */
const firstWithRoom = new Map<string, number>();

export async function openLive(env: Env, namespace: string, open: LiveOpen, request: Request): Promise<Response> {
  // The relay sees no token: the Authorization header is dropped, and of the subprotocols only
  // Tally's own is passed on (a read token may ride in Sec-WebSocket-Protocol; auth.ts).
  const headers = new Headers(request.headers);
  headers.delete("Authorization");
  const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
  if (offered.includes(LIVE_PROTOCOL)) headers.set("Sec-WebSocket-Protocol", LIVE_PROTOCOL);
  else headers.delete("Sec-WebSocket-Protocol");
  const url = relayOpenUrl(open);
  for (let index = firstWithRoom.get(namespace) ?? 0; index < MAX_RELAYS; index++) {
    const response = await relayOf(env, namespace, index).fetch(url, { headers });
    if (response.status === 503 && (await codeOf(response)) === "relay_full") continue;
    if (index > 0 || firstWithRoom.has(namespace)) firstWithRoom.set(namespace, index);
    return response;
  }
  firstWithRoom.delete(namespace); // sockets close: ask from the first relay again next time
  throw new TallyError(
    503,
    "live_full",
    `Namespace "${namespace}" holds the most live sockets it may (${MAX_RELAYS} relays); read with GET, or open again later.`,
    { retryAfterSeconds: FULL_RETRY_AFTER_SECONDS },
    { "Retry-After": String(FULL_RETRY_AFTER_SECONDS) },
  );
}

async function codeOf(response: Response): Promise<string | undefined> {
  try {
    return ((await response.json()) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
