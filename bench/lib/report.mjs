/**
 * Regenerates BENCHMARKS.md between its markers from a full run's results, and writes the chart.
 * Text outside the markers is hand-written and kept. Every figure gets a sentence on what it means
 * for a user, templated from the measured numbers, and every target says met or missed.
 */
import { EDGE_TARGET } from "./reads.mjs";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chart } from "./chart.mjs";
import { writeMemoryReport } from "./memory-report.mjs";
import { ingestCpuSection } from "./ingest-cpu-report.mjs";
import { int, num, pct, ratioText, spread, table, verdict } from "./format.mjs";

const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";


function machineSection(r) {
  const m = r.machine;
  return `## The machine
${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; wrangler ${m.wrangler ?? "?"}; run ${m.date},
load average at start ${m.loadAverage.join(" / ")} (the machine is shared, so other work may have run meanwhile).
This ${r.mode} run took ${Math.round(r.durationSeconds / 6) / 10} minutes.`;
}

function floorSection(r) {
  const rows = Object.entries(r.floor).map(([c, m]) => [c, spread(m.rps), spread(m.p50), spread(m.p99)]);
  const best = Math.max(...Object.values(r.floor).map((m) => m.rps.median));
  return `## 1. The floor: \`GET /healthz\`
${table(["connections", "requests/s", "p50 ms", "p99 ms"], rows)}

A constant answer through \`wrangler dev\` tops out near ${int(best)} requests/s here: that is the local proxy's
ceiling, not Tally's, and it is why every figure below is also given as a ratio to this floor at the same
concurrency, measured in the same run.`;
}

/** "a× to b×": the range of direct edge-hit ratios to the direct floor. */
function directRange(d) {
  const c = Object.keys(d.floor)[0];
  const xs = Object.values(d.edge).map((b) => directRatio(b[c], d.floor[c]).median);
  return `${num(Math.min(...xs), 2)}× to ${num(Math.max(...xs), 2)}×`;
}

function edgeSection(r) {
  const rows = [];
  let met = 0;
  let all = 0;
  for (const [name, byC] of Object.entries(r.edge)) {
    for (const [c, m] of Object.entries(byC)) {
      const ok = m.ratioToFloor.median >= 0.8;
      met += ok;
      all += 1;
      rows.push([name, c, spread(m.rps), spread(m.p50), spread(m.p99), ratioText(m.ratioToFloor), ok ? "met" : "**missed**"]);
    }
  }
  const ratios = Object.values(r.edge).flatMap((b) => Object.values(b).map((m) => m.ratioToFloor.median));
  const worst = Math.min(...ratios);
  const best = Math.max(...ratios);
  return `## 2. Cached reads, edge hit (\`X-Cache: HIT-EDGE\`)
Trending \`window=7d&limit=10\`, stats \`window=24h\` and the dashboard of a namespace holding ${int(r.readNamespace.events)}
events over ${int(r.readNamespace.items)} items${r.edge.segment ? "; *segment* (v1.7) is the same trending read in one category of 20 (`segment=category:c1`) of a namespace holding the same stream with a category and a country on every event" : ""}. Target: at least 0.8 of the floor's requests/s.

${table(["answer", "connections", "requests/s", "p50 ms", "p99 ms", "ratio to floor", "target ≥ 0.8"], rows)}

A precomputed read answered at the edge (the isolate's memory, else the data centre's cache) serves ${num(worst, 2)}× to ${num(best, 2)}× the requests/s of a
health check that does nothing: the target is ${met === all ? "**met**" : `**missed** in ${all - met} of ${all} cases`}.${
    met === all
      ? ""
      : ` What limits it here: an edge hit still runs the Worker (routing, the namespace descriptor, finding the answer, a response with its headers) where \`/healthz\` returns a constant, and on 2 shared cores, with the dev proxy, workerd and the load generator competing for CPU, that extra work shows directly in requests/s; runs also vary by ±20% (see the spreads).${
          r.direct?.edge ? ` Without the dev proxy (below) the same edge hits reach ${directRange(r.direct)} of that runtime's floor.` : ""
        }`
  }`;
}

/** An edge hit's ratio to the direct floor: paired per round when the run interleaved them. */
function directRatio(m, floor) {
  return m.ratioToFloor?.paired ? m.ratioToFloor : { median: m.rps.median / floor.rps.median, min: m.rps.min / floor.rps.max, max: m.rps.max / floor.rps.min };
}

