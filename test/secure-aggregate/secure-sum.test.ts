/**
 * The I/O-free secure-sum layer (executor/protocols/mpc): ring arithmetic with carries, masks
 * that cancel exactly, masked vectors that hide each partial (and a negative control that shows
 * the detector sees an unmasked one), the per-party contribution hook, and refusal of every
 * malformed or manipulated frame.
 */
import { describe, expect, test, vi } from 'vitest';
import fc from 'fast-check';
import { addInto, bytesToWords, layoutWidth, readSigned, subInto, writeValue } from '../../executor/protocols/mpc/ring.js';
import { SecureSumAggregator, SecureSumContributor, SecureSumProtocolError } from '../../executor/protocols/mpc/secure-sum.js';
import { generateMaskKeyPair, pairSeed } from '../../executor/protocols/mpc/pairwise-masks.js';

// Generous per-test time: the suite shares 2 cores with everything else npm test runs.
vi.setConfig({ testTimeout: 60_000 });

const secret = (i: number) => new Uint8Array(32).fill(i + 1);

function vectorOf(values: bigint[][], layout: number[]): Uint32Array {
  const width = layoutWidth(layout);
  const v = new Uint32Array(values.length * width);
  values.forEach((slot, s) => {
    let o = s * width;
    slot.forEach((x, k) => {
      writeValue(v, o, layout[k], x);
      o += layout[k];
    });
  });
  return v;
}

function decode(v: Uint32Array, layout: number[]): bigint[][] {
  const width = layoutWidth(layout);
  const out: bigint[][] = [];
  for (let s = 0; s < v.length / width; s++) {
    let o = s * width;
    out.push(layout.map((l) => {
      const x = readSigned(v, o, l);
      o += l;
      return x;
    }));
  }
  return out;
}

/** Runs the whole protocol in memory; returns totals and every frame each contributor sent. */
function run(partials: bigint[][][], layout: number[], options: { contributions?: bigint[][][] } = {}) {
  const n = partials.length;
  const slots = partials[0].length;
  const contributors = partials.map((_, i) => new SecureSumContributor(n, secret(i)));
  const aggregator = new SecureSumAggregator(n);
  const wire: Uint8Array[][] = partials.map(() => []);
  contributors.forEach((c, i) => {
    const hello = c.hello(new Uint8Array([i]));
    wire[i].push(hello);
    expect(aggregator.acceptHello(i, hello)).toEqual(new Uint8Array([i]));
  });
  aggregator.configure(slots, layout);
  contributors.forEach((c, i) => {
    const info = c.acceptSetup(aggregator.setupFrame(i, new Uint8Array([9, i])));
    expect(info).toMatchObject({ index: i, contributors: n, slots, layout });
    const extra = options.contributions ? vectorOf(options.contributions[i], layout) : undefined;
    for (const f of c.maskedFrames(vectorOf(partials[i], layout), extra)) {
      wire[i].push(f);
      aggregator.acceptMasked(i, f);
    }
  });
  return { totals: decode(aggregator.totals(), layout), wire };
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const le64 = (x: bigint) => new Uint8Array(new BigUint64Array([BigInt.asUintN(64, x)]).buffer);

describe('ring arithmetic', () => {
  test('addition and subtraction with carries match BigInt modulo 2^(32·L)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.bigInt(-(2n ** 130n), 2n ** 130n), fc.bigInt(-(2n ** 130n), 2n ** 130n)), { minLength: 1, maxLength: 8 }), fc.constantFrom(1, 2, 4), (pairs, limbs) => {
        const layout = pairs.map(() => limbs);
        const a = vectorOf([pairs.map((p) => p[0])], layout);
        const b = vectorOf([pairs.map((p) => p[1])], layout);
        const sum = a.slice();
        addInto(sum, b, layout);
        const diff = a.slice();
        subInto(diff, b, layout);
        const bits = 32 * limbs;
        decode(sum, layout)[0].forEach((x, k) => expect(x).toBe(BigInt.asIntN(bits, pairs[k][0] + pairs[k][1])));
        decode(diff, layout)[0].forEach((x, k) => expect(x).toBe(BigInt.asIntN(bits, pairs[k][0] - pairs[k][1])));
      }),
    );
  });

  test('words from bytes at any offset of a pooled Node Buffer (as frames arrive over HTTP/2)', () => {
    const pool = Buffer.alloc(64);
    for (let i = 0; i < 64; i++) pool[i] = i;
    const frame = pool.subarray(5, 5 + 12);
    expect(Array.from(bytesToWords(frame))).toEqual([0x08070605, 0x0c0b0a09, 0x100f0e0d]);
  });

  test('carries stay inside one value of a mixed layout', () => {
    const layout = [1, 2, 4];
    const a = vectorOf([[0xffffffffn, 0xffffffffffffffffn, -1n]], layout);
    addInto(a, vectorOf([[1n, 1n, 1n]], layout), layout);
    expect(Array.from(a)).toEqual(new Array(7).fill(0));
  });
});

