/**
 * Exact non-negative rationals over BigInt, the parameter type of every sampler: a noise scale
 * or variance derived from ε is converted once, exactly (a double is a dyadic rational), and
 * from then on the mechanism samples exactly the distribution the privacy analysis is about.
 * No floating point touches a sampled value.
 *
 * Pure arithmetic: reveals nothing; cost O(bits²) per operation on small numbers.
 */

export interface Rational {
  /** Numerator, ≥ 0. */
  readonly n: bigint;
  /** Denominator, ≥ 1. */
  readonly d: bigint;
}

export function rational(n: bigint, d: bigint = 1n): Rational {
  if (d <= 0n) throw new RangeError('rational denominator must be positive');
  if (n < 0n) throw new RangeError('rational numerator must be non-negative');
  const g = gcd(n, d);
  return g > 1n ? { n: n / g, d: d / g } : { n, d };
}

export function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

/**
 * The exact value of a finite non-negative double as a rational (every double is m·2^e).
 * Used to turn a user's ε into an exact scale without rounding.
 */
export function fromDouble(x: number): Rational {
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`not a finite non-negative number: ${x}`);
  if (x === 0) return { n: 0n, d: 1n };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const exponentBits = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (exponentBits === 0) {
    exponent = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    exponent = exponentBits - 1075;
  }
  return exponent >= 0 ? rational(mantissa << BigInt(exponent)) : rational(mantissa, 1n << BigInt(-exponent));
}

/**
 * A rational ≥ x (x a finite non-negative double) with a bounded denominator: x·(1 + 2^-40)
 * rounded up onto the grid 2^-k. For parameters computed in floating point (σ² from ρ), where
 * rounding up keeps the privacy guarantee at least as strong as computed.
 */
export function ceilFromDouble(x: number): Rational {
  const grown = x * (1 + 2 ** -40);
  const exact = fromDouble(grown);
  const scale = 1n << 64n;
  const n = (exact.n * scale + exact.d - 1n) / exact.d;
  return rational(n, scale);
}

/** A rational ≤ x with a bounded denominator (x·(1 − 2^-40) rounded down onto the 2^-64 grid). */
export function floorFromDouble(x: number): Rational {
  const shrunk = x * (1 - 2 ** -40);
  const exact = fromDouble(shrunk);
  const scale = 1n << 64n;
  return rational((exact.n * scale) / exact.d, scale);
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.n * b.n, a.d * b.d);
}

export function div(a: Rational, b: Rational): Rational {
  if (b.n === 0n) throw new RangeError('division by zero');
  return rational(a.n * b.d, a.d * b.n);
}

export function toNumber(r: Rational): number {
  // Scale down huge parts first so the quotient stays representable.
  const shift = Math.max(0, Math.max(r.n.toString(2).length, r.d.toString(2).length) - 1000);
  return Number(r.n >> BigInt(shift)) / Number(r.d >> BigInt(shift));
}

export function floor(r: Rational): bigint {
  return r.n / r.d;
}

/** floor(√x) for x ≥ 0 (Newton's method on BigInt). */
export function isqrt(x: bigint): bigint {
  if (x < 0n) throw new RangeError('isqrt of a negative number');
  if (x < 2n) return x;
  let y = 1n << BigInt(Math.ceil(x.toString(2).length / 2));
  for (;;) {
    const next = (y + x / y) >> 1n;
    if (next >= y) return y;
    y = next;
  }
}

export function toJson(r: Rational): [string, string] {
  return [r.n.toString(), r.d.toString()];
}

export function fromJson(v: unknown): Rational {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string' || !/^\d+$/.test(v[0]) || !/^\d+$/.test(v[1])) {
    throw new TypeError('a rational must be [numerator, denominator] as decimal strings');
  }
  return rational(BigInt(v[0]), BigInt(v[1]));
}
