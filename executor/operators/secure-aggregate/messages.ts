/**
 * The operator's payloads inside the secure-sum frames (executor/protocols/mpc/secure-sum.ts):
 *
 * announce (party → requester, in HELLO):
 *   u32 rows · u32 digestBytes · digest of the party's key list (key-list.ts; empty without
 *   GROUP BY) · u32 alleleBytes · alleles (GWAS only: u32 name count, u32 name bytes, the
 *   distinct allele names as UTF-8 joined by '\n', u8 code width, then per row one byte — the
 *   two name indices as nibbles — or two u16 indices when there are more than 16 names)
 * keys request / keys (between HELLO and SETUP, any number of times):
 *   requester → party: 0x10 · u32 first row · u32 row count
 *   party → requester: 0x11 · Arrow IPC stream of those rows of its key list
 *   When every party announced the same digest, each sends only a 1/n slice of the list.
 * setup (requester → party, in SETUP):
 *   u32 rows · u8 flags (1: explicit slot map follows, else slot = row; 2: flip bits follow) ·
 *   [i32 slot per row] · [one bit per row, LSB first: 1 = the party's allele1 is the SNP's
 *   second allele by name (GWAS)]
 * Both are public information by policy (GROUP BY keys and allele names must be public columns).
 */
import type { AlleleCodes } from '../../../connectors/plink/class-layout.js';
import { SqlError, SqlState } from '../../../parser/errors.js';

export interface Announce {
  rows: number;
  /** Digest of the key list (key-list.ts). */
  keys: Uint8Array;
  alleles?: AlleleCodes;
}

export const KEYS_REQUEST = 0x10;
export const KEYS = 0x11;

export function encodeKeysRequest(first: number, count: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = KEYS_REQUEST;
  new DataView(out.buffer).setUint32(1, first);
  new DataView(out.buffer).setUint32(5, count);
  return out;
}

export function decodeKeysRequest(frame: Uint8Array): { first: number; count: number } {
  if (frame.byteLength !== 9 || frame[0] !== KEYS_REQUEST) malformed('keys request');
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { first: dv.getUint32(1), count: dv.getUint32(5) };
}

export interface SetupPayload {
  /** The party's announced rows. */
  rows: number;
  /** Slot of each row; undefined: slot = row (every party holds the same key list). */
  slots?: Int32Array;
  /** GWAS: 1 where the party's allele1 is the SNP's second allele by name. */
  flips?: Uint8Array;
}

function malformed(what: string): never {
  throw new SqlError(SqlState.protocolViolation, `malformed secure-aggregation ${what}`);
}

export function encodeAnnounce(a: Announce): Uint8Array {
  const alleles = a.alleles ? encodeAlleles(a.alleles) : new Uint8Array(0);
  const out = new Uint8Array(12 + a.keys.byteLength + alleles.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, a.rows);
  dv.setUint32(4, a.keys.byteLength);
  out.set(a.keys, 8);
  dv.setUint32(8 + a.keys.byteLength, alleles.byteLength);
  out.set(alleles, 12 + a.keys.byteLength);
  return out;
}

function encodeAlleles(a: AlleleCodes): Uint8Array {
  const names = Buffer.from(a.names.join('\n'), 'utf8');
  const out = new Uint8Array(9 + names.byteLength + a.codes.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, a.names.length);
  dv.setUint32(4, names.byteLength);
  out.set(names, 8);
  out[8 + names.byteLength] = a.width;
  out.set(a.codes, 9 + names.byteLength);
  return out;
}

