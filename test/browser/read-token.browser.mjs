/**
 * The dashboard page against a Tally whose reads are gated (READ_TOKEN set: reads answer 401
 * without a token): the page asks for a token, keeps it for the tab's session only, and tells a
 * token without the admin scope what it may not do (403).
 */
import { describe, expect, it } from "vitest";
import { openTab } from "./support/browser.mjs";
import { gatedTally } from "./support/gated.mjs";
import { expectClean, ranking, useToken } from "./support/page.mjs";
import { freshNamespace } from "./support/service.mjs";

const TOKENS = { admin: "tok-admin-5e1", ingest: "tok-ingest-9c2", read: "tok-read-3a7" };

const held = gatedTally(TOKENS);

async function seeded(prefix) {
  const ns = freshNamespace(prefix);
  await held.api.ingest(ns, [{ item: "alpha" }, { item: "alpha" }, { item: "beta" }]);
  await held.api.refresh(ns);
  return ns;
}

/** Reads that answer 401 before the token is typed, and what the browser logs about them. */
const UNAUTHORIZED = [/^401 /, /status of 401/];

describe("reads gated by READ_TOKEN", () => {
  it("asks for a read token, refuses a wrong one, and shows the namespace once a read token is typed", async () => {
    const ns = await seeded("gated-read");
    const { page, problems } = await openTab(held.browser.context);
    await page.goto(`${held.service.base}/?ns=${ns}`);

    await expect.poll(() => page.locator("#notice").textContent()).toBe("This service needs a read token to show its data.");
    expect(await page.locator("#token-form").isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("token-input");
    expect(await page.locator("#board").isHidden()).toBe(true);

    await useToken(page, "not-a-token");
    await expect.poll(() => page.locator("#notice").textContent()).toBe("That token is not valid here. Type a read token to see this namespace.");

    await useToken(page, TOKENS.read);
    await page.locator("#ranking li").first().waitFor();
    expect((await ranking(page)).map((r) => [r.item, r.score])).toEqual([["alpha", "2"], ["beta", "1"]]);
    expect(await page.evaluate(() => sessionStorage.getItem("tally.token"))).toBe(TOKENS.read);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    // The token travels in the Authorization header only: never in an address the page asked for.
    expect(problems.urls.length).toBeGreaterThan(5);
    expect(problems.urls.filter((u) => u.includes(TOKENS.read))).toEqual([]);
    expect(page.url()).not.toContain(TOKENS.read);

    // A read token is not an admin token: the panel says so, and offers no actions.
    await expect.poll(() => page.locator("#admin-state").textContent()).toMatch(/^This token may not administer/);
    expect(await page.locator("#admin-actions").isHidden()).toBe(true);
    expectClean(problems, [...UNAUTHORIZED, /^403 .*\/cache$/, /status of 403/]);
    await page.close();
  });

  it("keeps the token for the tab's session only: a reload keeps it, a new tab asks again", async () => {
    const ns = await seeded("gated-session");
    const first = await openTab(held.browser.context);
    await first.page.goto(`${held.service.base}/?ns=${ns}`);
    await first.page.locator("#token-form").waitFor();
    await useToken(first.page, TOKENS.admin);
    await first.page.locator("#ranking li").first().waitFor();
    await first.page.reload();
    await first.page.locator("#ranking li").first().waitFor();
    await first.page.locator("#admin-report table").waitFor();

    const second = await openTab(held.browser.context);
    await second.page.goto(`${held.service.base}/?ns=${ns}`);
    await expect.poll(() => second.page.locator("#notice").textContent()).toBe("This service needs a read token to show its data.");
    expectClean(first.problems, UNAUTHORIZED);
    expectClean(second.problems, UNAUTHORIZED);
    await first.page.close();
    await second.page.close();
  });

  it("lists namespaces for the admin token only: a read token is told it may not (403)", async () => {
    const ns = await seeded("gated-list");
    const { page, problems } = await openTab(held.browser.context);
    await page.goto(`${held.service.base}/`);
    await useToken(page, TOKENS.read);
    await expect.poll(() => page.locator("#list-state").textContent()).toMatch(/^This token may not administer: listing namespaces needs the admin token\.$/);
    expect(await page.locator("#ns-list li").count()).toBe(0);

    await useToken(page, TOKENS.admin);
    await page.getByLabel("Names starting with").fill(ns);
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.$$eval("#ns-list a", (a) => a.map((x) => x.textContent))).toEqual([ns]);
    expectClean(problems, [/^403 .*\/v1\/namespaces\?/, /status of 403/]);
    expect(problems.errors).toHaveLength(1);
    await page.close();
  });
});
