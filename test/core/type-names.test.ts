/**
 * Type names are bounded (type-names.ts): a namespace names its declared types and at most
 * MAX_UNDECLARED_TYPES others; the rest fold into OTHER_TYPES, and totals stay exact.
 */
import { describe, expect, it } from "vitest";
import type { TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { MAX_UNDECLARED_TYPES, OTHER_TYPES } from "../../src/core/type-names";
import { TYPE_PATTERN } from "../../src/shared/contract";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const T0 = Date.UTC(2026, 10, 21, 12, 30, 15);
const ev = (type: string, ts = T0 - 1000, weight = 1): TallyEvent => ({ item: `i-${type}`, type, weight, ts });

describe("type names", () => {
  it("names the first undeclared types up to the bound and folds every later one into (other)", () => {
    const agg = new Aggregator({ capacity: 100, types: ["view"] });
    const undeclared = Array.from({ length: MAX_UNDECLARED_TYPES + 50 }, (_, i) => `t-${i}`);
    agg.ingest([...undeclared.map((t) => ev(t, T0 - 1000, 2)), ev("view"), ev("t-0")], T0);
    agg.advance(T0);
    const stats = agg.stats("1h", T0);
    expect(stats.events).toBe(undeclared.length + 2);
    expect(stats.weight).toBe(2 * undeclared.length + 2);
    expect(Object.keys(stats.byType).sort()).toEqual([OTHER_TYPES, "view", ...undeclared.slice(0, MAX_UNDECLARED_TYPES)].sort());
    expect(stats.byType[OTHER_TYPES]).toEqual({ events: 50, weight: 100 });
    expect(stats.byType["t-0"]).toEqual({ events: 2, weight: 3 });
  });

  it("never names (other) like a type: no valid type name can be it", () => {
    expect(TYPE_PATTERN.test(OTHER_TYPES)).toBe(false);
  });

  it("frees the place of a name no held bucket counts any more", () => {
    const agg = new Aggregator({ capacity: 100, types: [] });
    const old = Array.from({ length: MAX_UNDECLARED_TYPES }, (_, i) => `old-${i}`);
    agg.ingest(old.map((t) => ev(t, T0 - 1000)), T0);
    // Past the longest window and the period rank=rising compares it with: every bucket that held
    // the old names expired.
    const later = T0 + 62 * DAY;
    agg.advance(later);
    agg.ingest([ev("new", later - 1000)], later);
    agg.advance(later);
    expect(Object.keys(agg.stats("1h", later).byType)).toEqual(["new"]);
  });

  it("keeps the names a restored bucket counts", () => {
    const original = new Aggregator({ capacity: 100, types: [] });
    original.ingest(Array.from({ length: MAX_UNDECLARED_TYPES }, (_, i) => ev(`t-${i}`)), T0);
    const restored = new Aggregator({ capacity: 100, types: [] });
    for (const record of original.checkpoint().changed) restored.restore(JSON.parse(JSON.stringify(record)));
    restored.ingest([ev("t-1"), ev("late")], T0);
    restored.advance(T0);
    const byType = restored.stats("1h", T0).byType;
    expect(byType["t-1"]?.events).toBe(2);
    expect(byType[OTHER_TYPES]?.events).toBe(1); // the bound was full with the restored names
  });
});
