/**
 * Calendar windows (docs/api.md, "Calendar windows"): today, yesterday, thisWeek and thisMonth in a
 * namespace's time zone, checked against an oracle that classifies every event by its local date
 * as Intl formats it, with no notion of where a local day begins. The boundaries themselves are
 * checked against facts of the tz database written out by hand.
 */
import { describe, expect, it } from "vitest";
import type { CalendarWindow, TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { LocalCalendar } from "../../src/core/calendar";
import { rng } from "../support/random";
import { ranked, scores, type Counted } from "../support/exact";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEP = 20 * MINUTE; // a driven clock's step: not a divisor of any zone's offset to the hour

/** The local date "YYYY-MM-DD" of `ts` in `zone`: the oracle's only knowledge of the zone. */
function localDate(zone: string, ts: number): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(ts);
}

/** Calendar arithmetic on date strings (proleptic Gregorian, no zone involved). */
function shiftDate(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}
function mondayOf(date: string): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return shiftDate(date, -((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7));
}
function previousMonth(date: string): string {
  const [y, m] = date.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 7);
}

/** Which local dates a window covers at `now`, and which its previous period does. */
function oracleDates(window: CalendarWindow, today: string): { current: (d: string) => boolean; previous: (d: string) => boolean } {
  switch (window) {
    case "today":
      return { current: (d) => d === today, previous: (d) => d === shiftDate(today, -1) };
    case "yesterday":
      return { current: (d) => d === shiftDate(today, -1), previous: (d) => d === shiftDate(today, -2) };
    case "thisWeek": {
      const monday = mondayOf(today);
      return { current: (d) => d >= monday && d <= today, previous: (d) => d >= shiftDate(monday, -7) && d < monday };
    }
    case "thisMonth":
      return { current: (d) => d.slice(0, 7) === today.slice(0, 7), previous: (d) => d.slice(0, 7) === previousMonth(today) };
  }
}

/**
 * A namespace driven from 40 days before `now` to `now` in STEP steps, a few events stamped in
 * each step (some on the very instants of local midnights, some a millisecond before), each step
 * advanced like the refresh loop would. Returns the events.
 */
function drive(agg: Aggregator, zone: string, now: number, seed: number): Counted[] {
  const random = rng(seed);
  const calendar = new LocalCalendar(zone);
  const events: Counted[] = [];
  for (let t = now - 40 * DAY; t < now; t = Math.min(now, t + STEP)) {
    const end = Math.min(now, t + STEP);
    const batch: TallyEvent[] = [];
    for (let i = 0; i < 3; i++) {
      const ts = t + Math.floor(random() * (end - t));
      batch.push({ item: `i${Math.floor(random() * 30)}`, type: random() < 0.5 ? "view" : "like", weight: 1 + Math.floor(random() * 3), ts, actor: `a${Math.floor(random() * 50)}` });
    }
    // The edges: an event on a local midnight, and one a millisecond before it.
    const midnight = calendar.startOfDay(end - 1);
    if (midnight >= t && midnight < end) {
      batch.push({ item: "edge-after", type: "view", weight: 1, ts: midnight });
      if (midnight - 1 >= t) batch.push({ item: "edge-before", type: "view", weight: 1, ts: midnight - 1 });
    }
    agg.ingest(batch, end);
    agg.advance(end);
    for (const e of batch) events.push({ ...e, type: e.type!, weight: e.weight! });
  }
  return events;
}

