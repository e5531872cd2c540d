/**
 * Every answer has a bounded size (answer-size.ts): rankings are cut from the end to fit and say
 * so; a dashboard's lists are cut to one length that fits.
 */
import { describe, expect, it } from "vitest";
import type { DashboardSnapshot, DimensionSnapshot, DimensionValue, RankedItem, StatsSnapshot, TrendingSnapshot } from "../../src/shared/contract";
import { MAX_ANSWER_BYTES, fitDashboard, fitList, fitRanking } from "../../src/core/answer-size";

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;
const header = { namespace: "n", window: "1h" as const, from: "2026-11-21T12:00:00.000Z", to: "2026-11-21T12:30:00.000Z", computedAt: "2026-11-21T12:30:00.000Z", generation: 1 };
const ranking = (items: RankedItem[]): TrendingSnapshot => ({ ...header, rank: "top", type: null, exact: true, items });
/** Items of 256 bytes that JSON escapes to 6 bytes each, the worst an item can be. */
const worst = (n: number) => Array.from({ length: n }, (_, i) => ({ item: `${i}`.padStart(6, "0") + "\u0001".repeat(250), score: 1e6 - i, error: 0 }));

describe("a ranking", () => {
  it("that fits is served whole, unmarked", () => {
    const small = ranking(worst(10));
    expect(fitRanking(small)).toBe(small);
  });

  it("that does not fit is its longest prefix that does, marked truncated", () => {
    const whole = ranking(worst(1000));
    expect(bytes(whole)).toBeGreaterThan(MAX_ANSWER_BYTES);
    const fitted = fitRanking(whole);
    expect(fitted.truncated).toBe(true);
    expect(bytes(fitted)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(fitted.items).toEqual(whole.items.slice(0, fitted.items.length));
    // One item more would not fit: the prefix is the longest.
    expect(bytes({ ...fitted, items: whole.items.slice(0, fitted.items.length + 1) })).toBeGreaterThan(MAX_ANSWER_BYTES);
  });
});

describe("a compare ranking (v1.4)", () => {
  /** The widest item a compare answer can list: a rising item of the longest escaped name, every
   * number 24 characters wide, and its previousScore and previousError. */
  const wide = -1.2345678901234567e-300;
  const worstCompared = (n: number): RankedItem[] =>
    worst(n).map((i) => ({ ...i, score: wide, error: wide, current: wide, previous: wide, new: false, previousScore: wide, previousError: wide }));

  it("of the widest items, just too long to fit, is measured and cut: its size bound never lets it through", () => {
    const compared = (n: number) => ({ ...ranking(worstCompared(n)), rank: "rising" as const, compare: "week" as const, previousFrom: header.from, previousTo: header.to });
    let n = 1;
    while (bytes(compared(n)) <= MAX_ANSWER_BYTES) n++;
    const fitted = fitRanking(compared(n));
    expect(fitted.truncated).toBe(true);
    expect(fitted.items.length).toBe(n - 1);
    expect(bytes(fitted)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
  });

  it("that does not fit is cut to a prefix that does", () => {
    const fitted = fitRanking(ranking(worstCompared(1000)));
    expect(fitted.truncated).toBe(true);
    expect(bytes(fitted)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
  });
});

describe("a dashboard", () => {
  /** A dashboard of five windows, each with the widest breakdown (32 declared, 64 others and
   * (other), names of 64 bytes), `series` buckets and lists of `items` of the longest names. */
  function dashboardOf(items: number, series = 60): DashboardSnapshot {
    const byType = Object.fromEntries(Array.from({ length: 97 }, (_, t) => [`type-${t}`.padEnd(64, "x"), { events: 1e9, weight: 1e12 + 0.5 }]));
    const points = Array.from({ length: series }, () => ({ start: header.from, events: 1e9, weight: 1e12 + 0.5 }));
    const stats: StatsSnapshot = { ...header, events: 1e9, weight: 1e12, uniqueItems: 1e9, uniqueActors: 1e9, byType, series: points };
    const window = { stats, top: ranking(worst(items)), hot: ranking(worst(items)) };
    return { namespace: "n", computedAt: header.computedAt, generation: 1, timezone: "America/Argentina/ComodRivadavia", windows: { "5m": window, "1h": window, "24h": window, "7d": window, "30d": window } };
  }

  it("at the widest it can be (lists of 10, every breakdown full, 60 points a window) fits whole", () => {
    const widest = dashboardOf(10);
    expect(bytes(widest)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(fitDashboard(widest)).toBe(widest);
  });

  it("beyond that is cut to one list length that fits, and says so", () => {
    const whole = dashboardOf(20);
    expect(bytes(whole)).toBeGreaterThan(MAX_ANSWER_BYTES);
    const fitted = fitDashboard(whole);
    expect(bytes(fitted)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    const lengths = Object.values(fitted.windows).flatMap((w) => [w.top.items.length, w.hot.items.length]);
    expect(new Set(lengths).size).toBe(1);
    expect(lengths[0]).toBeGreaterThan(10);
    for (const w of Object.values(fitted.windows)) expect(w.top.truncated).toBe(true);
  });
});

describe("a dimension's breakdown and the dashboard's dimensions (v1.7)", () => {
  /** Values of 128 bytes that JSON escapes to 6 bytes each, every number 24 characters wide. */
  const wide = -1.2345678901234567e-300;
  const values = (n: number): DimensionValue[] =>
    Array.from({ length: n }, (_, i) => ({ value: `${i}`.padStart(6, "0") + "\u0001".repeat(122), events: wide, weight: wide, error: wide, eventsError: wide }));
  const breakdown = (n: number): DimensionSnapshot => ({ ...header, dimension: "tag", exact: false, floor: wide, values: values(n) });

  it("of 1000 of the widest values is its longest prefix within the bound, marked truncated", () => {
    const whole = breakdown(1000);
    expect(bytes(whole)).toBeGreaterThan(MAX_ANSWER_BYTES);
    const fitted = fitList(whole);
    expect(fitted.truncated).toBe(true);
    expect(bytes(fitted)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(fitted.values).toEqual(whole.values.slice(0, fitted.values.length));
    expect(bytes({ ...fitted, values: whole.values.slice(0, fitted.values.length + 1) })).toBeGreaterThan(MAX_ANSWER_BYTES);
    expect(fitList(breakdown(10))).toEqual(breakdown(10));
  });

  it("in a dashboard of nine windows and 8 dimensions of the widest values, fits the bound by cutting every list alike", () => {
    const windows = Object.fromEntries(
      ["5m", "1h", "24h", "7d", "30d", "today", "yesterday", "thisWeek", "thisMonth"].map((w) => [
        w,
        {
          stats: { ...header, events: 0, weight: 0, uniqueItems: 0, uniqueActors: 0, byType: {}, series: [] } as StatsSnapshot,
          top: ranking(worst(10)),
          hot: ranking(worst(10)),
          dimensions: Object.fromEntries(Array.from({ length: 8 }, (_, d) => [`d${d}`, breakdown(10)])),
        },
      ]),
    );
    const dashboard: DashboardSnapshot = { namespace: "n", computedAt: header.computedAt, generation: 1, timezone: "UTC", windows };
    expect(bytes(dashboard)).toBeGreaterThan(MAX_ANSWER_BYTES);
    const fitted = fitDashboard(dashboard);
    expect(bytes(fitted)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    const lengths = Object.values(fitted.windows).flatMap((w) => Object.values(w!.dimensions!).map((d) => d.values.length));
    expect(new Set(lengths).size).toBe(1);
    expect(lengths[0]).toBeLessThan(10);
    expect(Object.values(fitted.windows).every((w) => Object.values(w!.dimensions!).every((d) => d.truncated === true))).toBe(true);
  });
});
