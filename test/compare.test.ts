/**
 * Comparisons (docs/api.md, "Comparisons (v1.4)"): `compare=previous` and `compare=week` on trending
 * and stats, checked against an exact count over the ranges each answer states, with events placed on
 * the edges of those ranges; the refusals at the door; a compare answer's own keys in every layer; and
 * (v1.6) comparisons a config precomputes.
 * The clock is Vitest's fake `Date`, set to the times each test needs; nothing sleeps.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_CONFIG, type Compare, type RankedItem, type ReadQuery, type ReadWindow, type StatsSnapshot, type TrendingSnapshot, type Window } from "../src/shared/contract";
import { plan } from "../src/core/snapshots";
import { answerCacheKey, mirrorKey, snapshotKey } from "../src/shared/keys";
import { admin, call, expectError, freshNamespace, get, ingestAll, json, refresh } from "./support/http";
import { hotScores, inRange, ranked, scores, type Counted } from "./support/exact";
import { rng } from "./support/random";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const QUARTER = 6 * HOUR;
const WEEK = 7 * DAY;
/** docs/api.md's bucket table, for the windows compared here. */
const BUCKET: Partial<Record<Window, number>> = { "1h": MINUTE, "24h": HOUR };
const LENGTH: Partial<Record<Window, number>> = { "1h": HOUR, "24h": DAY };
const HALF_LIFE_SECONDS = 3600;

const ms = (iso: string) => Date.parse(iso);
const floorTo = (t: number, b: number) => Math.floor(t / b) * b;
const ceilTo = (t: number, b: number) => Math.ceil(t / b) * b;

/**
 * The times the tests run at, all in the past and increasing in the order the tests run (so that
 * no object is ever asked about a time before one it already answered): a 6-hour boundary Q at
 * least 6 hours ago, Q - 4h29m42.877s (off every boundary), Q itself, and Q + 17m23.456s.
 */
const Q = floorTo(Date.now(), QUARTER) - QUARTER;
const OFF_BOUNDARY = Q - QUARTER + 90 * MINUTE + 17_123;
const ON_QUARTER = Q;
const MID_HOUR = Q + 17 * MINUTE + 23_456;

function clockAt(t: number): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(t);
}

afterEach(() => {
  vi.useRealTimers();
});

/** The window's [from, to) at `at`, and the period compare=previous names: docs/api.md's rule. */
function rangesAt(window: Window, at: number) {
  const bucket = BUCKET[window]!;
  const from = floorTo(at - LENGTH[window]!, bucket);
  const span = ceilTo(at - from, bucket);
  return { from, to: at, span, previous: { from: from - span, to: from } };
}

/** `weight` 1 at `ts`, of an item of its own, plus one event of it in the current window (just
 * before `to`), so that every ranking lists it and its previousScore can be read. */
const edge = (item: string, ts: number, to: number): Counted[] => [
  { item, type: "view", weight: 1, ts, actor: `a-${item}` },
  { item, type: "view", weight: 1, ts: to - 1, actor: `a-${item}` },
];

/** 40 items over [start, end), weights multiples of 0.5 (sums exact in floating point). */
function stream(seed: number, start: number, end: number, n: number): Counted[] {
  const random = rng(seed);
  return Array.from({ length: n }, () => ({
    item: `item-${Math.floor(random() ** 2 * 40)}`,
    type: random() < 0.7 ? "view" : "like",
    weight: 0.5 * (1 + Math.floor(random() * 6)),
    ts: start + Math.floor(random() * (end - start)),
    actor: `user-${Math.floor(random() * 60)}`,
  }));
}

async function namespaceWith(prefix: string, events: Counted[]): Promise<string> {
  const ns = freshNamespace(prefix);
  const config = { windows: ["1h", "24h"], maxLimit: 500, types: { view: {}, like: {} }, hotHalfLifeSeconds: HALF_LIFE_SECONDS };
  expect((await admin("PUT", ns, "config", config)).status).toBe(200);
  await ingestAll(ns, events);
  await refresh(ns);
  return ns;
}

