/**
 * The PRIVATE LOOKUP protocol modules, without the engine:
 * - our libsodium OPRF equals @noble/curves' RFC 9497 ristretto255-SHA512 OPRF (the oracle);
 * - interpolation over F_65537 passes through its points; the label cipher round-trips;
 * - random blacklists (labels up to 64 bytes, duplicated keys, hits and misses) looked up
 *   through OPRF + BFV give exactly the plaintext answer (a LEFT JOIN: every label of a listed
 *   key, none for a miss), for single keys (single geometry) and a 1,000-key batch (cuckoo
 *   geometry), with noise budget to spare at K = 42 (set S) and K = 128 (sets L, C);
 * - false positives over ≥ 100K (miss, bundle) comparisons in each parameter set: none at the
 *   stated 6 check bytes, and a negative control with 1 check byte whose observed rate must
 *   match the model (2^−8 per bundle);
 * - RSS stays flat over repeated lookups (every SEAL object is freed).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinBundles } from '../../executor/protocols/pir/bin-bundles.js';
import { BfvContext, BundleEvaluator, QueryKeys } from '../../executor/protocols/pir/bfv.js';
import { medianRss } from '../support/memory.js';
import { MAX_UNPACKED_BYTES, packCiphertext, unpackCiphertext } from '../../executor/protocols/pir/ct-wire.js';
import { evaluatePolynomial, interpolateInto } from '../../executor/protocols/pir/field.js';
import { binOf, distinctBins, hashValue, itemFromOprfOutput } from '../../executor/protocols/pir/items.js';
import { checkPasses, decryptLabel, encryptLabel } from '../../executor/protocols/pir/label-cipher.js';
import { encodeHello, encodeOprfResponse, encodeResult, decodeOprfRequest, decodeQuery } from '../../executor/protocols/pir/messages.js';
import { loadSodium, OprfKey, type Sodium } from '../../executor/protocols/pir/oprf.js';
import { binsOf, chooseShape, falsePositiveBound, GEOMETRIES, type Geometry, type TableShape } from '../../executor/protocols/pir/params.js';
import { labelFeltsAt, queryPowerVectors, unitsFor } from '../../executor/protocols/pir/query-plan.js';
import { LookupReceiver } from '../../executor/protocols/pir/receiver.js';

let sodium: Sodium;
let bfv: BfvContext;

beforeAll(async () => {
  sodium = await loadSodium();
  bfv = await BfvContext.create();
}, 30_000);

afterAll(() => bfv?.delete());

const bytes = (n: number) => new Uint8Array(randomBytes(n));

describe('building blocks', () => {
  it('OPRF outputs equal @noble/curves RFC 9497 ristretto255-SHA512 (direct and blinded)', () => {
    const noble = ristretto255_oprf.oprf;
    for (let i = 0; i < 5; i++) {
      const keys = noble.generateKeyPair();
      const ours = OprfKey.fromBytes(sodium, keys.secretKey);
      const input = bytes(1 + i * 13);
      const b = noble.blind(input);
      const expected = noble.finalize(input, b.blind, noble.blindEvaluate(keys.secretKey, b.blinded));
      expect(Buffer.from(ours.evaluate(input)).equals(Buffer.from(expected))).toBe(true);
      // Our server evaluation of noble's blinded element finalises to the same output.
      expect(Buffer.from(noble.finalize(input, b.blind, ours.blindEvaluate(b.blinded))).equals(Buffer.from(expected))).toBe(true);
    }
    expect(() => OprfKey.generate(sodium).blindEvaluate(new Uint8Array(32).fill(0xff))).toThrow(/not a valid ristretto255 point/);
  });

  it('interpolation passes through its points; labels round-trip and fail under another key', () => {
    const xs = [3, 70000 % 65537, 12, 65536, 9];
    const ys = [1, 2, 65535, 0, 77];
    const c = new Uint32Array(5);
    interpolateInto(xs, ys, 5, c, 0, 1);
    xs.forEach((x, i) => expect(evaluatePolynomial(c, x)).toBe(ys[i]));
    const key = bytes(32);
    const label = bytes(64);
    const felts = encryptLabel(label, key, bytes(4), 8, 6);
    expect(Buffer.from(decryptLabel(felts, key, 6)!).equals(Buffer.from(label))).toBe(true);
    expect(decryptLabel(felts, bytes(32), 6)).toBeNull();
    expect(() => encryptLabel(bytes(70), key, bytes(4), 8, 6)).toThrow(/capacity/);
  });
});

describe('ciphertext wire form', () => {
  it('round-trips seeded and full ciphertexts exactly (also into a reused buffer), 6 bytes per coefficient', () => {
    const keys = new QueryKeys(bfv);
    const into = new Uint8Array(MAX_UNPACKED_BYTES).fill(0xff);
    try {
      for (let i = 0; i < 6; i++) {
        const values = new Uint32Array(2048).map(() => randomInt(65537));
        const wire = keys.encrypt(values);
        const seeded = unpackCiphertext(wire);
        const ct = bfv.loadCiphertext(wire);
        let full: Uint8Array;
        try {
          full = ct.saveArray(bfv.seal.ComprModeType.none);
        } finally {
          ct.delete();
        }
        expect(seeded.length - wire.length).toBe(2048 * 2);
        expect(full.length - packCiphertext(full).length).toBe(2 * 2048 * 2);
        for (const raw of i % 2 ? [seeded, full] : [full, seeded]) {
          expect(Buffer.from(unpackCiphertext(packCiphertext(raw), into)).equals(Buffer.from(raw))).toBe(true);
        }
        expect(Array.from(keys.decrypt(packCiphertext(full)))).toEqual(Array.from(values));
      }
      expect(() => unpackCiphertext(new Uint8Array(160))).toThrow(RangeError);
    } finally {
      keys.delete();
    }
  });
});

interface OwnerGeometry {
  bundles: BinBundles;
  /** Evaluator keys of block `block` of every bundle. */
  cells: (block: number) => string[];
}

