// The dashboard page (`GET /`): `/?ns=videos` shows a namespace, `/` offers the namespace list. It
// reads the public API like any client, then follows its two answers live (live.js): every change
// arrives as it happens, with no polling while both sockets are open. Where a socket cannot open
// (a proxy, an old browser) it asks again every refresh period with If-None-Match, so an unchanged
// answer costs a 304.
//
// The page has one state object, `state`, and one function that draws it, `render`: every read,
// click and timer changes `state` and calls `render`, which draws the whole page from it (the
// parts whose inputs did not change are left as they are: see whenChanged in dom.js).
import { ApiError, nsPath, read, takeSharedKey, token } from "./api.js";
import { CALENDAR, COMPARES, comparable, RANKS, renderBoard } from "./board.js";
import { DASHBOARD_VALUES, parseSegment, sameSegment, segmentParam } from "./breakdown.js";
import { adminActions, initialAdmin, initialList, listActions, renderAdmin, renderList } from "./admin.js";
import { $, button, whenChanged } from "./dom.js";
import { followLive } from "./live.js";

/** Supported windows in order, sliding then calendar; the tabs show the namespace's own. */
const WINDOWS = ["5m", "1h", "24h", "7d", "30d", ...Object.keys(CALENDAR)];
/** Until an answer says otherwise (Cache-Control max-age), the service's default refreshSeconds. */
const DEFAULT_PERIOD = 10;
const NAMESPACE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const params = new URLSearchParams(location.search);
/** (v1.7) The segment the ranking is filtered to, from the address: `segment=dim:value`. */
const linkedSegment = parseSegment(params.get("segment"));
takeSharedKey(); // before the state reads the token: a share link's key is this tab's from now on

const state = {
  /** The namespace of the address, or null on the start page. */
  ns: params.get("ns"),
  /** The token typed in for this tab ("" for none); kept in sessionStorage by api.js. */
  token: token.get(),
  tokenForm: { open: false, message: "" },
  /** The line above the board: null, or {message, kind, action: {label, run}}. */
  notice: null,
  /** What the person chose; kept in the address. */
  view: {
    window: params.get("window") ?? "",
    // A segment's ranking takes no reach and no type (docs/api.md, "Segments").
    rank: RANKS.some((r) => r.id === params.get("rank")) && !(linkedSegment && params.get("rank") === "reach") ? params.get("rank") : "top",
    type: linkedSegment ? "" : (params.get("type") ?? ""),
    /** "", "previous" or "week": what stats and the ranking are compared with. */
    compare: COMPARES.some((c) => c.id === params.get("compare")) ? params.get("compare") : "",
    /** (v1.7) null, or {dimension, value}: the ranking counts only the events with that value. */
    segment: linkedSegment,
    /** (v1.7) The dimension whose values the breakdown panel lists ("" until the namespace says). */
    dimension: params.get("dim") ?? linkedSegment?.dimension ?? "",
  },
  board: {
    shown: false,
    busy: false,
    windows: [],
    declaredTypes: [],
    /** The namespace's time zone, from its dashboard (null: a service before it stated one). */
    zone: null,
    /** The answers shown (bodies as the service sent them), and the rank and type they were read for. */
    trending: null,
    stats: null,
    read: { rank: "top", type: "" },
    /** (v1.7) The declared dimensions (the dashboard's breakdowns name them), the shown window's
     * breakdowns by dimension (its top 10 values), and `more`: the values read past them, or null. */
    dimensions: [],
    breakdowns: null,
    more: null,
    /** The namespace's refresh period (refreshSeconds), learned from a fresh answer: its max-age
     * is the period minus the answer's age. */
    period: DEFAULT_PERIOD,
    /** How many answers in a row were stale. The first read after an answer's period always gets
     * the stale copy while the service revalidates it behind, so the page asks again at once and
     * marks the answer stale only if it stays so. */
    staleInARow: 0,
    unreachable: false,
    /** True while both live sockets are open: the page then does not poll. */
    live: false,
  },
  admin: initialAdmin(),
  list: initialList(),
};

