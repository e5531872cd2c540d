/**
 * A batch crosses RPC as columns (src/shared/batch-columns.ts): what the object reads back is
 * exactly what the door accepted, with the namespace's default weight where none was given.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { freshNamespace } from "./support/http";
import { columnsOf, eventsOf } from "../src/shared/batch-columns";
import type { IncomingEvent } from "../src/shared/validate";
import { utf8Bytes } from "../durable-objects/guarded-sql";

describe("a batch as columns", () => {
  it("gives back every event as accepted, with the type's default weight only where none was given", () => {
    const events = [
      { item: "a", type: "view", ts: 1 },
      { item: "b", type: "like", weight: 2.5, actor: "u1", ts: 2 },
      { item: "a", type: "view", weight: 1, actor: "u2", ts: 3 },
      { item: "é☃", type: "share", ts: 4 },
    ];
    const columns = columnsOf({ batchId: "b-1", events });
    expect(columns.batchId).toBe("b-1");
    expect(columns.typeNames).toEqual(["view", "like", "share"]);
    const defaults: Record<string, number> = { view: 1, like: 3, share: 7 };
    expect(eventsOf(columns, (type) => defaults[type]!)).toStrictEqual([
      { item: "a", type: "view", weight: 1, ts: 1 },
      { item: "b", type: "like", weight: 2.5, actor: "u1", ts: 2 },
      { item: "a", type: "view", weight: 1, actor: "u2", ts: 3 },
      { item: "é☃", type: "share", weight: 7, ts: 4 },
    ]);
  });

  it("carries no batchId when the batch had none", () => {
    expect("batchId" in columnsOf({ events: [{ item: "a", type: "view", ts: 1 }] })).toBe(false);
  });

  it("(v1.7) carries dims in a column only when an event has them, null where one has none", () => {
    expect("dims" in columnsOf({ events: [{ item: "a", type: "view", ts: 1 }] })).toBe(false);
    const events: IncomingEvent[] = [
      { item: "a", type: "view", ts: 1 },
      { item: "b", type: "view", ts: 2, dims: { category: ["comedy"], tag: ["cats", "funny"] } },
      { item: "c", type: "view", ts: 3 },
      { item: "d", type: "view", actor: "u", ts: 4, dims: { tag: ["日本"] } },
    ];
    const columns = columnsOf({ events });
    // Flat: the names once, the values in event order, no object per event.
    expect(columns.dimColumns?.names).toEqual(["category", "tag"]);
    expect(columns.dimColumns?.values).toEqual(["comedy", "cats", "funny", "日本"]);
    const back = eventsOf(columns, () => 1);
    expect(back).toStrictEqual(events.map((e) => ({ ...e, weight: 1 })));
    expect(back.map((e) => "dims" in e)).toEqual([false, true, false, true]);
  });

  it("(v1.7) gives back the dims of every event of the widest batch, whatever its dimensions are named", () => {
    const names = ["constructor", "to-string", "a", "b.c", "d_e", "f", "g", "h"];
    const events: IncomingEvent[] = Array.from({ length: 1000 }, (_, i) => {
      const dims: Record<string, string[]> = {};
      // Each event some of the eight, in an order of its own, with 1 to 8 values each.
      for (let d = 0; d < names.length; d++) {
        const name = names[(i + d) % names.length]!;
        if ((i >> d) % 3 !== 0) dims[name] = Array.from({ length: 1 + ((i + d) % 8) }, (_, v) => `${name}-${i}-${v}`);
      }
      return Object.keys(dims).length === 0 ? { item: `i${i}`, type: "view", ts: i } : { item: `i${i}`, type: "view", ts: i, dims };
    });
    const back = eventsOf(columnsOf({ events }), () => 1);
    expect(back).toEqual(events.map((e) => ({ ...e, weight: 1 })));
    expect(back.map((e) => "dims" in e)).toEqual(events.map((e) => "dims" in e));
  });

  it("(v1.7) sends dims one object per event to an object of the build before, and reads them so from a Worker of that build", () => {
    const dims = { category: ["comedy"], tag: ["cats", "funny"] };
    const events: IncomingEvent[] = [{ item: "a", type: "view", ts: 1 }, { item: "b", type: "view", ts: 2, dims }];
    const before = columnsOf({ events }, false);
    expect(before.dims).toEqual([null, dims]);
    expect("dimColumns" in before).toBe(false);
    expect(eventsOf(before, () => 1)).toStrictEqual([
      { item: "a", type: "view", weight: 1, ts: 1 },
      { item: "b", type: "view", weight: 1, ts: 2, dims },
    ]);
    expect("dims" in columnsOf({ events: [events[0]!] }, false)).toBe(false);
  });
});

describe("the namespace's object during a deploy", () => {
  it("says it takes columns, and still takes a batch as objects from a Worker of the version before", async () => {
    const ns = freshNamespace("columns");
    const stub = env.AGGREGATOR.get(env.AGGREGATOR.idFromName(ns));
    const events = [{ item: "a", type: "view", ts: Date.now() }];
    expect(await stub.ingest({ events })).toEqual({ ok: true, value: { accepted: 1, duplicate: false } });
    expect(await stub.ingest(columnsOf({ events }))).toEqual({ ok: true, value: { accepted: 1, duplicate: false } });
    const described = await stub.describe();
    expect(described.ok && described.value.batchColumns).toBe(true);
    expect(described.ok && described.value.dimColumns).toBe(true);
  });
});

describe("the UTF-8 length of a stored text", () => {
  const byLoop = (s: string) => new TextEncoder().encode(s).length;

  it("is the encoder's, short or long, ASCII or not, lone surrogates counted as their replacement", () => {
    const cases = ["", "abc", "é", "☃", "😀", "\ud800", "x\udc00y", "a".repeat(150_000), "é".repeat(120_000) + "😀", "\ud83d".repeat(100_001)];
    for (const text of cases) expect(utf8Bytes(text)).toBe(byLoop(text));
  });
});
