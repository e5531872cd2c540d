/**
 * (v1.7) Events' `dims` on the way in (docs/api.md, "Segments"): the door refuses malformed dims and
 * dims the namespace does not declare, normalises the rest, and what it accepted reaches the core
 * intact and durably by every route: the object directly (batch log), ingest shards (their logs and
 * deltas), pending events, and export then import.
 */
import { SELF, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_DIMENSION_VALUES, type EventDims, type TrendingSnapshot } from "../src/shared/contract";
import { TallyError } from "../src/shared/errors";
import { checkDims, parseBatch } from "../src/shared/validate";
import { encodeExport, parseExport, type NamespaceExport } from "../src/core/export";
import { TOKENS, admin, bearer, freshNamespace, ingest, json, refresh, stubOf, type EventInput } from "./support/http";
import { SHARDS, shardRows } from "./support/shards";

const NOW = Date.UTC(2026, 10, 21, 12, 0, 10);
const MINUTE = 60_000;

afterEach(() => {
  vi.useRealTimers();
});

/** The error `run` throws; fails the test if it throws none, or not a TallyError. */
function thrown(run: () => unknown): TallyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TallyError);
    return error as TallyError;
  }
  throw new Error("expected a refusal, got none");
}

/** The refusal of a batch whose second event carries `dims` (the first has none). */
const refusalOf = (dims: unknown) => thrown(() => parseBatch({ events: [{ item: "a" }, { item: "b", dims }] }, NOW));

/** The dims the door makes of `dims`, as the first event of a batch. */
const acceptedDims = (dims: unknown) => parseBatch({ events: [{ item: "a", dims }] }, NOW).events[0]!;

describe("dims at the door", () => {
  const refusals: { what: string; dims: unknown; field: string; says: RegExp }[] = [
    { what: "a string", dims: "comedy", field: "dims", says: /dims must be an object/ },
    { what: "a list", dims: ["comedy"], field: "dims", says: /dims must be an object/ },
    { what: "a number", dims: 3, field: "dims", says: /dims must be an object/ },
    { what: "a name that is not a dimension name", dims: { Category: "comedy" }, field: "dims", says: /"Category", not a dimension name/ },
    { what: "the name __proto__", dims: JSON.parse('{"__proto__": "x"}'), field: "dims", says: /"__proto__", not a dimension name/ },
    { what: "an empty name", dims: { "": "x" }, field: "dims", says: /not a dimension name/ },
    {
      what: "more than 8 dimensions",
      dims: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`d${i}`, "x"])),
      field: "dims",
      says: /names 9 dimensions; an event names at most 8/,
    },
    { what: "an empty list", dims: { tag: [] }, field: "dims.tag", says: /dims.tag must be a string .* or a list of 1 to 8/ },
    { what: "more than 8 values", dims: { tag: Array.from({ length: 9 }, (_, i) => `t${i}`) }, field: "dims.tag", says: /lists 9 values; .* at most 8/ },
    { what: "an empty value", dims: { category: "" }, field: "dims.category", says: /1 to 128 bytes of UTF-8 without U\+0000/ },
    { what: "129 bytes of 2-byte UTF-8 and one ASCII", dims: { category: "é".repeat(64) + "a" }, field: "dims.category", says: /1 to 128 bytes/ },
    { what: "129 bytes of 3-byte UTF-8", dims: { category: "€".repeat(43) }, field: "dims.category", says: /1 to 128 bytes/ },
    { what: "129 bytes in a list", dims: { tag: ["ok", "😀".repeat(32) + "a"] }, field: "dims.tag", says: /1 to 128 bytes/ },
    { what: "U+0000 in a value", dims: { category: "com\u0000edy" }, field: "dims.category", says: /without U\+0000/ },
    { what: "U+0000 in a list", dims: { tag: ["cats", "\u0000"] }, field: "dims.tag", says: /without U\+0000/ },
    { what: "a number value", dims: { category: 7 }, field: "dims.category", says: /must be a string/ },
    { what: "a null value", dims: { category: null }, field: "dims.category", says: /must be a string/ },
    { what: "an object value", dims: { category: { value: "comedy" } }, field: "dims.category", says: /must be a string/ },
    { what: "a number in a list", dims: { tag: ["cats", 1] }, field: "dims.tag", says: /must be a string/ },
    { what: "a nested list", dims: { tag: [["cats"]] }, field: "dims.tag", says: /must be a string/ },
  ];

  for (const { what, dims, field, says } of refusals) {
    it(`refuses ${what}: 400 invalid_event naming the event and ${field}`, () => {
      const error = refusalOf(dims);
      expect(error).toMatchObject({ status: 400, code: "invalid_event", details: { index: 1, field } });
      expect(error.message).toMatch(/^Event 1: /);
      expect(error.message).toMatch(says);
    });
  }

  it("takes values of exactly 128 bytes of UTF-8, of 1, 2, 3 and 4 bytes a character", () => {
    const values = ["a".repeat(128), "é".repeat(64), "€".repeat(42) + "ab", "😀".repeat(32)];
    for (const value of values) expect(new TextEncoder().encode(value).length).toBe(128);
    expect(acceptedDims({ tag: values }).dims).toEqual({ tag: values });
  });

  it("takes 8 dimensions, and 8 values of one", () => {
    const dims = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`d${i}`, "x"]));
    dims.d0 = Array.from({ length: MAX_DIMENSION_VALUES }, (_, i) => `t${i}`) as never;
    const event = acceptedDims(dims);
    expect(Object.keys(event.dims!)).toHaveLength(8);
    expect(event.dims!.d0).toHaveLength(8);
  });

  it("makes each dimension a list: one value a list of one, repeats dropped, first occurrences in order", () => {
    expect(acceptedDims({ category: "comedy", tag: ["funny", "cats", "funny", "dogs", "cats"] }).dims).toStrictEqual({
      category: ["comedy"],
      tag: ["funny", "cats", "dogs"],
    });
    // Repeats count towards the 8 the door takes, as sent.
    expect(acceptedDims({ tag: Array.from({ length: 8 }, () => "same") }).dims).toStrictEqual({ tag: ["same"] });
  });

  it("leaves dims out when absent, null or empty: no key at all", () => {
    for (const dims of [undefined, null, {}]) {
      const event = acceptedDims(dims);
      expect("dims" in event, JSON.stringify(dims)).toBe(false);
    }
  });

  it("accepts names a type could have, constructor among them", () => {
    // toEqual: toStrictEqual would compare the objects' `constructor`, here a dimension's values.
    const { dims } = acceptedDims({ constructor: "x", "a.b:c-d_e": "y" });
    expect(dims).toEqual({ constructor: ["x"], "a.b:c-d_e": ["y"] });
    expect(Object.getPrototypeOf(dims)).toBe(Object.prototype);
  });
});

