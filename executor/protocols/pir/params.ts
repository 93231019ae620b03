/**
 * Parameters of PRIVATE LOOKUP's labeled keyword PIR (APSI-style: OPRF, then BFV evaluation of
 * per-bin label interpolation polynomials), its parameter sets, and how the owner shapes a table.
 *
 * BFV, every set: n = 2048 slots, plain modulus t = 65537, one 48-bit coefficient prime. Zero
 * multiplicative depth (the requester sends every power of its query), so no relinearisation or
 * Galois keys and a fresh key pair per session. An item is an 80-bit OPRF-derived hash split
 * into 5 field elements ("felts") of 16 bits; 409 bins of 5 slots fill one ciphertext ("block").
 * Each bin holds at most K items per *bundle*; a table that needs more spreads over several
 * bundles. For each bundle the owner interpolates, per bin and felt position, the polynomial
 * through (item felt, label felt) (degree ≤ K−1); the requester sends Enc(q^0) … Enc(q^(K−1)),
 * the owner returns, per bundle, one ciphertext per 80-bit chunk of the label.
 *
 * Parameter sets (APSI's names in brackets; all measured with node-seal 6.0.3 on the dev box):
 *   S  tables < 250K entries [100K-1-16]: h = 1 hash function, 409 bins, K ≤ 42.
 *      Noise budget left after evaluation: 5 bits at K = 42.
 *   L  tables ≥ 250K entries [1M-1, with K raised]: h = 1, 409 bins, K ≤ 128.
 *      4 bits left at K = 55 … 160 (3 at 200–256), so K = 128 keeps a 16× margin; a larger K
 *      means fewer bundles: 1M entries take ~21 bundles instead of 64 at K = 42, i.e. one third
 *      of the result ciphertexts and of the requester's decryptions.
 *   C  batches [256K-1024 / 1M-1024-com geometry, on n = 2048]: h = 3 cuckoo hashing, 1636 bins
 *      (4 blocks), up to 1024 keys per query round, K ≤ 42 (< 250K entries) or 128. The owner
 *      inserts each entry under all 3 hash functions (3× the items); the requester places each
 *      key in one bin of its cuckoo table, so 1024 keys cost the owner 3 single-key evaluations
 *      instead of the 20 rounds that one hash function needs (see query-plan.ts).
 * Larger rings (n = 4096/8192 with windowing or Paterson–Stockmeyer) only save traffic and
 * were rejected: a ct×pt product costs 22 ns per slot at n = 2048 and 71 ns at n = 4096 with
 * three primes, so the owner's compute per entry rises ~3×, and they need relinearisation keys.
 *
 * Matching without a matching polynomial: every label carries `checkBytes` zero bytes under the
 * label's keystream (keyed by the OPRF output of the entry's key, see label-cipher.ts). In a
 * bundle where the requester's key is absent the evaluation is a pseudorandom combination of
 * other entries' encrypted labels, which decrypts to a zero check with probability
 * 2^(−8·checkBytes). A key is compared with every bundle of its block, so per key looked up:
 *     fpp ≤ bundles · 2^(−8·checkBytes) = bundles · 2^−48 ≤ 2^−40  for bundles ≤ MAX_BUNDLES = 256
 * in every set (S: up to ~4.3M entries; L and C: ~13M). The owner refuses to grow a table
 * beyond MAX_BUNDLES. Tests count false positives over ≥ 100K (miss, bundle) comparisons in
 * each set, with a negative control (1 check byte) whose observed rate must match 2^−8 per bundle.
 *
 * I/O-free; imports no other layer of the project.
 */

export const POLY_MODULUS_DEGREE = 2048;
export const COEFF_MODULUS_BITS = [48] as const;
export const PLAIN_MODULUS = 65537;
export const FELTS_PER_ITEM = 5;
/** Bits carried by one felt (t = 2^16 + 1, so any 16-bit value is a field element). */
export const FELT_BITS = 16;
/** Bins per ciphertext block. */
export const BINS_PER_BLOCK = Math.floor(POLY_MODULUS_DEGREE / FELTS_PER_ITEM); // 409
/** Label bytes carried by one label polynomial per bin: 5 felts × 2 bytes. */
export const LABEL_BYTES_PER_POLY = FELTS_PER_ITEM * (FELT_BITS / 8);
/** Largest K of set S (the 48-bit modulus keeps 5 bits of noise budget at 42, measured). */
export const MAX_ITEMS_PER_BIN_SMALL = 42;
/** Largest K of sets L and C (4 bits of noise budget left, measured up to K = 160). */
export const MAX_ITEMS_PER_BIN = 128;
export const MIN_ITEMS_PER_BIN = 4;
/** Tables of at least this many entries use the large sets (K ≤ 128). */
export const LARGE_TABLE_ENTRIES = 250_000;
export const MAX_BUNDLES = 256;
export const NONCE_BYTES = 4;
export const CHECK_BYTES = 6;
/** One length byte: labels are at most 255 bytes. */
export const MAX_LABEL_BYTES = 255;
/** Wire sizes with node-seal 6.0.3 (ct-wire.ts: 6 bytes per coefficient), for choosing K by traffic. */
export const QUERY_CT_BYTES = 12_482;
export const RESULT_CT_BYTES = 24_689;

