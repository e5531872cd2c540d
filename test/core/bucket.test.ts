/**
 * One bucket: the split of its all-types summary when a second type arrives, and the weight of a
 * type counted before the type was declared (README, "Config": such buckets answer per-type
 * rankings with a bound, not exactly).
 */
import { describe, expect, it } from "vitest";
import type { TallyEvent } from "../../src/shared/contract";
import { Bucket } from "../../src/core/bucket";
import { merge } from "../../src/core/ranking";

const ev = (item: string, type: string, weight = 1): TallyEvent => ({ item, type, weight, ts: 0 });
const declared = (...types: string[]) => new Set(types);

/** Adds events to the bucket with `types` declared, and to the exact per-type totals. */
function feed(bucket: Bucket, events: TallyEvent[], types: ReadonlySet<string>, exact: Map<string, Map<string, number>>): void {
  for (const e of events) {
    bucket.add(e, 0, undefined, types);
    for (const key of [e.type, "*"]) {
      const totals = exact.get(key) ?? new Map<string, number>();
      totals.set(e.item, (totals.get(e.item) ?? 0) + e.weight);
      exact.set(key, totals);
    }
  }
}

/** The per-item scores a bucket answers for `type` (null: all types), with their errors. */
const answer = (bucket: Bucket, type: string | null) => merge([bucket.partFor(type)]);

function expectExact(bucket: Bucket, type: string | null, truth: Map<string, number>): void {
  const { scores, floor } = answer(bucket, type);
  expect(floor).toBe(0);
  expect(new Map([...scores].map(([item, s]) => [item, s.score]))).toEqual(truth);
  for (const s of scores.values()) expect(s.error).toBe(0);
}

describe("a bucket's types", () => {
  it("answers a single-type bucket's type exactly, and knows no other type's items", () => {
    const bucket = Bucket.empty(0, 10);
    const exact = new Map<string, Map<string, number>>();
    feed(bucket, [ev("a", "view", 2), ev("b", "view"), ev("a", "view")], declared("view", "like"), exact);
    expectExact(bucket, "view", exact.get("view")!);
    expectExact(bucket, null, exact.get("*")!);
    const like = answer(bucket, "like");
    expect(like.scores.size).toBe(0);
    expect(like.floor).toBe(0);
  });

  it("splits exactly when a second type arrives: each type then answers only for its own events", () => {
    const bucket = Bucket.empty(0, 10);
    const exact = new Map<string, Map<string, number>>();
    const types = declared("view", "like");
    feed(bucket, [ev("a", "view", 2), ev("b", "view")], types, exact);
    feed(bucket, [ev("a", "like", 5), ev("c", "like"), ev("b", "view", 3)], types, exact);
    expectExact(bucket, "view", exact.get("view")!);
    expectExact(bucket, "like", exact.get("like")!);
    expectExact(bucket, null, exact.get("*")!);
  });

  it("keeps the split through a serialisation round trip", () => {
    const bucket = Bucket.empty(0, 10);
    const exact = new Map<string, Map<string, number>>();
    feed(bucket, [ev("a", "view"), ev("b", "like", 2), ev("a", "like")], declared("view", "like"), exact);
    const restored = Bucket.fromJSON(bucket.toJSON());
    for (const type of ["view", "like"]) expectExact(restored, type, exact.get(type)!);
    expectExact(restored, null, exact.get("*")!);
  });
});

describe("a type declared after the bucket counted it", () => {
  it("bounds the type's items by the weight counted before the declaration", () => {
    const bucket = Bucket.empty(0, 10);
    const exact = new Map<string, Map<string, number>>();
    const before = [ev("a", "view", 2), ev("x", "like", 3), ev("y", "like", 4)];
    feed(bucket, before, declared(), exact);
    feed(bucket, [ev("n", "like", 1)], declared("like"), exact);
    const { scores, floor } = answer(bucket, "like");
    const untracked = 3 + 4; // the like weight counted while "like" was not declared
    expect(floor).toBeGreaterThanOrEqual(untracked);
    // Items counted only before the declaration are absent from the type's summary: the floor bounds them.
    for (const item of ["x", "y"]) {
      expect(scores.has(item)).toBe(false);
      expect(exact.get("like")!.get(item)!).toBeLessThanOrEqual(floor);
    }
    // An item first counted after the declaration is counted there.
    expect(scores.get("n")?.score).toBeGreaterThanOrEqual(1);
    // The all-types answer was never affected.
    expectExact(bucket, null, exact.get("*")!);
  });

  it("bounds an item counted both before and after the declaration: [score - error, score] holds", () => {
    const bucket = Bucket.empty(0, 10);
    const exact = new Map<string, Map<string, number>>();
    feed(bucket, [ev("a", "view", 2), ev("a", "like", 3)], declared(), exact);
    feed(bucket, [ev("a", "like", 1), ev("b", "like", 5)], declared("like"), exact);
    const { scores } = answer(bucket, "like");
    for (const [item, truth] of exact.get("like")!) {
      const { score, error } = scores.get(item)!;
      expect(truth, item).toBeLessThanOrEqual(score);
      expect(truth, item).toBeGreaterThanOrEqual(score - error);
    }
    expect(scores.get("a")!.error).toBeGreaterThan(0); // it cannot be exact: 3 of its weight is untracked
  });

  it("keeps that bound through a serialisation round trip", () => {
    const bucket = Bucket.empty(0, 10);
    const exact = new Map<string, Map<string, number>>();
    feed(bucket, [ev("a", "view"), ev("x", "like", 3)], declared(), exact);
    feed(bucket, [ev("n", "like")], declared("like"), exact);
    expect(answer(Bucket.fromJSON(bucket.toJSON()), "like").floor).toBe(answer(bucket, "like").floor);
    expect(answer(bucket, "like").floor).toBeGreaterThanOrEqual(3);
  });
});
