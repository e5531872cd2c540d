/**
 * Memory of one namespace's aggregator: the budget it holds, and the sizes the accounting adds up.
 *
 * An object's isolate is reset above 128 MB, and local workerd does not enforce it (Durable Objects
 * limits), so the core counts what it holds instead of trusting local runs. The figures
 * are V8's layout on 64-bit Node without pointer compression (workerd compresses pointers, so it
 * holds less): the bench (`npm run bench:core`) checks them against measured heap.
 */

/** What one namespace's aggregator may hold (docs/api.md, "Resource limits"): half an isolate. */
export const MEMORY_BUDGET_BYTES = 64 * 2 ** 20;

/**
 * What the namespace's object may hold of precomputed answers (their JSON strings): the planned
 * ones first, then those read outside the plan, while the namespace's budget has room for them
 * beside its buckets, and ANSWER_RESERVE_BYTES always. An answer that does not fit is still
 * mirrored to KV, and computed at the object if a read reaches it there.
 */
export const SNAPSHOT_BUDGET_BYTES = 8 * 2 ** 20;

/** The answers' room that the config check keeps free whatever the buckets hold (budget.ts). */
export const ANSWER_RESERVE_BYTES = 2 * 2 ** 20;

/** A held string in a Map: its entry (key slot, value slot, hash) besides the string itself. */
export const MAP_ENTRY_BYTES = 40;

/** A JS object with a handful of fields (header, hidden class pointer, in-object properties). */
export const OBJECT_BYTES = 64;
/** A typed array view and its ArrayBuffer, besides the bytes they hold. */
export const TYPED_ARRAY_BYTES = 160;
/** A small Map (header and its initial hash table). */
export const SMALL_MAP_BYTES = 120;

/** Bytes of a typed array including its fixed overhead. */
export function typedArrayBytes(array: ArrayBufferView | null): number {
  return array === null ? 0 : TYPED_ARRAY_BYTES + array.byteLength;
}

/**
 * A V8 sequential string: 16 bytes of header, then one byte per character while every character
 * is Latin-1, else two; rounded up to 8. Items are checked at the door to at most 256 UTF-8 bytes.
 */
export function stringBytes(s: string): number {
  let wide = false;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      wide = true;
      break;
    }
  }
  return (16 + (wide ? 2 : 1) * s.length + 7) & ~7;
}
