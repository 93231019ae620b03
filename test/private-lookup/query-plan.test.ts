/**
 * The requester's batching, without BFV: cuckoo insertion (every key placed in one of its 3
 * candidate bins, failures returned), batch padding buckets, the geometry choice, and unit
 * plans in both geometries (every key queried exactly once, in its own bin; overflow units
 * only when the keys exceed the announced plan).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cuckooFailureBound, cuckooInsert } from '../../executor/protocols/pir/cuckoo.js';
import { BINS_PER_BLOCK, binsOf } from '../../executor/protocols/pir/params.js';
import { chooseGeometry, paddedBatchSize, planUnits, roundsFor, unitsFor, type QueryUnit } from '../../executor/protocols/pir/query-plan.js';

const random = (n: number) => new Uint8Array(randomBytes(n));

function randomHashes(keys: number): Uint32Array {
  const b = randomBytes(keys * 12);
  return new Uint32Array(b.buffer, b.byteOffset, keys * 3).slice();
}

function candidates(hashes: ArrayLike<number>, key: number, bins: number): number[] {
  return [0, 1, 2].map((f) => hashes[key * 3 + f] % bins);
}

/** Key → the global bins it is queried at, over all units of a plan. */
function queriedAt(units: QueryUnit[]): Map<number, number[]> {
  const at = new Map<number, number[]>();
  units.forEach((u) => u.keys.forEach((key, bin) => key >= 0 && at.set(key, [...(at.get(key) ?? []), u.block * BINS_PER_BLOCK + bin])));
  return at;
}

describe('cuckoo insertion', () => {
  it('places 1,024 random keys in 1,636 bins, each once and in one of its 3 candidate bins', () => {
    const bins = binsOf('cuckoo');
    for (let trial = 0; trial < 20; trial++) {
      const hashes = randomHashes(1024);
      const keys = Array.from({ length: 1024 }, (_, i) => i);
      const table = cuckooInsert(keys, hashes, bins, random);
      expect(table.failed).toEqual([]);
      const placed = [...table.slots].filter((k) => k >= 0);
      expect(placed.sort((a, b) => a - b)).toEqual(keys);
      table.slots.forEach((key, bin) => {
        if (key >= 0) expect(candidates(hashes, key, bins)).toContain(bin);
      });
    }
  });

  it('returns the keys it cannot place (three keys whose candidates are all one bin)', () => {
    const bins = binsOf('cuckoo');
    const hashes = new Uint32Array([7, 7, 7, 7 + bins, 7, 7, 7, 7 + 2 * bins, 7, 100, 200, 300]);
    const table = cuckooInsert([0, 1, 2, 3], hashes, bins, random);
    expect(table.failed.length).toBe(2);
    const placed = [...table.slots].filter((k) => k >= 0);
    expect([...placed, ...table.failed].sort()).toEqual([0, 1, 2, 3]);
    expect(placed).toContain(3);
    expect(table.slots[7]).toBeGreaterThanOrEqual(0);
    expect(table.slots[7]).toBeLessThan(3);
  });

  it('failure bound for 1,024 keys in 1,636 bins is below 2^-30', () => {
    expect(cuckooFailureBound(1024, binsOf('cuckoo'))).toBeLessThan(-30);
    expect(cuckooFailureBound(1024, 1100)).toBeGreaterThan(cuckooFailureBound(1024, binsOf('cuckoo')));
  });
});

describe('batch padding and geometry', () => {
  it('pads to powers of two up to 1,024, then to multiples of 1,024', () => {
    expect([1, 2, 3, 5, 64, 65, 1000, 1024, 1025, 5000].map(paddedBatchSize)).toEqual([1, 2, 4, 8, 64, 128, 1024, 1024, 2048, 5120]);
  });

  it('single geometry below 4 padded keys, cuckoo from 4 on; unit counts follow from the padded size', () => {
    expect(roundsFor(1)).toBe(1);
    expect(roundsFor(2)).toBe(2);
    expect(roundsFor(4)).toBe(4);
    expect(roundsFor(1024)).toBe(20);
    expect(chooseGeometry(1)).toBe('single');
    expect(chooseGeometry(2)).toBe('single');
    for (const m of [4, 64, 1024, 4096]) expect(chooseGeometry(m)).toBe('cuckoo');
    expect(unitsFor(1, 'single')).toBe(1);
    expect(unitsFor(2, 'single')).toBe(2);
    expect(unitsFor(1024, 'cuckoo')).toBe(4);
    expect(unitsFor(2048, 'cuckoo')).toBe(8);
  });
});

describe('unit plans', () => {
  it('single geometry: each key once, at its bin (hash 0 mod 409); padded to the announced units', () => {
    const hashes = randomHashes(2);
    const units = planUnits('single', hashes, 2, unitsFor(2, 'single'), random);
    expect(units.length).toBe(2);
    const at = queriedAt(units);
    for (const key of [0, 1]) expect(at.get(key)).toEqual([hashes[key * 3] % BINS_PER_BLOCK]);
  });

  it('single geometry: keys sharing a bin beyond the announced rounds get an overflow unit', () => {
    const hashes = new Uint32Array([5, 0, 0, 5 + 409, 0, 0, 5 + 818, 0, 0]);
    const units = planUnits('single', hashes, 3, 2, random);
    expect(units.length).toBe(3);
    expect([...queriedAt(units).keys()].sort()).toEqual([0, 1, 2]);
  });

  it('cuckoo geometry: 1,500 keys in 2 rounds of 4 blocks, each key once, in one of its candidates', () => {
    const hashes = randomHashes(1500);
    const units = planUnits('cuckoo', hashes, 1500, unitsFor(paddedBatchSize(1500), 'cuckoo'), random);
    expect(units.length).toBe(8);
    expect(units.map((u) => u.block)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    const at = queriedAt(units);
    expect(at.size).toBe(1500);
    for (const [key, bins] of at) {
      expect(bins.length).toBe(1);
      expect(candidates(hashes, key, binsOf('cuckoo'))).toContain(bins[0]);
    }
  });

  it('cuckoo geometry: keys cuckoo hashing cannot place go into an extra round', () => {
    const hashes = new Uint32Array([9, 9, 9, 9, 9, 9, 1, 2, 3]);
    const units = planUnits('cuckoo', hashes, 3, 4, random);
    expect(units.length).toBe(8);
    expect([...queriedAt(units).keys()].sort()).toEqual([0, 1, 2]);
  });
});
