/** The in-isolate tier of the edge stays bounded and forgets the least recently used first. */
import { describe, expect, it } from "vitest";
import { HOT_ANSWERS_MAX_BYTES, HOT_ANSWERS_MAX_ENTRIES, HotAnswers } from "../src/worker/hot-answers";

/** An edge entry of `body`, computed at `computedAt`. */
const entry = (body: string, computedAt: number) => ({ bytes: new TextEncoder().encode(body), computedAt, etag: `"e${computedAt}"` });

describe("hot answers", () => {
  it("keep at most 512 entries, dropping the least recently used", () => {
    const hot = new HotAnswers();
    expect(HOT_ANSWERS_MAX_ENTRIES).toBe(512);
    const total = 600;
    const evicted = total - 512;
    for (let i = 0; i < total; i++) hot.keep(`k${i}`, entry(`b${i}`, i));
    expect(hot.size.entries).toBe(512);
    expect(hot.recall("k0")).toBeUndefined();
    expect(hot.recall(`k${evicted - 1}`)).toBeUndefined();
    expect(hot.recall(`k${evicted}`)).toEqual(entry(`b${evicted}`, evicted)); // now most recently used
    hot.keep("k600", entry("b600", 600));
    expect(hot.recall(`k${evicted}`)).toBeDefined();
    expect(hot.recall(`k${evicted + 1}`)).toBeUndefined();
  });

  it("keep at most 16 MB of bodies", () => {
    const hot = new HotAnswers();
    expect(HOT_ANSWERS_MAX_BYTES).toBe(16 * 1024 * 1024);
    const body = "x".repeat(2 * 1024 * 1024); // 2 MB of UTF-8
    for (let i = 0; i < 10; i++) hot.keep(`big${i}`, entry(body, i));
    expect(hot.size.bytes).toBe(8 * 2 * 1024 * 1024);
    expect(hot.recall("big0")).toBeUndefined();
    expect(hot.recall("big1")).toBeUndefined();
    expect(hot.recall("big2")).toBeDefined();
    expect(hot.recall("big9")).toBeDefined();
  });

  it("drop an entry on request, and replace an entry kept again", () => {
    const hot = new HotAnswers();
    hot.keep("a", entry("1", 1));
    hot.keep("a", entry("22", 2));
    expect(hot.recall("a")).toEqual(entry("22", 2));
    expect(hot.size).toEqual({ entries: 1, bytes: 2 });
    hot.drop("a");
    expect(hot.recall("a")).toBeUndefined();
    expect(hot.size).toEqual({ entries: 0, bytes: 0 });
  });

  it("are one isolate's: two memories share nothing", () => {
    const one = new HotAnswers();
    const other = new HotAnswers();
    one.keep("k", entry("b", 1));
    expect(other.recall("k")).toBeUndefined();
  });
});