async function trending(ns: string, window: Window, rank: "top" | "rising" | "hot", compare?: Compare, type?: string) {
  const query: Record<string, string | number> = { window, rank, limit: 500 };
  if (compare) query.compare = compare;
  if (type) query.type = type;
  const res = await get(ns, "trending", query);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<TrendingSnapshot>(res);
}

async function stats(ns: string, window: Window, compare?: Compare) {
  const res = await get(ns, "stats", compare ? { window, compare } : { window });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<StatsSnapshot>(res);
}

/** The exact totals docs/api.md promises for `previous`, over [from, to). */
function totals(events: readonly Counted[], from: number, to: number) {
  const inside = inRange(events, from, to);
  return {
    events: inside.length,
    weight: inside.reduce((s, e) => s + e.weight, 0),
    uniqueItems: new Set(inside.map((e) => e.item)).size,
    uniqueActors: new Set(inside.flatMap((e) => (e.actor ? [e.actor] : []))).size,
  };
}

/** rank=top with compare, against the exact counts over [from, to) and [previousFrom, previousTo). */
function expectTopCompared(answer: TrendingSnapshot, events: readonly Counted[], type: string | null = null): void {
  const current = ranked(scores(inRange(events, ms(answer.from), ms(answer.to), type)));
  const previous = scores(inRange(events, ms(answer.previousFrom!), ms(answer.previousTo!), type));
  expect(answer.items.map(({ item, score, error }) => ({ item, score, error }))).toEqual(current.map((c) => ({ ...c, error: 0 })));
  for (const i of answer.items) {
    expect(i.previousScore, i.item).toBe(previous.get(i.item) ?? 0);
    expect(i.previousError, i.item).toBe(0);
  }
}

/** rank=hot with compare: the window decays relative to `to`, the compared period to `previousTo`,
 * each over its own buckets (`bucketMs` of the window, `comparedBucketMs` of the compared period). */
function expectHotCompared(answer: TrendingSnapshot, events: readonly Counted[], bucketMs: number, comparedBucketMs: number): void {
  const current = ranked(hotScores(events, ms(answer.from), ms(answer.to), bucketMs, HALF_LIFE_SECONDS));
  const previous = hotScores(events, ms(answer.previousFrom!), ms(answer.previousTo!), comparedBucketMs, HALF_LIFE_SECONDS);
  expect(answer.items.map((i) => i.item)).toEqual(current.map((c) => c.item));
  answer.items.forEach((i, k) => {
    expect(i.score).toBeCloseTo(current[k]!.score, 9);
    expect(i.previousScore!, i.item).toBeCloseTo(previous.get(i.item) ?? 0, 9);
    expect(i.previousError, i.item).toBe(0);
  });
}

/** rank=rising with compare: growth against the compared period, whose score is previousScore. */
function expectRisingCompared(answer: TrendingSnapshot, events: readonly Counted[]): void {
  const current = scores(inRange(events, ms(answer.from), ms(answer.to)));
  const previous = scores(inRange(events, ms(answer.previousFrom!), ms(answer.previousTo!)));
  const growth = ranked(new Map([...current].map(([item, c]) => [item, c - (previous.get(item) ?? 0)] as const).filter(([, g]) => g > 0)));
  expect(answer.items.map((i: RankedItem) => ({ item: i.item, score: i.score }))).toEqual(growth);
  for (const i of answer.items) {
    expect(i.current).toBe(current.get(i.item));
    expect(i.previous).toBe(previous.get(i.item) ?? 0);
    expect(i.previousScore).toBe(i.previous);
    expect(i.previousError).toBe(0);
    expect(i.new, i.item).toBe(!previous.has(i.item));
  }
}

