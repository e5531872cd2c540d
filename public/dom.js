// The page's one set of DOM helpers, and how it writes numbers and times. Every other file builds
// its elements with these.

export const $ = (id) => document.getElementById(id);

/** An element with an optional class and text. */
export function el(name, className, text) {
  const node = document.createElement(name);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element with its attributes. */
export function svg(name, attributes = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** A plain button (never a form's submit); clicks are handled where the page listens, by delegation. */
export function button(label, { className, ariaLabel, disabled = false, data = {} } = {}) {
  const node = el("button", className, label);
  node.type = "button";
  if (ariaLabel) node.setAttribute("aria-label", ariaLabel);
  node.disabled = disabled;
  Object.assign(node.dataset, data);
  return node;
}

/** A table's header row of column headings. */
export function headings(labels) {
  const row = el("tr");
  for (const label of labels) {
    const th = el("th", "", label);
    th.scope = "col";
    row.append(th);
  }
  const head = el("thead");
  head.append(row);
  return head;
}

/** A row whose first cell heads it: [heading, ...cells]. */
export function headedRow(heading, cells) {
  const row = el("tr");
  const th = el("th", "", heading);
  th.scope = "row";
  row.append(th, ...cells.map((text) => el("td", "", text)));
  return row;
}

/**
 * `draw` wrapped so that it runs only when one of its arguments differs (===) from the last call's.
 * The page renders everything from its state on every change; this keeps the parts whose answers
 * did not change (a 304 keeps the same body) as they are, with their focus and hover.
 */
export function whenChanged(draw) {
  let last = null;
  return (...args) => {
    if (last !== null && args.length === last.length && args.every((arg, i) => arg === last[i])) return;
    last = args;
    draw(...args);
  };
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
export const number = (n) => numberFormat.format(n);
export const time = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
export const clock = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
export const dateTime = (iso) => new Date(iso).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
/** A formatter of ISO times with `options` in the IANA zone `timeZone` (undefined: the reader's). */
export function zoned(options, timeZone) {
  const format = new Intl.DateTimeFormat(undefined, { ...options, timeZone });
  return (iso) => format.format(new Date(iso));
}

const percentFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
/** The change from `before` to `now`: "+50%", "−25%", "unchanged", or "new" when nothing was before. */
export function change(before, now) {
  if (before === 0) return now === 0 ? "unchanged" : "new";
  const p = ((now - before) / before) * 100;
  return p === 0 ? "unchanged" : `${p > 0 ? "+" : "−"}${percentFormat.format(Math.abs(p))}%`;
}