describe("checkDims, against the declared dimensions", () => {
  const declared = { category: {}, tag: { multi: true } };
  const events = (...dims: (EventDims | undefined)[]) => dims.map((d) => (d === undefined ? {} : { dims: d }));

  it("passes events without dims, and declared dimensions with one value or, if multi, several", () => {
    expect(() => checkDims(events(undefined, { category: ["comedy"], tag: ["a", "b", "c"] }), declared)).not.toThrow();
    expect(() => checkDims(events(undefined, undefined), undefined)).not.toThrow();
  });

  it("refuses the first event naming an undeclared dimension, listing the declared ones", () => {
    const error = thrown(() => checkDims(events({ category: ["x"] }, { country: ["de"] }, { other: ["y"] }), declared));
    expect(error).toMatchObject({ status: 400, code: "invalid_event", details: { index: 1, field: "dims.country", allowed: ["category", "tag"] } });
    expect(error.message).toBe('Event 1: dims names "country", a dimension this namespace does not declare: it declares category, tag.');
  });

  it("refuses any dims where none are declared, and says so", () => {
    for (const dimensions of [undefined, {}]) {
      const error = thrown(() => checkDims(events({ category: ["x"] }), dimensions));
      expect(error).toMatchObject({ details: { index: 0, field: "dims.category", allowed: [] } });
      expect(error.message).toMatch(/it declares none/);
    }
  });

  it("refuses several values of a dimension not declared multi", () => {
    const error = thrown(() => checkDims(events({ tag: ["a", "b"] }, { category: ["comedy", "drama"] }), declared));
    expect(error).toMatchObject({ status: 400, code: "invalid_event", details: { index: 1, field: "dims.category" } });
    expect(error.message).toMatch(/gives 2 values; "category" takes one, as it is not declared \{"multi": true\}/);
    expect(() => checkDims(events({ category: ["comedy", "drama"] }), { category: { multi: false } })).toThrow(TallyError);
  });

  it("reads only the declared names: constructor, toString and __proto__ are names like any other", () => {
    // Names the door's pattern allows, and __proto__ as JSON.parse makes it (an own key).
    const sneaky: EventDims[] = [{ constructor: ["x"] }, { toString: ["x"] }, { hasOwnProperty: ["x"] }, JSON.parse('{"__proto__": ["x"]}') as EventDims];
    for (const dims of sneaky) {
      const [name] = Object.keys(dims);
      expect(thrown(() => checkDims([{ dims }], declared)).details, name).toMatchObject({ field: `dims.${name}` });
      const declaring = JSON.parse(`{${JSON.stringify(name)}: {}}`) as Record<string, object>;
      expect(() => checkDims([{ dims }], declaring), name).not.toThrow();
    }
  });
});