/** Draws the whole page from `state`. */
function render() {
  const { ns } = state;
  document.title = ns ? `${ns} · Tally` : "Tally";
  $("title").textContent = ns ?? "Namespaces";
  $("token-toggle").textContent = state.token ? "Token ✓" : "Token";
  renderTokenForm(state.tokenForm);
  renderNotice(state.notice);
  $("picker").hidden = ns !== null;
  if (ns === null) renderList(state.list, state.token);
  else {
    renderBoard(state);
    renderAdmin(state.admin, state.token);
  }
}

function renderTokenForm({ open, message }) {
  const form = $("token-form");
  const opening = open && form.hidden;
  form.hidden = !open;
  $("token-toggle").setAttribute("aria-expanded", String(open));
  $("token-state").textContent = message;
  if (opening) $("token-input").focus();
}

const renderNotice = whenChanged((notice) => {
  const box = $("notice");
  box.className = notice ? `notice ${notice.kind}` : "";
  box.replaceChildren();
  if (!notice) return;
  box.append(notice.message);
  if (notice.action) box.append(" ", button(notice.action.label, { data: { action: "notice" } }));
});

function notice(message, kind = "info", action) {
  state.notice = message ? { message, kind, action } : null;
}

const admin = adminActions(state, render, () => refreshBoard());
const list = listActions(state, render);

// ---- the token ----------------------------------------------------------------------------------

const describeToken = () => (state.token ? "A token is in use for this tab." : "No token: reads are anonymous.");

function useToken(value) {
  token.set(value);
  state.token = token.get();
  state.admin = initialAdmin(); // what was read with another token is not this one's
  state.tokenForm = { open: false, message: describeToken() };
  start();
}

$("token-toggle").addEventListener("click", () => {
  state.tokenForm = { open: $("token-form").hidden, message: describeToken() };
  render();
});
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("token-input").value.trim();
  $("token-input").value = "";
  useToken(value);
});
$("token-forget").addEventListener("click", () => useToken(""));

// ---- the namespace board ------------------------------------------------------------------------

function trendingPath() {
  const { view } = state;
  const query = new URLSearchParams({ window: view.window, rank: view.rank, limit: "10" });
  if (view.type) query.set("type", view.type);
  if (view.compare) query.set("compare", view.compare);
  if (view.segment) query.set("segment", segmentParam(view.segment));
  return `${nsPath(state.ns, "trending")}?${query}`;
}

/** The stats of the shown window compared (the dashboard answer compares nothing). */
const statsQuery = () => new URLSearchParams({ window: state.view.window, compare: state.view.compare });

function keepInUrl() {
  // The view (never the token) is kept in the address, so a link or a reload shows the same thing.
  const { view } = state;
  const query = new URLSearchParams({ ns: state.ns, window: view.window });
  if (view.rank !== "top") query.set("rank", view.rank);
  if (view.type) query.set("type", view.type);
  if (view.compare) query.set("compare", view.compare);
  if (view.segment) query.set("segment", segmentParam(view.segment));
  if (view.dimension) query.set("dim", view.dimension);
  history.replaceState(null, "", `/?${query}`);
}

function choose(change) {
  Object.assign(state.view, change);
  // A segment's ranking counts every type, and ranks top, rising or hot.
  if (state.view.segment) Object.assign(state.view, { type: "", rank: state.view.rank === "reach" ? "top" : state.view.rank });
  // compare=week is answered for window=24h only: another window compares with its previous period.
  if (!comparable(state.view.window, state.view.compare)) state.view.compare = "previous";
  keepInUrl();
  render();
  return refreshBoard();
}

