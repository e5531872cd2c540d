/**
 * Share links and the embeddable list (docs/held.api.md v1.2), in Chromium against a Tally whose reads
 * are gated (READ_TOKEN set), so that only a share link's read key lets a page read:
 * - GET /embed, framed by a site of the namespace's `embedAncestors`, shows its list; framed by any
 *   other site, the browser refuses to render it (CSP frame-ancestors);
 * - the dashboard opened from a share link (`/?ns=x#key=...`) keeps the key for the tab and takes
 *   it out of the address.
 * The framing sites are pages Playwright serves itself (page.route) under names of their own.
 */
import { describe, expect, it } from "vitest";
import { openTab } from "./support/browser.mjs";
import { gatedTally } from "./support/gated.mjs";
import { expectClean, ranking } from "./support/page.mjs";
import { freshNamespace } from "./support/service.mjs";

const TOKENS = { admin: "tok-admin-e1", ingest: "tok-ingest-e2", read: "tok-read-e3" };
const ALLOWED = "http://site.example";
const OTHER = "http://other.example";

// The framing sites are served by Playwright under public names, and the frame comes from
// 127.0.0.1: Chromium's Local Network Access checks would refuse a public page's frame of a
// loopback address before any CSP is read. Deployed, both are public, so the checks are off here.
const held = gatedTally(TOKENS, { args: ["--disable-features=LocalNetworkAccessChecks"] });

/** A namespace with a ranking, framable by ALLOWED, and a read key for it alone. */
async function shared(prefix) {
  const ns = freshNamespace(prefix);
  await held.api.configure(ns, { embedAncestors: [ALLOWED] });
  await held.api.ingest(ns, [{ item: "alpha" }, { item: "alpha" }, { item: "beta" }]);
  await held.api.refresh(ns);
  const { key } = await held.api.createKey({ label: "share link", scopes: ["read"], namespaces: [ns] });
  return { ns, key };
}

/** A tab on `site`, a page Playwright serves, holding an <iframe> of `src`. */
async function framedBy(site, src) {
  const tab = await openTab(held.browser.context);
  await tab.page.route(`${site}/**`, (route) =>
    route.fulfill({ contentType: "text/html", body: `<!doctype html><title>host</title><iframe id="embed" src="${src}" width="400" height="300"></iframe>` }),
  );
  await tab.page.goto(`${site}/`);
  return tab;
}

describe("GET /embed", () => {
  it("shows its list, read with the share link's key, when framed by a configured ancestor", async () => {
    const { ns, key } = await shared("embed-ok");
    const { page, problems } = await framedBy(ALLOWED, `${held.service.base}/embed?ns=${ns}&window=1h&limit=5#key=${key}`);
    const frame = page.frameLocator("#embed");
    await frame.locator("#list li").nth(1).waitFor();
    const rows = await frame.locator("#list li").evaluateAll((lis) => lis.map((li) => [li.querySelector(".item").textContent, li.querySelector(".score").textContent]));
    expect(rows).toEqual([["alpha", "2"], ["beta", "1"]]);
    expectClean(problems);
  });

  it("is refused by the browser when framed by any other site", async () => {
    const { ns, key } = await shared("embed-refused");
    const { page, problems } = await framedBy(OTHER, `${held.service.base}/embed?ns=${ns}#key=${key}`);
    await expect.poll(() => problems.console.some((m) => m.includes("frame-ancestors")), { timeout: 20_000 }).toBe(true);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(await frame.locator("#list").count()).toBe(0);
    expectClean(problems, [/frame-ancestors/, /net::ERR_BLOCKED_BY_RESPONSE$/]);
  });

  it("without a key, on gated reads, says the list cannot be read and shows nothing", async () => {
    const { ns } = await shared("embed-nokey");
    const { page, problems } = await framedBy(ALLOWED, `${held.service.base}/embed?ns=${ns}`);
    const frame = page.frameLocator("#embed");
    await expect.poll(() => frame.locator("#status").textContent()).toBe("The list cannot be read now.");
    expect(await frame.locator("#list li").count()).toBe(0);
    expectClean(problems, [/^401 /, /status of 401/]);
  });
});

describe("a share link to the dashboard", () => {
  it("shows the namespace with the link's read key, keeps it for the tab and takes it out of the address", async () => {
    const { ns, key } = await shared("share");
    const { page, problems } = await openTab(held.browser.context);
    await page.goto(`${held.service.base}/?ns=${ns}#key=${key}`);
    await page.locator("#ranking li").first().waitFor();
    expect((await ranking(page)).map((r) => [r.item, r.score])).toEqual([["alpha", "2"], ["beta", "1"]]);
    expect(page.url()).toBe(`${held.service.base}/?ns=${ns}`);
    expect(await page.evaluate(() => sessionStorage.getItem("tally.token"))).toBe(key);
    expect(problems.urls.filter((u) => u.includes(key))).toEqual([]);
    // The page asks for the admin panel's cache report, as with any token; a read key is refused it.
    expectClean(problems, [/^403 .*\/cache$/, /status of 403/]);
  });
});
