/** Number formatting shared by the report and the chart. */
export const int = (n) => (n === null || n === undefined || !Number.isFinite(n) ? "–" : Math.round(n).toLocaleString("en-US"));
export const num = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
export const pct = (x, digits = 0) => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : "–");
/** "median (min–max)" of a {median, min, max}. */
export const spread = (s, f = int) => (s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : "–");
export const ratioText = (r) => (r ? `${num(r.median, 2)} (${num(r.min, 2)}–${num(r.max, 2)})` : "–");
export const verdict = (ok) => (ok ? "**met**" : "**missed**");
/** A Markdown table. */
export const table = (head, rows) =>
  [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