// Clicks and keys of the board, by delegation: the elements are drawn by render.
$("windows").addEventListener("click", (event) => {
  const tab = event.target.closest("[data-window]");
  if (tab) choose({ window: tab.dataset.window });
});
// Tabs follow the WAI-ARIA pattern: arrow keys move between windows, Home and End jump.
$("windows").addEventListener("keydown", (event) => {
  const { windows } = state.board;
  const at = windows.indexOf(state.view.window);
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: windows.length - 1 }[event.key];
  if (to === undefined || windows.length === 0) return;
  event.preventDefault();
  choose({ window: windows[(to + windows.length) % windows.length] });
  $(`tab-${state.view.window}`)?.focus();
});
$("ranks").addEventListener("click", (event) => {
  const rank = event.target.closest("[data-rank]");
  if (rank) choose({ rank: rank.dataset.rank });
});
$("type").addEventListener("change", (event) => choose({ type: event.target.value }));
$("compare").addEventListener("change", (event) => choose({ compare: event.target.value }));
// (v1.7) The breakdown panel: the dimension shown, a value's ranking (again: all of it), more values.
$("dimension").addEventListener("change", (event) => {
  state.view.dimension = event.target.value;
  state.board.more = null;
  keepInUrl();
  render();
});
$("breakdown-values").addEventListener("click", (event) => {
  const chosen = event.target.closest("[data-value]");
  if (!chosen) return;
  const segment = { dimension: state.view.dimension, value: chosen.dataset.value };
  choose({ segment: sameSegment(segment, state.view.segment) ? null : segment });
});
$("segment-clear").addEventListener("click", () => choose({ segment: null }));
$("breakdown-more").addEventListener("click", () => readMoreValues());
$("notice").addEventListener("click", (event) => {
  if (event.target.closest("[data-action=notice]")) state.notice?.action?.run();
});

// The admin panel's buttons.
$("ranking").addEventListener("click", (event) => {
  const hide = event.target.closest("[data-hide]");
  if (hide) admin.hide(hide.dataset.hide);
});
$("suppressions-list").addEventListener("click", (event) => {
  const show = event.target.closest("[data-show]");
  if (show) admin.show(show.dataset.show);
});
$("refresh-now").addEventListener("click", () => admin.refresh());
// Invalidating drops every cached answer: it asks first, in a modal dialog (keyboard-usable, and
// Cancel has the focus, so Enter does not invalidate by accident).
const dialog = $("confirm-invalidate");
$("invalidate").addEventListener("click", () => dialog.showModal());
dialog.addEventListener("close", () => {
  if (dialog.returnValue === "confirm") admin.invalidate();
});

let timer;
/** Asks again when the shown answer's max-age runs out (then the service has a newer one), soon
 * after a stale answer (it was being revalidated), and at the period while unreachable. */
function schedule(seconds = state.board.period) {
  clearTimeout(timer);
  timer = setTimeout(refreshBoard, Math.max(1, seconds) * 1000);
}

/** The refresh period an answer tells, or null. The service sends max-age =
 * floor(refreshSeconds - age), so refreshSeconds = ceil(max-age + age). */
function periodOf(meta) {
  if (meta.stale || meta.maxAge === null || meta.age === null) return null;
  return Math.min(3600, Math.max(1, Math.ceil(meta.maxAge + meta.age - 0.001)));
}

/** The live sockets of the shown view, and the view they follow. */
let following = { key: "", stop: () => {}, open: new Set() };

/** Follows the dashboard and the selected ranking live; a view already followed is left as is. */
function followBoard() {
  const { view } = state;
  const key = `${state.ns}|${view.window}|${view.rank}|${view.type}|${view.compare}|${view.segment ? segmentParam(view.segment) : ""}|${state.token}`;
  if (following.key === key) return;
  following.stop();
  const open = new Set();
  const trending = new URLSearchParams({ answer: "trending", window: view.window, rank: view.rank, limit: "10" });
  if (view.type) trending.set("type", view.type);
  if (view.compare) trending.set("compare", view.compare);
  if (view.segment) trending.set("segment", segmentParam(view.segment));
  const onState = (name) => (socketState) => {
    if (socketState === "live") open.add(name);
    else open.delete(name);
    const live = open.size === 2;
    if (live === state.board.live) return;
    state.board.live = live;
    if (live) clearTimeout(timer); // no polling while both sockets are open
    else schedule(1); // a socket closed: poll until it is back
  };
  // Compared stats follow their own stats answer; else the dashboard's stats of the window shown.
  const compared = view.compare;
  const stops = [
    followLive(`${nsPath(state.ns, "live")}?${compared ? `answer=stats&${statsQuery()}` : "answer=dashboard"}`, (body) => {
      const stats = compared ? body : body.windows[state.view.window]?.stats;
      if (stats) Object.assign(state.board, { stats, unreachable: false });
      if (!compared) showBreakdowns(body);
      render();
    }, onState("dashboard")),
    followLive(`${nsPath(state.ns, "live")}?${trending}`, (body) => {
      Object.assign(state.board, { trending: body, read: { rank: view.rank, type: view.type }, unreachable: false, staleInARow: 0 });
      render();
      admin.update(); // the admin panel's report follows the answers, as it did each poll
    }, onState("trending")),
  ];
  following = { key, open, stop: () => stops.forEach((stop) => stop()) };
  state.board.live = false;
}

