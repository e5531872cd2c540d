/**
 * The BENCHMARKS.md section of measurement 5b (ingest-cpu.mjs): workerd CPU per ingested event
 * end to end, this checkout against the commit before, with and without the dev proxy, beside the
 * core's own CPU per event from measurement 6.
 */
import { int, num, spread, table, verdict } from "./format.mjs";

/** The issue's targets: µs of workerd CPU per event, and the object's events per CPU second. */
export const CPU_TARGETS = { 1000000: 4, 1000: 3 };
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
  for (const items of ["1000000", "1000"]) {
    for (const [key, label] of SERVICES) {
      const c = m[key]?.[items];
      if (!c) continue;
      const target = key === "afterDirect" ? verdict(c.cpuMicrosPerEvent.median <= CPU_TARGETS[items]) : "";
      rows.push([int(Number(items)), label, spread(c.cpuMicrosPerEvent, (x) => num(x, 1)), int(c.eventsPerCpuSecond), `${Math.round(c.refreshShare * 100)}%`, target]);
    }
    rows.push([int(Number(items)), `the core alone (6: one type, in Node${m.machine ? ", from the run of 6" : ""})`, num(coreMicros(r.core, Number(items)), 2), int(1e6 / coreMicros(r.core, Number(items))), "", ""]);
  }
  const after = m.afterDirect?.["1000000"] ?? m.after["1000000"];
  const runs = m.after["1000000"]?.runs.length ?? 0;
  return `## 5b. Workerd CPU per ingested event, end to end
${int(m.after["1000000"]?.runs[0]?.events)} events per case in 1000-event batches, 4 in flight, Zipf(1.0) over 1M and over 1k items,
90% \`view\` and 10% \`like\`, stamped over the last hour, then one \`POST .../refresh\` (its advance, checkpoint and every
snapshot) inside the measurement; ${runs} rounds, median (min–max): through wrangler dev, before and after interleaved;
without the dev proxy, one service at a time (every round of this build, then every round of the one before). The figure is the CPU time of every workerd process
of the service from \`/proc\`, divided by the events accepted: what a namespace pays for, whatever else the machine runs.
"before" is commit \`${(m.beforeCommit ?? "?").slice(0, 12)}\`, built from git in the same run.${run}

${table(["distinct items", "service", "µs of CPU per event", "events per CPU second", "last refresh's share", `target ≤ ${CPU_TARGETS[1000000]} µs (1M), ≤ ${CPU_TARGETS[1000]} µs (1k)`], rows)}

The dev proxy moves every body through workers of its own, inside the same workerd: its figures are what a local
\`wrangler dev\` costs, and the ones without it what the runtime costs, nearer a deployment. The last refresh is a cost per refresh, not per event: it
weighs less the more events a refresh period brings. The object takes ${int(after?.eventsPerCpuSecond)} events per CPU second
end to end at 1M distinct items (target ≥ ${int(OBJECT_TARGET)}: ${verdict(after?.eventsPerCpuSecond >= OBJECT_TARGET)}).`;
}
