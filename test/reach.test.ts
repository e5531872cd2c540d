/**
 * rank=reach over HTTP (docs/api.md, "Reach (v1.5)"): distinct actors per item, precomputed like
 * every planned rank, per type, with compare; an unknown rank is still refused. Each test has its
 * own namespace; the clock is Vitest's fake `Date`; nothing sleeps.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TrendingSnapshot } from "../src/shared/contract";
import { admin, expectError, freshNamespace, get, ingestAll, json, refresh, type EventInput } from "./support/http";

const MINUTE = 60_000;

afterEach(() => {
  vi.useRealTimers();
});

/** One actor sends "spam" 300 events; 40 actors send "loved" one each (every fourth a like);
 * "anon" has no actor. */
function events(t0: number): EventInput[] {
  const out: EventInput[] = [];
  for (let i = 0; i < 300; i++) out.push({ item: "spam", type: "view", actor: "bot", ts: t0 - 5 * MINUTE + i });
  for (let i = 0; i < 40; i++) out.push({ item: "loved", type: i % 4 === 0 ? "like" : "view", actor: `user-${i}`, ts: t0 - 4 * MINUTE + i });
  for (let i = 0; i < 50; i++) out.push({ item: "anon", type: "view", ts: t0 - 3 * MINUTE + i });
  // The hour before the window: three actors of "spam", one of them the bot.
  for (const actor of ["bot", "user-1", "user-2"]) out.push({ item: "spam", type: "view", actor, ts: t0 - 75 * MINUTE });
  return out;
}

async function reachOf(ns: string, query: Record<string, string | number> = {}) {
  const res = await get(ns, "trending", { window: "1h", rank: "reach", ...query });
  expect(res.status, await res.clone().text()).toBe(200);
  return { res, body: await json<TrendingSnapshot>(res) };
}

describe("GET /v1/namespaces/{ns}/trending?rank=reach", () => {
  it("ranks items by distinct actors, exactly, from the precomputed answer", async () => {
    const t0 = Date.now() - 10 * MINUTE;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(t0);
    const ns = freshNamespace("reach");
    expect((await admin("PUT", ns, "config", { windows: ["1h", "24h"], types: { view: {}, like: {} } })).status).toBe(200);
    await ingestAll(ns, events(t0));
    await refresh(ns);

    const { res, body } = await reachOf(ns);
    // In the plan: the refresh computed it, no read computes it at the object (X-Cache: MISS).
    expect(res.headers.get("X-Cache")).not.toBe("MISS");
    expect(body.rank).toBe("reach");
    expect(body.exact).toBe(true);
    expect(body.items).toEqual([
      { item: "loved", score: 40, error: 0 },
      { item: "spam", score: 1, error: 0 },
    ]);
    const top = await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", rank: "top" }));
    expect(top.items.map((i) => i.item)).toEqual(["spam", "anon", "loved"]);

    const likes = await reachOf(ns, { type: "like" });
    expect(likes.res.headers.get("X-Cache")).not.toBe("MISS");
    expect(likes.body.items).toEqual([{ item: "loved", score: 10, error: 0 }]);

    const compared = await reachOf(ns, { compare: "previous" });
    expect(compared.body.items.map((i) => [i.item, i.score, i.previousScore, i.previousError])).toEqual([
      ["loved", 40, 0, 0],
      ["spam", 1, 3, 0],
    ]);
    expect(compared.body.exact).toBe(true);

    const above = await reachOf(ns, { minScore: 2 });
    expect(above.body.items.map((i) => i.item)).toEqual(["loved"]);
  });

  it("still refuses an unknown rank with 400 invalid_rank, listing reach", async () => {
    const ns = freshNamespace("reach-bogus");
    const error = await expectError(await get(ns, "trending", { rank: "bogus" }), 400, "invalid_rank");
    expect(JSON.stringify(error)).toContain("reach");
  });
});
