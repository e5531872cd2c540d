/**
 * HyperLogLog distinct counting over 53-bit hashes, exact while small.
 *
 * Small sets (most namespaces, most windows) keep their distinct hashes in a Set and report
 * the exact size; past {@link SPARSE_LIMIT} they switch to 2^p one-byte registers. The dense
 * estimate uses Ertl's improved estimator ("New cardinality estimation algorithms for
 * HyperLogLog sketches", 2017) rather than raw HLL + linear counting: it is nearly unbiased over
 * the whole range, so there is no error bump where classic HLL switches estimators (~2.5m).
 */
import { ExactHashes } from "./exact-hashes";
import { hash53 } from "./hash";
import { OBJECT_BYTES, typedArrayBytes } from "./memory";

/** The serial version of {@link HyperLogLogState}. The sparse form stores raw {@link hash53}
 * values, so a change of the hash function is a change of format too (a test pins hash53). */
export const HYPERLOGLOG_FORMAT = 1;

/** Serialised form: exactly one of `sparse` (the distinct hashes) or `dense` (base64 registers). */
export interface HyperLogLogState {
  v: typeof HYPERLOGLOG_FORMAT;
  p: number;
  sparse?: number[];
  dense?: string;
}

/**
 * Most distinct hashes kept exactly before switching to registers: 256 sorted doubles (2 KB,
 * ~4.5 KB as JSON) stay far below the 16 KB of p = 14 registers (~22 KB as base64). For small p the limit shrinks to 2^(p-4) so
 * the sparse form never dwarfs the dense one.
 */
export const SPARSE_LIMIT = 256;

const DEFAULT_P = 14;
const MIN_P = 4;
const MAX_P = 16;
const HASH_BITS = 53;
/** The limit of the improved estimator's constant alpha_m as m grows: 1 / (2 ln 2). */
const ALPHA_INF = 1 / (2 * Math.LN2);

/** A HyperLogLog sketch with 2^p registers (default p = 14: ~0.8% standard error, 16 KB). */
export class HyperLogLog {
  /** Precision: the sketch has 2^p registers. */
  readonly p: number;
  private readonly sparseLimit: number;
  /** Bits left after the register index; register values range over 0..q+1. */
  private readonly q: number;
  /** 2^-q: multiplying a hash by it exposes the index in its integer part (exact in doubles). */
  private readonly indexScale: number;
  private sparse: ExactHashes | null = new ExactHashes();
  private registers: Uint8Array | null = null;
  /** The dense estimate is O(2^p); cache it until a register grows. -1 = stale. */
  private cached = -1;

  /** @param p precision, an integer in 4..16 (default 14). */
  constructor(p: number = DEFAULT_P) {
    if (!Number.isInteger(p) || p < MIN_P || p > MAX_P) {
      throw new RangeError(`HyperLogLog p must be an integer in ${MIN_P}..${MAX_P}, got ${p}`);
    }
    this.p = p;
    this.q = HASH_BITS - p;
    this.indexScale = 2 ** -this.q;
    this.sparseLimit = Math.min(SPARSE_LIMIT, 2 ** (p - 4));
  }

  /** True while the sketch still holds the exact set of hashes (estimate() is exact). */
  get isExact(): boolean {
    return this.sparse !== null;
  }

  /** Adds a 53-bit hash (from {@link hash53}). */
  addHash(h: number): void {
    if (this.sparse !== null) {
      this.sparse.add(h);
      if (this.sparse.size > this.sparseLimit) this.densify();
      return;
    }
    this.observe(this.registers!, h);
  }

  /** Adds a value by hashing it with {@link hash53}. */
  add(value: string): void {
    this.addHash(hash53(value));
  }

  /** Folds `other` into this sketch: set union while both are sparse, else register-wise max. */
  merge(other: HyperLogLog): void {
    if (other.p !== this.p) {
      throw new RangeError(`cannot merge HyperLogLog p=${other.p} into p=${this.p}`);
    }
    if (other.sparse !== null) {
      // addHash handles both "still sparse" (union, densifying past the limit) and "dense".
      for (const h of other.sparse) this.addHash(h);
      return;
    }
    if (this.sparse !== null) this.densify();
    maxInto(this.registers!, other.registers!);
    this.cached = -1;
  }

  /** Estimated number of distinct values (exact while {@link isExact}); an integer. */
  estimate(): number {
    if (this.sparse !== null) return this.sparse.size;
    if (this.cached < 0) this.cached = improvedEstimate(this.registers!, this.q);
    return this.cached;
  }

  /** An independent copy. */
  clone(): HyperLogLog {
    const copy = new HyperLogLog(this.p);
    copy.sparse = this.sparse === null ? null : this.sparse.clone();
    copy.registers = this.registers === null ? null : this.registers.slice();
    copy.cached = this.cached;
    return copy;
  }

  /** Estimated bytes held: the sorted hashes while exact, else the registers. */
  bytes(): number {
    return OBJECT_BYTES + (this.sparse !== null ? this.sparse.bytes() : typedArrayBytes(this.registers));
  }

  /** Serialises the sketch; fromJSON(toJSON()) is indistinguishable from the original. */
  toJSON(): HyperLogLogState {
    if (this.sparse !== null) return { v: HYPERLOGLOG_FORMAT, p: this.p, sparse: this.sparse.toArray() };
    return { v: HYPERLOGLOG_FORMAT, p: this.p, dense: encodeBase64(this.registers!) };
  }

