/**
 * Vectors of integers modulo 2^(32·L), the arithmetic of secure aggregation.
 *
 * Reveals: nothing by itself (pure arithmetic). Cost: O(words) per addition, no allocation.
 *
 * A *layout* says how many 32-bit limbs each value of a slot has (e.g. `[1, 2, 4]`: a 32-bit
 * count, a 64-bit sum and a 128-bit sum of squares). A vector holds `slots × width(layout)`
 * little-endian 32-bit words; carries propagate only within one value, so every value is an
 * independent element of its own ring Z/2^(32·L). Words are `Uint32Array` entries and the
 * arithmetic uses plain numbers (no BigInt in the hot loops): adding 10 parties' vectors of a
 * million words takes milliseconds.
 */

export type Layout = readonly number[];

export const MAX_LIMBS = 4;

export function layoutWidth(layout: Layout): number {
  let w = 0;
  for (const l of layout) {
    if (!Number.isInteger(l) || l < 1 || l > MAX_LIMBS) throw new RangeError(`a value has 1..${MAX_LIMBS} limbs, not ${l}`);
    w += l;
  }
  return w;
}

/** `acc += v` element-wise (each value modulo 2^(32·L)). */
export function addInto(acc: Uint32Array, v: Uint32Array, layout: Layout): void {
  combine(acc, v, layout, 1);
}

/** `acc -= v` element-wise. */
export function subInto(acc: Uint32Array, v: Uint32Array, layout: Layout): void {
  combine(acc, v, layout, -1);
}

function combine(acc: Uint32Array, v: Uint32Array, layout: Layout, sign: 1 | -1): void {
  if (acc.length !== v.length) throw new RangeError(`vector lengths differ: ${acc.length} vs ${v.length}`);
  const width = layoutWidth(layout);
  if (acc.length % width !== 0) throw new RangeError(`vector of ${acc.length} words does not hold whole slots of ${width} words`);
  // Fast path: all values one limb wide.
  if (width === layout.length) {
    if (sign > 0) for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] + v[i]) >>> 0;
    else for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] - v[i]) >>> 0;
    return;
  }
  // This runs over every word of every party's vector and every mask, so it stays in int32
  // arithmetic (no doubles): limbs are read as signed 32-bit words and the carry (borrow) out
  // of each limb is the top bit of the full-adder (-subtractor) formula.
  const a = new Int32Array(acc.buffer, acc.byteOffset, acc.length);
  const b = new Int32Array(v.buffer, v.byteOffset, v.length);
  const limbsOf = Int32Array.from(layout);
  const values = limbsOf.length;
  const length = a.length;
  if (sign > 0) {
    for (let o = 0; o < length; ) {
      for (let j = 0; j < values; j++) {
        let carry = 0;
        for (let k = limbsOf[j]; k > 0; k--, o++) {
          const x = a[o];
          const y = b[o];
          const s = (x + y + carry) | 0;
          a[o] = s;
          carry = ((x & y) | ((x | y) & ~s)) >>> 31;
        }
      }
    }
  } else {
    for (let o = 0; o < length; ) {
      for (let j = 0; j < values; j++) {
        let borrow = 0;
        for (let k = limbsOf[j]; k > 0; k--, o++) {
          const x = a[o];
          const y = b[o];
          const s = (x - y - borrow) | 0;
          a[o] = s;
          borrow = ((~x & y) | (~(x ^ y) & s)) >>> 31;
        }
      }
    }
  }
}

/** Writes `value` (any sign) modulo 2^(32·limbs) at word offset `at`. */
export function writeValue(target: Uint32Array, at: number, limbs: number, value: bigint): void {
  let x = BigInt.asUintN(32 * limbs, value);
  for (let k = 0; k < limbs; k++) {
    target[at + k] = Number(x & 0xffff_ffffn);
    x >>= 32n;
  }
}

/** Reads the value at `at` as a two's-complement signed integer of 32·limbs bits. */
export function readSigned(source: Uint32Array, at: number, limbs: number): bigint {
  let x = 0n;
  for (let k = limbs - 1; k >= 0; k--) x = (x << 32n) | BigInt(source[at + k]);
  return BigInt.asIntN(32 * limbs, x);
}

/**
 * The value at `at` as a number when it is a safe integer (the common case of counts and
 * moderate sums), else NaN — lets callers skip BigInt for most values.
 */
export function readNumber(source: Uint32Array, at: number, limbs: number): number {
  if (limbs === 1) return source[at] | 0;
  const lo = source[at];
  const hi = source[at + 1];
  for (let k = 2; k < limbs; k++) {
    const w = source[at + k];
    if (w !== ((hi & 0x8000_0000) ? 0xffff_ffff : 0)) return Number.NaN;
  }
  const signedHi = hi | 0;
  if (signedHi > 0x1f_ffff || signedHi < -0x20_0000) return Number.NaN;
  return signedHi * 0x1_0000_0000 + lo;
}

/** The largest |partial| one of `parties` contributors may add so the signed total cannot wrap. */
export function perPartyBound(limbs: number, parties: number): bigint {
  const max = (1n << BigInt(32 * limbs - 1)) - 1n;
  return max / BigInt(Math.max(1, parties));
}

/** Little-endian bytes of a word vector (a view when aligned, no copy). */
export function wordsToBytes(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/** Words from received bytes (copied when the bytes are not 4-byte aligned). */
export function bytesToWords(bytes: Uint8Array): Uint32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`${bytes.byteLength} bytes are not whole 32-bit words`);
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  // Copy into a fresh buffer (a Node Buffer's slice() would still share its unaligned pool).
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Uint32Array(copy.buffer);
}
