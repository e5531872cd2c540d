/**
 * A refresh computes its answers with their merges shared (Aggregator.sharing): the rankings of one
 * window and type, and their comparisons, read the same periods' sums once. Sharing must change no
 * answer: every planned answer is compared with the same answer computed alone, on the same state.
 */
import { describe, expect, it } from "vitest";
import { CALENDAR_WINDOWS, DEFAULT_CONFIG, WINDOWS, type NamespaceConfig, type ReadQuery, type TallyEvent } from "../../src/shared/contract";
import { Aggregator, SHARED_BYTES } from "../../src/core/aggregator";
import { buildSnapshot, plan } from "../../src/core/snapshots";
import { snapshotKey } from "../../src/shared/keys";
import { rng, zipf } from "../support/random";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Midday, and a UTC midnight, where the calendar's yesterday is the sliding 24h window's range
 * but decays by day: the same buckets, other hot scores. */
const MIDDAY = Date.UTC(2026, 10, 21, 12, 30, 15);
const MIDNIGHT = Date.UTC(2026, 10, 21);

/** Events over the last 15 days, with actors, of two declared types and one undeclared. */
function stream(count: number, seed: number, T0: number): TallyEvent[] {
  const random = rng(seed);
  const rank = zipf(3000, 1.1, random);
  const types = ["view", "view", "like", "share"];
  return Array.from({ length: count }, () => ({
    item: `item-${rank()}`,
    type: types[Math.floor(random() * types.length)]!,
    weight: 1 + Math.floor(random() * 3),
    actor: `actor-${Math.floor(random() * 400)}`,
    ts: T0 - 1 - Math.floor(random() * random() * 15 * DAY),
  }));
}

/** Every answer of `queries` at T0, built with one context, within `sharing` (up to `capBytes` of
 * merges held) or not; `held` gets the bytes held after each answer. */
function answers(
  agg: Aggregator,
  config: NamespaceConfig,
  T0: number,
  queries: readonly ReadQuery[],
  shared: boolean,
  { capBytes = SHARED_BYTES, held = (_: number) => {} } = {},
): Map<string, unknown> {
  const ctx = { namespace: "shared-merges", generation: 0, at: T0, config };
  const all = () =>
    new Map(
      queries.map((q) => {
        const answer = JSON.parse(JSON.stringify(buildSnapshot(agg, q, ctx)));
        held(agg.sharedBytes);
        return [snapshotKey(q), answer];
      }),
    );
  return shared ? agg.sharing(all, capBytes) : all();
}

/** The aggregator of these tests: `events` of the stream ingested live, in batches, up to T0. */
function fed(config: NamespaceConfig, T0: number, events: number): Aggregator {
  const timezone = config.timezone ?? "UTC";
  const agg = new Aggregator({ capacity: config.capacity, types: Object.keys(config.types), timezone });
  const stamped = stream(events, timezone.length, T0).sort((a, b) => a.ts - b.ts);
  for (let i = 0; i < stamped.length; i += 2000) {
    const at = stamped[Math.min(i + 1999, stamped.length - 1)]!.ts + 1;
    agg.ingest(stamped.slice(i, i + 2000), at);
    agg.advance(at);
  }
  agg.advance(T0);
  return agg;
}

const configIn = (timezone: string, capacity: number): NamespaceConfig => ({
  ...DEFAULT_CONFIG,
  windows: [...WINDOWS, ...CALENDAR_WINDOWS],
  types: { view: {}, like: {} },
  capacity,
  timezone,
  compare: ["previous", "week"],
});

/** The plan in four orders: its own; every answer of a rank before the next rank (so the types of
 * a window meet in turn); the reverse of its own; and by rank, type and comparison, with 24h beside
 * yesterday (the same range at a UTC midnight). Sharing must hold in any order. */
function orders(config: NamespaceConfig): ReadQuery[][] {
  const queries = plan(config);
  const by = (key: (q: ReadQuery) => string) => [...queries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const rankOf = (q: ReadQuery) => (q.kind === "trending" ? q.rank : q.kind);
  const beside = (q: ReadQuery) => {
    if (q.kind === "dashboard" || q.kind === "dimension") return "~";
    const window = q.window === "24h" ? "0" : q.window === "yesterday" ? "1" : `2${q.window}`;
    return `${rankOf(q)}|${q.kind === "trending" ? q.type : ""}|${q.compare ?? ""}|${window}`;
  };
  return [queries, by(rankOf), [...queries].reverse(), by(beside)];
}

describe("answers computed with shared merges", () => {
  for (const [timezone, T0] of [["UTC", MIDDAY], ["Asia/Kolkata", MIDDAY], ["UTC", MIDNIGHT]] as const) {
    it(`are every planned answer computed alone, lossy buckets, both comparisons and every window included (${timezone}, ${new Date(T0).toISOString()})`, () => {
      const config = configIn(timezone, 50); // a capacity well below the 3000 items: floors and errors in every merge
      const agg = fed(config, T0, 40_000);
      const alone = answers(agg, config, T0, plan(config), false);
      for (const order of orders(config)) {
        const shared = answers(agg, config, T0, order, true);
        expect(shared.size).toBe(alone.size);
        for (const [key, answer] of alone) expect(shared.get(key), key).toEqual(answer);
      }
      // The state held answers worth comparing: lossy rankings with items in every window that had events.
      const lossy = [...alone.values()].filter((a) => {
        const answer = a as { items?: unknown[]; exact?: boolean };
        return Array.isArray(answer.items) && answer.items.length > 0 && answer.exact === false;
      });
      expect(lossy.length).toBeGreaterThan(20);
    });
  }

  it("hold at most their cap of bytes, and make a merge larger than the cap for its answer alone", () => {
    // Every item in the buckets (capacity above the 3000 items): the 1h window's sums are its largest.
    const config = configIn("UTC", 5000);
    const agg = fed(config, MIDDAY, 60_000);
    const alone = answers(agg, config, MIDDAY, plan(config), false);
    const largest = (capBytes: number) => {
      let most = 0;
      const shared = answers(agg, config, MIDDAY, plan(config), true, { capBytes, held: (bytes) => (most = Math.max(most, bytes)) });
      for (const [key, answer] of alone) expect(shared.get(key), key).toEqual(answer);
      return most;
    };
    const unbounded = largest(Infinity);
    const cap = Math.floor(unbounded / 4);
    expect(cap).toBeGreaterThan(0);
    const capped = largest(cap);
    expect(capped).toBeLessThanOrEqual(cap);
    expect(capped).toBeGreaterThan(0); // the smaller merges are still shared
    expect(largest(0)).toBe(0); // nothing fits: every answer merges its own, and answers the same
    // Nothing is held once the refresh is done.
    expect(agg.sharedBytes).toBe(0);
  });
});