// ---- through the service ----------------------------------------------------------------------

const DIMENSIONS = { category: {}, tag: { multi: true } };

async function configure(ns: string, ingestShards: number): Promise<void> {
  const res = await admin("PUT", ns, "config", { ingestShards, refreshSeconds: 3600, dimensions: DIMENSIONS, types: { view: {} } });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function accepted(ns: string, events: EventInput[]): Promise<void> {
  const res = await ingest(ns, events);
  expect(res.status, await res.clone().text()).toBe(202);
}

/** A segment's top items (score by item) over `window`, computed by the object now, whatever the caches hold. */
async function segmentTop(ns: string, segment: string, window = "1h"): Promise<Record<string, number>> {
  const path = `trending?window=${window}&segment=${encodeURIComponent(segment)}`;
  const res = await SELF.fetch(`http://localhost/v1/namespaces/${ns}/${path}`, { headers: { "X-Tally-Layer": "compute" } });
  expect(res.status, await res.clone().text()).toBe(200);
  const answer = await json<TrendingSnapshot>(res);
  return Object.fromEntries(answer.items.map((i) => [i.item, i.score]));
}

/** What a namespace's object holds in SQLite: its batch log rows' formats and its pending events. */
const stored = (ns: string) =>
  runInDurableObject(stubOf(ns), (_, state) => ({
    logFormats: state.storage.sql
      .exec<{ events: string }>("SELECT events FROM batch_log ORDER BY seq")
      .toArray()
      .map((r) => (JSON.parse(r.events) as { v: number }).v),
    pending: state.storage.sql
      .exec<{ event: string }>("SELECT event FROM pending_events ORDER BY ts, seq")
      .toArray()
      .map((r) => JSON.parse(r.event) as { item: string; dims?: EventDims }),
  }));

/** Events of one minute ago in the segments of DIMENSIONS, and one without dims. */
const sample = (): EventInput[] => {
  const ts = Date.now() - MINUTE;
  return [
    { item: "a", ts, dims: { category: "comedy", tag: ["cats", "funny", "cats"] } },
    { item: "a", ts, dims: { tag: "cats", category: "comedy" } },
    { item: "b", ts, weight: 3, dims: { category: "drama", tag: ["funny"] } },
    { item: "c", ts },
  ];
};

/** What `sample` gives the segments it names. */
async function expectSampleSegments(ns: string): Promise<void> {
  expect(await segmentTop(ns, "category:comedy")).toEqual({ a: 2 });
  expect(await segmentTop(ns, "category:drama")).toEqual({ b: 3 });
  expect(await segmentTop(ns, "tag:cats")).toEqual({ a: 2 });
  expect(await segmentTop(ns, "tag:funny")).toEqual({ b: 3, a: 1 });
}

describe("dims through the namespace's object (ingestShards 1)", () => {
  it("reach the core, are logged as a format-3 row, and are replayed after an eviction", async () => {
    const ns = freshNamespace("dims-direct");
    await configure(ns, 1);
    await accepted(ns, sample());
    await accepted(ns, [{ item: "c" }]);
    await expectSampleSegments(ns);
    expect((await stored(ns)).logFormats).toEqual([3, 2]); // a batch without dims is logged as before
    await evictDurableObject(stubOf(ns));
    await expectSampleSegments(ns);
  });
});

describe("dims through ingest shards (ingestShards 4)", () => {
  it("reach the core through the shards' logs and deltas, each group with its own dims", async () => {
    const ns = freshNamespace("dims-shards");
    await configure(ns, 4);
    for (const event of sample()) await accepted(ns, [event]); // spread over the shards
    await refresh(ns);
    await expectSampleSegments(ns);
    await evictDurableObject(stubOf(ns));
    await expectSampleSegments(ns);
  });
});

describe("the batch with the most values accepted", () => {
  // 1000 events, each with 8 values of each of 8 multi-valued dimensions: 64,000 values in one
  // request (short ones, so the body stays under 1 MB), every one of them a segment. 10 items and
  // 10 values a dimension: no more pairs than counters, so every answer is exact.
  const names = Array.from({ length: 8 }, (_, d) => `d${d}`);
  const widest = (): EventInput[] => {
    const ts = Date.now() - MINUTE;
    return Array.from({ length: 1000 }, (_, i) => ({
      item: `i${i % 10}`,
      ts,
      dims: Object.fromEntries(names.map((n, d) => [n, Array.from({ length: MAX_DIMENSION_VALUES }, (_, v) => `v${(i + d + v) % 10}`)])),
    }));
  };
  for (const shards of [1, 4]) {
    it(`is counted whole into every segment with ingestShards ${shards}, and again after an eviction`, async () => {
      const ns = freshNamespace(`dims-widest-k${shards}`);
      const dimensions = Object.fromEntries(names.map((n) => [n, { multi: true, capacity: 100 }]));
      const res = await admin("PUT", ns, "config", { ingestShards: shards, refreshSeconds: 3600, dimensions, types: { view: {} }, capacity: 1000 });
      expect(res.status, await res.clone().text()).toBe(200);
      const events = widest();
      expect(new TextEncoder().encode(JSON.stringify({ events })).length).toBeLessThan(1024 * 1024);
      await accepted(ns, events);
      await refresh(ns);
      // The exact answer, by counting: each value's events in d3, and each item's in segment d7:v5.
      const expected = new Map<string, number>();
      for (const e of events) if ((e.dims!.d7 as string[]).includes("v5")) expected.set(e.item, (expected.get(e.item) ?? 0) + 1);
      const check = async () => {
        expect(await segmentTop(ns, "d7:v5")).toEqual(Object.fromEntries(expected));
        const res = await SELF.fetch(`http://localhost/v1/namespaces/${ns}/dimensions/d3?window=1h&limit=100`, { headers: { "X-Tally-Layer": "compute" } });
        const breakdown = await json<{ values: { value: string; events: number; error: number }[]; exact: boolean }>(res);
        expect(breakdown.exact).toBe(true);
        expect(breakdown.values).toHaveLength(10);
        expect(breakdown.values.reduce((sum, v) => sum + v.events, 0)).toBe(1000 * MAX_DIMENSION_VALUES);
      };
      await check();
      await evictDurableObject(stubOf(ns));
      await refresh(ns);
      await check();
    });
  }
});

describe("dims the namespace does not declare", () => {
  for (const shards of [1, 4]) {
    it(`are refused at the Worker with ingestShards ${shards}: 400 invalid_event, and nothing is logged`, async () => {
      const ns = freshNamespace(`dims-undeclared-${shards}`);
      await configure(ns, shards);
      const undeclared: [EventInput["dims"], string][] = [
        [{ country: "de" }, "dims.country"],
        [{ category: ["comedy", "drama"] }, "dims.category"],
        [{ constructor: "x" }, "dims.constructor"],
      ];
      for (const [dims, field] of undeclared) {
        const res = await ingest(ns, [{ item: "ok" }, { item: "a", dims }]);
        expect(res.status).toBe(400);
        const body = await json<{ error: Record<string, unknown> }>(res);
        expect(body.error).toMatchObject({ code: "invalid_event", index: 1, field });
        if (field === "dims.country") expect(body.error.allowed).toEqual(["category", "tag"]);
      }
      expect((await stored(ns)).logFormats).toEqual([]);
      expect(await Promise.all(SHARDS.map((i) => shardRows(ns, i)))).toEqual([0, 0, 0, 0]);
    });
  }
});

describe("future-stamped events with dims", () => {
  for (const shards of [1, 4]) {
    it(`are held pending with their dims (ingestShards ${shards}), and counted into their segments when due`, async () => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(NOW);
      const ns = freshNamespace(`dims-pending-${shards}`);
      await configure(ns, shards);
      await accepted(ns, [{ item: "soon", ts: NOW + 2 * MINUTE, dims: { category: "comedy", tag: ["cats", "cats", "funny"] } }]);
      vi.setSystemTime(NOW + 1000);
      await refresh(ns); // merges the shards' rows, if any: the object holds the event pending
      expect((await stored(ns)).pending).toEqual([{ item: "soon", type: "event", weight: 1, ts: NOW + 2 * MINUTE, dims: { category: ["comedy"], tag: ["cats", "funny"] } }]);
      expect(await segmentTop(ns, "tag:funny", "5m")).toEqual({});
      await evictDurableObject(stubOf(ns));
      vi.setSystemTime(NOW + 3 * MINUTE);
      await refresh(ns);
      expect(await segmentTop(ns, "tag:funny", "5m")).toEqual({ soon: 1 });
      expect(await segmentTop(ns, "category:comedy", "5m")).toEqual({ soon: 1 });
    });
  }
});