/** The exact facts of each case: the instants local periods begin at, from the tz database. */
const CASES = [
  {
    name: "Europe/Berlin on the 23-hour day clocks go forward",
    zone: "Europe/Berlin",
    now: Date.parse("2026-03-29T21:30:00Z"), // 23:30 CEST
    today: "2026-03-28T23:00:00.000Z",
    hours: 23,
    thisWeek: "2026-03-22T23:00:00.000Z",
    thisMonth: "2026-02-28T23:00:00.000Z",
  },
  {
    name: "Europe/Berlin on the 25-hour day clocks go back",
    zone: "Europe/Berlin",
    now: Date.parse("2026-10-25T22:30:00Z"), // 23:30 CET
    today: "2026-10-24T22:00:00.000Z",
    hours: 25,
    thisWeek: "2026-10-18T22:00:00.000Z",
    thisMonth: "2026-09-30T22:00:00.000Z",
  },
  {
    name: "America/New_York on the 25-hour day",
    zone: "America/New_York",
    now: Date.parse("2026-11-02T04:30:00Z"), // 23:30 EST, Sunday 1 November
    today: "2026-11-01T04:00:00.000Z",
    hours: 25,
    thisWeek: "2026-10-26T04:00:00.000Z",
    thisMonth: "2026-11-01T04:00:00.000Z",
  },
  {
    name: "Asia/Kolkata, half an hour off the hour",
    zone: "Asia/Kolkata",
    now: Date.parse("2026-12-01T20:00:00Z"), // 01:30 IST on Wednesday 2 December
    today: "2026-12-01T18:30:00.000Z",
    hours: 2,
    thisWeek: "2026-11-29T18:30:00.000Z",
    thisMonth: "2026-11-30T18:30:00.000Z",
  },
  {
    name: "Asia/Kathmandu, three quarters of an hour off",
    zone: "Asia/Kathmandu",
    now: Date.parse("2026-12-01T18:20:00Z"), // 00:05 NPT on Wednesday 2 December
    today: "2026-12-01T18:15:00.000Z",
    hours: 1,
    thisWeek: "2026-11-29T18:15:00.000Z",
    thisMonth: "2026-11-30T18:15:00.000Z",
  },
  {
    name: "UTC",
    zone: "UTC",
    now: Date.parse("2026-12-01T10:00:00Z"),
    today: "2026-12-01T00:00:00.000Z",
    hours: 10,
    thisWeek: "2026-11-30T00:00:00.000Z",
    thisMonth: "2026-12-01T00:00:00.000Z",
  },
];

const WINDOWS: CalendarWindow[] = ["today", "yesterday", "thisWeek", "thisMonth"];

describe("calendar windows", () => {
  for (const c of CASES) {
    describe(c.name, () => {
      const agg = new Aggregator({ capacity: 100, types: ["view", "like"], timezone: c.zone });
      const events = drive(agg, c.zone, c.now, c.now % 9973);
      const today = localDate(c.zone, c.now - 1);
      const iso = (ms: number) => new Date(ms).toISOString();

      it("begins today, thisWeek and thisMonth at local midnight, and ends them at now", () => {
        expect(iso(agg.stats("today", c.now).from)).toBe(c.today);
        expect(iso(agg.stats("thisWeek", c.now).from)).toBe(c.thisWeek);
        expect(iso(agg.stats("thisMonth", c.now).from)).toBe(c.thisMonth);
        for (const window of ["today", "thisWeek", "thisMonth"] as const) expect(agg.stats(window, c.now).to).toBe(c.now);
        const yesterday = agg.stats("yesterday", c.now);
        expect(iso(yesterday.to)).toBe(c.today);
        expect(localDate(c.zone, yesterday.from)).toBe(shiftDate(today, -1));
        expect(localDate(c.zone, yesterday.from - 1)).toBe(shiftDate(today, -2));
      });

      it("gives today's series one point per local hour begun, on the day's own hours", () => {
        const { series, from } = agg.stats("today", c.now);
        expect(series.length).toBe(c.hours);
        series.forEach((point, h) => expect(point.start).toBe(from + h * HOUR));
        for (const point of series) {
          const inHour = events.filter((e) => e.ts >= point.start && e.ts < point.start + HOUR && e.ts < c.now);
          expect(point.events).toBe(inHour.length);
        }
      });

      for (const window of WINDOWS) {
        it(`counts exactly the events of ${window}'s local dates, in stats and in every ranking, and compares with the period before`, () => {
          const dates = oracleDates(window, today);
          const current = events.filter((e) => dates.current(localDate(c.zone, e.ts)));
          const previous = events.filter((e) => dates.previous(localDate(c.zone, e.ts)));
          const stats = agg.stats(window, c.now, "previous");
          expect(stats.events).toBe(current.length);
          expect(stats.weight).toBe(current.reduce((n, e) => n + e.weight, 0));
          expect(stats.byType.like?.events ?? 0).toBe(current.filter((e) => e.type === "like").length);
          expect(stats.series.reduce((n, p) => n + p.events, 0)).toBe(current.length);
          expect(stats.previous?.events).toBe(previous.length);
          expect(stats.exact).toBe(true);
          for (const type of [null, "like"]) {
            const answer = agg.top(window, type, c.now, 100, "previous");
            const of = (list: Counted[]) => (type === null ? list : list.filter((e) => e.type === type));
            expect(answer.exact).toBe(true);
            expect(answer.items.map(({ item, score }) => ({ item, score }))).toEqual(ranked(scores(of(current))));
            const before = scores(of(previous));
            for (const item of answer.items) expect(item.previousScore).toBe(before.get(item.item) ?? 0);
          }
        });
      }
    });
  }

  it("refuses compare=week on a calendar window rather than guess at it", () => {
    const agg = new Aggregator({ capacity: 10, types: [], timezone: "Asia/Kolkata" });
    const now = Date.parse("2026-12-01T20:00:00Z");
    agg.advance(now);
    expect(() => agg.stats("today", now, "week")).toThrow(RangeError);
  });
});

