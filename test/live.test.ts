/**
 * Live answers (docs/api.md, "Live answers"): a socket gets the current answer, then one message
 * per change of it, from the change feed of the refresh loop; nothing when a refresh changes
 * nothing; invalidations and suppressions reach it; a relay's sockets reopen with the latest answer.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { TrendingSnapshot } from "../src/shared/contract";
import { relayObjectName } from "../src/shared/keys";
import { admin, expectError, freshNamespace, get, ingestAll, json, READ_TOKEN, seed, stubOf, fetchWith } from "./support/http";
import { follow, openLive, openThroughSelf } from "./support/live";
import { createClient } from "../src/client/index";
import type { Scheduler } from "../src/client/transport";
import { BASE } from "./support/http";
import { eventually } from "./support/eventually";

const relayOf = (ns: string) => env.LIVE_RELAYS.get(env.LIVE_RELAYS.idFromName(relayObjectName(ns, 0)));
/** The client's backoff and flush timers, run on the next microtask: the test drives the relay,
 * and waits on no clock. A cleared timer never runs. */
const immediately: Scheduler = {
  setTimeout: (run) => {
    const timer = { cleared: false };
    queueMicrotask(() => timer.cleared || run());
    return timer;
  },
  clearTimeout: (timer) => {
    (timer as { cleared: boolean }).cleared = true;
  },
};


type LiveTrending = TrendingSnapshot & { kind: string };
const times = (item: string, n: number) => Array.from({ length: n }, () => ({ item }));

async function seeded(): Promise<string> {
  const ns = freshNamespace("live");
  await ingestAll(ns, [{ item: "a" }, { item: "a" }, { item: "b" }]);
  await runDurableObjectAlarm(stubOf(ns));
  return ns;
}

