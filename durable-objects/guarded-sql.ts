/**
 * Every SQL statement of a namespace's object passes here (migrations aside, which bind no
 * user data), so that no row is ever written above the platform's limit. Durable Objects'
 * SQLite refuses a row, string or BLOB over 2 MB; local workerd accepts about 8 MB, so without
 * this guard "it passed locally" would prove nothing about production.
 */

/** The largest row this code writes: the platform's 2 MB limit, counted as 2,000,000 bytes. */
export const MAX_ROW_BYTES = 2_000_000;

/** A write that production would refuse with SQLITE_TOOBIG: a bug of the caller, never retried. */
export class RowTooLargeError extends Error {
  constructor(readonly bytes: number) {
    super(`a row of ${bytes} bytes exceeds the platform's limit of ${MAX_ROW_BYTES} bytes per row`);
    this.name = "RowTooLargeError";
  }
}

const encoder = new TextEncoder();
/** Where `utf8Bytes` encodes strings of up to SCRATCH_UNITS code units: reused, never read. */
const SCRATCH_UNITS = 100_000;
const scratch = new Uint8Array(3 * SCRATCH_UNITS);
const NOT_ASCII = /[^\x00-\x7f]/;

/**
 * UTF-8 length of a string. Every log row and checkpoint part is measured before it is written,
 * so this is on the ingest path: the runtime's own encoder measures a batch's text (up to
 * SCRATCH_UNITS, into a buffer that holds the worst case) about twenty times faster than a loop
 * over its code units, and a longer text is counted without encoding it.
 */
export function utf8Bytes(s: string): number {
  if (s.length <= SCRATCH_UNITS) return encoder.encodeInto(s, scratch).written;
  if (!NOT_ASCII.test(s)) return s.length;
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 units, 4 bytes
      i += 1;
    } else bytes += 2; // 3 bytes, a lone surrogate too (stored as U+FFFD)
  }
  return bytes;
}

function valueBytes(value: SqlStorageValue): number {
  if (typeof value === "string") return utf8Bytes(value);
  if (value instanceof ArrayBuffer) return value.byteLength;
  return 8;
}

export class GuardedSql {
  /** The largest row (sum of the values of one statement) written since the object started. */
  largestRowBytes = 0;

  constructor(private readonly storage: DurableObjectStorage) {}

  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: SqlStorageValue[]): SqlStorageCursor<T> {
    let row = 0;
    for (const value of bindings) row += valueBytes(value);
    if (row > MAX_ROW_BYTES) throw new RowTooLargeError(row);
    if (row > this.largestRowBytes) this.largestRowBytes = row;
    return this.storage.sql.exec<T>(query, ...bindings);
  }

  /** Runs `body` as one transaction: all of its writes commit, or none (a throw rolls back). */
  transaction<T>(body: () => T): T {
    return this.storage.transactionSync(body);
  }
}
