/**
 * Distributed generation of an epoch's threshold-OPRF key (joint-Feldman DKG, semi-honest
 * setting of SPEC.md §4). Every key holder i deals a random polynomial f_i of degree t−1 with
 * Feldman commitments A_ik = a_ik·G; holder j receives f_i(x_j) from every dealer (directly,
 * over mutual TLS — never through the hub), checks it against the commitments and keeps
 * s_j = Σ_i f_i(x_j). The epoch key is k = Σ_i f_i(0): no node ever computes it, any t holders
 * can evaluate with it (threshold-oprf.ts), fewer than t learn nothing about it.
 *
 * Reveals:
 * - to each key holder: its own share s_j and every dealer's commitments (hence the public key
 *   K = k·G and every holder's public share s_j·G) — nothing about k beyond K;
 * - to the hub (which orchestrates and checks the result): the commitments and public shares
 *   only; it can verify that the holders hold a consistent t-of-n sharing of one key.
 * Cost per dealer: t base multiplications to commit, n−1 share messages of 32 bytes + t·32 bytes
 * of commitments; per recipient: t multiplications per dealer to verify (Feldman check).
 *
 * Group operations are libsodium's ristretto255; scalars are @noble/curves' field.
 * I/O-free; imports no other layer of the project.
 */
import type { Sodium } from '../pir/oprf.js';
import { checkShareSet, evaluatePolynomial, Fn, randomScalar, scalarToBytes, systemRandom, type RandomBytes } from './scalars.js';

/** Bytes of one commitment / public share (a ristretto255 encoding). */
export const COMMITMENT_BYTES = 32;

export interface Dealing {
  /** A_k = a_k·G for k = 0…t−1: public. */
  commitments: Uint8Array[];
  /** f(x) for every recipient index x: secret, one per recipient. */
  shares: Map<number, bigint>;
}

/** One dealer's contribution to the key of an epoch, for recipients `xs`. */
export function deal(sodium: Sodium, threshold: number, xs: readonly number[], random: RandomBytes = systemRandom): Dealing {
  checkShareSet(xs);
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > xs.length) {
    throw new RangeError(`threshold ${threshold} must be an integer in 2…${xs.length} (the number of key holders)`);
  }
  const coefficients = Array.from({ length: threshold }, () => randomScalar(random));
  const commitments = coefficients.map((a) => sodium.crypto_scalarmult_ristretto255_base(scalarToBytes(a)));
  const shares = new Map<number, bigint>();
  for (const x of xs) shares.set(x, evaluatePolynomial(coefficients, x));
  return { commitments, shares };
}

/** Σ_k x^k·C_k: what the share of index x times G must equal under commitments C. */
export function committedShare(sodium: Sodium, x: number, commitments: readonly Uint8Array[]): Uint8Array {
  if (commitments.length === 0) throw new RangeError('no commitments');
  let acc = commitments[0];
  let power = 1n;
  for (let k = 1; k < commitments.length; k++) {
    power = Fn.mul(power, BigInt(x));
    acc = sodium.crypto_core_ristretto255_add(acc, sodium.crypto_scalarmult_ristretto255(scalarToBytes(power), commitments[k]));
  }
  return acc;
}

export const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** True when `share`·G matches the dealer's commitments at index x (Feldman check). */
export function verifyDealtShare(sodium: Sodium, x: number, share: bigint, commitments: readonly Uint8Array[]): boolean {
  if (share === 0n) return false;
  try {
    return equalBytes(sodium.crypto_scalarmult_ristretto255_base(scalarToBytes(share)), committedShare(sodium, x, commitments));
  } catch {
    // A commitment that is not a valid ristretto255 encoding: the dealing is invalid.
    return false;
  }
}

/** The commitments of the joint polynomial Σ_i f_i (component-wise sum over dealers). */
export function sumCommitments(sodium: Sodium, dealers: readonly (readonly Uint8Array[])[]): Uint8Array[] {
  if (dealers.length === 0) throw new RangeError('no dealers');
  const t = dealers[0].length;
  if (dealers.some((c) => c.length !== t)) throw new RangeError('dealers used different thresholds');
  return Array.from({ length: t }, (_, k) => dealers.slice(1).reduce((acc, c) => sodium.crypto_core_ristretto255_add(acc, c[k]), dealers[0][k]));
}

/** A holder's final share: the sum of what every dealer sent it. */
export function combineDealtShares(shares: readonly bigint[]): bigint {
  const s = shares.reduce((acc, v) => Fn.add(acc, v), 0n);
  if (s === 0n) throw new RangeError('the combined share is zero');
  return s;
}

/** s·G, a holder's public share (lets the hub check the sharing without learning it). */
export function publicShare(sodium: Sodium, share: bigint): Uint8Array {
  return sodium.crypto_scalarmult_ristretto255_base(scalarToBytes(share));
}

/** True when every holder's public share lies on the joint committed polynomial. */
export function checkPublicShares(sodium: Sodium, joint: readonly Uint8Array[], shares: readonly { x: number; publicShare: Uint8Array }[]): string[] {
  const bad: string[] = [];
  for (const s of shares) {
    let ok = false;
    try {
      ok = equalBytes(s.publicShare, committedShare(sodium, s.x, joint));
    } catch {
      ok = false;
    }
    if (!ok) bad.push(String(s.x));
  }
  return bad;
}

