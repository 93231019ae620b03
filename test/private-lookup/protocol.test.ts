/**
 * The PRIVATE LOOKUP protocol modules, without the engine:
 * - our libsodium OPRF equals @noble/curves' RFC 9497 ristretto255-SHA512 OPRF (the oracle);
 * - interpolation over F_65537 passes through its points; the label cipher round-trips;
 * - random blacklists (labels up to 64 bytes, duplicated keys, hits and misses) looked up
 *   through OPRF + BFV give exactly the plaintext answer, with noise budget to spare;
 * - false positives over 100K random misses: none at the stated 6 check bytes, and a negative
 *   control with 1 check byte whose observed rate must match the model (2^−8 per bundle);
 * - RSS stays flat over repeated lookups (every SEAL object is freed).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinBundles } from '../../executor/protocols/pir/bin-bundles.js';
import { BfvContext, BundleEvaluator, QueryKeys } from '../../executor/protocols/pir/bfv.js';
import { evaluatePolynomial, interpolateInto } from '../../executor/protocols/pir/field.js';
import { binOf, itemFromOprfOutput } from '../../executor/protocols/pir/items.js';
import { checkPasses, decryptLabel, encryptLabel } from '../../executor/protocols/pir/label-cipher.js';
import { encodeHello, encodeOprfResponse, encodeResult, decodeOprfRequest, decodeQuery } from '../../executor/protocols/pir/messages.js';
import { loadSodium, OprfKey, type Sodium } from '../../executor/protocols/pir/oprf.js';
import { chooseShape, falsePositiveBound } from '../../executor/protocols/pir/params.js';
import { labelFeltsAt, queryPowerVectors } from '../../executor/protocols/pir/query-rounds.js';
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

interface Owner {
  key: OprfKey;
  bundles: BinBundles;
  evaluator: BundleEvaluator;
}

function buildOwner(entries: { key: Uint8Array; label: Uint8Array }[], checkBytes = 6): Owner {
  const key = OprfKey.generate(sodium);
  const longest = Math.max(0, ...entries.map((e) => e.label.length));
  const shape = chooseShape(entries.length, longest, checkBytes);
  const bundles = new BinBundles(shape);
  entries.forEach((e, i) => {
    const item = itemFromOprfOutput(key.evaluate(e.key));
    bundles.insert(i, binOf(item.output), item.felts, encryptLabel(e.label, item.labelKey, bytes(4), shape.labelPolys, shape.checkBytes));
  });
  const evaluator = new BundleEvaluator(bfv);
  for (let b = 0; b < bundles.bundleCount; b++) evaluator.load(`t#${b}`, bundles.coefficients(b), shape.itemsPerBin, shape.labelPolys);
  return { key, bundles, evaluator };
}

/** One full session between a LookupReceiver and an in-process owner. */
function lookup(owner: Owner, keys: Uint8Array[]): Uint8Array[][] {
  const receiver = new LookupReceiver(sodium, bfv, keys);
  try {
    receiver.acceptHello(encodeHello({ shape: owner.bundles.shape, bundles: owner.bundles.bundleCount }));
    const request = decodeOprfRequest(receiver.oprfRequest());
    const rounds = receiver.acceptOprfResponse(encodeOprfResponse(owner.key.blindEvaluate(request.blinded)));
    expect(rounds).toBe(request.rounds);
    for (let r = 0; r < rounds; r++) {
      const q = decodeQuery(receiver.query(r));
      const keysOf = Array.from({ length: owner.bundles.bundleCount }, (_, b) => `t#${b}`);
      receiver.acceptResult(encodeResult(q.round, owner.evaluator.evaluate(q.powers, keysOf)));
    }
    return receiver.labels();
  } finally {
    receiver.delete();
  }
}

