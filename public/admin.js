// What an admin token adds to the page: the namespace's /cache report with refresh, invalidate and
// the hidden items, and the list of namespaces (GET /v1/namespaces). Both go through the public
// admin endpoints; a token without the admin scope is told so once, and not asked again until the
// token changes. The reads and actions here change the page's one state (app.js) and render it;
// renderAdmin and renderList draw their parts of that state.
import { ApiError, call, nsPath } from "./api.js";
import { $, button, el, headedRow, headings, number, time, whenChanged } from "./dom.js";

/** Hidden items listed on the panel; the rest are counted. */
const HIDDEN_SHOWN = 50;

/** The admin part of the page's state, as it is before any admin answer (and after a token change). */
export const initialAdmin = () => ({
  /** The last /cache report, or null. */
  report: null,
  /** Why the report could not be read, or "". */
  message: "",
  actions: false,
  /** The outcome of the last action, kept beside the buttons until the next one. */
  outcome: "",
  /** The action under way ("refresh", "invalidate", "hide:<item>", "show:<item>"), or null. */
  pending: null,
  /** The page of hidden items, or null until read. */
  hidden: null,
  /** Whether ranked rows offer Hide (the token was accepted for the suppressions). */
  hiding: false,
  /** The token that was refused, so it is not asked again on every update. */
  refusedFor: null,
});

/** The namespace list's part of the state. */
export const initialList = () => ({ entries: [], cursor: null, prefix: "", message: "" });

const ratio = (r) => (r === null ? "–" : `${(r * 100).toFixed(1)}%`);

/** Why an admin call was refused, in words a person can act on. */
function refusal(error) {
  if (error.status === 401) return "The token is not valid; type the admin token again.";
  if (error.status === 403) return "This token may not administer: the cache report and its actions need the admin token.";
  if (error.unreachable) return "The service could not be reached; the report will be asked for again.";
  return error.message;
}

/** Where ingest goes, and what the ingest shards hold that is not merged yet. */
function ingestSummary({ shards, perShard }) {
  if (perShard.length === 0) return "the namespace's object";
  const unreachable = perShard.filter((s) => s.error !== undefined).length;
  const waiting = perShard.reduce((sum, s) => sum + (s.lagEvents ?? 0), 0);
  const merged = perShard.map((s) => s.sinceLastMergeMs).filter((ms) => ms !== null);
  const last = merged.length === perShard.length ? ` · every shard merged in the last ${number(Math.ceil(Math.max(...merged) / 1000))} s` : "";
  const retired = perShard.filter((s) => s.retired).length;
  const trouble = unreachable ? ` · ${unreachable} not reached` : "";
  return `${shards} shard${shards === 1 ? "" : "s"}${retired ? ` (+${retired} draining)` : ""} · ${number(waiting)} events waiting${last}${trouble}`;
}

/**
 * The admin reads and actions of the page. `state` is the page's state, `render` draws it, and
 * `afterChange` re-reads the board after an action.
 */
export function adminActions(state, render, afterChange) {
  const set = (change) => {
    Object.assign(state.admin, change);
    render();
  };

  /** Reads the namespace's report and hidden items again (after every read of the board). */
  async function update() {
    const held = state.token;
    if (!held || held === state.admin.refusedFor) return;
    try {
      const report = await call("GET", nsPath(state.ns, "cache"));
      if (held !== state.token) return; // the token changed meanwhile: this answer is not its
      set({ report, message: "", actions: true });
      const hidden = await call("GET", nsPath(state.ns, `suppressions?limit=${HIDDEN_SHOWN}`));
      if (held !== state.token) return;
      set({ hidden, hiding: true });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (held !== state.token) return;
      const refused = error.status === 401 || error.status === 403;
      set({
        message: refusal(error),
        actions: !refused,
        ...(refused ? { refusedFor: held, hiding: false, hidden: null } : {}),
        ...(error.unreachable ? {} : { report: null }),
      });
    }
  }

  /** Runs an admin action; its outcome stays beside the buttons until the next action. */
  async function act(pending, label, work) {
    set({ pending, outcome: `${label}…` });
    try {
      set({ outcome: await work() });
      await afterChange();
    } catch (error) {
      set({ outcome: error instanceof ApiError ? refusal(error) : String(error) });
    } finally {
      set({ pending: null });
    }
  }

  const ns = () => state.ns;
  return {
    update,
    refresh: () =>
      act("refresh", "Refreshing", async () => {
        const done = await call("POST", nsPath(ns(), "refresh"));
        return `Refreshed at ${time(done.computedAt)}.`;
      }),
    invalidate: () =>
      act("invalidate", "Invalidating", async () => {
        const done = await call("POST", nsPath(ns(), "invalidate"));
        return `Invalidated: generation ${done.generation}.`;
      }),
    hide: (item) =>
      act(`hide:${item}`, "Hiding", async () => {
        await call("PUT", nsPath(ns(), `suppressions/${encodeURIComponent(item)}`));
        return `Hidden: ${item}.`;
      }),
    show: (item) =>
      act(`show:${item}`, "Showing", async () => {
        await call("DELETE", nsPath(ns(), `suppressions/${encodeURIComponent(item)}`));
        return `Shown again: ${item}.`;
      }),
  };
}

