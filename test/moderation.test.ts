/**
 * Content moderation (docs/api.md, "Admin", suppressions): a suppressed item is listed by no ranking of
 * any rank, type or window, nor by the dashboard, from the very next read through this Worker and
 * in every layer; its events are still counted; lists stay full; suppressions are durable, bounded
 * and erased with the namespace.
 */
import { SELF, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RANKS, WINDOWS, type DashboardSnapshot, type StatsSnapshot, type SuppressionPage, type TrendingSnapshot } from "../src/shared/contract";
import { BASE, TOKENS, admin, bearer, expectError, freshNamespace, get, ingestAll, json, refresh, stubOf, type EventInput } from "./support/http";
import { ranked, scores, type Counted } from "./support/exact";
import { DASHBOARD_TOP } from "../src/core/snapshots";

const MAX_LIMIT = 5;
const TYPES = [null, "view", "like"] as const;
/** The item moderated below: the heaviest of every type, so every ranking lists it first. */
const SPAM = "spam";

/** 13 items, all in the last second (so inside every window and growing in every rising list):
 * spam scores 50 of each type, item-k scores 12 - k of each type, each point an event of its own
 * actor (so that rank=reach ranks them alike). */
function events(): Counted[] {
  const out: Counted[] = [];
  const ts = Date.now() - 1000;
  const points = (item: string, type: string, n: number) => {
    for (let i = 0; i < n; i++) out.push({ item, type, weight: 1, ts, actor: `${item}-${type}-${i}` });
  };
  for (const type of ["view", "like"]) {
    points(SPAM, type, 50);
    for (let k = 0; k < 12; k++) points(`item-${k}`, type, 12 - k);
  }
  return out;
}

async function moderatedNamespace(prefix: string): Promise<{ ns: string; counted: Counted[] }> {
  const ns = freshNamespace(prefix);
  await admin("PUT", ns, "config", { windows: [...WINDOWS], maxLimit: MAX_LIMIT, types: { view: {}, like: {} } });
  const counted = events();
  await ingestAll(ns, counted);
  await refresh(ns);
  return { ns, counted };
}

const suppress = (ns: string, item: string) => admin("PUT", ns, `suppressions/${encodeURIComponent(item)}`);
const unsuppress = (ns: string, item: string) => admin("DELETE", ns, `suppressions/${encodeURIComponent(item)}`);

async function trending(ns: string, query: Record<string, string | number>, headers: Record<string, string> = {}) {
  const res = await get(ns, "trending", { limit: MAX_LIMIT, ...query }, headers);
  expect(res.status).toBe(200);
  return json<TrendingSnapshot>(res);
}

/** Every ranking of the namespace (rank × window × type) and the dashboard's, item names only. */
async function everyList(ns: string): Promise<Map<string, string[]>> {
  const lists = new Map<string, string[]>();
  for (const rank of RANKS) {
    for (const window of WINDOWS) {
      for (const type of TYPES) {
        const answer = await trending(ns, { rank, window, ...(type ? { type } : {}) });
        lists.set(`${rank} ${window} ${type ?? "*"}`, answer.items.map((i) => i.item));
      }
    }
  }
  const dashboard = await json<DashboardSnapshot>(await get(ns, "dashboard"));
  for (const window of WINDOWS) {
    lists.set(`dashboard top ${window}`, dashboard.windows[window]!.top.items.map((i) => i.item));
    lists.set(`dashboard hot ${window}`, dashboard.windows[window]!.hot.items.map((i) => i.item));
  }
  return lists;
}

/** A read through one layer alone (the local-only switch of README, "Operating Tally"). */
const throughLayer = (ns: string, layer: "kv" | "do", query = "window=1h&limit=5") =>
  SELF.fetch(`http://localhost/v1/namespaces/${ns}/trending?${query}`, { headers: { "X-Tally-Layer": layer } });

