// The dashboard page (API.md v1.1, `GET /`): `/?ns=videos` shows a namespace, `/` offers the
// namespace list. It reads the public API like any client, and keeps itself up to date by asking
// again every refresh period with If-None-Match, so an unchanged answer costs a 304.
import { ApiError, nsPath, read, token } from "./api.js";
import { renderFreshness, renderRanking, renderStats } from "./board.js";
import { adminPanel, namespaceList } from "./admin.js";

const $ = (id) => document.getElementById(id);

/** Supported windows in order (API.md, "Windows"); the tabs show the namespace's own. */
const WINDOWS = ["5m", "1h", "24h", "7d", "30d"];
/** The ranks the page offers (API.md v1.1). */
const RANKS = [
  { id: "top", label: "Top" },
  { id: "rising", label: "Rising" },
  { id: "hot", label: "Hot" },
];
/** Until an answer says otherwise (Cache-Control max-age), the default refreshSeconds (API.md). */
const DEFAULT_PERIOD = 10;
const NAMESPACE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const params = new URLSearchParams(location.search);
const ns = params.get("ns");
const view = {
  window: params.get("window") ?? "",
  rank: RANKS.some((r) => r.id === params.get("rank")) ? params.get("rank") : "top",
  type: params.get("type") ?? "",
};
let windows = [];
let declaredTypes = [];
/** The namespace's refresh period (refreshSeconds), learned from a fresh answer: its max-age is
 * the period minus the answer's age. */
let period = null;
/** How many answers in a row were stale. The first read after an answer's period always gets the
 * stale copy while the service revalidates it behind, so the page asks again at once and marks the
 * answer stale only if it stays so. */
let staleInARow = 0;
let lastComputedAt = null;
let timer;
let reading = 0; // counts the board's reads, so an answer for an older selection is dropped
let admin;

function notice(message, { kind = "info", action } = {}) {
  const box = $("notice");
  box.replaceChildren();
  box.className = message ? `notice ${kind}` : "";
  if (!message) return;
  box.append(message);
  if (action) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = action.label;
    button.addEventListener("click", action.run);
    box.append(" ", button);
  }
}

// ---- the token ----------------------------------------------------------------------------------

function showTokenForm(open, state) {
  $("token-form").hidden = !open;
  $("token-toggle").setAttribute("aria-expanded", String(open));
  if (state !== undefined) $("token-state").textContent = state;
  if (open) $("token-input").focus();
}

function describeToken() {
  return token.get() ? "A token is in use for this tab." : "No token: reads are anonymous.";
}

$("token-toggle").addEventListener("click", () => showTokenForm($("token-form").hidden, describeToken()));
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token.set($("token-input").value.trim());
  $("token-input").value = "";
  showTokenForm(false, describeToken());
  start();
});
$("token-forget").addEventListener("click", () => {
  token.set("");
  showTokenForm(false, describeToken());
  start();
});

// ---- the namespace board ------------------------------------------------------------------------

function trendingPath() {
  const query = new URLSearchParams({ window: view.window, rank: view.rank, limit: "10" });
  if (view.type) query.set("type", view.type);
  return `${nsPath(ns, "trending")}?${query}`;
}

function keepInUrl() {
  // The view (never the token) is kept in the address, so a link or a reload shows the same thing.
  const query = new URLSearchParams({ ns, window: view.window });
  if (view.rank !== "top") query.set("rank", view.rank);
  if (view.type) query.set("type", view.type);
  history.replaceState(null, "", `/?${query}`);
}

/**
 * The window tabs, rank buttons and type filter. Elements are rebuilt only when the namespace's
 * windows or types change, and otherwise updated in place, so the focus of a keyboard user stays
 * where it was through every refresh.
 */
function renderControls() {
  const tabList = $("windows");
  if (tabList.dataset.windows !== windows.join(",")) {
    tabList.dataset.windows = windows.join(",");
    tabList.replaceChildren(
      ...windows.map((w) => {
        const tab = document.createElement("button");
        tab.type = "button";
        tab.role = "tab";
        tab.id = `tab-${w}`;
        tab.textContent = w;
        tab.setAttribute("aria-controls", "panel");
        tab.addEventListener("click", () => choose({ window: w }));
        return tab;
      }),
    );
  }
  for (const tab of tabList.children) {
    const selected = tab.textContent === view.window;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  $("panel").setAttribute("aria-labelledby", `tab-${view.window}`);

  if ($("ranks").children.length === 0) {
    $("ranks").replaceChildren(
      ...RANKS.map((r) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = r.label;
        button.dataset.rank = r.id;
        button.addEventListener("click", () => choose({ rank: r.id }));
        return button;
      }),
    );
  }
  for (const button of $("ranks").children) button.setAttribute("aria-pressed", String(button.dataset.rank === view.rank));

  const select = $("type");
  if (select.dataset.types !== declaredTypes.join(",")) {
    select.dataset.types = declaredTypes.join(",");
    select.replaceChildren(
      ...[["", "All types"], ...declaredTypes.map((t) => [t, t])].map(([value, label]) => {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = label;
        return option;
      }),
    );
  }
  select.value = view.type;
}