describe("compare=week", () => {
  it("on 24h off a 6-hour boundary states the whole 6-hour buckets it compared with, and is not exact", async () => {
    clockAt(OFF_BOUNDARY);
    const r = rangesAt("24h", OFF_BOUNDARY);
    const asked = { from: r.from - WEEK, to: r.from - WEEK + r.span };
    const stated = { from: floorTo(asked.from, QUARTER), to: ceilTo(asked.to, QUARTER) };
    expect(stated.to - stated.from).toBe(30 * HOUR);
    const events = [
      ...stream(14, stated.from - QUARTER, stated.to + QUARTER, 500),
      ...stream(15, r.from, OFF_BOUNDARY, 500),
      ...edge("at-stated-from", stated.from, OFF_BOUNDARY),
      ...edge("before-stated-from", stated.from - 1, OFF_BOUNDARY),
      ...edge("at-asked-from", asked.from, OFF_BOUNDARY),
      ...edge("before-stated-to", stated.to - 1, OFF_BOUNDARY),
      ...edge("at-stated-to", stated.to, OFF_BOUNDARY),
    ];
    const ns = await namespaceWith("compare-week-widened", events);

    const top = await trending(ns, "24h", "top", "week");
    expect({ from: ms(top.previousFrom!), to: ms(top.previousTo!) }).toEqual(stated);
    // Every count is exact over the stated range, but that range is not the one asked for.
    expect(top.exact).toBe(false);
    expectTopCompared(top, events);
    const previousOf = (item: string) => top.items.find((i) => i.item === item)?.previousScore;
    expect([previousOf("at-stated-from"), previousOf("before-stated-from"), previousOf("at-asked-from")]).toEqual([1, 0, 1]);
    expect([previousOf("before-stated-to"), previousOf("at-stated-to")]).toEqual([1, 0]);

    const hot = await trending(ns, "24h", "hot", "week");
    expect(hot.exact).toBe(false);
    expectHotCompared(hot, events, HOUR, QUARTER);

    const s = await stats(ns, "24h", "week");
    expect({ from: ms(s.previousFrom!), to: ms(s.previousTo!) }).toEqual(stated);
    expect(s.exact).toBe(false);
    expect(s.previous).toEqual(totals(events, stated.from, stated.to));
  });

  it("on 24h at a 6-hour boundary compares with the same 24 hours a week earlier, exactly", async () => {
    clockAt(ON_QUARTER);
    const asked = { from: ON_QUARTER - DAY - WEEK, to: ON_QUARTER - WEEK };
    const events = [
      ...stream(12, asked.from - 2 * QUARTER, asked.to + 2 * QUARTER, 500),
      ...stream(13, ON_QUARTER - DAY, ON_QUARTER, 500),
      ...edge("at-previous-from", asked.from, ON_QUARTER),
      ...edge("before-previous-from", asked.from - 1, ON_QUARTER),
      ...edge("before-previous-to", asked.to - 1, ON_QUARTER),
      ...edge("at-previous-to", asked.to, ON_QUARTER),
    ];
    const ns = await namespaceWith("compare-week-exact", events);

    const top = await trending(ns, "24h", "top", "week");
    expect(top.compare).toBe("week");
    expect({ from: ms(top.previousFrom!), to: ms(top.previousTo!) }).toEqual(asked);
    expect(top.exact).toBe(true);
    expectTopCompared(top, events);
    const previousOf = (item: string) => top.items.find((i) => i.item === item)?.previousScore;
    expect([previousOf("at-previous-from"), previousOf("before-previous-from")]).toEqual([1, 0]);
    expect([previousOf("before-previous-to"), previousOf("at-previous-to")]).toEqual([1, 0]);

    const hot = await trending(ns, "24h", "hot", "week");
    expect(hot.exact).toBe(true);
    expectHotCompared(hot, events, HOUR, QUARTER);

    const rising = await trending(ns, "24h", "rising", "week");
    expect(rising.exact).toBe(true);
    expectRisingCompared(rising, events);

    const s = await stats(ns, "24h", "week");
    expect({ from: ms(s.previousFrom!), to: ms(s.previousTo!) }).toEqual(asked);
    expect(s.exact).toBe(true);
    expect(s.previous).toEqual(totals(events, asked.from, asked.to));
  });
});