/** (v1.7) The shown window's breakdowns of a dashboard answer, and the dimension to show. */
function showBreakdowns(dashboard) {
  const { board, view } = state;
  board.breakdowns = dashboard.windows[view.window]?.dimensions ?? null;
  board.dimensions = Object.keys(board.breakdowns ?? {});
  if (board.dimensions.length > 0 && !board.dimensions.includes(view.dimension)) {
    view.dimension = board.dimensions[0];
    keepInUrl();
  }
  // Values read past the top 10 are of the window and dimension shown, and read again, as many,
  // when the top 10 changed under them.
  const { more } = board;
  const top = board.breakdowns?.[view.dimension];
  if (more && (more.window !== view.window || more.dimension !== view.dimension || !top)) board.more = null;
  else if (more && !more.busy && top.computedAt !== more.computedAt) readMoreValues({ again: true });
}

/** The path of a breakdown page of the shown window and dimension. */
function breakdownPath(limit, cursor) {
  const query = new URLSearchParams({ window: state.view.window, limit: String(limit) });
  if (cursor) query.set("cursor", cursor);
  return `${nsPath(state.ns, `dimensions/${encodeURIComponent(state.view.dimension)}`)}?${query}`;
}

/**
 * (v1.7) More values of the shown dimension than the dashboard's top 10, read from its breakdown
 * (`GET .../dimensions/{dim}`) a page at a time, continued by the answer's cursor; `again` reads
 * as many as are shown from the start, so that every value listed is of one answer.
 */
async function readMoreValues({ again = false } = {}) {
  const { board, view } = state;
  const held = board.more?.dimension === view.dimension && board.more.window === view.window ? board.more : null;
  board.more = { ...(held ?? { dimension: view.dimension, window: view.window, values: [], cursor: undefined }), busy: true };
  render();
  try {
    const pageOf = async (limit, cursor) => (await read(breakdownPath(limit, cursor))).body;
    const after = async (first) => {
      const next = first.cursor === null ? null : await pageOf(DASHBOARD_VALUES, first.cursor);
      return next ? { ...next, values: [...first.values, ...next.values] } : first;
    };
    // The first page is the dashboard's top 10 again: read for its cursor, then the page after it.
    const page = again ? await pageOf(held.values.length) : await after(held ?? (await pageOf(DASHBOARD_VALUES)));
    if (board.more?.dimension !== view.dimension || board.more.window !== view.window) return; // the view moved on
    board.more = { ...page, dimension: view.dimension, window: view.window, busy: false };
  } catch (error) {
    board.more = held;
    notice(error instanceof ApiError ? `More values could not be read: ${error.message}` : error.message, "warn");
  }
  render();
}

let reading = 0; // counts the board's reads, so an answer for an older selection is dropped

