// Draws one namespace's board from the page's state: the window tabs, rank buttons and type filter,
// the ranking, the stats with their chart, and how fresh they are. Nothing here fetches or listens:
// app.js decides what to read and when, and handles the clicks (by delegation on the containers).
import { renderBreakdown, segmentLabel } from "./breakdown.js";
import { seriesChart } from "./chart.js";
import { $, button, change, clock, dateTime, el, headedRow, number, time, whenChanged, zoned } from "./dom.js";

/** The ranks the page offers; a segment's ranking takes all but reach (segments keep no actors). */
export const RANKS = [
  { id: "top", label: "Top" },
  { id: "rising", label: "Rising" },
  { id: "hot", label: "Hot" },
  { id: "reach", label: "Reach" },
];

/** What the page compares with (docs/api.md, Comparisons); "week" is for window=24h only. */
export const COMPARES = [
  { id: "", label: "No comparison" },
  { id: "previous", label: "vs previous period" },
  { id: "week", label: "vs same time last week" },
];
export const comparable = (window, compare) => compare !== "week" || window === "24h";

/** The calendar windows (local periods in the namespace's `timezone`), by their labels. */
export const CALENDAR = { today: "Today", yesterday: "Yesterday", thisWeek: "This week", thisMonth: "This month" };
const label = (window) => CALENDAR[window] ?? window;

/** Bucket starts of windows within the hour read as clock times; longer windows need the date.
 * Calendar windows read in the namespace's zone: local hours, or local days. */
function bucketTime(window, zone) {
  if (!(window in CALENDAR)) return window === "5m" || window === "1h" ? clock : dateTime;
  if (window === "today" || window === "yesterday") return zoned({ hour: "2-digit", minute: "2-digit" }, zone);
  return zoned({ weekday: window === "thisWeek" ? "short" : undefined, month: "short", day: "numeric" }, zone);
}

/** `[from, to)` of an answer for people; a calendar window's in the namespace's zone, when known. */
function range({ window }, zone, from, to) {
  const at = window in CALENDAR ? zoned({ month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }, zone ?? undefined) : dateTime;
  return `${at(from)} to ${at(to)}`;
}

/** The bucket length of each window (ARCHITECTURE.md, tiers), to say what one bar of the chart is. */
const BUCKET_OF = { "5m": "minute", "1h": "minute", "24h": "hour", "7d": "6 hours", "30d": "day", today: "hour", yesterday: "hour", thisWeek: "day", thisMonth: "day" };

/** The board of `state` (app.js): shown once a namespace answered, and hidden after a refusal. */
export function renderBoard(state) {
  const { board, view, admin } = state;
  $("board").hidden = !board.shown;
  $("board").setAttribute("aria-busy", String(board.busy));
  if (!board.trending) return;
  renderControls(view, board.windows, board.declaredTypes);
  renderBreakdown(board, view);
  // The rank and type the shown answer was read for: the title changes with the answer, not the click.
  const rankLabel = RANKS.find((r) => r.id === board.read.rank)?.label ?? board.read.rank;
  // Each ranked row has a Hide button while the admin token is accepted (admin.js).
  const hiding = admin.pending?.startsWith("hide:") ? admin.pending : null;
  renderRanking(board.trending, rankLabel, board.read.type, admin.hiding, hiding, board.zone, board.trending.segment ?? null);
  renderStats(board.stats, board.zone);
  renderFreshness(board.trending.computedAt, board.staleInARow > 1 || board.unreachable, board.unreachable, board.period);
}

/**
 * The window tabs, rank buttons and type filter. Elements are rebuilt only when the namespace's
 * windows or types change, and otherwise updated in place, so the focus of a keyboard user stays
 * where it was through every refresh.
 */