function directSection(r) {
  const d = r.direct;
  if (!d || d.error || !d.floor) return d?.error ? `## 1–4 without the dev proxy\nSkipped in this run: ${d.error}` : "";
  const c = Object.keys(d.floor)[0];
  const floor = d.floor[c];
  const extra = (m) => [m.ratioToSizedFloor ? `${ratioText(m.ratioToSizedFloor)} (${int(m.bytes)} B)` : "", m.cpuRatioToFloor ? ratioText(m.cpuRatioToFloor) : ""];
  const row = (what, m, target = "") => [what, spread(m.rps), spread(m.p50), spread(m.p99), ratioText(directRatio(m, floor)), target, ...extra(m)];
  const rows = [row("floor: `GET /healthz`", floor)];
  for (const [name, byC] of Object.entries(d.edge)) {
    rows.push(row(`edge hit: ${name}`, byC[c], directRatio(byC[c], floor).median >= EDGE_TARGET ? "met" : "**missed**"));
  }
  for (const [endpoint, byC] of Object.entries(d.layers ?? {})) {
    const l = byC[c];
    if (l) rows.push(row(`KV alone: ${endpoint}`, l.kv), row(`object snapshot alone: ${endpoint}`, l.do), row(`compute-on-read: ${endpoint}`, l.compute));
  }
  const p = d.probe;
  const edgeBest = Math.max(...Object.values(d.edge).map((b) => directRatio(b[c], floor).median));
  const probeRatio = p ? p.cache.rps.median / p.floor.rps.median : NaN;
  const wrangler = r.floor[c]?.rps.median;
  return `## 1–4 without the dev proxy (workerd through Miniflare)
The same Worker, bundled by \`wrangler deploy --dry-run\` and served straight from workerd through the Miniflare API
(miniflare ${d.miniflare}, the version wrangler depends on), with the same data, at ${c} connections. The Cache API and KV
are still miniflare's local emulations.

${
    Object.values(d.edge).some((b) => b[c].ratioToFloor?.paired)
      ? `Edge hits and the floor are measured in interleaved rounds (floor, trending, stats, dashboard, floor, ...), and
an edge hit's ratio is the median of its rounds' ratios to the floor round just before, so that the shared machine's
changing load cancels out. `
      : ""
  }Target for edge hits: at least ${EDGE_TARGET} of this floor.

${table(["read", "requests/s", "p50 ms", "p99 ms", "ratio to this floor", `target ≥ ${EDGE_TARGET}`, "ratio to a bare Worker answering as many bytes", "workerd CPU per request: floor ÷ this"], rows)}

The last two columns (edge hits of runs that measured them) tell Tally's own work apart from the rest: a bare Worker
that answers a constant body of the answer's size moves the same bytes through the runtime and the load generator (on
these shared cores, larger bodies cost the load generator too), and the runtime's CPU time per request is what the
Worker itself spends, whatever else the machine runs.
${p ? `
A bare Worker on the same runtime, for comparison: a constant answer ${spread(p.floor.rps)} requests/s; one
\`caches.default.match\` of an 800-byte entry and nothing else ${spread(p.cache.rps)} requests/s, ${num(probeRatio, 2)}× its floor.
` : ""}
Without the proxy the floor rises from ${int(wrangler)} to ${int(floor.rps.median)} requests/s, so under \`wrangler dev\` the proxy,
not Tally, caps the floor and the cached reads above. Here an edge hit reaches ${num(edgeBest, 2)}× the floor at best${
    !p
      ? "."
      : edgeBest > probeRatio + 0.1
        ? `, more than a Worker doing nothing but one local cache lookup (${num(probeRatio, 2)}× its own floor): hot answers are served
from the isolate's memory before \`caches.default\` is asked, and what remains is the Worker's own routing and response work.`
        : `, while a Worker that does nothing but one local cache lookup reaches ${num(probeRatio, 2)}× its own: most of an edge hit's
local cost is the emulated Cache API, which production replaces with the data centre's native cache.`
  }`;
}

function layerSection(r) {
  const rows = [];
  const buys = [];
  for (const [endpoint, byC] of Object.entries(r.layers)) {
    for (const [c, row] of Object.entries(byC)) {
      for (const layer of ["kv", "do", "compute"]) {
        const m = row[layer];
        rows.push([endpoint, c, { kv: "KV alone", do: "object snapshot alone", compute: "compute-on-read" }[layer], spread(m.rps), spread(m.p50), spread(m.p99), ratioText(m.ratioToFloor)]);
      }
      const edge = r.edge[endpoint]?.[c];
      const edgeOverCompute = edge ? { median: edge.rps.median / row.compute.rps.median, min: edge.rps.min / row.compute.rps.max, max: edge.rps.max / row.compute.rps.min } : null;
      buys.push([endpoint, c, ratioText(edgeOverCompute), ratioText(row.kvOverCompute), ratioText(row.doOverCompute), `${num(row.compute.p50.median, 0)} vs ${num(row.do.p50.median, 0)}`]);
    }
  }
  const t = r.layers.trending?.[16] ?? Object.values(r.layers)[0][Object.keys(Object.values(r.layers)[0])[0]];
  return `## 3. Each layer alone (local-only \`X-Tally-Layer\` switch) and 4. compute-on-read
Each read goes through one layer only and is never counted or cached: \`kv\` reads the KV mirror, \`do\` asks the
namespace's object for its precomputed snapshot over RPC, \`compute\` makes the object compute the same answer while
the client waits, the way the replaced systems worked.

${table(["answer", "connections", "layer", "requests/s", "p50 ms", "p99 ms", "ratio to floor"], rows)}

What precomputation buys, as the throughput of the precomputed answer over the computed one (same answer, same
concurrency):

${table(["answer", "connections", "edge hit / compute", "KV / compute", "snapshot / compute", "p50 ms: compute vs snapshot"], buys)}

Without the edge, a KV read serves ${num(t.kv.ratioToFloor.median, 2)}× the floor's requests/s and the object's snapshot
${num(t.do.ratioToFloor.median, 2)}× (trending, 16 connections). Serving the precomputed snapshot sustains
${num(t.doOverCompute.median, 2)}× the reads/s of computing the same answer on read, and computing moves p50 from
${num(t.do.p50.median, 0)} to ${num(t.compute.p50.median, 0)} ms; since all of a namespace's readers queue on its one object, that
cost grows with the data and the readers. The computation here merges bucketed summaries, already far cheaper than the
raw-event scans of the replaced systems, so the real gap is wider.`;
}

