/**
 * Sharded ingest, through HTTP: small batches (1 and 10 events) at `ingestShards` 1 and
 * 4, each case in its own namespace, with `GET /healthz` in the same rounds.
 *
 * Like measurement 5, autocannon re-sends one fixed body per batch size without a `batchId`, so
 * every copy is accepted and counted, and with 4 shards the Worker sends each batch to a random
 * shard (the spread a client without ids gets). The cases run in interleaved rounds (healthz and
 * the four cases, the order turned by one each round), so that each case's ratio to the floor is
 * the median of its rounds' ratios to the floor run of the same round: the shared machine's load
 * changes by the second, and every case sees the same background (the read namespace's refreshes,
 * and the sharded namespaces' merges).
 *
 * Per object: with 1 shard the namespace's object takes every request; with k shards each shard
 * takes about requests/s ÷ k (random spread), plus one pull per refresh of the namespace's object,
 * which itself takes no ingest request but makes those k pulls and merges what they bring. The
 * refreshes are counted from the service's `/cache` report before and after the rounds, and the
 * shards it lists are checked, so that a k=4 figure cannot silently be a k=1 one.
 *
 * Each run also records the CPU time the runtime's workerd process (the Worker and every object,
 * on one thread) and the dev proxy's spent per answered request: unlike requests/s, the runtime's
 * CPU per request does not depend on what else the shared machine runs.
 */
import { readFileSync } from "node:fs";
import { fire, median, summarise, summariseRuns } from "./load.mjs";
import { processes } from "./machine.mjs";
import { config, stream, HOUR } from "./tally.mjs";

/**
 * CPU seconds (user + system) spent so far by the workerd processes descending from this process,
 * split in two: under `wrangler dev` one workerd is the dev proxy (it listens on the service's
 * port) and the other is the runtime serving Tally: the Worker and every Durable Object, on one
 * thread. Linux only (/proc); undefined elsewhere.
 */
function workerdCpuSeconds(port) {
  const table = processes();
  if (!table) return undefined;
  const out = { runtime: 0, proxy: 0, found: 0 };
  for (const [pid, p] of table) {
    if (!p.workerd) continue;
    let ours = false;
    for (let up = p.ppid, hops = 0; up > 1 && hops < 32 && !ours; up = table.get(up)?.ppid ?? 0, hops++) ours = up === process.pid;
    if (!ours) continue;
    let args = "";
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    out[args.includes(`entry=127.0.0.1:${port}\0`) || args.includes(`entry=127.0.0.1:${port} `) ? "proxy" : "runtime"] += p.cpuSeconds;
    out.found += 1;
  }
  return out.found === 2 ? out : undefined;
}

/** One run, with the workerd CPU time it cost per answered request (µs), runtime and proxy, where measurable. */
async function fireCounted(options, seconds, port) {
  const before = workerdCpuSeconds(port);
  const run = await fire(options, seconds);
  const after = workerdCpuSeconds(port);
  const n = run.ok + run.non2xx;
  if (before && after && run.ok > 0) {
    run.cpuMicrosPerRequest = ((after.runtime - before.runtime) * 1e6) / n;
    run.proxyCpuMicrosPerRequest = ((after.proxy - before.proxy) * 1e6) / n;
  }
  return run;
}

const namespaceOf = (k, batch) => `bench-shards-k${k}-b${batch}`;

/** What the namespace's `/cache` report says about refreshes and shards. */
async function report(api, ns) {
  const c = await api.cache(ns);
  return { at: Date.now(), refreshes: c.refreshes, ingest: c.ingest };
}

