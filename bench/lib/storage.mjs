/**
 * The largest SQLite row the service writes, read from `/cache` (`storage.largestRowBytes`, which
 * every statement's guard records) against the platform's 2 MB: for the read namespace of the run,
 * and for the widest config the service accepts (32 types at the largest capacity the memory
 * budget allows, every type's summary full of distinct 256-byte items), and (v1.7) for the widest
 * dimensions accepted beside the default capacity (8 multi-valued, every summary of values and of
 * (value, item) pairs full of distinct 128-byte values and 256-byte items).
 * Local workerd accepts rows of ~8 MB, so only this accounting says production would take them.
 */
import { maxCapacityWithin } from "../../src/core/budget.ts";
import { MEMORY_BUDGET_BYTES } from "../../src/core/memory.ts";
import { DEFAULT_CONFIG, MAX_DIMENSION_VALUES, MAX_VALUE_BYTES } from "../../src/shared/contract.ts";
import { widestDimensions } from "./core-refresh.ts";

const WIDEST_NS = "bench-widest";
const WIDEST_DIMENSIONS_NS = "bench-widest-dimensions";
/** A distinct item of 256 bytes of UTF-8 ("é" is 2 bytes), and a value of 128. */
const itemOf = (i) => `${String(i).padStart(6, "0")}·${"é".repeat(124)}`;
const valueOf = (i) => `${String(i).padStart(6, "0")}·${"é".repeat((MAX_VALUE_BYTES - 8) / 2)}`;

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
      events.push({ item: itemOf(i), type: types[i % 32], weight: 1 + (i % 7) });
    }
    await api.post(WIDEST_NS, events);
  }
  const t0 = performance.now();
  await api.refresh(WIDEST_NS);
  const refreshMs = Math.round(performance.now() - t0);
  const widest = await api.cache(WIDEST_NS);
  log(`  ${WIDEST_NS} (${items} items of 256 B over 32 types, capacity ${capacity}): largest row ${widest.storage.largestRowBytes} B, checkpoint ${widest.lastCheckpoint?.outcome}, refresh with checkpoint ${refreshMs} ms`);
  await api.erase(WIDEST_NS).catch(() => {});
  const dimensioned = await widestWithDimensions(api, log);
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
    dimensions: dimensioned,
  };
}

/**
 * The widest dimensions beside the default capacity, every summary full: the first events carry
 * MAX_DIMENSION_VALUES new 128-byte values in every dimension (enough to fill each dimension's
 * summaries twice over), then as many more new items as the capacity, in batches under 1 MB.
 */
async function widestWithDimensions(api, log) {
  const capacity = 5000;
  // The config declares no type: the default one, `view`, counts.
  const dimensions = widestDimensions({ capacity, types: Object.keys(DEFAULT_CONFIG.types).length, allMulti: true });
  const names = Object.keys(dimensions);
  const dimensionCapacity = dimensions[names[0]].capacity;
  await api.configure(WIDEST_DIMENSIONS_NS, { capacity, maxLimit: 1000, dimensions });
  const withValues = Math.ceil((2 * dimensionCapacity) / MAX_DIMENSION_VALUES);
  let value = 0;
  const values = () => Array.from({ length: MAX_DIMENSION_VALUES }, () => valueOf(value++));
  for (let sent = 0; sent < withValues; sent += 50) {
    const events = [];
    for (let i = sent; i < Math.min(withValues, sent + 50); i++) events.push({ item: itemOf(i), dims: Object.fromEntries(names.map((n) => [n, values()])) });
    await api.post(WIDEST_DIMENSIONS_NS, events);
  }
  for (let sent = withValues; sent < withValues + capacity; sent += 1000) {
    await api.post(WIDEST_DIMENSIONS_NS, Array.from({ length: 1000 }, (_, i) => ({ item: itemOf(sent + i) })));
  }
  const t0 = performance.now();
  await api.refresh(WIDEST_DIMENSIONS_NS);
  const refreshMs = Math.round(performance.now() - t0);
  const report = await api.cache(WIDEST_DIMENSIONS_NS);
  log(
    `  ${WIDEST_DIMENSIONS_NS} (${names.length} multi-valued dimensions of capacity ${dimensionCapacity}, ${withValues} events of ${names.length * MAX_DIMENSION_VALUES} values of ${MAX_VALUE_BYTES} B): ` +
      `largest row ${report.storage.largestRowBytes} B, memory ${report.memory.bytes} of ${report.memory.budgetBytes} B, checkpoint ${report.lastCheckpoint?.outcome}, refresh with checkpoint ${refreshMs} ms`,
  );
  await api.erase(WIDEST_DIMENSIONS_NS).catch(() => {});
  return {
    namespace: WIDEST_DIMENSIONS_NS,
    capacity,
    dimensions: names.length,
    dimensionCapacity,
    eventsWithValues: withValues,
    valuesPerEvent: names.length * MAX_DIMENSION_VALUES,
    valueBytes: MAX_VALUE_BYTES,
    largestRowBytes: report.storage.largestRowBytes,
    memoryBytes: report.memory.bytes,
    budgetBytes: report.memory.budgetBytes,
    checkpoint: report.lastCheckpoint?.outcome ?? null,
    checkpointErrors: report.checkpointErrors,
    refreshMs,
  };
}
