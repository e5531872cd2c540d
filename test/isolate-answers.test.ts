/** Isolate answers stay bounded and forget the least recently used first. */
import { describe, expect, it } from "vitest";
import { ISOLATE_ANSWERS_MAX_BYTES, ISOLATE_ANSWERS_MAX_ENTRIES, IsolateAnswers } from "../src/worker/isolate-answers";

/** An isolate entry of `body`, computed at `computedAt`. */
const entry = (body: string, computedAt: number) => ({ bytes: new TextEncoder().encode(body), computedAt, etag: `"e${computedAt}"` });

describe("isolate answers", () => {
  it("keep at most 512 entries, dropping the least recently used", () => {
    const answers = new IsolateAnswers();
    expect(ISOLATE_ANSWERS_MAX_ENTRIES).toBe(512);
    const total = 600;
    const evicted = total - 512;
    for (let i = 0; i < total; i++) answers.keep(`k${i}`, entry(`b${i}`, i));
    expect(answers.size.entries).toBe(512);
    expect(answers.recall("k0")).toBeUndefined();
    expect(answers.recall(`k${evicted - 1}`)).toBeUndefined();
    expect(answers.recall(`k${evicted}`)).toEqual(entry(`b${evicted}`, evicted)); // now most recently used
    answers.keep("k600", entry("b600", 600));
    expect(answers.recall(`k${evicted}`)).toBeDefined();
    expect(answers.recall(`k${evicted + 1}`)).toBeUndefined();
  });

  it("keep at most 16 MB of bodies", () => {
    const answers = new IsolateAnswers();
    expect(ISOLATE_ANSWERS_MAX_BYTES).toBe(16 * 1024 * 1024);
    const body = "x".repeat(2 * 1024 * 1024); // 2 MB of UTF-8
    for (let i = 0; i < 10; i++) answers.keep(`big${i}`, entry(body, i));
    expect(answers.size.bytes).toBe(8 * 2 * 1024 * 1024);
    expect(answers.recall("big0")).toBeUndefined();
    expect(answers.recall("big1")).toBeUndefined();
    expect(answers.recall("big2")).toBeDefined();
    expect(answers.recall("big9")).toBeDefined();
  });

  it("drop an entry on request, and replace an entry kept again", () => {
    const answers = new IsolateAnswers();
    answers.keep("a", entry("1", 1));
    answers.keep("a", entry("22", 2));
    expect(answers.recall("a")).toEqual(entry("22", 2));
    expect(answers.size).toEqual({ entries: 1, bytes: 2 });
    answers.drop("a");
    expect(answers.recall("a")).toBeUndefined();
    expect(answers.size).toEqual({ entries: 0, bytes: 0 });
  });

  it("are one isolate's: two memories share nothing", () => {
    const one = new IsolateAnswers();
    const other = new IsolateAnswers();
    one.keep("k", entry("b", 1));
    expect(other.recall("k")).toBeUndefined();
  });
});