function ingestSection(r) {
  const rows = [];
  for (const [batch, byC] of Object.entries(r.ingest)) {
    for (const [c, m] of Object.entries(byC)) {
      rows.push([batch, c, spread(m.rps), spread(m.eventsPerSec), spread(m.p50), spread(m.p99), batch === "1000" ? verdict(m.eventsPerSec.median >= 50_000) : ""]);
    }
  }
  const best = Math.max(...Object.values(r.ingest[1000] ?? {}).map((m) => m.eventsPerSec.median));
  const maxC = Math.max(...Object.keys(r.ingest[1000] ?? { 1: 0 }).map(Number));
  return `## 5. Ingest through HTTP
Fixed bodies re-sent without a \`batchId\` (each accepted and counted again); events/s = accepted requests/s × batch size.
p99 is the acknowledgement latency: the \`202\` is sent once the batch is durable in the object's SQLite.

${table(["batch", "connections", "requests/s", "events/s", "p50 ms", "p99 ms (ack)", "target ≥ 50k events/s"], rows)}

Batching is what makes ingest cheap: at ${maxC} connections requests/s only go from ${int(r.ingest[1]?.[maxC]?.rps.median)} to
${int(r.ingest[1000]?.[maxC]?.rps.median)} when a batch grows from 1 to 1000 events, so batches of 1000 carry ${int(best)} events/s, ${best >= 50_000 ? "meeting" : "**missing**"} the 50k target${best >= 50_000 ? "" : " (limited by the dev proxy and the object's per-request cost on 2 shared cores)"}, while
one event per request is capped by the request rate. Clients should send batches.`;
}

/** Cloudflare's published per-object limits, cited by the sharded-ingest section. */
const DO_LIMITS_URL = "https://developers.cloudflare.com/durable-objects/platform/limits/";
const DO_RULES_URL = "https://developers.cloudflare.com/durable-objects/best-practices/rules-of-durable-objects/";
/** "About 1,000 requests/s" per object; "~200–500 req/sec" for "complex operations (transformation, storage writes)". */
const DO_SOFT_LIMIT = 1000;
const DO_WRITE_LIMITS = [200, 500];

