/**
 * Webhooks (docs/api.md, "Webhooks"): entered, left and spike against exact oracles; Standard
 * Webhooks signatures that a receiver verifies; retries under one webhook-id; failures in GET
 * .../webhooks and /cache; a pause after 24 hours of failure. The receiver is the object's
 * outbound fetch, stubbed; the clock is driven (Date only) and alarms are run, never waited for.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CacheReport, WebhookPut, WebhookStatus } from "../src/shared/contract";
import { admin, expectError, freshNamespace, ingestAll, json, stubOf, type EventInput } from "./support/http";
import { eventually } from "./support/eventually";

interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  payload: { type: string; data: { items: Record<string, unknown>[] } };
}

/** A receiver at RECEIVER: answers with `statuses` in turn (then 200), and verifies each message
 * with the webhook's secret, as a receiver should. */
const RECEIVER = "http://127.0.0.1:8788/hook";
let received: Received[] = [];
let statuses: number[] = [];
let secret = "";
const realFetch = globalThis.fetch;

beforeEach(() => {
  received = [];
  statuses = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(RECEIVER)) return realFetch(input, init);
    const headers = new Headers(init?.headers);
    const body = String(init?.body);
    new Webhook(secret).verify(body, Object.fromEntries(headers)); // throws on a bad signature
    received.push({ id: headers.get("webhook-id")!, timestamp: headers.get("webhook-timestamp")!, signature: headers.get("webhook-signature")!, body, payload: JSON.parse(body) });
    return new Response(null, { status: statuses.shift() ?? 200 });
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});


async function receivedAtLeast(n: number): Promise<Received[]> {
  await eventually(() => received.length >= n, `${n} messages (${received.length} came)`);
  return received;
}

/** The webhook once its `attempt`th attempt is recorded. */
async function afterAttempt(ns: string, attempt: number, id = "alerts"): Promise<WebhookStatus> {
  let hook: WebhookStatus | undefined;
  await eventually(async () => {
    hook = await json<WebhookStatus>(await admin("GET", ns, `webhooks/${id}`));
    return (hook.lastDelivery?.attempt ?? 0) >= attempt || hook.paused;
  }, `attempt ${attempt} recorded`);
  return hook!;
}

const times = (item: string, n: number, ts?: number): EventInput[] => Array.from({ length: n }, () => (ts === undefined ? { item } : { item, ts }));

/** Ingests `events`, then refreshes. A test that drives Date moves it on a second first: an
 * answer counts the events before its instant, not those stamped at it. */
async function ingestThenRefresh(ns: string, events: EventInput[]): Promise<void> {
  await ingestAll(ns, events);
  if (vi.isFakeTimers()) vi.setSystemTime(Date.now() + 1000);
  await runDurableObjectAlarm(stubOf(ns));
}

async function namespaceWith(events: EventInput[]): Promise<string> {
  const ns = freshNamespace("hooks");
  await ingestThenRefresh(ns, events);
  return ns;
}

async function putHook(ns: string, body: Record<string, unknown>, id = "alerts"): Promise<WebhookPut> {
  const res = await admin("PUT", ns, `webhooks/${id}`, { url: RECEIVER, ...body });
  const put = await json<WebhookPut>(res);
  expect(res.status, JSON.stringify(put)).toBe(201);
  secret = put.secret!;
  return put;
}

const itemsOf = (r: Received) => r.payload.data.items;
const byItem = (items: Record<string, unknown>[]) => [...items].sort((a, b) => String(a.item).localeCompare(String(b.item)));

