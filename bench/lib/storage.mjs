/**
 * The largest SQLite row the service writes, read from `/cache` (`storage.largestRowBytes`, which
 * every statement's guard records) against the platform's 2 MB: for the read namespace of the run,
 * and for the widest config the service accepts (32 types at the largest capacity the memory
 * budget allows, every type's summary full of distinct 256-byte items).
 * Local workerd accepts rows of ~8 MB, so only this accounting says production would take them.
 */
import { maxCapacityWithin } from "../../src/core/budget.ts";
import { MEMORY_BUDGET_BYTES } from "../../src/core/memory.ts";

const WIDEST_NS = "bench-widest";

export async function storage(api, read_ns, log) {
  log(`\n[storage] the largest row written, against the 2 MB limit`);
  const read = await api.cache(read_ns);
  log(`  ${read_ns}: largest row ${read.storage.largestRowBytes} B of ${read.storage.maxRowBytes} B`);

  const types = Array.from({ length: 32 }, (_, t) => `type-${t}`);
  const capacity = maxCapacityWithin(MEMORY_BUDGET_BYTES, types.length);
  await api.configure(WIDEST_NS, { capacity, maxLimit: 1000, types: Object.fromEntries(types.map((t) => [t, {}])) });
  const items = capacity * types.length;
  for (let sent = 0; sent < items; sent += 1000) {
    const events = [];
    for (let i = sent; i < Math.min(items, sent + 1000); i++) {
      events.push({ item: `${String(i).padStart(6, "0")}·${"é".repeat(124)}`, type: types[i % 32], weight: 1 + (i % 7) });
    }
    await api.post(WIDEST_NS, events);
  }
  const t0 = performance.now();
  await api.refresh(WIDEST_NS);
  const refreshMs = Math.round(performance.now() - t0);
  const widest = await api.cache(WIDEST_NS);
  log(`  ${WIDEST_NS} (${items} items of 256 B over 32 types, capacity ${capacity}): largest row ${widest.storage.largestRowBytes} B, checkpoint ${widest.lastCheckpoint?.outcome}, refresh with checkpoint ${refreshMs} ms`);
  await api.erase(WIDEST_NS).catch(() => {});
  return {
    maxRowBytes: read.storage.maxRowBytes,
    read: { namespace: read_ns, largestRowBytes: read.storage.largestRowBytes },
    widest: {
      namespace: WIDEST_NS,
      items,
      itemBytes: 256,
      types: types.length,
      capacity,
      largestRowBytes: widest.storage.largestRowBytes,
      checkpoint: widest.lastCheckpoint?.outcome ?? null,
      checkpointErrors: widest.checkpointErrors,
      refreshMs,
    },
  };
}