function shardsSection(r) {
  const s = r.shards;
  const merge = r.core?.merge ?? [];
  if (!s && merge.length === 0) return "";
  const parts = [`## Sharded ingest`];
  const byKey = (k, b) => s?.cases.find((m) => m.k === k && m.batch === b);
  if (s) {
    const f = s.floor;
    const cpu = (m) => (m.cpuMicrosPerRequest ? int(m.cpuMicrosPerRequest.median) : "–");
    const rows = [["`GET /healthz`", "–", "–", spread(f.rps), "–", spread(f.p50), spread(f.p99), "1", "–", cpu(f), "–"]];
    for (const m of s.cases) {
      rows.push([
        `ingest, ${m.k} shard${m.k > 1 ? "s" : ""}`, m.k, m.batch, spread(m.rps), spread(m.eventsPerSec), spread(m.p50), spread(m.p99),
        ratioText(m.ratioToFloor), m.k > 1 ? `${spread(m.perObject)} (${m.k} shards)` : `${spread(m.perObject)} (the namespace's object)`,
        cpu(m), m.cpuOverFloorMicros ? int(m.cpuOverFloorMicros.median) : "–",
      ]);
    }
    const k4 = s.cases.find((m) => m.k > 1);
    const scale = (b) => {
      const [one, many] = [byKey(1, b), s.cases.find((m) => m.k > 1 && m.batch === b)];
      return one && many ? `${num(many.rps.median / one.rps.median, 2)}× at ${b} event${b > 1 ? "s" : ""}` : null;
    };
    const failed = s.cases.reduce((n, m) => n + m.failed, 0);
    parts.push(`Batches of 1 and 10 events through \`wrangler dev\`, each case in its own namespace (\`ingestShards\` set by \`PUT .../config\`
before its first event; refresh every 10 s), ${s.connections} connections, ${s.rounds} interleaved rounds of ${s.seconds} s (\`/healthz\` and the four cases,
the order turned each round) after a warm-up. As in 5, one fixed body per batch size is re-sent **without a \`batchId\`**, so every copy is
accepted and, with several shards, the Worker sends it to a random shard. The ratio to \`/healthz\` is the median of each round's ratio to
the \`/healthz\` run of the same round. *Per ingest object*: requests/s divided by the objects that take the ingest requests (the namespace's
object with 1 shard, the shards with more). *Runtime CPU*: the CPU time of the workerd process that runs the Worker and every object (the dev
proxy runs in another), per answered request; *above the floor*: minus \`/healthz\`'s in the same round, i.e. what an ingest adds to a
constant answer (the Worker's ingest route, the call to the object, its SQLite write and commit).${failed ? ` ${int(failed)} requests failed.` : ""}

${table(["requests", "ingestShards", "batch", "requests/s", "events/s", "p50 ms", "p99 ms (ack)", "ratio to /healthz", "requests/s per ingest object", "runtime CPU µs per request", "above /healthz, µs"], rows)}
${
      k4
        ? `
With ${k4.k} shards the namespace's object takes no ingest request. During the ${int(k4.namespaceObject.seconds)} s of rounds it refreshed
${s.cases.filter((m) => m.k > 1).map((m) => `${m.namespaceObject.refreshes} times (${m.batch}-event case)`).join(" and ")}, and each refresh pulls every shard once:
${num(k4.namespaceObject.pullsPerSec, 2)} pulls/s from the namespace's object, i.e. each shard receives one pull per refresh period on top of its
ingest requests. \`/cache\` listed ${k4.k} shards for each sharded namespace${s.cases.some((m) => m.perShard.some((x) => x.lastMergeAt === null)) ? ", **not all of them merged yet**" : ", every one merged"}.`
        : ""
    }

Requests/s with ${k4 ? k4.k : "k"} shards over 1 shard: ${[scale(1), scale(10)].filter(Boolean).join(", ")}. **Locally this cannot scale:** workerd runs the
Worker and every Durable Object of \`wrangler dev\` on one thread, so ${k4 ? k4.k : "k"} shards share the one thread the namespace's object had
alone, and requests/s stay within the noise of one object's. What sharding changes is how many objects the requests are spread over, which is
what the platform limits per object.`);
  }
  if (merge.length > 0) {
    const rows = merge.map((m) => [
      int(m.events), int(m.items), `${int(m.entries)} (${int(m.distinctItems)} items, ${m.minutes} min)`, int(m.requests),
      spread(m.ingestNsPerEvent), spread(m.mergeNsPerEvent), ratioText(m.mergeOverIngest), spread(m.parseNsPerEvent), spread(m.buildNsPerEvent), spread(m.copyNsPerEvent),
      `${m.sameStats ? "stats equal" : "**stats differ**"}${m.sameTop === null ? "" : m.sameTop ? ", top 100 equal" : ", **top 100 differs**"}`,
    ]);
    const m0 = merge[0];
    parts.push(`### Merge cost (\`npm run bench:core\`)
One shard's delta over one refresh period (${m0.periodMs / 1000} s): Zipf(${m0.skew}) items out of a universe of *distinct items*, one type, in
batches of ${m0.batchSizes[0]} to ${m0.batchSizes[1]} events (uniform). Into an aggregator that already holds the preceding period (capacity
${int(m0.capacity)}), the namespace's object either ingests the batches one by one (no shards: \`Aggregator.ingest\` per request) or merges the
delta (\`Aggregator.mergeDelta\`). On the shard, a pull parses its log rows (\`JSON.parse\`) and builds the delta (\`DeltaBuilder\`). *Copy* is
\`structuredClone\` of the delta, V8's serialiser both ways, standing in for the RPC that carries it (both sides together). CPU time of the Node
process per event, ${m0.runs} runs of at least ${int(m0.events * m0.repetitions)} events each (median, min–max), each on fresh aggregators.

${table(["events in the delta", "distinct items", "groups: (minute, type, item)", "requests", "ingest ns/event (no shards)", "merge ns/event", "merge ÷ ingest", "shard: parse ns/event", "shard: build ns/event", "copy ns/event", "answers (1h)"], rows)}

Merging costs the namespace's object one update per (minute, type, item) group instead of one per event, plus each minute's distinct actors:
${merge.map((m) => `${int(m.events)} events over ${int(m.items)} items ${num(m.mergeOverIngest.median * 100, 0)}%`).join(", ")} of ingesting
them one request at a time. Per group, a merge costs ${merge.map((m) => int((m.mergeNsPerEvent.median * m.events) / m.entries)).join(", ")} ns (same order), against
${merge.map((m) => int(m.ingestNsPerEvent.median)).join(", ")} ns per event ingested: the saving is large where few items take most events (many events per
group), and smaller over a long tail, where a delta holds one group for every few events.`);
  }
  // The production model: measured per-object rates and merge cost, against the published limits.
  const one = s ? byKey(1, 1) : undefined;
  const worst = merge.length ? merge.reduce((a, m) => (m.mergeNsPerEvent.median + m.copyNsPerEvent.median > a.mergeNsPerEvent.median + a.copyNsPerEvent.median ? m : a)) : undefined;
  const mergeNs = worst ? worst.mergeNsPerEvent.median + worst.copyNsPerEvent.median : NaN;
  const shardNs = merge.length ? Math.max(...merge.map((m) => m.parseNsPerEvent.median + m.buildNsPerEvent.median)) : NaN;
  const ks = [1, 4, 16];
  const modelRows = [];
  for (const b of [1, 10]) {
    for (const k of ks) {
      const [lo, hi] = DO_WRITE_LIMITS.map((l) => k * l);
      const here = byKey(1, b)?.perObject.median;
      const share = (rps) => (k > 1 && Number.isFinite(mergeNs) ? pct((rps * b * mergeNs) / 1e9, 1) : "– (no merge)");
      modelRows.push([k, b, here ? int(k * here) : "–", `${int(lo)}–${int(hi)}`, `${int(lo * b)}–${int(hi * b)}`, k > 1 ? `${share(lo)}–${share(hi)}` : "– (takes every request)"]);
    }
  }
  parts.push(`### The model for production
Cloudflare publishes a soft limit of ${int(DO_SOFT_LIMIT)} requests/s for one object ([Durable Objects limits](${DO_LIMITS_URL})) and, in its sharding
guidance, about ${DO_WRITE_LIMITS[0]}–${DO_WRITE_LIMITS[1]} requests/s when each request does "complex operations (transformation, storage writes)"
([Rules of Durable Objects](${DO_RULES_URL}), "Message throughput limits"). Every Tally ingest request writes its batch to SQLite before its
\`202\`, on the namespace's object with 1 shard and on a shard with more, so the second range applies. A namespace's ingest ceiling is then
about *k × (requests/s one object sustains)*, and the namespace's object, which no longer takes ingest requests when k > 1, spends on merging
*events/s × merge CPU per event* of its time, the rest being left for reads and refreshes.

Inputs measured here: one object took ${one ? `${int(one.perObject.median)} requests/s of 1 event` : "–"} (1 shard${one ? `, ${int(byKey(1, 10)?.perObject.median)} of 10 events` : ""}) while sharing its thread
with the Worker and \`wrangler dev\`'s overhead, a floor rather than what an object sustains alone; the namespace's object's CPU per merged event, at
most ${int(mergeNs)} ns (merge ${int(worst?.mergeNsPerEvent.median)} + copy ${int(worst?.copyNsPerEvent.median)} ns, ${worst ? `${int(worst.events)} events over ${int(worst.items)} items` : "–"}, the costliest case above);
a shard's CPU per event it hands over, at most ${int(shardNs)} ns (parse + build).

${table(["ingestShards (k)", "events per request", "k × one object here, requests/s", "k × published 200–500, requests/s", "events/s at that", "namespace's object's time spent merging"], modelRows)}

So, with small batches, 1 shard holds a namespace to the one object's ${DO_WRITE_LIMITS[0]}–${DO_WRITE_LIMITS[1]} requests/s; 4 shards give about
${int(4 * DO_WRITE_LIMITS[0])}–${int(4 * DO_WRITE_LIMITS[1])} and 16 about ${int(16 * DO_WRITE_LIMITS[0])}–${int(16 * DO_WRITE_LIMITS[1])}, while merging takes the namespace's object
${Number.isFinite(mergeNs) ? `at most ${pct((16 * DO_WRITE_LIMITS[1] * 10 * mergeNs) / 1e9, 1)} of its time (16 shards at 500 requests/s of 10 events)` : "a share not measured in this run"}. The
shard's own cost per event it hands over (${int(shardNs)} ns) is small beside its per-request cost (${one?.cpuOverFloorMicros ? `${int(one.cpuOverFloorMicros.median)} µs of runtime CPU above \`/healthz\` per 1-event ingest here` : "the request itself"}).
These are arithmetic on the figures above, not measurements of Cloudflare's runtime: only the local figures were measured, on the machine above.`);
  return parts.join("\n\n");
}

