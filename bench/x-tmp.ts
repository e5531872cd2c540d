import { Aggregator } from "../src/core/aggregator";
const MINUTE = 60_000; const T0 = Date.UTC(2026, 10, 21, 12, 30, 15);
function catalogue(n: number, minutes: number, now: number) { const out: any[] = []; for (let m = minutes; m >= 1; m--) for (let i = 0; i < n; i++) out.push({ item: `item-${i}`, type: "view", weight: 1 + (i % 3), ts: now - m * MINUTE + 1000 }); return out; }
for (const budget of [0, 3, 2, 1.5]) {
  const agg = new Aggregator({ capacity: 5000, types: [], budgetBytes: budget ? budget * 2 ** 20 : undefined });
  const ev = catalogue(4000, 90, T0);
  const by = new Map<number, any[]>(); for (const e of ev) { const m = Math.floor(e.ts / MINUTE) * MINUTE; (by.get(m) ?? by.set(m, []).get(m)!).push(e); }
  for (const [m, b] of [...by].sort((a, b) => a[0] - b[0])) { agg.ingest(b, Math.min(T0, m + MINUTE - 1)); agg.advance(Math.min(T0, m + MINUTE - 1)); }
  agg.advance(T0);
  console.log(budget, (agg.memoryBytes() / 2 ** 20).toFixed(2), ["5m", "1h", "24h", "7d", "30d"].map((w) => agg.top(w as any, null, T0, 100).exact));
}
