/**
 * Future-stamped events through shards are not counted before their time, and counted once after
 * it, across restarts of the namespace's object, including one between a merge and its checkpoint.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StatsSnapshot } from "../../src/shared/contract";
import { admin, freshNamespace, get, json, refresh, stubOf } from "../support/http";
import { MINUTE, configure, allShardRows, accepted, counted, batch } from "../support/shards";

afterEach(() => {
  vi.useRealTimers();
});

describe("future-stamped events through shards", () => {
  it("are not counted before their time, and counted once after it, across a restart", async () => {
    // Ten seconds into a minute, so that events a few seconds ahead share the minute bucket of
    // the answer's `to`: only holding them back keeps them out of [from, to).
    vi.useFakeTimers({ toFake: ["Date"] });
    const now = Math.ceil(Date.now() / MINUTE) * MINUTE + 10_000;
    vi.setSystemTime(now);
    const ns = freshNamespace("future");
    await configure(ns, 4);
    const past = batch("past", 10).map((e) => ({ ...e, ts: now - MINUTE }));
    const ahead = [5, 20, 40, 65, 80, 125, 170, 200, 230].map((s, i) => ({ item: `ahead-${i}`, type: "view", weight: 1, ts: now + s * 1000 }));
    for (let b = 0; b < 3; b++) await accepted(ns, [...past.slice(b * 4, b * 4 + 4), ...ahead.slice(b * 3, b * 3 + 3)], `f-${b}`);

    /** The 5m stats after a refresh a second later than the last. */
    const fiveMinutes = async () => {
      vi.setSystemTime(Date.now() + 1000);
      await refresh(ns);
      return json<StatsSnapshot>(await get(ns, "stats", { window: "5m" }));
    };
    /** Events of the answer: every event stamped before its `to`, and none after. */
    const dueBy = (answer: StatsSnapshot) => [...past, ...ahead].filter((e) => e.ts < Date.parse(answer.to)).length;

    const early = await fiveMinutes();
    expect(early.events).toBe(past.length);
    expect(dueBy(early)).toBe(past.length);
    await evictDurableObject(stubOf(ns)); // held pending durably, not only in memory
    await refresh(ns);
    expect(await allShardRows(ns)).toEqual([0, 0, 0, 0]); // merged, and acknowledged
    expect((await fiveMinutes()).events).toBe(past.length);

    vi.setSystemTime(now + 30_000);
    const some = await fiveMinutes();
    expect(some.events).toBe(dueBy(some));
    expect(some.events).toBe(past.length + 2);

    vi.setSystemTime(now + 4 * MINUTE);
    const due = await fiveMinutes();
    expect(due.events).toBe(past.length + ahead.length);
    await evictDurableObject(stubOf(ns));
    expect((await fiveMinutes()).events).toBe(past.length + ahead.length);
  });
});

describe("future-stamped events merged from shards but not yet checkpointed", () => {
  it("are held provisionally: a restart before the checkpoint drops them, the shards bring them again, and each counts once", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const now = Math.ceil(Date.now() / MINUTE) * MINUTE + 10_000;
    vi.setSystemTime(now);
    const ns = freshNamespace("provisional");
    await configure(ns, 4);
    const ahead = Array.from({ length: 12 }, (_, i) => ({ item: `p-${i}`, type: "view", weight: 1, ts: now + 2 * MINUTE }));
    for (let b = 0; b < 4; b++) await accepted(ns, ahead.slice(b * 3, b * 3 + 3), `p-${b}`);
    // An export merges the shards without a checkpoint: their cursors stay where they were.
    expect((await admin("GET", ns, "export")).status).toBe(200);
    const pendingRows = () =>
      runInDurableObject(stubOf(ns), (_, state) =>
        state.storage.sql.exec<{ n: number; provisional: number }>("SELECT count(*) AS n, coalesce(sum(provisional), 0) AS provisional FROM pending_events").one(),
      );
    expect(await pendingRows()).toEqual({ n: ahead.length, provisional: ahead.length });
    await evictDurableObject(stubOf(ns)); // as if the object were reset before its checkpoint
    await refresh(ns); // start-up drops them; the refresh pulls them again and checkpoints
    expect(await pendingRows()).toEqual({ n: ahead.length, provisional: 0 });
    vi.setSystemTime(now + 1000);
    await refresh(ns); // its pulls acknowledge what the last one merged: the shards drop it
    expect(await allShardRows(ns)).toEqual([0, 0, 0, 0]);
    expect(await pendingRows()).toEqual({ n: ahead.length, provisional: 0 }); // held once each

    vi.setSystemTime(now + 3 * MINUTE);
    expect((await counted(ns)).events).toBe(ahead.length);
    await evictDurableObject(stubOf(ns));
    expect((await counted(ns)).events).toBe(ahead.length);
  });
});
