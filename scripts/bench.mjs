#!/usr/bin/env node
// `npm run bench` (full, < 20 min) and `npm run bench -- --quick` (< 2 min): starts Tally under
// `wrangler dev` on 127.0.0.1 with fresh storage, loads it with autocannon, runs the core benchmark
// (bench/core.ts) in a child process, then writes the results and (full runs only) BENCHMARKS.md.
// Not part of `npm test`. Options: --quick, --cpu-only (workerd CPU per ingested event alone, against
// the commit before too, or --before REV; with --profile, a CPU profile of it in bench/results), --skip-core, --skip-http, --skip-direct, --skip-hostile, --direct-only (to work on one part),
// --report-only (rewrite BENCHMARKS.md and the chart from bench/results/latest.json, no load).
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { localVars, startService } from "../bench/lib/server.mjs";
import { machine } from "../bench/lib/machine.mjs";
import { client, config, seed, stream } from "../bench/lib/tally.mjs";
import { EDGE_TARGET, floorAndEdge, floorAndEdgePaired, layers, READ_NS, SEGMENT_NS } from "../bench/lib/reads.mjs";
import { ingest } from "../bench/lib/ingest.mjs";
import { DIMENSIONS, ingestCpu, withDims } from "../bench/lib/ingest-cpu.mjs";
import { ingestFloor } from "../bench/lib/ingest-floor.mjs";
import { baseCommit, checkoutBefore } from "../bench/lib/before.mjs";
import { shardedIngest } from "../bench/lib/shards.mjs";
import { mix, prepareMix } from "../bench/lib/mix.mjs";
import { startDirect, startProbe } from "../bench/lib/direct.mjs";
import { measure } from "../bench/lib/load.mjs";
import { writeReport } from "../bench/lib/report.mjs";
import { storage } from "../bench/lib/storage.mjs";
import { hostile } from "../bench/hostile.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const quick = args.has("--quick");
const directOnly = args.has("--direct-only");
const cpuOnly = args.has("--cpu-only");
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const log = (line) => console.log(line.startsWith("\n") ? `\n[${elapsed()}] ${line.slice(1)}` : line);

/**
 * Sizes of everything. Full: every case. Quick: a check that every part still runs, with rough
 * figures, in under 2 minutes: one concurrency, 1-second runs, fewer cases and rounds, and the
 * slowest scenarios left to the full run (listed in QUICK_SKIPS and printed at the start).
 */
const SIZES = quick
  ? {
      warmup: 1, runs: 3, seconds: 1,
      connections: [16],
      endpoints: ["trending", "dashboard"],
      layerCases: [{ endpoint: "trending", connections: 16 }],
      batches: [1, 1000], ingestConnections: [8],
      ingestCpu: { events: 50_000, rounds: 1 },
      shards: { shards: [1, 4], batches: [1], connections: 8, warmup: 1, rounds: 3, seconds: 1 },
      readEvents: 30_000, readItems: 20_000,
      mixNamespaces: 2, mixEvents: 5_000, mixConnections: 16, mixSeconds: 1,
      // Without the dev proxy: floor and edge hits in 3 paired rounds, without the size-matched and
      // bare-Worker probes (the full run has both, and 7 rounds).
      direct: { connections: [16], layerCases: [], runs: 3, sizedProbe: false, bareProbe: false },
    }
  : {
      warmup: 1, runs: 3, seconds: 2,
      connections: [1, 16, 64],
      layerCases: [
        { endpoint: "trending", connections: 1 },
        { endpoint: "trending", connections: 16 },
        { endpoint: "stats", connections: 16 },
        { endpoint: "dashboard", connections: 16 },
      ],
      batches: [1, 100, 1000], ingestConnections: [1, 8],
      ingestCpu: { events: 200_000, rounds: 3 },
      // Sharded ingest: ~60 s for 4 cases and /healthz in interleaved rounds.
      shards: { shards: [1, 4], batches: [1, 10], connections: 8, warmup: 1, rounds: 5, seconds: 2 },
      readEvents: 300_000, readItems: 100_000,
      mixNamespaces: 8, mixEvents: 20_000, mixConnections: 16, mixSeconds: 5,
      direct: { connections: [16], layerCases: [{ endpoint: "trending", connections: 16 }], runs: 7, sizedProbe: true, bareProbe: true },
    };