describe("pending events with dims in an export", () => {
  it("travel in the document and are held by the importing namespace with their dims", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
    const source = freshNamespace("dims-export");
    const target = freshNamespace("dims-import");
    await configure(source, 1);
    await accepted(source, [{ item: "now", ts: NOW - MINUTE }, { item: "soon", ts: NOW + 2 * MINUTE, dims: { category: "drama", tag: ["dogs"] } }]);
    const document = await (await admin("GET", source, "export")).text();
    expect(parseExport(document).pending).toEqual([{ item: "soon", type: "event", weight: 1, ts: NOW + 2 * MINUTE, dims: { category: ["drama"], tag: ["dogs"] } }]);
    const imported = await SELF.fetch(`http://localhost/v1/namespaces/${target}/import`, {
      method: "POST",
      headers: { ...bearer(TOKENS.admin), "Content-Type": "application/json" },
      body: document,
    });
    expect(imported.status, await imported.clone().text()).toBe(200);
    expect((await stored(target)).pending).toEqual([{ item: "soon", type: "event", weight: 1, ts: NOW + 2 * MINUTE, dims: { category: ["drama"], tag: ["dogs"] } }]);
    vi.setSystemTime(NOW + 3 * MINUTE);
    await refresh(target);
    expect(await segmentTop(target, "tag:dogs", "5m")).toEqual({ soon: 1 });
  });
});