export async function shardedIngest(base, api, plan, log) {
  const { connections: c, shards, batches, rounds, seconds, warmup } = plan.shards;
  const cases = [];
  for (const batch of batches) {
    // One body per batch size, as in measurement 5: Zipf items over the last hour.
    const [events] = stream({ count: batch, items: 100_000, batch, spanMs: HOUR, seed: 1000 + batch });
    const body = JSON.stringify({ events });
    for (const k of shards) {
      const ns = namespaceOf(k, batch);
      await api.configure(ns, config({ ingestShards: k }));
      cases.push({ name: `k=${k} b=${batch}`, k, batch, ns, options: { url: `${base}/v1/namespaces/${ns}/events`, method: "POST", headers: api.ingestHeaders, body, connections: c } });
    }
  }
  const port = new URL(base).port;
  const targets = [{ name: "healthz", options: { url: `${base}/healthz`, connections: c } }, ...cases];
  log(`\n[sharded ingest] ${cases.map((x) => x.name).join(", ")} and /healthz, ${c} connections, ${rounds} interleaved rounds of ${seconds}s`);
  try {
    for (const t of targets) {
      // As measure() does: a warm-up may fall within another namespace's refresh; try again a few times.
      let warm = await fire(t.options, warmup);
      for (let retry = 1; warm.ok === 0 && retry <= 3; retry++) warm = await fire(t.options, warmup + 1);
      if (warm.ok === 0) throw new Error(`${t.name}: no 2xx answer during warm-up (non2xx ${warm.non2xx}, errors ${warm.errors})`);
    }
    const before = Object.fromEntries(await Promise.all(cases.map(async (x) => [x.name, await report(api, x.ns)])));
    const runs = Object.fromEntries(targets.map((t) => [t.name, []]));
    for (let i = 0; i < rounds; i++) {
      const order = targets.map((_, j) => targets[(i + j) % targets.length]);
      const got = {};
      for (const t of order) got[t.name] = await fireCounted(t.options, seconds, port);
      for (const t of targets) runs[t.name].push(got[t.name]);
      const cpu = (r) => (r.cpuMicrosPerRequest === undefined ? "" : ` (${Math.round(r.cpuMicrosPerRequest)} µs)`);
      log(`  round ${i + 1}/${rounds}: ` + targets.map((t) => `${t.name} ${Math.round(got[t.name].rps)}${cpu(got[t.name])}`).join(", ") + " req/s");
    }
    const after = Object.fromEntries(await Promise.all(cases.map(async (x) => [x.name, await report(api, x.ns)])));

    const summary = (name) => ({
      ...summariseRuns(name, c, runs[name]),
      ...(runs[name].every((r) => r.cpuMicrosPerRequest !== undefined)
        ? { cpuMicrosPerRequest: summarise(runs[name].map((r) => r.cpuMicrosPerRequest)), proxyCpuMicrosPerRequest: summarise(runs[name].map((r) => r.proxyCpuMicrosPerRequest)) }
        : {}),
    });
    const floor = summary("healthz");
    const out = { connections: c, rounds, seconds, batchId: false, floor, cases: [] };
    for (const x of cases) {
      const m = summary(x.name);
      const paired = runs[x.name].map((r, i) => r.rps / runs.healthz[i].rps);
      m.ratioToFloor = { median: median(paired), min: Math.min(...paired), max: Math.max(...paired), paired: true };
      if (m.cpuMicrosPerRequest && floor.cpuMicrosPerRequest) {
        // The runtime's CPU per request above the floor's, paired per round: what ingest adds to
        // a constant answer (the Worker's route, the object's RPC, its SQLite write and commit).
        const extra = runs[x.name].map((r, i) => r.cpuMicrosPerRequest - runs.healthz[i].cpuMicrosPerRequest);
        m.cpuOverFloorMicros = summarise(extra);
      }
      const objects = x.k; // the objects that take the ingest requests
      m.perObject = { median: m.rps.median / objects, min: m.rps.min / objects, max: m.rps.max / objects };
      m.eventsPerSec = { median: m.rps.median * x.batch, min: m.rps.min * x.batch, max: m.rps.max * x.batch };
      const a = before[x.name];
      const b = after[x.name];
      const refreshes = b.refreshes - a.refreshes;
      const span = b.ingest?.perShard?.length ?? 0;
      m.namespaceObject = {
        refreshes,
        seconds: (b.at - a.at) / 1000,
        // One pull per shard that may hold events, per refresh (more only beyond ~4 MB a shard).
        pullsPerSec: x.k > 1 ? (refreshes * span) / ((b.at - a.at) / 1000) : 0,
      };
      m.shardsReported = b.ingest?.shards ?? null;
      m.perShard = b.ingest?.perShard ?? [];
      if (m.shardsReported !== x.k || span !== (x.k > 1 ? x.k : 0)) {
        throw new Error(`${x.ns}: /cache reports ${m.shardsReported} shards and lists ${span}; expected ${x.k}`);
      }
      if (m.perShard.some((s) => s.lastMergeAt === null)) log(`  (${x.ns}: not every shard was merged during the run: ${JSON.stringify(m.perShard)})`);
      Object.assign(m, { k: x.k, batch: x.batch, namespace: x.ns });
      out.cases.push(m);
      log(
        `  => ${x.name}: ${Math.round(m.rps.median)} req/s (${(m.ratioToFloor.median * 100).toFixed(0)}% of /healthz, paired), p99 ${m.p99.median} ms, ` +
          `${Math.round(m.perObject.median)} req/s per ingest object` +
          (m.cpuMicrosPerRequest ? `, runtime CPU ${Math.round(m.cpuMicrosPerRequest.median)} µs per request (${Math.round(m.cpuOverFloorMicros.median)} µs above /healthz)` : "") +
          `; namespace object: ${refreshes} refreshes in ${m.namespaceObject.seconds.toFixed(0)} s` +
          (x.k > 1 ? `, ${m.namespaceObject.pullsPerSec.toFixed(2)} pulls/s` : "") +
          (m.failed ? `; ${m.failed} failed` : ""),
      );
    }
    return out;
  } finally {
    for (const x of cases) await api.erase(x.ns).catch((e) => log(`  (could not delete ${x.ns}: ${e.message})`));
  }
}