describe('secure sum', () => {
  test('the totals are the exact sums of the partials (signed, several widths)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 5 }), fc.infiniteStream(fc.bigInt(-(2n ** 40n), 2n ** 40n)), (n, slots, values) => {
        const layout = [1, 2, 4];
        const it = values[Symbol.iterator]();
        const partials = Array.from({ length: n }, () => Array.from({ length: slots }, () => [it.next().value % 1000n, it.next().value, it.next().value * 3n]));
        const { totals } = run(partials, layout);
        for (let s = 0; s < slots; s++) {
          for (let k = 0; k < 3; k++) expect(totals[s][k]).toBe(partials.reduce((acc, p) => acc + p[s][k], 0n));
        }
      }),
      { numRuns: 40 },
    );
  });

  test('no partial appears in what a contributor sends (and an unmasked vector would show it)', () => {
    const layout = [2];
    const partials = [0, 1, 2].map((i) => Array.from({ length: 200 }, (_, s) => [BigInt(1_000_003 * (s + 1) + 7_777_777_777 * (i + 1))]));
    const { totals, wire } = run(partials, layout);
    expect(totals[5][0]).toBe(partials.reduce((a, p) => a + p[5][0], 0n));
    for (let i = 0; i < 3; i++) {
      const sent = Buffer.concat(wire[i]);
      for (const slot of partials[i]) expect(contains(sent, le64(slot[0]))).toBe(false);
    }
    // Negative control: a lone contributor has no peer to mask with, so its vector is in clear.
    const alone = run([partials[0]], layout);
    expect(contains(Buffer.concat(alone.wire[0]), le64(partials[0][17][0]))).toBe(true);
  });

  test('a per-party contribution (e.g. a DP noise share) shifts only the total', () => {
    const layout = [2];
    const partials = [[[100n]], [[200n]], [[300n]]];
    const { totals } = run(partials, layout, { contributions: [[[5n]], [[-2n]], [[10n]]] });
    expect(totals[0][0]).toBe(613n);
  });

  test('pairwise seeds agree at both ends and differ per pair and session', () => {
    const a = generateMaskKeyPair(secret(0));
    const b = generateMaskKeyPair(secret(1));
    const c = generateMaskKeyPair(secret(2));
    const s1 = new Uint8Array(16).fill(1);
    const s2 = new Uint8Array(16).fill(2);
    expect(pairSeed(a, 0, b.publicKey, 1, s1)).toEqual(pairSeed(b, 1, a.publicKey, 0, s1));
    expect(pairSeed(a, 0, b.publicKey, 1, s1)).not.toEqual(pairSeed(a, 0, c.publicKey, 2, s1));
    expect(pairSeed(a, 0, b.publicKey, 1, s1)).not.toEqual(pairSeed(a, 0, b.publicKey, 1, s2));
  });
});

describe('manipulated frames are refused', () => {
  function setup(n: number) {
    const contributors = Array.from({ length: n }, (_, i) => new SecureSumContributor(n, secret(i)));
    const aggregator = new SecureSumAggregator(n);
    contributors.forEach((c, i) => aggregator.acceptHello(i, c.hello(new Uint8Array())));
    aggregator.configure(2, [2]);
    return { contributors, aggregator };
  }

  test('a SETUP with fewer contributors than announced (a relay dropping the others)', () => {
    const lone = new SecureSumAggregator(1);
    const victim = new SecureSumContributor(3, secret(0));
    lone.acceptHello(0, victim.hello(new Uint8Array()));
    lone.configure(1, [2]);
    expect(() => victim.acceptSetup(lone.setupFrame(0, new Uint8Array()))).toThrow(/1 contributors, the request announced 3/);
  });

  test('a SETUP that does not carry the contributor\'s own key at its index', () => {
    const { contributors, aggregator } = setup(3);
    expect(() => contributors[0].acceptSetup(aggregator.setupFrame(1, new Uint8Array()))).toThrow(SecureSumProtocolError);
  });

  test('truncated and oversized frames, out-of-order chunks, a second HELLO', () => {
    const { contributors, aggregator } = setup(2);
    expect(() => contributors[0].acceptSetup(new Uint8Array([2, 0, 0]))).toThrow(SecureSumProtocolError);
    contributors.forEach((c, i) => c.acceptSetup(aggregator.setupFrame(i, new Uint8Array())));
    const [frame] = contributors[0].maskedFrames(new Uint32Array(4));
    expect(() => aggregator.acceptMasked(0, frame.subarray(0, frame.length - 1))).toThrow(/wrong size/);
    aggregator.acceptMasked(0, frame);
    expect(() => aggregator.acceptMasked(0, frame)).toThrow(/out of order/);
    expect(() => aggregator.acceptHello(0, contributors[0].hello(new Uint8Array()))).toThrow(/HELLO twice/);
    expect(() => aggregator.totals()).toThrow(/contributor 1/);
    expect(() => contributors[0].maskedFrames(new Uint32Array(4))).toThrow(/already sent/);
  });
});
