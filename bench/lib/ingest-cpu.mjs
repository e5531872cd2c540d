/**
 * Measurement 5b: workerd CPU per ingested event, end to end. A heavy user's stream (1000-event
 * batches, 4 in flight, Zipf over 1M and over 1k distinct items, stamped over the last hour; and
 * over 1M items stamped within the last 10 seconds, as a live app sends them) goes
 * through the Worker and the namespace's object, then one refresh computes and checkpoints what it
 * caused. The figure is the CPU time of every workerd process of the service, from /proc, divided by
 * the events accepted: wall time on a shared machine says little, CPU time is what a namespace pays.
 * With `profile`, a V8 CPU profile of the same run is taken through wrangler dev's inspector.
 */
import { writeFileSync } from "node:fs";
import { workerdCpuSecondsUnder } from "./machine.mjs";
import { config, stream, HOUR } from "./tally.mjs";
import { startProfile } from "./profile.mjs";

const BATCH = 1000;
const IN_FLIGHT = 4;
/** A live app's events arrive within seconds of their time: they land in the running minute. */
const LIVE_SPAN_MS = 10_000;

/** The cases, by the key the results and the report use: distinct items, and how far back events are stamped. */
export const CASES = [
  { key: "1000000", items: 1_000_000, spanMs: HOUR },
  { key: "1000", items: 1_000, spanMs: HOUR },
  { key: "1000000 live", items: 1_000_000, spanMs: LIVE_SPAN_MS },
  // (v1.7) The live stream with 2 and 8 dimension values an event, against its own "1000000 live" in
  // the same round: on the build before too where it counts segments (`takesDimensions`).
  { key: "1000000 live, 2 values", items: 1_000_000, spanMs: LIVE_SPAN_MS, values: 2, thisBuildOnly: true },
  { key: "1000000 live, 8 values", items: 1_000_000, spanMs: LIVE_SPAN_MS, values: 8, thisBuildOnly: true },
];

/** The dimensions of the cases with values: 20 categories, 200 countries, 5,000 tags (6 an event with 8 values).
 * Beside the bench's capacity 5000 and two declared types, three dimensions fit the budget at 500 counters each. */
export const DIMENSIONS = { category: { capacity: 500 }, country: { capacity: 500 }, tag: { multi: true, capacity: 500 } };

export function withDims(events, values, offset) {
  events.forEach((event, j) => {
    const i = offset + j;
    event.dims = { category: `c${(i * 7919) % 20}`, country: `k${(i * 104_729) % 200}` };
    if (values === 8) event.dims.tag = Array.from({ length: 6 }, (_, t) => `t${(i * 31 + t * 977) % 5000}`);
  });
  return events;
}

/** The case's request bodies, made before any is timed, so that the generator's time is not the service's. */
export function bodiesOf({ items, spanMs, values = 0 }, events) {
  return [...stream({ count: events, items, batch: BATCH, spanMs, seed: items })].map((e, b) => JSON.stringify({ events: values ? withDims(e, values, b * BATCH) : e }));
}

/** Posts `bodies` to `url` with IN_FLIGHT requests in flight; every answer must be 202. */
export async function postAll(url, headers, bodies) {
  let next = 0;
  const send = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await fetch(url, { method: "POST", headers, body });
      if (res.status !== 202) throw new Error(`ingest: ${res.status} ${(await res.text()).slice(0, 200)}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, send));
}

/** Whether a service's build counts segments: one of before them refuses `dimensions` in a config. */
async function takesDimensions(api) {
  const ns = "bench-cpu-takes-dimensions";
  try {
    await api.configure(ns, config({ dimensions: DIMENSIONS }));
    return true;
  } catch {
    return false;
  } finally {
    await api.erase(ns).catch(() => {});
  }
}

/** One case: `events` events over `items` distinct items into a fresh namespace. `service` has
 * the `pid` of its wrangler dev, or its own `cpuSeconds()`. */
async function ingestCase(service, api, { events, items, spanMs, values = 0, profileTo }, log) {
  const ns = `bench-cpu-${items}-${spanMs}-${values}`;
  await api.configure(ns, values ? config({ dimensions: DIMENSIONS }) : config());
  const bodies = bodiesOf({ items, spanMs, values }, events);
  const profile = profileTo ? await startProfile(service.inspector) : undefined;
  const cpu = service.cpuSeconds ?? (() => workerdCpuSecondsUnder(service.pid));
  const before = cpu();
  const started = performance.now();
  await postAll(`${service.base}/v1/namespaces/${ns}/events`, api.ingestHeaders, bodies);
  const posted = cpu();
  await api.refresh(ns); // the refresh and checkpoint these events cause, inside the measurement
  const wallSeconds = (performance.now() - started) / 1000;
  const after = cpu();
  if (profile) writeFileSync(profileTo.replace("{items}", spanMs === HOUR ? String(items) : `${items}-live`), JSON.stringify(await profile.stop()));
  await api.erase(ns).catch((e) => log(`  (could not delete ${ns}: ${e.message})`));
  const cpuSeconds = after - before;
  // The refresh at the end apart, as a share: its cost is per refresh, not per event, so it weighs
  // less the more events a refresh period brings (alarms during the posts count as ingest).
  const refreshShare = (after - posted) / cpuSeconds;
  return { events, items, spanMs, cpuSeconds, wallSeconds, refreshShare, cpuMicrosPerEvent: (cpuSeconds * 1e6) / events, eventsPerCpuSecond: events / cpuSeconds };
}

/**
 * Both sizes, `rounds` times each, on every service of `services` ({after, before?}: each a
 * service and its client), interleaved so that a change in the machine's load meets all of them.
 * The median per service and size is the figure.
 */
export async function ingestCpu(services, { events, rounds = 3, profileTo }, log) {
  const out = {};
  const withSegments = new Map();
  for (const [name, { api }] of Object.entries(services)) withSegments.set(name, !name.startsWith("before") || (await takesDimensions(api)));
  for (let round = 1; round <= rounds; round++) {
    for (const { key, items, spanMs, values, thisBuildOnly } of CASES) {
      for (const [name, { service, api }] of Object.entries(services)) {
        if (thisBuildOnly && !withSegments.get(name)) continue;
        const profile = name === "after" && round === rounds && !values ? profileTo : undefined;
        const m = await ingestCase(service, api, { events, items, spanMs, values, profileTo: profile }, log);
        m.interleaved = Object.keys(services).length > 1; // with another service's rounds, in turn
        ((out[name] ??= {})[key] ??= { runs: [] }).runs.push(m);
        log(`  [5b] ${name}, ${key} items, round ${round}/${rounds}: ${m.cpuMicrosPerEvent.toFixed(2)} µs of workerd CPU per event ` +
          `(${Math.round(m.eventsPerCpuSecond).toLocaleString("en-US")} events per CPU second; the last refresh ${(m.refreshShare * 100).toFixed(0)}% of it; ${m.wallSeconds.toFixed(1)} s wall)`);
      }
    }
  }
  for (const bySize of Object.values(out)) {
    for (const m of Object.values(bySize)) {
      const sorted = m.runs.map((r) => r.cpuMicrosPerEvent).sort((a, b) => a - b);
      m.cpuMicrosPerEvent = { median: sorted[sorted.length >> 1], min: sorted[0], max: sorted.at(-1) };
      m.eventsPerCpuSecond = 1e6 / m.cpuMicrosPerEvent.median;
      m.refreshShare = m.runs.map((r) => r.refreshShare).sort((a, b) => a - b)[m.runs.length >> 1];
    }
  }
  return out;
}
