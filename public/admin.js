// What an admin token adds to the page: the namespace's /cache report with refresh and invalidate,
// and the list of namespaces (GET /v1/namespaces). Both go through the public admin endpoints; a
// token without the admin scope is told so once, and not asked again until the token changes.
import { ApiError, call, nsPath, token } from "./api.js";
import { number, setItemActions, time } from "./board.js";

const $ = (id) => document.getElementById(id);

function el(name, className, text) {
  const node = document.createElement(name);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const ratio = (r) => (r === null ? "–" : `${(r * 100).toFixed(1)}%`);

/** Why an admin call was refused, in words a person can act on. */
function refusal(error) {
  if (error.status === 401) return "The token is not valid; type the admin token again.";
  if (error.status === 403) return "This token may not administer: the cache report and its actions need the admin token.";
  if (error.unreachable) return "The service could not be reached; the report will be asked for again.";
  return error.message;
}

/** Where ingest goes, and what the ingest shards hold that is not merged yet (API.md v1.1). */
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

/** The admin panel of one namespace. `afterChange` re-reads the board after a refresh or invalidate. */
export function adminPanel(ns, afterChange) {
  const panel = $("admin");
  let refusedFor = null; // the token that was refused, so it is not asked again on every update

  function report(cache) {
    const table = el("table", "cache-report");
    table.append(el("caption", "", "Reads by layer"));
    const head = el("tr");
    for (const h of ["Layer", "Hits", "Misses", "Hit ratio"]) {
      const th = el("th", "", h);
      th.scope = "col";
      head.append(th);
    }
    const thead = el("thead");
    thead.append(head);
    table.append(thead);
    const body = el("tbody");
    for (const [layer, counts] of Object.entries(cache.layers)) {
      const row = el("tr");
      row.dataset.layer = layer;
      const name = el("th", "", layer);
      name.scope = "row";
      row.append(name, el("td", "", number(counts.hits)), el("td", "", number(counts.misses)), el("td", "", ratio(counts.hitRatio)));
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
  }

  async function update() {
    const held = token.get();
    panel.hidden = !held;
    if (!held || held === refusedFor) return;
    try {
      report(await call("GET", nsPath(ns, "cache")));
      $("admin-state").textContent = "";
      $("admin-actions").hidden = false;
      await suppressions();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 401 || error.status === 403) {
        refusedFor = held;
        offerHiding(false);
      }
      $("admin-state").textContent = refusal(error);
      $("admin-actions").hidden = error.status === 401 || error.status === 403;
      if (!error.unreachable) $("admin-report").replaceChildren();
    }
  }

  /** The hidden items (content moderation), each with a button to show it again. */
  async function suppressions() {
    const page = await call("GET", nsPath(ns, `suppressions?limit=${HIDDEN_SHOWN}`));
    const rows = page.suppressions.map(({ item, suppressedAt }) => {
      const row = el("li");
      row.dataset.item = item;
      const show = el("button", "", "Show again");
      show.type = "button";
      show.setAttribute("aria-label", `Show ${item} again`);
      show.addEventListener("click", () =>
        act(show, "Showing", async () => {
          await call("DELETE", nsPath(ns, `suppressions/${encodeURIComponent(item)}`));
          return `Shown again: ${item}.`;
        }),
      );
      row.append(el("span", "item", item), el("span", "hint", ` hidden at ${time(suppressedAt)} `), show);
      return row;
    });
    if (page.cursor !== null) rows.push(el("li", "hint", `… and ${number(page.total - page.suppressions.length)} more`));
    if (rows.length === 0) rows.push(el("li", "hint", "No item is hidden."));
    $("suppressions-list").replaceChildren(...rows);
    $("suppressions").hidden = false;
    offerHiding(true);
  }

  /** Gives every ranked row a Hide button (or takes it away), and redraws the ranking once. */
  function offerHiding(on) {
    if (on === hiding) return;
    hiding = on;
    setItemActions(on ? hideButton : () => []);
    if (!on) $("suppressions").hidden = true;
    afterChange();
  }
  let hiding = false;

  function hideButton(item) {
    const hide = el("button", "hide", "Hide");
    hide.type = "button";
    hide.setAttribute("aria-label", `Hide ${item}`);
    hide.addEventListener("click", () =>
      act(hide, "Hiding", async () => {
        await call("PUT", nsPath(ns, `suppressions/${encodeURIComponent(item)}`));
        return `Hidden: ${item}.`;
      }),
    );
    return [hide];
  }

  /** Runs an admin action; its outcome stays beside the buttons until the next action. */
  async function act(button, label, work) {
    const outcome = $("admin-outcome");
    button.disabled = true;
    outcome.textContent = `${label}…`;
    try {
      outcome.textContent = await work();
      await afterChange();
    } catch (error) {
      outcome.textContent = error instanceof ApiError ? refusal(error) : String(error);
    } finally {
      button.disabled = false;
    }
  }

  $("refresh-now").addEventListener("click", (event) =>
    act(event.currentTarget, "Refreshing", async () => {
      const done = await call("POST", nsPath(ns, "refresh"));
      return `Refreshed at ${time(done.computedAt)}.`;
    }),
  );

  // Invalidating drops every cached answer: it asks first, in a modal dialog (keyboard-usable, and
  // Cancel has the focus, so Enter does not invalidate by accident).
  const dialog = $("confirm-invalidate");
  $("invalidate").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "confirm") return;
    act($("invalidate"), "Invalidating", async () => {
      const done = await call("POST", nsPath(ns, "invalidate"));
      return `Invalidated: generation ${done.generation}.`;
    });
  });

  return { update };
}

/** Hidden items listed on the panel; the rest are counted. */
const HIDDEN_SHOWN = 50;

/** The namespace list of the start page (admin only), filtered by prefix, a page at a time. */
export function namespaceList() {
  let cursor = null;
  let prefix = "";

  async function load(more) {
    const state = $("list-state");
    $("list-form").hidden = !token.get();
    if (!token.get()) {
      state.textContent = "Listing namespaces needs the admin token: use the Token button above. Any namespace can be opened by name.";
      $("ns-list").replaceChildren();
      $("list-more").hidden = true;
      return;
    }
    const query = new URLSearchParams({ limit: "50" });
    if (prefix) query.set("prefix", prefix);
    if (more && cursor) query.set("cursor", cursor);
    state.textContent = "Loading…";
    try {
      const page = await call("GET", `/v1/namespaces?${query}`);
      const items = page.namespaces.map((entry) => {
        const link = el("a", "", entry.namespace);
        link.href = `/?ns=${encodeURIComponent(entry.namespace)}`;
        const since = el("span", "hint", ` since ${new Date(entry.createdAt).toLocaleString()}`);
        const li = el("li");
        li.append(link, since);
        return li;
      });
      if (more) $("ns-list").append(...items);
      else $("ns-list").replaceChildren(...items);
      cursor = page.cursor;
      $("list-more").hidden = cursor === null;
      const shown = $("ns-list").children.length;
      state.textContent = shown === 0 ? (prefix ? `No namespace starts with “${prefix}”.` : "No namespace holds data yet.") : "";
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      state.textContent = refusal(error).replace("the cache report and its actions need", "listing namespaces needs");
      $("list-more").hidden = true;
    }
  }

  $("list-form").addEventListener("submit", (event) => {
    event.preventDefault();
    prefix = $("list-prefix").value.trim();
    load(false);
  });
  $("list-more").addEventListener("click", () => load(true));
  return { load: () => load(false) };
}