function storageSection(r) {
  const st = r.storage;
  if (!st) return "";
  const w = st.widest;
  const rows = [
    [st.read.namespace, int(st.read.largestRowBytes), verdict(st.read.largestRowBytes <= st.maxRowBytes)],
    [`${w.namespace}: ${int(w.items)} items of ${w.itemBytes} B, ${w.types} types, capacity ${int(w.capacity)}`, int(w.largestRowBytes), verdict(w.largestRowBytes <= st.maxRowBytes && w.checkpointErrors === 0)],
  ];
  const d = st.dimensions;
  if (d) {
    rows.push([
      `${d.namespace}: capacity ${int(d.capacity)}, ${d.dimensions} multi-valued dimensions of capacity ${int(d.dimensionCapacity)}, ${int(d.eventsWithValues)} events of ${d.valuesPerEvent} values of ${d.valueBytes} B`,
      int(d.largestRowBytes),
      verdict(d.largestRowBytes <= st.maxRowBytes && d.checkpointErrors === 0),
    ]);
  }
  return `## Storage: the largest row written
Durable Objects' SQLite refuses a row above 2 MB; local workerd accepts ~8 MB, so the service counts the bytes of every
statement itself (\`storage.largestRowBytes\` in \`/cache\`). Buckets are written in parts, pending events one a row.

${table(["namespace", "largest row (bytes)", `≤ ${int(st.maxRowBytes)} B`], rows)}

The widest accepted config checkpointed with outcome \`${w.checkpoint}\` (${w.checkpointErrors} checkpoint errors); its refresh, checkpoint
included, took ${int(w.refreshMs)} ms.${
    d
      ? ` The widest dimensions checkpointed with outcome \`${d.checkpoint}\` (${d.checkpointErrors} checkpoint errors), in a refresh of
${int(d.refreshMs)} ms, holding ${num(d.memoryBytes / 2 ** 20)} MB by its own accounting of its ${num(d.budgetBytes / 2 ** 20, 0)} MB budget.`
      : ""
  }`;
}

/** The published reference (bench/lib/core-reference.ts) beside the core, on the same streams. */
function referenceTable(core) {
  if (!core.reference?.length) return "";
  const rows = core.reference.flatMap((r) => {
    const live = core.scale.find((s) => s.items === r.items && s.mode === "live");
    return [
      [int(r.items), "`bloom-filters` Top-K (k = 100, error rate 0.001, accuracy 0.99)", int(r.topkEvents), spread(r.perCpuSecond["bloom-filters TopK (k=100)"])],
      [int(r.items), "Tally's Space-Saving summary alone (capacity 5000, one ranking over all time)", int(r.events), spread(r.perCpuSecond["Space-Saving alone (capacity 5000)"])],
      [int(r.items), "the core (every window's buckets, per-type summaries, HyperLogLogs)", int(r.events), live ? spread(live.eventsPerCpuSec) : "–"],
    ];
  });
  return `A published reference on the same streams (the same generator and seed; \`bench/lib/core-reference.ts\`): the Top-K of
\`bloom-filters\` from npm (a Count-Min Sketch with a heap of the k best) and Tally's own Space-Saving summary alone, one
\`add\` per event, only the adds timed, medians of 3 runs. The Top-K, at about 25 µs per event, gets the stream's first
${int(core.reference[0].topkEvents)} events.

${table(["distinct items", "structure", "events", "events per CPU second"], rows)}

The sketch alone is what one ranking costs; the gap to the core is what keeping every window costs per event (the
minute's bucket, its HyperLogLogs of items and actors, the per-type totals, the namespace's dictionary).

`;
}

