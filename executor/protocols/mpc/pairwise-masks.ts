/**
 * Pairwise PRG masks for secure aggregation (Bonawitz et al. 2017, without dropout recovery):
 * every pair of contributors (i, j) derives a common seed from an X25519 key agreement; i adds
 * the seed's pseudo-random vector to its partial, j subtracts it, so the masks cancel in the sum
 * and each masked partial alone is uniformly random.
 *
 * Reveals: an ephemeral X25519 public key per contributor and session (to the aggregator, which
 * relays them). Nothing about any value. Cost: one X25519 agreement per pair and an AES-256-CTR
 * keystream of the vector's size per pair (≈ 1 GB/s here), so (n − 1) keystreams per party.
 *
 * Primitives are Node's: X25519 (`crypto.diffieHellman`), HKDF-SHA-256 and AES-256-CTR as the
 * PRG; randomness only from `crypto.randomBytes` (tests may pass their own secret bytes).
 */
import { createCipheriv, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { addInto, subInto, type Layout } from './ring.js';

/** DER prefixes of an X25519 key: SubjectPublicKeyInfo and PKCS#8 PrivateKeyInfo (RFC 8410). */
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export const PUBLIC_KEY_BYTES = 32;

export interface MaskKeyPair {
  privateKey: KeyObject;
  /** Raw 32-byte X25519 public key, as sent on the wire. */
  publicKey: Uint8Array;
}

/** A fresh ephemeral key pair; `secret` (32 bytes) replaces the CSPRNG in tests. */
export function generateMaskKeyPair(secret: Uint8Array = randomBytes(32)): MaskKeyPair {
  if (secret.byteLength !== 32) throw new RangeError('an X25519 secret is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(der.subarray(der.length - PUBLIC_KEY_BYTES)) };
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.byteLength !== PUBLIC_KEY_BYTES) throw new RangeError(`an X25519 public key is ${PUBLIC_KEY_BYTES} bytes, got ${raw.byteLength}`);
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/**
 * The seed shared by contributors `self` and `peer` of one session: HKDF over the X25519
 * secret, salted with the session id and bound to the unordered pair, so both ends derive the
 * same 32 bytes and no two sessions or pairs share a mask.
 */
export function pairSeed(self: MaskKeyPair, selfIndex: number, peerPublicKey: Uint8Array, peerIndex: number, session: Uint8Array): Uint8Array {
  if (selfIndex === peerIndex) throw new RangeError('a contributor has no mask with itself');
  const shared = diffieHellman({ privateKey: self.privateKey, publicKey: publicKeyObject(peerPublicKey) });
  // An all-zero secret means a low-order peer key: refuse rather than derive a public mask.
  if (shared.every((b) => b === 0)) throw new Error('peer sent a degenerate X25519 public key');
  const lo = Math.min(selfIndex, peerIndex);
  const hi = Math.max(selfIndex, peerIndex);
  const info = Buffer.from(`veilsql secure-sum pair ${lo}:${hi}`);
  return new Uint8Array(hkdfSync('sha256', shared, session, info, 32));
}

/** The mask vector of `words` 32-bit words expanded from `seed` (AES-256-CTR keystream). */
export function expandMask(seed: Uint8Array, words: number): Uint32Array {
  const cipher = createCipheriv('aes-256-ctr', seed, Buffer.alloc(16));
  const stream = cipher.update(Buffer.alloc(words * 4));
  return new Uint32Array(stream.buffer, stream.byteOffset, words);
}

/**
 * Adds this contributor's masks to `vector` in place: +mask for peers after it, −mask for peers
 * before it. `seeds[j]` is the seed shared with contributor j (undefined for itself).
 */
export function applyMasks(vector: Uint32Array, layout: Layout, selfIndex: number, seeds: (Uint8Array | undefined)[]): void {
  seeds.forEach((seed, j) => {
    if (j === selfIndex || !seed) return;
    const mask = expandMask(seed, vector.length);
    if (j > selfIndex) addInto(vector, mask, layout);
    else subInto(vector, mask, layout);
  });
}
