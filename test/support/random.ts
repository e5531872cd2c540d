/**
 * The one seeded PRNG and the one Zipf sampler of the project, shared by tests and benchmarks, so
 * a failing stream can be replayed and a benchmark's workload is the one the tests check. Pure
 * arithmetic, no runtime APIs: the same numbers in Node and in workerd.
 */

const TWO_POW_32 = 4294967296;

/**
 * A deterministic PRNG (splitmix-style: a Weyl sequence pushed through an integer avalanche).
 * Returns a function yielding uniform numbers in [0, 1) with 32 bits of resolution.
 */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    // Weyl increment guarantees a full 2^32 period; the avalanche hides its regularity.
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    z ^= z >>> 15;
    return (z >>> 0) / TWO_POW_32;
  };
}

/** log1p(x)/x, continuous at 0 (the series avoids 0/0 and cancellation). */
function log1pOverX(x: number): number {
  if (Math.abs(x) > 1e-8) return Math.log1p(x) / x;
  return 1 - x * (0.5 - x / 3);
}

/** expm1(x)/x, continuous at 0. */
function expm1OverX(x: number): number {
  if (Math.abs(x) > 1e-8) return Math.expm1(x) / x;
  return 1 + x * (0.5 + x / 6);
}

/**
 * A Zipf(s) sampler over ranks 1..n: P(k) ∝ k^-s. Returns 1-based ranks.
 *
 * Uses rejection-inversion (Hörmann & Derflinger, 1996): O(1) setup and O(1) expected time per
 * sample with an acceptance rate close to 1, so n = 1e6 needs no CDF table (which would cost
 * 8 MB and a cache-missing binary search per sample). Works for any s > 0, including s = 1,
 * because H and its inverse are written with log1p/expm1 forms that are smooth in (1 - s).
 */
export function zipf(n: number, s: number, random: () => number): () => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf: n must be an integer >= 1, got ${n}`);
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`zipf: s must be finite and > 0, got ${s}`);
  const oneMinusS = 1 - s;
  /** The (unnormalised) mass function h(x) = x^-s. */
  const h = (x: number): number => Math.exp(-s * Math.log(x));
  /** An antiderivative of h: (x^(1-s) - 1) / (1 - s), or log(x) at s = 1. */
  const bigH = (x: number): number => {
    const logX = Math.log(x);
    return expm1OverX(oneMinusS * logX) * logX;
  };
  /** The inverse of bigH. */
  const bigHInverse = (y: number): number => {
    // Clamp guards log1p against rounding just below -1 at the extreme tail.
    const t = Math.max(-1, y * oneMinusS);
    return Math.exp(log1pOverX(t) * y);
  };
  const hIntegralX1 = bigH(1.5) - 1;
  const hIntegralN = bigH(n + 0.5);
  // Points within this distance of rank k are accepted without evaluating bigH (the fast path).
  const squeeze = 2 - bigHInverse(bigH(2.5) - h(2));
  const span = hIntegralX1 - hIntegralN;

  return () => {
    for (;;) {
      const u = hIntegralN + random() * span;
      const x = bigHInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > n) k = n;
      if (k - x <= squeeze || u >= bigH(k + 0.5) - h(k)) return k;
    }
  };
}
