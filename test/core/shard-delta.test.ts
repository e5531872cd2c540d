/**
 * An ingest shard's delta (core/shard-delta.ts), merged by the aggregator, counts exactly what
 * the same events counted one by one would: every window, every rank (reach too), stats, unique counts and
 * per-type answers. Events stamped at or after the time the delta is built travel whole, and are
 * counted once time reaches them. Time is passed in, so these tests drive it directly.
 */
import { describe, expect, it } from "vitest";
import { WINDOWS, type TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { DeltaBuilder } from "../../src/core/shard-delta";
import { rng } from "../support/random";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 21, 12, 30, 15);
const TYPES = ["view", "like"];
const HALF_LIFE_SECONDS = 1800;

/** Events over 8 days before `at`, denser near it, with repeated (minute, type, item) pairs so
 * that grouping really groups; fewer distinct items than the capacity below, so both sides are
 * exact and any difference is the delta's. Weights are multiples of 0.5: sums are exact. */
function stream(at: number, n: number, seed: number): TallyEvent[] {
  const random = rng(seed);
  const spans = [8 * DAY, 6 * HOUR, 30 * MINUTE, 4 * MINUTE];
  return Array.from({ length: n }, (_, i) => {
    const event: TallyEvent = {
      item: `item-${Math.floor(random() ** 2 * 60)}`,
      type: [...TYPES, "play"][Math.floor(random() * 3)]!,
      weight: 0.5 * (1 + Math.floor(random() * 4)),
      ts: at - 1 - Math.floor(random() * spans[i % spans.length]!),
    };
    if (random() < 0.7) event.actor = `user-${Math.floor(random() * 90)}`;
    return event;
  });
}

/** Every answer the aggregator gives at `at`: rankings per window and type, and stats. */
function answers(agg: Aggregator, at: number) {
  agg.advance(at);
  return WINDOWS.map((window) => ({
    window,
    rankings: [null, ...TYPES].map((type) => ({
      type,
      top: agg.top(window, type, at, 100),
      rising: agg.rising(window, type, at, 100),
      hot: agg.hot(window, type, at, 100, HALF_LIFE_SECONDS),
      reach: agg.reach(window, type, at, 100),
    })),
    stats: agg.stats(window, at),
  }));
}

const fresh = () => new Aggregator({ capacity: 200, types: TYPES });

describe("a shard's delta merged by the aggregator", () => {
  it("gives the same answers as the same events ingested one by one", () => {
    const batches = [stream(T0, 3000, 1), stream(T0, 2000, 2), stream(T0, 500, 3)];
    const direct = fresh();
    for (const batch of batches) direct.ingest(batch, T0);

    const builder = new DeltaBuilder(T0);
    for (const batch of batches) builder.add(batch);
    const delta = builder.build();
    const merged = fresh();
    merged.mergeDelta(delta, T0);

    const expected = answers(direct, T0);
    // Not vacuous: every window holds events, and the answers carry actors and several types.
    for (const { stats } of expected) expect(stats.events).toBeGreaterThan(0);
    expect(expected.at(-1)!.stats.uniqueActors).toBeGreaterThan(50);
    expect(Object.keys(expected.at(-1)!.stats.byType).sort()).toEqual(["like", "play", "view"]);
    expect(answers(merged, T0)).toEqual(expected);
    // The same a while later, when buckets have sealed and the windows slid.
    expect(answers(merged, T0 + 3 * HOUR)).toEqual(answers(direct, T0 + 3 * HOUR));
  });

  it("groups the events of one (minute, type, item) into one entry, keeping their count and weight", () => {
    const at = T0;
    const minute = Math.floor((at - MINUTE) / MINUTE) * MINUTE;
    const builder = new DeltaBuilder(at);
    builder.add([
      { item: "a", type: "view", weight: 1, ts: minute + 1, actor: "u1" },
      { item: "a", type: "view", weight: 2.5, ts: minute + 59_999, actor: "u2" },
    ]);
    builder.add([
      { item: "a", type: "like", weight: 1, ts: minute + 5, actor: "u1" },
      { item: "a", type: "view", weight: 1, ts: minute - 1 },
    ]);
    const delta = builder.build();
    expect(delta.events).toBe(4);
    expect(delta.future).toEqual([]);
    const byStart = new Map(delta.buckets.map((b) => [b.start, b]));
    expect([...byStart.keys()].sort()).toEqual([minute - MINUTE, minute]);
    expect(byStart.get(minute)!.entries.sort()).toEqual([
      ["like", "a", 1, 1],
      ["view", "a", 2, 3.5],
    ]);
    expect(byStart.get(minute)!.actors).toHaveLength(2); // u1 once, though it sent two events
    expect(byStart.get(minute - MINUTE)!.entries).toEqual([["view", "a", 1, 1]]);
    expect(byStart.get(minute - MINUTE)!.actors).toEqual([]);
  });

  it("ships events stamped at or after its build time whole, and they count once time reaches them", () => {
    const at = T0;
    const past = stream(at, 400, 7);
    const ahead: TallyEvent[] = [
      { item: "soon", type: "view", weight: 2, ts: at, actor: "u-soon" },
      { item: "later", type: "like", weight: 1, ts: at + 4 * MINUTE },
      { item: "soon", type: "view", weight: 1, ts: at + 90_000 },
    ];
    const builder = new DeltaBuilder(at);
    builder.add([...past.slice(0, 200), ahead[0]!, ahead[1]!]);
    builder.add([...past.slice(200), ahead[2]!]);
    const delta = builder.build();
    expect(delta.future).toEqual(ahead);
    expect(delta.events).toBe(past.length + ahead.length);
    expect(delta.buckets.every((b) => b.start < at)).toBe(true);

    const merged = fresh();
    merged.mergeDelta(delta, at);
    const direct = fresh();
    direct.ingest([...past, ...ahead], at);
    // Held, not counted, before their time: no answer's range reaches them yet.
    expect(merged.pending.all()).toEqual(ahead);
    const before = answers(merged, at);
    expect(before).toEqual(answers(direct, at));
    expect(before[0]!.rankings[0]!.top.items.map((i) => i.item)).not.toContain("soon");
    // Counted once each, as they come due.
    for (const t of [at + 1, at + 90_001, at + 4 * MINUTE + 1]) expect(answers(merged, t)).toEqual(answers(direct, t));
    expect(merged.pending.all()).toEqual([]);
    const stats = merged.stats("5m", at + 4 * MINUTE + 1);
    expect(stats.events).toBe(past.filter((e) => e.ts >= stats.from).length + 3);
    expect(merged.top("5m", null, at + 4 * MINUTE + 1, 100).items.find((i) => i.item === "soon")?.score).toBe(3);
  });

  it("merged into buckets that already hold events, adds to them as direct ingest would", () => {
    const first = stream(T0, 1500, 11);
    const second = stream(T0 + 10 * MINUTE, 1500, 12);
    const direct = fresh();
    direct.ingest(first, T0);
    direct.ingest(second, T0 + 10 * MINUTE);
    const mixed = fresh();
    mixed.ingest(first, T0);
    const builder = new DeltaBuilder(T0 + 10 * MINUTE);
    builder.add(second);
    mixed.mergeDelta(builder.build(), T0 + 10 * MINUTE);
    expect(answers(mixed, T0 + 10 * MINUTE)).toEqual(answers(direct, T0 + 10 * MINUTE));
  });
});

