/**
 * Calendar periods in a namespace's time zone (docs/api.md, "Calendar windows"): where a local day,
 * ISO week and month begin, as instants. Pure: the zone's rules come from the runtime's Intl data
 * (workerd and Node ship full ICU), and every boundary is searched for rather than computed from an
 * offset, so 23- and 25-hour days and 30- and 45-minute offsets need no special case.
 */
import { DAY, HOUR, MINUTE, type CalendarWindow } from "../shared/contract";
import type { Range } from "./tiers";

/** A local date: year, month 1–12, day 1–31. */
interface LocalDate {
  y: number;
  m: number;
  d: number;
}

/** No local day is longer than this (a 25-hour day, with room): its start lies within it before any instant of it. */
const LONGEST_DAY_MS = 26 * HOUR;

/**
 * The name to store for the IANA time zone `zone`, or undefined when the runtime knows no such
 * zone. The UTC aliases ("utc", "Etc/UTC", "GMT") are "UTC". Any other zone keeps the name it was
 * given, in the runtime's case where that is the same name: ICU resolves current names to older
 * ones ("Asia/Kolkata" to "Asia/Calcutta", "Asia/Kathmandu" to "Asia/Katmandu"), and a user who
 * set Asia/Kolkata should read it back. Both names count local days alike.
 */
export function canonicalTimeZone(zone: string): string | undefined {
  let name: string;
  try {
    name = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  if (name === "Etc/UTC" || name === "Etc/GMT" || name === "UTC") return "UTC";
  return name.toLowerCase() === zone.toLowerCase() ? name : zone;
}

export class LocalCalendar {
  private readonly format: Intl.DateTimeFormat;
  /** Day starts found so far, by local date ("2026-03-29"): a refresh asks for the same few again and again. */
  private readonly starts = new Map<string, number>();
  /** The local day of the last instant asked about: most events and reads fall in it. */
  private day: Range = { from: NaN, to: NaN };

  constructor(readonly zone: string) {
    // en-CA formats dates as YYYY-MM-DD; h23 keeps midnight 00, never 24.
    this.format = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
  }

  /** The local date of instant `ts`, as "YYYY-MM-DD". */
  dateOf(ts: number): string {
    return this.format.format(ts);
  }

  private partsOf(ts: number): LocalDate {
    const [y, m, d] = this.dateOf(ts).split("-").map(Number) as [number, number, number];
    return { y, m, d };
  }

  /**
   * The first instant of the local day holding `ts`: the earliest whole minute whose local date is
   * that of `ts`, found by bisection over the longest day before it. Local midnights fall on whole
   * minutes in every zone of today's tz database (offsets are multiples of 15 minutes), and where a
   * zone skips midnight (a change at 00:00) the day starts at the first instant it has.
   */
  startOfDay(ts: number): number {
    if (ts >= this.day.from && ts < this.day.to) return this.day.from;
    const date = this.dateOf(ts);
    let start = this.starts.get(date);
    if (start === undefined) {
      let lo = Math.floor((ts - LONGEST_DAY_MS) / MINUTE); // a minute of an earlier day
      let hi = Math.floor(ts / MINUTE); // a minute of this day
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (this.dateOf(mid * MINUTE) === date) hi = mid;
        else lo = mid;
      }
      start = hi * MINUTE;
      if (this.starts.size > 512) this.starts.clear();
      this.starts.set(date, start);
    }
    return start;
  }

  /** The local day holding `ts`, [its start, the next day's start). */
  dayOf(ts: number): Range {
    if (ts >= this.day.from && ts < this.day.to) return this.day;
    const from = this.startOfDay(ts);
    // A day lasts 23 to 25 hours: 26 hours on is within the next day, never past it.
    const to = this.startOfDay(from + LONGEST_DAY_MS);
    this.day = { from, to };
    return this.day;
  }

  /** The start of local date y-m-d (days and months may overflow, as Date.UTC allows). */
  private startOfDate(y: number, m: number, d: number): number {
    // Noon UTC of that date is within a day of local noon of it, in every zone (offsets are at most 14 hours).
    const noon = Date.UTC(y, m - 1, d, 12);
    const local = this.partsOf(noon);
    const shift = Math.round((Date.UTC(y, m - 1, d) - Date.UTC(local.y, local.m - 1, local.d)) / DAY);
    return this.startOfDay(noon + shift * DAY);
  }

  /** The range `window` covers at `at`: a period from its local start up to `at`, or (yesterday) a whole one. */
  range(window: CalendarWindow, at: number): Range {
    return window === "yesterday" ? this.previous("today", at) : { from: this.periodStart(window, at), to: at };
  }

  /** The whole calendar period before the one `window` covers at `at` (what `compare=previous` compares with). */
  previous(window: CalendarWindow, at: number): Range {
    const current = this.range(window, at);
    switch (window) {
      case "today":
      case "yesterday":
        return { from: this.startOfDay(current.from - 1), to: current.from };
      case "thisWeek":
        return { from: this.periodStart("thisWeek", current.from - 1), to: current.from };
      case "thisMonth":
        return { from: this.periodStart("thisMonth", current.from - 1), to: current.from };
    }
  }

  /** Where the running day, ISO week (from Monday) or month of `at` began. */
  private periodStart(window: Exclude<CalendarWindow, "yesterday">, at: number): number {
    const { y, m, d } = this.partsOf(at);
    if (window === "today") return this.startOfDay(at);
    if (window === "thisMonth") return this.startOfDate(y, m, 1);
    const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7; // Monday 0
    return this.startOfDate(y, m, d - weekday);
  }

  /** The local days of `range` (whose ends are day starts, or `to` within a day), in order. */
  daysIn(range: Range): Range[] {
    const days: Range[] = [];
    for (let from = range.from; from < range.to; ) {
      const day = this.dayOf(from);
      days.push(day);
      from = day.to;
    }
    return days;
  }
}
