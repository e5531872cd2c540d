/**
 * Quotas (docs/api.md v1.2, "Quotas"): a key's limits and a namespace's config `limits`, charged at
 * the Worker before anything is recorded, in one-minute windows. The clock is driven with fake
 * Dates, never slept on.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { admin, expectError, freshNamespace, get, ingest, json, refresh } from "./support/http";
import { createKey, withKey } from "./support/keys";

afterEach(() => vi.useRealTimers());

const MINUTE = 60_000;
/** A time at the start of a minute, so a test knows where its window ends. */
function startOfAMinute(): number {
  vi.useFakeTimers({ toFake: ["Date"] });
  const start = (Math.floor(Date.now() / MINUTE) + 1) * MINUTE;
  vi.setSystemTime(start);
  return start;
}

const batch = (n: number, batchId?: string) => ({ ...(batchId ? { batchId } : {}), events: Array.from({ length: n }, (_, i) => ({ item: `i${i % 3}` })) });

async function expectRateLimited(res: Response, limit: string, retryAfter: number) {
  const error = await expectError(res, 429, "rate_limited");
  expect(error).toMatchObject({ limit, retryAfterSeconds: retryAfter });
  expect(res.headers.get("Retry-After")).toBe(String(retryAfter));
}

/** The events the namespace counted, read a second later (the fake clock stands still, and a
 * window ends before its `to`). */
async function total(ns: string): Promise<number> {
  vi.setSystemTime(Date.now() + 1000);
  await refresh(ns);
  return (await json<{ events: number }>(await get(ns, "stats", { window: "1h" }))).events;
}

describe("a key's eventsPerMinute", () => {
  it("accepts a batch that reaches the limit exactly, refuses one event over, and opens again at the next minute", async () => {
    const start = startOfAMinute();
    const ns = freshNamespace("quota");
    const { key } = await createKey({ label: "limited", scopes: ["ingest"], namespaces: [ns], limits: { eventsPerMinute: 10 } });
    const events = `/v1/namespaces/${ns}/events`;
    expect((await withKey(key, "POST", events, batch(6))).status).toBe(202);
    expect((await withKey(key, "POST", events, batch(4))).status).toBe(202); // 10: at the limit
    vi.setSystemTime(start + 45_500);
    await expectRateLimited(await withKey(key, "POST", events, batch(1)), "eventsPerMinute", 15);
    vi.setSystemTime(start + MINUTE - 1);
    await expectRateLimited(await withKey(key, "POST", events, batch(1)), "eventsPerMinute", 1);
    vi.setSystemTime(start + MINUTE); // the next window
    expect((await withKey(key, "POST", events, batch(10))).status).toBe(202);
    await expectRateLimited(await withKey(key, "POST", events, batch(1)), "eventsPerMinute", 60);
  });

  it("records nothing of a refused batch, so its retry under the same batchId counts it once", async () => {
    const start = startOfAMinute();
    const ns = freshNamespace("quota");
    // 6: room for the retry of an accepted batch too, which is charged like any request (the
    // Worker cannot know it is a retry before the object answers).
    const { key } = await createKey({ label: "retry", scopes: ["ingest"], namespaces: [ns], limits: { eventsPerMinute: 6 } });
    const events = `/v1/namespaces/${ns}/events`;
    expect((await withKey(key, "POST", events, batch(4, "first"))).status).toBe(202);
    await expectRateLimited(await withKey(key, "POST", events, batch(3, "second")), "eventsPerMinute", 60);
    vi.setSystemTime(start + MINUTE);
    expect((await withKey(key, "POST", events, batch(3, "second"))).status).toBe(202);
    const again = await withKey(key, "POST", events, batch(3, "second"));
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ duplicate: true });
    expect(await total(ns)).toBe(7);
  });
});

describe("a key's requestsPerMinute", () => {
  it("counts every request the key makes, reads and admin included", async () => {
    startOfAMinute();
    const ns = freshNamespace("quota");
    await ingest(ns, [{ item: "a" }]);
    const { key } = await createKey({ label: "reader", scopes: ["admin"], namespaces: [ns], limits: { requestsPerMinute: 3 } });
    expect((await withKey(key, "GET", `/v1/namespaces/${ns}/stats`)).status).toBe(200);
    expect((await withKey(key, "GET", `/v1/namespaces/${ns}/config`)).status).toBe(200);
    expect((await withKey(key, "POST", `/v1/namespaces/${ns}/events`, batch(1))).status).toBe(202);
    await expectRateLimited(await withKey(key, "GET", `/v1/namespaces/${ns}/stats`), "requestsPerMinute", 60);
  });

  it("is the key's own: another key of the same namespace is not limited by it", async () => {
    startOfAMinute();
    const ns = freshNamespace("quota");
    await ingest(ns, [{ item: "a" }]);
    const limited = await createKey({ label: "one a minute", scopes: ["read"], namespaces: [ns], limits: { requestsPerMinute: 1 } });
    const free = await createKey({ label: "unlimited", scopes: ["read"], namespaces: [ns] });
    expect((await withKey(limited.key, "GET", `/v1/namespaces/${ns}/stats`)).status).toBe(200);
    await expectRateLimited(await withKey(limited.key, "GET", `/v1/namespaces/${ns}/stats`), "requestsPerMinute", 60);
    for (let i = 0; i < 3; i += 1) expect((await withKey(free.key, "GET", `/v1/namespaces/${ns}/stats`)).status).toBe(200);
  });
});

describe("a namespace's config limits", () => {
  it("limit its ingest through every token and key, and a refusal spends nothing of the key's own quota", async () => {
    startOfAMinute();
    const ns = freshNamespace("quota");
    const unlimited = freshNamespace("quota");
    expect((await admin("PUT", ns, "config", { limits: { eventsPerMinute: 5, requestsPerMinute: 3 } })).status).toBe(200);
    const { key } = await createKey({ label: "app", scopes: ["ingest"], namespaces: [ns, unlimited], limits: { eventsPerMinute: 8 } });
    expect((await ingest(ns, batch(4).events)).status).toBe(202); // the environment token counts too
    await expectRateLimited(await withKey(key, "POST", `/v1/namespaces/${ns}/events`, batch(2)), "eventsPerMinute", 60);
    // In the same minute, the key still has all of its 8: the 2 the refused batch took were given back.
    expect((await withKey(key, "POST", `/v1/namespaces/${unlimited}/events`, batch(8))).status).toBe(202);
    await expectRateLimited(await withKey(key, "POST", `/v1/namespaces/${unlimited}/events`, batch(1)), "eventsPerMinute", 60);
    expect((await ingest(ns, batch(1).events)).status).toBe(202); // the namespace's fifth event
    await expectRateLimited(await ingest(ns, batch(1).events), "eventsPerMinute", 60);
  });

  it("requestsPerMinute counts ingest batches of the namespace", async () => {
    startOfAMinute();
    const ns = freshNamespace("quota");
    expect((await admin("PUT", ns, "config", { limits: { requestsPerMinute: 2 } })).status).toBe(200);
    expect((await ingest(ns, [{ item: "a" }])).status).toBe(202);
    expect((await ingest(ns, [{ item: "a" }])).status).toBe(202);
    await expectRateLimited(await ingest(ns, [{ item: "a" }]), "requestsPerMinute", 60);
  });
});
