/**
 * The SVG chart of BENCHMARKS.md: read throughput per layer at one concurrency, as a share of the
 * floor measured in the same run (a bar per layer, whiskers for the runs' min–max), and ingest
 * events/s per batch size. Hand-written SVG: no dependency, renders on GitHub.
 */
import { int, num } from "./format.mjs";

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** One horizontal bar panel. rows: [{label, value, min, max, note}] */
function panel(title, rows, { x, y, width, unit }) {
  const labelW = 190;
  const barW = width - labelW - 200; // room for the value label right of the whiskers
  const rowH = 26;
  const top = Math.max(...rows.map((r) => r.max ?? r.value), 1e-9);
  const scale = (v) => (v / top) * barW;
  let svg = `<text x="${x}" y="${y}" font-size="14" font-weight="bold">${esc(title)}</text>\n`;
  rows.forEach((r, i) => {
    const ry = y + 14 + i * rowH;
    const bx = x + labelW;
    svg += `<text x="${bx - 8}" y="${ry + 15}" font-size="12" text-anchor="end">${esc(r.label)}</text>\n`;
    svg += `<rect x="${bx}" y="${ry + 3}" width="${Math.max(1, scale(r.value)).toFixed(1)}" height="16" fill="${r.color ?? "#4f7cac"}"/>\n`;
    if (r.min !== undefined && r.max !== undefined) {
      const cy = ry + 11;
      svg += `<path d="M${(bx + scale(r.min)).toFixed(1)} ${cy}H${(bx + scale(r.max)).toFixed(1)}M${(bx + scale(r.min)).toFixed(1)} ${cy - 5}v10M${(bx + scale(r.max)).toFixed(1)} ${cy - 5}v10" stroke="#222" stroke-width="1.2"/>\n`;
    }
    svg += `<text x="${bx + scale(Math.max(r.value, r.max ?? 0)) + 6}" y="${ry + 15}" font-size="12">${esc(r.note ?? `${int(r.value)} ${unit}`)}</text>\n`;
  });
  return { svg, height: 14 + rows.length * rowH + 30 };
}

/** Bars of one read section (floor, edge hits, each layer alone), labelled with the ratio to its floor. */
function readRows(section, c) {
  const floor = section.floor[c];
  const row = (label, m, color) => ({
    label,
    value: m.rps.median,
    min: m.rps.min,
    max: m.rps.max,
    color,
    note: `${int(m.rps.median)} req/s · ${num(m.rps.median / floor.rps.median, 2)}× floor`,
  });
  const reads = [row("floor: GET /healthz", floor, "#888")];
  for (const [name, byC] of Object.entries(section.edge)) if (byC[c]) reads.push(row(`edge hit: ${name}`, byC[c], "#2e7d32"));
  const l = section.layers?.trending?.[c];
  if (l) {
    reads.push(row("KV alone: trending", l.kv, "#4f7cac"));
    reads.push(row("object snapshot: trending", l.do, "#7b5ea7"));
    reads.push(row("compute-on-read: trending", l.compute, "#c62828"));
  }
  return reads;
}

export function chart(results) {
  const width = 820;
  const c = 16 in results.floor ? 16 : Number(Object.keys(results.floor)[0]);
  let y = 24;
  const a = panel(`wrangler dev, ${c} connections: requests/s, median of runs (whiskers: min–max)`, readRows(results, c), { x: 10, y, width, unit: "req/s" });
  y += a.height;
  let direct = { svg: "", height: 0 };
  if (results.direct?.floor?.[c]) {
    direct = panel(`Without the dev proxy (workerd via Miniflare), ${c} connections`, readRows(results.direct, c), { x: 10, y, width, unit: "req/s" });
    y += direct.height;
  }
  const ingestRows = [];
  for (const [batch, byC] of Object.entries(results.ingest ?? {})) {
    for (const [conns, m] of Object.entries(byC)) {
      ingestRows.push({
        label: `batch ${batch}, ${conns} conn.`,
        value: m.eventsPerSec.median,
        min: m.eventsPerSec.min,
        max: m.eventsPerSec.max,
        color: "#ef6c00",
        note: `${int(m.eventsPerSec.median)} events/s`,
      });
    }
  }
  const b = panel("Ingest through HTTP (wrangler dev): events/s (target: 50,000 at batch 1000)", ingestRows, { x: 10, y, width, unit: "events/s" });
  const height = y + b.height;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${a.svg}${direct.svg}${b.svg}</svg>
`;
}
