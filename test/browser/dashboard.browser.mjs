/**
 * The dashboard page in a real browser, against Tally under `wrangler dev` with public reads: what
 * it shows of a namespace, how it keeps itself up to date, its error states and its admin panel.
 * Every test uses its own namespace; nothing sleeps: each waits (bounded) for the page to change.
 */
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, openTab } from "./support/browser.mjs";
import { expectClean, previousTotals, ranking, totals, useToken, waitForTopItem } from "./support/page.mjs";
import { freshNamespace, startTally, tally } from "./support/service.mjs";

const TOKENS = { admin: "browser-admin", ingest: "browser-ingest" };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let service;
let browser;
let api;

beforeAll(async () => {
  service = await startTally({ ADMIN_TOKEN: TOKENS.admin, INGEST_TOKEN: TOKENS.ingest });
  api = tally(service.base, TOKENS);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

/**
 * A namespace with two declared types and known numbers, events spread over the last hour:
 * song-a 5 views + 1 like of weight 3 (score 8), song-b 4 views of weight 1.5 (6), song-c 2 views (2).
 * 12 events, weight 16, 3 items, 4 actors; view 11 events / weight 13, like 1 / 3.
 */
async function seedSongs(ns, config = {}) {
  await api.configure(ns, { types: { view: {}, like: {} }, ...config });
  const now = Date.now();
  const at = (minutesAgo) => now - minutesAgo * MINUTE;
  const events = [
    ...[5, 12, 20, 33, 41].map((m, i) => ({ item: "song-a", type: "view", actor: `u${i % 4}`, ts: at(m) })),
    { item: "song-a", type: "like", weight: 3, actor: "u1", ts: at(7) },
    ...[3, 12, 28, 50].map((m, i) => ({ item: "song-b", type: "view", weight: 1.5, actor: `u${(i + 1) % 4}`, ts: at(m) })),
    ...[9, 44].map((m) => ({ item: "song-c", type: "view", actor: "u3", ts: at(m) })),
  ];
  await api.ingest(ns, events);
  await api.refresh(ns);
}

/** Opens the page of `ns`; `sockets: false` blocks its live sockets, as a proxy might, so it polls. */
async function openNamespace(ns, { sockets = true } = {}) {
  const tab = await openTab(browser.context);
  if (!sockets) await tab.page.routeWebSocket(/\/live\?/, (ws) => ws.close({ code: 1008, reason: "blocked" }));
  await tab.page.goto(`${service.base}/?ns=${ns}`);
  await tab.page.locator("#ranking li").first().waitFor();
  return tab;
}

describe("a namespace on the page", () => {
  it("shows the ranked items with their scores, the totals, the types and the series chart", async () => {
    const ns = freshNamespace("page-show");
    await seedSongs(ns);
    const { page, problems } = await openNamespace(ns);

    expect(await page.title()).toBe(`${ns} · Tally`);
    expect(await ranking(page)).toEqual([
      { item: "song-a", score: "8", error: null, inexact: false },
      { item: "song-b", score: "6", error: null, inexact: false },
      { item: "song-c", score: "2", error: null, inexact: false },
    ]);
    await expect.poll(() => page.locator("#ranking-note").textContent()).toBe("Exact scores.");
    expect(await totals(page)).toEqual({ events: "12", weight: "16", "unique-items": "3", "unique-actors": "4" });
    const byType = await page.$$eval("#by-type tbody tr", (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    expect(byType).toEqual([["view", "11", "13"], ["like", "1", "3"]]);

    // The chart draws one bar per bucket of the answer's series, and the bars hold every event.
    const stats = await (await fetch(`${service.base}/v1/namespaces/${ns}/stats?window=1h`)).json();
    const bars = await page.$$eval("#chart svg rect.bar", (rects) => rects.map((r) => Number(r.dataset.events)));
    expect(bars).toHaveLength(stats.series.length);
    expect(bars.reduce((a, b) => a + b, 0)).toBe(12);
    expect(bars.filter((n) => n > 0)).toHaveLength(stats.series.filter((p) => p.events > 0).length);
    expect(await page.locator("#chart svg").getAttribute("aria-label")).toMatch(/^Events per minute, .+ peak 2$/);

    await expect.poll(() => page.locator("#freshness").textContent()).toMatch(/^Computed at .+ · updates every 10 s$/);
    expect(await page.getByRole("tab", { name: "1h" }).getAttribute("aria-selected")).toBe("true");
    expect(await page.$$eval("[role=tab]", (tabs) => tabs.map((t) => t.textContent))).toEqual(["1h", "24h", "7d"]);
    expect(await page.$$eval("#type option", (o) => o.map((x) => x.value))).toEqual(["", "view", "like"]);
    expectClean(problems);
    await page.close();
  });

  it("marks a bounded ranking inexact and shows the ± of each bounded score", async () => {
    const ns = freshNamespace("page-bounds");
    // A capacity of 10 counters with 40 distinct items in one bucket: scores become bounds.
    await api.configure(ns, { capacity: 10 });
    await api.ingest(ns, [
      ...Array.from({ length: 40 }, (_, i) => ({ item: `rare-${i}` })),
      ...Array.from({ length: 30 }, () => ({ item: "hit" })),
    ]);
    await api.refresh(ns);
    const answer = await api.trending(ns, "?window=1h&limit=10");
    expect(answer.exact).toBe(false);
    const { page, problems } = await openNamespace(ns);

    const shown = await ranking(page);
    expect(shown.map((r) => r.item)).toEqual(answer.items.map((i) => i.item));
    for (const [i, item] of answer.items.entries()) {
      expect(shown[i].score).toBe(String(item.score));
      expect(shown[i].error).toBe(item.error > 0 ? String(item.error) : null);
      expect(shown[i].inexact).toBe(item.error > 0);
    }
    expect(shown.some((r) => r.inexact)).toBe(true);
    expect(await page.locator("#ranking-note").textContent()).toMatch(/^Bounded scores: /);
    expectClean(problems);
    await page.close();
  });

  it("switches rank, type and window by mouse and keyboard, and keeps the view (never a token) in the address", async () => {
    const ns = freshNamespace("page-switch");
    await seedSongs(ns);
    const { page, problems } = await openNamespace(ns);
    const dashboardAnswers = [];
    page.on("response", (r) => r.url().includes("/dashboard") && dashboardAnswers.push(r.status()));

    await page.getByRole("button", { name: "Rising" }).click();
    await expect.poll(() => page.locator("#ranking-title").textContent()).toBe("Rising items");
    expect(await page.getByRole("button", { name: "Rising" }).getAttribute("aria-pressed")).toBe("true");
    // Every event is in the current hour, so each item grew from 0 to its whole score.
    expect(await page.$$eval("#ranking li .growth", (g) => g.map((x) => x.textContent))).toEqual(["0 → 8", "0 → 6", "0 → 2"]);
    // The dashboard answer did not change: asking again cost a 304, not a body.
    expect(dashboardAnswers).toContain(304);

    await page.getByRole("button", { name: "Hot" }).click();
    await expect.poll(() => page.locator("#ranking-title").textContent()).toBe("Hot items");
    // Recent events count more, but every event is in the same hour: the order is top's.
    await expect.poll(async () => (await ranking(page)).map((r) => r.item)).toEqual(["song-a", "song-b", "song-c"]);

    await page.getByRole("button", { name: "Top" }).click();
    await page.getByLabel("Type").selectOption("like");
    await expect.poll(() => ranking(page)).toEqual([{ item: "song-a", score: "3", error: null, inexact: false }]);

    await page.getByRole("tab", { name: "1h" }).focus();
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => page.getByRole("tab", { name: "24h" }).getAttribute("aria-selected")).toBe("true");
    await expect.poll(() => totals(page)).toMatchObject({ events: "12" });
    await expect.poll(() => page.locator("#chart svg").getAttribute("aria-label")).toMatch(/^Events per hour,/);
    // The focus stays on the chosen tab through the reads and re-renders that follow.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("tab-24h");
    expect(new URL(page.url()).search).toBe(`?ns=${ns}&window=24h&type=like`);
    expectClean(problems);
    await page.close();
  });

  it("updates by itself, without a reload, after new events and a refresh", async () => {
    const ns = freshNamespace("page-live");
    await seedSongs(ns, { refreshSeconds: 2 });
    const { page, problems } = await openNamespace(ns);
    await page.evaluate(() => (window.sameDocument = true));
    await expect.poll(() => page.locator("#freshness").textContent()).toMatch(/updates every 2 s$/);

    await api.ingest(ns, [{ item: "song-new", type: "view", weight: 50, actor: "u9" }]);
    await api.refresh(ns);
    await waitForTopItem(page, "song-new");
    expect((await ranking(page))[0]).toEqual({ item: "song-new", score: "50", error: null, inexact: false });
    await expect.poll(() => totals(page)).toMatchObject({ events: "13", weight: "66", "unique-actors": "5" });
    expect(await page.evaluate(() => window.sameDocument)).toBe(true);
    expectClean(problems);
    await page.close();
  });
});

describe("error states", () => {
  it("says a namespace that never received an event has no data", async () => {
    const ns = freshNamespace("page-missing");
    const { page, problems } = await openTab(browser.context);
    await page.goto(`${service.base}/?ns=${ns}`);
    const notice = page.locator("#notice");
    await expect.poll(() => notice.textContent()).toMatch(new RegExp(`“${ns}” has no data: it has never received an event`));
    expect(await page.locator("#board").isHidden()).toBe(true);
    expect(await page.getByRole("button", { name: "Try again" }).isVisible()).toBe(true);
    expectClean(problems, [/404/]);
    expect(problems.errors).toEqual([`404 ${service.base}/v1/namespaces/${ns}/dashboard`]);
    await page.close();
  });

  it("keeps the last answers, marked stale, while the service cannot be reached, and recovers", async () => {
    const ns = freshNamespace("page-down");
    await seedSongs(ns, { refreshSeconds: 2 });
    // Where sockets cannot open the page reads by polling, and only polling can see the service gone.
    const { page, problems } = await openNamespace(ns, { sockets: false });
    expect(await page.locator(".badge.stale").count()).toBe(0);

    await page.route("**/v1/**", (route) => route.abort("connectionrefused"));
    await page.locator(".badge.stale").waitFor();
    expect(await page.locator("#notice").textContent()).toBe("The service cannot be reached; these are its last answers (stale).");
    expect((await ranking(page)).map((r) => r.item)).toEqual(["song-a", "song-b", "song-c"]);
    expect(await page.locator("#board").getAttribute("class")).toContain("is-stale");

    await page.unroute("**/v1/**");
    await page.locator(".badge.stale").waitFor({ state: "detached" });
    expect(await page.locator("#notice").textContent()).toBe("");
    expectClean(problems, [/\/v1\/namespaces\/.*net::ERR_CONNECTION_REFUSED/, /^Failed to load resource: net::ERR_CONNECTION_REFUSED$/]);
    expect(problems.failed.length).toBeGreaterThan(0);
    await page.close();
  });

  it("marks answers stale when the service keeps saying X-Stale", async () => {
    const ns = freshNamespace("page-stale");
    await seedSongs(ns, { refreshSeconds: 2 });
    // X-Stale is a header of reads: a page that polls (its sockets blocked) is the one that sees it.
    const { page, problems } = await openNamespace(ns, { sockets: false });
    const markStale = async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), "x-stale": "true", "cache-control": "public, max-age=0" } });
    };
    await page.route(/\/v1\/namespaces\/[^/]+\/(trending|dashboard)/, markStale);
    await page.locator(".badge.stale").waitFor();
    expect(await page.locator("#freshness").textContent()).toMatch(/^Computed at .+ stale/);
    await page.unroute(/\/v1\/namespaces\/[^/]+\/(trending|dashboard)/, markStale);
    await page.locator(".badge.stale").waitFor({ state: "detached" });
    expectClean(problems);
    await page.close();
  });
});

