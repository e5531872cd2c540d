/**
 * Measurement 5: ingest through HTTP. autocannon re-sends one fixed body per batch size. No batchId
 * is set, so every copy is accepted and counted again (202), which is what a throughput figure
 * needs; events/s = accepted requests/s × batch size. Each case writes to its own namespace, which
 * is deleted afterwards so its refresh loop does not load the phases that follow.
 */
import { measure } from "./load.mjs";
import { stream, HOUR } from "./tally.mjs";

export async function ingest(base, api, plan, log) {
  const out = {};
  for (const batch of plan.batches) {
    // One body per batch size: Zipf items over the last hour, as a busy client would send them.
    const [events] = stream({ count: batch, items: 100_000, batch, spanMs: HOUR, seed: batch });
    const body = JSON.stringify({ events });
    for (const c of plan.ingestConnections) {
      const ns = `bench-ingest-b${batch}-c${c}`;
      log(`\n[5] ingest: batch ${batch}, ${c} connection(s), ${(body.length / 1024).toFixed(0)} KiB per request`);
      const m = await measure(
        `ingest b=${batch} c=${c}`,
        { url: `${base}/v1/namespaces/${ns}/events`, method: "POST", headers: api.ingestHeaders, body, connections: c },
        { ...plan, perRequest: batch },
        log,
      );
      m.batch = batch;
      m.eventsPerSec = {
        median: m.rps.median * batch,
        min: m.rps.min * batch,
        max: m.rps.max * batch,
      };
      (out[batch] ??= {})[c] = m;
      await api.erase(ns).catch((e) => log(`  (could not delete ${ns}: ${e.message})`));
    }
  }
  return out;
}
