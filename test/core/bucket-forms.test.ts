/**
 * One bucket's life: live while it takes events, compact once sealed, thawed by a late event;
 * its serialised state is the same in every form.
 */
import { describe, expect, it } from "vitest";
import type { TallyEvent } from "../../src/shared/contract";
import { Bucket } from "../../src/core/bucket";
import { ItemDictionary } from "../../src/core/dictionary";
import { hash53 } from "../../src/core/hash";
import { rng as seeded } from "../support/random";

const DECLARED = new Set(["view", "like"]);

function events(n: number, seed: number): TallyEvent[] {
  const random = seeded(seed);
  return Array.from({ length: n }, () => ({
    item: `item-${Math.floor(random() * 400)}`,
    type: random() < 0.7 ? "view" : "like",
    weight: 1 + Math.floor(random() * 3),
    ts: 0,
    actor: `actor-${Math.floor(random() * 50)}`,
  }));
}

function feed(bucket: Bucket, batch: TallyEvent[]): void {
  for (const e of batch) bucket.add(e, hash53(e.item), e.actor === undefined ? undefined : hash53(e.actor), DECLARED);
}

describe("a bucket", () => {
  it("serialises the same state live and compacted, and round-trips exactly", () => {
    const dict = new ItemDictionary();
    const bucket = Bucket.empty(0, 300, dict); // 400 items > 300: lossy summaries too
    feed(bucket, events(5000, 1));
    const live = JSON.stringify(bucket.toJSON());
    const liveBytes = bucket.bytes();
    expect(bucket.compact()).toBe(true);
    expect(bucket.isCompact).toBe(true);
    expect(JSON.stringify(bucket.toJSON())).toBe(live);
    expect(bucket.bytes()).toBeLessThan(liveBytes / 2);
    const restored = Bucket.fromJSON(JSON.parse(live), dict);
    expect(JSON.stringify(restored.toJSON())).toBe(live);
  });

  it("thaws for a late event and then counts as if it had never been compacted", () => {
    const first = events(3000, 2);
    const late = events(2000, 3);
    const never = Bucket.empty(0, 300, new ItemDictionary());
    const sealed = Bucket.empty(0, 300, new ItemDictionary());
    feed(never, first);
    feed(sealed, first);
    sealed.compact();
    feed(never, late);
    feed(sealed, late);
    expect(sealed.isCompact).toBe(false);
    expect(sealed.toJSON()).toEqual(never.toJSON());
  });

  it("cuts every summary to a number of counters, raising floors, and gives the items back when released", () => {
    const dict = new ItemDictionary();
    const bucket = Bucket.empty(0, 1000, dict);
    const batch = events(5000, 4);
    feed(bucket, batch);
    bucket.compact();
    expect(bucket.cutTo(10)).toBe(true);
    expect(bucket.counters).toBeLessThanOrEqual(30); // all types + view + like
    const truth = new Map<string, number>();
    for (const e of batch) truth.set(e.item, (truth.get(e.item) ?? 0) + e.weight);
    const part = bucket.partFor(null);
    const held = new Set<string>();
    part.summary!.forEach((item, count, error) => {
      held.add(item);
      expect(truth.get(item)!).toBeLessThanOrEqual(count);
      expect(truth.get(item)!).toBeGreaterThanOrEqual(count - error);
    });
    for (const [item, t] of truth) if (!held.has(item)) expect(t).toBeLessThanOrEqual(part.floor);
    bucket.release();
    expect(dict.size).toBe(0);
  });
});
