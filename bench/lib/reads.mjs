/**
 * Measurements 1-4: the floor (GET /healthz), cached reads served from the edge, each layer alone
 * through the local-only X-Tally-Layer switch, and compute-on-read. Every figure is also given as a
 * ratio to the floor at the same concurrency, measured minutes apart in the same run, because the
 * wrangler dev proxy caps local throughput and absorbs most of the absolute numbers.
 */
import { fire, measure, median, ratio, summariseRuns } from "./load.mjs";
import { workerdChildrenCpuSeconds as workerdCpuSeconds } from "./machine.mjs";

/** One run, with the workerd CPU time it cost per answered request (µs), where measurable. */
async function fireCounted(options, seconds) {
  const before = workerdCpuSeconds();
  const run = await fire(options, seconds);
  const after = workerdCpuSeconds();
  if (before !== undefined && after !== undefined && run.ok > 0) run.cpuMicrosPerRequest = ((after - before) * 1e6) / (run.ok + run.non2xx);
  return run;
}

export const READ_NS = "bench-read";
/** (v1.7) The namespace of the segment read: the same stream with 2 dimension values an event. */
export const SEGMENT_NS = "bench-read-segment";

/** An edge hit without the dev proxy should serve at least this share of the runtime's own floor. */
export const EDGE_TARGET = 0.85;

/** The three precomputed answers a dashboard client reads. */
export const ENDPOINTS = {
  // 7d: "trending this week", the ranking that merges the most buckets when computed on read.
  trending: `/v1/namespaces/${READ_NS}/trending?window=7d&limit=10&rank=top`,
  stats: `/v1/namespaces/${READ_NS}/stats?window=24h`,
  dashboard: `/v1/namespaces/${READ_NS}/dashboard`,
  // (v1.7) One category of 20, the same ranking as `trending`.
  segment: `/v1/namespaces/${SEGMENT_NS}/trending?window=7d&limit=10&rank=top&segment=category:c1`,
};

/** Checks one read comes back from the expected layer before loading it (a wrong label would
 * make every figure measure something else). */
async function expectLabel(base, path, headers, want) {
  const res = await fetch(base + path, { headers });
  await res.text();
  const label = res.headers.get("x-cache");
  if (!res.ok || label !== want) throw new Error(`${path} answered ${res.status} ${label}, expected ${want}`);
}

/** 1 and 2: the floor and edge hits, interleaved per concurrency so both see the same machine. */
export async function floorAndEdge(base, plan, log) {
  const floor = {};
  const edge = {};
  for (const c of plan.connections) {
    log(`\n[1] floor: GET /healthz, ${c} connection(s)`);
    floor[c] = await measure(`healthz c=${c}`, { url: `${base}/healthz`, connections: c }, plan, log);
    for (const [name, path] of Object.entries(ENDPOINTS).filter(([n]) => !plan.endpoints || plan.endpoints.includes(n))) {
      log(`[2] edge hit: ${name}, ${c} connection(s)`);
      await expectLabel(base, path, {}, "HIT-EDGE").catch(() => expectLabel(base, path, {}, "HIT-EDGE"));
      const m = await measure(`edge ${name} c=${c}`, { url: base + path, connections: c }, plan, log);
      m.ratioToFloor = ratio(m, floor[c]);
      (edge[name] ??= {})[c] = m;
      log(`  => ${(m.ratioToFloor.median * 100).toFixed(0)}% of the floor`);
    }
  }
  return { floor, edge };
}

/**
 * 1 and 2 with the runs interleaved: floor, trending, stats, dashboard, floor, ... so that each
 * edge run is compared with the floor run just before it. On a shared machine whose load changes
 * by the second, a floor measured once can be off by 2x from the reads measured after it; the
 * median of paired ratios is not.
 */
