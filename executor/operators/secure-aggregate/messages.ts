/**
 * The operator's payloads inside the secure-sum frames (executor/protocols/mpc/secure-sum.ts):
 *
 * announce (party → requester, in HELLO):
 *   u32 rows · u32 digestBytes · SHA-256 of the party's key list (Arrow IPC stream of the GROUP BY
 *   key columns k0…, one row per party group; empty without GROUP BY) · u32 alleleBytes · alleles
 *   (GWAS only: u32 name count, the distinct allele names as UTF-8 joined by '\n', then two u32
 *   name indices per row)
 * keys request / keys (between HELLO and SETUP, any number of times):
 *   requester → party: 0x10 · u32 first row · u32 row count
 *   party → requester: 0x11 · Arrow IPC stream of those rows of its key list
 *   When every party announced the same digest, each sends only a 1/n slice of the list.
 * setup (requester → party, in SETUP):
 *   u32 rows · i32 slot per row · u8 flip per row (GWAS: 1 = the party's allele1 is the SNP's
 *   second allele by name)
 * Both are public information by policy (GROUP BY keys and allele names must be public columns).
 */
import { SqlError, SqlState } from '../../../parser/errors.js';

export interface Announce {
  rows: number;
  /** SHA-256 of the key list's IPC bytes (`keys` in the encoder's input). */
  keys: Uint8Array;
  alleles?: [string, string][];
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
  slots: Int32Array;
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

/** Allele names as a dictionary: few distinct names (A, C, G, T, 0), one index pair per row. */
function encodeAlleles(pairs: [string, string][]): Uint8Array {
  const index = new Map<string, number>();
  const ids = new Uint32Array(2 * pairs.length);
  pairs.forEach(([x, y], r) => {
    for (const [k, name] of [[0, x], [1, y]] as const) {
      let id = index.get(name);
      if (id === undefined) index.set(name, (id = index.size));
      ids[2 * r + k] = id;
    }
  });
  const names = Buffer.from([...index.keys()].join('\n'), 'utf8');
  const out = new Uint8Array(8 + names.byteLength + ids.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, index.size);
  dv.setUint32(4, names.byteLength);
  out.set(names, 8);
  out.set(new Uint8Array(ids.buffer), 8 + names.byteLength);
  return out;
}

function decodeAlleles(bytes: Uint8Array, rows: number): [string, string][] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8) malformed('announce (alleles)');
  const count = dv.getUint32(0);
  const nameBytes = dv.getUint32(4);
  if (bytes.byteLength !== 8 + nameBytes + 8 * rows) malformed('announce (allele rows)');
  const names = count ? Buffer.from(bytes.subarray(8, 8 + nameBytes)).toString('utf8').split('\n') : [];
  if (names.length !== count) malformed('announce (allele names)');
  const out: [string, string][] = new Array(rows);
  const base = 8 + nameBytes;
  for (let r = 0; r < rows; r++) {
    const x = names[dv.getUint32(base + 8 * r, true)];
    const y = names[dv.getUint32(base + 8 * r + 4, true)];
    if (x === undefined || y === undefined) malformed('announce (allele index)');
    out[r] = [x, y];
  }
  return out;
}

export function decodeAnnounce(bytes: Uint8Array): Announce {
  if (bytes.byteLength < 12) malformed('announce');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows = dv.getUint32(0);
  const keyBytes = dv.getUint32(4);
  if (bytes.byteLength < 12 + keyBytes) malformed('announce');
  const keys = bytes.subarray(8, 8 + keyBytes);
  const alleleBytes = dv.getUint32(8 + keyBytes);
  if (bytes.byteLength !== 12 + keyBytes + alleleBytes) malformed('announce');
  const alleles = alleleBytes > 0 ? decodeAlleles(bytes.subarray(12 + keyBytes), rows) : undefined;
  return { rows, keys, alleles };
}

export function encodeSetup(s: SetupPayload): Uint8Array {
  const rows = s.slots.length;
  const out = new Uint8Array(4 + 4 * rows + (s.flips ? rows : 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, rows);
  for (let i = 0; i < rows; i++) dv.setInt32(4 + 4 * i, s.slots[i], true);
  if (s.flips) out.set(s.flips, 4 + 4 * rows);
  return out;
}

export function decodeSetup(bytes: Uint8Array, expectedRows: number, withFlips: boolean): SetupPayload {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4 || dv.getUint32(0) !== expectedRows) malformed('setup (row count)');
  if (bytes.byteLength !== 4 + 4 * expectedRows + (withFlips ? expectedRows : 0)) malformed('setup (size)');
  const slots = new Int32Array(expectedRows);
  for (let i = 0; i < expectedRows; i++) slots[i] = dv.getInt32(4 + 4 * i, true);
  const flips = withFlips ? bytes.slice(4 + 4 * expectedRows) : undefined;
  return { slots, flips };
}
