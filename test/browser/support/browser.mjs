/**
 * Browser-test support: Debian's chromium (/usr/bin/chromium) driven by playwright-core, headless,
 * with a fresh user-data dir per launch, and a watch on every page for console errors, failed
 * requests and error answers, so a test can say which of them it expected.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * `args`: more Chromium switches, for a test that needs one (embed.browser.mjs).
 * @returns {Promise<{context: import("playwright-core").BrowserContext, close: () => Promise<void>}>} */
export async function launch({ args = [] } = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), "tally-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [...ARGS, ...args],
    viewport: { width: 1280, height: 800 },
    locale: "en-US",
    timezoneId: "UTC",
    timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A new tab (its own sessionStorage) and what went wrong in it: console errors, page errors,
 * requests that failed, and answers with status >= 400; and every address it asked for.
 */
export async function openTab(context) {
  const page = await context.newPage();
  const problems = { console: [], failed: [], errors: [], urls: [] };
  page.on("request", (r) => problems.urls.push(r.url()));
  page.on("console", (m) => m.type() === "error" && problems.console.push(m.text()));
  page.on("pageerror", (e) => problems.console.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => problems.failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && problems.errors.push(`${r.status()} ${r.url()}`));
  return { page, problems };
}