describe("a webhook's events", () => {
  it("entered and left: the items that came into and went out of the first `limit` places", async () => {
    const ns = await namespaceWith([...times("a", 5), ...times("b", 4), ...times("c", 1)]);
    const put = await putHook(ns, { on: ["entered", "left"], window: "1h", rank: "top", limit: 2 });
    expect(put.secret).toMatch(/^whsec_/);
    // Oracle: top 2 was [a, b]; with d 6 and c 4 more it is [d 6, a 5]: d entered at 1, b left.
    await ingestThenRefresh(ns, [...times("d", 6), ...times("c", 3)]);
    const messages = await receivedAtLeast(2);
    const byType = Object.fromEntries(messages.map((m) => [m.payload.type, itemsOf(m)]));
    expect(byType).toEqual({ "ranking.entered": [{ item: "d", position: 1, score: 6 }], "ranking.left": [{ item: "b" }] });
    // An unchanged ranking sends nothing more.
    await runDurableObjectAlarm(stubOf(ns));
    await ingestThenRefresh(ns, times("a", 2)); // [a 7, d 6]: the same two places
    await ingestThenRefresh(ns, times("b", 4)); // [b 8, a 7]: b entered at 1, d left
    const later = (await receivedAtLeast(4)).slice(2);
    expect(Object.fromEntries(later.map((m) => [m.payload.type, itemsOf(m)]))).toEqual({
      "ranking.entered": [{ item: "b", position: 1, score: 8 }],
      "ranking.left": [{ item: "d" }],
    });
  });

  it("entered with rank=reach (v1.5): the item more actors sent enters, not the one with more events", async () => {
    const byActors = (item: string, actors: number, prefix = "u"): EventInput[] => Array.from({ length: actors }, (_, i) => ({ item, actor: `${prefix}-${i}` }));
    const ns = await namespaceWith([...byActors("a", 3), ...byActors("b", 2)]);
    await putHook(ns, { on: ["entered"], window: "1h", rank: "reach", limit: 1 });
    // Oracle: reach [a 3]; "spam" gets 50 events from one actor (reach 1), "wide" 4 actors: wide enters.
    await ingestThenRefresh(ns, [...Array.from({ length: 50 }, () => ({ item: "spam", actor: "bot" })), ...byActors("wide", 4, "w")]);
    const [message] = await receivedAtLeast(1);
    expect(message!.payload.type).toBe("ranking.entered");
    expect(itemsOf(message!)).toEqual([{ item: "wide", position: 1, score: 4 }]);
  });

  it("spike: score in the window at least factor × the preceding period, and at least minScore, once per spike", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const now = Date.now();
    const before = now - 90 * 60_000; // in the preceding hour of the 1h window
    const ns = await namespaceWith([...times("s", 2, before), ...times("t", 2, before), ...times("w", 1, before), ...times("w", 1)]);
    await putHook(ns, { on: ["spike"], window: "1h", spike: { factor: 3, minScore: 5 } });
    // Oracle (current, previous): s (7, 2) spikes: 7 >= 6 and >= 5; t (5, 2) does not: 5 < 6;
    // u (6, 0) spikes; v (3, 0) is under minScore; w (1+2, 1) is under minScore.
    await ingestThenRefresh(ns, [...times("s", 7), ...times("t", 5), ...times("u", 6), ...times("v", 3), ...times("w", 2)]);
    const [spike] = await receivedAtLeast(1);
    expect(spike!.payload.type).toBe("ranking.spike");
    // In the rising answer's order (u, new, ranks above s); compared by item here.
    expect(byItem(itemsOf(spike!))).toEqual([
      { item: "s", current: 7, previous: 2 },
      { item: "u", current: 6, previous: 0 },
    ]);
    // Still spiking: not told again. t now spikes (7 >= 6): told of t alone.
    await ingestThenRefresh(ns, [...times("s", 1), ...times("t", 2)]);
    const [, again] = await receivedAtLeast(2);
    expect(itemsOf(again!)).toEqual([{ item: "t", current: 7, previous: 2 }]);
  });
});

