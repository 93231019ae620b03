/**
 * The requester's batching for PRIVATE LOOKUP: which geometry a batch uses and which key goes
 * into which bin of which query unit. A *unit* is one block of 409 bins: one key per bin, sent as
 * K ciphertexts Enc(q^0 … q^(K−1)) and answered with bundles × L ciphertexts.
 *
 * - single geometry (one hash function, 409 bins): each key has exactly one bin, so a batch is
 *   sent as *rounds* of one unit each: round r holds the r-th key of every bin. The round count
 *   must not depend on the keys (the owner can compute the bin of any key it can guess: it holds
 *   the OPRF key), so it is a fixed function of the padded batch size — the smallest R with
 *   P(some bin receives more than R of m uniformly hashed keys) ≤ 2^−30 — and empty bins carry
 *   dummy values.
 * - cuckoo geometry (3 hash functions, 1636 bins = 4 units per round): up to 1024 keys per round
 *   are cuckoo-hashed (cuckoo.ts), so a round costs the owner 3 single-round evaluations (its
 *   entries are inserted 3 times) whatever the batch; ⌈m/1024⌉ rounds for m keys.
 * The requester takes cuckoo when 3·⌈m/1024⌉ < R(m), i.e. from 4 padded keys on (R(4) = 4,
 * R(1024) = 20). Only if a batch exceeds its bound (probability ≤ 2^−30 for both) is an extra
 * round sent. Batch sizes are padded to a bucket (powers of two up to 1024, then multiples of
 * 1024), so the owner learns only the bucket, the geometry and the unit count that follow from it.
 *
 * Pure functions; I/O-free; imports no other layer of the project.
 */
import { cuckooInsert } from './cuckoo.js';
import { BINS_PER_BLOCK, FELTS_PER_ITEM, GEOMETRIES, PLAIN_MODULUS, POLY_MODULUS_DEGREE, binsOf, type Geometry } from './params.js';

/** The padded size of a batch of `count` distinct keys. */
export function paddedBatchSize(count: number): number {
  if (count <= 1) return 1;
  if (count <= 1024) return 2 ** Math.ceil(Math.log2(count));
  return Math.ceil(count / 1024) * 1024;
}

const roundsCache = new Map<number, number>();

/** Single-geometry rounds for a padded batch of `m` keys (see the module doc). */
export function roundsFor(m: number): number {
  const cached = roundsCache.get(m);
  if (cached !== undefined) return cached;
  // Binomial(m, 1/bins) upper tail, summed term by term in log space; union bound over bins.
  const p = 1 / BINS_PER_BLOCK;
  const lf = logFactorials(m);
  const logTerm = (k: number) => lf[m] - lf[k] - lf[m - k] + k * Math.log(p) + (m - k) * Math.log1p(-p);
  let r = 1;
  for (; r < m; r++) {
    let tail = 0;
    for (let k = r + 1; k <= m; k++) {
      const t = Math.exp(logTerm(k));
      tail += t;
      if (t < tail * 1e-12) break;
    }
    if (BINS_PER_BLOCK * tail <= 2 ** -30) break;
  }
  roundsCache.set(m, r);
  return r;
}

function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) out[i] = out[i - 1] + Math.log(i);
  return out;
}

/** The geometry a padded batch of `m` keys uses. */
export function chooseGeometry(m: number): Geometry {
  return 3 * Math.ceil(m / GEOMETRIES.cuckoo.keysPerRound) < roundsFor(m) ? 'cuckoo' : 'single';
}

/** Query units announced for a padded batch of `m` keys in `geometry` (before any overflow). */
export function unitsFor(m: number, geometry: Geometry): number {
  const g = GEOMETRIES[geometry];
  return geometry === 'single' ? roundsFor(m) : Math.ceil(m / g.keysPerRound) * g.blocks;
}

/** Extra units an owner accepts beyond the announced count (overflow rounds, ≤ 2^−30 each). */
export function overflowAllowance(geometry: Geometry): number {
  return 4 * GEOMETRIES[geometry].blocks;
}