interface Owner {
  key: OprfKey;
  geometries: Record<Geometry, OwnerGeometry>;
  evaluator: BundleEvaluator;
}

/** Loads every cell of `bundles` into `evaluator` under `prefix`. */
function loadCells(evaluator: BundleEvaluator, prefix: string, bundles: BinBundles): OwnerGeometry {
  for (const { bundle, block } of bundles.allCells()) evaluator.loadCell(`${prefix}#${bundle}.${block}`, bundles.exportCell(bundle, block));
  return { bundles, cells: (block) => Array.from({ length: bundles.bundleCount }, (_, b) => `${prefix}#${b}.${block}`) };
}

/** The owner's encoding of `entries` in both geometries, as owner-table.ts builds it. */
function buildOwner(entries: { key: Uint8Array; label: Uint8Array }[], checkBytes = 6): Owner {
  const key = OprfKey.generate(sodium);
  const longest = Math.max(0, ...entries.map((e) => e.label.length));
  const shape = chooseShape(entries.length, longest, 'single', checkBytes);
  const single = new BinBundles(shape);
  const cuckoo = new BinBundles({ ...shape, itemsPerBin: chooseShape(entries.length, longest, 'cuckoo', checkBytes).itemsPerBin }, binsOf('cuckoo'));
  entries.forEach((e, i) => {
    const item = itemFromOprfOutput(key.evaluate(e.key));
    const label = encryptLabel(e.label, item.labelKey, bytes(4), shape.labelPolys, shape.checkBytes);
    single.insert(i, binOf(item.output), item.felts, label);
    const hashes = [0, 1, 2].map((f) => hashValue(item.output, f));
    distinctBins(hashes, 3, cuckoo.bins).forEach((bin, j) => cuckoo.insert(i * 3 + j, bin, item.felts, label));
  });
  const evaluator = new BundleEvaluator(bfv);
  return { key, evaluator, geometries: { single: loadCells(evaluator, 'single', single), cuckoo: loadCells(evaluator, 'cuckoo', cuckoo) } };
}

/** One full session between a LookupReceiver and an in-process owner; returns labels and the geometry used. */
async function session(owner: Owner, keys: Uint8Array[]): Promise<{ labels: Uint8Array[][]; geometry: Geometry; units: number }> {
  const receiver = new LookupReceiver(sodium, bfv, keys);
  try {
    const request = decodeOprfRequest(receiver.oprfRequest());
    expect(request.units).toBe(unitsFor(receiver.paddedSize, request.geometry));
    const g = owner.geometries[request.geometry];
    receiver.acceptHello(encodeHello({ geometry: request.geometry, shape: g.bundles.shape, bundles: g.bundles.bundleCount }));
    const units = receiver.acceptOprfResponse(encodeOprfResponse(owner.key.blindEvaluate(request.blinded)));
    expect(units).toBeGreaterThanOrEqual(request.units);
    for (let u = 0; u < units; u++) {
      const q = decodeQuery(receiver.query(u));
      expect(q.block).toBeLessThan(GEOMETRIES[request.geometry].blocks);
      receiver.acceptResult(encodeResult({ unit: q.unit, firstBundle: 0, results: owner.evaluator.evaluate(q.powers, g.cells(q.block)) }));
    }
    return { labels: receiver.labels(), geometry: request.geometry, units };
  } finally {
    receiver.delete();
  }
}