describe("the admin panel", () => {
  it("is absent without a token, and with the admin token shows the cache report, refresh and a confirmed invalidate", async () => {
    const ns = freshNamespace("page-admin");
    await seedSongs(ns);
    const { page, problems } = await openNamespace(ns);
    expect(await page.locator("#admin").isHidden()).toBe(true);

    await useToken(page, TOKENS.admin);
    await page.locator("#admin-report table").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("tally.token"))).toBe(TOKENS.admin);
    expect(page.url()).not.toContain(TOKENS.admin);
    expect(problems.urls.filter((u) => u.includes(TOKENS.admin))).toEqual([]);
    expect(await page.$$eval("#admin-report tbody tr", (r) => r.map((x) => x.dataset.layer))).toEqual(["edge", "kv", "do"]);
    expect(await page.locator("[data-fact=hit-ratio]").textContent()).toMatch(/^(\d+\.\d%|–)$/);
    expect(await page.locator("[data-fact=last-refresh]").textContent()).toMatch(/ ms · ok$/);
    expect(await page.locator("[data-fact=ingest]").textContent()).toBe("the namespace's object");
    const generation = Number(await page.locator("[data-fact=generation]").textContent());

    await page.getByRole("button", { name: "Refresh now" }).click();
    await expect.poll(() => page.locator("#admin-outcome").textContent()).toMatch(/^Refreshed at /);

    const dialog = page.getByRole("dialog", { name: "Invalidate every cached answer?" });
    await page.getByRole("button", { name: "Invalidate caches…" }).click();
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await page.locator("#admin-outcome").textContent()).toMatch(/^Refreshed at /);
    const refreshes = async () => Number((await page.locator("[data-fact=refreshes]").textContent()).split(" ")[0]);
    const before = await refreshes();
    await page.getByRole("button", { name: "Refresh now" }).click(); // the report is read again after it
    await expect.poll(refreshes).toBeGreaterThan(before);
    expect(await page.locator("[data-fact=generation]").textContent()).toBe(String(generation));

    await page.getByRole("button", { name: "Invalidate caches…" }).click();
    await dialog.getByRole("button", { name: "Invalidate", exact: true }).click();
    await expect.poll(() => page.locator("#admin-outcome").textContent()).toBe(`Invalidated: generation ${generation + 1}.`);
    await expect.poll(() => page.locator("[data-fact=generation]").textContent()).toBe(String(generation + 1));
    await page.screenshot({ path: "docs/page-admin.png", fullPage: true });
    expectClean(problems);
    await page.close();
  });

  it("shows a namespace whose ingest four shards take with the same numbers, and its shards in the admin panel", async () => {
    const ns = freshNamespace("page-shards");
    await seedSongs(ns, { ingestShards: 4 });
    const { page, problems } = await openNamespace(ns);
    expect((await ranking(page)).map((r) => [r.item, r.score])).toEqual([
      ["song-a", "8"],
      ["song-b", "6"],
      ["song-c", "2"],
    ]);
    expect(await totals(page)).toMatchObject({ events: "12" });
    await useToken(page, TOKENS.admin);
    await expect.poll(() => page.locator("[data-fact=ingest]").textContent()).toMatch(/^4 shards · 0 events waiting · every shard merged in the last \d+ s$/);
    expectClean(problems);
    await page.close();
  });

  it("hides an item from every ranking with the admin token, lists it as hidden, and shows it again", async () => {
    const ns = freshNamespace("page-hide");
    await seedSongs(ns);
    const { page, problems } = await openNamespace(ns);
    expect(await page.getByRole("button", { name: "Hide song-a" }).count()).toBe(0); // no token: no action
    await useToken(page, TOKENS.admin);
    await page.getByRole("button", { name: "Hide song-a" }).click();
    await expect.poll(async () => (await ranking(page)).map((r) => r.item)).toEqual(["song-b", "song-c"]);
    await expect.poll(() => page.$$eval("#suppressions-list li", (r) => r.map((x) => x.dataset.item))).toEqual(["song-a"]);
    // Its events still count: the totals did not change.
    await expect.poll(() => totals(page)).toMatchObject({ events: "12" });

    await page.getByRole("button", { name: "Show song-a again" }).click();
    await expect.poll(async () => (await ranking(page)).map((r) => r.item)).toEqual(["song-a", "song-b", "song-c"]);
    await expect.poll(() => page.locator("#suppressions-list").textContent()).toBe("No item is hidden.");
    expectClean(problems);
    await page.close();
  });

  it("tells a token without the admin scope that it may not administer, and offers no actions", async () => {
    const ns = freshNamespace("page-notadmin");
    await seedSongs(ns);
    const { page, problems } = await openNamespace(ns);
    await useToken(page, TOKENS.ingest);
    await expect.poll(() => page.locator("#admin-state").textContent()).toMatch(/^This token may not administer/);
    expect(await page.locator("#admin-actions").isHidden()).toBe(true);
    expect((await ranking(page)).length).toBe(3); // reads still work
    expectClean(problems, [/403/]);
    expect(problems.errors).toEqual([`403 ${service.base}/v1/namespaces/${ns}/cache`]);
    await page.close();
  });
});

