/**
 * rank=reach over the aggregation core (core/reach.ts): distinct actors per item, which one actor
 * cannot inflate; exact while every bucket held all its distinct pairs, and within its stated
 * bounds beyond. The truth is counted here, independently: a Set of actors per item.
 */
import { describe, expect, it } from "vitest";
import { WINDOWS, type TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { Bucket } from "../../src/core/bucket";
import { comparedRange, windowRange } from "../../src/core/tiers";
import { rng, zipf } from "../support/random";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 21, 12, 30, 15);

/** Distinct actors per item of the events in [from, to), of `type` if given. */
function reachOf(events: readonly TallyEvent[], from: number, to: number, type: string | null = null): Map<string, number> {
  const actors = new Map<string, Set<string>>();
  for (const e of events) {
    if (e.ts < from || e.ts >= to || e.actor === undefined || (type !== null && e.type !== type)) continue;
    let set = actors.get(e.item);
    if (!set) actors.set(e.item, (set = new Set()));
    set.add(e.actor);
  }
  return new Map([...actors].map(([item, set]) => [item, set.size]));
}

/** The exact ranking: reach descending, then item ascending. */
function rankedReach(truth: Map<string, number>): { item: string; score: number; error: number }[] {
  return [...truth]
    .map(([item, score]) => ({ item, score, error: 0 }))
    .sort((a, b) => b.score - a.score || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
}

/** Feeds events hour by hour, in time order, advancing in between: buckets seal and roll up as live. */
function feedLive(agg: Aggregator, events: readonly TallyEvent[], now: number): void {
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  let from = 0;
  while (from < sorted.length) {
    const hourEnd = Math.floor(sorted[from]!.ts / HOUR) * HOUR + HOUR;
    let to = from;
    while (to < sorted.length && sorted[to]!.ts < hourEnd) to++;
    const at = Math.min(now, hourEnd);
    agg.ingest(sorted.slice(from, to), at);
    agg.advance(at);
    from = to;
  }
  agg.advance(now);
}

describe("rank=reach", () => {
  it("ranks 500 actors' one event each above one actor's 100,000 events, where top ranks them the other way", () => {
    const agg = new Aggregator({ capacity: 5000, types: ["view"] });
    const events: TallyEvent[] = [];
    for (let i = 0; i < 100_000; i++) events.push({ item: "A", type: "view", weight: 1, actor: "bot", ts: T0 - 3 * MINUTE + (i % 60_000) });
    for (let i = 0; i < 500; i++) events.push({ item: "B", type: "view", weight: 1, actor: `user-${i}`, ts: T0 - 2 * MINUTE + i });
    agg.ingest(events, T0);
    agg.advance(T0);
    for (const type of [null, "view"]) {
      const reach = agg.reach("1h", type, T0, 10);
      expect(reach.items).toEqual([
        { item: "B", score: 500, error: 0 },
        { item: "A", score: 1, error: 0 },
      ]);
      expect(reach.exact).toBe(true);
      expect(agg.top("1h", type, T0, 10).items.map((i) => i.item)).toEqual(["A", "B"]);
    }
  });

  it("counts exactly what an independent count of distinct actors gives, over every window, type and compared period", () => {
    const random = rng(7);
    const events: TallyEvent[] = [];
    for (let i = 0; i < 6000; i++) {
      const event: TallyEvent = {
        item: `item-${Math.floor(random() ** 2 * 30)}`,
        type: ["view", "like", "play"][Math.floor(random() * 3)]!, // play is not declared
        weight: 1 + Math.floor(random() * 3),
        ts: T0 - 1 - Math.floor(random() * (i % 3 === 0 ? 2 * DAY : 3 * HOUR)),
      };
      if (random() < 0.8) event.actor = `user-${Math.floor(random() * 60)}`;
      events.push(event);
    }
    const agg = new Aggregator({ capacity: 5000, types: ["view", "like"] });
    feedLive(agg, events, T0);
    for (const window of ["5m", "1h", "24h"] as const) {
      const range = windowRange(window, T0);
      for (const type of [null, "view", "like"]) {
        const answer = agg.reach(window, type, T0, 1000);
        expect(answer.exact).toBe(true);
        expect(answer.items).toEqual(rankedReach(reachOf(events, range.from, range.to, type)));
        const compared = agg.reach(window, type, T0, 1000, "previous");
        const before = reachOf(events, ...(({ from, to }) => [from, to] as const)(comparedRange(window, T0, "previous")), type);
        for (const item of compared.items) expect(item.previousScore).toBe(before.get(item.item) ?? 0);
        expect(compared.items.every((i) => i.previousError === 0)).toBe(true);
      }
    }
    // Events without an actor reach no one: an item seen only without actors is not listed.
    agg.ingest([{ item: "anonymous", type: "view", weight: 5, ts: T0 }], T0 + 1);
    agg.advance(T0 + 1);
    expect(agg.reach("5m", null, T0 + 1, 1000).items.some((i) => i.item === "anonymous")).toBe(false);
    expect(agg.top("5m", null, T0 + 1, 1000).items.some((i) => i.item === "anonymous")).toBe(true);
  });

  it("keeps the true reach within [score - error, score] at 1M distinct (item, actor) pairs, and says it is not exact", () => {
    const random = rng(11);
    const pick = zipf(3000, 1.0, random);
    const truth = new Map<string, number>();
    const agg = new Aggregator({ capacity: 5000, types: ["view"] });
    const minutes = 50;
    const perMinute = 20_000;
    for (let m = minutes; m >= 1; m--) {
      const start = Math.floor(T0 / MINUTE) * MINUTE - m * MINUTE;
      const batch: TallyEvent[] = [];
      for (let i = 0; i < perMinute; i++) {
        const item = `item-${pick()}`;
        truth.set(item, (truth.get(item) ?? 0) + 1);
        // Each actor acts once ever, so every event is a new pair; every fifth is sent twice.
        const event: TallyEvent = { item, type: "view", weight: 1, actor: `actor-${m}-${i}`, ts: start + (i % MINUTE) };
        batch.push(event);
        if (i % 5 === 0) batch.push({ ...event, ts: start + 59_999 });
      }
      agg.ingest(batch, start + MINUTE);
      agg.advance(start + MINUTE);
    }
    agg.advance(T0);
    expect([...truth.values()].reduce((a, b) => a + b, 0)).toBe(minutes * perMinute);
    const answer = agg.reach("1h", null, T0, 100);
    expect(answer.exact).toBe(false);
    expect(answer.items).toHaveLength(100);
    for (const { item, score, error } of answer.items) {
      const n = truth.get(item) ?? 0;
      expect(n).toBeLessThanOrEqual(score);
      expect(n).toBeGreaterThanOrEqual(score - error);
    }
    // Bounded, not merely safe: the most reached item is listed first, within a factor of 2.
    const [best] = rankedReach(truth);
    expect(answer.items[0]!.item).toBe(best!.item);
    expect(answer.items[0]!.score).toBeLessThan(2 * best!.score);
    // The per-type answer is the same sample, the same bounds.
    expect(agg.reach("1h", "view", T0, 100).items).toEqual(answer.items);
  });

  it("merges an ingest shard's pairs as the events one by one would be counted", async () => {
    const { DeltaBuilder } = await import("../../src/core/shard-delta");
    const events: TallyEvent[] = [];
    for (let i = 0; i < 400; i++) events.push({ item: `i${i % 7}`, type: i % 2 ? "view" : "like", weight: 1, actor: `a${i % 23}`, ts: T0 - 1 - i * 1000 });
    const direct = new Aggregator({ capacity: 100, types: ["view", "like"] });
    direct.ingest(events, T0);
    direct.advance(T0);
    const sharded = new Aggregator({ capacity: 100, types: ["view", "like"] });
    const builder = new DeltaBuilder(T0);
    builder.add(events);
    sharded.mergeDelta(builder.build(), T0);
    sharded.advance(T0);
    for (const window of WINDOWS) {
      for (const type of [null, "view", "like"]) expect(sharded.reach(window, type, T0, 100)).toEqual(direct.reach(window, type, T0, 100));
    }
    expect(direct.reach("1h", "like", T0, 100).items.length).toBeGreaterThan(0);
  });

  it("bounds a type's reach by its events counted before it was declared, and says it is not exact", () => {
    const agg = new Aggregator({ capacity: 100, types: ["view"] });
    const like = (actor: string, item = "a"): TallyEvent => ({ item, type: "like", weight: 1, actor, ts: T0 - 2 * MINUTE });
    agg.ingest([like("x"), like("y"), like("x")], T0 - MINUTE);
    agg.configure({ capacity: 100, types: ["view", "like"] });
    agg.ingest([like("z"), like("x", "b")], T0);
    agg.advance(T0);
    const answer = agg.reach("1h", "like", T0, 10);
    expect(answer.exact).toBe(false);
    // Truth: a has 3 actors (x, y, z), b has 1; the 3 likes before the type was declared may be anyone's.
    expect(answer.items).toEqual([
      { item: "a", score: 4, error: 3 },
      { item: "b", score: 4, error: 3 },
    ]);
    // All types never depended on the type's bit: exact.
    expect(agg.reach("1h", null, T0, 10)).toMatchObject({ exact: true, items: [{ item: "a", score: 3, error: 0 }, { item: "b", score: 1, error: 0 }] });
  });

  it("answers a bucket stored without pairs as unknown: bounded by its events, never exact", () => {
    const agg = new Aggregator({ capacity: 100, types: ["view"] });
    agg.ingest([
      { item: "a", type: "view", weight: 1, actor: "x", ts: T0 - 2 * MINUTE },
      { item: "a", type: "view", weight: 1, actor: "x", ts: T0 - 2 * MINUTE },
      { item: "b", type: "view", weight: 1, actor: "y", ts: T0 - MINUTE },
    ], T0);
    agg.advance(T0);
    const [old] = agg.buckets().filter((r) => r.tier === "minute" && r.state.start === Math.floor((T0 - 2 * MINUTE) / MINUTE) * MINUTE);
    const { reach: _, ...withoutPairs } = old!.state;
    agg.restore({ tier: "minute", state: withoutPairs });
    const answer = agg.reach("1h", null, T0, 10);
    expect(answer.exact).toBe(false);
    // The old minute had 2 events: any item may have had up to 2 actors there.
    expect(answer.items).toEqual([{ item: "b", score: 3, error: 2 }]);
    expect(Bucket.fromJSON(withoutPairs).reachPart(null)).toEqual({ sample: undefined, bit: -1, extra: 2 });
  });
});
