/**
 * A fast, non-cryptographic 53-bit string hash.
 *
 * Why 53 bits: it is the widest integer a JS number holds exactly, so the hash can key a
 * Map/Set and travel through JSON without BigInt, and HyperLogLog gets enough bits that
 * no large-range correction is needed.
 *
 * Design: two independent 32-bit lanes, each absorbing one UTF-16 code unit per step with
 * `imul(lane ^ c, odd)`. Each step is a bijection of the lane state for a fixed input, so two
 * strings of equal length that differ in a single code unit always end in different states
 * in both lanes. The per-step mix only pushes entropy upwards (multiplication carries low bits
 * into high bits), so the finaliser folds high bits back down (xorshift-multiply rounds) and
 * then cross-mixes the lanes with invertible steps so every output bit depends on every input.
 */

/** Distinct lane seeds; the length is folded in so "a" and "a\0" start apart. */
const SEED_LO = 0x3c6ef372;
const SEED_HI = 0xa54ff53a;
/** Odd multipliers (golden-ratio and murmur-family constants): invertible modulo 2^32. */
const STEP_LO = 0x9e3779b1;
const STEP_HI = 0x85ebca77;
/** Well-tested xorshift-multiply avalanche constants (low-bias 32-bit finaliser family). */
const MIX_1 = 0x7feb352d;
const MIX_2 = 0x846ca68b;
const MIX_3 = 0x21f0aaad;
const MIX_4 = 0x735a2d97;

const TWO_POW_32 = 4294967296;
const HI21_MASK = 0x1fffff;

/**
 * Hashes a string to an integer in [0, 2^53).
 *
 * Deterministic across runtimes (pure 32-bit integer arithmetic), so hashes may be persisted.
 */
export function hash53(s: string): number {
  const n = s.length;
  let lo = SEED_LO ^ n;
  let hi = SEED_HI ^ Math.imul(n, STEP_LO);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    lo = Math.imul(lo ^ c, STEP_LO);
    hi = Math.imul(hi ^ c, STEP_HI);
  }
  // Avalanche each lane: fold the well-mixed high bits into the weak low bits.
  lo ^= lo >>> 16;
  lo = Math.imul(lo, MIX_1);
  lo ^= lo >>> 15;
  lo = Math.imul(lo, MIX_2);
  lo ^= lo >>> 16;
  hi ^= hi >>> 15;
  hi = Math.imul(hi, MIX_3);
  hi ^= hi >>> 15;
  hi = Math.imul(hi, MIX_4);
  hi ^= hi >>> 15;
  // Cross-mix (each step is invertible given the other lane, so no collisions are added):
  // the output halves now both depend on the whole 64-bit state.
  lo ^= Math.imul(hi ^ (hi >>> 16), MIX_1);
  hi ^= Math.imul(lo ^ (lo >>> 13), MIX_2);
  return (hi & HI21_MASK) * TWO_POW_32 + (lo >>> 0);
}