  /** Restores a sketch produced by {@link HyperLogLog.toJSON}. Throws RangeError on bad state. */
  static fromJSON(s: HyperLogLogState): HyperLogLog {
    if (s.v !== HYPERLOGLOG_FORMAT) {
      throw new RangeError(`HyperLogLog state has format ${String(s.v)}; this build reads format ${HYPERLOGLOG_FORMAT} only`);
    }
    const sketch = new HyperLogLog(s.p);
    if ((s.sparse === undefined) === (s.dense === undefined)) {
      throw new RangeError("HyperLogLog state needs exactly one of sparse or dense");
    }
    if (s.sparse !== undefined) {
      for (const h of s.sparse) {
        if (!(Number.isSafeInteger(h) && h >= 0)) throw new RangeError(`bad HyperLogLog hash: ${h}`);
        sketch.addHash(h);
      }
      return sketch;
    }
    const registers = decodeBase64(s.dense!);
    const maxRank = sketch.q + 1;
    if (registers?.length !== 2 ** s.p || registers.some((r) => r > maxRank)) {
      throw new RangeError("malformed HyperLogLog dense registers");
    }
    sketch.sparse = null;
    sketch.registers = registers;
    return sketch;
  }

  private densify(): void {
    const registers = new Uint8Array(2 ** this.p);
    for (const h of this.sparse!) this.observe(registers, h);
    this.registers = registers;
    this.sparse = null;
    this.cached = -1;
  }

  /** Index = top p bits of the hash; value = 1 + leading zeros of the remaining q bits. */
  private observe(registers: Uint8Array, h: number): void {
    const index = Math.floor(h * this.indexScale);
    const rest = h - index / this.indexScale; // the low q bits, exact
    // rest may exceed 32 bits (q >= 37), so count its leading zeros in two 32-bit halves.
    const high = Math.floor(rest / 4294967296);
    const rank = high !== 0 ? this.q - 63 + Math.clz32(high) : this.q - 31 + Math.clz32(rest);
    if (rank > registers[index]!) {
      registers[index] = rank;
      this.cached = -1;
    }
  }
}

/**
 * Ertl's improved raw estimator: alpha_inf * m^2 / (m*sigma(C0/m) + sum_k C_k 2^-k
 * + m*tau(1 - C_{q+1}/m) 2^-q), where C_k counts registers holding k.
 */
function improvedEstimate(registers: Uint8Array, q: number): number {
  const m = registers.length;
  const histogram = new Float64Array(q + 2);
  for (let i = 0; i < m; i++) histogram[registers[i]!]! += 1;
  let z = m * tau(1 - histogram[q + 1]! / m);
  for (let k = q; k >= 1; k--) z = 0.5 * (z + histogram[k]!);
  z += m * sigma(histogram[0]! / m);
  return Math.round((ALPHA_INF * m * m) / z);
}

/** sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1): the correction for empty registers. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z !== previous);
  return z;
}

/** tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3: the correction for saturated ones. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (z !== previous);
  return z / 3;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Char code -> 6-bit value, -1 for anything outside the alphabet. */
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

const HIGH_BITS = 0x80808080;

/**
 * Register-wise maximum of `theirs` into `mine`: what a stats answer does for every dense bucket of
 * its window, twice (items and actors). Four registers per step: every register is at most
 * 64 - p + 1 < 128, so the high bit of each byte is free to hold a comparison without a borrow
 * crossing into the next byte.
 */
function maxInto(mine: Uint8Array, theirs: Uint8Array): void {
  if (mine.byteOffset % 4 !== 0 || theirs.byteOffset % 4 !== 0 || mine.length % 4 !== 0) {
    for (let i = 0; i < mine.length; i++) if (theirs[i]! > mine[i]!) mine[i] = theirs[i]!;
    return;
  }
  const a = new Uint32Array(mine.buffer, mine.byteOffset, mine.length >> 2);
  const b = new Uint32Array(theirs.buffer, theirs.byteOffset, theirs.length >> 2);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    // The high bit of each byte of `ge` is set where x's byte >= y's byte.
    const ge = ((x | HIGH_BITS) - y) & HIGH_BITS;
    const fromX = (ge >>> 7) * 0xff;
    a[i] = (x & fromX) | (y & ~fromX);
  }
}

/** The alphabet as character codes, and the decoder that turns them into a string. */
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const PAD = 61; // "="
const ascii = new TextDecoder();

/**
 * Standard padded base64 (RFC 4648), hand-rolled to avoid btoa's binary-string detour. The
 * characters are written as bytes and decoded into a string once: every checkpoint encodes each
 * changed bucket's dense registers (16 KB at p = 14), and building it from one-character strings
 * cost six times as much.
 */
function encodeBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  const whole = bytes.length - (bytes.length % 3);
  let o = 0;
  let i = 0;
  for (; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = CODES[n >>> 18]!;
    out[o++] = CODES[(n >>> 12) & 63]!;
    out[o++] = CODES[(n >>> 6) & 63]!;
    out[o++] = CODES[n & 63]!;
  }
  if (i < bytes.length) {
    const two = bytes.length - i === 2;
    const n = (bytes[i]! << 16) | (two ? bytes[i + 1]! << 8 : 0);
    out[o++] = CODES[n >>> 18]!;
    out[o++] = CODES[(n >>> 12) & 63]!;
    out[o++] = two ? CODES[(n >>> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return ascii.decode(out);
}

/** Decodes padded base64; null if malformed. */
function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const at = i + j;
      const v = at >= text.length - padding ? 0 : (DECODE[text.charCodeAt(at)] ?? -1);
      if (v < 0) return null;
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
