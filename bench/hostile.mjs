/**
 * Hostile input tried as an attacker would, through the public API of Tally under `wrangler dev`
 * on 127.0.0.1 (`npm run bench:hostile`, and part of `npm run bench`): the default config, the
 * local tokens of .dev.vars.
 *
 * 1. A flood of future-stamped events: CONNECTIONS connections send 1000-event batches for
 *    FLOOD_SECONDS, each event stamped AHEAD_MS ahead with a distinct 200-byte item. Then a
 *    refresh, a restart of the service on the same storage while events are still ahead, and,
 *    once every one is due, a count.
 * 2. 200,000 undeclared type names, in 1000-event batches, then a refresh, the answers' sizes,
 *    and a restart.
 *
 * Recorded for each: every status answered, `/cache`'s memory against the budget, workerd's
 * resident memory, the largest answer, and the events counted against those acknowledged.
 * Bounded in time (about 6 minutes at the default sizes, most of it waiting for the events to
 * come due; 1 minute with --quick), it stops by itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWranglerDev } from "../test/support/wrangler-dev.mjs";
import { workerdRssMB } from "./lib/machine.mjs";
import { localVars } from "./lib/server.mjs";

const CONNECTIONS = 4;
const BATCH = 1000;

class Statuses {
  counts = {};
  /** The first few answers of 5xx, whole: what a server error said is the first clue to its cause. */
  serverErrorBodies = [];
  add(status) {
    this.counts[status] = (this.counts[status] ?? 0) + 1;
  }
  get serverErrors() {
    return Object.entries(this.counts).reduce((n, [s, c]) => n + (Number(s) >= 500 ? c : 0), 0);
  }
}

function client(base, { ADMIN_TOKEN, INGEST_TOKEN }) {
  const call = (method, path, token, body) =>
    fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    ingest: (ns, events, batchId) => call("POST", `/v1/namespaces/${ns}/events`, INGEST_TOKEN, { batchId, events }),
    admin: (method, ns, path) => call(method, `/v1/namespaces/${ns}/${path}`, ADMIN_TOKEN),
    get: (ns, path) => call("GET", `/v1/namespaces/${ns}/${path}`, ADMIN_TOKEN),
  };
}

async function sized(res) {
  const bytes = (await res.arrayBuffer()).byteLength;
  return { status: res.status, bytes };
}

/** The figures every scenario reports after a phase. */
async function observe(session, ns) {
  const { api, statuses } = session;
  const refresh = await api.admin("POST", ns, "refresh");
  statuses.add(refresh.status);
  await refresh.arrayBuffer();
  const cache = await api.admin("GET", ns, "cache");
  statuses.add(cache.status);
  const report = cache.status === 200 ? await cache.json() : null;
  const answers = {};
  for (const path of ["stats?window=1h", "stats?window=24h", "trending?window=1h&limit=100", "dashboard"]) {
    const res = await sized(await api.get(ns, path));
    statuses.add(res.status);
    answers[path] = res.bytes;
  }
  const stats = await api.get(ns, "stats?window=1h");
  statuses.add(stats.status);
  const counted = stats.status === 200 ? (await stats.json()).events : null;
  return {
    refresh: refresh.status,
    memoryMB: report ? report.memory.bytes / 2 ** 20 : null,
    budgetMB: report ? report.memory.budgetBytes / 2 ** 20 : null,
    workerdRssMB: workerdRssMB(session.pid()),
    largestAnswerBytes: Math.max(...Object.values(answers)),
    counted,
  };
}

/**
 * Runs `body` against a service of its own, on storage that survives `restart()`: the service is
 * stopped and started again on the same data, as a deploy or an eviction would. Always stopped.
 */
async function withRestartableService(root, body) {
  const vars = localVars(root);
  const persist = mkdtempSync(join(tmpdir(), "tally-hostile-"));
  let service = await startWranglerDev(root, { persistTo: persist });
  const session = {
    api: client(service.base, vars),
    statuses: new Statuses(),
    pid: () => service.pid,
    /** The service's last lines that name an error (wrangler dev prints the objects' logs). */
    errorLines: () => service.output().split("\n").filter((l) => /error|overload|exceed|reset/i.test(l)).slice(-8),
    restart: async () => {
      await service.stop();
      service = await startWranglerDev(root, { persistTo: persist });
      session.api = client(service.base, vars);
    },
  };
  try {
    return await body(session);
  } finally {
    await service.stop();
    rmSync(persist, { recursive: true, force: true });
  }
}

