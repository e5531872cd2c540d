/**
 * `npm run bench:core` (not a test): the aggregation core alone, in Node, no runtime APIs.
 * Measurements 6 (ingest rate, heap and refresh time against distinct items) and 7 (accuracy
 * against an exact count). Writes JSON with --json FILE (default bench/results/core.json);
 * --quick runs smaller sizes. `npm run bench` runs this in a child process and reports it.
 * --before REV also runs measurement 6 on the core of commit REV, built from git in the same run
 * (bench/lib/before.mjs), so that BENCHMARKS.md sets before and after side by side.
 */
import { worstCaseBytes } from "../src/core/budget";
import { MEMORY_BUDGET_BYTES } from "../src/core/memory";
import { accuracy, type AccuracyResult } from "./lib/core-accuracy";
import { mergeCost, type MergeCase, type MergeResult } from "./lib/core-merge";
import { REFRESH_PLANS, refreshAtScale } from "./lib/core-refresh";
import { designs, segmentIngest } from "./lib/core-segments";
import { answerScenario, inFreshProcess, type MemoryResult, type Scenario } from "./lib/core-memory";
import { memoryKinds, type KindResult } from "./lib/memory-kinds";
import { scale, type ScaleCase, type ScaleResult } from "./lib/core-scale";
import { nodeProcess, writeText } from "./lib/node";
import { scaleOfCommit } from "./lib/core-before";
import { reference, type ReferenceResult } from "./lib/core-reference";
// @ts-expect-error a plain ES module of the bench, without types
import { machine } from "./lib/machine.mjs";
// @ts-expect-error a plain ES module of the bench, without types
import { writeRefreshReport } from "./lib/refresh-report.mjs";
// @ts-expect-error a plain ES module of the bench, without types
import { writeSegmentsReport } from "./lib/segments-report.mjs";

const RUNS_SEGMENTS = 3;

const argv = nodeProcess.argv.slice(2);
const quick = argv.includes("--quick");

// --memory-scenario JSON: one scenario of measurement 9, in this process (core-memory.ts, `inFreshProcess`).
const scenarioAt = argv.indexOf("--memory-scenario");
if (scenarioAt >= 0) {
  answerScenario(JSON.parse(argv[scenarioAt + 1]!) as Scenario);
  nodeProcess.exit(0);
}

// --refresh: measurement 6b alone (a full refresh with every rank at 1M distinct items, for each
// plan), printed, written to bench/results/core-refresh.json and into its own section of BENCHMARKS.md.
if (argv.includes("--refresh")) {
  const started = performance.now();
  const runsAt = argv.indexOf("--runs"); // more runs on a busy machine: the minimum is then telling
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 5;
  const plans = REFRESH_PLANS.map((p) => refreshAtScale(1_000_000, 3_000_000, runs, console.log, p));
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const result = { plans, machine: machine(), seconds };
  await writeText("bench/results/core-refresh.json", JSON.stringify(result, null, 2) + "\n");
  writeRefreshReport(nodeProcess.cwd(), result);
  console.log(`  core refresh benchmark done in ${seconds} s`);
  nodeProcess.exit(0);
}
// --segments: measurement 6c alone (segments in the core: ingest with 0, 2 and 8 values, and the
// two designs), printed, written to bench/results/core-segments.json and into its own section.
if (argv.includes("--segments")) {
  const started = performance.now();
  const events = quick ? 100_000 : 500_000;
  const ingest = [1_000, 1_000_000].flatMap((items) => ([0, 2, 8] as const).map((values) => segmentIngest(items, events, values, RUNS_SEGMENTS, console.log)));
  const result = { ingest, designs: designs(1_000_000, events, RUNS_SEGMENTS, console.log), machine: machine(), seconds: 0 };
  result.seconds = Math.round((performance.now() - started) / 100) / 10;
  await writeText("bench/results/core-segments.json", JSON.stringify(result, null, 2) + "\n");
  writeSegmentsReport(nodeProcess.cwd(), result);
  console.log(`  core segments benchmark done in ${result.seconds} s`);
  nodeProcess.exit(0);
}
/** `--only memory` runs measurement 9 alone (memory against the per-namespace budget); `--only scale`,
 * 6 alone; `--only merge`, the merge cost of sharded ingest alone. */
const onlyAt = argv.indexOf("--only");
const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
const jsonAt = argv.indexOf("--json");
const out = jsonAt >= 0 ? argv[jsonAt + 1]! : `bench/results/core${quick ? "-quick" : ""}${only ? `-${only}` : ""}.json`;

const RUNS = 3;
/** Distinct items vs events: the 1M case is "1M distinct items over 7 days". Quick: two small cases
 * (what the quick run is for: a check that it all runs, in seconds). */
const SCALE: ScaleCase[] = quick
  ? [
      { items: 1_000, events: 100_000, mode: "live" },
      { items: 100_000, events: 100_000, mode: "live" },
    ]
  : [
      { items: 1_000, events: 500_000, mode: "live" },
      { items: 10_000, events: 500_000, mode: "live" },
      { items: 100_000, events: 1_000_000, mode: "live" },
      { items: 1_000_000, events: 3_000_000, mode: "live" },
      // The peak: a week arriving at once, in random order, nothing sealed until it is all in.
      { items: 1_000_000, events: 2_000_000, mode: "backfill" },
    ];
