/**
 * Measurement 5b's floor: what the runtime itself costs for the same ingest requests, before any
 * counting. A bare Worker and one SQLite-backed object, served by workerd through Miniflare (the
 * same runtime as `startDirect`), answer each 1000-event body with 202 after doing the steps every
 * ingest must do, one more per path:
 *   /receive    read the body;
 *   /parse      and parse its JSON;
 *   /hand-over  and pass its events as columns to the object by RPC (as Tally's Worker does);
 *   /log        and, in the object, write the columns' JSON into a SQLite row, the rows deleted every
 *               200 batches (as Tally logs a batch before acknowledging it, and a checkpoint truncates;
 *               Tally's rows are columns too, batch-log.ts).
 * CPU per event is counted as for Tally: every workerd child of this process, from /proc.
 */
import { workerdChildrenCpuSeconds } from "./machine.mjs";
import { miniflareOf, wranglerToml } from "./direct.mjs";
import { CASES, bodiesOf, postAll } from "./ingest-cpu.mjs";

export const FLOOR_STEPS = ["receive", "parse", "hand-over", "log"];

const SCRIPT = `import { DurableObject } from "cloudflare:workers";
export class Sink extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS batch_log (seq INTEGER PRIMARY KEY, events TEXT)");
    this.batches = 0;
  }
  take(columns) { return columns.items.length; }
  log({ items, typeNames, typeOf, actors, ts }) {
    const row = { items, typeNames, typeOf: Array.from(typeOf), actors, ts: Array.from(ts) };
    this.ctx.storage.sql.exec("INSERT INTO batch_log (events) VALUES (?)", JSON.stringify(row));
    if (++this.batches % 200 === 0) this.ctx.storage.sql.exec("DELETE FROM batch_log");
    return items.length;
  }
}
function columnsOf(events) {
  const n = events.length, items = new Array(n), actors = new Array(n), typeOf = new Uint16Array(n), ts = new Float64Array(n);
  const typeNames = [], index = new Map();
  for (let i = 0; i < n; i++) {
    const e = events[i];
    items[i] = e.item; actors[i] = e.actor ?? null; ts[i] = e.ts;
    let t = index.get(e.type);
    if (t === undefined) { t = typeNames.push(e.type) - 1; index.set(e.type, t); }
    typeOf[i] = t;
  }
  return { items, typeNames, typeOf, weights: new Float64Array(n), actors, ts };
}
export default { async fetch(request, env) {
  const step = new URL(request.url).pathname.slice(1);
  const text = await request.text();
  if (step === "receive") return new Response(null, { status: 202 });
  const columns = columnsOf(JSON.parse(text).events);
  if (step === "parse") return new Response(null, { status: 202 });
  const sink = env.SINK.get(env.SINK.idFromName("floor"));
  await (step === "hand-over" ? sink.take(columns) : sink.log(columns));
  return new Response(null, { status: 202 });
} };`;

/** Every step of every case, `rounds` times (steps interleaved within a round); medians in µs per event. */
export async function ingestFloor(root, { events, rounds = 3 }, log) {
  const { create } = await miniflareOf(root);
  const mf = create({
    host: "127.0.0.1", port: 0, modules: true, script: SCRIPT, compatibilityDate: wranglerToml(root).date,
    durableObjects: { SINK: { className: "Sink", useSQLite: true } },
  });
  const base = String(await mf.ready).replace(/\/$/, "");
  const out = {};
  try {
    for (const c of CASES.filter((c) => !c.values)) {
      const bodies = bodiesOf(c, events);
      const runs = Object.fromEntries(FLOOR_STEPS.map((s) => [s, []]));
      for (let round = 0; round < rounds; round++) {
        for (const step of FLOOR_STEPS) {
          const before = workerdChildrenCpuSeconds();
          await postAll(`${base}/${step}`, {}, bodies);
          runs[step].push(((workerdChildrenCpuSeconds() - before) * 1e6) / events);
        }
      }
      out[c.key] = Object.fromEntries(FLOOR_STEPS.map((s) => {
        const sorted = runs[s].sort((a, b) => a - b);
        return [s, { median: sorted[sorted.length >> 1], min: sorted[0], max: sorted.at(-1) }];
      }));
      log(`  [5b] the runtime's floor, ${c.key} items: ` + FLOOR_STEPS.map((s) => `${s} ${out[c.key][s].median.toFixed(2)} µs`).join(", "));
    }
  } finally {
    await mf.dispose();
  }
  return out;
}
