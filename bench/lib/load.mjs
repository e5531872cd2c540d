/**
 * HTTP load with autocannon: one measurement = a warm-up, then N timed runs; the figure reported
 * is the median of the runs with their min–max spread, because this 2-core machine is shared and
 * noisy and a single run can be off by 20% or more.
 */
import autocannon from "autocannon";

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** {median, min, max} of one figure across runs. */
export const summarise = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/** One autocannon run, reduced to the figures the report needs. */
export async function fire(options, seconds) {
  const result = await autocannon({ timeout: 10, ...options, duration: seconds });
  const ok = result["2xx"];
  const elapsed = result.duration || seconds; // seconds actually spent
  return {
    rps: ok / elapsed,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

const WARMUP_RETRIES = 3;

const fmt = (n) => (n >= 100 ? Math.round(n).toString() : n.toFixed(1));

/**
 * Warm-up, then `runs` runs of `seconds` each.
 * @param {string} label printed in progress lines
 * @param {object} options autocannon options (url, connections, method, headers, body, requests)
 * @param {{warmup: number, runs: number, seconds: number, perRequest?: number}} plan
 *   perRequest multiplies requests/s into a derived rate (events per request for ingest).
 */
export async function measure(label, options, plan, log = console.log) {
  log(`  ${label}: warm-up ${plan.warmup}s`);
  // Local workerd runs every object on one thread, so a warm-up can fall entirely within another
  // namespace's refresh (about a second for the read namespace): warm up again, a few times at most.
  let warm = await fire(options, plan.warmup);
  for (let retry = 1; warm.ok === 0 && retry <= WARMUP_RETRIES; retry++) {
    log(`  ${label}: no answer yet, warm-up again (${retry}/${WARMUP_RETRIES})`);
    warm = await fire(options, plan.warmup + 1);
  }
  if (warm.ok === 0) throw new Error(`${label}: no 2xx answer during warm-up (non2xx ${warm.non2xx}, errors ${warm.errors})`);
  const runs = [];
  for (let i = 1; i <= plan.runs; i++) {
    const r = await fire(options, plan.seconds);
    runs.push(r);
    const bad = r.non2xx + r.errors + r.timeouts;
    log(
      `  ${label}: run ${i}/${plan.runs}: ${fmt(r.rps)} req/s` +
        (plan.perRequest > 1 ? ` (${fmt(r.rps * plan.perRequest)} events/s)` : "") +
        `, p50 ${r.p50} ms, p99 ${r.p99} ms${bad ? `, ${bad} failed` : ""}`,
    );
  }
  return summariseRuns(label, options.connections, runs);
}

/** Runs of one case, with the median and spread of their rates and latencies, and the requests that failed. */
export function summariseRuns(label, connections, runs) {
  return {
    label,
    connections,
    runs,
    rps: summarise(runs.map((r) => r.rps)),
    p50: summarise(runs.map((r) => r.p50)),
    p99: summarise(runs.map((r) => r.p99)),
    failed: runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
  };
}

/** Ratio of two medians, with the spread bounded by the runs' extremes (min/max, max/min). */
export function ratio(a, b) {
  return {
    median: a.rps.median / b.rps.median,
    min: a.rps.min / b.rps.max,
    max: a.rps.max / b.rps.min,
  };
}