/** Reads the dashboard (windows, stats) and the selected ranking, and shows them. */
async function refreshBoard() {
  clearTimeout(timer);
  const mine = ++reading;
  const { board, view } = state;
  try {
    const dashboard = await read(nsPath(state.ns, "dashboard"));
    if (mine !== reading) return;
    board.windows = WINDOWS.filter((w) => w in dashboard.body.windows);
    if (!board.windows.includes(view.window)) view.window = board.windows.includes("1h") ? "1h" : board.windows[0];
    showBreakdowns(dashboard.body);
    if (!comparable(view.window, view.compare)) {
      view.compare = "previous";
      keepInUrl();
    }
    // One read per answer shown: the ranking, and the compared stats when comparing.
    const [trending, compared] = await Promise.all([read(trendingPath()), view.compare ? read(`${nsPath(state.ns, "stats")}?${statsQuery()}`) : null]);
    if (mine !== reading) return;
    const stale = trending.meta.stale || dashboard.meta.stale || Boolean(compared?.meta.stale);
    Object.assign(board, {
      shown: true,
      busy: false,
      declaredTypes: trending.meta.declaredTypes,
      trending: trending.body,
      stats: compared?.body ?? dashboard.body.windows[view.window].stats,
      // Calendar windows' times are local to the namespace's zone, which every dashboard states.
      zone: dashboard.body.timezone ?? null,
      read: { rank: view.rank, type: view.type },
      period: periodOf(trending.meta) ?? periodOf(dashboard.meta) ?? board.period,
      staleInARow: stale ? board.staleInARow + 1 : 0,
      unreachable: false,
    });
    notice("");
    render();
    followBoard();
    if (!board.live) schedule(stale ? 1 : Math.min(trending.meta.maxAge ?? DEFAULT_PERIOD, dashboard.meta.maxAge ?? DEFAULT_PERIOD) + 1);
  } catch (error) {
    if (mine !== reading) return;
    failed(error);
  }
  await admin.update();
}

/** What the page shows when a read is refused or the service cannot be reached. */
function failed(error) {
  if (!(error instanceof ApiError)) {
    notice(`The page failed: ${error.message}`, "error");
    render();
    throw error;
  }
  const { board } = state;
  if (error.unreachable) {
    // Keep the last answers, marked stale, and keep trying at the refresh period.
    board.unreachable = board.trending !== null;
    notice(board.trending ? "The service cannot be reached; these are its last answers (stale)." : "The service cannot be reached; retrying.", "warn");
    render();
    schedule();
    return;
  }
  if (error.code === "invalid_type" && state.view.type) {
    // A type from an old link that is no longer declared: show all types instead.
    choose({ type: "" });
    return;
  }
  if ((error.code === "invalid_dimension" || error.code === "invalid_segment") && state.view.segment) {
    // A segment from an old link whose dimension is no longer declared: show every event instead.
    notice(`The segment “${state.view.segment.dimension}:${state.view.segment.value}” cannot be read here: ${error.message}`, "warn");
    choose({ segment: null });
    return;
  }
  board.shown = false;
  if (error.status === 404 && error.code === "namespace_not_found") {
    notice(`The namespace “${state.ns}” has no data: it has never received an event. Check the name, or send it events first.`, "error", {
      label: "Try again",
      run: () => refreshBoard(),
    });
  } else if (error.status === 401) {
    const message = state.token ? "That token is not valid here. Type a read token to see this namespace." : "This service needs a read token to show its data.";
    notice(message, "error");
    state.tokenForm = { open: true, message };
  } else if (error.status === 403) {
    notice("This token may not read this namespace; use a read token.", "error");
    state.tokenForm = { open: true, message: "This token may not read." };
  } else {
    notice(error.message, "error");
  }
  render();
}

// ---- start --------------------------------------------------------------------------------------

function start() {
  if (!state.ns) {
    render();
    list.load();
    return;
  }
  if (!NAMESPACE.test(state.ns)) {
    notice("A namespace name is lowercase letters, digits, _ and -, starting with a letter or digit.", "error");
    render();
    return;
  }
  if (state.board.shown) state.board.busy = true;
  else notice("Loading…");
  render();
  refreshBoard();
}

$("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  location.assign(`/?ns=${encodeURIComponent($("open-ns").value.trim())}`);
});
$("list-form").addEventListener("submit", (event) => {
  event.preventDefault();
  list.filter($("list-prefix").value.trim());
});
$("list-more").addEventListener("click", () => list.more());

start();
