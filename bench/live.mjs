/**
 * `npm run bench:live`: live answers under `wrangler dev` on this machine. Opens N sockets on one
 * namespace (1 and 1,000 by default: `-- --sockets 1,1000`), then makes `--changes` refreshes that
 * each change the followed answer, and measures:
 * - delivery latency, from the answer's `computedAt` (the instant the refresh computed it, by this
 *   machine's clock, which the service shares here) to each socket's message, and to the last socket
 *   of each change: p50 and p99. Pushes start before the refresh call answers, so that answer is no
 *   mark to measure from;
 * - the CPU per change of this run's workerd (the namespace's object, the relays and the Worker
 *   together, read from /proc), and, from the difference between the runs, the CPU per socket
 *   delivered.
 * `-- --refresh` measures instead what a refresh and an ingest cost with nobody and with one socket
 * following (the object's own `lastRefresh.durationMs`, and an ingest's round trip), 40 of each,
 * to compare with the code before live answers (printed only).
 * Results go to bench/results/live.json. Sockets go through wrangler's local proxy, like every
 * request here; the figures are of this machine, not of production.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startWranglerDev } from "../test/support/wrangler-dev.mjs";
import { machine, processes } from "./lib/machine.mjs";

const ROOT = join(import.meta.dirname, "..");
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const SOCKET_COUNTS = arg("sockets", "1,1000").split(",").map(Number);
const CHANGES = Number(arg("changes", "30"));
const VARS = { ADMIN_TOKEN: "bench-admin", INGEST_TOKEN: "bench-ingest", READ_TOKEN: "", LOCAL_LAYER_SWITCH: "" };

/** The CPU seconds of the workerd processes below process `root` (this run's wrangler dev): other
 * services on a shared machine are not counted. */
function workerdCpuSeconds(root) {
  const table = processes() ?? new Map();
  const below = (pid) => {
    for (let p = pid; p > 1; p = table.get(p)?.ppid ?? 0) if (p === root) return true;
    return false;
  };
  return [...table].filter(([pid, p]) => p.workerd && below(pid)).reduce((s, [, p]) => s + p.cpuSeconds, 0);
}
const quantile = (xs, q) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

async function call(base, method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Opens one socket and resolves once its first answer came; `onAnswer(n, at)` for every later one. */
function openSocket(url, onAnswer) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, ["tally.v1"]);
    let n = 0;
    socket.addEventListener("message", (event) => {
      const at = Date.now();
      if (n++ === 0) return resolve(socket);
      onAnswer(n - 1, at - Date.parse(JSON.parse(event.data).computedAt));
    });
    socket.addEventListener("error", () => reject(new Error(`socket ${url} failed`)));
  });
}

