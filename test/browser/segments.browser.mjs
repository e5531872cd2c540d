/**
 * Segments on the dashboard page (docs/api.md, "Segments (v1.7)"), in a real browser against Tally
 * under `wrangler dev`: the dimension selector, the breakdown panel with its bounds, a value's
 * click that filters the ranking to its segment (visibly, with a way back), and more values read
 * page by page. Values are user data, so one of them is markup that must stay text.
 *
 * The namespaces are real (config with dimensions, events with dims, refreshed), and the segment
 * rankings the page shows are the service's own answers. The breakdowns' values are a fixture laid
 * over the service's dashboard and breakdown answers (page.route), so that the page's half is
 * tested with values of every kind (bounded, exact, hostile) whatever the service counted.
 */
import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, openTab } from "./support/browser.mjs";
import { expectClean, ranking } from "./support/page.mjs";
import { freshNamespace, startTally, tally } from "./support/service.mjs";

const TOKENS = { admin: "browser-admin", ingest: "browser-ingest" };
const DIMENSIONS = { category: {}, tag: { multi: true } };
const HOSTILE = "<img src=x onerror=window.__injected=1>";
const SHOTS = process.env.TALLY_SHOTS ?? "/tmp/tally-shots";

let service;
let browser;
let api;

beforeAll(async () => {
  service = await startTally({ ADMIN_TOKEN: TOKENS.admin, INGEST_TOKEN: TOKENS.ingest });
  api = tally(service.base, TOKENS);
  browser = await launch();
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

/** A namespace with `dimensions` declared and events carrying values of them. */
async function seed(ns, dimensions = DIMENSIONS) {
  await api.configure(ns, { dimensions });
  const dims = (category, tag) => (dimensions.category ? { dims: { category, tag } } : {});
  await api.ingest(ns, [
    ...Array.from({ length: 5 }, (_, i) => ({ item: "film-a", actor: `u${i}`, ...dims("sci/fi", ["cats", HOSTILE]) })),
    ...Array.from({ length: 3 }, () => ({ item: "film-b", weight: 2, ...dims("comedy", ["cats"]) })),
    { item: "film-c", ...dims("news", ["dogs"]) },
  ]);
  await api.refresh(ns);
}

/** The fixture's values of a dimension: `n` of them, by weight descending, the first ones bounded. */
function fixtureValues(dimension, n) {
  const named = { category: ["sci/fi", "comedy", HOSTILE, "100% über"], tag: ["cats", "dogs"] }[dimension] ?? [];
  return Array.from({ length: n }, (_, i) => ({
    value: named[i] ?? `${dimension}-${i}`,
    weight: 100 - i,
    events: 50 - i,
    error: i < 2 ? 3 : 0,
    eventsError: i < 2 ? 1 : 0,
  }));
}

/**
 * Lays the fixture over the service's answers in `page`: every breakdown of the dashboard gets
 * `perDimension` values; `GET .../dimensions/{dim}` pages through `total` values as the service
 * pages (limit, opaque cursor, null on the last page). Returns the breakdown reads it answered.
 */
async function withFixture(page, { perDimension = 4, total = 4 } = {}) {
  const breakdownReads = [];
  await page.route(/\/v1\/namespaces\/[^/]+\/dashboard/, async (route) => {
    const response = await route.fetch();
    if (response.status() !== 200) return route.fulfill({ response });
    const body = await response.json();
    for (const entry of Object.values(body.windows)) {
      for (const [dimension, breakdown] of Object.entries(entry.dimensions ?? {})) {
        Object.assign(breakdown, { exact: false, floor: 2, values: fixtureValues(dimension, perDimension) });
      }
    }
    await route.fulfill({ response, json: body });
  });
  await page.route(/\/v1\/namespaces\/[^/]+\/dimensions\//, async (route) => {
    const url = new URL(route.request().url());
    breakdownReads.push(url.search);
    const response = await route.fetch();
    const body = await response.json();
    const dimension = decodeURIComponent(url.pathname.split("/").pop());
    const offset = Number((url.searchParams.get("cursor") ?? "o0").slice(1));
    const end = offset + Number(url.searchParams.get("limit") ?? 10);
    const values = fixtureValues(dimension, total);
    await route.fulfill({ response, json: { ...body, exact: false, floor: 2, values: values.slice(offset, end), cursor: end < values.length ? `o${end}` : null } });
  });
  return breakdownReads;
}

/** Opens the page of `ns` with its live sockets blocked, so every answer goes through the fixture. */
async function openNamespace(ns, fixture) {
  const tab = await openTab(browser.context);
  await tab.page.routeWebSocket(/\/live\?/, (ws) => ws.close({ code: 1008, reason: "blocked" }));
  const breakdownReads = fixture ? await withFixture(tab.page, fixture) : [];
  await tab.page.goto(`${service.base}/?ns=${ns}`);
  await tab.page.locator("#ranking li").first().waitFor();
  return { ...tab, breakdownReads };
}

/** The breakdown panel's rows as shown: [value, weight, events]. */
const panelRows = (page) =>
  page.$$eval("#breakdown-values tbody tr", (rows) => rows.map((r) => [r.querySelector("button.value").textContent, ...[...r.querySelectorAll("td")].map((td) => td.textContent)]));

describe("segments on the page", () => {
  it("with no dimensions declared, shows no selector, no panel and no filter: the page as before", async () => {
    const ns = freshNamespace("seg-none");
    await seed(ns, {});
    const { page, problems } = await openNamespace(ns);
    expect(await page.locator("#breakdown").isHidden()).toBe(true);
    expect(await page.locator("#segment-filter").isHidden()).toBe(true);
    expect(new URL(page.url()).searchParams.has("dim")).toBe(false);
    expect((await ranking(page)).map((r) => r.item)).toEqual(["film-b", "film-a", "film-c"]);
    expectClean(problems);
    await page.close();
  });

  it("offers the declared dimensions and lists the chosen one's values with their bounds, as text", async () => {
    const ns = freshNamespace("seg-panel");
    await seed(ns);
    const { page, problems } = await openNamespace(ns, {});
    await page.locator("#breakdown-values tbody tr").first().waitFor();

    expect(await page.$$eval("#dimension option", (o) => o.map((x) => x.value))).toEqual(["category", "tag"]);
    expect(await page.getByLabel("Dimension").inputValue()).toBe("category");
    expect(await panelRows(page)).toEqual([
      ["sci/fi", "100 ± 3", "50 ± 1"],
      ["comedy", "99 ± 3", "49 ± 1"],
      [HOSTILE, "98", "48"],
      ["100% über", "97", "47"],
    ]);
    expect(await page.locator("#breakdown-values tbody tr:first-child td .error").first().getAttribute("title")).toBe("true weight between 97 and 100");
    expect(await page.locator("#breakdown-note").textContent()).toMatch(/^Bounded counts: .* Values not listed have at most 2 weight each\./);
    // The markup of a value is its text: no element came of it, and nothing of it ran.
    expect(await page.locator("#breakdown img").count()).toBe(0);
    expect(await page.evaluate(() => window.__injected)).toBeUndefined();
    // Four values: the dashboard's top 10 holds them all, so there is nothing more to read.
    expect(await page.locator("#breakdown-more").isHidden()).toBe(true);

    await page.getByLabel("Dimension").selectOption("tag");
    await expect.poll(() => panelRows(page)).toEqual([["cats", "100 ± 3", "50 ± 1"], ["dogs", "99 ± 3", "49 ± 1"], ["tag-2", "98", "48"], ["tag-3", "97", "47"]]);
    expect(new URL(page.url()).searchParams.get("dim")).toBe("tag");
    expectClean(problems);
    await page.close();
  });

  it("filters the ranking to a value's segment on a click, visibly and in the address, and clears it", async () => {
    const ns = freshNamespace("seg-filter");
    await seed(ns);
    const { page, problems } = await openNamespace(ns, {});
    const trendingReads = [];
    page.on("request", (r) => r.url().includes("/trending?") && trendingReads.push(new URL(r.url()).searchParams.get("segment")));
    await page.getByRole("button", { name: "Show the ranking of category = sci/fi" }).click();

    await expect.poll(() => page.locator("#ranking-title").textContent()).toBe("Top items · category = sci/fi");
    expect(trendingReads).toContain("category:sci/fi");
    // The ranking shown is the service's own answer for that segment, which names it.
    const answer = await api.trending(ns, "?window=1h&rank=top&limit=10&segment=category%3Asci%2Ffi");
    expect(answer.segment).toEqual({ dimension: "category", value: "sci/fi" });
    expect((await ranking(page)).map((r) => r.item)).toEqual(answer.items.map((i) => i.item));
    expect(await page.locator("#segment-filter").isVisible()).toBe(true);
    expect(await page.locator("#segment-filter-value").textContent()).toBe("category = sci/fi");
    expect(await page.getByRole("button", { name: "Clear the ranking of category = sci/fi" }).getAttribute("aria-pressed")).toBe("true");
    expect(new URL(page.url()).searchParams.get("segment")).toBe("category:sci/fi");
    // A segment's ranking has no reach and counts every type.
    expect(await page.getByRole("button", { name: "Reach" }).isDisabled()).toBe(true);
    expect(await page.getByLabel("Type").isDisabled()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/page-segment-desktop.png`, fullPage: true });

    // A hostile value goes to the service as data and comes back as the segment it names.
    await page.getByRole("button", { name: `Show the ranking of category = ${HOSTILE}` }).click();
    await expect.poll(() => page.locator("#segment-filter-value").textContent()).toBe(`category = ${HOSTILE}`);
    await expect.poll(() => trendingReads.at(-1)).toBe(`category:${HOSTILE}`);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.evaluate(() => window.__injected)).toBeUndefined();

    // A reload keeps the segment (from the address); Clear shows every event again.
    await page.reload();
    await expect.poll(() => page.locator("#ranking-title").textContent()).toBe(`Top items · category = ${HOSTILE}`);
    await page.getByRole("button", { name: "Clear segment" }).click();
    await expect.poll(() => page.locator("#ranking-title").textContent()).toBe("Top items");
    expect(await page.locator("#segment-filter").isHidden()).toBe(true);
    expect(new URL(page.url()).searchParams.has("segment")).toBe(false);
    expect((await ranking(page)).map((r) => r.item)).toEqual(["film-b", "film-a", "film-c"]);
    expect(await page.getByRole("button", { name: "Reach" }).isDisabled()).toBe(false);
    expectClean(problems);
    await page.close();
  });

  it("reads more values than the dashboard's top 10 from the breakdown, page by page, to its last page", async () => {
    const ns = freshNamespace("seg-more");
    await seed(ns);
    const { page, problems, breakdownReads } = await openNamespace(ns, { perDimension: 10, total: 23 });
    await page.locator("#breakdown-values tbody tr").first().waitFor();
    expect(await page.locator("#breakdown-values tbody tr").count()).toBe(10);

    await page.getByRole("button", { name: "Show more values" }).click();
    await expect.poll(() => page.locator("#breakdown-values tbody tr").count()).toBe(20);
    await page.getByRole("button", { name: "Show more values" }).click();
    await expect.poll(() => page.locator("#breakdown-values tbody tr").count()).toBe(23);
    expect((await panelRows(page)).map((r) => r[0])).toEqual(fixtureValues("category", 23).map((v) => v.value));
    expect(await page.locator("#breakdown-more").isHidden()).toBe(true);
    expect(breakdownReads).toEqual(["?window=1h&limit=10", "?window=1h&limit=10&cursor=o10", "?window=1h&limit=10&cursor=o20"]);
    expectClean(problems);
    await page.close();
  });
});