/**
 * `--quick --direct-only` (working on the edge hit) keeps the plan BENCHMARKS.md describes for it:
 * the three edge hits with the size-matched and bare-Worker probes in 9 paired rounds, over a read
 * namespace of 50,000 events. Only the quick run as a whole is trimmed.
 */
const PLAN =
  quick && directOnly
    ? {
        ...SIZES,
        endpoints: undefined,
        readEvents: 50_000,
        direct: { connections: [16], layerCases: [], runs: 9, sizedProbe: true, bareProbe: true },
      }
    : SIZES;

/** What the quick run leaves out, against the full run (bench/core.ts prints its own). */
const QUICK_SKIPS = [
  "concurrencies 1 and 64 (16 only), 1-second runs",
  "edge hits on stats (trending and dashboard only)",
  "a read namespace of 30,000 events over 20,000 items instead of 300,000 over 100,000",
  "layers of stats and dashboard (trending only)",
  "ingest with 100-event batches and with 1 connection",
  "sharded ingest with 10-event batches (1-event only), 3 rounds instead of 5",
  "read mix over 2 namespaces instead of 8, 1-second runs",
  "without the dev proxy: 3 rounds instead of 7, no layers, no size-matched or bare-Worker probe",
  "CPU per ingested event (5b): 50,000 events in one round, through wrangler dev only (`--quick --cpu-only` adds the runs without the dev proxy)",
  "the hostile-input run (`npm run bench:hostile -- --quick` runs it alone in about a minute)",
];

/** `--before REV` also measures the core of REV (bench/core.ts), as it does 5b. */
function beforeArgs() {
  const at = process.argv.indexOf("--before");
  return at > 0 ? ["--before", process.argv[at + 1]] : [];
}

/** The core benchmark runs in its own Node process (with --expose-gc) and hands back JSON. */
function runCore(out) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", "--max-old-space-size=4096", "--import", "tsx", join(root, "bench/core.ts"), "--json", out, ...(quick ? ["--quick"] : []), ...beforeArgs()],
      { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
    );
    const stop = () => child.kill("SIGTERM");
    process.once("SIGINT", stop);
    child.on("exit", (code) => {
      process.off("SIGINT", stop);
      if (code === 0) resolve(JSON.parse(readFileSync(out, "utf8")));
      else reject(new Error(`bench/core.ts exited with ${code}`));
    });
  });
}

/** Fills the read namespace of measurements 2-4 and precomputes it. */
async function seedReads(api) {
  await api.configure(READ_NS, config());
  await seed(api, READ_NS, { count: PLAN.readEvents, items: PLAN.readItems, seed: 7 });
  // (v1.7) The segment read's namespace: the same stream, each event with a category and a country.
  await api.configure(SEGMENT_NS, config({ dimensions: DIMENSIONS }));
  let b = 0;
  for (const events of stream({ count: PLAN.readEvents, items: PLAN.readItems, seed: 7 })) await api.post(SEGMENT_NS, withDims(events, 2, 1000 * b++));
  await api.refresh(SEGMENT_NS);
  return api.refresh(READ_NS);
}