describe('lookups equal the plaintext answer', () => {
  it('random blacklist: labels up to 64 bytes, duplicated keys, hits and misses, single keys and a batch', () => {
    const distinct = Array.from({ length: 1500 }, (_, i) => new TextEncoder().encode(`person-${i}-${randomBytes(3).toString('hex')}`));
    const entries = distinct.map((key) => ({ key, label: bytes(randomInt(65)) }));
    // 40 keys listed two or three times with different labels.
    for (let i = 0; i < 40; i++) {
      entries.push({ key: distinct[i], label: bytes(1 + i) });
      if (i % 4 === 0) entries.push({ key: distinct[i], label: new Uint8Array(0) });
    }
    const owner = buildOwner(entries);
    const expected = (k: Uint8Array) => entries.filter((e) => Buffer.from(e.key).equals(Buffer.from(k))).map((e) => Buffer.from(e.label).toString('hex')).sort();
    const misses = Array.from({ length: 30 }, () => bytes(20));
    const batch = [...distinct.slice(0, 60), ...distinct.slice(700, 760), ...misses];
    const got = lookup(owner, batch);
    batch.forEach((k, i) => expect(got[i].map((l) => Buffer.from(l).toString('hex')).sort()).toEqual(expected(k)));
    for (const k of [distinct[0], distinct[999], misses[0]]) {
      expect(lookup(owner, [k])[0].map((l) => Buffer.from(l).toString('hex')).sort()).toEqual(expected(k));
    }
    owner.evaluator.delete();
  }, 90_000);

  it('result ciphertexts keep noise budget with full bins at K = 42', () => {
    // Random items straight into one bundle (no OPRF needed to test the arithmetic's noise).
    const shape = { ...chooseShape(409 * 42, 8), itemsPerBin: 42 };
    const bundles = new BinBundles(shape);
    const items = Array.from({ length: 409 * 42 }, () => itemFromOprfOutput(bytes(64)));
    items.forEach((item, i) => bundles.insert(i, i % 409, item.felts, encryptLabel(bytes(8), item.labelKey, bytes(4), shape.labelPolys, 6)));
    const evaluator = new BundleEvaluator(bfv);
    evaluator.load('n#0', bundles.coefficients(0), 42, shape.labelPolys);
    const keys = new QueryKeys(bfv);
    try {
      const round = new Int32Array(409).map((_, i) => i);
      const query = queryPowerVectors(round, items.slice(0, 409).map((i) => i.felts), 42).map((v) => keys.encrypt(v));
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

describe('false positives', () => {
  /** Counts, over `misses` random items, the (miss, bundle) pairs whose check bytes pass. */
  function countPasses(owner: Owner, misses: number, checkBytes: number): { passes: number; trials: number; decoded: number } {
    const keys = new QueryKeys(bfv);
    const shape = owner.bundles.shape;
    const bundleKeys = Array.from({ length: owner.bundles.bundleCount }, (_, b) => `t#${b}`);
    let passes = 0;
    let decoded = 0;
    let trials = 0;
    try {
      for (let done = 0; done < misses; ) {
        // Random items (as if OPRF outputs of keys the owner does not list), one per bin.
        const items = Array.from({ length: 409 }, () => itemFromOprfOutput(bytes(64)));
        const round = new Int32Array(409).map((_, i) => i);
        const query = queryPowerVectors(round, items.map((i) => i.felts), shape.itemsPerBin).map((v) => keys.encrypt(v));
        const results = owner.evaluator.evaluate(query, bundleKeys).map((perBundle) => perBundle.map((ct) => keys.decrypt(ct)));
        for (let bin = 0; bin < 409 && done < misses; bin++, done++) {
          for (const slots of results) {
            trials++;
            const felts = labelFeltsAt(slots, bin);
            if (checkPasses(felts, items[bin].labelKey, checkBytes)) passes++;
            if (decryptLabel(felts, items[bin].labelKey, checkBytes)) decoded++;
          }
        }
      }
    } finally {
      keys.delete();
    }
    return { passes, trials, decoded };
  }

  it('none over 100K misses at 6 check bytes (bound bundles·2^-48 ≤ 2^-40 per lookup)', () => {
    const entries = Array.from({ length: 3000 }, (_, i) => ({ key: new TextEncoder().encode(`e${i}`), label: bytes(10) }));
    const owner = buildOwner(entries);
    expect(falsePositiveBound(owner.bundles.bundleCount)).toBeLessThanOrEqual(2 ** -40);
    const { decoded, trials } = countPasses(owner, 100_000, 6);
    expect(trials).toBeGreaterThanOrEqual(100_000);
    expect(decoded).toBe(0);
    owner.evaluator.delete();
  }, 90_000);

  it('negative control: with 1 check byte the observed rate matches 2^-8 per bundle (so the count above can fail)', () => {
    const entries = Array.from({ length: 3000 }, (_, i) => ({ key: new TextEncoder().encode(`e${i}`), label: bytes(10) }));
    const owner = buildOwner(entries, 1);
    const { passes, trials } = countPasses(owner, 20_000, 1);
    const expected = trials / 256;
    const sigma = Math.sqrt(trials * (1 / 256) * (255 / 256));
    expect(passes).toBeGreaterThan(expected - 5 * sigma);
    expect(passes).toBeLessThan(expected + 5 * sigma);
    expect(passes).toBeGreaterThan(10);
    owner.evaluator.delete();
  }, 60_000);
});

describe('memory', () => {
  it('RSS stays within ±10% over 200 single-key lookups (10,000 in bench/private-lookup) after warm-up', () => {
    const entries = Array.from({ length: 2000 }, (_, i) => ({ key: new TextEncoder().encode(`m${i}`), label: bytes(16) }));
    const owner = buildOwner(entries);
    const run = (n: number) => {
      for (let i = 0; i < n; i++) lookup(owner, [entries[i % entries.length].key]);
    };
    run(200);
    global.gc?.();
    const before = process.memoryUsage().rss;
    run(200);
    global.gc?.();
    const after = process.memoryUsage().rss;
    expect(Math.abs(after - before) / before).toBeLessThan(0.1);
    owner.evaluator.delete();
  }, 90_000);
});