describe("a change of time zone", () => {
  // 19:10 in Berlin: yesterday began at 23:00Z two days ago, and the hour tier still holds the
  // hour before (rebuildDays takes the finest bucket held at each instant).
  const now = Date.parse("2026-12-01T18:10:00Z");

  function counted(zone: string) {
    const agg = new Aggregator({ capacity: 100, types: ["view"], timezone: "UTC" });
    const events = drive(agg, "UTC", now, 7);
    agg.configure({ capacity: 100, types: ["view"], timezone: zone });
    agg.advance(now + 1);
    return { agg, events };
  }

  it("takes effect for every window at once, exact where the held buckets fall on local midnights", () => {
    // Berlin's midnights fall on hours: today and yesterday come from the hour tier's 49 hours.
    // An hour later, the 6-hour bucket holding yesterday's first hour would be the finest left of
    // the hour before it, and yesterday would say exact: false.
    const { agg, events } = counted("Europe/Berlin");
    const today = localDate("Europe/Berlin", now);
    for (const [window, date] of [["today", today], ["yesterday", shiftDate(today, -1)]] as const) {
      const stats = agg.stats(window, now + 1);
      expect(stats.exact).toBe(true);
      expect(stats.events).toBe(events.filter((e) => localDate("Europe/Berlin", e.ts) === date).length);
    }
    // Older days come from 6-hour buckets, which straddle 23:00Z: bounded, and said so.
    expect(agg.stats("thisMonth", now + 1).exact).toBe(true); // 1 December is within 49 hours
    expect(agg.stats("thisMonth", now + 1, "previous").compared?.whole).toBe(false);
  });

  it("counts every held event in exactly one local day, even where a bucket straddles midnight", () => {
    const { agg, events } = counted("Asia/Kolkata");
    const month = agg.stats("thisMonth", now + 1, "previous");
    const from = month.compared!.from;
    const since = (t: number) => events.filter((e) => e.ts >= t).length;
    // A bucket straddling the first midnight counts in its first day: up to one UTC day early.
    expect(month.events + month.previous!.events).toBeGreaterThanOrEqual(since(from));
    expect(month.events + month.previous!.events).toBeLessThanOrEqual(since(from - DAY));
    expect(month.compared?.whole).toBe(false);
  });

  it("back to UTC, answers from the tiers again, exactly", () => {
    const { agg, events } = counted("Asia/Kathmandu");
    agg.configure({ capacity: 100, types: ["view"], timezone: "UTC" });
    agg.advance(now + 2);
    const stats = agg.stats("thisWeek", now + 2);
    expect(stats.exact).toBe(true);
    expect(stats.events).toBe(events.filter((e) => e.ts >= Date.parse("2026-11-30T00:00:00Z")).length);
  });
});

describe("local days across a checkpoint", () => {
  const zone = "Asia/Kathmandu";
  const now = Date.parse("2026-12-01T18:20:00Z");

  it("restore as they were, and a day of another zone is dropped and the days assembled again", () => {
    const agg = new Aggregator({ capacity: 100, types: ["view", "like"], timezone: zone });
    drive(agg, zone, now, 3);
    const records = agg.checkpoint().changed;
    expect(records.some((r) => r.tier === "local")).toBe(true);
    const again = new Aggregator({ capacity: 100, types: ["view", "like"], timezone: zone });
    for (const record of records) again.restore(record);
    again.advance(now);
    for (const window of WINDOWS) expect(again.stats(window, now, "previous")).toEqual(agg.stats(window, now, "previous"));
    expect(again.top("thisWeek", null, now, 50)).toEqual(agg.top("thisWeek", null, now, 50));

    const elsewhere = new Aggregator({ capacity: 100, types: ["view", "like"], timezone: "Asia/Kolkata" });
    for (const record of records) elsewhere.restore(record);
    elsewhere.advance(now);
    const delta = elsewhere.checkpoint();
    const dropped = delta.expired.filter((e) => e.tier === "local").length;
    expect(dropped).toBe(records.filter((r) => r.tier === "local").length);
    expect(delta.changed.filter((r) => r.tier === "local").every((r) => r.tier === "local" && r.state.zone === "Asia/Kolkata")).toBe(true);
  });
});
