/**
 * The prime-order groups SECURE JOIN's ECDH-PSI can run over, behind one batch interface so the
 * protocol does not care which library does the curve work. Every suite maps a key to a group
 * element with a hash-to-group (random-oracle style, no known discrete logarithm) and
 * exponentiates 32-byte element encodings by secret scalars; exponentiation commutes, which is
 * all ECDH-PSI needs.
 *
 * | suite                        | hash-to-group                                   | scalar multiplication      | per element: hash + mult |
 * |------------------------------|-------------------------------------------------|----------------------------|--------------------------|
 * | `x25519-ell2nu-sha512`       | SHA-512 → native libsodium ed25519 `from_uniform` (Elligator2, cofactor cleared) → Montgomery u (noble field, batch inversion) | native libsodium X25519 (sodium-native) | see bench/secure-join |
 * | `ristretto255-sha512`        | SHA-512 → libsodium ristretto255 `from_hash` (RFC 9496 element derivation) | libsodium (WASM)           | 94 + 211 µs |
 * | `ristretto255-sha512` (noble)| the same map in @noble/curves — the test oracle and benchmark baseline | @noble/curves (BigInt)    | ~0.2 + ~1 ms (research/) |
 *
 * (The x25519 suite replaced `x25519-elligator2-sha512` — WASM `from_hash` and OpenSSL X25519
 * behind one JWK-imported KeyObject per element, measured ~2× slower per key pair on this box;
 * bench/secure-join prints the per-primitive figures of both paths in every run. The new name
 * makes a peer still on the old hash fail loudly with "unknown suite" instead of matching
 * nothing.)
 *
 * Both libraries are used as they are: no curve arithmetic is written here. The only formula
 * applied outside a library call is the standard Edwards→Montgomery map u = (1 + y)/(1 − y)
 * (RFC 7748 §4.1), evaluated with noble's field implementation.
 *
 * X25519 clamps scalars (a multiple of 8 with bit 254 set). Unblinding needs a scalar s' with
 * s'·s ≡ 1 (mod ℓ) that is itself in clamped form; about half of all clamped s have one, so
 * `newBlinding` draws until it finds such a pair (expected two draws, pure scalar arithmetic).
 *
 * Reveals nothing by itself. I/O-free; imports no other layer of the project.
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';

export type PsiSuite = 'x25519-ell2nu-sha512' | 'ristretto255-sha512';

export const PSI_SUITES: readonly PsiSuite[] = ['x25519-ell2nu-sha512', 'ristretto255-sha512'];

/** The suite measured fastest on the 2-core boxes (see bench/secure-join and research/). */
export const DEFAULT_PSI_SUITE: PsiSuite = 'x25519-ell2nu-sha512';

/** Bytes of one encoded group element in every suite. */
export const ELEMENT_BYTES = 32;

/** What a worker thread runs; one instance per thread. */
export interface GroupEngine {
  readonly suite: PsiSuite;
  /** Hashes each message (prefixed with `dst`) to a group element; encodings concatenated. */
  hashToGroup(messages: readonly Uint8Array[], dst: Uint8Array): Uint8Array;
  /** Multiplies each 32-byte element of `elements` by `scalar`; encodings concatenated. */
  multiply(elements: Uint8Array, scalar: Uint8Array): Uint8Array;
}

/** A blinding scalar and the scalar that undoes it (for elements of the prime-order group). */
export interface Blinding {
  blind: Uint8Array;
  unblind: Uint8Array;
}

const Fn = ed25519.Point.Fn;
const L = Fn.ORDER;
const TWO_254 = 1n << 254n;
const TWO_251 = 1n << 251n;

function toLE(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function fromLE(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** A uniformly random X25519 private scalar, in the clamped form X25519 uses it. */
function clampedScalar(): bigint {
  const b = randomBytes(32);
  b[0] &= 248;
  b[31] &= 127;
  b[31] |= 64;
  return fromLE(b);
}

/** The clamped-form scalar congruent to `target` mod ℓ, if one exists (2^254 + 8j, j < 2^251). */
function clampedRepresentative(target: bigint): bigint | undefined {
  const inv8 = Fn.inv(8n);
  const j = Fn.mul(Fn.create(target - TWO_254), inv8);
  return j < TWO_251 ? TWO_254 + 8n * j : undefined;
}

/** A fresh secret exponent for a party's own elements (the OPRF key). */
export function newPsiKey(suite: PsiSuite): Uint8Array {
  if (suite === 'x25519-ell2nu-sha512') return toLE(clampedScalar());
  let s = 0n;
  while (s === 0n) s = Fn.create(fromLE(randomBytes(64)));
  return toLE(s);
}

/** A fresh blinding scalar and its inverse, both usable by the suite's multiplication. */
export function newBlinding(suite: PsiSuite): Blinding {
  if (suite === 'x25519-ell2nu-sha512') {
    for (;;) {
      const s = clampedScalar();
      const inverse = clampedRepresentative(Fn.inv(Fn.create(s)));
      if (inverse !== undefined) return { blind: toLE(s), unblind: toLE(inverse) };
    }
  }
  const key = fromLE(newPsiKey(suite));
  return { blind: toLE(key), unblind: toLE(Fn.inv(key)) };
}

export function isPsiSuite(value: unknown): value is PsiSuite {
  return typeof value === 'string' && (PSI_SUITES as readonly string[]).includes(value);
}
