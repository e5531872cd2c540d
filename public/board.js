// Renders one namespace's answers: the ranking, the stats with their chart, and how fresh they are.
// Pure DOM building from answers already fetched; app.js decides what to fetch and when.
import { seriesChart } from "./chart.js";

const $ = (id) => document.getElementById(id);
const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
export const number = (n) => numberFormat.format(n);
export const time = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const clock = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTime = (iso) => new Date(iso).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
/** Bucket starts of windows within the hour read as clock times; longer windows need the date. */
const bucketTime = (window) => (window === "5m" || window === "1h" ? clock : dateTime);

/** The bucket length of each window (ARCHITECTURE.md, tiers), to say what one bar of the chart is. */
const BUCKET_OF = { "5m": "minute", "1h": "minute", "24h": "hour", "7d": "6 hours", "30d": "day" };

function el(name, className, text) {
  const node = document.createElement(name);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Hook for per-item actions (API.md v1.1 suppressions: PUT/DELETE .../suppressions/{item}). The
 * endpoint exists: admin.js sets a "Hide" button for admins through setItemActions.
 */
export function itemActions(item) {
  return actionsFor(item);
}

/** What itemActions gives each row: nothing, until the admin panel offers actions (hiding). */
let actionsFor = () => [];

/** Sets the actions each ranked row offers (admin.js, once an admin token is accepted). */
export function setItemActions(provider) {
  actionsFor = provider;
}

/** The ranked list of a trending answer. Inexact answers say so, and each bounded score shows ±. */
export function renderRanking(trending, { rankLabel, typeLabel }) {
  $("ranking-title").textContent = `${rankLabel} items${typeLabel ? ` · ${typeLabel}` : ""}`;
  const list = $("ranking");
  const top = Math.max(0, ...trending.items.map((i) => i.score));
  const rows = trending.items.map((entry, i) => {
    const row = el("li", entry.error > 0 ? "inexact" : "");
    row.dataset.item = entry.item;
    const position = el("span", "pos", String(i + 1));
    position.setAttribute("aria-hidden", "true");
    const name = el("span", "item", entry.item);
    name.title = entry.item;
    const score = el("span", "score", number(entry.score));
    if (entry.error > 0) {
      // The true score lies in [score - error, score] (API.md): say it in words for screen readers.
      const bound = el("span", "error", ` ± ${number(entry.error)}`);
      bound.title = `true score between ${number(entry.score - entry.error)} and ${number(entry.score)}`;
      score.append(bound);
    }
    const bar = el("span", "meter");
    bar.style.width = `${top > 0 ? Math.max(1, (Math.max(0, entry.score) / top) * 100) : 0}%`;
    row.append(position, name, score, bar);
    if (entry.current !== undefined) row.append(el("span", "growth", `${number(entry.previous)} → ${number(entry.current)}`));
    row.append(...itemActions(entry.item));
    return row;
  });
  list.replaceChildren(...rows);
  const note = $("ranking-note");
  note.replaceChildren();
  if (trending.items.length === 0) note.textContent = "No items in this window yet.";
  else if (trending.exact) note.textContent = "Exact scores.";
  else {
    const mark = el("strong", "inexact-mark", "Bounded scores: ");
    note.append(mark, "some scores may overcount; the true score of an item with ± e lies between score − e and score.");
  }
}

/** Totals, the chart of the series, and the per-type table of a stats answer. */
export function renderStats(stats) {
  const totals = [
    ["Events", stats.events, "events"],
    ["Weight", stats.weight, "weight"],
    ["Unique items", stats.uniqueItems, "unique-items"],
    ["Unique actors", stats.uniqueActors, "unique-actors"],
  ];
  $("totals").replaceChildren(
    ...totals.map(([label, value, key]) => {
      const box = el("div", "total");
      const dd = el("dd", "", number(value));
      dd.dataset.total = key;
      box.append(el("dt", "", label), dd);
      return box;
    }),
  );
  const covers = $("stats-range");
  covers.textContent = `${stats.window} window: ${dateTime(stats.from)} to ${dateTime(stats.to)}`;
  covers.title = `[${stats.from}, ${stats.to})`;
  $("chart").replaceChildren(seriesChart(stats.series, { time: bucketTime(stats.window), number, bucketLabel: BUCKET_OF[stats.window] ?? "bucket" }));
  const types = Object.entries(stats.byType).sort((a, b) => b[1].events - a[1].events || (a[0] < b[0] ? -1 : 1));
  const body = $("by-type").tBodies[0];
  body.replaceChildren(
    ...types.map(([type, t]) => {
      const row = el("tr");
      row.dataset.type = type;
      const name = el("th", "", type);
      name.scope = "row";
      row.append(name, el("td", "", number(t.events)), el("td", "", number(t.weight)));
      return row;
    }),
  );
  $("by-type").hidden = types.length === 0;
}

/**
 * When the shown answers were computed, and whether they are stale: X-Stale from the service, or
 * the service out of reach (then the last answers stay, marked stale).
 */
export function renderFreshness({ computedAt, stale, unreachable, period }) {
  const line = $("freshness");
  line.replaceChildren();
  const at = el("span", "", `Computed at ${time(computedAt)}`);
  at.title = computedAt;
  line.append(at);
  if (stale || unreachable) {
    const badge = el("span", "badge stale", "stale");
    badge.title = unreachable ? "The service could not be reached; these are the last answers it gave." : "Older than the refresh period; the service is recomputing it.";
    line.append(" ", badge);
  }
  if (unreachable) line.append(" ", el("span", "warn", "Service unreachable; retrying."));
  line.append(" ", el("span", "hint", `· updates every ${period} s`));
  document.getElementById("board").classList.toggle("is-stale", Boolean(stale || unreachable));
}
