/**
 * The wire form of PRIVATE LOOKUP's BFV ciphertexts: SEAL's uncompressed serialization with the
 * two always-zero high bytes of every 64-bit coefficient dropped.
 *
 * The coefficient modulus is one 48-bit prime (params.ts), so each coefficient, stored by SEAL
 * as a little-endian uint64, fits in 6 bytes. SEAL's zstd mode saved only ~15% (14.2 KB per
 * seeded query ciphertext, 28.1 KB per result) at ~1.9 ms per query ciphertext compressed and
 * ~0.2 ms per result (de)compressed; dropping the zero bytes saves 25% (12.5 KB and 24.7 KB)
 * for a copy loop (~20 µs). Layout of SEAL 4.1's uncompressed ciphertext (node-seal 6.0.3):
 *     SEAL header (16 B) ‖ members (73 B) ‖ DynArray header (16 B) ‖ count (u64) ‖ count × u64
 *     ‖ trailer (the PRNG seed of a seeded ciphertext, 81 B; none otherwise)
 * and the packed form is the same with each u64 of the array cut to its low 6 bytes. Everything
 * but the dropped bytes is passed through, so SEAL's own `loadArray` still checks every field
 * and every coefficient (< q) of what the peer sent.
 *
 * Reveals nothing beyond the ciphertext (a lossless re-encoding). Pure functions; I/O-free;
 * imports no other layer of the project.
 */

/** Bytes before the coefficient array (SEAL header, ciphertext members, DynArray header, count). */
const PREFIX = 113;
const COUNT_AT = 105;
const DYNARRAY_AT = 89;
const WORD = 8;
const PACKED_WORD = 6;
/** SEAL's serialization magic (0xA15E, little-endian) and its uncompressed mode byte. */
const MAGIC_0 = 0x5e;
const MAGIC_1 = 0xa1;
const COMPR_MODE_AT = 5;
/** At most two polynomials of 2048 coefficients (a result ciphertext). */
const MAX_COEFFICIENTS = 2 * 2048;

function isSealHeader(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === MAGIC_0 && bytes[at + 1] === MAGIC_1 && bytes[at + COMPR_MODE_AT] === 0;
}

function coefficientCount(bytes: Uint8Array): number {
  if (bytes.length < PREFIX || !isSealHeader(bytes, 0) || !isSealHeader(bytes, DYNARRAY_AT)) {
    throw new RangeError('not an uncompressed SEAL ciphertext');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(COUNT_AT, true);
  if (view.getUint32(COUNT_AT + 4, true) !== 0 || count > MAX_COEFFICIENTS) throw new RangeError(`a ciphertext of ${count} coefficients`);
  return count;
}

/** Packs SEAL's uncompressed serialization (ComprModeType.none) of a ciphertext. */
export function packCiphertext(sealBytes: Uint8Array): Uint8Array {
  const count = coefficientCount(sealBytes);
  const end = PREFIX + count * WORD;
  if (end > sealBytes.length) throw new RangeError('truncated SEAL ciphertext');
  const out = new Uint8Array(sealBytes.length - count * (WORD - PACKED_WORD));
  out.set(sealBytes.subarray(0, PREFIX), 0);
  let to = PREFIX;
  for (let from = PREFIX; from < end; from += WORD, to += PACKED_WORD) {
    if (sealBytes[from + 6] !== 0 || sealBytes[from + 7] !== 0) throw new RangeError('a ciphertext coefficient exceeds 48 bits');
    out[to] = sealBytes[from];
    out[to + 1] = sealBytes[from + 1];
    out[to + 2] = sealBytes[from + 2];
    out[to + 3] = sealBytes[from + 3];
    out[to + 4] = sealBytes[from + 4];
    out[to + 5] = sealBytes[from + 5];
  }
  out.set(sealBytes.subarray(end), to);
  return out;
}

/** Largest uncompressed serialization `unpackCiphertext` produces (for a reusable `into` buffer). */
export const MAX_UNPACKED_BYTES = PREFIX + MAX_COEFFICIENTS * WORD + 256;

/**
 * Restores SEAL's uncompressed serialization from the packed form (SEAL validates the result
 * when loading it), into `into` when it is large enough (a view of it is returned: valid until
 * the next call with the same buffer), else into a new array.
 */
export function unpackCiphertext(packed: Uint8Array, into?: Uint8Array): Uint8Array {
  const count = coefficientCount(packed);
  const end = PREFIX + count * PACKED_WORD;
  if (end > packed.length) throw new RangeError('truncated ciphertext');
  const size = packed.length + count * (WORD - PACKED_WORD);
  const out = into && into.length >= size ? into.subarray(0, size) : new Uint8Array(size);
  out.set(packed.subarray(0, PREFIX), 0);
  let to = PREFIX;
  for (let from = PREFIX; from < end; from += PACKED_WORD, to += WORD) {
    out[to] = packed[from];
    out[to + 1] = packed[from + 1];
    out[to + 2] = packed[from + 2];
    out[to + 3] = packed[from + 3];
    out[to + 4] = packed[from + 4];
    out[to + 5] = packed[from + 5];
    out[to + 6] = 0; // `into` may hold an earlier ciphertext
    out[to + 7] = 0;
  }
  out.set(packed.subarray(end), to);
  return out;
}
