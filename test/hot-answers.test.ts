/** The in-isolate tier of the edge stays bounded and forgets the least recently used first. */
import { describe, expect, it } from "vitest";
import { forget, keep, recall } from "../src/worker/hot-answers";

describe("hot answers", () => {
  it("keep at most 512 entries, dropping the least recently used", () => {
    const total = 600;
    const evicted = total - 512;
    for (let i = 0; i < total; i++) keep(`k${i}`, { body: `b${i}`, computedAt: i });
    expect(recall("k0")).toBeUndefined();
    expect(recall(`k${evicted - 1}`)).toBeUndefined();
    expect(recall(`k${evicted}`)).toEqual({ body: `b${evicted}`, computedAt: evicted }); // now most recently used
    keep("k600", { body: "b600", computedAt: 600 });
    expect(recall(`k${evicted}`)).toBeDefined();
    expect(recall(`k${evicted + 1}`)).toBeUndefined();
  });

  it("keep at most 16 MB of bodies", () => {
    const body = "x".repeat(1024 * 1024); // 2 MB in memory
    for (let i = 0; i < 10; i++) keep(`big${i}`, { body, computedAt: i });
    expect(recall("big0")).toBeUndefined();
    expect(recall("big1")).toBeUndefined();
    expect(recall("big2")).toBeDefined();
    expect(recall("big9")).toBeDefined();
  });

  it("forget an entry on request, and replace an entry kept again", () => {
    keep("a", { body: "1", computedAt: 1 });
    keep("a", { body: "2", computedAt: 2 });
    expect(recall("a")).toEqual({ body: "2", computedAt: 2 });
    forget("a");
    expect(recall("a")).toBeUndefined();
  });
});
