/**
 * The records a party sends in row-mode SECURE JOIN: for the i-th row (i = 0 … c−1) carrying
 * key y, with F(y) = H(y)^b the party's OPRF value,
 *
 *     h = SHA-512("veilsql/psi-row/1" ‖ F(y) ‖ u32 i)
 *     tag = h[0..16)          key = h[32..64)
 *     record = tag ‖ ChaCha20_key(nonce 0, u32 c ‖ u32 len ‖ payload ‖ zero padding)
 *
 * Every plaintext is padded to the same length (the longest payload of the session), so a
 * record's size says nothing about its row. Each key is used once, so the fixed nonce is safe.
 * There is no MAC: a record is only ever opened after its tag matched one derived from the
 * same F(y), and in the semi-honest model the party is not trying to forge its own rows (a
 * Poly1305 tag would cost 16 B per row — 16 MB at 1M rows — for no property we rely on). A
 * record opened with a wrong key is still detected with overwhelming probability by the
 * header check (its length field would be random).
 * Someone who knows F(y) for a key y (the requester, for its own keys after unblinding) can
 * recompute the tags of y's rows and open exactly those records; without F(y) a record is a
 * random tag and a ChaCha20 ciphertext. The requester learns c for matched keys only (it needs it
 * to know how many rows to look for).
 *
 * Reveals: nothing beyond the record count and the padded length to a holder of no OPRF values.
 * Cost: one SHA-512 and one ChaCha20 operation per row on each side that touches it (native
 * libsodium: ~1 µs each, where a Node `createHash`/`createCipheriv` object costs several).
 * I/O-free; imports no other layer of the project.
 */
import { nativeSodium } from './native-sodium.js';

export const TAG_BYTES = 16;
const HEADER_BYTES = 8;
const DOMAIN = new TextEncoder().encode('veilsql/psi-row/1');
/** IETF ChaCha20 with an all-zero 96-bit nonce and the counter from 0: keys are single-use. */
const NONCE = new Uint8Array(12);
const sodium = nativeSodium();

/** Tag and record key of the `copy`-th row with OPRF value `oprf`. */
export function recordSecrets(oprf: Uint8Array, copy: number): { tag: Uint8Array; key: Uint8Array } {
  const message = new Uint8Array(DOMAIN.byteLength + oprf.byteLength + 4);
  message.set(DOMAIN, 0);
  message.set(oprf, DOMAIN.byteLength);
  new DataView(message.buffer).setUint32(DOMAIN.byteLength + oprf.byteLength, copy >>> 0, false);
  const h = new Uint8Array(64);
  sodium.crypto_hash_sha512(h, message);
  return { tag: h.subarray(0, TAG_BYTES), key: h.subarray(32, 64) };
}

/** Size of a sealed record (without its tag) for padded payloads of `paddedLength` bytes. */
export function sealedLength(paddedLength: number): number {
  return HEADER_BYTES + paddedLength;
}

/**
 * Seals one row's payload into `out` (sealedLength(paddedLength) bytes, or a fresh buffer):
 * `copies` is how many rows share the key, `paddedLength` ≥ payload.
 */
export function sealRecord(key: Uint8Array, copies: number, payload: Uint8Array, paddedLength: number, out?: Uint8Array): Uint8Array {
  if (payload.byteLength > paddedLength) throw new RangeError(`payload of ${payload.byteLength} bytes exceeds the padded length ${paddedLength}`);
  const plain = new Uint8Array(HEADER_BYTES + paddedLength);
  const view = new DataView(plain.buffer);
  view.setUint32(0, copies >>> 0, false);
  view.setUint32(4, payload.byteLength, false);
  plain.set(payload, HEADER_BYTES);
  const sealed = out ?? new Uint8Array(plain.byteLength);
  if (sealed.byteLength !== plain.byteLength) throw new RangeError(`a sealed record of ${paddedLength} padded bytes takes ${plain.byteLength} bytes, not ${sealed.byteLength}`);
  sodium.crypto_stream_chacha20_ietf_xor(sealed, plain, NONCE, key);
  return sealed;
}

/** Opens a record sealed with `key`; throws when its header is inconsistent (wrong key or corrupted). */
export function openRecord(key: Uint8Array, sealed: Uint8Array): { copies: number; payload: Uint8Array } {
  if (sealed.byteLength < HEADER_BYTES) throw new RangeError('record too short');
  const plain = new Uint8Array(sealed.byteLength);
  sodium.crypto_stream_chacha20_ietf_xor(plain, sealed, NONCE, key);
  const view = new DataView(plain.buffer);
  const copies = view.getUint32(0, false);
  const length = view.getUint32(4, false);
  if (copies === 0 || HEADER_BYTES + length > plain.byteLength) throw new RangeError('record header out of range (wrong key?)');
  return { copies, payload: plain.subarray(HEADER_BYTES, HEADER_BYTES + length) };
}