describe("compare=previous", () => {
  it.each(["1h", "24h"] as const)("on %s compares with [from - span, from), to the millisecond at both ends", async (window) => {
    clockAt(MID_HOUR);
    const r = rangesAt(window, MID_HOUR);
    const bucket = BUCKET[window]!;
    const events = [
      ...stream(11, r.previous.from - 2 * bucket, MID_HOUR, 600),
      ...edge("at-previous-from", r.previous.from, MID_HOUR),
      ...edge("before-previous-from", r.previous.from - 1, MID_HOUR),
      ...edge("before-from", r.from - 1, MID_HOUR),
      ...edge("at-from", r.from, MID_HOUR),
    ];
    const ns = await namespaceWith(`compare-previous-${window}`, events);

    const top = await trending(ns, window, "top", "previous");
    expect(top.compare).toBe("previous");
    expect({ from: ms(top.from), to: ms(top.to) }).toEqual({ from: r.from, to: r.to });
    expect({ from: ms(top.previousFrom!), to: ms(top.previousTo!) }).toEqual(r.previous);
    expect(top.exact).toBe(true);
    expectTopCompared(top, events);
    const previousOf = (item: string) => top.items.find((i) => i.item === item)?.previousScore;
    expect(previousOf("at-previous-from")).toBe(1);
    expect(previousOf("before-previous-from")).toBe(0);
    expect(previousOf("before-from")).toBe(1);
    expect(previousOf("at-from")).toBe(0);
    expectTopCompared(await trending(ns, window, "top", "previous", "like"), events, "like");

    const hot = await trending(ns, window, "hot", "previous");
    expect(hot.exact).toBe(true);
    expectHotCompared(hot, events, bucket, bucket);

    // The plain rising ranking, each item with the two fields added.
    const rising = await trending(ns, window, "rising", "previous");
    expectRisingCompared(rising, events);
    const plain = await trending(ns, window, "rising");
    expect(rising.items.map(({ previousScore: _s, previousError: _e, ...rest }) => rest)).toEqual(plain.items);

    const s = await stats(ns, window, "previous");
    expect({ from: ms(s.previousFrom!), to: ms(s.previousTo!) }).toEqual(r.previous);
    expect(s.exact).toBe(true);
    expect(s.previous).toEqual(totals(events, r.previous.from, r.previous.to));
    // The window's own stats are the plain answer's.
    const { compare: _c, previousFrom: _f, previousTo: _t, previous: _p, exact: _x, ...own } = s;
    expect(own).toEqual(await stats(ns, window));
  });
});

describe("refusals", () => {
  const refused = async (res: Response) => {
    const error = await expectError(res, 400, "invalid_compare");
    expect(error.field).toBe("compare");
    return error;
  };

  it.each(["trending", "stats"])("%s: a compare value other than previous or week is 400 invalid_compare, field compare", async (path) => {
    const ns = await namespaceWith("compare-bad", [{ item: "a", type: "view", weight: 1, ts: Date.now() - 1000 }]);
    for (const value of ["bogus", "Previous", "WEEK", "day", "previous,week"]) {
      const error = await refused(await get(ns, path, { window: "24h", compare: value }));
      expect(error.allowed).toEqual(["previous", "week"]);
    }
    // Empty, like every read parameter, is the default: no comparison.
    const plain = await json<StatsSnapshot>(await get(ns, "stats", { compare: "" }));
    expect(plain.compare).toBeUndefined();
  });

  it.each(["trending", "stats"])("%s: compare=week is 400 for 5m and 1h (not kept a week at their grain) and 7d and 30d (a week overlaps them)", async (path) => {
    const ns = await namespaceWith("compare-week-refused", [{ item: "a", type: "view", weight: 1, ts: Date.now() - 1000 }]);
    for (const window of ["5m", "1h", "7d", "30d"]) {
      const error = await refused(await get(ns, path, { window, compare: "week" }));
      expect(error.message).toMatch(/compare=previous/);
      // compare=previous is answered for the same window.
      expect((await get(ns, path, { window, compare: "previous" })).status).toBe(200);
    }
    expect((await get(ns, path, { window: "24h", compare: "week" })).status).toBe(200);
  });

  it("is answered at the door, before any object: an unknown namespace is 400, not 404, and so is a live socket", async () => {
    const ns = freshNamespace("compare-unknown");
    await refused(await get(ns, "trending", { compare: "nope" }));
    await refused(await get(ns, "stats", { window: "1h", compare: "week" }));
    await refused(await call("GET", `/v1/namespaces/${ns}/live?answer=trending&window=7d&compare=week`, { headers: { Upgrade: "websocket" } }));
    expect((await get(ns, "trending", { compare: "previous" })).status).toBe(404);
  });
});