describe("delivery", () => {
  it("is retried with backoff under one webhook-id: 500, 500, then 200, and each attempt is signed", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const ns = await namespaceWith([...times("a", 3), ...times("b", 2)]);
    await putHook(ns, { on: ["entered"], limit: 2 });
    statuses = [500, 500];
    await ingestThenRefresh(ns, times("c", 4));
    await receivedAtLeast(1);
    await afterAttempt(ns, 1);
    const failing = (await json<{ webhooks: WebhookStatus[] }>(await admin("GET", ns, "webhooks"))).webhooks[0]!;
    expect(failing).toMatchObject({ id: "alerts", pending: 1, paused: false, lastDelivery: { attempt: 1, outcome: "failed", status: 500 } });
    expect(failing.failingSince).not.toBeNull();
    expect((await json<CacheReport>(await admin("GET", ns, "cache"))).webhooks).toMatchObject({ webhooks: 1, failing: 1, pending: 1 });
    // Not before its backoff: a refresh 1 s later sends nothing.
    vi.setSystemTime(Date.now() + 1000);
    await runDurableObjectAlarm(stubOf(ns));
    vi.setSystemTime(Date.now() + 5000);
    await runDurableObjectAlarm(stubOf(ns));
    await receivedAtLeast(2);
    await afterAttempt(ns, 2);
    vi.setSystemTime(Date.now() + 30_000);
    await runDurableObjectAlarm(stubOf(ns));
    const attempts = await receivedAtLeast(3);
    await afterAttempt(ns, 3);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    expect(attempts[0]!.id).toMatch(/^msg_/);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    const delivered = await json<WebhookStatus>(await admin("GET", ns, "webhooks/alerts"));
    expect(delivered).toMatchObject({ pending: 0, failingSince: null, lastDelivery: { attempt: 3, outcome: "delivered", status: 200, id: attempts[0]!.id } });
    expect(delivered).not.toHaveProperty("secret");
  });

  it("pauses a webhook that failed for 24 hours, says so, and resumes when it is PUT again", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const ns = await namespaceWith([...times("a", 3), ...times("b", 2)]);
    await putHook(ns, { on: ["entered"], limit: 2 });
    statuses = Array.from({ length: 50 }, () => 503);
    await ingestThenRefresh(ns, times("c", 4));
    let seen = 1;
    await receivedAtLeast(seen);
    let hook = await afterAttempt(ns, seen);
    while (!hook.paused) {
      expect(seen).toBeLessThan(10);
      vi.setSystemTime(Date.now() + 9 * 3_600_000);
      await runDurableObjectAlarm(stubOf(ns));
      await receivedAtLeast(++seen);
      hook = await afterAttempt(ns, seen);
    }
    expect(hook).toMatchObject({ paused: true, pending: 0, lastDelivery: { outcome: "failed", status: 503 } });
    expect((await json<CacheReport>(await admin("GET", ns, "cache"))).webhooks).toMatchObject({ paused: 1 });
    const resumed = await admin("PUT", ns, "webhooks/alerts", { url: RECEIVER, on: ["entered"], limit: 2 });
    expect(resumed.status).toBe(200);
    expect(await json(resumed)).toMatchObject({ paused: false, failingSince: null, created: false });
  });
});

describe("the webhook routes", () => {
  it("refuse bad specs, a 21st webhook, and unknown ids, each with its code", async () => {
    const ns = await namespaceWith(times("a", 1));
    await expectError(await admin("PUT", ns, "webhooks/x", { url: "http://example.com/hook", on: ["entered"] }), 400, "invalid_webhook");
    await expectError(await admin("PUT", ns, "webhooks/x", { url: "https://example.com/hook", on: ["jumped"] }), 400, "invalid_webhook");
    await expectError(await admin("PUT", ns, "webhooks/x", { url: "https://example.com/hook", on: ["left"], window: "30d" }), 400, "invalid_webhook");
    await expectError(await admin("PUT", ns, "webhooks/x", { url: "https://example.com/hook", on: ["left"], limit: 5000 }), 400, "invalid_webhook");
    await expectError(await admin("PUT", ns, "webhooks/Bad!", { url: "https://example.com/hook", on: ["left"] }), 400, "invalid_webhook_id");
    for (let i = 0; i < 20; i++) expect((await admin("PUT", ns, `webhooks/w${i}`, { url: "https://example.com/hook", on: ["left"] })).status).toBe(201);
    await expectError(await admin("PUT", ns, "webhooks/w20", { url: "https://example.com/hook", on: ["left"] }), 409, "too_many_webhooks");
    expect((await json<{ webhooks: unknown[] }>(await admin("GET", ns, "webhooks"))).webhooks).toHaveLength(20);
    expect((await admin("DELETE", ns, "webhooks/w0")).status).toBe(200);
    await expectError(await admin("DELETE", ns, "webhooks/w0"), 404, "webhook_not_found");
    await expectError(await admin("GET", ns, "webhooks/w0"), 404, "webhook_not_found");
  });
});