function renderControls(view, windows, declaredTypes) {
  const tabList = $("windows");
  if (tabList.dataset.windows !== windows.join(",")) {
    tabList.dataset.windows = windows.join(",");
    tabList.replaceChildren(
      ...windows.map((w) => {
        const tab = button(label(w), { data: { window: w } });
        tab.role = "tab";
        tab.id = `tab-${w}`;
        tab.setAttribute("aria-controls", "panel");
        return tab;
      }),
    );
  }
  for (const tab of tabList.children) {
    const selected = tab.dataset.window === view.window;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  $("panel").setAttribute("aria-labelledby", `tab-${view.window}`);

  const ranks = $("ranks");
  if (ranks.children.length === 0) ranks.replaceChildren(...RANKS.map((r) => button(r.label, { data: { rank: r.id } })));
  for (const b of ranks.children) {
    b.setAttribute("aria-pressed", String(b.dataset.rank === view.rank));
    // A segment's ranking counts weights, not actors: no reach, and every type at once.
    const refused = Boolean(view.segment) && b.dataset.rank === "reach";
    b.disabled = refused;
    b.title = refused ? "A segment's ranking has no reach: segments keep no actors." : "";
  }

  const select = $("type");
  if (select.dataset.types !== declaredTypes.join(",")) {
    select.dataset.types = declaredTypes.join(",");
    select.replaceChildren(
      ...[["", "All types"], ...declaredTypes.map((t) => [t, t])].map(([value, label]) => {
        const option = el("option", "", label);
        option.value = value;
        return option;
      }),
    );
  }
  select.value = view.type;
  select.disabled = Boolean(view.segment);
  select.title = view.segment ? "A segment's ranking counts every type." : "";

  // Offered for the window shown: compare=week only where the service answers it.
  const compare = $("compare");
  const offered = COMPARES.filter((c) => comparable(view.window, c.id));
  if (compare.dataset.offered !== String(offered.length)) {
    compare.dataset.offered = String(offered.length);
    compare.replaceChildren(...offered.map((c) => Object.assign(el("option", "", c.label), { value: c.id })));
  }
  compare.value = view.compare;
}

/** The previous value beside the current one, and the change: "before 4 · +50%". */
function before(previous, now, error = 0) {
  const line = el("span", "before", `before ${number(previous)}${error > 0 ? ` ± ${number(error)}` : ""} · `);
  line.append(el("span", "change", change(previous, now)));
  return line;
}

/** The ranked list of a trending answer. Inexact answers say so, and each bounded score shows ±. */
const renderRanking = whenChanged((trending, rankLabel, typeLabel, hiding, pending, zone, segment) => {
  $("ranking-title").textContent = `${rankLabel} items${typeLabel ? ` · ${typeLabel}` : ""}${segment ? ` · ${segmentLabel(segment)}` : ""}`;
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
      // The true score lies in [score - error, score]: say it in words for screen readers.
      const bound = el("span", "error", ` ± ${number(entry.error)}`);
      bound.title = `true score between ${number(entry.score - entry.error)} and ${number(entry.score)}`;
      score.append(bound);
    }
    const bar = el("span", "meter");
    bar.style.width = `${top > 0 ? Math.max(1, (Math.max(0, entry.score) / top) * 100) : 0}%`;
    row.append(position, name, score, bar);
    if (entry.current !== undefined) {
      const growth = el("span", "growth", `${number(entry.previous)} → ${number(entry.current)}`);
      if (trending.compare) growth.append(` · ${change(entry.previous, entry.current)}`);
      row.append(growth);
    } else if (trending.compare) row.append(before(entry.previousScore, entry.score, entry.previousError));
    if (hiding) {
      row.append(button("Hide", { className: "hide", ariaLabel: `Hide ${entry.item}`, disabled: pending === `hide:${entry.item}`, data: { hide: entry.item } }));
    }
    return row;
  });
  $("ranking").replaceChildren(...rows);
  const note = $("ranking-note");
  note.replaceChildren();
  if (trending.items.length === 0) {
    // A segment's empty list with floor 0 proves it had no item; with a floor, only that none scored above it.
    note.textContent = !segment ? "No items in this window yet." : trending.floor > 0 ? `No item of this segment scores above ${number(trending.floor)} in this window.` : "No items in this segment in this window.";
  } else if (trending.exact) note.textContent = "Exact scores.";
  else note.append(el("strong", "inexact-mark", "Bounded scores: "), "some scores may overcount; the true score of an item with ± e lies between score − e and score.");
  if (segment && trending.items.length > 0 && trending.floor > 0) note.append(` Items not listed score at most ${number(trending.floor)}.`);
  if (trending.compare) {
    const bounded = trending.items.some((i) => i.previousError > 0);
    note.append(` Compared with ${range(trending, zone, trending.previousFrom, trending.previousTo)}: previous scores ${bounded ? "bounded where ± shows" : "exact"}.`);
  }
});

