/**
 * Parameters of PRIVATE LOOKUP's labeled keyword PIR (APSI-style: OPRF, then BFV evaluation of
 * per-bin label interpolation polynomials), and how the owner chooses its table's shape.
 *
 * BFV: n = 2048 slots, plain modulus t = 65537, one 48-bit coefficient prime (APSI's
 * 100K-1-16 set): zero multiplicative depth, so no relinearisation or Galois keys and a fresh
 * key pair per session. An item is an 80-bit OPRF-derived hash split into 5 field elements
 * ("felts") of 16 bits; 409 bins of 5 slots fill one ciphertext. Each bin holds at most K items
 * per *bundle*; a table that needs more spreads over several bundles. For each bundle the owner
 * interpolates, per bin and felt position, the polynomial through (item felt, label felt)
 * (degree ≤ K−1); the requester sends Enc(q), Enc(q²) … Enc(q^(K−1)) (all powers: no
 * ciphertext products, so the 48-bit modulus keeps ~4 bits of noise budget at K = 42, measured);
 * the owner returns, per bundle, one ciphertext per 80-bit chunk of the label.
 *
 * Matching without a matching polynomial: every label carries `checkBytes` zero bytes under the
 * label's keystream (keyed by the OPRF output of the entry's key, see label-cipher.ts). At a
 * bundle where the requester's key is not present the evaluation is a pseudorandom combination
 * of other entries' encrypted labels, which decrypts to a zero check with probability
 * 2^(−8·checkBytes). False-positive probability per lookup (one key):
 *     fpp ≤ bundles · 2^(−8·checkBytes) = bundles · 2^−48 ≤ 2^−40 for bundles ≤ MAX_BUNDLES = 256,
 * i.e. up to ~4.3M entries at K = 42 (the index refuses to grow beyond that). Tests count false
 * positives over ≥ 100K misses, plus a negative control with 1 check byte whose observed rate
 * must match 2^−8 per bundle.
 *
 * Larger parameter sets (n = 4096/8192 with windowing or Paterson–Stockmeyer, research note
 * §6.2) only reduce traffic: measured on this machine a ct×pt product costs 22 ns per slot at
 * n = 2048 and 71 ns at n = 4096 with three primes, so they raise the owner's compute per entry
 * ~3×, and they need relinearisation keys. We keep n = 2048 for every table size (1M entries:
 * ~63 bundles; see bench/private-lookup for the resulting traffic) and choose K per table.
 *
 * I/O-free; imports no other layer of the project.
 */

export const POLY_MODULUS_DEGREE = 2048;
export const COEFF_MODULUS_BITS = [48] as const;
export const PLAIN_MODULUS = 65537;
export const FELTS_PER_ITEM = 5;
/** Bits carried by one felt (t = 2^16 + 1, so any 16-bit value is a field element). */
export const FELT_BITS = 16;
export const BINS_PER_BUNDLE = Math.floor(POLY_MODULUS_DEGREE / FELTS_PER_ITEM); // 409
/** Label bytes carried by one label polynomial per bin: 5 felts × 2 bytes. */
export const LABEL_BYTES_PER_POLY = FELTS_PER_ITEM * (FELT_BITS / 8);
/** Largest K the 48-bit modulus supports with all powers sent (measured: ~4 bits left at 42). */
export const MAX_ITEMS_PER_BIN = 42;
export const MIN_ITEMS_PER_BIN = 4;
export const MAX_BUNDLES = 256;
export const NONCE_BYTES = 4;
export const CHECK_BYTES = 6;
/** One length byte: labels are at most 255 bytes. */
export const MAX_LABEL_BYTES = 255;
/** Serialized sizes measured with node-seal 6.0.3 (zstd), for choosing K by traffic. */
const QUERY_CT_BYTES = 14_200;
const RESULT_CT_BYTES = 28_100;

export interface TableShape {
  /** K: items per bin per bundle; the requester sends K − 1 powers. */
  itemsPerBin: number;
  /** L: label polynomials (result ciphertexts) per bundle. */
  labelPolys: number;
  /** Largest label (encoded bytes, before nonce/check/length) this shape carries. */
  labelCapacity: number;
  checkBytes: number;
}

/** Encoded label layout bytes: nonce, then check bytes, length byte and label under the keystream. */
export function labelLayoutBytes(labelPolys: number): number {
  return labelPolys * LABEL_BYTES_PER_POLY;
}

export function labelPolysFor(maxLabelBytes: number, checkBytes = CHECK_BYTES): number {
  return Math.ceil((NONCE_BYTES + checkBytes + 1 + maxLabelBytes) / LABEL_BYTES_PER_POLY);
}

/**
 * Expected largest bin load when `entries` items fall uniformly into BINS_PER_BUNDLE bins
 * (mean + 4 standard deviations of the Poisson approximation, rounded up) — for sizing only.
 */
export function expectedMaxBinLoad(entries: number): number {
  const mean = entries / BINS_PER_BUNDLE;
  return Math.max(1, Math.ceil(mean + 4 * Math.sqrt(mean) + 2));
}

/**
 * Chooses K for a table of about `entries` entries with labels up to `maxLabelBytes`: the K
 * that minimises one lookup's traffic, (K−1) query ciphertexts up plus bundles × L result
 * ciphertexts down. Server compute is about the same for every K (≈ entries·L/409 products).
 */
export function chooseShape(entries: number, maxLabelBytes: number, checkBytes = CHECK_BYTES): TableShape {
  if (maxLabelBytes > MAX_LABEL_BYTES) throw new RangeError(`labels are at most ${MAX_LABEL_BYTES} bytes, not ${maxLabelBytes}`);
  const labelPolys = labelPolysFor(maxLabelBytes, checkBytes);
  const load = expectedMaxBinLoad(Math.max(entries, 1));
  let best = MAX_ITEMS_PER_BIN;
  let bestBytes = Infinity;
  for (let k = MIN_ITEMS_PER_BIN; k <= MAX_ITEMS_PER_BIN; k++) {
    const bundles = Math.ceil(load / k);
    const bytes = (k - 1) * QUERY_CT_BYTES + bundles * labelPolys * RESULT_CT_BYTES;
    if (bytes < bestBytes) {
      bestBytes = bytes;
      best = k;
    }
  }
  const capacity = labelLayoutBytes(labelPolys) - NONCE_BYTES - checkBytes - 1;
  return { itemsPerBin: best, labelPolys, labelCapacity: capacity, checkBytes };
}

/** The stated false-positive bound for one key looked up against `bundles` bundles. */
export function falsePositiveBound(bundles: number, checkBytes = CHECK_BYTES): number {
  return bundles * 2 ** (-8 * checkBytes);
}
