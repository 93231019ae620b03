/**
 * The requester's cuckoo hashing for PRIVATE LOOKUP batches (APSI/Kuku style, 3 hash functions,
 * no stash): each key goes into one of its 3 candidate bins of a 1636-bin table, evicting and
 * re-placing earlier keys along a random walk when all 3 are taken. The owner has inserted each
 * entry under all 3 functions, so whichever bin a key ends up in holds every entry of that key.
 *
 * Failure (a key that cannot be placed within MAX_EVICTIONS moves) happens when some s keys have
 * all their candidates inside fewer than s bins. For 1024 keys in 1636 bins the union bound is
 * dominated by two keys whose 6 hash values all hit one bin, C(1024,2)·1636^−5 ≈ 2^−34, then three
 * keys confined to two bins (≈ 2^−39); see `cuckooFailureBound`. A key that fails is returned so
 * the caller can send it in an extra round (which the owner then sees: probability ≤ 2^−30).
 *
 * Pure functions over the keys' hash values; the eviction walk draws from the injected random
 * source. I/O-free; imports no other layer of the project.
 */

export const MAX_EVICTIONS = 500;

export interface CuckooTable {
  /** Per bin: the index (into the caller's key list) of the key placed there, or −1. */
  slots: Int32Array;
  /** Keys that could not be placed. */
  failed: number[];
}

/**
 * Inserts `keys` (indices into `hashes`, which holds 3 hash values per key) into a table of
 * `bins` bins. `random(n)` returns n random bytes (crypto.randomBytes in production).
 */
export function cuckooInsert(keys: readonly number[], hashes: ArrayLike<number>, bins: number, random: (n: number) => Uint8Array): CuckooTable {
  const slots = new Int32Array(bins).fill(-1);
  const failed: number[] = [];
  let pool = random(256);
  let at = 0;
  const nextRandom = (): number => {
    if (at === pool.length) {
      pool = random(256);
      at = 0;
    }
    return pool[at++];
  };
  for (const key of keys) {
    let current = key;
    let last = -1;
    let placed = false;
    for (let move = 0; move <= MAX_EVICTIONS; move++) {
      // A free candidate bin takes the key at once.
      let free = -1;
      for (let f = 0; f < 3; f++) {
        const b = hashes[current * 3 + f] % bins;
        if (slots[b] < 0) {
          free = b;
          break;
        }
      }
      if (free >= 0) {
        slots[free] = current;
        placed = true;
        break;
      }
      // Otherwise evict the occupant of a random candidate (not the bin we just came from).
      let victim: number;
      do {
        victim = hashes[current * 3 + (nextRandom() % 3)] % bins;
      } while (victim === last && distinctCandidates(hashes, current, bins) > 1);
      const evicted = slots[victim];
      slots[victim] = current;
      last = victim;
      current = evicted;
    }
    if (!placed) failed.push(current);
  }
  return { slots, failed };
}

function distinctCandidates(hashes: ArrayLike<number>, key: number, bins: number): number {
  const a = hashes[key * 3] % bins;
  const b = hashes[key * 3 + 1] % bins;
  const c = hashes[key * 3 + 2] % bins;
  return 1 + (b !== a ? 1 : 0) + (c !== a && c !== b ? 1 : 0);
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 0; i < k; i++) s += Math.log2(n - i) - Math.log2(i + 1);
  return s;
}

/**
 * Union bound (log2) on a cuckoo failure for `keys` keys, 3 hash functions and `bins` bins: the
 * probability that some s keys (2 ≤ s ≤ 8) have all 3s candidates inside s − 1 bins.
 * Larger confined sets are far less likely at load ≤ 0.63 and are ignored.
 */
export function cuckooFailureBound(keys: number, bins: number): number {
  let total = 0;
  for (let s = 2; s <= Math.min(8, keys); s++) {
    const log = logChoose(keys, s) + logChoose(bins, s - 1) + 3 * s * Math.log2((s - 1) / bins);
    total += 2 ** log;
  }
  return Math.log2(total);
}
