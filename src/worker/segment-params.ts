/**
 * (v1.7) The parameters of segment reads, checked at the door against the namespace's descriptor
 * (docs/api.md, "Segments"): no object is asked for a dimension it does not declare.
 */
import { MAX_VALUE_BYTES, SEGMENT_RANKS, type NamespaceDescriptor, type Rank, type Segment } from "../shared/contract";
import { invalid } from "../shared/errors";
import { offsetOf } from "../shared/answer-cut";

const encoder = new TextEncoder();

function declaredOf(d: NamespaceDescriptor): string[] {
  return Object.keys(d.dimensions ?? {});
}

/** A declared dimension's name (a path segment or a segment's first part), else `400 invalid_dimension`. */
export function dimensionOf(name: string, d: NamespaceDescriptor): string {
  const declared = declaredOf(d);
  if (!declared.includes(name)) {
    throw invalid("invalid_dimension", `dimension must be one of the declared dimensions: ${declared.join(", ") || "(none)"}.`, {
      field: "dimension",
      allowed: declared,
    });
  }
  return name;
}

/**
 * `segment=<dimension>:<value>` (URL-decoded already): a declared dimension, then a value of 1 to
 * 128 bytes of UTF-8. A dimension name holds no ":" (config.ts), so the first ":" ends it. A segment
 * read counts all types, with the ranks a segment takes: `type` and `rank=reach` are refused with it.
 */
export function segmentOf(raw: string | undefined, d: NamespaceDescriptor, asked: { type?: string | null; rank?: Rank }): { segment?: Segment } {
  if (raw === undefined || raw === "") return {};
  const colon = raw.indexOf(":");
  const value = colon < 0 ? "" : raw.slice(colon + 1);
  if (colon < 0 || value.length === 0 || encoder.encode(value).length > MAX_VALUE_BYTES || value.includes("\u0000")) {
    throw invalid("invalid_segment", `segment must be <dimension>:<value>, the value 1 to ${MAX_VALUE_BYTES} bytes of UTF-8, URL-encoded.`, {
      field: "segment",
    });
  }
  const dimension = dimensionOf(raw.slice(0, colon), d);
  if (asked.type !== undefined && asked.type !== null) {
    throw invalid("invalid_segment", "A segment read counts every type: send segment or type, not both.", { field: "segment" });
  }
  if (asked.rank !== undefined && !SEGMENT_RANKS.includes(asked.rank)) {
    throw invalid("invalid_segment", `A segment read ranks by ${SEGMENT_RANKS.join(", ")}; rank=${asked.rank} counts actors, which segments do not keep.`, {
      field: "rank",
      allowed: SEGMENT_RANKS,
    });
  }
  return { segment: { dimension, value } };
}

/** A breakdown's `cursor`: absent, the first page; else the offset Tally gave (`400 invalid_cursor`). */
export function offsetOfCursor(raw: string | undefined, d: NamespaceDescriptor): number {
  if (raw === undefined || raw === "") return 0;
  const offset = offsetOf(raw);
  if (offset === undefined || offset >= d.maxLimit) {
    throw invalid("invalid_cursor", "cursor must be one a previous page of this breakdown gave.", { field: "cursor" });
  }
  return offset;
}