async function lookup(owner: Owner, keys: Uint8Array[]): Promise<Uint8Array[][]> {
  return (await session(owner, keys)).labels;
}

describe('lookups equal the plaintext answer', () => {
  it('random blacklist: labels up to 64 bytes, duplicated keys, hits and misses, single keys and a batch', async () => {
    const distinct = Array.from({ length: 1500 }, (_, i) => new TextEncoder().encode(`person-${i}-${randomBytes(3).toString('hex')}`));
    const entries = distinct.map((key) => ({ key, label: bytes(randomInt(65)) }));
    // 40 keys listed two or three times with different labels.
    for (let i = 0; i < 40; i++) {
      entries.push({ key: distinct[i], label: bytes(1 + i) });
      if (i % 4 === 0) entries.push({ key: distinct[i], label: new Uint8Array(0) });
    }
    const owner = buildOwner(entries);
    const expected = (k: Uint8Array) => entries.filter((e) => Buffer.from(e.key).equals(Buffer.from(k))).map((e) => Buffer.from(e.label).toString('hex')).sort();
    const misses = Array.from({ length: 500 }, () => bytes(20));
    const hex = (labels: Uint8Array[]) => labels.map((l) => Buffer.from(l).toString('hex')).sort();
    // A 1,000-key batch (padded to 1,024): cuckoo geometry, one round of 4 units.
    const batch = [...distinct.slice(0, 250), ...distinct.slice(700, 950), ...misses];
    const big = await session(owner, batch);
    expect(big.geometry).toBe('cuckoo');
    expect(big.units).toBe(4);
    batch.forEach((k, i) => expect(hex(big.labels[i])).toEqual(expected(k)));
    expect(big.labels.filter((l) => l.length > 0).length).toBe(500);
    // Two keys: single geometry (R(2) = 2 rounds); single keys likewise.
    const pair = await session(owner, [distinct[1], misses[1]]);
    expect(pair.geometry).toBe('single');
    expect(pair.labels.map(hex)).toEqual([expected(distinct[1]), []]);
    for (const k of [distinct[0], distinct[999], misses[0]]) {
      const one = await session(owner, [k]);
      expect(one.geometry).toBe('single');
      expect(hex(one.labels[0])).toEqual(expected(k));
    }
    owner.evaluator.delete();
  }, 120_000);

  it.each([
    ['S', 42],
    ['L and C', 128],
  ])('result ciphertexts keep noise budget with full bins (set %s, K = %i)', (_set, k) => {
    // Random items straight into one bundle (no OPRF needed to test the arithmetic's noise).
    const shape = { ...chooseShape(409 * k, 8), itemsPerBin: k };
    const bundles = new BinBundles(shape);
    const items = Array.from({ length: 409 * k }, () => itemFromOprfOutput(bytes(64)));
    items.forEach((item, i) => bundles.insert(i, i % 409, item.felts, encryptLabel(bytes(8), item.labelKey, bytes(4), shape.labelPolys, 6)));
    // Bundle 0 holds the first 409 items (one per bin) and every bin's other items up to K
    // (a few go to bundle 1 when 16-bit felts collide at random).
    expect(Math.max(...bundles.loads())).toBeGreaterThan(409 * (k - 4));
    const evaluator = new BundleEvaluator(bfv);
    evaluator.loadCell('n#0', bundles.exportCell(0, 0));
    const keys = new QueryKeys(bfv);
    try {
      const unit = new Int32Array(409).map((_, i) => i);
      const felts = new Uint16Array(409 * 5);
      items.slice(0, 409).forEach((item, i) => felts.set(item.felts, i * 5));
      const query = queryPowerVectors(unit, felts, k).map((v) => keys.encrypt(v));
      const results = evaluator.evaluate(query, ['n#0']);
      expect(keys.noiseBudget(results[0][0])).toBeGreaterThan(0);
      const slots = results[0].map((ct) => keys.decrypt(ct));
      for (let bin = 0; bin < 409; bin++) expect(decryptLabel(labelFeltsAt(slots, bin), items[bin].labelKey, 6)).not.toBeNull();
    } finally {
      keys.delete();
      evaluator.delete();
    }
  }, 60_000);
});

/** One encoded table of random items (as if OPRF outputs of keys), for false-positive counts. */
interface RandomTable {
  shape: TableShape;
  bundles: BinBundles;
  evaluator: BundleEvaluator;
  cells: (block: number) => string[];
}

