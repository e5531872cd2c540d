/**
 * Calendar windows through HTTP (docs/api.md, "Calendar windows (v1.5)"): a namespace in
 * Asia/Kolkata reads `today` and `thisMonth` since local midnight, precomputed when configured, exact
 * against a count of the events by their local date; and the refusals at the door. The clock is
 * Vitest's fake `Date`, set half past one at night in Kolkata; nothing sleeps.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DashboardSnapshot, StatsSnapshot, TrendingSnapshot } from "../src/shared/contract";
import { admin, expectError, freshNamespace, get, ingestAll, json, refresh } from "./support/http";
import { ranked, scores, type Counted } from "./support/exact";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONE = "Asia/Kolkata";
/** 20:00Z three days ago: 01:30 in Kolkata, an hour and a half into the local day. */
const NOW = Math.floor(Date.now() / DAY) * DAY - 3 * DAY + 20 * HOUR;

const localDate = (ts: number) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" }).format(ts);

afterEach(() => {
  vi.useRealTimers();
});

describe("calendar windows over HTTP", () => {
  it("answer today and thisMonth from local midnight in the namespace's zone, precomputed and exact", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
    const ns = freshNamespace("calendar");
    const config = { windows: ["1h", "today", "thisMonth"], timezone: ZONE, types: { view: {} } };
    expect((await admin("PUT", ns, "config", config)).status).toBe(200);
    // Every 7 minutes over the last 30 hours, and on both sides of the local midnight 90 minutes ago.
    const events: Counted[] = [];
    for (let ts = NOW - 30 * HOUR, i = 0; ts < NOW; ts += 7 * 60_000, i++) events.push({ item: `v${i % 5}`, type: "view", weight: 1 + (i % 3), ts });
    events.push({ item: "edge-after", type: "view", weight: 1, ts: NOW - 90 * 60_000 }, { item: "edge-before", type: "view", weight: 1, ts: NOW - 90 * 60_000 - 1 });
    await ingestAll(ns, events);
    await refresh(ns);

    const res = await get(ns, "trending", { window: "today", limit: 100 });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Cache")).not.toBe("MISS");
    const today = await json<TrendingSnapshot>(res);
    expect(today.window).toBe("today");
    expect(today.from).toBe(new Date(NOW - 90 * 60_000).toISOString()); // 18:30Z, Kolkata's midnight
    const sinceMidnight = events.filter((e) => localDate(e.ts) === localDate(NOW));
    expect(today.items.map(({ item, score }) => ({ item, score }))).toEqual(ranked(scores(sinceMidnight)));
    expect(today.items.some((i) => i.item === "edge-after")).toBe(true);
    expect(today.items.some((i) => i.item === "edge-before")).toBe(false);
    expect(today.exact).toBe(true);
    // (v1.6) A calendar window's answer names its zone, spelt as the config gave it; a sliding one's names none.
    expect(today.timezone).toBe(ZONE);
    expect((await json<TrendingSnapshot>(await get(ns, "trending", { window: "1h" }))).timezone).toBeUndefined();
    const dashboard = await json<DashboardSnapshot>(await get(ns, "dashboard"));
    expect(dashboard.timezone).toBe(ZONE);
    expect(dashboard.windows.today?.stats.timezone).toBe(ZONE);
    expect(dashboard.windows["1h"]?.stats.timezone).toBeUndefined();

    const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "today" }));
    expect(stats.events).toBe(sinceMidnight.length);
    expect(stats.series.map((p) => p.start)).toEqual([NOW - 90 * 60_000, NOW - 30 * 60_000].map((t) => new Date(t).toISOString()));
    expect(stats.exact).toBe(true);
    expect(stats.timezone).toBe(ZONE);

    const month = await json<StatsSnapshot>(await get(ns, "stats", { window: "thisMonth", compare: "previous" }));
    const thisMonth = events.filter((e) => localDate(e.ts).slice(0, 7) === localDate(NOW).slice(0, 7));
    expect(month.events).toBe(thisMonth.length);
    expect(month.previous?.events).toBe(events.length - thisMonth.length);
  });

  it("refuse an unknown time zone, compare=week on a calendar window, and an unknown window, with JSON errors", async () => {
    const ns = freshNamespace("calendar-refusals");
    const error = await expectError(await admin("PUT", ns, "config", { timezone: "Mars/Olympus_Mons" }), 400, "invalid_config");
    expect(error.field).toBe("timezone");
    expect((await admin("PUT", ns, "config", { timezone: "utc" })).status).toBe(200);
    expect(((await json<{ timezone: string }>(await admin("GET", ns, "config"))).timezone)).toBe("UTC");
    // A zone keeps the name it was given, in the runtime's case where the runtime uses that name:
    // ICU would answer Asia/Kolkata with the older Asia/Calcutta.
    for (const [given, stored] of [["Asia/Kolkata", "Asia/Kolkata"], ["Asia/Kathmandu", "Asia/Kathmandu"], ["asia/calcutta", "Asia/Calcutta"], ["Etc/UTC", "UTC"], ["europe/berlin", "Europe/Berlin"]]) {
      expect((await admin("PUT", ns, "config", { timezone: given })).status).toBe(200);
      expect(((await json<{ timezone: string }>(await admin("GET", ns, "config"))).timezone), given).toBe(stored);
    }
    expect((await admin("PUT", ns, "config", { timezone: "UTC" })).status).toBe(200);
    await ingestAll(ns, [{ item: "a", type: "view", weight: 1, ts: Date.now() - 1000 }]);
    await expectError(await get(ns, "stats", { window: "today", compare: "week" }), 400, "invalid_compare");
    await expectError(await get(ns, "trending", { window: "tomorrow" }), 400, "invalid_window");
    const yesterday = await get(ns, "trending", { window: "yesterday" });
    expect(yesterday.status).toBe(200);
  });
});
