/**
 * Hostile and heavy input, tried as an attacker (or a fleet of phones with fast clocks) would,
 * through the public API: every accepted input stays inside the memory budget, no request gets a
 * 5xx, a restart succeeds, every acknowledged event is counted exactly once, and no answer
 * exceeds its size bound (docs/api.md, "Resource limits").
 */
import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CacheReport, DashboardSnapshot, StatsSnapshot, TrendingSnapshot } from "../src/shared/contract";
import { MAX_ANSWER_BYTES } from "../src/core/answer-size";
import { maxCapacityWithin } from "../src/core/budget";
import { MEMORY_BUDGET_BYTES } from "../src/core/memory";
import { MAX_PENDING_EVENTS } from "../src/core/pending";
import { MAX_UNDECLARED_TYPES, OTHER_TYPES } from "../src/core/type-names";
import { TallyError } from "../src/shared/errors";
import { PendingRefusals } from "../src/worker/pending-refusals";
import { admin, aroundAggregator, fetchWith, freshNamespace, get, ingest, json, refresh, stubOf, type EventInput } from "./support/http";

const MINUTE = 60_000;

afterEach(() => {
  vi.useRealTimers();
});

/** Bytes of an answer as served. */
async function bodyBytes(res: Response): Promise<number> {
  expect(res.status).toBe(200);
  return (await res.arrayBuffer()).byteLength;
}

async function cacheOf(ns: string): Promise<CacheReport> {
  const res = await admin("GET", ns, "cache");
  expect(res.status).toBe(200);
  return json<CacheReport>(res);
}

/** Sends `batches` batches of `size` events made by `event(i)`, each answered 202. */
async function flood(ns: string, batches: number, event: (i: number) => EventInput, batchId = (b: number) => `${ns}-${b}`, size = 1000) {
  for (let b = 0; b < batches; b++) {
    const res = await ingest(ns, Array.from({ length: size }, (_, i) => event(b * size + i)), { batchId: batchId(b) });
    expect(res.status).toBe(202);
  }
}

const stats = async (ns: string, window = "1h") => json<StatsSnapshot>(await get(ns, "stats", { window }));

/** A distinct item of exactly `bytes` bytes. */
const longItem = (i: number, bytes = 200) => `${i}`.padStart(12, "0") + "x".repeat(bytes - 12);

describe("a flood of future-stamped events with long distinct names", () => {
  it("costs no memory while pending, survives refreshes and restarts, and counts every event once when due", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + 1000;
    vi.setSystemTime(start);
    const ns = freshNamespace("flood");
    await flood(ns, 1, (i) => ({ item: `now-${i % 10}`, ts: start - 1000 })); // a namespace in use
    await refresh(ns);
    const before = (await cacheOf(ns)).memory.bytes;

    // 30 batches of 1000 events, each 4 minutes ahead (accepted: the lead is at most 5 minutes).
    const ahead = 30;
    await flood(ns, ahead, (i) => ({ item: longItem(i), ts: start + 4 * MINUTE, actor: `a-${i}` }), (b) => `ahead-${b}`);
    await refresh(ns);
    const held = await cacheOf(ns);
    expect(held.refreshErrors).toBe(0);
    // Pending events are held in storage: memory does not grow with them (a few KB of answers).
    expect(held.memory.bytes - before).toBeLessThan(64 * 1024);
    expect(held.memory.bytes).toBeLessThanOrEqual(held.memory.budgetBytes);
    expect((await stats(ns)).events).toBe(1000); // not counted before their time

    // A retried batch of the flood is a duplicate, counted nothing again.
    const retry = await ingest(ns, [{ item: "ignored", ts: start + 4 * MINUTE }], { batchId: "ahead-3" });
    expect(retry.status).toBe(200);
    expect(await json(retry)).toEqual({ accepted: 1000, duplicate: true });

    // Restart while they are still ahead: start-up reads two numbers, not the events.
    await evictDurableObject(stubOf(ns));
    await refresh(ns);
    expect((await stats(ns)).events).toBe(1000);

    // Due: every one counted once, through a refresh and another restart.
    vi.setSystemTime(start + 5 * MINUTE);
    await refresh(ns);
    const due = await stats(ns);
    expect(due.events).toBe(1000 + ahead * 1000);
    expect(due.uniqueItems).toBeGreaterThan(0.98 * ahead * 1000);
    const counted = await cacheOf(ns);
    expect(counted.memory.bytes).toBeLessThanOrEqual(counted.memory.budgetBytes);
    await evictDurableObject(stubOf(ns));
    await refresh(ns);
    expect((await stats(ns)).events).toBe(1000 + ahead * 1000);
    const rows = await runCount(ns, "SELECT count(*) AS n FROM pending_events");
    expect(rows).toBe(0); // the checkpoint that counted them deleted them
  });

  it("counts an event that came due between two refreshes in an answer computed on demand", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + 1000;
    vi.setSystemTime(start);
    const ns = freshNamespace("due-on-read");
    expect((await ingest(ns, [{ item: "soon", ts: start + 30_000 }, { item: "later", ts: start + 4 * MINUTE }])).status).toBe(202);
    vi.setSystemTime(start + 31_000);
    // A window no refresh precomputes: the object computes it now, after counting what is due.
    const answer = await stats(ns, "5m");
    expect(answer.events).toBe(1);
  });
});