describe("a suppressed item", () => {
  it("is listed by no rank, window or type, nor the dashboard, and every list stays full", async () => {
    const { ns, counted } = await moderatedNamespace("mod");
    const before = await everyList(ns);
    for (const [name, items] of before) expect(items[0], name).toBe(SPAM);

    const res = await suppress(ns, SPAM);
    expect(res.status).toBe(201);
    const after = await everyList(ns);
    expect(after.size).toBe(RANKS.length * WINDOWS.length * TYPES.length + 2 * WINDOWS.length);
    // Every list is the exact ranking of the other items: the suppressed item took no one's place.
    // Both types carry the same weights, so every type (and all types) ranks them alike.
    const others = ranked(scores(counted.filter((e) => e.item !== SPAM && e.type === "view"))).map((e) => e.item);
    for (const [name, items] of after) {
      expect(items, name).not.toContain(SPAM);
      expect(items, name).toEqual(others.slice(0, name.startsWith("dashboard") ? DASHBOARD_TOP : MAX_LIMIT));
    }
  });

  it("is still counted: stats are unchanged, and shown again it ranks with every count, later ones too", async () => {
    const { ns } = await moderatedNamespace("mod");
    const statsBefore = await json<StatsSnapshot>(await get(ns, "stats", { window: "1h" }));
    await suppress(ns, SPAM);
    await ingestAll(ns, [{ item: SPAM, type: "view", weight: 7, ts: Date.now() - 500 }]);
    await refresh(ns);
    const stats = await json<StatsSnapshot>(await get(ns, "stats", { window: "1h" }));
    expect(stats.events).toBe(statsBefore.events + 1);
    expect(stats.weight).toBe(statsBefore.weight + 7);
    expect((await trending(ns, { window: "1h" })).items.map((i) => i.item)).not.toContain(SPAM);

    const shown = await unsuppress(ns, SPAM);
    expect(shown.status).toBe(200);
    expect(await json(shown)).toMatchObject({ namespace: ns, item: SPAM, suppressed: false });
    const top = await trending(ns, { window: "1h" });
    expect(top.items[0]).toEqual({ item: SPAM, score: 50 + 50 + 7, error: 0 });
    const hot = await trending(ns, { window: "24h", rank: "hot", type: "view" });
    expect(hot.items[0]!.item).toBe(SPAM);
  });
});

describe("suppression through every layer", () => {
  it("hides the item from the next read, though its answer was just served from the edge", async () => {
    const { ns } = await moderatedNamespace("layers");
    await trending(ns, { window: "1h" }); // now kept at the edge
    const cached = await get(ns, "trending", { window: "1h", limit: MAX_LIMIT });
    expect(cached.headers.get("X-Cache")).toBe("HIT-EDGE");
    expect((await json<TrendingSnapshot>(cached)).items[0]!.item).toBe(SPAM);

    const { generation } = await json<{ generation: number }>(await suppress(ns, SPAM));
    const next = await get(ns, "trending", { window: "1h", limit: MAX_LIMIT });
    expect(next.headers.get("X-Cache")).not.toBe("MISS");
    expect(next.headers.get("X-Generation")).toBe(String(generation));
    expect((await json<TrendingSnapshot>(next)).items.map((i) => i.item)).not.toContain(SPAM);
  });

  it("hides the item in the KV mirror and in the object, each read alone", async () => {
    const { ns } = await moderatedNamespace("layers");
    for (const layer of ["kv", "do"] as const) {
      const res = await throughLayer(ns, layer);
      expect(res.headers.get("X-Cache"), layer).toBe(layer === "kv" ? "HIT-KV" : "HIT-DO");
      expect((await json<TrendingSnapshot>(res)).items[0]!.item, layer).toBe(SPAM);
    }
    await suppress(ns, SPAM);
    for (const layer of ["kv", "do"] as const) {
      const res = await throughLayer(ns, layer);
      expect(res.status, layer).toBe(200);
      expect((await json<TrendingSnapshot>(res)).items.map((i) => i.item), layer).not.toContain(SPAM);
    }
  });

  it("shows the item again in the next read, though the hiding answer was just served from the edge", async () => {
    const { ns } = await moderatedNamespace("layers");
    await suppress(ns, SPAM);
    await trending(ns, { window: "7d", rank: "hot" });
    const cached = await get(ns, "trending", { window: "7d", rank: "hot", limit: MAX_LIMIT });
    expect(cached.headers.get("X-Cache")).toBe("HIT-EDGE");
    expect((await json<TrendingSnapshot>(cached)).items.map((i) => i.item)).not.toContain(SPAM);
    await unsuppress(ns, SPAM);
    expect((await trending(ns, { window: "7d", rank: "hot" })).items[0]!.item).toBe(SPAM);
    expect((await json<TrendingSnapshot>(await throughLayer(ns, "kv", "window=7d&rank=hot"))).items[0]!.item).toBe(SPAM);
  });
});

