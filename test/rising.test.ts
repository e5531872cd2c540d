/**
 * rank=rising for new items (README, "rank=rising"): each listed item says whether it is new, and
 * `minScore` leaves out small movers, on read, with its own edge entry.
 */
import { describe, expect, it } from "vitest";
import type { TrendingSnapshot } from "../src/shared/contract";
import { expectError, freshNamespace, get, ingestAll, json, refresh } from "./support/http";

const MINUTE = 60_000;

/** In the 1h window's previous period: "back" 4 and "faded" 9. In the current one: "fresh" 10,
 * "back" 7 (growth 3), "tiny" 1, "faded" 2 (shrank: not rising). */
async function risingNamespace(): Promise<string> {
  const ns = freshNamespace("rising");
  const now = Date.now();
  const before = now - 90 * MINUTE;
  const recent = now - 1000;
  await ingestAll(ns, [
    { item: "back", weight: 4, ts: before },
    { item: "faded", weight: 9, ts: before },
    { item: "fresh", weight: 10, ts: recent },
    { item: "back", weight: 7, ts: recent },
    { item: "tiny", weight: 1, ts: recent },
    { item: "faded", weight: 2, ts: recent },
  ]);
  await refresh(ns);
  return ns;
}

async function rising(ns: string, query: Record<string, string | number> = {}) {
  const res = await get(ns, "trending", { window: "1h", rank: "rising", ...query });
  expect(res.status).toBe(200);
  return { res, body: await json<TrendingSnapshot>(res) };
}

describe("rank=rising", () => {
  it("says of each item whether it had no event in the previous period", async () => {
    const ns = await risingNamespace();
    const { body } = await rising(ns);
    expect(body.items).toEqual([
      { item: "fresh", score: 10, error: 0, current: 10, previous: 0, new: true },
      { item: "back", score: 3, error: 0, current: 7, previous: 4, new: false },
      { item: "tiny", score: 1, error: 0, current: 1, previous: 0, new: true },
    ]);
  });

  it("leaves out items scoring below minScore, and keeps limit", async () => {
    const ns = await risingNamespace();
    expect((await rising(ns, { minScore: 3 })).body.items.map((i) => i.item)).toEqual(["fresh", "back"]);
    expect((await rising(ns, { minScore: 3.5 })).body.items.map((i) => i.item)).toEqual(["fresh"]);
    expect((await rising(ns, { minScore: 2, limit: 1 })).body.items.map((i) => i.item)).toEqual(["fresh"]);
    expect((await rising(ns, { minScore: 11 })).body.items).toEqual([]);
    expect((await rising(ns, { minScore: 0 })).body.items).toHaveLength(3);
    // The other ranks take it too: top scores here are fresh 10, back 7, faded 2, tiny 1.
    const top = async (minScore: number) =>
      (await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h", minScore }))).items.map((i) => [i.item, i.score]);
    expect(await top(8)).toEqual([["fresh", 10]]);
    expect(await top(2)).toEqual([["fresh", 10], ["back", 7], ["faded", 2]]);
  });

  it("keeps one edge entry per minScore: a cut answer is never served for another cut", async () => {
    const ns = await risingNamespace();
    await rising(ns, { minScore: 5 });
    const cut = await rising(ns, { minScore: 5 });
    expect(cut.res.headers.get("X-Cache")).toBe("HIT-EDGE");
    expect(cut.body.items.map((i) => i.item)).toEqual(["fresh"]);
    const whole = await rising(ns);
    expect(whole.body.items.map((i) => i.item)).toEqual(["fresh", "back", "tiny"]);
    expect(whole.res.headers.get("ETag")).not.toBe(cut.res.headers.get("ETag"));
    const other = await rising(ns, { minScore: 1 });
    expect(other.body.items.map((i) => i.item)).toEqual(["fresh", "back", "tiny"]);
  });

  for (const value of ["-1", "abc", "1e3", "NaN", "Infinity", "0x10", "1.", ".5"]) {
    it(`answers minScore=${value} with 400 invalid_min_score, before any object is asked`, async () => {
      const ns = freshNamespace("rising"); // never received an event: the 400 comes first
      const error = await expectError(await get(ns, "trending", { rank: "rising", minScore: value }), 400, "invalid_min_score");
      expect(error.field).toBe("minScore");
      expect(error.allowed).toEqual({ min: 0 });
    });
  }
});
