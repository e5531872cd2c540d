/**
 * Browser-test support: what the tests read off the dashboard page, and the check that nothing
 * went wrong in a tab except what a test expected.
 */
import { expect } from "vitest";

/** The ranking as shown: [{item, score, error}] in page order (numbers as the page formats them). */
export function ranking(page) {
  return page.$$eval("#ranking li", (rows) =>
    rows.map((li) => ({
      item: li.querySelector(".item")?.textContent ?? "",
      score: li.querySelector(".score")?.firstChild?.textContent ?? "",
      error: li.querySelector(".error")?.textContent.replace("±", "").trim() ?? null,
      inexact: li.classList.contains("inexact"),
    })),
  );
}

/** The totals as shown, by key: events, weight, unique-items, unique-actors. */
export function totals(page) {
  return page.$$eval("#totals dd[data-total]", (dds) => Object.fromEntries(dds.map((dd) => [dd.dataset.total, dd.textContent])));
}

/** The compared period's totals as shown beside them ("before 3 · +66.7%"), by the same keys. */
export function previousTotals(page) {
  return page.$$eval("#totals dd[data-previous]", (dds) => Object.fromEntries(dds.map((dd) => [dd.dataset.previous, dd.textContent])));
}

/** Waits (bounded) until the first ranked item is `item`. */
export async function waitForTopItem(page, item, timeout = 20_000) {
  await page.waitForFunction((name) => document.querySelector("#ranking li .item")?.textContent === name, item, { timeout, polling: 100 });
}

/**
 * Nothing failed in the tab: no console error, no uncaught exception, no failed request and no
 * error answer, except those matching `allowed` (regular expressions a test expects to see).
 */
export function expectClean(problems, allowed = []) {
  // A read the page itself cancelled by navigating (a reload, opening another namespace) ends in
  // net::ERR_ABORTED: not a failure of the service, which shows as an error answer or another error.
  const expected = [...allowed, /: net::ERR_ABORTED$/];
  const unexpected = (list) => list.filter((line) => !expected.some((pattern) => pattern.test(line)));
  // Joined into one string, so a failure prints every line in full.
  expect(unexpected(problems.console).join("\n"), "console errors").toBe("");
  expect(unexpected(problems.failed).join("\n"), "failed requests").toBe("");
  expect(unexpected(problems.errors).join("\n"), "error answers").toBe("");
}

/** Types a token into the page's token form, as a person would. */
export async function useToken(page, value) {
  if (await page.locator("#token-form").isHidden()) await page.getByRole("button", { name: /^Token/ }).click();
  await page.getByLabel(/^Token/).fill(value);
  await page.getByRole("button", { name: "Use token" }).click();
}