describe("a live socket", () => {
  it("gets the current answer first: the GET's JSON plus kind", async () => {
    const ns = await seeded();
    const reader = await follow(ns, { window: "1h", limit: 1 });
    const first = await reader.next<LiveTrending>();
    const got = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", limit: 1 }));
    expect(first.kind).toBe("answer");
    const { kind: _, ...answer } = first;
    expect(answer).toEqual(got);
    expect(answer.items.map((i) => i.item)).toEqual(["a"]);
    reader.socket.close();
  });

  it("gets the new answer within one refresh of new events, and nothing when the answer is unchanged", async () => {
    const ns = await seeded();
    const reader = await follow(ns, { window: "1h" });
    await reader.next();
    // A refresh with no new events changes no answer: nothing is sent.
    await runDurableObjectAlarm(stubOf(ns));
    await ingestAll(ns, [{ item: "b" }, { item: "b" }, { item: "c" }]);
    await runDurableObjectAlarm(stubOf(ns));
    // The next message is the answer of the second refresh: the first sent none.
    const next = await reader.next<LiveTrending>();
    expect(next.items.map((i) => [i.item, i.score])).toEqual([["b", 3], ["a", 2], ["c", 1]]);
    expect(reader.held).toBe(0);
    reader.socket.close();
  });

  it("follows stats and the dashboard too", async () => {
    const ns = await seeded();
    const stats = await follow(ns, { answer: "stats", window: "1h" });
    const dashboard = await follow(ns, { answer: "dashboard" });
    expect((await stats.next<{ events: number }>()).events).toBe(3);
    expect(await dashboard.next()).toHaveProperty("windows");
    await ingestAll(ns, [{ item: "z" }]);
    await runDurableObjectAlarm(stubOf(ns));
    expect((await stats.next<{ events: number }>()).events).toBe(4);
    expect(await dashboard.next()).toHaveProperty("windows");
  });

  it("is told of an invalidation and of a suppression", async () => {
    const ns = await seeded();
    const reader = await follow(ns, { window: "1h" });
    const first = await reader.next<LiveTrending>();
    expect((await admin("POST", ns, "invalidate")).status).toBe(200);
    const invalidated = await reader.next<LiveTrending>();
    expect(invalidated.generation).toBe(first.generation + 1);
    expect((await admin("PUT", ns, "suppressions/a")).status).toBe(201);
    const suppressed = await reader.next<LiveTrending>();
    expect(suppressed.items.map((i) => i.item)).toEqual(["b"]);
    expect((await admin("DELETE", ns, "suppressions/a")).status).toBe(200);
    expect((await reader.next<LiveTrending>()).items.map((i) => i.item)).toEqual(["a", "b"]);
  });

  it("cuts each reader's answer to its own limit and minScore", async () => {
    const ns = await seeded();
    const one = await follow(ns, { limit: 1 });
    const scored = await follow(ns, { minScore: 2 });
    const all = await follow(ns);
    for (const r of [one, scored, all]) await r.next();
    await ingestAll(ns, [{ item: "b" }, { item: "b" }, { item: "c" }]);
    await runDurableObjectAlarm(stubOf(ns));
    expect((await one.next<LiveTrending>()).items.map((i) => i.item)).toEqual(["b"]);
    expect((await scored.next<LiveTrending>()).items.map((i) => i.item)).toEqual(["b", "a"]);
    expect((await all.next<LiveTrending>()).items.map((i) => i.item)).toEqual(["b", "a", "c"]);
  });

  it("keeps its socket through its relay's eviction: the relay wakes with no memory and still sends", async () => {
    const ns = await seeded();
    const reader = await follow(ns, { limit: 2 });
    await reader.next();
    // Hibernation: the runtime holds the sockets and their attachments; the relay's memory goes.
    await evictDurableObject(relayOf(ns));
    await ingestAll(ns, [{ item: "c" }, { item: "c" }, { item: "c" }]);
    await runDurableObjectAlarm(stubOf(ns));
    expect((await reader.next<LiveTrending>()).items.map((i) => i.item)).toEqual(["c", "a"]);
    expect(reader.closed).toBeUndefined();
  });

  it("is still told after the namespace's object is evicted: who follows what is in its SQLite", async () => {
    const ns = await seeded();
    const reader = await follow(ns);
    await reader.next();
    await evictDurableObject(stubOf(ns));
    await ingestAll(ns, [{ item: "c" }, { item: "c" }, { item: "c" }]);
    await runDurableObjectAlarm(stubOf(ns));
    // A restarted object has no fingerprints, so it may send the unchanged answer once first.
    let latest = await reader.next<LiveTrending>();
    if (latest.items[0]!.item !== "c") latest = await reader.next<LiveTrending>();
    expect(latest.items.map((i) => i.item)).toEqual(["c", "a", "b"]);
  });

  it("reopens when its relay closes it (a restart), and resumes with the latest answer", async () => {
    const ns = await seeded();
    const answers: string[][] = [];
    const client = createClient({ baseUrl: BASE, namespace: ns, flushOnPageHide: false, scheduler: immediately });
    const states: string[] = [];
    const live = client.subscribe({ window: "1h" }, (t) => answers.push(t.items.map((i) => i.item)), {
      openSocket: openThroughSelf,
      onState: (s) => states.push(s),
    });
    await eventually(() => answers.length === 1);
    // A restart closes every socket of the relay (1012, Service Restart); meanwhile the answer changes.
    await ingestAll(ns, [{ item: "c" }, { item: "c" }, { item: "c" }]);
    await runInDurableObject(relayOf(ns), (_, state) => {
      for (const socket of state.getWebSockets()) socket.close(1012, "restart");
    });
    await runDurableObjectAlarm(stubOf(ns));
    await eventually(() => answers.length >= 2 && answers.at(-1)![0] === "c");
    expect(answers.at(-1)).toEqual(["c", "a", "b"]);
    expect(states).toEqual(["live", "retrying", "live"]);
    live.close();
    expect(live.state).toBe("closed");
  });
});