/** The namespace list of the start page (admin only), filtered by prefix, a page at a time. */
export function listActions(state, render) {
  const set = (change) => {
    Object.assign(state.list, change);
    render();
  };
  // Each load answers for the list as it was asked for; one that a later load overtook is dropped,
  // or a page of an older listing would be appended to a newer one (names shown twice).
  let latest = 0;
  async function load(more) {
    const ticket = ++latest;
    if (!state.token) {
      set({ entries: [], cursor: null, message: "Listing namespaces needs the admin token: use the Token button above. Any namespace can be opened by name." });
      return;
    }
    const query = new URLSearchParams({ limit: "50" });
    if (state.list.prefix) query.set("prefix", state.list.prefix);
    if (more && state.list.cursor) query.set("cursor", state.list.cursor);
    // A new listing clears the old one at once: its "Show more" would page on with a cursor of
    // another listing.
    set(more ? { message: "Loading…" } : { entries: [], cursor: null, message: "Loading…" });
    try {
      const page = await call("GET", `/v1/namespaces?${query}`);
      if (ticket !== latest) return;
      const entries = more ? [...state.list.entries, ...page.namespaces] : page.namespaces;
      const { prefix } = state.list;
      const message = entries.length === 0 ? (prefix ? `No namespace starts with “${prefix}”.` : "No namespace holds data yet.") : "";
      set({ entries, cursor: page.cursor, message });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (ticket !== latest) return;
      set({ cursor: null, message: refusal(error).replace("the cache report and its actions need", "listing namespaces needs") });
    }
  }
  return {
    load: () => load(false),
    more: () => load(true),
    filter: (prefix) => {
      state.list.prefix = prefix;
      return load(false);
    },
  };
}

/** The admin panel: shown while a token is held. */
export function renderAdmin(admin, token) {
  $("admin").hidden = !token;
  $("admin-state").textContent = admin.message;
  $("admin-actions").hidden = !admin.actions;
  $("admin-outcome").textContent = admin.outcome;
  $("refresh-now").disabled = admin.pending === "refresh";
  $("invalidate").disabled = admin.pending === "invalidate";
  renderReport(admin.report);
  renderHidden(admin.hiding ? admin.hidden : null, admin.pending?.startsWith("show:") ? admin.pending : null);
}

const renderReport = whenChanged((cache) => {
  if (!cache) {
    $("admin-report").replaceChildren();
    return;
  }
  const table = el("table", "cache-report");
  table.append(el("caption", "", "Reads by layer"), headings(["Layer", "Hits", "Misses", "Hit ratio"]));
  const body = el("tbody");
  for (const [layer, counts] of Object.entries(cache.layers)) {
    const row = headedRow(layer, [number(counts.hits), number(counts.misses), ratio(counts.hitRatio)]);
    row.dataset.layer = layer;
    body.append(row);
  }
  table.append(body);
  const last = cache.lastRefresh;
  const facts = el("dl", "facts");
  const fact = (label, value, key) => {
    const dd = el("dd", "", value);
    dd.dataset.fact = key;
    facts.append(el("dt", "", label), dd);
  };
  fact("Hit ratio", ratio(cache.hitRatio), "hit-ratio");
  fact("Reads", number(cache.reads), "reads");
  fact("Computed while a client waited", number(cache.syncComputes), "sync-computes");
  fact("Last refresh", last ? `${time(last.at)} · ${number(last.durationMs)} ms · ${last.outcome}` : "none yet", "last-refresh");
  fact("Refreshes (errors)", `${number(cache.refreshes)} (${number(cache.refreshErrors)})`, "refreshes");
  fact("Generation", String(cache.generation), "generation");
  fact("Ingest", ingestSummary(cache.ingest), "ingest");
  $("admin-report").replaceChildren(table, facts);
});

/** The hidden items (content moderation), each with a button to show it again. */
const renderHidden = whenChanged((page, pending) => {
  $("suppressions").hidden = page === null;
  if (page === null) return;
  const rows = page.suppressions.map(({ item, suppressedAt }) => {
    const row = el("li");
    row.dataset.item = item;
    const show = button("Show again", { ariaLabel: `Show ${item} again`, disabled: pending === `show:${item}`, data: { show: item } });
    row.append(el("span", "item", item), el("span", "hint", ` hidden at ${time(suppressedAt)} `), show);
    return row;
  });
  if (page.cursor !== null) rows.push(el("li", "hint", `… and ${number(page.total - page.suppressions.length)} more`));
  if (rows.length === 0) rows.push(el("li", "hint", "No item is hidden."));
  $("suppressions-list").replaceChildren(...rows);
});

/** The start page's list of namespaces. */
export function renderList(list, token) {
  $("list-form").hidden = !token;
  $("list-state").textContent = list.message;
  $("list-more").hidden = list.cursor === null;
  renderEntries(list.entries);
}

const renderEntries = whenChanged((entries) => {
  $("ns-list").replaceChildren(
    ...entries.map((entry) => {
      const link = el("a", "", entry.namespace);
      link.href = `/?ns=${encodeURIComponent(entry.namespace)}`;
      const li = el("li");
      li.append(link, el("span", "hint", ` since ${new Date(entry.createdAt).toLocaleString()}`));
      return li;
    }),
  );
});
