/**
 * Exactness over every window: a stream of 8 days with fewer distinct items per bucket than
 * `capacity` must be answered exactly, for [from, to) as each answer states it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { WINDOWS, type RankedItem, type StatsSnapshot, type TrendingSnapshot, type Window } from "../src/shared/contract";
import { admin, freshNamespace, get, ingestAll, json, refresh } from "./support/http";
import { hotScores, inRange, ranked, scores, type Counted } from "./support/exact";
import { rng } from "./support/random";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Bucket sizes of docs/api.md's table, to compute the period rank=rising compares against. */
const BUCKET: Record<Window, number> = { "5m": MINUTE, "1h": MINUTE, "24h": HOUR, "7d": 6 * HOUR, "30d": DAY };
const TYPES = ["view", "like", "play"];
/** Short enough that rank=hot orders differently from rank=top in the long windows. */
const HALF_LIFE_SECONDS = 3600;

/** 8 days of events over 200 items and 150 actors, denser in the last hour and minutes so that
 * every window holds data; weights are multiples of 0.5 so sums are exact in floating point. */
function stream(now: number): Counted[] {
  const random = rng(8);
  const events: Counted[] = [];
  const spans = [8 * DAY, 2 * DAY, 2 * HOUR, 10 * MINUTE];
  for (let i = 0; i < 12_000; i++) {
    const span = spans[i % spans.length]!;
    const event: Counted = {
      item: `item-${Math.floor(random() ** 2 * 200)}`,
      type: TYPES[Math.floor(random() * TYPES.length)]!,
      weight: 0.5 * (1 + Math.floor(random() * 6)),
      ts: now - 1000 - Math.floor(random() * span),
    };
    if (random() < 0.8) event.actor = `user-${Math.floor(random() * 150)}`;
    events.push(event);
  }
  return events;
}

const ms = (iso: string) => Date.parse(iso);

// The same answers whether the namespace's object takes every batch or four ingest shards take
// them and the object merges their deltas (docs/api.md, `ingestShards`).
describe.each([1, 4])("with ingestShards: %i", (ingestShards) => {
  const ns = freshNamespace(`windows-k${ingestShards}`);
  let events: Counted[];

  beforeAll(async () => {
    await admin("PUT", ns, "config", { windows: [...WINDOWS], maxLimit: 500, types: { view: {} }, hotHalfLifeSeconds: HALF_LIFE_SECONDS, ingestShards });
    events = stream(Date.now());
    await ingestAll(ns, events);
    await refresh(ns);
  });

  async function trending(window: Window, rank: "top" | "rising" | "hot", type?: string) {
    const query: Record<string, string | number> = { window, rank, limit: 500 };
    if (type) query.type = type;
    const res = await get(ns, "trending", query);
    expect(res.status).toBe(200);
    return json<TrendingSnapshot>(res);
  }

  describe.each(WINDOWS)("the %s window", (window) => {
    it("states a range that starts on a bucket boundary, covers the window and ends at computedAt", async () => {
      const answer = await trending(window, "top");
      const { from, to } = { from: ms(answer.from), to: ms(answer.to) };
      expect(answer.to).toBe(answer.computedAt);
      expect(from % BUCKET[window]).toBe(0);
      const nominal = { "5m": 5 * MINUTE, "1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY }[window];
      expect(to - from).toBeGreaterThanOrEqual(nominal);
      expect(to - from).toBeLessThan(nominal + BUCKET[window]);
    });

    it.each([null, "view"])("ranks top items (type %s) exactly as an exact count over [from, to)", async (type) => {
      const answer = await trending(window, "top", type ?? undefined);
      const expected = ranked(scores(inRange(events, ms(answer.from), ms(answer.to), type)));
      expect(answer.exact).toBe(true);
      expect(answer.items.map(({ item, score }) => ({ item, score }))).toEqual(expected.slice(0, 500));
      expect(answer.items.every((i) => i.error === 0)).toBe(true);
    });

    it.each([null, "view"])("ranks rising items (type %s) by growth against the preceding period of equal length", async (type) => {
      const answer = await trending(window, "rising", type ?? undefined);
      expect(answer.type).toBe(type);
      const from = ms(answer.from);
      const span = Math.ceil((ms(answer.to) - from) / BUCKET[window]) * BUCKET[window];
      const current = scores(inRange(events, from, ms(answer.to), type));
      const previous = scores(inRange(events, from - span, from, type));
      const growth = ranked(
        new Map([...current].map(([item, c]) => [item, c - (previous.get(item) ?? 0)] as const).filter(([, g]) => g > 0)),
      );
      expect(answer.items.map((i: RankedItem) => ({ item: i.item, score: i.score }))).toEqual(growth.slice(0, 500));
      for (const i of answer.items) {
        expect(i.current).toBe(current.get(i.item));
        expect(i.previous).toBe(previous.get(i.item) ?? 0);
        // Exact here, so an item is new exactly when it had no event in the previous period.
        expect(i.new, i.item).toBe(!previous.has(i.item));
      }
    });

    it.each([null, "view"])("ranks hot items (type %s) as the decayed sum over the answer's own buckets", async (type) => {
      const answer = await trending(window, "hot", type ?? undefined);
      const expected = ranked(hotScores(events, ms(answer.from), ms(answer.to), BUCKET[window], HALF_LIFE_SECONDS, type));
      expect(answer.rank).toBe("hot");
      expect(answer.exact).toBe(true);
      expect(answer.items.map((i) => i.item)).toEqual(expected.slice(0, 500).map((e) => e.item));
      answer.items.forEach((i, k) => {
        expect(i.score).toBeCloseTo(expected[k]!.score, 9);
        expect(i.error).toBe(0);
      });
    });

    it("states totals, per-type totals, series and unique counts exactly", async () => {
      const res = await get(ns, "stats", { window });
      const stats = await json<StatsSnapshot>(res);
      const from = ms(stats.from);
      const to = ms(stats.to);
      const inside = inRange(events, from, to);
      expect(stats.events).toBe(inside.length);
      expect(stats.weight).toBe(inside.reduce((s, e) => s + e.weight, 0));
      const byType: Record<string, { events: number; weight: number }> = {};
      for (const e of inside) {
        const t = (byType[e.type] ??= { events: 0, weight: 0 });
        t.events += 1;
        t.weight += e.weight;
      }
      expect(stats.byType).toEqual(byType);
      expect(stats.uniqueItems).toBe(new Set(inside.map((e) => e.item)).size);
      expect(stats.uniqueActors).toBe(new Set(inside.flatMap((e) => (e.actor ? [e.actor] : []))).size);
      expect(stats.series.length).toBe(Math.ceil((to - from) / BUCKET[window]));
      stats.series.forEach((point, i) => {
        const start = from + i * BUCKET[window];
        expect(ms(point.start)).toBe(start);
        const bucket = inRange(events, start, Math.min(start + BUCKET[window], to));
        expect({ events: point.events, weight: point.weight }).toEqual({
          events: bucket.length,
          weight: bucket.reduce((s, e) => s + e.weight, 0),
        });
      });
    });
  });
});
