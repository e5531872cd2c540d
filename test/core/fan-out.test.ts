/**
 * Calls from one object to many go at most 6 at a time (Workers' limit on a request's
 * simultaneous open connections), every item is called once, and results keep the items' order.
 */
import { describe, expect, it } from "vitest";
import { MAX_OPEN_CONNECTIONS, fanOut } from "../../durable-objects/fan-out";

/** A call that stays open until the test lets it finish, recording how many are open at once. */
function gate() {
  let open = 0;
  let most = 0;
  const waiting: (() => void)[] = [];
  const call = async (item: number) => {
    open += 1;
    most = Math.max(most, open);
    await new Promise<void>((resolve) => waiting.push(resolve));
    open -= 1;
    return item * 10;
  };
  const releaseAll = async () => {
    // Each released call lets its lane start the next item: release until none is left waiting.
    while (waiting.length > 0) {
      waiting.splice(0).forEach((resolve) => resolve());
      await Promise.resolve();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  return { call, releaseAll, most: () => most, open: () => open };
}

describe("fanOut", () => {
  it("keeps at most 6 calls open for 16 shards, calls each once, and answers in order", async () => {
    expect(MAX_OPEN_CONNECTIONS).toBe(6);
    const g = gate();
    const items = Array.from({ length: 16 }, (_, i) => i);
    const results = fanOut(items, g.call);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(g.open()).toBe(6); // the first six are open, the rest wait for a lane
    await g.releaseAll();
    expect(await results).toEqual(items.map((i) => i * 10));
    expect(g.most()).toBe(6);
  });

  it("opens only as many calls as there are items", async () => {
    const g = gate();
    const results = fanOut([1, 2], g.call);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(g.open()).toBe(2);
    await g.releaseAll();
    expect(await results).toEqual([10, 20]);
  });

  it("answers an empty list at once", async () => {
    expect(await fanOut([], async () => 1)).toEqual([]);
  });
});