/**
 * A namespace in Asia/Kolkata (UTC+05:30 all year, so its days begin at :30 past a UTC hour) with
 * today, thisMonth and 24h among its windows, and events today, yesterday and earlier this month
 * (or, on the 1st, last month). Returns the events and Kolkata's boundaries, for the numbers the
 * page should show.
 */
async function seedKolkata(ns) {
  const offset = 5.5 * HOUR;
  await api.configure(ns, { windows: ["1h", "24h", "today", "thisMonth"], timezone: "Asia/Kolkata" });
  const now = Date.now();
  const todayStart = Math.floor((now + offset) / DAY) * DAY - offset;
  const local = new Date(now + offset);
  const monthStart = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), 1) - offset;
  const today = (k) => todayStart + Math.floor(((now - todayStart) * k) / 6);
  const events = [
    // Today: a 3 events (score 3), b 2 events of weight 2 (score 4); 5 events, weight 7, 3 actors.
    ...[1, 2, 3].map((k) => ({ item: "a", actor: `u${k}`, ts: today(k) })),
    ...[4, 5].map((k) => ({ item: "b", weight: 2, actor: "u1", ts: today(k) })),
    // Yesterday (today's previous period): a 2, c 1; 3 events, weight 3, 2 items, 1 actor.
    ...[1, 2, 3].map((k) => ({ item: k === 3 ? "c" : "a", actor: "u9", ts: todayStart - k * HOUR })),
    // Earlier: last month's (this month's from the 30th: never more than 29 days old), never yesterday's.
    { item: "d", weight: 5, actor: "u8", ts: Math.max(Math.min(monthStart, todayStart - DAY) - 2 * HOUR, now - 29 * DAY) },
    { item: "d", actor: "u8", ts: Math.max(todayStart - 3 * DAY, now - 29 * DAY) },
  ];
  await api.ingest(ns, events);
  await api.refresh(ns);
  const sum = (list) => ({
    events: String(list.length),
    weight: String(list.reduce((n, e) => n + (e.weight ?? 1), 0)),
    "unique-items": String(new Set(list.map((e) => e.item)).size),
    "unique-actors": String(new Set(list.map((e) => e.actor)).size),
  });
  const within = (from, to) => events.filter((e) => e.ts >= from && e.ts < to);
  return { events, todayStart, monthStart, sum, within };
}