/** One number from the namespace's SQLite. */
async function runCount(ns: string, query: string): Promise<number> {
  const { runInDurableObject } = await import("cloudflare:test");
  return runInDurableObject(stubOf(ns), (_, state) => state.storage.sql.exec<{ n: number }>(query).one().n);
}

describe("the cap on pending events", () => {
  it(`refuses a batch that would hold more than ${MAX_PENDING_EVENTS} whole, with 429 and Retry-After, and takes it again once some are due`, async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + 1000;
    vi.setSystemTime(start);
    const ns = freshNamespace("cap");
    const first = start + 2 * MINUTE;
    await flood(ns, MAX_PENDING_EVENTS / 1000, (i) => ({ item: `f-${i % 1000}`, ts: first + (i % 1000) }));

    const over = await ingest(ns, [{ item: "one-too-many", ts: start + 3 * MINUTE }, { item: "due-now" }], { batchId: "over" });
    expect(over.status).toBe(429);
    const body = await json<{ error: { code: string; limit: number; pending: number } }>(over);
    expect(body.error).toMatchObject({ code: "too_many_pending", limit: MAX_PENDING_EVENTS, pending: MAX_PENDING_EVENTS });
    expect(Number(over.headers.get("Retry-After"))).toBe(120); // until the first pending event is due
    // A batch of events due now only is never refused.
    expect((await ingest(ns, [{ item: "now", ts: start - 1000 }])).status).toBe(202);

    vi.setSystemTime(first + 1000);
    await refresh(ns);
    // Nothing of the refused batch was kept: retried under the same id, it is counted once.
    const again = await ingest(ns, [{ item: "one-too-many", ts: start + 3 * MINUTE }, { item: "due-now" }], { batchId: "over" });
    expect(again.status).toBe(202);
    vi.setSystemTime(start + 4 * MINUTE);
    await refresh(ns);
    expect((await stats(ns)).events).toBe(MAX_PENDING_EVENTS + 1 + 2);
    const report = await cacheOf(ns);
    expect(report.refreshErrors).toBe(0);
    expect(report.memory.bytes).toBeLessThanOrEqual(report.memory.budgetBytes);
  });
});

describe("200,000 undeclared type names", () => {
  it("keep totals exact, name at most the declared and 64 others, fold the rest into (other), and stay inside the budget", async () => {
    const ns = freshNamespace("types");
    expect((await admin("PUT", ns, "config", { windows: ["5m", "1h", "24h", "7d", "30d"], types: { view: {} } })).status).toBe(200);
    const types = 200_000;
    await flood(ns, types / 1000, (i) => ({ item: `i-${i % 5000}`, type: i % 10 === 0 ? "view" : `t-${i}`, weight: 2 }));
    await refresh(ns);
    for (const window of ["5m", "1h", "24h", "7d", "30d"]) {
      const answer = await stats(ns, window);
      expect(answer.events).toBe(types);
      expect(answer.weight).toBe(2 * types);
      const names = Object.keys(answer.byType);
      expect(names).toContain("view");
      expect(names).toContain(OTHER_TYPES);
      expect(names.length).toBeLessThanOrEqual(1 + MAX_UNDECLARED_TYPES + 1);
      expect(answer.byType.view).toEqual({ events: types / 10, weight: types / 5 }); // declared: exact
      const sum = Object.values(answer.byType).reduce((s, t) => s + t.events, 0);
      expect(sum).toBe(types); // the breakdown adds up to the total, folded part included
    }
    const report = await cacheOf(ns);
    expect(report.memory.bytes).toBeLessThanOrEqual(report.memory.budgetBytes);
    expect(await bodyBytes(await get(ns, "dashboard"))).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(await bodyBytes(await admin("GET", ns, "cache"))).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    await evictDurableObject(stubOf(ns));
    await refresh(ns);
    const restarted = await stats(ns, "24h");
    expect(restarted.events).toBe(types);
    expect(Object.keys(restarted.byType).length).toBeLessThanOrEqual(1 + MAX_UNDECLARED_TYPES + 1);
  });
});

