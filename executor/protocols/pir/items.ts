/**
 * What PRIVATE LOOKUP derives from a key's 64-byte OPRF output F(k, key):
 * - the item: bytes 0–9, five 16-bit field elements (80 bits) compared slot-wise under BFV;
 * - its bins: bytes 10–21, three 32-bit hash values; hash function i puts the item in bin
 *   value_i mod (table bins). The single-key geometry uses function 0 over 409 bins, the cuckoo
 *   geometry all three over 1636 bins (the owner inserts each entry under each distinct bin);
 * - the label key: bytes 32–63, the ChaCha20 key of the entry's label (label-cipher.ts).
 * All of it is pseudorandom to anyone without the owner's OPRF key, so the owner's encoded table
 * reveals nothing about keys the requester has not evaluated.
 *
 * I/O-free; imports no other layer of the project.
 */
import { BINS_PER_BLOCK, FELTS_PER_ITEM } from './params.js';

export const MAX_HASH_FUNCTIONS = 3;

export interface LookupItem {
  felts: Uint16Array;
  labelKey: Uint8Array;
  output: Uint8Array;
}

export function itemFromOprfOutput(output: Uint8Array): LookupItem {
  if (output.length !== 64) throw new RangeError(`an OPRF output has 64 bytes, not ${output.length}`);
  return { felts: itemFelts(output), labelKey: output.subarray(32, 64), output };
}

/** The five 16-bit felts of an OPRF output (big-endian byte pairs 0–9). */
export function itemFelts(output: Uint8Array, into = new Uint16Array(FELTS_PER_ITEM), at = 0): Uint16Array {
  for (let j = 0; j < FELTS_PER_ITEM; j++) into[at + j] = (output[2 * j] << 8) | output[2 * j + 1];
  return into;
}

/** The 32-bit value of hash function `fn` (0 … 2) of an OPRF output. */
export function hashValue(output: Uint8Array, fn: number): number {
  if (fn < 0 || fn >= MAX_HASH_FUNCTIONS) throw new RangeError(`hash function ${fn} out of range`);
  const at = 10 + 4 * fn;
  return ((output[at] << 24) | (output[at + 1] << 16) | (output[at + 2] << 8) | output[at + 3]) >>> 0;
}

/** The bin of `output` under hash function `fn` in a table of `bins` bins. */
export function binOf(output: Uint8Array, fn = 0, bins = BINS_PER_BLOCK): number {
  return hashValue(output, fn) % bins;
}

/** The distinct bins of an item under the first `functions` hash functions (owner insertion). */
export function distinctBins(hashes: ArrayLike<number>, functions: number, bins: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < functions; i++) {
    const b = hashes[i] % bins;
    if (!out.includes(b)) out.push(b);
  }
  return out;
}
