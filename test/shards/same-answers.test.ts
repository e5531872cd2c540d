/**
 * A sharded namespace answers exactly what one unsharded namespace answers for the same batches:
 * every window, rank and type, whole answers compared; and the batches really went through the
 * shards, which drop them once the merge is durable.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { WINDOWS, type TrendingSnapshot } from "../../src/shared/contract";
import { rng } from "../support/random";
import { freshNamespace, get, json, refresh, type EventInput } from "../support/http";
import { MINUTE, HOUR, DAY, configure, allShardRows, sum, objectHeldEvents, accepted, batch } from "../support/shards";

afterEach(() => {
  vi.useRealTimers();
});

describe("a namespace with ingestShards 4", () => {
  it("answers exactly what the same batches give a namespace with 1, and the batches went through the shards", async () => {
    // One frozen clock: both namespaces merge and answer at the same instant, so their answers
    // cover the same [from, to) and may be compared whole.
    vi.useFakeTimers({ toFake: ["Date"] });
    const one = freshNamespace("same-k1");
    const four = freshNamespace("same-k4");
    await configure(one, 1);
    await configure(four, 4);
    const random = rng(11);
    const now = Date.now();
    const spans = [8 * DAY, 2 * DAY, 2 * HOUR, 4 * MINUTE];
    const events: EventInput[] = Array.from({ length: 4000 }, (_, i) => ({
      item: `item-${Math.floor(random() ** 2 * 90)}`,
      type: ["view", "like", "play"][Math.floor(random() * 3)]!,
      ...(random() < 0.3 ? {} : { weight: 0.5 * (1 + Math.floor(random() * 6)) }),
      ...(random() < 0.7 ? { actor: `user-${Math.floor(random() * 120)}` } : {}),
      ts: now - 1000 - Math.floor(random() * spans[i % spans.length]!),
    }));
    const batches = Array.from({ length: 40 }, (_, b) => events.slice(b * 100, b * 100 + 100));
    for (const [b, events] of batches.entries()) {
      await accepted(one, events, `batch-${b}`);
      await accepted(four, events, `batch-${b}`);
    }

    // Through the shards: the namespace's object logged none of them, the shards hold them all.
    expect(await objectHeldEvents(four)).toBe(0);
    const rows = await allShardRows(four);
    expect(sum(rows)).toBe(batches.length);
    expect(rows.filter((r) => r > 0).length).toBeGreaterThan(1);

    await refresh(one);
    await refresh(four);
    const body = async (ns: string, path: string, query: Record<string, string | number>) => {
      const res = await get(ns, path, query);
      expect(res.status).toBe(200);
      const { namespace, ...answer } = await json(res);
      expect(namespace).toBe(ns);
      return answer;
    };
    for (const window of WINDOWS) {
      const stats = await body(one, "stats", { window });
      expect(stats.events).toBeGreaterThan(0);
      expect(await body(four, "stats", { window })).toEqual(stats);
      for (const rank of ["top", "rising", "hot", "reach"]) {
        for (const type of [null, "like"]) {
          const query = { window, rank, limit: 100, ...(type ? { type } : {}) };
          const answer = await body(one, "trending", query);
          expect((answer as unknown as TrendingSnapshot).items.length, `${window} ${rank} ${type}`).toBeGreaterThan(0);
          expect(await body(four, "trending", query), `${window} ${rank} ${type}`).toEqual(answer);
        }
      }
    }
    // Merged: the shards drop their rows once the merge is durable (the next pull acknowledges it).
    await refresh(four);
    expect(sum(await allShardRows(four))).toBe(0);
  });
});