// Tabs follow the WAI-ARIA pattern: arrow keys move between windows, Home and End jump.
$("windows").addEventListener("keydown", (event) => {
  const at = windows.indexOf(view.window);
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: windows.length - 1 }[event.key];
  if (to === undefined || windows.length === 0) return;
  event.preventDefault();
  choose({ window: windows[(to + windows.length) % windows.length] });
  $(`tab-${view.window}`)?.focus();
});
$("type").addEventListener("change", (event) => choose({ type: event.target.value }));

function choose(change) {
  Object.assign(view, change);
  keepInUrl();
  renderControls();
  return refreshBoard();
}

/** Asks again when the shown answer's max-age runs out (then the service has a newer one), soon
 * after a stale answer (it was being revalidated), and at the period while unreachable. */
function schedule(seconds = period ?? DEFAULT_PERIOD) {
  clearTimeout(timer);
  timer = setTimeout(refreshBoard, Math.max(1, seconds) * 1000);
}

function learnPeriod(meta) {
  if (meta.stale || meta.maxAge === null || meta.age === null) return;
  // The service sends max-age = floor(refreshSeconds - age), so refreshSeconds = ceil(max-age + age).
  period = Math.min(3600, Math.max(1, Math.ceil(meta.maxAge + meta.age - 0.001)));
}

/** Reads the dashboard (windows, stats) and the selected ranking, and shows them. */
async function refreshBoard() {
  clearTimeout(timer);
  const mine = ++reading;
  try {
    const dashboard = await read(nsPath(ns, "dashboard"));
    if (mine !== reading) return;
    windows = WINDOWS.filter((w) => w in dashboard.body.windows);
    if (!windows.includes(view.window)) view.window = windows.includes("1h") ? "1h" : windows[0];
    const trending = await read(trendingPath());
    if (mine !== reading) return;
    declaredTypes = trending.meta.declaredTypes;
    learnPeriod(dashboard.meta);
    learnPeriod(trending.meta);
    renderControls();
    const rankLabel = RANKS.find((r) => r.id === view.rank)?.label ?? view.rank;
    renderRanking(trending.body, { rankLabel, typeLabel: view.type });
    const stats = dashboard.body.windows[view.window].stats;
    renderStats(stats);
    lastComputedAt = trending.body.computedAt;
    const stale = trending.meta.stale || dashboard.meta.stale;
    staleInARow = stale ? staleInARow + 1 : 0;
    renderFreshness({ computedAt: lastComputedAt, stale: staleInARow > 1, unreachable: false, period: period ?? DEFAULT_PERIOD });
    $("board").hidden = false;
    $("board").setAttribute("aria-busy", "false");
    notice("");
    const maxAge = Math.min(trending.meta.maxAge ?? DEFAULT_PERIOD, dashboard.meta.maxAge ?? DEFAULT_PERIOD);
    schedule(stale ? 1 : maxAge + 1);
  } catch (error) {
    if (mine !== reading) return;
    failed(error);
  }
  await admin?.update();
}

/** What the page shows when a read is refused or the service cannot be reached. */
function failed(error) {
  if (!(error instanceof ApiError)) {
    notice(`The page failed: ${error.message}`, { kind: "error" });
    throw error;
  }
  if (error.unreachable) {
    // Keep the last answers, marked stale, and keep trying at the refresh period.
    if (lastComputedAt) renderFreshness({ computedAt: lastComputedAt, stale: true, unreachable: true, period: period ?? DEFAULT_PERIOD });
    notice(lastComputedAt ? "The service cannot be reached; these are its last answers (stale)." : "The service cannot be reached; retrying.", { kind: "warn" });
    schedule();
    return;
  }
  if (error.code === "invalid_type" && view.type) {
    // A type from an old link that is no longer declared: show all types instead.
    choose({ type: "" });
    return;
  }
  $("board").hidden = true;
  if (error.status === 404 && error.code === "namespace_not_found") {
    notice(`The namespace “${ns}” has no data: it has never received an event. Check the name, or send it events first.`, {
      kind: "error",
      action: { label: "Try again", run: () => refreshBoard() },
    });
  } else if (error.status === 401) {
    const message = token.get() ? "That token is not valid here. Type a read token to see this namespace." : "This service needs a read token to show its data.";
    notice(message, { kind: "error" });
    showTokenForm(true, message);
  } else if (error.status === 403) {
    notice("This token may not read this namespace; use a read token.", { kind: "error" });
    showTokenForm(true, "This token may not read.");
  } else {
    notice(error.message, { kind: "error" });
  }
}

// ---- start --------------------------------------------------------------------------------------

function start() {
  $("token-toggle").textContent = token.get() ? "Token ✓" : "Token";
  if (!ns) {
    document.title = "Tally";
    $("title").textContent = "Namespaces";
    $("picker").hidden = false;
    list.load();
    return;
  }
  document.title = `${ns} · Tally`;
  $("title").textContent = ns;
  if (!NAMESPACE.test(ns)) {
    notice("A namespace name is lowercase letters, digits, _ and -, starting with a letter or digit.", { kind: "error" });
    return;
  }
  if (!$("board").hidden) $("board").setAttribute("aria-busy", "true");
  else notice("Loading…");
  admin ??= adminPanel(ns, refreshBoard);
  refreshBoard();
}

const list = namespaceList();
$("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  location.assign(`/?ns=${encodeURIComponent($("open-ns").value.trim())}`);
});

start();
