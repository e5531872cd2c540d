/**
 * Time tiers at their edges: bucket alignment, what a tier keeps, the range a window states and the
 * period rank=rising compares it with, and the periods `compare` compares it with. Expected values come
 * from docs/api.md ("Windows", "Comparisons") and its bucket table, not from the code.
 */
import { describe, expect, it } from "vitest";
import { WINDOWS, type Window } from "../../src/shared/contract";
import { TIERS, bucketStart, comparedRange, oldestKept, previousRange, tierOf, weekRefusal, windowRange } from "../../src/core/tiers";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** docs/api.md: the bucket of each window. */
const BUCKET: Record<Window, number> = { "5m": MINUTE, "1h": MINUTE, "24h": HOUR, "7d": 6 * HOUR, "30d": DAY };
const LENGTH: Record<Window, number> = { "5m": 5 * MINUTE, "1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY };
/** A day boundary (UTC), so every tier's buckets start here. */
const BOUNDARY = Date.UTC(2026, 10, 21);

/** Times around a bucket boundary of `bucket`: on it, just before, just after, and mid-bucket. */
const around = (bucket: number) => [BOUNDARY, BOUNDARY - 1, BOUNDARY + 1, BOUNDARY + bucket / 2, BOUNDARY + bucket - 1];

describe("bucketStart", () => {
  it.each(WINDOWS)("aligns %s buckets to the epoch in UTC: a boundary is its own start, one ms before is the previous bucket", (window) => {
    const tier = tierOf(window);
    const b = BUCKET[window];
    expect(tier.bucketMs).toBe(b);
    expect(bucketStart(BOUNDARY, tier)).toBe(BOUNDARY);
    expect(bucketStart(BOUNDARY - 1, tier)).toBe(BOUNDARY - b);
    expect(bucketStart(BOUNDARY + b - 1, tier)).toBe(BOUNDARY);
    expect(bucketStart(BOUNDARY + b, tier)).toBe(BOUNDARY + b);
    expect(bucketStart(0, tier)).toBe(0);
  });
});

describe("windowRange", () => {
  it.each(WINDOWS)("states [from, to) for %s: from on a bucket boundary, to the time asked, covering the window plus less than a bucket", (window) => {
    for (const at of around(BUCKET[window])) {
      const { from, to } = windowRange(window, at);
      expect(to).toBe(at);
      expect(from % BUCKET[window]).toBe(0);
      expect(to - from).toBeGreaterThanOrEqual(LENGTH[window]);
      expect(to - from).toBeLessThan(LENGTH[window] + BUCKET[window]);
    }
  });

  it.each(WINDOWS)("covers exactly the nominal length of %s when asked on a bucket boundary, one ms more just after", (window) => {
    expect(windowRange(window, BOUNDARY)).toEqual({ from: BOUNDARY - LENGTH[window], to: BOUNDARY });
    expect(windowRange(window, BOUNDARY + 1)).toEqual({ from: BOUNDARY - LENGTH[window], to: BOUNDARY + 1 });
    expect(windowRange(window, BOUNDARY - 1).from).toBe(BOUNDARY - LENGTH[window] - BUCKET[window]);
  });
});

describe("previousRange", () => {
  it.each(WINDOWS)("is the whole buckets right before the %s window, at least as long as it", (window) => {
    for (const at of around(BUCKET[window])) {
      const current = windowRange(window, at);
      const previous = previousRange(window, at);
      expect(previous.to).toBe(current.from);
      expect(previous.from % BUCKET[window]).toBe(0);
      const span = previous.to - previous.from;
      expect(span % BUCKET[window]).toBe(0);
      expect(span).toBeGreaterThanOrEqual(current.to - current.from);
      expect(span).toBeLessThan(current.to - current.from + BUCKET[window]);
    }
  });

  it.each(WINDOWS)("has the nominal length of %s on a bucket boundary, one bucket more just after it", (window) => {
    expect(previousRange(window, BOUNDARY)).toEqual({ from: BOUNDARY - 2 * LENGTH[window], to: BOUNDARY - LENGTH[window] });
    const after = previousRange(window, BOUNDARY + 1);
    expect(after.to - after.from).toBe(LENGTH[window] + BUCKET[window]);
  });
});

describe("oldestKept", () => {
  it.each(WINDOWS)("keeps every bucket that the %s window and the period before it can reach, at every time", (window) => {
    const tier = tierOf(window);
    for (const at of around(BUCKET[window])) {
      expect(previousRange(window, at).from).toBeGreaterThanOrEqual(oldestKept(at, tier));
    }
  });

  it("is a bucket boundary, and moves by one bucket when time crosses one", () => {
    for (const tier of TIERS) {
      const before = oldestKept(BOUNDARY - 1, tier);
      const at = oldestKept(BOUNDARY, tier);
      expect(at % tier.bucketMs).toBe(0);
      expect(at - before).toBe(tier.bucketMs);
      expect(oldestKept(BOUNDARY + tier.bucketMs - 1, tier)).toBe(at);
    }
  });
});

describe("comparedRange", () => {
  const QUARTER = 6 * HOUR;
  const WEEK = 7 * DAY;

  it.each(WINDOWS)("for compare=previous is rank=rising's previous period of %s, whole", (window) => {
    for (const at of around(BUCKET[window])) {
      const compared = comparedRange(window, at, "previous");
      expect({ from: compared.from, to: compared.to }).toEqual(previousRange(window, at));
      expect(compared.whole).toBe(true);
    }
  });

  it("for compare=week is the 24h window's whole buckets a week earlier, when they fall on 6-hour boundaries", () => {
    const compared = comparedRange("24h", BOUNDARY, "week");
    expect({ from: compared.from, to: compared.to, whole: compared.whole }).toEqual({
      from: BOUNDARY - DAY - WEEK,
      to: BOUNDARY - WEEK,
      whole: true,
    });
    expect(compared.tier.bucketMs).toBe(QUARTER);
  });

  it("for compare=week elsewhere is widened to the 6-hour buckets that hold it, and says so", () => {
    for (const at of [BOUNDARY + 1, BOUNDARY + HOUR, BOUNDARY + 90 * MINUTE + 17_123, BOUNDARY + QUARTER - 1, BOUNDARY - 1]) {
      const { from } = windowRange("24h", at);
      const span = Math.ceil((at - from) / HOUR) * HOUR;
      const asked = { from: from - WEEK, to: from - WEEK + span };
      const compared = comparedRange("24h", at, "week");
      expect(compared.from).toBe(Math.floor(asked.from / QUARTER) * QUARTER);
      expect(compared.to).toBe(Math.ceil(asked.to / QUARTER) * QUARTER);
      expect(compared.to - compared.from).toBe(30 * HOUR);
      expect(compared.whole).toBe(false);
    }
  });

  it("for compare=week reaches back no further than the 6-hour tier keeps, and never into the window", () => {
    const quarter = TIERS.find((t) => t.bucketMs === QUARTER)!;
    for (let at = BOUNDARY; at < BOUNDARY + DAY; at += 7 * MINUTE + 13_001) {
      const compared = comparedRange("24h", at, "week");
      expect(compared.from).toBeGreaterThanOrEqual(oldestKept(at, quarter));
      expect(compared.to).toBeLessThanOrEqual(windowRange("24h", at).from);
    }
  });
});

describe("weekRefusal", () => {
  it("accepts compare=week for 24h only: 5m and 1h are not kept a week at their grain, and a week before 7d or 30d overlaps them", () => {
    expect(weekRefusal("24h")).toBeUndefined();
    for (const window of ["5m", "1h", "7d", "30d"] as const) expect(weekRefusal(window), window).toMatch(/compare=week/);
    // Why, for the short windows: neither the minute nor the hour tier keeps a week.
    for (const tier of TIERS.filter((t) => t.bucketMs <= HOUR)) expect(tier.retain * tier.bucketMs).toBeLessThan(7 * DAY);
  });
});