/** `perBin` random items in every bin of `geometry`, K = `k`, 10-byte labels. */
function randomTable(geometry: Geometry, k: number, perBin: number, checkBytes: number): RandomTable {
  const shape = { ...chooseShape(1000, 10, geometry, checkBytes), itemsPerBin: k };
  const bundles = new BinBundles(shape, binsOf(geometry));
  let handle = 0;
  for (let bin = 0; bin < bundles.bins; bin++) {
    for (let i = 0; i < perBin; i++) {
      const item = itemFromOprfOutput(bytes(64));
      bundles.insert(handle++, bin, item.felts, encryptLabel(bytes(10), item.labelKey, bytes(4), shape.labelPolys, checkBytes));
    }
  }
  const evaluator = new BundleEvaluator(bfv);
  const g = loadCells(evaluator, geometry, bundles);
  return { shape, bundles, evaluator, cells: g.cells };
}

describe('false positives', () => {
  /**
   * Counts, over random items the table does not hold (one per bin of a block, blocks in turn),
   * the (miss, bundle) comparisons whose check bytes pass, until `comparisons` are done.
   */
  function countPasses(table: RandomTable, comparisons: number, checkBytes: number): { passes: number; trials: number; decoded: number } {
    const keys = new QueryKeys(bfv);
    const k = table.shape.itemsPerBin;
    const blocks = table.bundles.blocks;
    let passes = 0;
    let decoded = 0;
    let trials = 0;
    try {
      for (let unit = 0; trials < comparisons; unit++) {
        const block = unit % blocks;
        const items = Array.from({ length: 409 }, () => itemFromOprfOutput(bytes(64)));
        const felts = new Uint16Array(409 * 5);
        items.forEach((item, i) => felts.set(item.felts, i * 5));
        const query = queryPowerVectors(new Int32Array(409).map((_, i) => i), felts, k).map((v) => keys.encrypt(v));
        const results = table.evaluator.evaluate(query, table.cells(block))
          // An empty ciphertext stands for a cell with no entries (zero in every slot), as in the receiver.
          .map((perBundle) => perBundle.map((ct) => (ct.length === 0 ? new Uint32Array(2048) : keys.decrypt(ct))));
        for (let bin = 0; bin < 409; bin++) {
          for (const slots of results) {
            trials++;
            const got = labelFeltsAt(slots, bin);
            if (checkPasses(got, items[bin].labelKey, checkBytes)) passes++;
            if (decryptLabel(got, items[bin].labelKey, checkBytes)) decoded++;
          }
        }
      }
    } finally {
      keys.delete();
    }
    return { passes, trials, decoded };
  }

  // S: K = 42, 3 bundles; L: K = 128 (2 full bundles); C: cuckoo geometry, 4 blocks, K = 42, 2 bundles.
  it.each([
    ['S', 'single', 42, 42 * 3 - 6],
    ['L', 'single', 128, 128 * 2 - 6],
    ['C', 'cuckoo', 42, 42 * 2 - 6],
  ] as const)('set %s: none over ≥ 100K (miss, bundle) comparisons at 6 check bytes (bound bundles·2^-48 ≤ 2^-40)', (_set, geometry, k, perBin) => {
    const table = randomTable(geometry, k, perBin, 6);
    try {
      expect(table.bundles.bundleCount).toBeGreaterThanOrEqual(2);
      expect(falsePositiveBound(table.bundles.bundleCount)).toBeLessThanOrEqual(2 ** -40);
      const { decoded, passes, trials } = countPasses(table, 100_000, 6);
      expect(trials).toBeGreaterThanOrEqual(100_000);
      expect(passes).toBe(0);
      expect(decoded).toBe(0);
    } finally {
      table.evaluator.delete();
    }
  }, 120_000);

  it('negative control: with 1 check byte the observed rate matches 2^-8 per bundle (so the counts above can fail)', () => {
    const table = randomTable('single', 42, 60, 1);
    try {
      const { passes, trials } = countPasses(table, 20_000, 1);
      const expected = trials / 256;
      const sigma = Math.sqrt(trials * (1 / 256) * (255 / 256));
      expect(passes).toBeGreaterThan(expected - 5 * sigma);
      expect(passes).toBeLessThan(expected + 5 * sigma);
      expect(passes).toBeGreaterThan(10);
    } finally {
      table.evaluator.delete();
    }
  }, 60_000);
});

describe('memory', () => {
  it('RSS stays within ±10% over 200 single-key lookups (10,000 in bench/private-lookup) after warm-up', async () => {
    const entries = Array.from({ length: 2000 }, (_, i) => ({ key: new TextEncoder().encode(`m${i}`), label: bytes(16) }));
    const owner = buildOwner(entries);
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) await lookup(owner, [entries[i % entries.length].key]);
    };
    await run(200);
    const before = await medianRss();
    await run(200);
    const after = await medianRss();
    expect((after - before) / before).toBeLessThan(0.1); // growth is a leak; a drop is pages returned
    owner.evaluator.delete();
  }, 90_000);
});