/** The core's targets (per CPU second and per wall second alike) and the refresh's. */
const CORE_GOAL = { 1_000_000: 2_000_000, 1_000: 5_000_000 };

function coreSection(core, httpBest) {
  const before = new Map((core.scaleBefore ?? []).map((s) => [`${s.items}/${s.mode}`, s]));
  const was = (s) => before.get(`${s.items}/${s.mode}`);
  const mbPerItem = (s) => (s ? (s.heapMB + s.arrayBuffersMB) : NaN);
  const rows = core.scale.map((s) => [
    int(s.items), s.mode, int(s.events),
    spread(s.eventsPerCpuSec), was(s) ? spread(was(s).eventsPerCpuSec) : "–",
    spread(s.eventsPerSec), was(s) ? spread(was(s).eventsPerSec) : "–",
    num(mbPerItem(s)), was(s) ? num(mbPerItem(was(s))) : "–", num(s.sealedMB),
    spread(s.top100AllWindowsMs, (x) => num(x)), spread(s.fullRefreshMs, (x) => num(x, 0)), was(s) ? spread(was(s).fullRefreshMs, (x) => num(x, 0)) : "–",
  ]);
  const live = core.scale.find((s) => s.items === 1_000_000 && s.mode === "live");
  const small = core.scale.find((s) => s.items === 1_000 && s.mode === "live");
  const back = core.scale.find((s) => s.items === 1_000_000 && s.mode === "backfill");
  const goalRow = (s, goal) => {
    if (!s) return `| ≥ ${int(goal)} events/s | not run | |`;
    const cpu = s.eventsPerCpuSec?.median ?? NaN;
    const wall = s.eventsPerSec.median;
    const b = was(s);
    return `| ≥ ${int(goal)} events/s at ${int(s.items)} distinct items | ${int(cpu)} per CPU second, ${int(wall)} wall${b ? ` (before: ${int(b.eventsPerCpuSec?.median)} and ${int(b.eventsPerSec.median)}, ${num(cpu / b.eventsPerCpuSec?.median, 2)}× per CPU second)` : ""} | ${verdict(cpu >= goal && wall >= goal)}${cpu < goal ? `: ${num(goal / cpu, 1)}× short` : ""} |`;
  };
  const liveMem = mbPerItem(live);
  const beforeMem = live && was(live) ? mbPerItem(was(live)) : NaN;
  return `## 6. The aggregation core alone (\`npm run bench:core\`)
Pure TypeScript in Node (one thread = one core), capacity 5000, one type (\`view\`), Zipf(1.0) items with every item of the universe
occurring, timestamps over the last 7 days, batches of 1000. *live*: events in time order, each batch ingested at its
own time and followed by \`advance()\`, as a namespace receives them (timed: \`ingest\` + \`advance\`). *backfill*: the whole
week at once in random order, nothing sealed until the end (the peak). Memory is measured after a forced GC: JS heap
plus ArrayBuffers (HyperLogLog registers, counters), which count against a Worker isolate's 128 MB too.${core.beforeCommit ? ` *Before* is the core of
commit \`${core.beforeCommit.slice(0, 12)}\` (every event counted into each of the 4 tiers, answers merged by item name), built from git and measured by its own
\`bench/core.ts\` in the same run, right after this build.` : ""}

${table(["distinct items", "mode", "events", "events per CPU second", "before", "events/s (wall)", "before", "MB", "before: MB", "after sealing MB", "top 100 of all 5 windows, ms", `full refresh (${core.scale[0]?.snapshots ?? "all"} snapshots: top, rising and hot of every window and type, stats, dashboard), ms`, "before: refresh ms"], rows)}

