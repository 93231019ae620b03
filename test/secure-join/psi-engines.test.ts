/**
 * The PSI building blocks against independent references: the fast engines agree with
 * @noble/curves (the oracle) on hash-to-group and scalar multiplication; blinding is undone
 * exactly by its unblinding scalar (the OPRF value does not depend on the requester's secret);
 * record sealing, the tag index, the payload codec, the worker pool's lifecycle and the
 * shuffle's uniformity.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { ed25519, ed25519_hasher, ristretto255, x25519 } from '@noble/curves/ed25519.js';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePayload, encodePayload, securePermutation } from '../../executor/protocols/psi/ecdh-psi.js';
import { createEngine, NobleRistrettoEngine } from '../../executor/protocols/psi/engines.js';
import { ELEMENT_BYTES, newBlinding, newPsiKey } from '../../executor/protocols/psi/group-engine.js';
import { openRecord, recordSecrets, sealedLength, sealRecord } from '../../executor/protocols/psi/record-cipher.js';
import { limbsOf, sumFromLimbs } from '../../executor/protocols/psi/psi-sum.js';
import { TagIndex } from '../../executor/protocols/psi/tag-index.js';
import { packMessages, PsiWorkerPool } from '../../executor/protocols/psi/worker-pool.js';

const dst = new TextEncoder().encode('test-dst|');
const messages = Array.from({ length: 24 }, (_, i) => new TextEncoder().encode(`key-${i}-${'é'.repeat(i % 3)}`));
const at = (b: Uint8Array, i: number) => b.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('group engines', () => {
  it('libsodium ristretto255 equals the noble oracle (hash-to-group and multiplication)', async () => {
    const fast = await createEngine('ristretto255-sha512');
    const oracle = new NobleRistrettoEngine();
    const h1 = fast.hashToGroup(messages, dst);
    expect(hex(h1)).toBe(hex(oracle.hashToGroup(messages, dst)));
    const k = newPsiKey('ristretto255-sha512');
    expect(hex(fast.multiply(h1, k))).toBe(hex(oracle.multiply(h1, k)));
  });

  it('x25519 engine: hash-to-curve is noble\'s Elligator2 map (cofactor cleared, prime order) as a Montgomery u; X25519 is noble\'s', async () => {
    const engine = await createEngine('x25519-ell2nu-sha512');
    const us = engine.hashToGroup(messages, dst);
    const Fp = ed25519.Point.Fp;
    messages.forEach((m, i) => {
      // The oracle: noble's own Elligator2 map of the same 255-bit field element.
      const r = createHash('sha512').update(dst).update(m).digest().subarray(0, 32);
      r[31] &= 0x7f;
      const point = ed25519_hasher.mapToCurve(Fp.create(Fp.fromBytes(r)));
      // Prime order: ℓ·P is the identity (the cofactor is cleared by the map).
      expect(point.isTorsionFree()).toBe(true);
      expect(point.is0()).toBe(false);
      expect(hex(at(us, i))).toBe(hex(ed25519.utils.toMontgomery(point.toBytes())));
    });
    // Distinct messages, distinct points; the domain separates.
    expect(new Set(messages.map((_, i) => hex(at(us, i)))).size).toBe(messages.length);
    expect(hex(engine.hashToGroup(messages.slice(0, 1), new TextEncoder().encode('other|')))).not.toBe(hex(at(us, 0)));
    const k = newPsiKey('x25519-ell2nu-sha512');
    const ours = engine.multiply(us, k);
    for (let i = 0; i < messages.length; i++) expect(hex(at(ours, i))).toBe(hex(x25519.scalarMult(k, at(us, i))));
  });

  it('negative control: the oracle check fails for a point with a small-order component (cofactor not cleared)', () => {
    const Fp = ed25519.Point.Fp;
    const r = createHash('sha512').update('control').digest().subarray(0, 32);
    r[31] &= 0x7f;
    const cleared = ed25519_hasher.mapToCurve(Fp.create(Fp.fromBytes(r)));
    // Adding a point of order 8 keeps it on the curve but leaves the prime-order subgroup.
    const torsion = ed25519.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
    const dirty = cleared.add(torsion);
    expect(dirty.isTorsionFree()).toBe(false);
    expect(hex(ed25519.utils.toMontgomery(dirty.toBytes()))).not.toBe(hex(ed25519.utils.toMontgomery(cleared.toBytes())));
  });

  for (const suite of ['x25519-ell2nu-sha512', 'ristretto255-sha512'] as const) {
    it(`${suite}: unblinding recovers F(x) = H(x)^b exactly (50 fresh blindings)`, async () => {
      const engine = await createEngine(suite);
      const h = engine.hashToGroup(messages, dst);
      const b = newPsiKey(suite);
      const direct = engine.multiply(h, b);
      for (let round = 0; round < 50; round++) {
        const { blind, unblind } = newBlinding(suite);
        const blinded = engine.multiply(h, blind);
        expect(hex(blinded)).not.toBe(hex(h));
        expect(hex(engine.multiply(engine.multiply(blinded, b), unblind))).toBe(hex(direct));
      }
    });
  }

  it('ristretto engines reject malformed elements instead of computing on them', async () => {
    const engine = await createEngine('ristretto255-sha512');
    expect(() => engine.multiply(new Uint8Array(32).fill(0xff), newPsiKey('ristretto255-sha512'))).toThrow();
    expect(() => engine.multiply(new Uint8Array(31), newPsiKey('ristretto255-sha512'))).toThrow(/multiple of 32/);
    // x25519: the all-zero u (small order) is refused by OpenSSL.
    const x = await createEngine('x25519-ell2nu-sha512');
    expect(() => x.multiply(new Uint8Array(32), newPsiKey('x25519-ell2nu-sha512'))).toThrow();
  });

  it('noble ristretto255 multiplication is the group operation (sanity of the oracle)', () => {
    const p = ristretto255.Point.BASE.multiply(7n);
    const e = new NobleRistrettoEngine();
    const k = new Uint8Array(32);
    k[0] = 3;
    expect(hex(e.multiply(p.toBytes(), k))).toBe(hex(ristretto255.Point.BASE.multiply(21n).toBytes()));
  });
});

describe('records, tags, payloads', () => {
  it('a record opens only with its own secrets (header check); sizes do not depend on the payload', () => {
    const f = randomBytes(32);
    const s0 = recordSecrets(f, 0);
    const s1 = recordSecrets(f, 1);
    expect(hex(s0.tag)).not.toBe(hex(s1.tag));
    const short = sealRecord(s0.key, 2, new Uint8Array([1, 2]), 40);
    const long = sealRecord(s1.key, 2, new Uint8Array(40).fill(9), 40);
    expect(short.byteLength).toBe(sealedLength(40));
    expect(long.byteLength).toBe(short.byteLength);
    const opened = openRecord(s0.key, short);
    expect(opened.copies).toBe(2);
    expect([...opened.payload]).toEqual([1, 2]);
    expect(() => openRecord(s1.key, short)).toThrow();
    expect(() => openRecord(recordSecrets(randomBytes(32), 0).key, long)).toThrow();
  });

  it('records are exactly SHA-512 tags/keys and IETF ChaCha20 as Node\'s OpenSSL computes them (format unchanged)', () => {
    const f = randomBytes(32);
    const index = Buffer.alloc(4);
    index.writeUInt32BE(3, 0);
    const h = createHash('sha512').update('veilsql/psi-row/1').update(f).update(index).digest();
    const s = recordSecrets(f, 3);
    expect(hex(s.tag)).toBe(hex(h.subarray(0, 16)));
    expect(hex(s.key)).toBe(hex(h.subarray(32, 64)));
    const payload = new Uint8Array([5, 6, 7]);
    const sealed = sealRecord(s.key, 4, payload, 10);
    const plain = Buffer.alloc(18);
    plain.writeUInt32BE(4, 0);
    plain.writeUInt32BE(3, 4);
    plain.set(payload, 8);
    const cipher = createCipheriv('chacha20', s.key, Buffer.alloc(16));
    expect(hex(sealed)).toBe(hex(Buffer.concat([cipher.update(plain), cipher.final()])));
    // Sealing in place into a caller's buffer gives the same bytes.
    const into = new Uint8Array(sealedLength(10));
    sealRecord(s.key, 4, payload, 10, into);
    expect(hex(into)).toBe(hex(sealed));
  });

  it('payload codec round-trips NULLs, empty strings and Unicode', () => {
    const values = [null, '', 'é', 'e\u0301', '中文', "o'k", null, '𝄞'];
    expect(decodePayload(encodePayload(values), values.length)).toEqual(values);
    expect(() => decodePayload(encodePayload(values).subarray(0, 9), values.length)).toThrow();
  });

  it('tag index finds every tag it holds and none it does not', () => {
    const index = new TagIndex(4);
    const tags = Array.from({ length: 5000 }, () => randomBytes(16));
    tags.forEach((t, i) => expect(index.add(t)).toBe(i));
    expect(index.add(tags[17])).toBe(17);
    tags.forEach((t, i) => expect(index.get(t)).toBe(i));
    for (let i = 0; i < 1000; i++) expect(index.get(randomBytes(16))).toBe(-1);
  });

  it('limb encoding sums signed values exactly (mod 2^80)', () => {
    const values = [0n, 1n, -1n, 123456789012345n, -(2n ** 62n), 2n ** 62n, -98765n];
    const sums = Array.from({ length: 5 }, (_, i) => values.reduce((acc, v) => acc + limbsOf(v)[i], 0n));
    expect(sumFromLimbs(sums)).toBe(values.reduce((a, b) => a + b, 0n));
    expect(() => limbsOf(2n ** 63n)).toThrow();
  });

  it('the shuffle is a uniform permutation (χ² over positions of element 0, 6000 draws of n = 6)', () => {
    const n = 6;
    const draws = 6000;
    const counts = new Array(n).fill(0);
    // A seeded ChaCha20 stream in place of the OS CSPRNG: the same draws every run, so an
    // α = 0.001 test cannot fail one CI run in a thousand by chance.
    const stream = createCipheriv('chacha20', createHash('sha256').update('shuffle-chi2').digest(), Buffer.alloc(16));
    const seeded = (size: number) => stream.update(Buffer.alloc(size));
    expect(securePermutation(n)).toHaveLength(n); // the CSPRNG default
    for (let i = 0; i < draws; i++) {
      const p = securePermutation(n, seeded);
      expect([...p].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      counts[p.indexOf(0)]++;
    }
    const expected = draws / n;
    const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
    // 5 degrees of freedom: P(χ² > 20.5) ≈ 0.001.
    expect(chi2).toBeLessThan(20.5);
    // Negative control: the identity "shuffle" fails the same test.
    const identity = new Array(n).fill(0);
    identity[0] = draws;
    expect(identity.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0)).toBeGreaterThan(20.5);
  });
});

describe('worker pool', () => {
  const pool = new PsiWorkerPool(2, 200);
  afterAll(() => pool.close());

  it('runs batches on worker threads, drops aborted work and releases idle workers', async () => {
    const packed = packMessages(messages);
    const out = await pool.run({ op: 'hash', suite: 'ristretto255-sha512', kind: 'fast', ...packed, dst });
    expect(hex(out)).toBe(hex(new NobleRistrettoEngine().hashToGroup(messages, dst)));
    const controller = new AbortController();
    const tasks = Array.from({ length: 8 }, () => pool.run({ op: 'hash', suite: 'x25519-ell2nu-sha512', kind: 'fast', ...packMessages(messages), dst }, controller.signal));
    controller.abort(new Error('stop'));
    const settled = await Promise.allSettled(tasks);
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    // Work already running finishes (batches are small); nothing queued survives the abort.
    for (let i = 0; i < 100 && pool.pendingTasks > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(pool.pendingTasks).toBe(0);
    // Idle for longer than idleMs: every worker is terminated.
    await new Promise((r) => setTimeout(r, 600));
    expect(pool.liveWorkers).toBe(0);
    // And the pool starts again on demand.
    const again = await pool.run({ op: 'multiply', suite: 'ristretto255-sha512', kind: 'fast', elements: out.slice(), scalar: newPsiKey('ristretto255-sha512') });
    expect(again.byteLength).toBe(out.byteLength);
  });
});
