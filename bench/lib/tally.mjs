/**
 * Small client for the parts of Tally's HTTP API the benchmark drives: config, ingest, refresh,
 * the cache report. Event streams are deterministic (seeded Zipf), so runs are comparable.
 */
import { rng, zipf } from "../../test/support/random.ts";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export function client(base, vars) {
  const admin = { authorization: `Bearer ${vars.ADMIN_TOKEN}` };
  const ingest = { authorization: `Bearer ${vars.INGEST_TOKEN}`, "content-type": "application/json" };
  const call = async (method, path, headers, body) => {
    const res = await fetch(base + path, { method, headers, body });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    admin,
    ingestHeaders: ingest,
    configure: (ns, config) =>
      call("PUT", `/v1/namespaces/${ns}/config`, { ...admin, "content-type": "application/json" }, JSON.stringify(config)),
    post: (ns, events) => call("POST", `/v1/namespaces/${ns}/events`, ingest, JSON.stringify({ events })),
    refresh: (ns) => call("POST", `/v1/namespaces/${ns}/refresh`, admin),
    cache: (ns) => call("GET", `/v1/namespaces/${ns}/cache`, admin),
    erase: (ns) => call("DELETE", `/v1/namespaces/${ns}`, admin),
  };
}

export const config = (overrides = {}) => ({
  windows: ["1h", "24h", "7d"],
  refreshSeconds: 10,
  staleSeconds: 300,
  maxLimit: 100,
  types: { view: {}, like: {} },
  capacity: 5000,
  ...overrides,
});

/**
 * `count` events over `items` distinct items with Zipf(skew) popularity, spread uniformly over the
 * last `spanMs`, 90% views and 10% likes, from 5000 actors. Yields batches of `batch` events.
 */
export function* stream({ count, items, skew = 1.0, spanMs = 7 * DAY, batch = 1000, seed = 1, now = Date.now() }) {
  const random = rng(seed);
  const rank = zipf(items, skew, random);
  for (let sent = 0; sent < count; sent += batch) {
    const events = [];
    for (let i = 0; i < Math.min(batch, count - sent); i++) {
      events.push({
        item: `item-${rank()}`,
        type: random() < 0.9 ? "view" : "like",
        weight: 1,
        actor: `u${Math.floor(random() * 5000)}`,
        ts: Math.floor(now - 1000 - random() * (spanMs - 2000)),
      });
    }
    yield events;
  }
}

/** Sends a stream with a few requests in flight (the object takes one batch at a time anyway). */
export async function seed(api, ns, options, inFlight = 4) {
  const batches = stream(options);
  const worker = async () => {
    for (let next = batches.next(); !next.done; next = batches.next()) await api.post(ns, next.value);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}