/** The same floor, edge hits and layers without the dev proxy; optional, so a failure is reported, not fatal. */
async function direct(results) {
  const dlog = (line) => log(line.startsWith("\n") ? `\n(direct) ${line.slice(1)}` : line);
  let service;
  let sizedProbe;
  const onSignal = () => Promise.all([service?.stop(), sizedProbe?.stop()]).finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    log(`\n[1-4 without the dev proxy] building the Worker and serving it from workerd through Miniflare`);
    service = await startDirect(root, log);
    await seedReads(client(service.base, localVars(root)));
    const plan = { ...PLAN, ...PLAN.direct };
    if (plan.sizedProbe) sizedProbe = await startProbe(root, service.compatibilityDate);
    const { floor, edge } = await floorAndEdgePaired(service.base, plan, dlog, sizedProbe?.base);
    await sizedProbe?.stop();
    sizedProbe = undefined;
    results.direct = { miniflare: service.miniflare, floor, edge, layers: await layers(service.base, floor, plan, dlog) };
    for (const [name, byConnections] of Object.entries(edge)) {
      for (const [c, m] of Object.entries(byConnections)) {
        const met = m.ratioToFloor.median >= EDGE_TARGET ? "met" : "MISSED";
        log(`(direct) edge hit ${name} c=${c}: ${m.ratioToFloor.median.toFixed(2)}x the runtime's floor (target >= ${EDGE_TARGET}: ${met})` +
          (m.ratioToSizedFloor ? `; ${m.ratioToSizedFloor.median.toFixed(2)}x a bare Worker answering its ${m.bytes} bytes` : "") +
          (m.cpuRatioToFloor ? `; workerd CPU: floor/edge ${m.cpuRatioToFloor.median.toFixed(2)}` : ""));
      }
    }
    await service.stop();
    if (!plan.bareProbe) return;
    service = await startProbe(root, service.compatibilityDate);
    const c = plan.connections[0];
    log(`\n(direct) a bare Worker: a constant answer, then one caches.default.match, ${c} connections`);
    const bare = await measure(`bare floor c=${c}`, { url: `${service.base}/floor`, connections: c }, plan, log);
    const cache = await measure(`bare cache match c=${c}`, { url: `${service.base}/cache`, connections: c }, plan, log);
    results.direct.probe = { connections: c, floor: bare, cache };
  } catch (error) {
    log(`  skipped: ${error.message}`);
    results.direct = { ...results.direct, error: error.message };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await service?.stop().catch(() => {});
    await sizedProbe?.stop().catch(() => {});
  }
}

/**
 * Measurement 5b: workerd CPU per ingested event, end to end (bench/lib/ingest-cpu.mjs), for this
 * checkout and, beside it in the same run, for the commit this branch was made from (`--before REV`
 * names another), each under its own wrangler dev. Its rounds are interleaved with this one's.
 */
async function measureIngestCpu(service, api) {
  log(`\n[5b] workerd CPU per ingested event: ${PLAN.ingestCpu.events} events in 1000-event batches, 1M and 1k items, and 1M items live`);
  const profileTo = args.has("--profile") ? join(root, "bench/results/ingest-{items}.cpuprofile") : undefined;
  const at = process.argv.indexOf("--before");
  let before;
  let beforeService;
  try {
    before = checkoutBefore(root, at > 0 ? process.argv[at + 1] : baseCommit(root));
    beforeService = await startService(before.dir, { log });
    log(`  before: ${before.commit.slice(0, 12)} under its own wrangler dev`);
  } catch (error) {
    log(`  no comparison with the commit before: ${error.message.split("\n")[0]}`);
  }
  try {
    const services = { after: { service, api } };
    if (beforeService) services.before = { service: beforeService, api: client(beforeService.base, beforeService.vars) };
    const out = await ingestCpu(services, { ...PLAN.ingestCpu, profileTo }, log);
    await beforeService?.stop();
    beforeService = undefined;
    // Without the dev proxy too, both builds at once and their rounds interleaved, each counting its
    // own workerd processes: wrangler dev moves every body through workers of its own, which a
    // deployment does not have.
    if (!args.has("--skip-direct") && (!quick || cpuOnly)) {
      const directs = {};
      try {
        for (const [name, dir] of [["afterDirect", root], ["beforeDirect", before?.dir]]) {
          if (!dir) continue;
          const direct = await startDirect(dir, log);
          directs[name] = { service: direct, api: client(direct.base, localVars(dir)) };
        }
        Object.assign(out, await ingestCpu(directs, PLAN.ingestCpu, log));
      } finally {
        for (const { service: direct } of Object.values(directs)) await direct.stop();
      }
    }
    // The runtime's own cost of the same requests, before any counting (ingest-floor.mjs).
    if (!args.has("--skip-direct") && (!quick || cpuOnly)) out.floor = await ingestFloor(root, PLAN.ingestCpu, log);
    return { ...out, beforeCommit: before?.commit, machine: cpuOnly ? machine() : undefined };
  } finally {
    await beforeService?.stop();
    before?.remove();
  }
}

