/**
 * Push, not poll, end to end under `wrangler dev`: the page follows its answers over WebSockets and
 * polls only while a socket cannot open; a webhook receiver on 127.0.0.1 verifies every Standard
 * Webhooks signature and gets one webhook-id through 500, 500, 200. Nothing sleeps: each step waits
 * (bounded) for what it expects.
 */
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, openTab } from "./support/browser.mjs";
import { expectClean, ranking, waitForTopItem } from "./support/page.mjs";
import { freshNamespace, startTally, tally } from "./support/service.mjs";

const TOKENS = { admin: "live-admin", ingest: "live-ingest" };

let service;
let browser;
let api;

beforeAll(async () => {
  service = await startTally({ ADMIN_TOKEN: TOKENS.admin, INGEST_TOKEN: TOKENS.ingest, LOCAL_WEBHOOK_LOOPBACK: "on" });
  api = tally(service.base, TOKENS);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

/** A namespace refreshed every 60 s, so that anything the page shows sooner came by push. */
async function seeded(prefix) {
  const ns = freshNamespace(prefix);
  await api.configure(ns, { refreshSeconds: 60 });
  await api.ingest(ns, [{ item: "song-a" }, { item: "song-a" }, { item: "song-b" }]);
  await api.refresh(ns);
  return ns;
}

const reads = (urls) => urls.filter((u) => /\/v1\/namespaces\/[^/]+\/(trending|dashboard)/.test(u)).length;

describe("the page", () => {
  it("shows a refresh's new answer within a second, with no polling while its sockets are open", async () => {
    const ns = await seeded("live-page");
    const { page, problems } = await openTab(browser.context);
    const sockets = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    await page.goto(`${service.base}/?ns=${ns}`);
    await waitForTopItem(page, "song-a");
    await expect.poll(() => sockets.length).toBe(2);
    const readsBefore = reads(problems.urls);
    await api.ingest(ns, [{ item: "song-new", weight: 50 }]);
    await api.refresh(ns);
    const refreshed = Date.now(); // the refresh has answered: its answers are in place
    await waitForTopItem(page, "song-new", 5000);
    expect(Date.now() - refreshed).toBeLessThan(1000);
    expect((await ranking(page))[0]).toMatchObject({ item: "song-new", score: "50" });
    expect(reads(problems.urls)).toBe(readsBefore); // pushed: no read was asked for
    expect(sockets.every((url) => url.includes(`/v1/namespaces/${ns}/live?`))).toBe(true);
    expectClean(problems);
    await page.close();
  });

  it("polls where a socket cannot open", async () => {
    const ns = freshNamespace("live-poll");
    await api.configure(ns, { refreshSeconds: 2 });
    await api.ingest(ns, [{ item: "song-a" }]);
    await api.refresh(ns);
    const { page, problems } = await openTab(browser.context);
    await page.routeWebSocket(/\/live\?/, (ws) => ws.close({ code: 1008, reason: "blocked by a proxy" }));
    await page.goto(`${service.base}/?ns=${ns}`);
    await waitForTopItem(page, "song-a");
    await api.ingest(ns, [{ item: "song-new", weight: 50 }]);
    await api.refresh(ns);
    await waitForTopItem(page, "song-new", 15_000);
    expect(reads(problems.urls)).toBeGreaterThan(2);
    expectClean(problems);
    await page.close();
  });
});

describe("a webhook receiver on 127.0.0.1", () => {
  it("verifies every signature, and gets one webhook-id three times through 500, 500, then 200", { timeout: 180_000 }, async () => {
    const statuses = [500, 500];
    const received = [];
    let secret = "";
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        let verified = true;
        try {
          new Webhook(secret).verify(body, req.headers);
        } catch {
          verified = false;
        }
        received.push({ id: req.headers["webhook-id"], verified, body: JSON.parse(body) });
        res.writeHead(verified ? (statuses.shift() ?? 200) : 400).end();
      });
    });
    await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const ns = freshNamespace("live-hook");
      await api.configure(ns, { refreshSeconds: 2 });
      await api.ingest(ns, [{ item: "a" }, { item: "a" }, { item: "b" }]);
      await api.refresh(ns);
      const url = `http://127.0.0.1:${receiver.address().port}/tally`;
      const put = await fetch(`${service.base}/v1/namespaces/${ns}/webhooks/top`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${TOKENS.admin}`, "Content-Type": "application/json" },
        body: JSON.stringify({ url, on: ["entered"], limit: 2 }),
      });
      expect(put.status).toBe(201);
      secret = (await put.json()).secret;
      await api.ingest(ns, [{ item: "c" }, { item: "c" }, { item: "c" }]);
      await api.refresh(ns);
      // The first attempt follows the refresh; the retries come 5 s and 30 s later, at the next alarms.
      await expect.poll(() => received.length, { timeout: 120_000, interval: 250 }).toBe(3);
      expect(received.every((r) => r.verified)).toBe(true);
      expect(new Set(received.map((r) => r.id)).size).toBe(1);
      expect(received[0].body).toMatchObject({ type: "ranking.entered", data: { namespace: ns, items: [{ item: "c", position: 1, score: 3 }] } });
    } finally {
      receiver.close();
    }
  });
});