/** Sends batches from CONNECTIONS connections while `nextBatch()` gives one; resolves to the
 * events acknowledged. */
async function send(session, ns, nextBatch) {
  let accepted = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, connection) => {
      for (let batch = nextBatch(connection); batch; batch = nextBatch(connection)) {
        const res = await session.api.ingest(ns, batch.events, batch.id);
        session.statuses.add(res.status);
        if (res.status >= 500 && session.statuses.serverErrorBodies.length < 5) {
          session.statuses.serverErrorBodies.push({ status: res.status, body: await res.text(), log: session.errorLines() });
          continue;
        }
        // Read first: `accepted += await ...` would add to the value read before the await.
        const answered = res.status === 202 ? (await res.json()).accepted : (await res.arrayBuffer(), 0);
        accepted += answered;
      }
    }),
  );
  return accepted;
}

export function floodScenario(root, { seconds, aheadMs, log }) {
  return withRestartableService(root, async (session) => {
    const ns = `hostile-flood-${Date.now()}`;
    const rssBefore = workerdRssMB(session.pid());
    const until = Date.now() + seconds * 1000;
    const made = Array(CONNECTIONS).fill(0);
    let sent = 0;
    const accepted = await send(session, ns, (c) => {
      if (Date.now() >= until) return undefined;
      const b = made[c]++;
      const ts = Date.now() + aheadMs;
      sent += BATCH;
      return { id: `flood-${c}-${b}`, events: Array.from({ length: BATCH }, (_, i) => ({ item: `${c}-${b}-${i}-`.padEnd(200, "x"), ts })) };
    });
    const lastDue = Date.now() + aheadMs;
    log(`hostile: flood sent ${sent} events, ${accepted} acknowledged`);
    const afterFlood = await observe(session, ns);
    await session.restart();
    const afterRestart = await observe(session, ns);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastDue - Date.now()) + 2000)); // until every event is due
    const due = await observe(session, ns);
    log(`hostile: flood due: ${due.counted} of ${accepted} counted`);
    return {
      scenario: `flood of future-stamped events (${seconds} s, ${CONNECTIONS} connections, ${aheadMs / 1000} s ahead, 200-byte distinct items)`,
      sent,
      accepted,
      statuses: session.statuses.counts,
      serverErrors: session.statuses.serverErrors,
      serverErrorBodies: session.statuses.serverErrorBodies,
      rssBeforeMB: rssBefore,
      afterFlood,
      afterRestart,
      due,
    };
  });
}

function typesScenario(root, { types, log }) {
  return withRestartableService(root, async (session) => {
    const ns = `hostile-types-${Date.now()}`;
    let next = 0;
    const accepted = await send(session, ns, () => {
      const b = next++;
      if (b >= types / BATCH) return undefined;
      return { id: `types-${b}`, events: Array.from({ length: BATCH }, (_, i) => ({ item: `item-${i % 100}`, type: `t-${b * BATCH + i}` })) };
    });
    const afterIngest = await observe(session, ns);
    const stats = await (await session.api.get(ns, "stats?window=24h")).json();
    await session.restart();
    const afterRestart = await observe(session, ns);
    log(`hostile: ${types} type names: ${afterRestart.counted} of ${accepted} counted, ${Object.keys(stats.byType).length} named in byType`);
    return {
      scenario: `${types.toLocaleString("en")} undeclared type names`,
      sent: types,
      accepted,
      statuses: session.statuses.counts,
      serverErrors: session.statuses.serverErrors,
      namedTypes: Object.keys(stats.byType).length,
      afterIngest,
      afterRestart,
    };
  });
}

/** Both scenarios; `quick` shortens the flood and the type names. */
export async function hostile(root, { quick = false, log = console.log } = {}) {
  const ranAt = new Date().toISOString();
  const flood = await floodScenario(root, { seconds: quick ? 10 : 60, aheadMs: quick ? 20_000 : 240_000, log });
  const types = await typesScenario(root, { types: quick ? 20_000 : 200_000, log });
  return [flood, types].map((result) => ({ ...result, ranAt }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, "..");
  const results = await hostile(root, { quick: process.argv.includes("--quick") });
  console.log(JSON.stringify(results, null, 2));
}