export async function floorAndEdgePaired(base, plan, log, probeBase) {
  const floor = {};
  const edge = {};
  const names = Object.keys(ENDPOINTS).filter((n) => !plan.endpoints || plan.endpoints.includes(n));
  // With a bare probe Worker: for each answer, a constant body of the same size, so that the cost
  // of moving the answer's bytes (on these shared cores, the load generator's too) is told apart
  // from Tally's own work.
  const sizes = {};
  if (probeBase) for (const n of names) sizes[n] = (await (await fetch(base + ENDPOINTS[n])).arrayBuffer()).byteLength;
  for (const c of plan.connections) {
    const targets = [
      ["floor", `${base}/healthz`],
      ...names.map((n) => [n, base + ENDPOINTS[n]]),
      ...(probeBase ? names.map((n) => [`${n} size`, `${probeBase}/bytes?n=${sizes[n]}`]) : []),
    ];
    for (const n of names) await expectLabel(base, ENDPOINTS[n], {}, "HIT-EDGE").catch(() => expectLabel(base, ENDPOINTS[n], {}, "HIT-EDGE"));
    log(`\n[1, 2] floor and edge hits interleaved, ${c} connection(s), ${plan.runs} rounds of ${plan.seconds}s`);
    for (const [, url] of targets) await fire({ url, connections: c }, plan.warmup);
    const runs = Object.fromEntries(targets.map(([n]) => [n, []]));
    for (let i = 1; i <= plan.runs; i++) {
      for (const [n, url] of targets) runs[n].push(await fireCounted({ url, connections: c }, plan.seconds));
      const cpu = (r) => (r.cpuMicrosPerRequest === undefined ? "" : ` (${Math.round(r.cpuMicrosPerRequest)} µs CPU)`);
      log(`  round ${i}/${plan.runs}: ` + targets.map(([n]) => `${n} ${Math.round(runs[n].at(-1).rps)}${cpu(runs[n].at(-1))}`).join(", ") + " req/s");
    }
    const summary = (n) => summariseRuns(`${n} c=${c}`, c, runs[n]);
    floor[c] = summary("floor");
    for (const n of names) {
      const m = summary(n);
      const paired = runs[n].map((r, i) => r.rps / runs.floor[i].rps);
      m.ratioToFloor = { median: median(paired), min: Math.min(...paired), max: Math.max(...paired), paired: true };
      // The same comparison in the runtime's own CPU time per request: floor CPU / edge CPU.
      const cpu = runs[n].map((r, i) => runs.floor[i].cpuMicrosPerRequest / r.cpuMicrosPerRequest).filter(Number.isFinite);
      if (cpu.length > 0) m.cpuRatioToFloor = { median: median(cpu), min: Math.min(...cpu), max: Math.max(...cpu) };
      if (probeBase) {
        const sized = runs[`${n} size`].map((r, i) => r.rps / runs[n][i].rps).filter(Number.isFinite);
        // The size-matched bare floor's requests/s over this answer's: 1 would mean Tally adds nothing.
        m.bytes = sizes[n];
        m.ratioToSizedFloor = { median: median(sized.map((x) => 1 / x)), min: Math.min(...sized.map((x) => 1 / x)), max: Math.max(...sized.map((x) => 1 / x)) };
      }
      (edge[n] ??= {})[c] = m;
      if (m.ratioToSizedFloor) log(`  => ${n} (${m.bytes} bytes): ${(m.ratioToSizedFloor.median * 100).toFixed(0)}% of a bare Worker answering as many bytes`);
      log(
        `  => ${n}: ${(m.ratioToFloor.median * 100).toFixed(0)}% of the floor's requests/s (paired rounds)` +
          (m.cpuRatioToFloor ? `; workerd CPU per request: the floor's is ${(m.cpuRatioToFloor.median * 100).toFixed(0)}% of this one's` : ""),
      );
    }
  }
  return { floor, edge };
}

/** 3 and 4: KV alone, the object's snapshot alone, and the object computing while the client waits. */
export async function layers(base, floor, plan, log) {
  const out = {};
  const want = { kv: "HIT-KV", do: "HIT-DO", compute: "MISS" };
  for (const { endpoint, connections } of plan.layerCases) {
    const path = ENDPOINTS[endpoint];
    for (const layer of ["kv", "do", "compute"]) {
      const headers = { "x-tally-layer": layer };
      log(`\n[${layer === "compute" ? 4 : 3}] layer ${layer} alone: ${endpoint}, ${connections} connection(s)`);
      await expectLabel(base, path, headers, want[layer]);
      const m = await measure(`${layer} ${endpoint} c=${connections}`, { url: base + path, connections, headers }, plan, log);
      m.ratioToFloor = floor[connections] ? ratio(m, floor[connections]) : null;
      ((out[endpoint] ??= {})[connections] ??= {})[layer] = m;
    }
    const row = out[endpoint][connections];
    // What precomputation buys: the same answer, precomputed vs computed while the client waits.
    row.doOverCompute = ratio(row.do, row.compute);
    row.kvOverCompute = ratio(row.kv, row.compute);
    log(`  => snapshot/compute ${row.doOverCompute.median.toFixed(2)}x, kv/compute ${row.kvOverCompute.median.toFixed(2)}x`);
  }
  return out;
}
