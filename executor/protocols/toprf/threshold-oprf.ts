/**
 * Threshold OPRF over ristretto255 (2HashDH with a Shamir-shared key, TOPPSS-style) for the
 * multi-lender dedupe: token(x) = first 16 bytes of F(k, x), where F is the RFC 9497 OPRF
 * ristretto255-SHA512 (mode 0x00) and k is an epoch key Shamir-shared t-of-n among the key
 * holders (key-generation.ts) — so a token equals @noble/curves' `ristretto255_oprf` output
 * under k, which is how the tests check it without any holder ever knowing k.
 *
 * One evaluation, for a lender L with canonical key bytes x:
 *   1. L draws r, sends B = r·H(x) (H = RFC 9497 HashToGroup), relayed by the hub;
 *   2. the hub picks a set S of t holders; holder j ∈ S returns λ_j·s_j·B, where λ_j is its
 *      Lagrange coefficient for S (the hub names S, so the holder folds λ_j into its scalar
 *      once per batch: one multiplication per element);
 *   3. L adds the t answers, Σ λ_j s_j B = k·r·H(x), unblinds with r⁻¹ and finalises:
 *      token = SHA-512(len‖x‖len‖k·H(x)‖"Finalize")[0..16).
 *
 * What each role learns:
 * - key holders: blinded elements B (uniformly random group elements, independent of x), the
 *   batch sizes, the epoch and the set S, and that the hub asked — never x, a token, or which
 *   lender asked (the hub relays every request);
 * - the hub: the same blinded elements and the holders' answers (still blinded by r), hence
 *   nothing about x either; from uploads and queries it sees tokens — pseudonyms, keyed by k,
 *   so no ID and no plain hash of one — with which lender uploaded them and when (bucket);
 * - a lender: the tokens of its own inputs (one evaluation per element it sends).
 * Fewer than t colluding holders learn nothing about k; t holders together with the hub could
 * compute tokens of guessed IDs (the dictionary risk of any deterministic pseudonym), which is
 * why the hub and the key holders must not collude (SPEC.md §4).
 *
 * Cost per element: lender 1 hash-to-group + 2 scalar multiplications + t−1 additions + one
 * batch-inverted scalar; each of the t holders 1 scalar multiplication; 32 bytes lender→hub,
 * 32 bytes hub→holder and back per holder, t·32 bytes hub→lender. libsodium (WASM) does the
 * group work (~0.15 ms per multiplication on the 2-core boxes, vs ~1 ms for noble).
 *
 * I/O-free; imports no other layer of the project (it reuses PRIVATE LOOKUP's RFC 9497
 * HashToGroup from executor/protocols/pir/oprf.ts).
 */
import { createHash } from 'node:crypto';
import { hashToGroup, type Sodium } from '../pir/oprf.js';
import { Fn, lagrangeAtZero, randomScalar, scalarFromBytes, scalarToBytes, SCALAR_BYTES, systemRandom, type RandomBytes } from './scalars.js';

export const ELEMENT_BYTES = 32;
/** Token length: 128 bits keeps the collision chance for 10^9 tokens below 2^-68. */
export const TOKEN_BYTES = 16;
const FINALIZE = new TextEncoder().encode('Finalize');

export interface BlindedBatch {
  /** r_i·H(x_i), concatenated: what the key holders receive (through the hub). */
  blinded: Uint8Array;
  /** r_i⁻¹ as 32-byte scalars, concatenated: never leaves the lender. */
  unblinds: Uint8Array;
}

/** Blinds every input with its own random scalar (one batch inversion for all unblinders). */
export function blindInputs(sodium: Sodium, inputs: readonly Uint8Array[], random: RandomBytes = systemRandom): BlindedBatch {
  const blinds = inputs.map(() => randomScalar(random));
  const inverses = blinds.length ? Fn.invertBatch(blinds) : [];
  const blinded = new Uint8Array(inputs.length * ELEMENT_BYTES);
  const unblinds = new Uint8Array(inputs.length * SCALAR_BYTES);
  inputs.forEach((input, i) => {
    blinded.set(sodium.crypto_scalarmult_ristretto255(scalarToBytes(blinds[i]), hashToGroup(sodium, input)), i * ELEMENT_BYTES);
    unblinds.set(scalarToBytes(inverses[i]), i * SCALAR_BYTES);
  });
  return { blinded, unblinds };
}

