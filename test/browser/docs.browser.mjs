/**
 * The API reference page (GET /docs) in a real browser, against Tally under `wrangler dev`: it
 * renders the description the Worker serves (GET /openapi.json) with the Scalar bundle served from
 * public/docs/dist, and asks nothing of any other origin (the page must work offline). Nothing
 * sleeps: each step waits (bounded) for the page to show what it looks for.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, openTab } from "./support/browser.mjs";
import { expectClean } from "./support/page.mjs";
import { startTally } from "./support/service.mjs";

let service;
let browser;
let description;

beforeAll(async () => {
  service = await startTally({ ADMIN_TOKEN: "docs-admin", INGEST_TOKEN: "docs-ingest" });
  browser = await launch();
  description = await (await fetch(`${service.base}/openapi.json`)).json();
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

/** Every described operation: "METHOD /path" and its summary. */
const operations = () =>
  Object.entries(description.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, summary: op.summary })));

/**
 * /docs in a new tab, every request to another origin refused and remembered: the page must show
 * everything without one, and the test says which were tried.
 */
async function openDocs() {
  const tab = await openTab(browser.context);
  const elsewhere = [];
  await tab.page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${service.base}/`)) return route.continue();
    elsewhere.push(url);
    return route.abort("blockedbyclient");
  });
  const res = await tab.page.goto(`${service.base}/docs`);
  expect(res.status()).toBe(200);
  // The sidebar's entry of the first operation: the description has been fetched and rendered.
  await tab.page.getByText(operations()[0].summary, { exact: true }).first().waitFor();
  return { ...tab, res, elsewhere };
}

describe("the API reference page", () => {
  it("lists every operation of the description, loading nothing from another origin", async () => {
    const { page, problems, elsewhere } = await openDocs();
    expect(operations().length).toBeGreaterThan(10);
    for (const { name, summary } of operations()) {
      await expect.poll(() => page.getByText(summary, { exact: true }).first().isVisible(), `${name}: "${summary}"`).toBe(true);
    }
    for (const tag of description.tags) await expect.poll(() => page.getByText(tag.name, { exact: true }).first().isVisible(), tag.name).toBe(true);

    expect(elsewhere).toEqual([]);
    const away = problems.urls.filter((url) => !url.startsWith(`${service.base}/`) && !/^(data|blob):/.test(url));
    expect(away).toEqual([]);
    // The renderer and the description came from this origin.
    expect(problems.urls).toContain(`${service.base}/docs/dist/api-reference.js`);
    expect(problems.urls).toContain(`${service.base}/openapi.json`);
    // No console error: a CSP refusal (of a style, a script, a font) would be one.
    expectClean(problems);
  });

  it("opens the ingest operation: its summary, its description and its 429 refusal", async () => {
    const { page, problems } = await openDocs();
    const ingest = description.paths["/v1/namespaces/{ns}/events"].post;
    await page.getByText(ingest.summary, { exact: true }).first().click();
    await expect.poll(() => page.getByRole("heading", { name: ingest.summary, exact: true }).isVisible()).toBe(true);
    const firstSentence = ingest.description.split(":")[0];
    await expect.poll(() => page.getByText(firstSentence).first().isVisible()).toBe(true);
    // The refusal docs/api.md adds for a namespace holding too many pending events.
    // Rendered from Markdown: `code` loses its backticks on the page.
    const refusal = page.getByText(ingest.responses["429"].description.split(":")[0].replaceAll("`", "")).first();
    await refusal.scrollIntoViewIfNeeded();
    await expect.poll(() => refusal.isVisible()).toBe(true);
    expectClean(problems);
  });

  it("sends a test request to this origin, not through a proxy, and shows the answer", async () => {
    const { page, problems, elsewhere } = await openDocs();
    const health = description.paths["/healthz"].get;
    await page.getByText(health.summary, { exact: true }).first().click();
    await page.getByRole("heading", { name: health.summary, exact: true }).waitFor();
    await page.getByRole("button", { name: /Test Request/ }).first().click();
    const answered = page.waitForResponse((r) => r.url() === `${service.base}/healthz`);
    await page.getByRole("button", { name: /^Send/ }).first().click();
    expect((await answered).status()).toBe(200);
    await expect.poll(() => page.getByText("200 OK").first().isVisible()).toBe(true);
    expect(elsewhere).toEqual([]);
    expectClean(problems);
  });

  it("allows inline styles on this page alone, and scripts from this origin only", async () => {
    const { res } = await openDocs();
    const policy = (header) => Object.fromEntries(header.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    const docs = policy(res.headers()["content-security-policy"]);
    expect(docs["script-src"]).toEqual(["'self'"]);
    expect(docs["style-src"]).toEqual(["'self'", "'unsafe-inline'"]);
    expect(docs["connect-src"]).toEqual(["'self'"]);
    expect(docs["default-src"]).toEqual(["'self'"]);
    // One policy, not the page-wide one as well (two would both apply, and block the styles).
    expect(res.headers()["content-security-policy"]).not.toContain(",");
    const dashboard = policy((await fetch(`${service.base}/`)).headers.get("content-security-policy"));
    expect(dashboard["style-src"]).toEqual(["'self'"]);
  });
});