describe("an import's pending events", () => {
  /** A document holding `pending` under a config declaring DIMENSIONS. */
  const documentWith = (pending: unknown[]) =>
    encodeExport({
      format: "tally.namespace-export",
      version: 1,
      namespace: "any",
      exportedAt: new Date(NOW),
      config: { dimensions: DIMENSIONS } as never,
      buckets: [],
      pending: pending as never,
      suppressions: [],
    } satisfies NamespaceExport);
  const event = (dims: unknown) => ({ item: "x", type: "view", weight: 1, ts: NOW, dims });

  it("are held to the door's rules for dims: 400 invalid_export naming the event and dimension", () => {
    for (const [dims, field] of [
      ["comedy", "pending[1].dims"],
      [{ tag: [] }, "pending[1].dims.tag"],
      [{ category: "a\u0000b" }, "pending[1].dims.category"],
      [{ category: "€".repeat(43) }, "pending[1].dims.category"],
      [{ country: ["de"] }, "pending[1].dims.country"],
      [{ category: ["comedy", "drama"] }, "pending[1].dims.category"],
    ] as const) {
      const error = thrown(() => parseExport(documentWith([event(undefined), event(dims)])));
      expect(error, JSON.stringify(dims)).toMatchObject({ status: 400, code: "invalid_export", details: { field } });
    }
  });

  it("keep valid dims, normalised, and none where an event had none", () => {
    const { pending } = parseExport(documentWith([event(undefined), event({ tag: ["b", "a", "b"], category: "c" }), event({})]));
    expect(pending).toStrictEqual([
      { item: "x", type: "view", weight: 1, ts: NOW },
      { item: "x", type: "view", weight: 1, ts: NOW, dims: { tag: ["b", "a"], category: ["c"] } },
      { item: "x", type: "view", weight: 1, ts: NOW },
    ]);
  });
});