/** The scalar a holder with share s at index x applies when the hub uses holder set `set`. */
export function holderScalar(share: bigint, x: number, set: readonly number[]): Uint8Array {
  return scalarToBytes(Fn.mul(share, lagrangeAtZero(x, set)));
}

/** Count of 32-byte elements in `bytes`, or a RangeError. */
export function elementCount(bytes: Uint8Array): number {
  if (bytes.length % ELEMENT_BYTES !== 0) throw new RangeError(`${bytes.length} bytes is not a whole number of ${ELEMENT_BYTES}-byte elements`);
  return bytes.length / ELEMENT_BYTES;
}

/**
 * A holder's answer: `scalar`·B for every blinded element B. Throws a RangeError naming the
 * first element that is not a valid ristretto255 encoding (a malformed or hostile request).
 */
export function evaluateBlinded(sodium: Sodium, scalar: Uint8Array, blinded: Uint8Array): Uint8Array {
  scalarFromBytes(scalar);
  const n = elementCount(blinded);
  const out = new Uint8Array(blinded.length);
  for (let i = 0; i < n; i++) {
    let product: Uint8Array;
    try {
      product = sodium.crypto_scalarmult_ristretto255(scalar, blinded.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES));
    } catch {
      throw new RangeError(`element #${i} is not a valid ristretto255 point`);
    }
    out.set(product, i * ELEMENT_BYTES);
  }
  return out;
}

/** RFC 9497 Finalize's hash: SHA-512(I2OSP(len(x),2)‖x‖I2OSP(32,2)‖element‖"Finalize"). */
export function finalizeHash(input: Uint8Array, element: Uint8Array): Uint8Array {
  if (input.length > 0xffff) throw new RangeError('OPRF input longer than 65535 bytes');
  const prefix = (n: number) => new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
  return new Uint8Array(createHash('sha512').update(prefix(input.length)).update(input).update(prefix(element.length)).update(element).update(FINALIZE).digest());
}

/**
 * Tokens from the holders' answers: for each input i, Σ_j answer_j[i] (= k·r_i·H(x_i)),
 * unblinded with r_i⁻¹ and finalised; returns the tokens concatenated (TOKEN_BYTES each).
 */
export function finalizeTokens(sodium: Sodium, inputs: readonly Uint8Array[], unblinds: Uint8Array, answers: readonly Uint8Array[]): Uint8Array {
  const n = inputs.length;
  if (unblinds.length !== n * SCALAR_BYTES) throw new RangeError(`expected ${n} unblinding scalars`);
  if (answers.length === 0) throw new RangeError('no key holder answered');
  for (const a of answers) if (a.length !== n * ELEMENT_BYTES) throw new RangeError(`a key holder answered ${a.length / ELEMENT_BYTES} elements for ${n} requested`);
  const out = new Uint8Array(n * TOKEN_BYTES);
  for (let i = 0; i < n; i++) {
    const at = i * ELEMENT_BYTES;
    let element: Uint8Array;
    try {
      let sum = answers[0].subarray(at, at + ELEMENT_BYTES);
      for (let j = 1; j < answers.length; j++) sum = sodium.crypto_core_ristretto255_add(sum, answers[j].subarray(at, at + ELEMENT_BYTES));
      element = sodium.crypto_scalarmult_ristretto255(unblinds.subarray(i * SCALAR_BYTES, (i + 1) * SCALAR_BYTES), sum);
    } catch {
      throw new RangeError(`the key holders' answers for element #${i} do not combine to a valid ristretto255 point`);
    }
    out.set(finalizeHash(inputs[i], element).subarray(0, TOKEN_BYTES), i * TOKEN_BYTES);
  }
  return out;
}

/** token(x) computed with the whole key k: only for tests and audits (no node holds k). */
export function directToken(sodium: Sodium, key: bigint, input: Uint8Array): Uint8Array {
  const element = sodium.crypto_scalarmult_ristretto255(scalarToBytes(key), hashToGroup(sodium, input));
  return finalizeHash(input, element).subarray(0, TOKEN_BYTES);
}
