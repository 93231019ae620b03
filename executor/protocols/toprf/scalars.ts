/**
 * Scalars of the ristretto255 group (integers mod ℓ, the prime group order) for the threshold
 * OPRF: random scalars, their 32-byte little-endian encoding (libsodium's), polynomial
 * evaluation and Lagrange coefficients at 0 for Shamir sharing. All field arithmetic is
 * @noble/curves' `Fn` (no arithmetic of our own beyond calling it).
 *
 * Reveals nothing by itself; the scalars it produces are secret key material or blinds.
 * Cost: BigInt arithmetic, microseconds per operation; one inversion per Lagrange coefficient.
 * I/O-free; imports no other layer of the project.
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';

export const SCALAR_BYTES = 32;

/** ℓ-field of ristretto255 / ed25519 (little-endian encoding, as libsodium expects). */
export const Fn = ed25519.Point.Fn;

/** A source of uniformly random bytes (tests may inject a seeded CSPRNG). */
export type RandomBytes = (n: number) => Uint8Array;

export const systemRandom: RandomBytes = (n) => new Uint8Array(randomBytes(n));

function fromLE(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

/** A uniformly random non-zero scalar (64 random bytes reduced mod ℓ: bias < 2^-250). */
export function randomScalar(random: RandomBytes = systemRandom): bigint {
  for (;;) {
    const s = Fn.create(fromLE(random(64)));
    if (s !== 0n) return s;
  }
}

export function scalarToBytes(s: bigint): Uint8Array {
  return Fn.toBytes(Fn.create(s));
}

/** Decodes a canonical 32-byte scalar (< ℓ); throws RangeError otherwise. */
export function scalarFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length !== SCALAR_BYTES) throw new RangeError(`a scalar is ${SCALAR_BYTES} bytes, not ${bytes.length}`);
  const v = fromLE(bytes);
  if (v >= Fn.ORDER) throw new RangeError('scalar is not reduced mod the group order');
  return v;
}

/** f(x) for the polynomial with `coefficients` (constant term first), mod ℓ. */
export function evaluatePolynomial(coefficients: readonly bigint[], x: number): bigint {
  const X = BigInt(x);
  let acc = 0n;
  for (let k = coefficients.length - 1; k >= 0; k--) acc = Fn.add(Fn.mul(acc, X), coefficients[k]);
  return acc;
}

/** Checks a set of Shamir x-coordinates: distinct integers in 1…65535. */
export function checkShareSet(xs: readonly number[]): void {
  const seen = new Set<number>();
  for (const x of xs) {
    if (!Number.isInteger(x) || x < 1 || x > 0xffff) throw new RangeError(`share index ${x} is not an integer in 1…65535`);
    if (seen.has(x)) throw new RangeError(`share index ${x} appears twice`);
    seen.add(x);
  }
}

/**
 * λ_i = Π_{j ≠ i} x_j / (x_j − x_i) mod ℓ: the weight of share i when the shares of `set`
 * are combined into f(0). `x` must be in `set`.
 */
export function lagrangeAtZero(x: number, set: readonly number[]): bigint {
  checkShareSet(set);
  if (!set.includes(x)) throw new RangeError(`share index ${x} is not in the set ${set.join(', ')}`);
  let num = 1n;
  let den = 1n;
  for (const j of set) {
    if (j === x) continue;
    num = Fn.mul(num, BigInt(j));
    den = Fn.mul(den, Fn.sub(BigInt(j), BigInt(x)));
  }
  return Fn.mul(num, Fn.inv(den));
}

/** f(0) from any ≥ t shares (x, f(x)) of a degree t−1 polynomial (tests and audits only). */
export function reconstructAtZero(shares: readonly { x: number; share: bigint }[]): bigint {
  const set = shares.map((s) => s.x);
  return shares.reduce((acc, s) => Fn.add(acc, Fn.mul(s.share, lagrangeAtZero(s.x, set))), 0n);
}
