/**
 * Measurement 6b of BENCHMARKS.md (one full refresh at 1M distinct items, by plan), from the JSON
 * `npm run bench:core -- --refresh` writes, between its own markers: a refresh run alone takes a
 * few minutes, the full `npm run bench` twenty.
 *
 *   node bench/lib/refresh-report.mjs [core-refresh.json]
 */
import { readFileSync } from "node:fs";
import { int, num, spread, table, verdict, writeBetweenMarkers } from "./format.mjs";

const TARGET_MS = 250;
/** (v1.7) A segment off the plan is computed on its first read within this, at the object. */
const FIRST_READ_MS = 50;

/** (v1.7) The first reads of segments no refresh precomputed, for the plans with dimensions. */
function offPlanSection(plans) {
  const withSegments = plans.filter((p) => p.offPlan);
  if (withSegments.length === 0) return "";
  const rows = withSegments.map((p) => [p.plan, p.offPlan.segments, p.offPlan.reads, num(p.offPlan.medianMs, 2), `${num(p.offPlan.maxMs, 2)} (${p.offPlan.slowest})`, verdict(p.offPlan.maxMs < FIRST_READ_MS)]);
  return `

**The first read of a segment off the plan** (v1.7). After the refreshes above, for each dimension a value its first
window's breakdown ranks just below the hot segments and a value no event carried; every read of each (\`top\`, \`rising\`,
\`hot\` and stats, every configured window) is built on a context of its own and serialised, without shared merges, as the
object computes a read it holds no answer for (\`X-Cache: MISS\`). Each read's first build (wall time), the first time
any answer of that segment is built; the median over the reads and the slowest:

${table(["plan", "segments", "reads", "median ms", "slowest ms", `slowest < ${FIRST_READ_MS} ms`], rows)}`;
}

export function refreshSection({ plans, machine, seconds }) {
  const ranks = [...new Set(plans.flatMap((p) => Object.keys(p.byRankMs)))];
  const ms = (s) => spread(s, (x) => num(x, 0));
  const rows = plans.map((p) => [
    p.plan,
    p.windows,
    p.snapshots,
    ms(p.fullRefreshMs),
    ms(p.fullRefreshCpuMs),
    p.unsharedCpuMs ? ms(p.unsharedCpuMs) : "–",
    ...ranks.map((r) => (p.byRankMs[r] ? num(p.byRankMs[r].median, 0) : "–")),
    verdict(p.fullRefreshCpuMs.median < TARGET_MS),
  ]);
  const first = plans[0];
  const largest = plans.at(-1);
  const growth = first && largest ? largest.fullRefreshCpuMs.median / first.fullRefreshCpuMs.median : NaN;
  return `## 6b. One full refresh at 1M distinct items, by plan (\`npm run bench:core -- --refresh\`)
${int(first?.events)} events over 7 days (Zipf(1.0) over ${int(first?.items)} items, every item occurring, 10,000 actors), ingested
live into one aggregator of capacity 5000 with one declared type; then every snapshot of the plan is built and serialised,
as the object's refresh does: every rank (${ranks.join(", ")}) of every window, for all types and the declared one, stats and the
dashboard. The second plan adds the four calendar windows in a zone with daylight saving, so the object also keeps local days
and answers today, this week and this month from them; the third, the largest a namespace can configure, also precomputes
every one of those answers with \`compare=previous\` and, for 24h, \`compare=week\` (config \`compare\`). The fourth (v1.7) is the
first with 8 dimensions at the widest capacity accepted beside it (one multi-valued; 10 values an event, of 10 to a million
values a dimension), so it also builds every window's breakdown of each and the answers of its 8 hot segments. Medians of ${first?.fullRefreshMs ? "5" : "–"} runs after a warm-up, min–max in
parentheses; *CPU* is the process's own CPU time, which other processes on a shared machine do not inflate. A refresh shares
its merges between the answers of a window and type (\`Aggregator.sharing\`); *merges not shared* times the same plan in the
same run with every answer merging its own periods, as before that was built. By rank: the ranked
snapshots of that rank alone, timed apart (wall time): each such run pays its own merges and garbage collections, so the ranks
need not add up to the full refresh.

Measured on ${machine.cores} cores of ${machine.cpu}, Node ${machine.node}, ${machine.date.slice(0, 16).replace("T", " ")} UTC, load average
${machine.loadAverage.join(", ")} at the end, ${int(seconds)} s in all.

${table(["plan", "windows", "snapshots", "full refresh ms", "CPU ms", "CPU ms, merges not shared", ...ranks.map((r) => `${r} ms`), `CPU < ${TARGET_MS} ms`], rows)}

The largest plan costs ${num(growth, 2)}× the CPU of the five sliding windows in UTC${largest && largest.fullRefreshCpuMs.median >= TARGET_MS ? `, ${num(largest.fullRefreshCpuMs.median / TARGET_MS, 2)}× the target` : ""}.
Calendar windows add little: each is answered from local days, one bucket a day, where a sliding 1h window merges 60
minutes. A comparison merges a second period for every rank it adds (once per window and type, shared by the ranks that
read it), and \`rank=reach\` unites pair samples; comparisons are therefore precomputed only where a namespace's config lists them.${offPlanSection(plans)}`;
}

export function writeRefreshReport(root, result, log = console.log, source = "bench/results/core-refresh.json") {
  const body = `_Generated by \`npm run bench:core -- --refresh\` (or \`node bench/lib/refresh-report.mjs\` from \`${source}\`); do not edit between the markers._\n\n${refreshSection(result)}`;
  writeBetweenMarkers(`${root}/BENCHMARKS.md`, "refresh", body);
  log("wrote the refresh section (6b) of BENCHMARKS.md");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const input = process.argv[2] ?? "bench/results/core-refresh.json";
  writeRefreshReport(process.cwd(), JSON.parse(readFileSync(input, "utf8")), console.log, input);
}