async function http(results) {
  const service = await startService(root, { log });
  const onSignal = () => service.stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const api = client(service.base, service.vars);
    if (cpuOnly) return void (results.ingestCpu = await measureIngestCpu(service, api));
    const wranglerPkg = JSON.parse(readFileSync(join(root, "node_modules/wrangler/package.json"), "utf8"));
    results.machine.wrangler = wranglerPkg.version;

    log(`\nseeding ${READ_NS}: ${PLAN.readEvents} events over ${PLAN.readItems} items, 7 days`);
    const refreshed = await seedReads(api);
    log(`  refreshed at ${refreshed.computedAt}`);
    results.readNamespace = { events: PLAN.readEvents, items: PLAN.readItems, config: config() };

    const { floor, edge } = await floorAndEdge(service.base, PLAN, log);
    Object.assign(results, { floor, edge });
    results.layers = await layers(service.base, floor, PLAN, log);
    results.ingest = await ingest(service.base, api, PLAN, log);
    results.ingestCpu = await measureIngestCpu(service, api);
    results.shards = await shardedIngest(service.base, api, PLAN, log);
    results.storage = await storage(api, READ_NS, log);

    log(`\n[8] read mix: preparing`);
    const names = await prepareMix(api, PLAN, log);
    results.mix = await mix(service.base, api, names, PLAN, log);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await service.stop();
    log(`\nservice stopped`);
  }
}

async function main() {
  const dir = join(root, "bench/results");
  if (args.has("--report-only")) return writeReport(root, JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")), log);
  mkdirSync(dir, { recursive: true });
  const results = { mode: quick ? "quick" : "full", plan: PLAN, machine: machine() };
  log(`tally bench (${results.mode}) on ${results.machine.cpu}, ${results.machine.cores} cores, node ${results.machine.node}, load average ${results.machine.loadAverage?.map((n) => n.toFixed(2)).join(" ") ?? "unknown"}`);
  if (quick && !directOnly) {
    results.skipped = QUICK_SKIPS;
    log(`quick run, under 2 minutes: rough figures, BENCHMARKS.md is not rewritten. Left to the full run (\`npm run bench\`):\n${QUICK_SKIPS.map((s) => `  - ${s}`).join("\n")}`);
  }
  if (!args.has("--skip-http") && !directOnly) await http(results);
  if (directOnly || (!args.has("--skip-http") && !args.has("--skip-direct") && !cpuOnly)) await direct(results);
  if (!quick && !directOnly && !cpuOnly && !args.has("--skip-hostile")) {
    log(`\n[hostile input] a flood of future-stamped events and 200,000 type names (bench/hostile.mjs)`);
    results.hostile = await hostile(root, { log });
  }
  if (!args.has("--skip-core") && !directOnly && !cpuOnly) {
    log(`\n[6, 7] aggregation core (bench/core.ts, own process)`);
    results.core = await runCore(join(dir, quick ? "core-quick.json" : "core.json"));
  }
  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  results.machine.loadAverageAtEnd = machine().loadAverage;
  const file = join(dir, cpuOnly ? "ingest-cpu.json" : directOnly ? "direct.json" : quick ? "quick.json" : "latest.json");
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  log(`\nwrote ${file}`);
  // Only a full run rewrites BENCHMARKS.md: its tables must always be a full run's.
  if (!quick && !directOnly && !cpuOnly) writeReport(root, results, log);
  log(`done in ${elapsed()} (load average at the end ${results.machine.loadAverageAtEnd.join(" ")})`);
  if (quick && !directOnly && results.durationSeconds > QUICK_SECONDS) {
    log(`the quick run took ${results.durationSeconds} s, over its ${QUICK_SECONDS} s: see what grew (each phase prints the time it started at)`);
  }
}

/** What the quick run promises to stay within, on the project's 2-core machine. */
const QUICK_SECONDS = 120;
// A hard stop, so the run ends by itself whatever hangs: well past what each mode should take
// (quick ~1.5 minutes; full ~18, 6 of them the hostile run, and ~5 more with --before, which
// measures the core of another commit too), so a slow machine still finishes.
const STOP_MINUTES = quick ? 4 : process.argv.includes("--before") ? 32 : 24;
const deadline = setTimeout(() => {
  console.error(`bench: still running after ${STOP_MINUTES} minutes; giving up`);
  process.exit(2);
}, STOP_MINUTES * 60_000);
deadline.unref();

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
