/**
 * The first tier of the edge layer: answers this isolate served recently, in memory. An isolate
 * serves many requests, so a hot answer is found here without the I/O of a `caches.default` lookup.
 * Keys are the edge keys (namespace, generation, snapshot, limit) and freshness is judged exactly
 * as for `caches.default`, so invalidation and staleness behave the same. Bounded in entries and
 * bytes; the least recently used entry goes first (a Map keeps insertion order).
 */
import type { SerialisedAnswer } from "../shared/contract";

/** Entries kept per isolate by default. */
export const HOT_ANSWERS_MAX_ENTRIES = 512;
/** Bytes of bodies kept per isolate by default. An isolate has 128 MB in all (Workers memory
 * limit). */
export const HOT_ANSWERS_MAX_BYTES = 16 * 1024 * 1024;

/** An answer as the edge keeps it in memory: its body already encoded as the UTF-8 bytes served
 * (a hit then copies bytes rather than encoding text), its computedAt, and the ETag it is served
 * with, made once rather than on every hit. */
export interface EdgeEntry {
  bytes: Uint8Array;
  computedAt: SerialisedAnswer["computedAt"];
  etag: string;
}

const bytesOf = (entry: EdgeEntry) => entry.bytes.byteLength;

/** One isolate's memory of hot answers; index.ts makes one per isolate, a test its own. */
export class HotAnswers {
  private readonly entries = new Map<string, EdgeEntry>();
  private bytes = 0;

  constructor(
    readonly maxEntries = HOT_ANSWERS_MAX_ENTRIES,
    readonly maxBytes = HOT_ANSWERS_MAX_BYTES,
  ) {}

  /** The answer kept under `key`, which becomes the most recently used. */
  recall(key: string): EdgeEntry | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key); // most recently used moves to the end
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Keeps `answer` under `key`, dropping the least recently used beyond either bound. */
  keep(key: string, answer: EdgeEntry): void {
    this.drop(key);
    this.entries.set(key, answer);
    this.bytes += bytesOf(answer);
    for (const [oldest, old] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= bytesOf(old);
    }
  }

  /** Drops the answer kept under `key`, if any. */
  drop(key: string): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= bytesOf(old);
    }
  }

  /** Entries and bytes held: what the bounds limit. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
