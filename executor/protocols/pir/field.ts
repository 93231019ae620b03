/**
 * Polynomials over F_t, t = 65537 (the BFV plain modulus): interpolation of the per-bin label
 * polynomials the owner encodes, and plain evaluation (the reference the tests compare BFV
 * results against). Products of two field elements stay below 2^33, exact in doubles.
 *
 * Pure functions; reveal nothing. Cost: O(k²) per interpolation of k points.
 * I/O-free; imports no other layer of the project.
 */
import { PLAIN_MODULUS } from './params.js';

const T = PLAIN_MODULUS;
let inverses: Uint32Array | undefined;

/** Multiplicative inverses of 1 … t−1 (a 256 KB table built once: inv(i) = −(t/i)·inv(t mod i)). */
function inverseTable(): Uint32Array {
  if (!inverses) {
    const inv = new Uint32Array(T);
    inv[1] = 1;
    for (let i = 2; i < T; i++) inv[i] = (T - Math.floor(T / i) * inv[T % i] % T) % T;
    inverses = inv;
  }
  return inverses;
}

export function fieldInverse(a: number): number {
  const v = a % T;
  if (v === 0) throw new RangeError('zero has no inverse');
  return inverseTable()[v];
}

/**
 * Coefficients c[0…k−1] (lowest degree first, written into `out` at `offset` with `stride`) of
 * the polynomial of degree < k through (xs[i], ys[i]). The xs must be distinct.
 */
export function interpolateInto(xs: ArrayLike<number>, ys: ArrayLike<number>, k: number, out: Uint32Array, offset: number, stride: number): void {
  const inv = inverseTable();
  // Newton divided differences, in place.
  const dd = new Array<number>(k);
  for (let i = 0; i < k; i++) dd[i] = ys[i] % T;
  for (let level = 1; level < k; level++) {
    for (let i = k - 1; i >= level; i--) {
      const denom = (xs[i] - xs[i - level] + T) % T;
      if (denom === 0) throw new RangeError('interpolation points must have distinct x');
      dd[i] = (((dd[i] - dd[i - 1] + T) % T) * inv[denom]) % T;
    }
  }
  // Horner expansion of the Newton form into monomial coefficients.
  const poly = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    // poly = poly · (x − xs[i]) + dd[i]
    const root = xs[i] % T;
    for (let d = k - 1; d >= 1; d--) poly[d] = (poly[d - 1] + T - (poly[d] * root) % T) % T;
    poly[0] = (T - (poly[0] * root) % T) % T;
    poly[0] = (poly[0] + dd[i]) % T;
  }
  for (let d = 0; d < k; d++) out[offset + d * stride] = poly[d];
}

/** P(x) for coefficients `coeffs` (lowest degree first). */
export function evaluatePolynomial(coeffs: ArrayLike<number>, x: number): number {
  let acc = 0;
  for (let d = coeffs.length - 1; d >= 0; d--) acc = (acc * (x % T) + coeffs[d]) % T;
  return acc;
}

/** x^e mod t. */
export function fieldPow(x: number, e: number): number {
  let result = 1;
  let base = x % T;
  let n = e;
  while (n > 0) {
    if (n & 1) result = (result * base) % T;
    base = (base * base) % T;
    n >>= 1;
  }
  return result;
}