async function run({ base, pid }, sockets) {
  const ns = `bench-live-${sockets}-${Date.now().toString(36)}`;
  await call(base, "PUT", `/v1/namespaces/${ns}/config`, VARS.ADMIN_TOKEN, { windows: ["1h", "24h"], refreshSeconds: 3600 });
  await call(base, "POST", `/v1/namespaces/${ns}/events`, VARS.INGEST_TOKEN, { events: [{ item: "seed" }] });
  await call(base, "POST", `/v1/namespaces/${ns}/refresh`, VARS.ADMIN_TOKEN);
  const url = `${base.replace(/^http/, "ws")}/v1/namespaces/${ns}/live?answer=trending&window=1h&limit=10`;
  /** arrivals[change] = the ms from its computedAt to its message at each socket */
  const arrivals = Array.from({ length: CHANGES + 1 }, () => []);
  const opened = [];
  for (let i = 0; i < sockets; i += 50) {
    const batch = Array.from({ length: Math.min(50, sockets - i) }, () => openSocket(url, (n, at) => arrivals[n]?.push(at)));
    opened.push(...(await Promise.all(batch)));
  }
  const latencies = [];
  const lastSocket = [];
  const cpuBefore = workerdCpuSeconds(pid);
  for (let change = 1; change <= CHANGES; change++) {
    await call(base, "POST", `/v1/namespaces/${ns}/events`, VARS.INGEST_TOKEN, { events: [{ item: `new-${change}`, weight: 1000 * change }] });
    await call(base, "POST", `/v1/namespaces/${ns}/refresh`, VARS.ADMIN_TOKEN);
    const deadline = performance.now() + 30_000;
    while (arrivals[change].length < sockets) {
      if (performance.now() > deadline) throw new Error(`change ${change}: ${arrivals[change].length} of ${sockets} sockets told`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const each = arrivals[change];
    latencies.push(...each);
    lastSocket.push(Math.max(...each));
  }
  const cpuSeconds = workerdCpuSeconds(pid) - cpuBefore;
  for (const socket of opened) socket.close(1000);
  return {
    sockets,
    changes: CHANGES,
    deliveryMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
    lastSocketMs: { p50: quantile(lastSocket, 0.5), p99: quantile(lastSocket, 0.99) },
    workerdCpuMsPerChange: (cpuSeconds * 1000) / CHANGES,
  };
}

/** 40 ingests of 100 events, each followed by a refresh, on a namespace of 300 items and 2 types;
 * with `follow`, one socket follows the top answer meanwhile. */
async function refreshCost({ base }, follow) {
  const ns = `bench-refresh-${follow ? 1 : 0}-${Date.now().toString(36)}`;
  await call(base, "PUT", `/v1/namespaces/${ns}/config`, VARS.ADMIN_TOKEN, { refreshSeconds: 3600, types: { view: {}, like: {} } });
  const seed = Array.from({ length: 1000 }, (_, k) => ({ item: `it${k % 300}`, type: k % 3 ? "view" : "like" }));
  await call(base, "POST", `/v1/namespaces/${ns}/events`, VARS.INGEST_TOKEN, { events: seed });
  await call(base, "POST", `/v1/namespaces/${ns}/refresh`, VARS.ADMIN_TOKEN);
  const socket = follow ? await openSocket(`${base.replace(/^http/, "ws")}/v1/namespaces/${ns}/live`, () => {}) : undefined;
  const refresh = [];
  const ingest = [];
  for (let k = 0; k < 40; k++) {
    const events = Array.from({ length: 100 }, (_, j) => ({ item: `it${(k * 7 + j) % 300}`, type: "view" }));
    const started = performance.now();
    await call(base, "POST", `/v1/namespaces/${ns}/events`, VARS.INGEST_TOKEN, { events });
    ingest.push(performance.now() - started);
    await call(base, "POST", `/v1/namespaces/${ns}/refresh`, VARS.ADMIN_TOKEN);
    refresh.push((await call(base, "GET", `/v1/namespaces/${ns}/cache`, VARS.ADMIN_TOKEN)).lastRefresh.durationMs);
  }
  socket?.close(1000);
  return { following: follow ? 1 : 0, refreshMs: { p50: quantile(refresh, 0.5), p90: quantile(refresh, 0.9) }, ingestMs: { p50: quantile(ingest, 0.5), p90: quantile(ingest, 0.9) } };
}

const service = await startWranglerDev(ROOT, { vars: VARS, storagePrefix: "tally-bench-live-" });
if (process.argv.includes("--refresh")) {
  try {
    for (const follow of [false, true]) console.log(JSON.stringify(await refreshCost(service, follow)));
  } finally {
    await service.stop();
  }
  process.exit(0);
}
try {
  const runs = [];
  for (const sockets of SOCKET_COUNTS) {
    const result = await run(service, sockets);
    console.log(JSON.stringify(result));
    runs.push(result);
  }
  const [few, many] = [runs[0], runs.at(-1)];
  const perSocketMs = runs.length > 1 ? (many.workerdCpuMsPerChange - few.workerdCpuMsPerChange) / (many.sockets - few.sockets) : null;
  const report = { machine: machine(), runs, cpuMsPerSocketDelivered: perSocketMs };
  writeFileSync(join(ROOT, "bench/results/live.json"), JSON.stringify(report, null, 2) + "\n");
  console.log(`CPU per socket delivered: ${perSocketMs?.toFixed(3)} ms`);
} finally {
  await service.stop();
}
