/**
 * The export document's codec and validation, without the object: typed values survive the
 * text, and a document made from real buckets reads back as the same buckets.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, HOUR, type TallyEvent } from "../../src/shared/contract";
import { Aggregator } from "../../src/core/aggregator";
import { EXPORT_FORMAT, EXPORT_VERSION, decodeExport, encodeExport, parseExport, type NamespaceExport } from "../../src/core/export";

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

function documentOf(events: TallyEvent[], pending: TallyEvent[] = []): NamespaceExport {
  const aggregator = new Aggregator({ capacity: 10, types: ["view"] });
  aggregator.ingest(events, NOW);
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    namespace: "source",
    exportedAt: new Date(NOW),
    config: { ...DEFAULT_CONFIG, capacity: 10 },
    buckets: aggregator.checkpoint().changed,
    pending,
    suppressions: [{ item: "spam", suppressedAt: new Date(NOW - 1000) }],
  };
}

describe("the export codec", () => {
  it("brings dates and typed arrays back as what they were", () => {
    const value = {
      at: new Date(NOW),
      registers: Uint8Array.from([0, 3, 255]),
      counts: Float64Array.from([1.5, 2e9]),
      slots: Int32Array.from([-1, 7]),
    };
    const back = decodeExport(encodeExport(value as unknown as NamespaceExport)) as typeof value;
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.getTime()).toBe(NOW);
    expect(back.registers).toBeInstanceOf(Uint8Array);
    expect([...back.registers]).toEqual([0, 3, 255]);
    expect(back.counts).toBeInstanceOf(Float64Array);
    expect([...back.counts]).toEqual([1.5, 2e9]);
    expect(back.slots).toBeInstanceOf(Int32Array);
    expect([...back.slots]).toEqual([-1, 7]);
  });
});

describe("parseExport", () => {
  it("reads a document of real buckets back as the same buckets, config and pending events", () => {
    const events: TallyEvent[] = Array.from({ length: 300 }, (_, i) => ({
      item: `item-${i % 37}`,
      type: i % 2 ? "view" : "like",
      weight: 1 + (i % 3),
      actor: `u${i % 11}`,
      ts: NOW - (i % 48) * HOUR - 1,
    }));
    const pending: TallyEvent[] = [{ item: "later", type: "view", weight: 1, ts: NOW + 60_000 }];
    const document = documentOf(events, pending);
    expect(document.buckets.some((b) => b.state.summary.lossy)).toBe(true); // beyond capacity too
    const parsed = parseExport(encodeExport(document));
    expect(parsed.buckets).toEqual(document.buckets);
    expect(parsed.config).toEqual(document.config);
    expect(parsed.pending).toEqual(pending);
  });

  it("refuses a bucket whose start is not a boundary of its tier", () => {
    const document = documentOf([{ item: "a", type: "view", weight: 1, ts: NOW - 1 }]);
    document.buckets[0]!.state.start += 1;
    expect(() => parseExport(encodeExport(document))).toThrow(expect.objectContaining({ code: "invalid_export", details: { field: "buckets[0].state.start" } }));
  });

  it("refuses a HyperLogLog with a bad register set", () => {
    const document = documentOf([{ item: "a", type: "view", weight: 1, ts: NOW - 1 }]);
    document.buckets[0]!.state.items = { v: 1, p: 14, dense: "AAAA" };
    expect(() => parseExport(encodeExport(document))).toThrow(expect.objectContaining({ code: "invalid_export", details: { field: "buckets[0]" } }));
  });
});