describe("the widest answers", () => {
  it(`stay within ${MAX_ANSWER_BYTES} bytes at the widest config with the longest escaped names, and say when they are cut`, async () => {
    const ns = freshNamespace("widest-answers");
    const types = Object.fromEntries(Array.from({ length: 32 }, (_, t) => [`type-${t}`, {}]));
    const capacity = maxCapacityWithin(MEMORY_BUDGET_BYTES, 32); // the largest accepted with 32 types
    const config = { windows: ["5m", "1h", "24h", "7d", "30d"], maxLimit: 1000, capacity, types };
    expect((await admin("PUT", ns, "config", config)).status).toBe(200);
    // 256 bytes that JSON escapes six-fold (\u0001), 1500 distinct items, spread over the types.
    const item = (i: number) => `${i}`.padStart(6, "0") + "\u0001".repeat(250);
    // Batches of 500: a body of 1000 such events would be over 1 MiB.
    await flood(ns, 6, (i) => ({ item: item(i % 1500), type: `type-${i % 32}`, weight: 1 + (i % 5) }), (b) => `w-${b}`, 500);
    await refresh(ns);
    for (const window of ["5m", "1h", "24h", "7d", "30d"]) {
      for (const rank of ["top", "rising", "hot"]) {
        const res = await get(ns, "trending", { window, rank, limit: 1000 });
        const text = await res.text();
        expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
        const answer = JSON.parse(text) as TrendingSnapshot;
        expect(answer.truncated).toBe(true); // 1500 items do not fit: a prefix, and it says so
        expect(answer.items.length).toBeGreaterThan(100);
        // A shorter read is what it asked for: not truncated.
        const short = await json<TrendingSnapshot>(await get(ns, "trending", { window, rank, limit: 10 }));
        expect(short.items).toHaveLength(10);
        expect(short.truncated).toBeUndefined();
        expect(short.items).toEqual(answer.items.slice(0, 10));
      }
      expect(await bodyBytes(await get(ns, "stats", { window }))).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    }
    const dashboard = await get(ns, "dashboard");
    const text = await dashboard.text();
    expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(Object.keys((JSON.parse(text) as DashboardSnapshot).windows)).toHaveLength(5);
    const report = await cacheOf(ns);
    expect(report.memory.bytes).toBeLessThanOrEqual(report.memory.budgetBytes);
  });
});

describe("an isolate that was refused for too many pending events", () => {
  const refusal = new TallyError(429, "too_many_pending", "too many", { limit: MAX_PENDING_EVENTS, pending: MAX_PENDING_EVENTS, retryAfterSeconds: 30 });
  const batch = (ts: number) => ({ events: [{ item: "x", type: "event", ts }] });

  it("refuses future-stamped batches at its door until the Retry-After it was given, with the seconds left", () => {
    let now = 1_000_000;
    const door = new PendingRefusals(() => now);
    door.note("ns", refusal);
    now += 10_000;
    let thrown: unknown;
    try {
      door.check("ns", batch(now + 60_000));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TallyError);
    expect((thrown as TallyError).status).toBe(429);
    expect((thrown as TallyError).headers["Retry-After"]).toBe("20");
    expect(() => door.check("ns", batch(now - 1000))).not.toThrow(); // events already due pass
    expect(() => door.check("other", batch(now + 60_000))).not.toThrow(); // one namespace only
    now += 20_000;
    expect(() => door.check("ns", batch(now + 60_000))).not.toThrow(); // the object is asked again
  });

  it("remembers nothing of any other refusal", () => {
    const door = new PendingRefusals(() => 0);
    door.note("ns", new TallyError(400, "invalid_event", "bad"));
    door.note("ns", new Error("down"));
    expect(() => door.check("ns", batch(60_000))).not.toThrow();
  });
});

describe("an ingest call lost on the way to the namespace's object", () => {
  /** The real binding, whose first `ingest` call is recorded by the object but answered as a lost
   * call (as a connection dropped after the write would be). */
  function losingFirstAnswer() {
    let calls = 0;
    const binding = aroundAggregator("ingest", async (_, call) => {
      calls += 1;
      const answer = await call();
      if (calls === 1) throw new Error("injected fault: the answer of a recorded batch was lost");
      return answer;
    });
    return { binding, calls: () => calls };
  }
  const post = (ns: string, body: unknown, binding: Env["AGGREGATOR"]) =>
    fetchWith({ AGGREGATOR: binding }, `/v1/namespaces/${ns}/events`, {
      method: "POST",
      headers: { Authorization: "Bearer test-ingest", "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  it("is sent once more when the batch has an id, and the batch counts once", async () => {
    const ns = freshNamespace("lost-answer");
    const lossy = losingFirstAnswer();
    const res = await post(ns, { batchId: "once", events: [{ item: "a" }, { item: "b" }] }, lossy.binding);
    expect(res.status).toBe(200); // the retry found it recorded: counted once, said so
    expect(await json(res)).toEqual({ accepted: 2, duplicate: true });
    expect(lossy.calls()).toBe(2);
    await refresh(ns);
    expect((await stats(ns)).events).toBe(2);
  });

  it("is not sent again without an id, which could count it twice", async () => {
    const ns = freshNamespace("lost-answer-no-id");
    const lossy = losingFirstAnswer();
    const res = await post(ns, { events: [{ item: "a" }] }, lossy.binding);
    expect(res.status).toBe(503);
    expect(lossy.calls()).toBe(1);
  });
});
