/**
 * An event through a shard wakes the namespace's object: the namespace's first event creates it
 * (listed, reported, its refresh loop started), and one after the loop stopped for idleness
 * starts the loop again.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StatsSnapshot } from "../../src/shared/contract";
import { TOKENS, admin, bearer, call, freshNamespace, get, json, refresh, stubOf } from "../support/http";
import { HOUR, configure, shard, objectHeldEvents, accepted } from "../support/shards";

afterEach(() => {
  vi.useRealTimers();
});

describe("an event through a shard", () => {
  it("that is the namespace's first creates it as soon as the shard accepted it: listed, reported, its refresh loop started", async () => {
    const ns = freshNamespace("first");
    await configure(ns, 4);
    expect((await admin("GET", ns, "cache")).status).toBe(404); // configured, but no event yet
    await accepted(ns, [{ item: "hello", type: "view" }], "first");
    expect(await objectHeldEvents(ns)).toBe(0);
    expect((await admin("GET", ns, "cache")).status).toBe(200);
    const listing = await json<{ namespaces: { namespace: string }[] }>(
      await call("GET", `/v1/namespaces?prefix=${ns}`, { headers: bearer(TOKENS.admin) }),
    );
    expect(listing.namespaces.map((n) => n.namespace)).toEqual([ns]);
    expect(await runInDurableObject(stubOf(ns), (_, state) => state.storage.getAlarm())).not.toBeNull();
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "1h" }));
    expect(stats.events).toBe(1);
  });

  it("after the refresh loop stopped for idleness starts the loop again", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const ns = freshNamespace("idle");
    await configure(ns, 4);
    await accepted(ns, [{ item: "a" }], "a");
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    // Two hours without an event or a read: the next alarm finds nothing new and stops the loop.
    vi.setSystemTime(Date.now() + 2 * HOUR);
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    expect(await runInDurableObject(stubOf(ns), (_, state) => state.storage.getAlarm())).toBeNull();

    await accepted(ns, [{ item: "b" }], "b");
    expect(await runInDurableObject(stubOf(ns), (_, state) => state.storage.getAlarm())).not.toBeNull();
    vi.setSystemTime(Date.now() + 1000); // the alarm's answers are newer than the last ones read
    expect(await runDurableObjectAlarm(stubOf(ns))).toBe(true);
    const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "24h" }));
    expect(stats.events).toBe(2);
  });
});