| target (core) | measured | |
| --- | --- | --- |
${goalRow(live, CORE_GOAL[1_000_000])}
${goalRow(small, CORE_GOAL[1_000])}
| full refresh < 250 ms, 1M items | ${num(live?.fullRefreshMs.median ?? NaN, 0)} ms${live && was(live) ? ` (before: ${num(was(live).fullRefreshMs.median, 0)} ms)` : ""} | ${verdict(live && live.fullRefreshMs.median < 250)} |
| memory at 1M items at or below before's | ${num(liveMem)} MB${Number.isNaN(beforeMem) ? "" : ` (before: ${num(beforeMem)} MB)`} | ${Number.isNaN(beforeMem) ? "–" : verdict(liveMem <= beforeMem * 1.02)} |
| heap < 64 MB, 1M items over 7 days | live: ${num(liveMem)} MB; backfill peak: ${num(back ? mbPerItem(back) : NaN)} MB, ${num(back?.sealedMB)} MB once sealed | ${verdict(liveMem < 64)} live${back ? `, ${verdict(mbPerItem(back) < 64)} at the backfill peak` : ""} |
| every window's top 100 < 250 ms, 1M items | ${num(live?.top100AllWindowsMs.median)} ms | ${verdict(live && live.top100AllWindowsMs.median < 250)} |

${referenceTable(core)}Every event is counted once, into its minute: its Space-Saving summary (a second one per type once a bucket holds
several types; these streams have one) and its HyperLogLogs; hours, quarters and days are derived when their period
ends. What limits the rate at many distinct items is that per-event work: with 100k and more items the summaries are full,
nearly every event is new to them and evicts a counter (a heap sift, a slot-table delete and insert), and the namespace's
item dictionary (a table of up to a million strings found by their hash53, past the CPU caches) takes an insert and a
delete. The heavy-hitter sketches in systems languages that reach millions of items per second hash fixed-width keys and
keep no names; a ranking that must answer with each item's name pays for interning it.
A user feels this as the ceiling of one namespace's ingest: ${int(live?.eventsPerCpuSec?.median)} events per CPU second at 1M distinct
items${httpBest ? `, against ${int(httpBest)} events/s measured through HTTP in 5` : ""}.`;
}

function accuracySection(core) {
  const rows = [];
  for (const a of core.accuracy) {
    for (const w of a.windows) {
      rows.push([a.skew, w.window, int(w.eventsInWindow), int(w.distinctInWindow), num(w.precisionAt10, 2), num(w.precisionAt100, 2), w.maxRelativeError.toExponential(1), w.boundsHeld ? "yes" : "**no**", w.exact ? "yes" : "no"]);
    }
  }
  const a0 = core.accuracy[0];
  const allHeld = core.accuracy.every((a) => a.windows.every((w) => w.boundsHeld));
  const minP100 = Math.min(...core.accuracy.flatMap((a) => a.windows.map((w) => w.precisionAt100)));
  const maxErr = Math.max(...core.accuracy.flatMap((a) => a.windows.map((w) => w.maxRelativeError)));
  return `## 7. Accuracy against an exact count
${int(a0.events)} events over a universe of ${int(a0.items)} items per skew (distinct items seen: ${core.accuracy.map((a) => `${int(a.distinctSeen)} at ${a.skew}`).join(", ")}),
replayed live as in 6, capacity 5000. Each answer is compared with an exact count over the very \`[from, to)\` it reports.
Precision is tie-aware: a listed item is right when its true score is at least the true k-th score.

${table(["Zipf skew", "window", "events in window", "distinct in window", "P@10", "P@100", "largest relative error", "true score in [score − error, score]", "exact"], rows)}

The lowest precision of a top 100 was ${num(minP100, 2)} and the largest relative error ${pct(maxErr, 2)}; the stated bound held for
${allHeld ? "every" : "**not every**"} listed item. A user can trust the ranking, and \`error\` tells exactly how far a score may be off.`;
}

function mixSection(r) {
  const m = r.mix;
  const labels = ["HIT-EDGE", "HIT-KV", "HIT-DO", "MISS"];
  const rows = labels.map((l) => [l, spread(m.share[l], (x) => pct(x, 1)), pct(m.cold.share[l], 1)]);
  const s = m.service;
  const svc = ["edge", "kv", "do"].map((l) => [l, int(s.layers[l].hits), int(s.layers[l].misses)]);
  return `## 8. Hit ratio under a realistic read mix
${r.plan.mixNamespaces} namespaces with a 2 s refresh loop; ${m.connections} connections; each read picks its namespace, window
(24h, 1h, 7d, and 5m which is not precomputed), limit (10–100) by Zipf, 70% trending (15% of them rising), 20% stats, 10%
dashboard. Runs of ${r.plan.mixSeconds} s after a warm-up that starts from a cold edge.

${table(["served by", "share of reads, median of runs (min–max)", "warm-up (cold edge)"], rows)}

\`MISS\` per run: ${spread(m.misses)}; ${int(m.rps.median)} reads/s. The service's own \`/cache\` report, summed over the namespaces
(warm-up included): ${int(s.reads)} reads, hit ratio ${pct(s.hitRatio, 2)}, ${int(s.syncComputes)} computed while a client waited, ${int(s.refreshes)} refreshes.

${table(["layer", "hits", "misses"], svc)}

Under a skewed mix ${pct(1 - m.share.MISS.median, 1)} of reads are cache hits even while answers are recomputed every 2 s.
${int(s.syncComputes)} computes for ${r.plan.mixNamespaces} namespaces is ${num(s.syncComputes / r.plan.mixNamespaces, 1)} per namespace: a miss happens the
first time an answer outside the plan (the 5m window's top, rising and stats) is asked for, and the refresh loop keeps it warm after that.`;
}

