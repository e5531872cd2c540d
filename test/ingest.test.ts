/**
 * Ingest, as docs/api.md states it: every validation rule with its error code, all-or-nothing
 * batches, size limits, and idempotent retries by batchId and by Idempotency-Key.
 */
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BASE, TOKENS, admin, bearer, expectError, freshNamespace, get, ingest, json, refresh, type EventInput } from "./support/http";

const DAY = 86_400_000;

/** Events counted in the namespace's 30d window, after a refresh. */
async function counted(ns: string): Promise<number> {
  await refresh(ns);
  const stats = await json<{ events: number }>(await get(ns, "stats", { window: "30d" }));
  return stats.events;
}

/** A namespace holding exactly one counted event. */
async function seeded(): Promise<string> {
  const ns = freshNamespace("ingest");
  expect((await ingest(ns, [{ item: "seed" }])).status).toBe(202);
  return ns;
}

describe("a valid batch", () => {
  it("is acknowledged 202 with the number of events and duplicate false", async () => {
    const ns = freshNamespace("ingest");
    const res = await ingest(ns, [{ item: "a" }, { item: "b", type: "view", weight: 2.5, actor: "u1", ts: Date.now() - 1000 }]);
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ accepted: 2, duplicate: false });
    expect(await counted(ns)).toBe(2);
  });

  it("accepts ts as an ISO-8601 string and as milliseconds", async () => {
    const ns = freshNamespace("ingest");
    const iso = new Date(Date.now() - 60_000).toISOString();
    expect((await ingest(ns, [{ item: "a", ts: iso }, { item: "a", ts: Date.now() - 30_000 }])).status).toBe(202);
    expect(await counted(ns)).toBe(2);
  });

  it("applies the declared type's weight when an event has none, else 1", async () => {
    const ns = freshNamespace("ingest");
    await admin("PUT", ns, "config", { types: { purchase: { weight: 5 } } });
    await ingest(ns, [{ item: "a", type: "purchase" }, { item: "a", type: "view" }]);
    await refresh(ns);
    const stats = await json<{ byType: Record<string, { weight: number }> }>(await get(ns, "stats", { window: "1h" }));
    expect(stats.byType.purchase?.weight).toBe(5);
    expect(stats.byType.view?.weight).toBe(1);
  });
});

const now = () => Date.now();
const tooLong = "x".repeat(257);
const multibyte = "é".repeat(129); // 258 bytes of UTF-8 in 129 characters

const invalidEvents: [string, unknown, string][] = [
  ["an event that is not an object", 42, "event"],
  ["a missing item", { type: "view" }, "item"],
  ["an empty item", { item: "" }, "item"],
  ["an item that is not a string", { item: 7 }, "item"],
  ["an item over 256 bytes", { item: tooLong }, "item"],
  ["an item over 256 bytes of UTF-8 but under 256 characters", { item: multibyte }, "item"],
  ["a type with capitals", { item: "a", type: "View" }, "type"],
  ["a type that is not a string", { item: "a", type: 3 }, "type"],
  ["a type over 64 characters", { item: "a", type: "t".repeat(65) }, "type"],
  ["a zero weight", { item: "a", weight: 0 }, "weight"],
  ["a negative weight", { item: "a", weight: -1 }, "weight"],
  ["a weight over 1e6", { item: "a", weight: 1e6 + 1 }, "weight"],
  ["a weight that is a string", { item: "a", weight: "2" }, "weight"],
  ["an actor over 256 bytes", { item: "a", actor: tooLong }, "actor"],
  ["an actor that is not a string", { item: "a", actor: 12 }, "actor"],
  ["a ts older than 30 days", { item: "a", ts: now() - 30 * DAY - 60_000 }, "ts"],
  ["a ts more than 5 minutes ahead", { item: "a", ts: now() + 6 * 60_000 }, "ts"],
  ["a ts that is not a date", { item: "a", ts: "yesterday" }, "ts"],
  ["a ts that is a boolean", { item: "a", ts: true }, "ts"],
];

