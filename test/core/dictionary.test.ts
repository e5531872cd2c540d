import { describe, expect, it } from "vitest";
import { ItemDictionary } from "../../src/core/dictionary";
import { stringBytes } from "../../src/core/memory";

describe("ItemDictionary", () => {
  it("gives an item one id for as long as something holds it", () => {
    const dict = new ItemDictionary();
    const a = dict.intern("a");
    const b = dict.intern("b");
    expect(a).not.toBe(b);
    expect(dict.intern("a")).toBe(a);
    expect(dict.name(a)).toBe("a");
    expect(dict.name(b)).toBe("b");
    expect(dict.size).toBe(2);
  });

  it("forgets an item when its last reference is released, and reuses the id", () => {
    const dict = new ItemDictionary();
    const a = dict.intern("a");
    dict.retain(a);
    dict.retain(a);
    expect(dict.references(a)).toBe(2);
    dict.release(a);
    expect(dict.lookup("a")).toBe(a);
    dict.release(a);
    expect(dict.lookup("a")).toBeUndefined();
    expect(dict.size).toBe(0);
    // The freed id is reused, so ids stay dense (sealed summaries store them in 16 bits).
    expect(dict.intern("c")).toBe(a);
    expect(dict.idLimit).toBe(1);
  });

  it("forgets an interned item nobody took, but not one that is held", () => {
    const dict = new ItemDictionary();
    const held = dict.intern("held");
    dict.retain(held);
    const loose = dict.intern("loose");
    dict.releaseIfUnused(held);
    dict.releaseIfUnused(loose);
    expect(dict.lookup("held")).toBe(held);
    expect(dict.lookup("loose")).toBeUndefined();
  });

  it("refuses a release nobody retained instead of freeing an id still shown", () => {
    const dict = new ItemDictionary();
    const a = dict.intern("a");
    expect(() => dict.release(a)).toThrow(RangeError);
  });

  it("counts each item's string once, and gives the bytes back when it is forgotten", () => {
    const dict = new ItemDictionary();
    const empty = dict.bytes();
    const long = "x".repeat(256);
    const id = dict.intern(long);
    dict.retain(id);
    const held = dict.bytes();
    expect(held - empty).toBeGreaterThanOrEqual(stringBytes(long));
    dict.release(id);
    // Only the id slot (and its free-list entry) remains.
    expect(dict.bytes() - empty).toBeLessThan(32);
  });

  it("grows past its initial id slots", () => {
    const dict = new ItemDictionary();
    const ids = Array.from({ length: 1000 }, (_, i) => dict.intern(`item-${i}`));
    for (const id of ids) dict.retain(id);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every((id, i) => dict.name(id) === `item-${i}` && dict.references(id) === 1)).toBe(true);
  });

  it("finds every held item and none forgotten through heavy churn (its table grows, shrinks and deletes)", () => {
    const dict = new ItemDictionary();
    const held = new Map<string, number>();
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let step = 0; step < 20_000; step++) {
      const name = `item-${next() % 3000}`;
      if (held.has(name) && next() % 2 === 0) {
        dict.release(held.get(name)!);
        held.delete(name);
      } else if (!held.has(name)) {
        const id = dict.intern(name);
        dict.retain(id);
        held.set(name, id);
      }
      if (step % 997 === 0) {
        for (const [n, id] of held) expect(dict.lookup(n)).toBe(id);
        expect(dict.size).toBe(held.size);
      }
    }
    for (let i = 0; i < 3000; i++) expect(dict.lookup(`item-${i}`)).toBe(held.get(`item-${i}`));
    for (const id of held.values()) dict.release(id);
    expect(dict.size).toBe(0);
    expect(dict.lookup("item-1")).toBeUndefined();
  });
});

describe("stringBytes", () => {
  it("counts one byte per Latin-1 character and two otherwise, after a 16-byte header, in 8-byte steps", () => {
    expect(stringBytes("")).toBe(16);
    expect(stringBytes("abcdefgh")).toBe(24);
    expect(stringBytes("abcdefghi")).toBe(32);
    expect(stringBytes("é".repeat(8))).toBe(24);
    expect(stringBytes("€".repeat(8))).toBe(32);
  });
});
