/**
 * A V8 CPU profile of the service's Worker isolate (which runs its Durable Objects too, under
 * wrangler dev), through the inspector port wrangler dev opens. Node's own WebSocket speaks the
 * DevTools protocol; the profile is a .cpuprofile that Chrome's DevTools open.
 */
export async function startProfile(inspectorPort) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
  // The inspector proxy accepts only local origins (an Origin header is required of a client that
  // sends a User-Agent, as Node's WebSocket does).
  const socket = new WebSocket(target.webSocketDebuggerUrl, { headers: { origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error("inspector connection failed"));
  });
  let id = 0;
  const waiting = new Map();
  socket.onmessage = (message) => {
    const reply = JSON.parse(String(message.data));
    if (reply.id !== undefined && waiting.has(reply.id)) {
      waiting.get(reply.id)(reply);
      waiting.delete(reply.id);
    }
  };
  const call = (method, params = {}) =>
    new Promise((resolve) => {
      waiting.set(++id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  return {
    async stop() {
      const reply = await call("Profiler.stop");
      socket.close();
      return reply.result.profile;
    },
  };
}

/**
 * The `n` functions that took the most of a profile's samples by themselves (self time), and the
 * share of all samples each took, with where it is defined: where the CPU of a run went.
 */
export function heaviest(profile, n = 25) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  for (const id of profile.samples) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || "(anonymous)"} ${url.split("/").pop()}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([where, samples]) => ({ where, share: samples / total }));
}

/** The callers `whereItWent` charges a sample to: the first of them, in this order, on its stack. */
const PARTS = [
  ["the refresh: snapshots", "computeAll"],
  ["the refresh: checkpoint", "checkpoint"],
  ["the refresh: the rest", "refreshOnce"],
  ["the batch log", "appendBatch"],
  ["the core's ingest", "count"],
  ["the core's ingest", "keepWithinBudget"],
  ["JSON parse of the body", "jsonBody"],
  ["the RPC copy of the batch", "send"],
  ["the door's validation", "parseBatch"],
];

/**
 * The share of a profile's samples by part of an ingest: a sample goes to the first of the callers
 * above found on its stack (a snapshot's merge counts as the refresh's), else to garbage
 * collection, the runtime's own (program, idle), or the rest.
 */
export function whereItWent(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const shares = new Map();
  for (const id of profile.samples) {
    const names = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) names.add(byId.get(at).callFrame.functionName);
    const own = byId.get(id).callFrame.functionName;
    const part =
      PARTS.find(([, caller]) => names.has(caller))?.[0] ??
      (own === "(garbage collector)" ? "garbage collection" : own === "(program)" || own === "(idle)" ? "the runtime's own" : "the rest");
    shares.set(part, (shares.get(part) ?? 0) + 1 / profile.samples.length);
  }
  return [...shares].sort((a, b) => b[1] - a[1]).map(([where, share]) => ({ where, share }));
}