/** What the report says of 5xx answers: how many batches were recorded nonetheless, and that the
 * cause is open (the run keeps the first answers and the service's error lines). */
function unexplained(hostile) {
  const failed = hostile.filter((h) => h.serverErrors > 0);
  if (failed.length === 0) return "";
  return failed
    .map((h) => {
      const final = h.due ?? h.afterRestart;
      const recorded = final?.counted === null || final?.counted === undefined ? "?" : int((final.counted - h.accepted) / 1000);
      return `\n\n**${h.serverErrors} answers 5xx** in "${h.scenario}": ${recorded} of those batches were recorded nonetheless (counted minus
acknowledged), and a retry under the same \`batchId\` answers \`duplicate\`, so nothing is lost or counted twice; their
cause is not found yet (\`serverErrorBodies\` in the results keeps the first answers and the service's error lines).`;
    })
    .join("");
}

/** The hostile-input run (bench/hostile.mjs): what an attacker's flood leaves behind. */
function hostileSection(r) {
  if (!r.hostile?.length) return "";
  const mb = (x) => (x === null || x === undefined ? "–" : num(x));
  const rows = [];
  for (const h of r.hostile) {
    const phases = Object.entries({ "after the flood": h.afterFlood ?? h.afterIngest, "after a restart": h.afterRestart, "once due": h.due }).filter(([, p]) => p);
    for (const [phase, p] of phases) {
      rows.push([h.scenario, phase, p.refresh, `${mb(p.memoryMB)} / ${mb(p.budgetMB)}`, mb(p.workerdRssMB), int(p.largestAnswerBytes), p.counted === null ? "–" : int(p.counted)]);
    }
  }
  const statuses = r.hostile.map((h) => `${h.scenario}: ${Object.entries(h.statuses).map(([s, n]) => `${int(n)} × ${s}`).join(", ")} (${int(h.accepted)} of ${int(h.sent)} events acknowledged; ${h.serverErrors} answers 5xx)`);
  return `## Hostile input (\`npm run bench:hostile\`)
Tried as an attacker would, through the public API of \`wrangler dev\` with the default config: four connections of
1000-event batches. *Memory* is \`/cache\`'s \`memory.bytes\` against the budget; *workerd RSS* is the resident memory of
the service's workerd processes (the runtime and the dev proxy: ${mb(r.hostile[0]?.rssBeforeMB)} MB before the flood); local workerd
enforces no isolate limit, and its RSS includes SQLite's page cache and the runtime's own buffers. *Counted* is
\`stats?window=1h\`'s \`events\`. A restart stops the service and starts it again on the same storage.
${r.hostile[0]?.ranAt ? `Run at ${r.hostile[0].ranAt}, on the machine above.` : ""}

${["| scenario | phase | refresh | memory MB / budget | workerd RSS MB | largest answer (bytes) | counted |", "| --- | --- | --- | --- | --- | --- | --- |", ...rows.map((x) => `| ${x.join(" | ")} |`)].join("\n")}

${statuses.map((s) => `- ${s}`).join("\n")}

A \`429 too_many_pending\` is the cap of 500,000 pending events at work: that batch was not recorded, and can be sent again
under the same \`batchId\` once some are due.${unexplained(r.hostile)}`;
}

export function render(r) {
  const parts = [
    `_Generated by \`npm run bench\` (${r.mode} run) from \`bench/results/latest.json\`; do not edit between the markers._`,
    machineSection(r),
    `![Reads per layer and ingest rates](bench/results/chart.svg)`,
    floorSection(r),
    edgeSection(r),
    layerSection(r),
    directSection(r),
    ingestSection(r),
    ingestCpuSection(r),
    shardsSection(r),
    storageSection(r),
    r.core ? coreSection(r.core, Math.max(0, ...Object.values(r.ingest?.[1000] ?? {}).map((m) => m.eventsPerSec.median))) : "",
    r.core ? accuracySection(r.core) : "",
    mixSection(r),
    hostileSection(r),
  ];
  return parts.filter(Boolean).join("\n\n");
}

export function writeReport(root, results, log = console.log) {
  writeFileSync(join(root, "bench/results/chart.svg"), chart(results));
  const file = join(root, "BENCHMARKS.md");
  const body = `${BEGIN}\n${render(results)}\n${END}`;
  let text = existsSync(file) ? readFileSync(file, "utf8") : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
  if (!text.includes(BEGIN) || !text.includes(END)) text += `\n${BEGIN}\n${END}\n`;
  text = text.slice(0, text.indexOf(BEGIN)) + body + text.slice(text.indexOf(END) + END.length);
  writeFileSync(file, text);
  log(`wrote BENCHMARKS.md and bench/results/chart.svg`);
  // Measurement 9 keeps its own markers (memory-report.mjs), so a core run alone can refresh it too.
  if (results.core?.memory?.length) writeMemoryReport(root, results.core, undefined, log, "bench/results/latest.json");
}
