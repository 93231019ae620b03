/**
 * What PRIVATE LOOKUP derives from a key's 64-byte OPRF output F(k, key):
 * - the item: bytes 0–9, five 16-bit field elements (80 bits) compared slot-wise under BFV;
 * - its bin(s): bytes 10–21, up to three 32-bit values mod 409 (one per cuckoo hash function;
 *   single keys use one, the owner inserts each entry under every function in use);
 * - the label key: bytes 32–63, the ChaCha20 key of the entry's label (label-cipher.ts).
 * All of it is pseudorandom to anyone without the owner's OPRF key, so the owner's encoded table
 * reveals nothing about keys the requester has not evaluated.
 *
 * I/O-free; imports no other layer of the project.
 */
import { BINS_PER_BUNDLE, FELTS_PER_ITEM } from './params.js';

export const MAX_HASH_FUNCTIONS = 3;

export interface LookupItem {
  felts: Uint16Array;
  labelKey: Uint8Array;
  output: Uint8Array;
}

export function itemFromOprfOutput(output: Uint8Array): LookupItem {
  if (output.length !== 64) throw new RangeError(`an OPRF output has 64 bytes, not ${output.length}`);
  const felts = new Uint16Array(FELTS_PER_ITEM);
  for (let j = 0; j < FELTS_PER_ITEM; j++) felts[j] = (output[2 * j] << 8) | output[2 * j + 1];
  return { felts, labelKey: output.subarray(32, 64), output };
}

/** The bin of `output` under hash function `fn` (0 … MAX_HASH_FUNCTIONS − 1). */
export function binOf(output: Uint8Array, fn = 0): number {
  if (fn < 0 || fn >= MAX_HASH_FUNCTIONS) throw new RangeError(`hash function ${fn} out of range`);
  const at = 10 + 4 * fn;
  const v = ((output[at] << 24) | (output[at + 1] << 16) | (output[at + 2] << 8) | output[at + 3]) >>> 0;
  return v % BINS_PER_BUNDLE;
}