function decodeAlleles(bytes: Uint8Array, rows: number): AlleleCodes {
  if (bytes.byteLength < 9) malformed('announce (alleles)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = dv.getUint32(0);
  const nameBytes = dv.getUint32(4);
  if (bytes.byteLength < 9 + nameBytes) malformed('announce (allele names)');
  const names = count ? Buffer.from(bytes.subarray(8, 8 + nameBytes)).toString('utf8').split('\n') : [];
  if (names.length !== count || count > 0xffff) malformed('announce (allele names)');
  const width = bytes[8 + nameBytes];
  if ((width !== 1 && width !== 4) || (width === 1 && count > 16)) malformed('announce (allele code width)');
  const codes = bytes.slice(9 + nameBytes);
  if (codes.byteLength !== width * rows) malformed('announce (allele rows)');
  // Every index must name an allele.
  if (width === 1) {
    for (let r = 0; r < rows; r++) if (codes[r] >> 4 >= count || (codes[r] & 15) >= count) malformed('announce (allele index)');
  } else {
    const cv = new DataView(codes.buffer);
    for (let i = 0; i < 2 * rows; i++) if (cv.getUint16(2 * i, true) >= count) malformed('announce (allele index)');
  }
  return { names, width, codes };
}

export function decodeAnnounce(bytes: Uint8Array): Announce {
  if (bytes.byteLength < 12) malformed('announce');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows = dv.getUint32(0);
  const keyBytes = dv.getUint32(4);
  if (bytes.byteLength < 12 + keyBytes) malformed('announce');
  const keys = bytes.slice(8, 8 + keyBytes);
  const alleleBytes = dv.getUint32(8 + keyBytes);
  if (bytes.byteLength !== 12 + keyBytes + alleleBytes) malformed('announce');
  const alleles = alleleBytes > 0 ? decodeAlleles(bytes.subarray(12 + keyBytes), rows) : undefined;
  return { rows, keys, alleles };
}

const EXPLICIT_SLOTS = 1;
const FLIP_BITS = 2;

export function encodeSetup(s: SetupPayload): Uint8Array {
  const rows = s.rows;
  if ((s.slots && s.slots.length !== rows) || (s.flips && s.flips.length !== rows)) throw new RangeError('setup arrays must have one entry per row');
  const slotBytes = s.slots ? 4 * rows : 0;
  const flipBytes = s.flips ? Math.ceil(rows / 8) : 0;
  const out = new Uint8Array(5 + slotBytes + flipBytes);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, rows);
  out[4] = (s.slots ? EXPLICIT_SLOTS : 0) | (s.flips ? FLIP_BITS : 0);
  if (s.slots) for (let i = 0; i < rows; i++) dv.setInt32(5 + 4 * i, s.slots[i], true);
  if (s.flips) {
    const base = 5 + slotBytes;
    for (let i = 0; i < rows; i++) if (s.flips[i]) out[base + (i >> 3)] |= 1 << (i & 7);
  }
  return out;
}

/** The setup for `expectedRows` rows; slots default to the identity map. */
export function decodeSetup(bytes: Uint8Array, expectedRows: number, withFlips: boolean): { slots: Int32Array | undefined; flips: Uint8Array | undefined } {
  if (bytes.byteLength < 5) malformed('setup');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0) !== expectedRows) malformed('setup (row count)');
  const flags = bytes[4];
  if (flags & ~(EXPLICIT_SLOTS | FLIP_BITS) || Boolean(flags & FLIP_BITS) !== withFlips) malformed('setup (flags)');
  const slotBytes = flags & EXPLICIT_SLOTS ? 4 * expectedRows : 0;
  const flipBytes = flags & FLIP_BITS ? Math.ceil(expectedRows / 8) : 0;
  if (bytes.byteLength !== 5 + slotBytes + flipBytes) malformed('setup (size)');
  let slots: Int32Array | undefined;
  if (slotBytes) {
    slots = new Int32Array(expectedRows);
    for (let i = 0; i < expectedRows; i++) slots[i] = dv.getInt32(5 + 4 * i, true);
  }
  let flips: Uint8Array | undefined;
  if (flipBytes) {
    flips = new Uint8Array(expectedRows);
    const base = 5 + slotBytes;
    for (let i = 0; i < expectedRows; i++) flips[i] = (bytes[base + (i >> 3)] >> (i & 7)) & 1;
  }
  return { slots, flips };
}