describe("a batch with one bad event", () => {
  it.each(invalidEvents)("is refused whole for %s, naming index and field, and counts nothing", async (_, bad, field) => {
    const ns = await seeded();
    const events = [{ item: "ok-1" }, { item: "ok-2" }, bad] as EventInput[];
    const res = await ingest(ns, events);
    expect(res.status).toBe(400);
    const body = await json<{ error: { code: string; index: number; field: string; message: string } }>(res);
    expect(body.error).toMatchObject({ code: "invalid_event", index: 2, field });
    expect(body.error.message.length).toBeGreaterThan(0);
    expect(await counted(ns)).toBe(1);
  });

  it("reports the first offending event when several are bad", async () => {
    const ns = await seeded();
    const res = await ingest(ns, [{ item: "ok" }, { item: "" }, { item: "a", weight: -1 }]);
    expect((await json<{ error: { index: number; field: string } }>(res)).error).toMatchObject({ index: 1, field: "item" });
  });
});

describe("the body", () => {
  const post = (ns: string, body: string, headers: Record<string, string> = {}) =>
    SELF.fetch(`${BASE}/v1/namespaces/${ns}/events`, {
      method: "POST",
      headers: { ...bearer(TOKENS.ingest), "Content-Type": "application/json", ...headers },
      body,
    });

  it("is refused 400 invalid_json when it is not JSON", async () => {
    const ns = await seeded();
    const res = await post(ns, '{"events": [');
    expect(res.status).toBe(400);
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe("invalid_json");
    expect(await counted(ns)).toBe(1);
  });

  it("is refused 400 invalid_batch without an events array", async () => {
    const res = await post(freshNamespace("ingest"), JSON.stringify({ items: [] }));
    expect(res.status).toBe(400);
    expect((await json<{ error: { code: string; field: string } }>(res)).error).toMatchObject({ code: "invalid_batch", field: "events" });
  });

  it("is refused 413 batch_too_large beyond 1000 events, counting none", async () => {
    const ns = await seeded();
    const events = Array.from({ length: 1001 }, (_, i) => ({ item: `i${i}` }));
    const res = await ingest(ns, events);
    expect(res.status).toBe(413);
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe("batch_too_large");
    expect(await counted(ns)).toBe(1);
  });

  it("accepts exactly 1000 events", async () => {
    const ns = freshNamespace("ingest");
    const res = await ingest(ns, Array.from({ length: 1000 }, (_, i) => ({ item: `i${i}` })));
    expect(res.status).toBe(202);
    expect(await counted(ns)).toBe(1000);
  });

  it("is refused 413 body_too_large over 1 MiB, counting none", async () => {
    const ns = await seeded();
    const item = "x".repeat(250);
    const events = Array.from({ length: 1000 }, () => ({ item, actor: item, type: "view", weight: 1, ts: Date.now() - 1000 }));
    const body = JSON.stringify({ events, padding: "y".repeat(1024 * 1024) });
    const res = await post(ns, body);
    expect(res.status).toBe(413);
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe("body_too_large");
    expect(await counted(ns)).toBe(1);
  });
});

describe("a retried batch", () => {
  it("with the same batchId answers 200 duplicate true and counts nothing again", async () => {
    const ns = freshNamespace("ingest");
    const events = [{ item: "a" }, { item: "b" }, { item: "c" }];
    expect((await ingest(ns, events, { batchId: "batch-1" })).status).toBe(202);
    const retry = await ingest(ns, events, { batchId: "batch-1" });
    expect(retry.status).toBe(200);
    expect(await json(retry)).toEqual({ accepted: 3, duplicate: true });
    expect(await counted(ns)).toBe(3);
  });

  it("with the same Idempotency-Key header answers duplicate and counts nothing again", async () => {
    const ns = freshNamespace("ingest");
    const headers = { "Idempotency-Key": "key-1" };
    expect((await ingest(ns, [{ item: "a" }], { headers })).status).toBe(202);
    const retry = await ingest(ns, [{ item: "a" }], { headers });
    expect(retry.status).toBe(200);
    expect(await json(retry)).toEqual({ accepted: 1, duplicate: true });
    expect(await counted(ns)).toBe(1);
  });

  it("treats Idempotency-Key and batchId as the same identity", async () => {
    const ns = freshNamespace("ingest");
    await ingest(ns, [{ item: "a" }], { batchId: "same" });
    const retry = await ingest(ns, [{ item: "a" }], { headers: { "Idempotency-Key": "same" } });
    expect(await json(retry)).toMatchObject({ duplicate: true });
    expect(await counted(ns)).toBe(1);
  });

  it("under a different batchId is counted", async () => {
    const ns = freshNamespace("ingest");
    await ingest(ns, [{ item: "a" }], { batchId: "one" });
    await ingest(ns, [{ item: "a" }], { batchId: "two" });
    expect(await counted(ns)).toBe(2);
  });

  it("that was refused may be sent again, corrected, under the same batchId", async () => {
    const ns = await seeded();
    expect((await ingest(ns, [{ item: "" }], { batchId: "fix-me" })).status).toBe(400);
    expect((await ingest(ns, [{ item: "fixed" }], { batchId: "fix-me" })).status).toBe(202);
    expect(await counted(ns)).toBe(2);
  });

  it("is refused when batchId and Idempotency-Key disagree", async () => {
    const res = await ingest(freshNamespace("ingest"), [{ item: "a" }], { batchId: "a", headers: { "Idempotency-Key": "b" } });
    expect(res.status).toBe(400);
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe("invalid_batch");
  });
});

