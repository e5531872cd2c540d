import { readFileSync, writeFileSync } from "node:fs";
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

/** Replaces what lies between `<!-- name:begin -->` and `<!-- name:end -->` in `file` with
 * `body` (the markers appended at the end first if missing): sections a partial run regenerates. */
export function writeBetweenMarkers(file, name, body) {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  let text = readFileSync(file, "utf8");
  if (!text.includes(begin) || !text.includes(end)) text += `\n${begin}\n${end}\n`;
  text = text.slice(0, text.indexOf(begin)) + `${begin}\n${body}\n${end}` + text.slice(text.indexOf(end) + end.length);
  writeFileSync(file, text);
}