describe("caching", () => {
  it("gives a compare answer keys of its own: snapshot, KV, edge, and no type name can make a plain key collide", () => {
    const plain: ReadQuery = { kind: "trending", window: "1h", rank: "top", type: "x" };
    const previous: ReadQuery = { ...plain, compare: "previous" };
    const week: ReadQuery = { ...plain, compare: "week" };
    const keys = [plain, previous, week].map(snapshotKey);
    expect(new Set(keys).size).toBe(3);
    // A type name may hold ":" but never ";".
    expect(keys).not.toContain(snapshotKey({ ...plain, type: "x:previous" }));
    expect(keys).not.toContain(snapshotKey({ ...plain, type: "x:compare=previous" }));
    expect(snapshotKey({ kind: "stats", window: "24h" })).not.toBe(snapshotKey({ kind: "stats", window: "24h", compare: "previous" }));
    const edgeKeys = [plain, previous, week].map((q) => answerCacheKey("ns", 3, q, 10));
    expect(new Set(edgeKeys).size).toBe(3);
    const kvKeys = keys.map((k) => mirrorKey("ns", 3, k));
    expect(new Set(kvKeys).size).toBe(3);
  });

  it("never serves a compare read the plain answer, nor the reverse, in any layer; a compare answer is computed on first read, then kept warm", async () => {
    const t0 = Date.now() - 10 * MINUTE;
    clockAt(t0);
    const ns = await namespaceWith("compare-cache", [
      ...edge("a", t0 - 70 * MINUTE, t0),
      ...edge("b", t0 - 5 * MINUTE, t0),
    ]);
    for (const path of ["trending", "stats"]) {
      const plainFirst = await get(ns, path, { window: "1h" });
      expect(plainFirst.headers.get("X-Cache")).not.toBe("MISS"); // planned, precomputed
      const plainBody = await json<TrendingSnapshot | StatsSnapshot>(plainFirst);
      expect(plainBody.compare).toBeUndefined();

      const first = await get(ns, path, { window: "1h", compare: "previous" });
      expect(first.headers.get("X-Cache")).toBe("MISS"); // not planned: computed on its first read
      const compared = await json<TrendingSnapshot | StatsSnapshot>(first);
      expect(compared.compare).toBe("previous");
      expect(first.headers.get("ETag")).not.toBe(plainFirst.headers.get("ETag"));

      const again = await get(ns, path, { window: "1h", compare: "previous" });
      expect(again.headers.get("X-Cache")).toBe("HIT-EDGE");
      expect((await json<TrendingSnapshot>(again)).compare).toBe("previous");
      const plainAgain = await get(ns, path, { window: "1h" });
      expect(plainAgain.headers.get("X-Cache")).toBe("HIT-EDGE");
      expect((await json<TrendingSnapshot>(plainAgain)).compare).toBeUndefined();
      // An ETag of one never answers 304 for the other.
      const cross = await get(ns, path, { window: "1h", compare: "previous" }, { "If-None-Match": plainFirst.headers.get("ETag")! });
      expect(cross.status).toBe(200);
    }
    const top = await trending(ns, "1h", "top", "previous");
    expect(top.items.map((i) => [i.item, i.score, i.previousScore])).toEqual([["b", 2, 0], ["a", 1, 1]]);

    // The refresh keeps it warm: after new events, the next read sees them without computing.
    vi.setSystemTime(t0 + 2000);
    await ingestAll(ns, [{ item: "b", type: "view", weight: 5, ts: t0 + 1000 }]);
    await refresh(ns);
    const warm = await get(ns, "trending", { window: "1h", rank: "top", limit: 500, compare: "previous" });
    expect(warm.headers.get("X-Cache")).not.toBe("MISS");
    const body = await json<TrendingSnapshot>(warm);
    expect(ms(body.computedAt)).toBe(t0 + 2000);
    expect(body.items.map((i) => [i.item, i.score, i.previousScore])).toEqual([["b", 7, 0], ["a", 1, 1]]);
  });
});

