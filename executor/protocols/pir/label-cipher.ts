/**
 * Label encryption for PRIVATE LOOKUP (APSI's label encryptor, with ChaCha20 instead of
 * Blake2xb): a label is laid out as
 *     nonce (4 B, clear) ‖ ChaCha20_{labelKey, nonce}( 0^checkBytes ‖ length (1 B) ‖ label ‖ 0… )
 * and split into 16-bit field elements, 5 per label polynomial. `labelKey` comes from the OPRF
 * output of the entry's key, so only a requester that evaluated that very key can decrypt it;
 * the fresh random nonce per stored entry keeps two versions of one entry's label from sharing
 * a keystream. The zero check bytes are how the requester recognises a match (params.ts).
 *
 * Reveals: nothing to anyone without the label key (ChaCha20 keystream). Cost: one ChaCha20
 * block per label. I/O-free; imports no other layer of the project.
 */
import { createCipheriv } from 'node:crypto';
import { FELTS_PER_ITEM, LABEL_BYTES_PER_POLY, MAX_LABEL_BYTES, NONCE_BYTES, PLAIN_MODULUS } from './params.js';

function keystream(labelKey: Uint8Array, nonce: Uint8Array, length: number): Uint8Array {
  // Node's chacha20 IV is the 32-bit block counter (little-endian) followed by a 96-bit nonce.
  const iv = new Uint8Array(16);
  iv.set(nonce, 4);
  const cipher = createCipheriv('chacha20', labelKey, iv);
  return new Uint8Array(cipher.update(new Uint8Array(length)));
}

/** Encrypts `label` into `labelPolys × 5` felts. Throws if it does not fit. */
export function encryptLabel(label: Uint8Array, labelKey: Uint8Array, nonce: Uint8Array, labelPolys: number, checkBytes: number): Uint16Array {
  const total = labelPolys * LABEL_BYTES_PER_POLY;
  const capacity = total - NONCE_BYTES - checkBytes - 1;
  if (label.length > Math.min(capacity, MAX_LABEL_BYTES)) throw new RangeError(`label of ${label.length} bytes exceeds the capacity of ${capacity} bytes`);
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`a label nonce has ${NONCE_BYTES} bytes`);
  const bytes = new Uint8Array(total);
  bytes.set(nonce, 0);
  const body = new Uint8Array(total - NONCE_BYTES);
  body[checkBytes] = label.length;
  body.set(label, checkBytes + 1);
  const ks = keystream(labelKey, nonce, body.length);
  for (let i = 0; i < body.length; i++) bytes[NONCE_BYTES + i] = body[i] ^ ks[i];
  const felts = new Uint16Array(total / 2);
  for (let i = 0; i < felts.length; i++) felts[i] = (bytes[2 * i] << 8) | bytes[2 * i + 1];
  return felts;
}

/**
 * Decrypts evaluated label felts (values in [0, t)) with `labelKey`; `null` when they are not a
 * label for this key (check bytes not zero, a felt out of 16-bit range, or a bad length).
 */
export function decryptLabel(felts: ArrayLike<number>, labelKey: Uint8Array, checkBytes: number): Uint8Array | null {
  if (felts.length % FELTS_PER_ITEM !== 0) throw new RangeError('label felts must be whole polynomials');
  const bytes = new Uint8Array(felts.length * 2);
  for (let i = 0; i < felts.length; i++) {
    const v = felts[i];
    if (v >= PLAIN_MODULUS - 1) return null;
    bytes[2 * i] = v >> 8;
    bytes[2 * i + 1] = v & 0xff;
  }
  const body = bytes.subarray(NONCE_BYTES);
  const ks = keystream(labelKey, bytes.subarray(0, NONCE_BYTES), body.length);
  for (let i = 0; i < checkBytes; i++) if ((body[i] ^ ks[i]) !== 0) return null;
  const length = body[checkBytes] ^ ks[checkBytes];
  if (length > body.length - checkBytes - 1) return null;
  const label = new Uint8Array(length);
  for (let i = 0; i < length; i++) label[i] = body[checkBytes + 1 + i] ^ ks[checkBytes + 1 + i];
  return label;
}

/** True when the check bytes of evaluated felts decrypt to zero (the raw match event, for tests). */
export function checkPasses(felts: ArrayLike<number>, labelKey: Uint8Array, checkBytes: number): boolean {
  const bytes = new Uint8Array(NONCE_BYTES + checkBytes);
  for (let i = 0; i < bytes.length; i++) {
    const v = felts[i >> 1];
    bytes[i] = i % 2 === 0 ? (v >> 8) & 0xff : v & 0xff;
  }
  const ks = keystream(labelKey, bytes.subarray(0, NONCE_BYTES), checkBytes);
  for (let i = 0; i < checkBytes; i++) if ((bytes[NONCE_BYTES + i] ^ ks[i]) !== 0) return false;
  return true;
}
