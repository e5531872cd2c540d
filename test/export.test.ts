/**
 * Export and import of a namespace (docs/api.md): "after an import, the namespace answers as the
 * exported one would: the same events in the same buckets, so the same scores, errors and stats
 * over the same [from, to)". A damaged or foreign document is refused and nothing is written.
 * The clock is frozen (fake Date) so that both namespaces answer at the same instant.
 */
import { SELF, evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TallyConflictError, TallyValidationError, createClient } from "../src/client";
import { service } from "./support/client";
import { TOKENS, admin, bearer, call, expectError, freshNamespace, get, ingestAll, json, stubOf, type EventInput } from "./support/http";

const WINDOWS = ["5m", "1h", "24h", "7d", "30d"] as const;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

afterEach(() => {
  vi.useRealTimers();
});

const adminClient = (ns: string) => createClient({ ...service(ns, TOKENS.admin), fetch: (url, init) => SELF.fetch(url, init) });

/** An answer computed by the object now, whatever the cache layers hold (local layer switch). */
async function computed(ns: string, path: string): Promise<Record<string, unknown>> {
  const res = await SELF.fetch(`http://localhost/v1/namespaces/${ns}/${path}`, { headers: { "X-Tally-Layer": "compute" } });
  expect(res.status, await res.clone().text()).toBe(200);
  const { namespace: _n, generation: _g, ...answer } = await json(res);
  return answer;
}

/** Every window's rankings (top and rising, all types and each declared type) and stats. */
async function everyAnswer(ns: string): Promise<Record<string, unknown>> {
  const answers: Record<string, unknown> = {};
  for (const window of WINDOWS) {
    for (const rank of ["top", "rising"]) {
      for (const type of ["", "view", "like"]) {
        const path = `trending?window=${window}&rank=${rank}&limit=100${type ? `&type=${type}` : ""}`;
        answers[path] = await computed(ns, path);
      }
    }
    answers[`stats ${window}`] = await computed(ns, `stats?window=${window}`);
  }
  return answers;
}

/** Eight days of events of two types, one hour with more distinct items than `capacity` (so its
 * bucket is inexact), and one event 2 minutes ahead (pending). */
function history(now: number): EventInput[] {
  const events: EventInput[] = [];
  for (let i = 0; i < 400; i++) {
    events.push({ item: `v${(i * 7) % 23}`, type: i % 3 === 0 ? "like" : "view", actor: `u${i % 17}`, ts: now - (i * 29 * MINUTE) % (8 * 24 * HOUR) - 1000 });
  }
  for (let i = 0; i < 60; i++) events.push({ item: `burst-${i}`, type: "view", ts: now - 2 * HOUR + i * 1000 });
  for (let i = 0; i < 30; i++) events.push({ item: "burst-0", type: "view", ts: now - 2 * HOUR + 90_000 });
  events.push({ item: "from-the-future", type: "like", ts: now + 2 * MINUTE });
  return events;
}

describe("export then import into a fresh namespace", () => {
  it("answers every window, rank and type exactly as the exported namespace, inexact buckets and pending events included", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const now = Date.now();
    vi.setSystemTime(now);
    const source = freshNamespace("exp");
    const target = freshNamespace("imp");
    await admin("PUT", source, "config", { capacity: 10, windows: [...WINDOWS], types: { view: {}, like: { weight: 2 } } });
    await ingestAll(source, history(now));
    const hidden = ((await computed(source, "trending?window=30d")).items as { item: string }[])[0]!.item;
    expect((await admin("PUT", source, `suppressions/${encodeURIComponent(hidden)}`)).status).toBe(201);

    const document = await adminClient(source).exportNamespace();
    const result = await adminClient(target).importNamespace(document);
    expect(result).toMatchObject({ namespace: target, imported: true, pending: 1 });

    const before = await everyAnswer(source);
    expect(await everyAnswer(target)).toEqual(before);
    // The comparison covers bounded answers, not only exact ones.
    const trending = Object.values(before).filter((a): a is { exact: boolean; items: { error: number }[] } => "exact" in (a as object));
    expect(trending.some((a) => !a.exact && a.items.some((i) => i.error > 0))).toBe(true);
    expect(await admin("GET", target, "config").then(json)).toEqual(await admin("GET", source, "config").then(json));
    // Suppressions travel too: the same item, suppressed at the same time, listed by no answer.
    const listOf = async (ns: string) => (await admin("GET", ns, "suppressions").then(json)).suppressions;
    expect(await listOf(target)).toEqual(await listOf(source));
    expect(JSON.stringify(await everyAnswer(target))).not.toContain(`"item":${JSON.stringify(hidden)}`);
    // The import is durable: an evicted object rebuilds the same state from SQLite.
    await evictDurableObject(stubOf(target));
    expect(await everyAnswer(target)).toEqual(before);

    // The pending event becomes due in both, at the same time.
    vi.setSystemTime(now + 3 * MINUTE);
    const due = await computed(target, "trending?window=5m&type=like");
    expect((due.items as { item: string }[]).map((i) => i.item)).toContain("from-the-future");
    expect(due).toEqual(await computed(source, "trending?window=5m&type=like"));
  });

  it("keeps the target's generation, not the source's", async () => {
    const source = freshNamespace("exp");
    const target = freshNamespace("imp");
    await ingestAll(source, [{ item: "a" }]);
    for (let i = 0; i < 3; i++) await admin("POST", source, "invalidate");
    await adminClient(target).importNamespace(await adminClient(source).exportNamespace());
    const generation = (await json<{ generation: number }>(await get(target, "stats"))).generation;
    expect(generation).toBe(0);
  });

  it("imports into a namespace that was deleted", async () => {
    const source = freshNamespace("exp");
    const target = freshNamespace("imp");
    await ingestAll(source, [{ item: "a" }, { item: "a" }]);
    await ingestAll(target, [{ item: "b" }]);
    await admin("DELETE", target, "");
    await adminClient(target).importNamespace(await adminClient(source).exportNamespace());
    expect((await json<{ events: number }>(await get(target, "stats", { window: "1h" }))).events).toBe(2);
  });
});

