/**
 * Isolate answers: the answers this isolate served recently, in its memory, asked before the edge
 * (`caches.default`). An isolate serves many requests, so a hot answer is found here without the
 * I/O of a cache lookup. Keys are the edge's keys (namespace, generation, snapshot, limit) and
 * freshness is judged exactly as for the edge, so invalidation and staleness behave the same.
 * Bounded in entries and bytes; the least recently used entry goes first (a Map keeps insertion
 * order).
 */
import type { SerialisedAnswer } from "../shared/contract";

/** Entries kept per isolate by default. */
export const ISOLATE_ANSWERS_MAX_ENTRIES = 512;
/** Bytes of bodies kept per isolate by default. An isolate has 128 MB in all (Workers memory
 * limit). */
export const ISOLATE_ANSWERS_MAX_BYTES = 16 * 1024 * 1024;

/** An answer as the isolate keeps it in memory: its body already encoded as the UTF-8 bytes served
 * (a hit then copies bytes rather than encoding text), its computedAt, and the ETag it is served
 * with, made once rather than on every hit. */
export interface IsolateEntry {
  bytes: Uint8Array;
  computedAt: SerialisedAnswer["computedAt"];
  etag: string;
}

const bytesOf = (entry: IsolateEntry) => entry.bytes.byteLength;

/** One isolate's memory of answers; index.ts makes one per isolate, a test its own. */
export class IsolateAnswers {
  private readonly entries = new Map<string, IsolateEntry>();
  private bytes = 0;

  constructor(
    readonly maxEntries = ISOLATE_ANSWERS_MAX_ENTRIES,
    readonly maxBytes = ISOLATE_ANSWERS_MAX_BYTES,
  ) {}

  /** The answer kept under `key`, which becomes the most recently used. */
  recall(key: string): IsolateEntry | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key); // most recently used moves to the end
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Keeps `answer` under `key`, dropping the least recently used beyond either bound. */
  keep(key: string, answer: IsolateEntry): void {
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
