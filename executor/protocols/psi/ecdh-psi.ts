/**
 * ECDH-PSI for SECURE JOIN, row mode: a Diffie–Hellman OPRF (2HashDH) with one round trip.
 *
 *   requester R (keys X, gateway)                      party P (keys Y, rows, OPRF key b)
 *   blinding a, unblinding a⁻¹ (fresh per query)
 *   ── H(x)^a for each distinct x ∈ X (batches) ──────▶
 *                                                      H(x)^ab, same order, batch by batch
 *   ◀──────────────────────────────────────────────────
 *   F(x) = (H(x)^ab)^(a⁻¹) = H(x)^b                    F(y) = H(y)^b for each distinct y ∈ Y
 *                                                      per row (y, copy i of c): tag, sealed record
 *                                                      (record-cipher.ts), all rows shuffled
 *   ◀── records: tag ‖ sealed row (padded), shuffled ─
 *   match tags of (F(x), i); open matched records
 *
 * H is the suite's hash-to-group over "veilsql/psi/1 ‖ suite ‖ key types" ‖ canonical key bytes
 * (keys/canonical-key.ts: normalised, length-prefixed, NULL never hashed); b is fresh per
 * session, so tags from two queries are unlinkable.
 *
 * What each side learns (semi-honest):
 * - P learns |X| (the requester's number of distinct non-NULL keys) and the batch sizes; it sees
 *   only H(x)^a, uniformly random group elements under DDH. It learns nothing about the
 *   intersection, not even its size.
 * - R learns, for each of its own keys, whether P has it, and for each matched key the rows P
 *   sent for it (only the columns P's policy lets it reveal, checked by P itself); it learns the
 *   number of P's rows with a non-NULL key and the padded payload length. Unmatched records
 *   are pseudorandom tags with ChaCha20 ciphertexts under keys R cannot derive (one-more-DH), and
 *   P's shuffle hides which of P's rows any record came from.
 * Cost: R: |X| hash-to-group + 2|X| scalar multiplications; P: |Y| hash-to-group + (|X| + |Y|)
 * multiplications; traffic 64 B per requester key + (16 + 8 + padded payload) B per party row.
 *
 * This module holds the pieces both sides share; the state is driven by the SECURE JOIN
 * operator (executor/operators/secure-join). I/O-free; imports no other layer of the project.
 */
import { randomBytes } from 'node:crypto';
import type { PsiSuite } from './group-engine.js';

/** Elements per blinded batch (≈ 128 KB frames; ~0.3 s of work per batch per core). */
export const BATCH_ELEMENTS = 4096;
/** Largest batch a peer may send. */
export const MAX_BATCH_ELEMENTS = 16_384;
/** Records per Records frame. */
export const RECORDS_PER_FRAME = 8192;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Domain separation for the hash-to-group: protocol version, suite and the aligned key types. */
export function hashDomain(suite: PsiSuite, keyTypes: readonly string[], mode: 'row' | 'aggregate'): Uint8Array {
  return encoder.encode(`veilsql/psi/1|${mode}|${suite}|${keyTypes.join(',')}|`);
}

/** Row payload: u16 column count, then per column u8 null flag and, if not NULL, u32 length + UTF-8. */
export function encodePayload(values: readonly (string | null)[]): Uint8Array {
  const parts = values.map((v) => (v === null ? null : encoder.encode(v)));
  let total = 2;
  for (const p of parts) total += 1 + (p ? 4 + p.byteLength : 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint16(0, values.length, false);
  let at = 2;
  for (const p of parts) {
    out[at++] = p ? 1 : 0;
    if (!p) continue;
    view.setUint32(at, p.byteLength, false);
    out.set(p, at + 4);
    at += 4 + p.byteLength;
  }
  return out;
}

export function decodePayload(bytes: Uint8Array, columns: number): (string | null)[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 2 || view.getUint16(0, false) !== columns) throw new RangeError(`payload does not hold ${columns} columns`);
  const out: (string | null)[] = [];
  let at = 2;
  for (let c = 0; c < columns; c++) {
    if (at >= bytes.byteLength) throw new RangeError('payload truncated');
    const present = bytes[at++];
    if (!present) {
      out.push(null);
      continue;
    }
    const length = view.getUint32(at, false);
    if (at + 4 + length > bytes.byteLength) throw new RangeError('payload value truncated');
    out.push(decoder.decode(bytes.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return out;
}

/**
 * A uniformly random permutation of 0 … n−1 (Fisher–Yates over CSPRNG output; each draw uses
 * 53 random bits, so the modulo bias is below 2^-30 for any n < 2^23·…, negligible here).
 * `random` is the OS CSPRNG; tests pass a seeded stream to make statistical checks reproducible.
 */
export function securePermutation(n: number, random: (size: number) => Uint8Array = randomBytes): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const CHUNK = 8192;
  const refill = () => {
    const bytes = random(CHUNK * 8);
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  let pool = refill();
  let used = 0;
  for (let i = n - 1; i > 0; i--) {
    if (used === CHUNK) {
      pool = refill();
      used = 0;
    }
    const hi = pool.getUint32(used * 8) >>> 11; // 21 bits
    const lo = pool.getUint32(used * 8 + 4); // 32 bits
    used++;
    const r = (hi * 2 ** 32 + lo) / 2 ** 53;
    const j = Math.floor(r * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