const ACCURACY = quick
  ? { items: 100_000, events: 300_000, skews: [1.0] }
  : { items: 1_000_000, events: 3_000_000, skews: [0.8, 1.0, 1.2] };

/** Sharded ingest: one shard's delta over a refresh period, events x distinct items. */
const MERGE: MergeCase[] = quick
  ? [
      { events: 10_000, items: 1_000 },
      { events: 10_000, items: 100_000 },
    ]
  : [
      { events: 10_000, items: 1_000 },
      { events: 10_000, items: 100_000 },
      { events: 100_000, items: 1_000 },
      { events: 100_000, items: 100_000 },
    ];

/** Measurement 9: steady catalogues of N items in every kept bucket, and the worst accepted configs. */
/** Quick: 1,000 items with no declared type and 4,900 with 2 (the budget's target case) only. */
const CATALOGUE: [number, 0 | 2][] = quick
  ? [[1_000, 0], [4_900, 2]]
  : [1_000, 4_900, 20_000].flatMap((n) => [[n, 0], [n, 2]] as [number, 0 | 2][]);
/** The worst accepted config takes ~1 minute with 32 types (8.4M events of 256-byte items): the full run only. */
const WORST_TYPES = quick ? [] : [32, 1];
/** The same, every event from an actor of its own (rank=reach's pair samples full) in a zone with a
 * 45-minute offset (local days beside the tiers, and the zoned, smaller, accepted capacity). */
const WORST_REACH_ZONED = { actors: true, timezone: "Asia/Kathmandu" };
/** (v1.7) That, with 8 multi-valued dimensions as wide as the budget accepts beside capacity 5000,
 * every one of a bucket's first events carrying 8 new 128-byte values in each. */
const WORST_SEGMENTS = [{ dimensions: true }, { ...WORST_REACH_ZONED, dimensions: true }];

if (quick) {
  console.log(
    `  quick: scale at 1,000 and 100,000 items with 100,000 events (full: 1,000 to 1M items with 0.5M-3M events, and a backfill), ` +
      `accuracy at skew 1.0 over ${ACCURACY.events.toLocaleString("en")} events (full: 3M, skews 0.8-1.2), merge at 10,000 events (full: also 100,000), ` +
      `memory: steady catalogues of 1,000 items (no type) and 4,900 (2 types) (full: 1,000 to 20,000, each both ways); ` +
      `the worst accepted configs are left to the full run`,
  );
}

const log = (s: string) => console.log(s);
const started = performance.now();
const scaleResults: ScaleResult[] = [];
if (!only || only === "scale") for (const c of SCALE) scaleResults.push(scale(c, RUNS, log));
// The published reference on the same streams as 6, at its smallest and largest live sizes.
const referenceResults: ReferenceResult[] =
  !only || only === "scale" ? [SCALE[0]!, SCALE.filter((c) => c.mode === "live").at(-1)!].map((c) => reference(c.items, c.events, RUNS, log)) : [];
const beforeAt = argv.indexOf("--before");
const before = beforeAt >= 0 && (!only || only === "scale") ? await scaleOfCommit(argv[beforeAt + 1]!, quick, log) : undefined;
const accuracyResults: AccuracyResult[] = [];
if (!only) for (const skew of ACCURACY.skews) accuracyResults.push(accuracy(ACCURACY.items, ACCURACY.events, skew, log));
const mergeResults: MergeResult[] = [];
if (!only || only === "merge") {
  log(`sharded ingest: merge cost against ingest, per event`);
  for (const c of MERGE) mergeResults.push(mergeCost(c, RUNS, log, quick ? 20_000 : 50_000));
}
const memoryResults: MemoryResult[] = [];
if (!only || only === "memory") {
  const scenarios: Scenario[] = [
    ...CATALOGUE.map(([items, declaredTypes]): Scenario => ({ kind: "steady", items, declaredTypes })),
    ...WORST_TYPES.map((declaredTypes): Scenario => ({ kind: "worst", declaredTypes })),
    ...WORST_TYPES.map((declaredTypes): Scenario => ({ kind: "worst", declaredTypes, options: WORST_REACH_ZONED })),
    ...(quick ? [] : WORST_SEGMENTS.map((options): Scenario => ({ kind: "worst", declaredTypes: 1, options }))),
  ];
  // Each in a process of its own: a baseline free of the scenario before.
  for (const s of scenarios) memoryResults.push(inFreshProcess(s, log));
}
// The estimate kind by kind (type names, a pending flood, held answers, suppressions): seconds.
const kindResults: KindResult[] = !only || only === "memory" ? memoryKinds(quick, log) : [];
/** The config the worst-case scenario would have been without the check: refused, with its estimate. */
const refused = { capacity: 50_000, declaredTypes: 32, estimateMB: worstCaseBytes(50_000, 32) / 2 ** 20, budgetMB: MEMORY_BUDGET_BYTES / 2 ** 20 };

const result = {
  mode: quick ? "quick" : "full",
  capacity: 5000,
  batch: 1000,
  scale: scaleResults,
  reference: referenceResults,
  ...(before ? { scaleBefore: before.scale, beforeCommit: before.commit } : {}),
  accuracy: accuracyResults,
  merge: mergeResults,
  memory: memoryResults,
  memoryKinds: kindResults,
  refused,
  seconds: Math.round((performance.now() - started) / 100) / 10,
};
await writeText(out, JSON.stringify(result, null, 2) + "\n");
log(`  core benchmark done in ${result.seconds} s, wrote ${out}`);