describe("the suppression list", () => {
  it("lists each item with the time it was first suppressed, and survives the object's eviction", async () => {
    const { ns } = await moderatedNamespace("list");
    const odd = "a/b c?é%";
    const first = await json<{ suppressedAt: string; created: boolean }>(await suppress(ns, odd));
    expect(first.created).toBe(true);
    await suppress(ns, SPAM);
    const again = await suppress(ns, odd);
    expect(again.status).toBe(200); // already suppressed: nothing to create, the first time is kept
    expect(await json(again)).toMatchObject({ created: false, suppressedAt: first.suppressedAt });

    await evictDurableObject(stubOf(ns));
    const page = await json<SuppressionPage>(await admin("GET", ns, "suppressions"));
    expect(page.total).toBe(2);
    expect(page.cursor).toBeNull();
    expect(page.suppressions.map((s) => s.item)).toEqual([odd, SPAM]);
    expect(page.suppressions[0]!.suppressedAt).toBe(first.suppressedAt);
    await refresh(ns); // recomputed by the restarted object: still hidden
    expect((await trending(ns, { window: "1h" })).items.map((i) => i.item)).not.toContain(SPAM);
  });

  it("is erased with the namespace", async () => {
    const { ns, counted } = await moderatedNamespace("list");
    await suppress(ns, SPAM);
    expect((await admin("DELETE", ns, "")).status).toBe(200);
    await ingestAll(ns, counted as EventInput[]);
    await refresh(ns);
    expect((await json<SuppressionPage>(await admin("GET", ns, "suppressions"))).total).toBe(0);
    expect((await trending(ns, { window: "1h" })).items[0]!.item).toBe(SPAM);
  });

  it("answers 404 namespace_not_found for a namespace that never received an event", async () => {
    const ns = freshNamespace("list");
    await expectError(await suppress(ns, SPAM), 404, "namespace_not_found");
    await expectError(await unsuppress(ns, SPAM), 404, "namespace_not_found");
    await expectError(await admin("GET", ns, "suppressions"), 404, "namespace_not_found");
  });

  it("refuses an item that is empty, longer than 256 bytes or not UTF-8 with 400 invalid_item", async () => {
    const { ns } = await moderatedNamespace("list");
    for (const path of ["suppressions/", `suppressions/${"é".repeat(129)}`, "suppressions/%E0%A4%A", "suppressions/%FF"]) {
      for (const method of ["PUT", "DELETE"]) {
        const error = await expectError(await admin(method, ns, path), 400, "invalid_item");
        expect(error.field).toBe("item");
      }
    }
    expect((await suppress(ns, "é".repeat(128))).status).toBe(201); // 256 bytes: allowed
  });

  it("pages through its items with a cursor, in ascending order", async () => {
    const { ns } = await moderatedNamespace("list");
    const items = ["c", "a", "e", "b", "d"];
    for (const item of items) expect((await suppress(ns, item)).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `suppressions?limit=2${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page: SuppressionPage = await json<SuppressionPage>(await admin("GET", ns, query));
      expect(page.total).toBe(items.length);
      expect(page.suppressions.length).toBeLessThanOrEqual(2);
      seen.push(...page.suppressions.map((s) => s.item));
      cursor = page.cursor;
    } while (cursor !== null);
    expect(seen).toEqual([...items].sort());
    await expectError(await admin("GET", ns, "suppressions?limit=0"), 400, "invalid_limit");
    await expectError(await admin("GET", ns, "suppressions?limit=1001"), 400, "invalid_limit");
  });
});

describe("the suppression limit", () => {
  it("holds 10,000 items; the next is refused with 409 too_many_suppressions, until one is shown again", async () => {
    const { ns } = await moderatedNamespace("limit");
    // 9,999 rows written straight into the object's table (10,000 calls would each recompute
    // every answer), then the object restarts and loads them as it would after a deploy.
    await runInDurableObject(stubOf(ns), (_, state) => {
      state.storage.transactionSync(() => {
        for (let i = 0; i < 9_999; i++) {
          state.storage.sql.exec("INSERT INTO suppressions (item, suppressed_at) VALUES (?, ?)", `bulk-${i}`, Date.now());
        }
      });
    });
    await evictDurableObject(stubOf(ns));

    expect((await suppress(ns, SPAM)).status).toBe(201); // the 10,000th
    const refused = await expectError(await suppress(ns, "one-too-many"), 409, "too_many_suppressions");
    expect(refused.limit).toBe(10_000);
    expect((await suppress(ns, "bulk-5")).status).toBe(200); // already suppressed: not a new one
    expect((await json<SuppressionPage>(await admin("GET", ns, "suppressions?limit=1"))).total).toBe(10_000);

    expect((await unsuppress(ns, "bulk-5")).status).toBe(200);
    expect((await suppress(ns, "one-too-many")).status).toBe(201);
    expect((await trending(ns, { window: "1h" })).items.map((i) => i.item)).not.toContain(SPAM);
  });
});

describe("an item that is not URL-encoded", () => {
  it("names no route when it holds a slash: 404 not_found, nothing suppressed", async () => {
    const { ns } = await moderatedNamespace("route");
    const res = await SELF.fetch(`${BASE}/v1/namespaces/${ns}/suppressions/a/b`, { method: "PUT", headers: bearer(TOKENS.admin) });
    await expectError(res, 404, "not_found");
    expect((await json<SuppressionPage>(await admin("GET", ns, "suppressions"))).total).toBe(0);
  });
});