/** "+66.7%" as the page writes a change, computed here from the numbers ingested. */
const percent = (before, now) => `${now >= before ? "+" : "−"}${new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 }).format((Math.abs(now - before) / before) * 100)}%`;

describe("calendar windows and comparisons", () => {
  it("shows a namespace's calendar windows as tabs, in its time zone, with the totals and local series of the events", async () => {
    const ns = freshNamespace("page-calendar");
    const { todayStart, monthStart, sum, within } = await seedKolkata(ns);
    const { page, problems } = await openTab(browser.context);
    await page.goto(`${service.base}/?ns=${ns}&window=today`);
    await page.locator("#ranking li").first().waitFor();

    expect(await page.$$eval("[role=tab]", (tabs) => tabs.map((t) => t.textContent))).toEqual(["1h", "24h", "Today", "This month"]);
    expect(await page.getByRole("tab", { name: "Today" }).getAttribute("aria-selected")).toBe("true");
    const future = Date.now() + DAY;
    expect(await totals(page)).toEqual(sum(within(todayStart, future)));
    // Every reader, with no token, is told the zone (the answers name it, as the config gave it)
    // and reads the times in it.
    const timezone = "Asia/Kolkata";
    expect((await api.config(ns)).timezone).toBe(timezone);
    expect(await page.locator("#stats-range").textContent()).toMatch(new RegExp(`^Today \\(${timezone}\\): .+ 12:00 AM to `));
    // One bar per local hour begun since Kolkata's midnight, the first at 00:00 local (18:30 UTC).
    const hours = () => Math.floor((Date.now() - todayStart) / HOUR) + 1;
    const expectedHours = [hours()];
    const bars = await page.$$eval("#chart svg rect.bar", (rects) => rects.map((r) => Number(r.dataset.events)));
    expectedHours.push(hours());
    expect(expectedHours).toContain(bars.length);
    expect(bars.reduce((a, b) => a + b, 0)).toBe(within(todayStart, future).length);
    expect(await page.locator(".chart-axis span").first().textContent()).toBe("12:00 AM");
    expect(await page.locator("#chart svg").getAttribute("aria-label")).toMatch(/^Events per hour, 12:00 AM to /);

    await page.getByRole("tab", { name: "This month" }).click();
    await expect.poll(() => totals(page)).toEqual(sum(within(monthStart, future)));
    await expect.poll(() => page.locator("#stats-range").textContent()).toMatch(new RegExp(`^This month \\(${timezone}\\): `));
    // One bar per local day begun, the first on the 1st (in Kolkata; in UTC it began the day before).
    const day = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Kolkata", day: "numeric" });
    const days = await page.$$eval("#chart svg rect.bar", (rects) => rects.map((r) => Number(r.dataset.events)));
    expect(days).toHaveLength(Number(day.format(Date.now())));
    expect(days.reduce((a, b) => a + b, 0)).toBe(within(monthStart, future).length);
    const firstDay = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Kolkata", month: "short", day: "numeric" }).format(monthStart);
    expect(await page.locator(".chart-axis span").first().textContent()).toBe(firstDay);
    expect(firstDay).toMatch(/ 1$/);
    expect(new URL(page.url()).search).toBe(`?ns=${ns}&window=thisMonth`);
    if (process.env.TALLY_SHOTS) await page.screenshot({ path: `${process.env.TALLY_SHOTS}/page-calendar-desktop.png`, fullPage: true });
    expectClean(problems);
    await page.close();
  });

  it("compares stats and ranking with the previous period, keeps the choice in the address, and offers the week before on 24h only", async () => {
    const ns = freshNamespace("page-compare");
    const { todayStart, sum, within } = await seedKolkata(ns);
    const current = sum(within(todayStart, Date.now() + DAY));
    const previous = sum(within(todayStart - DAY, todayStart));
    const { page, problems } = await openTab(browser.context);
    const statsReads = [];
    page.on("request", (r) => r.url().includes("/stats?") && statsReads.push(new URL(r.url()).search));
    const answered = new Set(); // the live sockets that brought an answer, by their query
    page.on("websocket", (ws) => ws.on("framereceived", () => answered.add(new URL(ws.url()).search)));
    await page.goto(`${service.base}/?ns=${ns}&window=today`);
    await page.locator("#ranking li").first().waitFor();
    const offered = () => page.$$eval("#compare option", (o) => o.map((x) => x.value));
    // compare=week is refused on calendar windows (400 invalid_compare), so it is not offered.
    expect(await offered()).toEqual(["", "previous"]);
    expect(statsReads).toEqual([]); // without a comparison the dashboard answer has the stats

    await page.getByLabel("Compare").selectOption("previous");
    const line = (key) => `before ${previous[key]} · ${previous[key] === current[key] ? "unchanged" : percent(Number(previous[key]), Number(current[key]))}`;
    await expect.poll(() => previousTotals(page)).toEqual({ events: line("events"), weight: line("weight"), "unique-items": line("unique-items"), "unique-actors": line("unique-actors") });
    await expect(previousTotals(page)).resolves.toMatchObject({ events: "before 3 · +66.7%", "unique-items": "before 2 · unchanged" });
    expect(await totals(page)).toEqual(current);
    // Ranked items: a scored 2 yesterday (+50%), b nothing (new); c is not in today's list.
    await expect.poll(() => page.$$eval("#ranking li .before", (b) => b.map((x) => x.textContent))).toEqual([`before 0 · new`, `before 2 · ${percent(2, 3)}`]);
    expect((await ranking(page)).map((r) => [r.item, r.score])).toEqual([["b", "4"], ["a", "3"]]);
    expect(await page.locator("#ranking-note").textContent()).toMatch(/^Exact scores\. Compared with .+ to .+: previous scores exact\.$/);
    expect(await page.locator("#stats-compare").textContent()).toMatch(/^Compared with .+ to .+$/);
    // One stats read for the choice; after it, the live sockets bring changes (no polling).
    expect(statsReads).toEqual([`?window=today&compare=previous`]);
    await expect.poll(() => [...answered]).toEqual(expect.arrayContaining(["?answer=stats&window=today&compare=previous", "?answer=trending&window=today&rank=top&limit=10&compare=previous"]));
    expect(new URL(page.url()).search).toBe(`?ns=${ns}&window=today&compare=previous`);

    // A reload keeps the comparison.
    await page.reload();
    await page.locator("#totals dd[data-previous]").first().waitFor();
    expect(await page.getByLabel("Compare").inputValue()).toBe("previous");
    expect(await previousTotals(page)).toMatchObject({ events: line("events") });

    // The week before is offered on 24h, and the ranking and stats are read with it.
    await page.getByRole("tab", { name: "24h" }).click();
    await expect.poll(offered).toEqual(["", "previous", "week"]);
    await page.getByLabel("Compare").selectOption("week");
    await expect.poll(() => page.locator("#stats-compare").textContent()).toMatch(/^Compared with /);
    await expect.poll(() => statsReads.at(-1)).toBe("?window=24h&compare=week");
    expect(new URL(page.url()).search).toBe(`?ns=${ns}&window=24h&compare=week`);
    // Back on a calendar window the comparison becomes the previous period's.
    await page.getByRole("tab", { name: "Today" }).click();
    await expect.poll(() => new URL(page.url()).search).toBe(`?ns=${ns}&window=today&compare=previous`);
    await expect.poll(offered).toEqual(["", "previous"]);
    await expect.poll(() => previousTotals(page)).toMatchObject({ events: line("events") });
    expect(problems.urls.filter((u) => u.includes("compare=week") && u.includes("window=today"))).toEqual([]);

    // The layout, for people to look at (TALLY_SHOTS=<dir>): desktop and phone widths.
    if (process.env.TALLY_SHOTS) {
      await page.screenshot({ path: `${process.env.TALLY_SHOTS}/page-compare-desktop.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `${process.env.TALLY_SHOTS}/page-compare-phone.png`, fullPage: true });
    }
    expectClean(problems);
    await page.close();
  });
});

describe("the start page", () => {
  it("opens a namespace by name, and lists namespaces (filtered by prefix) for an admin", async () => {
    const prefix = freshNamespace("page-list");
    for (const s of ["one", "two"]) await api.ingest(`${prefix}-${s}`, [{ item: "x" }]);
    const { page, problems } = await openTab(browser.context);
    await page.goto(`${service.base}/`);
    await expect.poll(() => page.locator("#list-state").textContent()).toMatch(/^Listing namespaces needs the admin token/);
    expect(await page.locator("#ns-list li").count()).toBe(0);

    await useToken(page, TOKENS.admin);
    await page.getByLabel("Names starting with").fill(prefix);
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.$$eval("#ns-list a", (a) => a.map((x) => x.textContent))).toEqual([`${prefix}-one`, `${prefix}-two`]);

    await page.getByRole("link", { name: `${prefix}-two` }).click();
    await page.waitForURL(`${service.base}/?ns=${prefix}-two*`);
    await page.locator("#ranking li").first().waitFor();
    // The token lives in the tab's session: the admin panel is there after navigating.
    await page.locator("#admin-report table").waitFor();

    await page.goto(`${service.base}/`);
    await page.getByLabel("Namespace name").fill(`${prefix}-one`);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${service.base}/?ns=${prefix}-one*`);
    await page.locator("#ranking li").first().waitFor();
    expectClean(problems);
    await page.close();
  });
});

describe("a token forgotten, and a long namespace list", () => {
  it("takes the admin panel and every Hide button away when the token is forgotten", async () => {
    const ns = freshNamespace("page-forget");
    await seedSongs(ns);
    const { page, problems } = await openNamespace(ns);
    await useToken(page, TOKENS.admin);
    await page.getByRole("button", { name: "Hide song-a" }).waitFor();
    expect(await page.getByRole("button", { name: "Token ✓" }).isVisible()).toBe(true);

    await page.getByRole("button", { name: /^Token/ }).click();
    await page.getByRole("button", { name: "Forget token" }).click();
    await page.locator("#admin").waitFor({ state: "hidden" });
    expect(await page.getByRole("button", { name: /^Hide / }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /^Token/ }).textContent()).toBe("Token");
    expect(await page.evaluate(() => sessionStorage.getItem("tally.token"))).toBe(null);
    expect((await ranking(page)).map((r) => r.item)).toEqual(["song-a", "song-b", "song-c"]);
    expectClean(problems);
    await page.close();
  });

  it("lists 50 namespaces at a time and shows the rest on asking", async () => {
    const prefix = freshNamespace("page-many");
    const names = Array.from({ length: 51 }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
    for (const name of names) await api.ingest(name, [{ item: "x" }]);
    const { page, problems } = await openTab(browser.context);
    await page.goto(`${service.base}/`);
    await useToken(page, TOKENS.admin);
    await page.getByLabel("Names starting with").fill(prefix);
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.locator("#ns-list a").count()).toBe(50);
    await page.getByRole("button", { name: "Show more" }).click();
    await expect.poll(() => page.$$eval("#ns-list a", (a) => a.map((x) => x.textContent))).toEqual(names);
    expect(await page.getByRole("button", { name: "Show more" }).isHidden()).toBe(true);
    expectClean(problems);
    await page.close();
  });
});

describe("served as static files in front of the Worker", () => {
  it("serves the page and its files with a strict Content Security Policy, and leaves every other path to the Worker", async () => {
    for (const path of ["/", "/?ns=videos", "/app.js", "/style.css", "/favicon.svg"]) {
      const res = await fetch(`${service.base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("Content-Security-Policy"), path).toMatch(/^default-src 'self'; script-src 'self'; style-src 'self';/);
      expect(res.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
      await res.arrayBuffer();
    }
    const page = await fetch(`${service.base}/?ns=videos`);
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
    // The API and unknown paths reach the Worker: JSON, never the page.
    for (const [path, status, code] of [["/healthz", 200, null], ["/no-such-page", 404, "not_found"], ["/v1/namespaces/x/unknown", 404, "not_found"], ["/_headers", 404, "not_found"]]) {
      const res = await fetch(`${service.base}${path}`);
      expect(res.status, path).toBe(status);
      expect(res.headers.get("Content-Type"), path).toMatch(/^application\/json/);
      const body = await res.json();
      if (code) expect(body.error.code, path).toBe(code);
    }
  });
});

describe("made for people", () => {
  it("fits a phone and a wide screen (screenshots in docs/), and is small", async () => {
    const ns = freshNamespace("music");
    await seedSongs(ns);
    // A livelier namespace for the pictures: a day of plays over twelve tracks, some far more
    // popular than others, busier in the last hours.
    const now = Date.now();
    const tracks = ["aurora", "blue-hour", "cinder", "drift", "echoes", "foxglove", "gravity", "halcyon", "iris", "juniper", "kestrel", "lumen"];
    await api.ingest(ns, Array.from({ length: 900 }, (_, i) => {
      const spread = (i * 0.6180339887) % 1; // evenly spread, deterministic
      return {
        item: tracks[Math.floor(tracks.length * spread ** 2.2)],
        type: i % 6 ? "view" : "like",
        weight: i % 6 ? 1 : 2,
        actor: `user-${(i * 31) % 211}`,
        ts: now - Math.floor(1439 * ((i * 0.7548776662) % 1) ** 1.6) * MINUTE - 1000,
      };
    }));
    await api.refresh(ns);
    const { page, problems } = await openTab(browser.context);
    const assets = [];
    page.on("response", async (r) => {
      if (!r.url().includes("/v1/")) assets.push(r);
    });
    await page.goto(`${service.base}/?ns=${ns}&window=24h`);
    await page.locator("#ranking li").first().waitFor();
    await page.screenshot({ path: "docs/page-desktop.png" });

    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: "docs/page-phone.png", fullPage: true });

    // Transfer size of the page itself (document, scripts, style, icon), as served and gzipped.
    // The icon is fetched here: headless chromium may not ask for it before the test ends.
    const paths = [...new Set([...assets.map((r) => new URL(r.url()).pathname), "/favicon.svg"])];
    const bodies = await Promise.all(paths.map(async (p) => [p, Buffer.from(await (await fetch(service.base + p)).arrayBuffer())]));
    const raw = bodies.reduce((n, [, b]) => n + b.length, 0);
    const gzip = bodies.reduce((n, [, b]) => n + gzipSync(b).length, 0);
    console.log(`page transfer: ${bodies.length} files, ${raw} bytes (${gzip} bytes gzipped): ${bodies.map(([p, b]) => `${p} ${b.length}`).join(", ")}`);
    expect(bodies.map(([p]) => p).sort()).toEqual(["/", "/admin.js", "/api.js", "/app.js", "/board.js", "/breakdown.js", "/chart.js", "/dom.js", "/favicon.svg", "/live.js", "/style.css"]);
    // 64 KiB until v1.7; the segments' selector, breakdown panel and filter added about 13 KB.
    expect(raw).toBeLessThan(80 * 1024);
    expectClean(problems);
    await page.close();
  });
});