/** Totals, the chart of the series, and the per-type table of a stats answer. */
const renderStats = whenChanged((stats, zone) => {
  const totals = [
    ["Events", "events", "events"],
    ["Weight", "weight", "weight"],
    ["Unique items", "uniqueItems", "unique-items"],
    ["Unique actors", "uniqueActors", "unique-actors"],
  ];
  $("totals").replaceChildren(
    ...totals.map(([name, field, key]) => {
      const box = el("div", "total");
      const dd = el("dd", "", number(stats[field]));
      dd.dataset.total = key;
      box.append(el("dt", "", name), dd);
      if (stats.previous) {
        const was = el("dd", "previous");
        was.dataset.previous = key;
        was.append(before(stats.previous[field], stats[field]));
        box.append(was);
      }
      return box;
    }),
  );
  const covers = $("stats-range");
  // A calendar window states its zone (every answer of one names it; the dashboard too).
  const local = stats.timezone ?? zone;
  const where = !(stats.window in CALENDAR) ? " window" : local ? ` (${local})` : `, in the namespace's time zone (times here in yours, ${Intl.DateTimeFormat().resolvedOptions().timeZone})`;
  covers.textContent = `${label(stats.window)}${where}: ${range(stats, zone, stats.from, stats.to)}`;
  covers.title = `[${stats.from}, ${stats.to})`;
  const compared = $("stats-compare");
  compared.hidden = !stats.previous;
  if (stats.previous) {
    const inexact = stats.exact === false ? (stats.compare === "week" ? " (widened to whole 6-hour buckets)" : " (not exact)") : "";
    compared.textContent = `Compared with ${range(stats, zone, stats.previousFrom, stats.previousTo)}${inexact}`;
    compared.title = `[${stats.previousFrom}, ${stats.previousTo})`;
  }
  $("chart").replaceChildren(seriesChart(stats.series, { time: bucketTime(stats.window, zone ?? undefined), bucketLabel: BUCKET_OF[stats.window] ?? "bucket" }));
  const types = Object.entries(stats.byType).sort((a, b) => b[1].events - a[1].events || (a[0] < b[0] ? -1 : 1));
  $("by-type").tBodies[0].replaceChildren(
    ...types.map(([type, t]) => {
      const row = headedRow(type, [number(t.events), number(t.weight)]);
      row.dataset.type = type;
      return row;
    }),
  );
  $("by-type").hidden = types.length === 0;
});

/**
 * When the shown answers were computed, and whether they are stale: X-Stale from the service, or
 * the service out of reach (then the last answers stay, marked stale).
 */
const renderFreshness = whenChanged((computedAt, stale, unreachable, period) => {
  const line = $("freshness");
  line.replaceChildren();
  const at = el("span", "", `Computed at ${time(computedAt)}`);
  at.title = computedAt;
  line.append(at);
  if (stale) {
    const badge = el("span", "badge stale", "stale");
    badge.title = unreachable ? "The service could not be reached; these are the last answers it gave." : "Older than the refresh period; the service is recomputing it.";
    line.append(" ", badge);
  }
  if (unreachable) line.append(" ", el("span", "warn", "Service unreachable; retrying."));
  line.append(" ", el("span", "hint", `· updates every ${period} s`));
  $("board").classList.toggle("is-stale", stale);
});
