/**
 * Measurement 8: the hit ratio under a realistic read mix. Reads are picked by Zipf over
 * namespaces, windows (the configured ones and 5m, which is not precomputed until first asked),
 * limits and rank, while each namespace's refresh loop runs every 2 s. The share of reads served by
 * each layer is counted client-side from X-Cache, and the service's own /cache report is pulled
 * per namespace at the end.
 */
import { fire, summarise } from "./load.mjs";
import { rng, zipf } from "../../test/support/random.ts";
import { config, seed } from "./tally.mjs";

const LABELS = ["HIT-EDGE", "HIT-KV", "HIT-DO", "MISS"];
const WINDOWS = ["24h", "1h", "7d", "5m"]; // by popularity; 5m is not in the config
const LIMITS = [10, 20, 50, 100];

export const mixNamespaces = (n) => Array.from({ length: n }, (_, i) => `bench-mix-${i}`);

export async function prepareMix(api, plan, log) {
  const names = mixNamespaces(plan.mixNamespaces);
  for (const [i, ns] of names.entries()) {
    await api.configure(ns, config({ refreshSeconds: 2, staleSeconds: 60 }));
    await seed(api, ns, { count: plan.mixEvents, items: 20_000, seed: 100 + i });
    await api.refresh(ns);
  }
  log(`  ${names.length} namespaces seeded with ${plan.mixEvents} events each, refreshSeconds 2`);
  return names;
}

/** An autocannon request whose path is drawn afresh for every request. */
function mixRequest(names, counts, seedValue) {
  const random = rng(seedValue);
  const pickNs = zipf(names.length, 1.0, random);
  const pickWindow = zipf(WINDOWS.length, 1.0, random);
  const pickLimit = zipf(LIMITS.length, 1.2, random);
  return {
    method: "GET",
    setupRequest: (req) => {
      const ns = names[pickNs() - 1];
      const window = WINDOWS[pickWindow() - 1];
      const r = random();
      let path;
      if (r < 0.7) {
        const rank = random() < 0.85 ? "top" : "rising";
        path = `/v1/namespaces/${ns}/trending?window=${window}&limit=${LIMITS[pickLimit() - 1]}&rank=${rank}`;
      } else if (r < 0.9) path = `/v1/namespaces/${ns}/stats?window=${window}`;
      else path = `/v1/namespaces/${ns}/dashboard`;
      return { ...req, path };
    },
    onResponse: (status, _body, _ctx, headers) => {
      let label = "other";
      for (const key in headers) if (key.toLowerCase() === "x-cache") label = String(headers[key]);
      counts[status < 300 ? label : `status ${status}`] = (counts[status < 300 ? label : `status ${status}`] ?? 0) + 1;
    },
  };
}

const shares = (counts) => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { total, share: Object.fromEntries(LABELS.map((l) => [l, total ? (counts[l] ?? 0) / total : 0])) };
};

export async function mix(base, api, names, plan, log) {
  const runs = [];
  let cold;
  for (let i = 0; i <= plan.runs; i++) {
    const counts = {};
    const seconds = i === 0 ? plan.warmup : plan.mixSeconds;
    const r = await fire({ url: base, connections: plan.mixConnections, requests: [mixRequest(names, counts, 800 + i)] }, seconds);
    const s = { ...shares(counts), counts, rps: r.rps, p50: r.p50, p99: r.p99 };
    const line = LABELS.map((l) => `${l} ${(s.share[l] * 100).toFixed(1)}%`).join(", ");
    if (i === 0) {
      cold = s;
      log(`  mix: warm-up (cold edge) ${s.total} reads: ${line}`);
    } else {
      runs.push(s);
      log(`  mix: run ${i}/${plan.runs}: ${s.total} reads, ${Math.round(r.rps)} req/s: ${line}, MISS ${counts.MISS ?? 0}`);
    }
  }
  const report = {};
  for (const ns of names) report[ns] = await api.cache(ns);
  const service = { reads: 0, syncComputes: 0, refreshes: 0, layers: { edge: { hits: 0, misses: 0 }, kv: { hits: 0, misses: 0 }, do: { hits: 0, misses: 0 } } };
  for (const c of Object.values(report)) {
    service.reads += c.reads;
    service.syncComputes += c.syncComputes;
    service.refreshes += c.refreshes;
    for (const l of ["edge", "kv", "do"]) {
      service.layers[l].hits += c.layers[l].hits;
      service.layers[l].misses += c.layers[l].misses;
    }
  }
  // Same definition as the service's own hitRatio: reads not computed while the client waited.
  service.hitRatio = service.reads ? (service.reads - service.layers.do.misses) / service.reads : null;
  return {
    connections: plan.mixConnections,
    cold,
    runs,
    share: Object.fromEntries(LABELS.map((l) => [l, summarise(runs.map((r) => r.share[l]))])),
    misses: summarise(runs.map((r) => r.counts.MISS ?? 0)),
    rps: summarise(runs.map((r) => r.rps)),
    service,
    perNamespace: report,
  };
}
