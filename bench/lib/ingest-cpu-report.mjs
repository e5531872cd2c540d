/**
 * The BENCHMARKS.md section of measurement 5b (ingest-cpu.mjs): workerd CPU per ingested event
 * end to end, this checkout against the commit before, with and without the dev proxy, beside the
 * core's own CPU per event from measurement 6.
 */
import { int, num, spread, table, verdict } from "./format.mjs";
import { FLOOR_STEPS } from "./ingest-floor.mjs";

/** The issue's targets: µs of workerd CPU per event, and the object's events per CPU second. */
export const CPU_TARGETS = { 1000000: 4, 1000: 3, "1000000 live": 4 };
export const OBJECT_TARGET = 250_000;

const SERVICES = [
  ["before", "before, wrangler dev"],
  ["after", "this build, wrangler dev"],
  ["beforeDirect", "before, without the dev proxy"],
  ["afterDirect", "this build, without the dev proxy"],
];

/** µs of CPU per event of the core alone (measurement 6, live), at `items` distinct items. */
function coreMicros(core, items) {
  const live = core?.scale?.find((s) => s.items === items && s.mode === "live");
  return live ? 1e6 / live.eventsPerCpuSec.median : NaN;
}

export function ingestCpuSection(r) {
  const m = r.ingestCpu;
  if (!m?.after) return "";
  const run = m.machine ? ` Measured at ${m.machine.date} in a \`--cpu-only\` run (load average at its end ${m.machine.loadAverage.join(" / ")}), not in the run of the other sections.` : "";
  const rows = [];
  for (const key of ["1000000", "1000", "1000000 live"]) {
    const items = key.split(" ")[0];
    const label = key.endsWith("live") ? `${int(Number(items))}, live` : int(Number(items));
    for (const [service, name] of SERVICES) {
      const c = m[service]?.[key];
      if (!c) continue;
      const target = service === "afterDirect" ? verdict(c.cpuMicrosPerEvent.median <= CPU_TARGETS[key]) : "";
      rows.push([label, name, spread(c.cpuMicrosPerEvent, (x) => num(x, 1)), int(c.eventsPerCpuSecond), `${Math.round(c.refreshShare * 100)}%`, target]);
    }
    if (key.endsWith("live")) continue;
    rows.push([label, `the core alone (6: one type, in Node${m.machine ? ", from the run of 6" : ""})`, num(coreMicros(r.core, Number(items)), 2), int(1e6 / coreMicros(r.core, Number(items))), "", ""]);
  }
  const after = m.afterDirect?.["1000000"] ?? m.after["1000000"];
  const runs = m.after["1000000"]?.runs.length ?? 0;
  return `## 5b. Workerd CPU per ingested event, end to end
${int(m.after["1000000"]?.runs[0]?.events)} events per case in 1000-event batches, 4 in flight, Zipf(1.0) over 1M and over 1k items,
90% \`view\` and 10% \`like\`, stamped over the last hour, then one \`POST .../refresh\` (its advance, checkpoint and every
snapshot) inside the measurement; ${runs} rounds, median (min–max): through wrangler dev, before and after interleaved;
without the dev proxy, ${m.afterDirect?.["1000000"]?.runs[0]?.interleaved ? "both builds at once, their rounds interleaved too" : "one service at a time (every round of this build, then every round of the one before)"}. The figure is the CPU time of every workerd process
of the service from \`/proc\`, divided by the events accepted: what a namespace pays for, whatever else the machine runs.
"before" is commit \`${(m.beforeCommit ?? "?").slice(0, 12)}\`, built from git in the same run.${run}

${table(["distinct items", "service", "µs of CPU per event", "events per CPU second", "last refresh's share", `target ≤ ${CPU_TARGETS[1000000]} µs (1M), ≤ ${CPU_TARGETS[1000]} µs (1k)`], rows)}

The dev proxy moves every body through workers of its own, inside the same workerd: its figures are what a local
\`wrangler dev\` costs, and the ones without it what the runtime costs, nearer a deployment. The last refresh is a cost per refresh, not per event: it
weighs less the more events a refresh period brings. *Live*: the same 1M-item stream stamped within the last 10 seconds,
as a live app sends it, so that events meet the running minute (the hour-wide stream backfills 60 minutes at once). The object takes ${int(after?.eventsPerCpuSecond)} events per CPU second
end to end at 1M distinct items (target ≥ ${int(OBJECT_TARGET)}: ${verdict(after?.eventsPerCpuSecond >= OBJECT_TARGET)}).
${floorPart(m)}${segmentsPart(m)}`;
}

/** (v1.7) The live stream with 2 and 8 dimension values an event, against the same stream without. */
function segmentsPart(m) {
  const rows = [];
  for (const [service, name] of SERVICES) {
    const base = m[service]?.["1000000 live"];
    for (const values of [2, 8]) {
      const c = m[service]?.[`1000000 live, ${values} values`];
      if (!c || !base) continue;
      const ratio = c.cpuMicrosPerEvent.median / base.cpuMicrosPerEvent.median;
      rows.push([name, values, spread(c.cpuMicrosPerEvent, (x) => num(x, 1)), num(base.cpuMicrosPerEvent.median, 1), num(ratio, 2), values === 2 ? verdict(ratio <= 2) : ""]);
    }
  }
  if (rows.length === 0) return "";
  return `

**Segments (v1.7).** The live 1M-item stream again, each event with 2 dimension values (a category of 20 and a country of
200) or 8 (and 6 tags of 5,000), into a namespace declaring those three dimensions (500 counters each), in the same rounds${rows.some(([name]) => name.startsWith("before")) ? "" : "; this build only (the build before counts no segments)"}.

${table(["service", "values per event", "µs of CPU per event", "without values, µs", "× without", "target ≤ 2× (2 values)"], rows)}`;
}

/** The runtime's floor for the same requests (ingest-floor.mjs), and what is left of the target. */
function floorPart(m) {
  if (!m.floor) return "";
  const keys = ["1000000", "1000", "1000000 live"].filter((k) => m.floor[k]);
  const rows = keys.map((k) => [k.endsWith("live") ? "1,000,000, live" : int(Number(k)), ...FLOOR_STEPS.map((s) => spread(m.floor[k][s], (x) => num(x, 2))), num(m.afterDirect?.[k]?.cpuMicrosPerEvent.median, 1)]);
  const at1M = m.floor["1000000"]?.log.median;
  return `
**The runtime's floor.** The same bodies, posted the same way to a bare Worker and one SQLite-backed object on the same
runtime, each step adding to the one before (\`bench/lib/ingest-floor.mjs\`): *receive* reads the body and answers 202,
*parse* also parses its JSON, *hand over* also passes its events to the object as columns by RPC, *log* also writes those
columns' JSON into a SQLite row in the object, as every accepted batch is logged before it is acknowledged. Nothing is counted. µs of
workerd CPU per event, median (min–max) of ${m.floor["1000000"]?.log ? "3" : "–"} rounds:

${table(["distinct items", ...FLOOR_STEPS.map((s) => `${s} µs`), "this build, without the dev proxy, µs"], rows)}

At 1M items the floor is ${num(at1M, 1)} µs per event before anything is counted, against a target of ${CPU_TARGETS[1000000]} µs for all of it: on this
runtime the target leaves ${num(Math.max(0, CPU_TARGETS[1000000] - at1M), 1)} µs for counting, the checkpoint and the refresh. What this build adds above the floor is its
own work, and the part to make smaller.`;
}