describe("relays", () => {
  it("fill in order: a full relay sends the next socket to the next relay, and a change reaches every one", async () => {
    const ns = await seeded();
    const readers = [await follow(ns), await follow(ns, { limit: 1 }), await follow(ns, { window: "24h" })];
    for (const r of readers) await r.next();
    const held = (i: number) => runInDurableObject(env.LIVE_RELAYS.get(env.LIVE_RELAYS.idFromName(relayObjectName(ns, i))), (_, state) => state.getWebSockets().length);
    expect([await held(0), await held(1)]).toEqual([2, 1]); // SmallLiveRelay holds 2 (vitest.config.ts)
    await ingestAll(ns, times("c", 3));
    await runDurableObjectAlarm(stubOf(ns));
    expect((await readers[0]!.next<LiveTrending>()).items.map((i) => i.item)).toEqual(["c", "a", "b"]);
    expect((await readers[1]!.next<LiveTrending>()).items.map((i) => i.item)).toEqual(["c"]);
    expect((await readers[2]!.next<LiveTrending>()).items.map((i) => i.item)).toEqual(["c", "a", "b"]);
  });
});

describe("an answer outside the plan", () => {
  it("stays computed while a socket follows it, past the hour after which an unread one goes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const ns = freshNamespace("live");
      expect((await admin("PUT", ns, "config", { windows: ["1h"] })).status).toBe(200);
      await ingestAll(ns, [{ item: "a" }]);
      vi.setSystemTime(Date.now() + 1000);
      await runDurableObjectAlarm(stubOf(ns));
      const reader = await follow(ns, { window: "24h" }); // not planned: computed on demand
      await reader.next();
      vi.setSystemTime(Date.now() + 61 * 60_000);
      await ingestAll(ns, [{ item: "b" }, { item: "b" }]);
      vi.setSystemTime(Date.now() + 1000);
      await runDurableObjectAlarm(stubOf(ns));
      expect((await reader.next<LiveTrending>()).items.map((i) => i.item)).toEqual(["b", "a"]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("erasing a namespace", () => {
  it("closes its live sockets with 4404, and a socket opened again is refused with 404", async () => {
    const ns = await seeded();
    const reader = await follow(ns);
    await reader.next();
    expect((await admin("DELETE", ns, "")).status).toBe(200);
    expect((await reader.closing()).code).toBe(4404);
    await expectError(await openLive(ns), 404, "namespace_not_found");
  });
});

describe("opening /live", () => {
  it("needs Upgrade: websocket", async () => {
    const ns = freshNamespace("live");
    await seed(ns);
    const res = await get(ns, "live");
    await expectError(res, 426, "upgrade_required");
  });

  it("refuses bad parameters and unknown namespaces before any socket opens", async () => {
    const ns = freshNamespace("live");
    await seed(ns);
    await expectError(await openLive(ns, { window: "2h" }), 400, "invalid_window");
    await expectError(await openLive(ns, { answer: "ranking" }), 400, "invalid_answer");
    await expectError(await openLive(ns, { limit: 0 }), 400, "invalid_limit");
    await expectError(await openLive(freshNamespace("nobody")), 404, "namespace_not_found");
  });

  it("takes the read token as a subprotocol, and answers with tally.v1 alone", async () => {
    const ns = freshNamespace("live");
    await seed(ns);
    const path = `/v1/namespaces/${ns}/live`;
    const gated = { READ_TOKEN };
    const refused = await fetchWith(gated, path, { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "tally.v1" } });
    await expectError(refused, 401, "unauthorized");
    const wrong = await fetchWith(gated, path, { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "tally.v1, tally.token.nope" } });
    await expectError(wrong, 401, "unauthorized");
    const res = await fetchWith(gated, path, { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": `tally.v1, tally.token.${READ_TOKEN}` } });
    expect(res.status).toBe(101);
    expect(res.headers.get("Sec-WebSocket-Protocol")).toBe("tally.v1");
    res.webSocket!.accept();
    res.webSocket!.close();
  });
});
