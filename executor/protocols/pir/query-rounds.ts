/**
 * The requester's batching for PRIVATE LOOKUP. One query ciphertext carries one key per bin
 * (409 bins), and each key has exactly one bin (one hash function: the owner's table is encoded
 * once, so a single-key lookup touches each entry once). A batch is therefore sent as *rounds*:
 * round r holds the r-th key of every bin.
 *
 * The number of rounds must not depend on the keys: the owner can compute the bin of any key
 * it can guess (it holds the OPRF key), so "two rounds" would tell it two of the keys share a
 * bin. The round count is a fixed function of the padded batch size — the smallest R with
 * P(some bin receives more than R of m uniformly hashed keys) ≤ 2^−30 — and empty slots carry
 * dummy values. Only if a batch exceeds that bound (probability ≤ 2^−30) are extra rounds sent.
 * Batch sizes are padded to a bucket (powers of two up to 1024, then multiples of 1024), so the
 * owner learns only the bucket.
 *
 * Pure functions; I/O-free; imports no other layer of the project.
 */
import { BINS_PER_BUNDLE, FELTS_PER_ITEM, POLY_MODULUS_DEGREE } from './params.js';

/** The padded size of a batch of `count` distinct keys. */
export function paddedBatchSize(count: number): number {
  if (count <= 1) return 1;
  if (count <= 1024) return 2 ** Math.ceil(Math.log2(count));
  return Math.ceil(count / 1024) * 1024;
}

const roundsCache = new Map<number, number>();

/** Rounds sent for a padded batch of `m` keys (see the module doc). */
export function roundsFor(m: number): number {
  const cached = roundsCache.get(m);
  if (cached !== undefined) return cached;
  // Binomial(m, 1/bins) upper tail, summed term by term in log space; union bound over bins.
  const p = 1 / BINS_PER_BUNDLE;
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
    if (BINS_PER_BUNDLE * tail <= 2 ** -30) break;
  }
  roundsCache.set(m, r);
  return r;
}

function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) out[i] = out[i - 1] + Math.log(i);
  return out;
}

/**
 * Assigns keys (by their bin) to rounds: `rounds[r][bin]` is the index of the key queried in
 * that bin in round r, or −1. Has at least `minRounds` rounds.
 */
export function assignRounds(bins: readonly number[], minRounds: number): Int32Array[] {
  const perBin = new Uint32Array(BINS_PER_BUNDLE);
  const rounds: Int32Array[] = [];
  const round = (r: number) => {
    while (rounds.length <= r) rounds.push(new Int32Array(BINS_PER_BUNDLE).fill(-1));
    return rounds[r];
  };
  bins.forEach((bin, i) => {
    round(perBin[bin]++)[bin] = i;
  });
  for (let r = rounds.length; r < minRounds; r++) round(r);
  return rounds;
}

/**
 * The slot vectors of Enc(q^0) … Enc(q^(powers−1)) for one round: slot bin·5 + j holds felt j
 * of that bin's key raised to the power; empty bins hold a random-looking dummy (here: 0; the
 * ciphertexts hide it and the requester ignores those bins).
 */
export function queryPowerVectors(round: Int32Array, felts: readonly Uint16Array[], powers: number): Uint32Array[] {
  const vectors = Array.from({ length: powers }, () => new Uint32Array(POLY_MODULUS_DEGREE));
  for (let bin = 0; bin < BINS_PER_BUNDLE; bin++) {
    const key = round[bin];
    for (let j = 0; j < FELTS_PER_ITEM; j++) {
      const slot = bin * FELTS_PER_ITEM + j;
      const x = key >= 0 ? felts[key][j] : 0;
      vectors[0][slot] = 1;
      let acc = 1;
      for (let d = 1; d < powers; d++) {
        acc = (acc * x) % 65537;
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