export interface QueryUnit {
  /** Block of the geometry's table this unit covers (bins block·409 … block·409 + 408). */
  block: number;
  /** Per bin of the block: the index of the key queried there, or −1. */
  keys: Int32Array;
}

/**
 * Assigns keys to query units. `hashes` holds 3 hash values per key (items.ts `hashValue`);
 * `minUnits` is the announced count (the plan has at least that many units).
 */
export function planUnits(geometry: Geometry, hashes: ArrayLike<number>, keyCount: number, minUnits: number, random: (n: number) => Uint8Array): QueryUnit[] {
  const units: QueryUnit[] = [];
  if (geometry === 'single') {
    const perBin = new Uint32Array(BINS_PER_BLOCK);
    const unit = (r: number) => {
      while (units.length <= r) units.push({ block: 0, keys: new Int32Array(BINS_PER_BLOCK).fill(-1) });
      return units[r];
    };
    for (let i = 0; i < keyCount; i++) {
      const bin = hashes[i * 3] % BINS_PER_BLOCK;
      unit(perBin[bin]++).keys[bin] = i;
    }
    for (let r = units.length; r < minUnits; r++) unit(r);
    return units;
  }
  const { blocks, keysPerRound } = GEOMETRIES.cuckoo;
  const bins = binsOf('cuckoo');
  const addRound = (slots: Int32Array) => {
    for (let b = 0; b < blocks; b++) units.push({ block: b, keys: slots.slice(b * BINS_PER_BLOCK, (b + 1) * BINS_PER_BLOCK) });
  };
  let pending: number[] = [];
  for (let start = 0; start < keyCount; start += keysPerRound) {
    const chunk = Array.from({ length: Math.min(keysPerRound, keyCount - start) }, (_, i) => start + i);
    const table = cuckooInsert(chunk, hashes, bins, random);
    addRound(table.slots);
    pending.push(...table.failed);
  }
  // Overflow: keys that found no place go into extra rounds (probability ≤ 2^−30 per batch).
  while (pending.length > 0) {
    const table = cuckooInsert(pending, hashes, bins, random);
    if (table.failed.length === pending.length) throw new RangeError('cuckoo hashing cannot place these keys');
    addRound(table.slots);
    pending = table.failed;
  }
  while (units.length < minUnits) addRound(new Int32Array(bins).fill(-1));
  return units;
}

/**
 * The slot vectors of Enc(q^0) … Enc(q^(powers−1)) for one unit: slot bin·5 + j holds felt j of
 * that bin's key raised to the power; empty bins hold 0 (the ciphertexts hide it and the
 * requester ignores those bins).
 */
export function queryPowerVectors(keys: Int32Array, felts: ArrayLike<number>, powers: number): Uint32Array[] {
  const vectors = Array.from({ length: powers }, () => new Uint32Array(POLY_MODULUS_DEGREE));
  for (let bin = 0; bin < BINS_PER_BLOCK; bin++) {
    const key = keys[bin];
    for (let j = 0; j < FELTS_PER_ITEM; j++) {
      const slot = bin * FELTS_PER_ITEM + j;
      const x = key >= 0 ? felts[key * FELTS_PER_ITEM + j] : 0;
      vectors[0][slot] = 1;
      let acc = 1;
      for (let d = 1; d < powers; d++) {
        acc = (acc * x) % PLAIN_MODULUS;
        vectors[d][slot] = acc;
      }
    }
  }
  return vectors;
}

/** The evaluated label felts of `bin` from one bundle's decrypted result vectors (one per ℓ). */
export function labelFeltsAt(results: readonly Uint32Array[], bin: number): Uint32Array {
  const out = new Uint32Array(results.length * FELTS_PER_ITEM);
  results.forEach((slots, l) => {
    for (let j = 0; j < FELTS_PER_ITEM; j++) out[l * FELTS_PER_ITEM + j] = slots[bin * FELTS_PER_ITEM + j];
  });
  return out;
}