describe("optional fields", () => {
  it("sent as null are treated as absent, and unknown event fields are ignored", async () => {
    const ns = freshNamespace("ingest");
    const res = await SELF.fetch(`${BASE}/v1/namespaces/${ns}/events`, {
      method: "POST",
      headers: { ...bearer(TOKENS.ingest), "Content-Type": "application/json" },
      body: JSON.stringify({ batchId: null, events: [{ item: "a", type: null, weight: null, actor: null, ts: null, colour: "red" }] }),
    });
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ accepted: 1, duplicate: false });
    await refresh(ns);
    const stats = await json<{ events: number; uniqueActors: number; byType: Record<string, unknown> }>(await get(ns, "stats", { window: "1h" }));
    // docs/api.md: type defaults to "event", weight to the type's configured weight else 1, ts to now.
    expect(stats.byType).toEqual({ event: { events: 1, weight: 1 } });
    expect(stats.uniqueActors).toBe(0);
  });
});

describe("batchId and Idempotency-Key", () => {
  // README: 1 to 128 characters.
  for (const length of [1, 128]) {
    it(`accept an id of ${length} character(s), and recognise its retry`, async () => {
      const ns = freshNamespace("ingest");
      const id = "b".repeat(length);
      expect((await ingest(ns, [{ item: "a" }], { batchId: id })).status).toBe(202);
      expect((await ingest(ns, [{ item: "a" }], { headers: { "Idempotency-Key": id } })).status).toBe(200);
    });
  }

  for (const length of [0, 129]) {
    it(`refuse an id of ${length} characters with 400 invalid_batch, in the body and in the header`, async () => {
      const ns = freshNamespace("ingest");
      const id = "b".repeat(length);
      const inBody = await expectError(await ingest(ns, [{ item: "a" }], { batchId: id }), 400, "invalid_batch");
      expect(inBody.field).toBe("batchId");
      const inHeader = await expectError(await ingest(ns, [{ item: "a" }], { headers: { "Idempotency-Key": id } }), 400, "invalid_batch");
      expect(inHeader.field).toBe("Idempotency-Key");
      await expectError(await get(ns, "stats"), 404, "namespace_not_found");
    });
  }
});

describe("an event stamped in the future", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is accepted at once and counted in windows only once time reaches its ts", async () => {
    const ns = freshNamespace("future");
    vi.useFakeTimers({ toFake: ["Date"] });
    // 10 s into a minute: "soon" (+20 s) falls in the current minute's bucket, "later" (+1 min) in the next.
    const t = Math.ceil(Date.now() / 60_000) * 60_000 + 10_000;
    vi.setSystemTime(t);
    const events = [{ item: "now", ts: t }, { item: "soon", ts: t + 20_000 }, { item: "later", ts: t + 60_000 }];
    expect((await ingest(ns, events)).status).toBe(202);

    // docs/api.md: a window [from, to) counts the events whose ts lies in it, and no other.
    for (const at of [t + 1, t + 20_001, t + 60_001]) {
      vi.setSystemTime(at);
      await refresh(ns);
      const trending = await json<{ to: string; items: { item: string }[] }>(await get(ns, "trending", { window: "5m" }));
      const to = Date.parse(trending.to);
      const due = events.filter((e) => e.ts < to).map((e) => e.item);
      expect(due.length).toBe(events.filter((e) => e.ts < at).length);
      expect(trending.items.map((i) => i.item).sort()).toEqual(due.sort());
      expect((await json<{ events: number }>(await get(ns, "stats", { window: "5m" }))).events).toBe(due.length);
    }
  });
});