describe("a shard's delta of events with dims (v1.7)", () => {
  const minute = Math.floor((T0 - MINUTE) / MINUTE) * MINUTE;
  const entriesOf = (events: TallyEvent[]) => {
    const builder = new DeltaBuilder(T0);
    builder.add(events);
    const [bucket, ...others] = builder.build().buckets;
    expect(others).toEqual([]);
    return bucket!.entries;
  };
  const view = (weight: number, dims?: TallyEvent["dims"]): TallyEvent => ({ item: "a", type: "view", weight, ts: minute + weight, ...(dims ? { dims } : {}) });

  it("keeps events of one item with different dims in different entries, each with its dims", () => {
    expect(entriesOf([view(1), view(2, { category: ["comedy"] }), view(3, { category: ["drama"] }), view(4, { category: ["comedy"], tag: ["cats"] }), view(5)])).toEqual([
      ["view", "a", 2, 6],
      ["view", "a", 1, 2, { category: ["comedy"] }],
      ["view", "a", 1, 3, { category: ["drama"] }],
      ["view", "a", 1, 4, { category: ["comedy"], tag: ["cats"] }],
    ]);
  });

  it("groups events whose dims are equal but for the order of their dimensions into one entry", () => {
    const entries = entriesOf([view(1, { category: ["comedy"], tag: ["cats", "funny"] }), view(2, { tag: ["cats", "funny"], category: ["comedy"] })]);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.slice(0, 4)).toEqual(["view", "a", 2, 3]);
    expect(entries[0]![4]).toEqual({ category: ["comedy"], tag: ["cats", "funny"] });
  });

  it("leaves an entry without dims at four elements, as before", () => {
    expect(entriesOf([view(1), view(2)])).toEqual([["view", "a", 2, 3]]);
    expect(entriesOf([view(1)])[0]).toHaveLength(4);
  });

  it("never groups an item that looks like a grouping key with another item", () => {
    // Items may hold any character; "\t", "\n" and JSON are what the keys are made of.
    const tricky = ['[["category",["comedy"]]]\na', 'view\t[["category",["comedy"]]]\na', "a\t", "a\n"];
    const events = [view(1, { category: ["comedy"] }), ...tricky.map((item, i): TallyEvent => ({ item, type: "view", weight: 10 + i, ts: minute }))];
    const entries = entriesOf(events);
    expect(entries).toHaveLength(5);
    expect(entries.map((e) => e[1])).toEqual(["a", ...tricky]);
  });

  it("merged by the aggregator, counts each group into the segments of its dims, as the events one by one", () => {
    const dimensions = { category: {}, tag: { multi: true } };
    const random = rng(5);
    const events = stream(T0, 2000, 9).map((e): TallyEvent => {
      const r = random();
      if (r < 0.2) return e;
      return { ...e, dims: r < 0.6 ? { category: [r < 0.4 ? "comedy" : "drama"] } : { tag: r < 0.8 ? ["cats"] : ["cats", "funny"], category: ["comedy"] } };
    });
    const direct = new Aggregator({ capacity: 200, types: TYPES, dimensions });
    direct.ingest(events, T0);
    const builder = new DeltaBuilder(T0);
    builder.add(events);
    const merged = new Aggregator({ capacity: 200, types: TYPES, dimensions });
    merged.mergeDelta(builder.build(), T0);
    for (const segment of [
      { dimension: "category", value: "comedy" },
      { dimension: "category", value: "drama" },
      { dimension: "tag", value: "funny" },
    ]) {
      for (const window of WINDOWS) {
        const answer = merged.top(window, segment, T0, 100);
        expect(answer, `${window} ${segment.value}`).toEqual(direct.top(window, segment, T0, 100));
        if (window === "30d") expect(answer.items.length).toBeGreaterThan(0);
      }
    }
  });
});
