/**
 * Beyond capacity: answers stay within their stated error, the true top 10 is found, and
 * unique counts stay within 2% at 100k distinct values; the same whether the namespace's object
 * takes every batch or four ingest shards take them and it merges their deltas (docs/api.md,
 * `ingestShards`).
 */
import { describe, expect, it } from "vitest";
import type { StatsSnapshot, TrendingSnapshot } from "../src/shared/contract";
import { rng, zipf } from "./support/random";
import { admin, freshNamespace, get, ingestAll, json, refresh } from "./support/http";
import { hotScores, inRange, ranked, scores, type Counted } from "./support/exact";

const MINUTE = 60_000;
/** Bucket sizes of the windows read below (docs/api.md, "Windows"). */
const BUCKET_MS: Record<string, number> = { "1h": MINUTE, "24h": 60 * MINUTE, "7d": 360 * MINUTE };
/** Ten minutes: the minute buckets of the last hour get visibly different factors. */
const HALF_LIFE_SECONDS = 600;

describe.each([1, 4])("with ingestShards: %i", (ingestShards) => {
  describe("a Zipf stream with ten times more distinct items than capacity", () => {
    const capacity = 100;
    const distinct = 20 * capacity;

    it("keeps every true score within [score - error, score] and finds the true top 10", async () => {
      const ns = freshNamespace("bounds");
      expect((await admin("PUT", ns, "config", { capacity, maxLimit: 100, hotHalfLifeSeconds: HALF_LIFE_SECONDS, ingestShards })).status).toBe(200);
      const random = rng(42);
      const rank = zipf(distinct, 1.1, random);
      const now = Date.now();
      const events: Counted[] = Array.from({ length: 40_000 }, () => ({
        item: `item-${rank()}`,
        type: "view",
        weight: 1 + Math.floor(random() * 3),
        ts: now - 1000 - Math.floor(random() * 50 * MINUTE),
      }));
      expect(new Set(events.map((e) => e.item)).size).toBeGreaterThanOrEqual(10 * capacity);
      await ingestAll(ns, events);
      await refresh(ns);

      for (const window of ["1h", "24h", "7d"]) {
        const answer = await json<TrendingSnapshot>(await get(ns, "trending", { window, limit: 100 }));
        const truth = scores(inRange(events, Date.parse(answer.from), Date.parse(answer.to)));
        expect(answer.exact).toBe(false);
        for (const { item, score, error } of answer.items) {
          const actual = truth.get(item) ?? 0;
          expect(actual, `${window} ${item}`).toBeLessThanOrEqual(score);
          expect(actual, `${window} ${item}`).toBeGreaterThanOrEqual(score - error);
        }
        const reportedTop10 = answer.items.slice(0, 10).map((i) => i.item);
        const trueTop10 = ranked(truth).slice(0, 10).map((i) => i.item);
        expect(reportedTop10.sort()).toEqual(trueTop10.sort());

        // rank=hot: every bucket's bound is scaled by its decay factor, so the true decayed score
        // lies in [score - error, score] too (up to floating-point rounding of the sums).
        const hot = await json<TrendingSnapshot>(await get(ns, "trending", { window, rank: "hot", limit: 100 }));
        const trueHot = hotScores(events, Date.parse(hot.from), Date.parse(hot.to), BUCKET_MS[window]!, HALF_LIFE_SECONDS);
        expect(hot.exact).toBe(false);
        expect(hot.items).toHaveLength(100);
        expect(hot.items.some((i) => i.error > 0)).toBe(true);
        for (const { item, score, error } of hot.items) {
          const actual = trueHot.get(item) ?? 0;
          const rounding = 1e-9 * score;
          expect(actual, `hot ${window} ${item}`).toBeLessThanOrEqual(score + rounding);
          expect(actual, `hot ${window} ${item}`).toBeGreaterThanOrEqual(score - error - rounding);
        }
      }
    });
  });

  describe("unique counts", () => {
    it("are within 2% at 100k distinct items and actors", async () => {
      const ns = freshNamespace("uniques");
      expect((await admin("PUT", ns, "config", { ingestShards })).status).toBe(200);
      const n = 100_000;
      const now = Date.now();
      const events: Counted[] = Array.from({ length: n }, (_, i) => ({
        item: `item-${i}`,
        actor: `actor-${(i * 7919) % n}`,
        type: "view",
        weight: 1,
        ts: now - 1000 - (i % (20 * MINUTE)),
      }));
      await ingestAll(ns, events);
      await refresh(ns);
      const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "1h" }));
      expect(stats.events).toBe(n);
      expect(Math.abs(stats.uniqueItems - n) / n).toBeLessThanOrEqual(0.02);
      expect(Math.abs(stats.uniqueActors - n) / n).toBeLessThanOrEqual(0.02);
    });
  });
});