describe("precomputed comparisons (config compare, v1.6)", () => {
  const RANK_LIST = ["top", "rising", "hot", "reach"] as const;

  it("plans every rank and type and the stats of each configured window with each listed comparison it takes", () => {
    const config = { ...DEFAULT_CONFIG, windows: ["5m", "24h", "7d", "today"] as ReadWindow[], types: { view: {}, like: {} }, compare: ["previous", "week"] as Compare[] };
    const queries = plan(config);
    const compared = (compare: Compare) => queries.filter((q) => "compare" in q && q.compare === compare);
    // previous: every window; 3 type choices (all, view, like) × 4 ranks + stats = 13 answers a window.
    expect(compared("previous").length).toBe(4 * (3 * RANK_LIST.length + 1));
    // week: only 24h takes it (5m is not held a week back at its grain, 7d overlaps, today is calendar).
    expect(new Set(compared("week").map((q) => (q.kind === "dashboard" ? null : q.window)))).toEqual(new Set(["24h"]));
    expect(compared("week").length).toBe(3 * RANK_LIST.length + 1);
    // Without the field nothing is compared: the plan of namespaces that never compare does not grow.
    expect(plan({ ...config, compare: [] }).length).toBe(queries.length - compared("previous").length - compared("week").length);
  });

  it("serves the first compare read of a planned window from the refresh, the same answer as computed on read", async () => {
    const t0 = Date.now() - 10 * MINUTE;
    clockAt(t0);
    const events: Counted[] = [
      ...edge("a", t0 - 70 * MINUTE, t0),
      ...edge("b", t0 - 5 * MINUTE, t0),
      ...edge("c", t0 - 25 * HOUR, t0),
      { item: "a", type: "like", weight: 3, ts: t0 - 2 * HOUR, actor: "u1" },
    ];
    const config = { windows: ["1h", "24h"], maxLimit: 500, types: { view: {}, like: {} }, hotHalfLifeSeconds: HALF_LIFE_SECONDS };
    const planned = freshNamespace("compare-planned");
    const onRead = freshNamespace("compare-on-read");
    expect((await admin("PUT", planned, "config", { ...config, compare: ["previous", "week"] })).status).toBe(200);
    expect((await admin("PUT", onRead, "config", config)).status).toBe(200);
    for (const ns of [planned, onRead]) {
      await ingestAll(ns, events);
      await refresh(ns);
    }
    const reads: [string, Record<string, string | number>][] = [];
    for (const window of ["1h", "24h"]) {
      for (const compare of window === "24h" ? ["previous", "week"] : ["previous"]) {
        reads.push(["stats", { window, compare }]);
        for (const rank of RANK_LIST) for (const type of ["", "like"]) reads.push(["trending", { window, rank, compare, limit: 500, ...(type ? { type } : {}) }]);
      }
    }
    for (const [path, query] of reads) {
      const what = `${path} ${JSON.stringify(query)}`;
      const fromPlan = await get(planned, path, query);
      expect(fromPlan.status, what).toBe(200);
      expect(fromPlan.headers.get("X-Cache"), what).not.toBe("MISS");
      const computed = await get(onRead, path, query);
      expect(computed.headers.get("X-Cache"), what).toBe("MISS");
      const { namespace: _a, ...planBody } = await json<Record<string, unknown>>(fromPlan);
      const { namespace: _b, ...readBody } = await json<Record<string, unknown>>(computed);
      expect(planBody, what).toEqual(readBody);
    }
    // A comparison the window cannot take is refused as before, planned or not.
    await expectError(await get(planned, "stats", { window: "1h", compare: "week" }), 400, "invalid_compare");
  });

  it("refuses a compare field that is not a list of distinct comparisons: 400 invalid_config, field compare", async () => {
    const ns = freshNamespace("compare-config-bad");
    for (const compare of ["previous", ["month"], ["previous", "previous"], [null], {}]) {
      const error = await expectError(await admin("PUT", ns, "config", { compare }), 400, "invalid_config");
      expect(error.field, JSON.stringify(compare)).toBe("compare");
      expect(error.allowed).toEqual(["previous", "week"]);
    }
    // Stored in a fixed order, whatever order it was given in.
    expect((await admin("PUT", ns, "config", { compare: ["week", "previous"] })).status).toBe(200);
    expect((await json<{ compare: Compare[] }>(await admin("GET", ns, "config"))).compare).toEqual(["previous", "week"]);
  });
});