/** How a table is hashed into bins: the single-key geometry or the cuckoo batch geometry. */
export type Geometry = 'single' | 'cuckoo';

export interface GeometryParams {
  hashFunctions: 1 | 3;
  /** Ciphertext blocks of BINS_PER_BLOCK bins; the table has blocks × 409 bins. */
  blocks: number;
  /** Keys one query round carries (cuckoo table load ≤ 0.63). */
  keysPerRound: number;
}

export const GEOMETRIES: Record<Geometry, GeometryParams> = {
  single: { hashFunctions: 1, blocks: 1, keysPerRound: BINS_PER_BLOCK },
  cuckoo: { hashFunctions: 3, blocks: 4, keysPerRound: 1024 },
};

export function binsOf(geometry: Geometry): number {
  return GEOMETRIES[geometry].blocks * BINS_PER_BLOCK;
}

export interface TableShape {
  /** K: items per bin per bundle; the requester sends K powers (q^0 … q^(K−1)). */
  itemsPerBin: number;
  /** L: label polynomials (result ciphertexts) per bundle and block. */
  labelPolys: number;
  /** Largest label (encoded bytes, before nonce/check/length) this shape carries. */
  labelCapacity: number;
  checkBytes: number;
}

/** One parameter set as EXPLAIN and the benchmark name it. */
export function parameterSetName(geometry: Geometry, entries: number): string {
  if (geometry === 'cuckoo') return 'C';
  return entries >= LARGE_TABLE_ENTRIES ? 'L' : 'S';
}

/** Encoded label layout bytes: nonce, then check bytes, length byte and label under the keystream. */
export function labelLayoutBytes(labelPolys: number): number {
  return labelPolys * LABEL_BYTES_PER_POLY;
}

export function labelPolysFor(maxLabelBytes: number, checkBytes = CHECK_BYTES): number {
  return Math.ceil((NONCE_BYTES + checkBytes + 1 + maxLabelBytes) / LABEL_BYTES_PER_POLY);
}

export function labelCapacityOf(labelPolys: number, checkBytes: number): number {
  return Math.min(MAX_LABEL_BYTES, labelLayoutBytes(labelPolys) - NONCE_BYTES - checkBytes - 1);
}

/**
 * Expected largest bin load when `items` items fall uniformly into `bins` bins (mean + 4
 * standard deviations of the Poisson approximation, rounded up) — for sizing only.
 */
export function expectedMaxBinLoad(items: number, bins = BINS_PER_BLOCK): number {
  const mean = items / bins;
  return Math.max(1, Math.ceil(mean + 4 * Math.sqrt(mean) + 2));
}

/**
 * Chooses K for a table of about `entries` entries with labels up to `maxLabelBytes` in one
 * geometry: the K (within the set's bound) that minimises one query round's traffic per block,
 * K query ciphertexts up plus bundles × L result ciphertexts down. The owner's compute per
 * round is about the same for every K (≈ items·L/409 ciphertext-plaintext products).
 */
export function chooseShape(entries: number, maxLabelBytes: number, geometry: Geometry = 'single', checkBytes = CHECK_BYTES): TableShape {
  if (maxLabelBytes > MAX_LABEL_BYTES) throw new RangeError(`labels are at most ${MAX_LABEL_BYTES} bytes, not ${maxLabelBytes}`);
  const labelPolys = labelPolysFor(maxLabelBytes, checkBytes);
  const { hashFunctions } = GEOMETRIES[geometry];
  const load = expectedMaxBinLoad(Math.max(entries, 1) * hashFunctions, binsOf(geometry));
  const maxK = entries >= LARGE_TABLE_ENTRIES ? MAX_ITEMS_PER_BIN : MAX_ITEMS_PER_BIN_SMALL;
  let best = maxK;
  let bestBytes = Infinity;
  for (let k = MIN_ITEMS_PER_BIN; k <= maxK; k++) {
    const bundles = Math.ceil(load / k);
    const bytes = k * QUERY_CT_BYTES + bundles * labelPolys * RESULT_CT_BYTES;
    if (bytes < bestBytes) {
      bestBytes = bytes;
      best = k;
    }
  }
  return { itemsPerBin: best, labelPolys, labelCapacity: labelCapacityOf(labelPolys, checkBytes), checkBytes };
}

/** The stated false-positive bound for one key looked up against `bundles` bundles. */
export function falsePositiveBound(bundles: number, checkBytes = CHECK_BYTES): number {
  return bundles * 2 ** (-8 * checkBytes);
}
