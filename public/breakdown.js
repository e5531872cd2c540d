// The breakdown panel (docs/api.md, "Segments"): a declared dimension's top values in the window
// shown, each with its weight and events and their bounds, and the segment filter a value sets on
// the ranking. Drawn from the page's state like the rest of the board: app.js reads the answers
// and handles the clicks. Values are user data: they reach the page as text only (el, dataset).
import { $, button, el, number, whenChanged } from "./dom.js";

/** `segment=` of a read: the dimension's name holds no ":", so the first one ends it. */
export const segmentParam = (segment) => `${segment.dimension}:${segment.value}`;

/** The segment of an address's `segment=dim:value`, or null. */
export function parseSegment(raw) {
  const colon = raw ? raw.indexOf(":") : -1;
  return colon > 0 && colon < raw.length - 1 ? { dimension: raw.slice(0, colon), value: raw.slice(colon + 1) } : null;
}

export const sameSegment = (a, b) => Boolean(a && b && a.dimension === b.dimension && a.value === b.value);

/** How a segment reads for people. */
export const segmentLabel = (segment) => `${segment.dimension} = ${segment.value}`;

/** The values the dashboard holds per dimension: its top 10. */
export const DASHBOARD_VALUES = 10;

/** The panel and the filter of `board` and `view` (app.js); hidden while no dimension is declared. */
export function renderBreakdown(board, view) {
  $("breakdown").hidden = board.dimensions.length === 0;
  renderFilter(view.segment);
  if (board.dimensions.length === 0) return;
  renderSelector(board.dimensions, view.dimension);
  const shown = board.more?.dimension === view.dimension && board.more.window === view.window ? board.more : null;
  renderValues(board.breakdowns?.[view.dimension] ?? null, shown, view.segment);
}

const renderFilter = whenChanged((segment) => {
  $("segment-filter").hidden = !segment;
  const what = $("segment-filter-value");
  what.textContent = segment ? segmentLabel(segment) : "";
});

const renderSelector = whenChanged((names, chosen) => {
  const select = $("dimension");
  if (select.dataset.names !== names.join(",")) {
    select.dataset.names = names.join(",");
    select.replaceChildren(...names.map((name) => Object.assign(el("option", "", name), { value: name })));
  }
  select.value = chosen;
});

/** A bounded count: "12" when exact; "12 ± 3" when the truth lies in [9, 12], said in words too. */
function boundedCell(n, error, what) {
  const cell = el("td", error > 0 ? "inexact" : "", number(n));
  if (error > 0) {
    const bound = el("span", "error", ` ± ${number(error)}`);
    bound.title = `true ${what} between ${number(n - error)} and ${number(n)}`;
    cell.append(bound);
  }
  return cell;
}

/** The values of a breakdown (the dashboard's top 10, or `more`: the pages read past it). */
const renderValues = whenChanged((breakdown, more, segment) => {
  const answer = more ?? breakdown;
  const values = answer?.values ?? [];
  $("breakdown-values").tBodies[0].replaceChildren(
    ...values.map((v) => {
      const row = el("tr");
      const chosen = sameSegment(segment, { dimension: answer.dimension, value: v.value });
      const name = button(v.value, { className: "value", data: { value: v.value }, ariaLabel: `${chosen ? "Clear" : "Show"} the ranking of ${answer.dimension} = ${v.value}` });
      name.setAttribute("aria-pressed", String(chosen));
      name.title = v.value;
      const head = el("th");
      head.scope = "row";
      head.append(name);
      row.append(head, boundedCell(v.weight, v.error, "weight"), boundedCell(v.events, v.eventsError, "events"));
      return row;
    }),
  );
  $("breakdown-values").hidden = values.length === 0;
  const note = $("breakdown-note");
  note.replaceChildren();
  if (!answer) note.textContent = "No breakdown of this dimension in this window yet.";
  else if (values.length === 0) note.textContent = answer.floor > 0 ? `No value listed; none has more weight than ${number(answer.floor)}.` : "No event in this window has a value of this dimension.";
  else {
    if (answer.exact) note.append("Exact counts.");
    else note.append(el("strong", "inexact-mark", "Bounded counts: "), "a count with ± e may overcount; the truth lies between count − e and count.");
    if (answer.floor > 0) note.append(` Values not listed have at most ${number(answer.floor)} weight each.`);
  }
  note.append(" Choose a value to rank its items.");
  const moreButton = $("breakdown-more");
  moreButton.hidden = more ? more.cursor === null : values.length < DASHBOARD_VALUES;
  moreButton.disabled = Boolean(more?.busy);
});