describe("import refuses", () => {
  it("a namespace that holds data: 409 namespace_not_empty, and its data is untouched", async () => {
    const source = freshNamespace("exp");
    const target = freshNamespace("imp");
    await ingestAll(source, [{ item: "a" }, { item: "a" }, { item: "a" }]);
    await ingestAll(target, [{ item: "b" }]);
    const error = await adminClient(target).importNamespace(await adminClient(source).exportNamespace()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TallyConflictError);
    expect(error).toMatchObject({ status: 409, code: "namespace_not_empty" });
    expect((await json<{ events: number }>(await get(target, "stats", { window: "1h" }))).events).toBe(1);
  });

  type Doc = { json: Record<string, any>; meta?: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const DAMAGE: { what: string; field: string; damage: (doc: Doc) => Doc }[] = [
    { what: "a foreign document", field: "format", damage: (d) => ({ ...d, json: { ...d.json, format: "someone-else" } }) },
    { what: "a later version", field: "version", damage: (d) => ({ ...d, json: { ...d.json, version: 2 } }) },
    { what: "plain JSON without superjson's meta (exportedAt not a date)", field: "exportedAt", damage: (d) => ({ json: d.json }) },
    { what: "an invalid config", field: "config.capacity", damage: (d) => ({ ...d, json: { ...d.json, config: { ...d.json.config, capacity: 1 } } }) },
    { what: "an unknown tier", field: "buckets[0].tier", damage: (d) => ({ ...d, json: { ...d.json, buckets: [{ ...d.json.buckets[0], tier: "week" }] } }) },
    {
      what: "a summary whose error exceeds its count, in the last bucket only",
      field: `buckets[last]`,
      damage: (d) => {
        const buckets = structuredClone(d.json.buckets) as { state: { summary: { items: [string, number, number][] } } }[];
        const entry = buckets.at(-1)!.state.summary.items[0]!;
        entry[2] = entry[1] + 1;
        return { ...d, json: { ...d.json, buckets } };
      },
    },
    { what: "a repeated bucket", field: "buckets[1]", damage: (d) => ({ ...d, json: { ...d.json, buckets: [d.json.buckets[0], d.json.buckets[0]] } }) },
    { what: "a bad pending event", field: "pending[0]", damage: (d) => ({ ...d, json: { ...d.json, pending: [{ item: "x", type: "view", weight: -1, ts: 0 }] } }) },
    { what: "an unknown field", field: "secrets", damage: (d) => ({ ...d, json: { ...d.json, secrets: 1 } }) },
  ];

  for (const { what, field, damage } of DAMAGE) {
    it(`${what}: 400 invalid_export naming ${field}, and nothing is written`, async () => {
      const source = freshNamespace("exp");
      const target = freshNamespace("imp");
      await ingestAll(source, [{ item: "a", ts: Date.now() - 3 * HOUR }, { item: "b" }, { item: "c", ts: Date.now() + MINUTE }]);
      const document = (await adminClient(source).exportNamespace()) as Doc;
      expect(document.json.buckets.length).toBeGreaterThan(1);
      const damaged = damage(document);
      const error = await adminClient(target).importNamespace(damaged).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TallyValidationError);
      const expected = field === "buckets[last]" ? `buckets[${document.json.buckets.length - 1}]` : field;
      expect(error).toMatchObject({ status: 400, code: "invalid_export", field: expected });
      await expectError(await get(target, "stats"), 404, "namespace_not_found");
      expect((await json<{ capacity: number }>(await admin("GET", target, "config"))).capacity).toBe(5000);
    });
  }

  it("a truncated document: 400 invalid_export, and nothing is written", async () => {
    const source = freshNamespace("exp");
    const target = freshNamespace("imp");
    await ingestAll(source, [{ item: "a" }]);
    const text = await (await admin("GET", source, "export")).text();
    const res = await call("POST", `/v1/namespaces/${target}/import`, {
      headers: { ...bearer(TOKENS.admin), "Content-Type": "application/json" },
      body: text.slice(0, Math.floor(text.length / 2)),
    });
    await expectError(res, 400, "invalid_export");
    await expectError(await get(target, "stats"), 404, "namespace_not_found");
  });
});

describe("export", () => {
  it("of a namespace without events is 404 namespace_not_found", async () => {
    await expectError(await admin("GET", freshNamespace("exp"), "export"), 404, "namespace_not_found");
  });

  it("needs the admin token", async () => {
    const res = await call("GET", `/v1/namespaces/${freshNamespace("exp")}/export`, { headers: bearer(TOKENS.ingest) });
    await expectError(res, 403, "forbidden");
  });
});
