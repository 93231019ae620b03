/**
 * The threshold-OPRF protocol modules (executor/protocols/toprf), without nodes:
 * - a key generated jointly by 3 holders (no node ever holds it) gives tokens equal to
 *   @noble/curves' RFC 9497 ristretto255-SHA512 OPRF under the reconstructed key, through any
 *   t = 2 or all 3 holders, with the Lagrange weight folded in by each holder;
 * - one holder alone (below the threshold) does not produce the token (negative control);
 * - Feldman checks catch a tampered sub-share and a wrong public share;
 * - blinded requests do not depend on the input (two blindings of one ID share nothing);
 * - hostile elements (invalid encodings, the identity) are refused with the element named;
 * - frame codecs round-trip and reject every malformed frame with ToprfProtocolError only.
 */
import { randomBytes } from 'node:crypto';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSodium, type Sodium } from '../../executor/protocols/pir/oprf.js';
import {
  checkPublicShares, combineDealtShares, deal, publicShare, sumCommitments, verifyDealtShare,
} from '../../executor/protocols/toprf/key-generation.js';
import {
  decodeAnswers, decodeCommit, decodeCounts, decodeElements, decodeGroups, decodeJson, decodeRows, encodeAnswers, encodeCommit,
  encodeCounts, encodeElements, encodeGroups, encodeJson, encodeRows, expectFrame, FrameType, putRow, rowBucket, rowToken,
  ToprfProtocolError, UPLOAD_ADD,
} from '../../executor/protocols/toprf/messages.js';
import { Fn, lagrangeAtZero, reconstructAtZero, scalarToBytes } from '../../executor/protocols/toprf/scalars.js';
import { blindInputs, directToken, evaluateBlinded, finalizeTokens, holderScalar, TOKEN_BYTES } from '../../executor/protocols/toprf/threshold-oprf.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

const enc = new TextEncoder();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A joint-Feldman DKG among holders 1…n: each holder's final share (nobody computes the key). */
function dkg(n: number, t: number) {
  const xs = Array.from({ length: n }, (_, i) => i + 1);
  const dealings = xs.map(() => deal(sodium, t, xs));
  for (const d of dealings) for (const x of xs) expect(verifyDealtShare(sodium, x, d.shares.get(x)!, d.commitments)).toBe(true);
  const shares = xs.map((x) => combineDealtShares(dealings.map((d) => d.shares.get(x)!)));
  const joint = sumCommitments(sodium, dealings.map((d) => d.commitments));
  return { xs, shares, joint, dealings };
}

/** Tokens for `inputs` through the holders in `set` (Shamir indices). */
function tokensVia(shares: bigint[], set: number[], inputs: Uint8Array[]): Uint8Array {
  const { blinded, unblinds } = blindInputs(sodium, inputs);
  const answers = set.map((x) => evaluateBlinded(sodium, holderScalar(shares[x - 1], x, set), blinded));
  return finalizeTokens(sodium, inputs, unblinds, answers);
}

describe('threshold OPRF', () => {
  it('equals the RFC 9497 OPRF (noble) under the jointly generated key, through any t holders', () => {
    const { shares, joint } = dkg(3, 2);
    const key = reconstructAtZero(shares.slice(0, 2).map((s, i) => ({ x: i + 1, share: s })));
    // The public key committed by the dealers is k·G for exactly that key.
    expect(hex(sodium.crypto_scalarmult_ristretto255_base(scalarToBytes(key)))).toBe(hex(joint[0]));
    const inputs = ['ID1234567X', 'id7654321x', '', 'ünïcödé'].map((s) => enc.encode(s));
    const expected = inputs.map((x) => ristretto255_oprf.oprf.evaluate(scalarToBytes(key), x).subarray(0, TOKEN_BYTES));
    for (const set of [[1, 2], [1, 3], [2, 3], [3, 1], [1, 2, 3]]) {
      const got = tokensVia(shares, set, inputs);
      inputs.forEach((_, i) => expect(hex(got.subarray(i * TOKEN_BYTES, (i + 1) * TOKEN_BYTES))).toBe(hex(expected[i])));
    }
    inputs.forEach((x, i) => expect(hex(directToken(sodium, key, x))).toBe(hex(expected[i])));
  });

  it('a single holder (below the threshold) does not yield the token', () => {
    const { shares } = dkg(3, 2);
    const key = reconstructAtZero([{ x: 1, share: shares[0] }, { x: 2, share: shares[1] }]);
    const input = [enc.encode('ID0000001X')];
    const expected = hex(directToken(sodium, key, input[0]));
    // With t = 2, any one share (with any weight) is unrelated to the key.
    expect(hex(tokensVia(shares, [1], input))).not.toBe(expected);
    expect(hex(tokensVia(shares, [2], input))).not.toBe(expected);
    // Two holders but one weight left out (λ = 1): also wrong.
    const { blinded, unblinds } = blindInputs(sodium, input);
    const raw = [1, 2].map((x) => evaluateBlinded(sodium, scalarToBytes(shares[x - 1]), blinded));
    expect(hex(finalizeTokens(sodium, input, unblinds, raw))).not.toBe(expected);
  });

  it('different epochs (keys) give unlinkable tokens for the same ID', () => {
    const a = dkg(3, 2);
    const b = dkg(3, 2);
    const input = [enc.encode('ID0000042X')];
    expect(hex(tokensVia(a.shares, [1, 2], input))).not.toBe(hex(tokensVia(b.shares, [1, 2], input)));
  });

  it('Lagrange weights at 0 reconstruct a random polynomial from any t points', () => {
    const coefficients = [Fn.create(123456789n), Fn.create(987654321n), Fn.create(5n)];
    const f = (x: number) => coefficients.reduceRight((acc, c) => Fn.add(Fn.mul(acc, BigInt(x)), c), 0n);
    for (const set of [[1, 2, 3], [2, 5, 9], [7, 3, 4]]) {
      expect(set.reduce((acc, x) => Fn.add(acc, Fn.mul(f(x), lagrangeAtZero(x, set))), 0n)).toBe(coefficients[0]);
    }
    expect(() => lagrangeAtZero(4, [1, 2, 3])).toThrow(/not in the set/);
    expect(() => lagrangeAtZero(1, [1, 1])).toThrow(/twice/);
  });

  it('Feldman checks catch a tampered share and a wrong public share', () => {
    const { dealings, shares, joint } = dkg(3, 2);
    const d = dealings[0];
    expect(verifyDealtShare(sodium, 2, Fn.add(d.shares.get(2)!, 1n), d.commitments)).toBe(false);
    expect(verifyDealtShare(sodium, 3, d.shares.get(2)!, d.commitments)).toBe(false);
    const good = shares.map((s, i) => ({ x: i + 1, publicShare: publicShare(sodium, s) }));
    expect(checkPublicShares(sodium, joint, good)).toEqual([]);
    const bad = [...good.slice(0, 2), { x: 3, publicShare: publicShare(sodium, Fn.add(shares[2], 1n)) }];
    expect(checkPublicShares(sodium, joint, bad)).toEqual(['3']);
    expect(() => deal(sodium, 1, [1, 2, 3])).toThrow(/threshold/);
    expect(() => deal(sodium, 4, [1, 2, 3])).toThrow(/threshold/);
  });

  it('blinding hides the input: two requests for one ID share no element', () => {
    const input = [enc.encode('ID0000007X'), enc.encode('ID0000007X')];
    const { blinded } = blindInputs(sodium, input);
    expect(hex(blinded.subarray(0, 32))).not.toBe(hex(blinded.subarray(32, 64)));
    // Neither equals the unblinded hash-to-group of the input (what a plain hash would reveal).
    const { blinded: again } = blindInputs(sodium, [input[0]]);
    expect(hex(again)).not.toBe(hex(blinded.subarray(0, 32)));
  });

  it('refuses invalid and identity elements, naming the element', () => {
    const scalar = scalarToBytes(12345n);
    const good = blindInputs(sodium, [enc.encode('x')]).blinded;
    const bad = new Uint8Array(64);
    bad.set(good, 0);
    bad.fill(0xff, 32);
    expect(() => evaluateBlinded(sodium, scalar, bad)).toThrow(/element #1 is not a valid/);
    expect(() => evaluateBlinded(sodium, scalar, new Uint8Array(32))).toThrow(/element #0/); // identity
    expect(() => evaluateBlinded(sodium, scalar, new Uint8Array(31))).toThrow(/whole number/);
    const { blinded, unblinds } = blindInputs(sodium, [enc.encode('y')]);
    expect(() => finalizeTokens(sodium, [enc.encode('y')], unblinds, [new Uint8Array(32).fill(0xff)])).toThrow(/do not combine/);
    expect(() => finalizeTokens(sodium, [enc.encode('y')], unblinds, [blinded.subarray(0, 16)])).toThrow(/answered/);
  });
});

describe('frames', () => {
  it('round-trip', () => {
    const el = new Uint8Array(randomBytes(96));
    expect(decodeElements(encodeElements(7, el))).toMatchObject({ epoch: 7, count: 3 });
    expect(hex(decodeElements(encodeElements(7, el)).elements)).toBe(hex(el));
    const ans = decodeAnswers(encodeAnswers(9, [el, el]), 3);
    expect(ans.epoch).toBe(9);
    expect(ans.answers.map(hex)).toEqual([hex(el), hex(el)]);
    const rows = new Uint8Array(40);
    putRow(rows, 0, new Uint8Array(16).fill(1), -5);
    putRow(rows, 1, new Uint8Array(16).fill(2), 19_900);
    const r = decodeRows(encodeRows(3, UPLOAD_ADD, rows));
    expect([r.epoch, r.op, r.count, rowBucket(r.rows, 0), rowBucket(r.rows, 1), rowToken(r.rows, 1)[0]]).toEqual([3, UPLOAD_ADD, 2, -5, 19_900, 2]);
    expect(decodeCommit(encodeCommit(4, true))).toEqual({ epoch: 4, replace: true });
    const g = decodeGroups(encodeGroups(2, new Uint8Array(48), new Uint32Array([0, 1, 1, 3])));
    expect([...g.offsets]).toEqual([0, 1, 1, 3]);
    expect([...decodeCounts(encodeCounts(new Uint32Array([0, 5, 1])), 3)]).toEqual([0, 5, 1]);
    expect(decodeJson(encodeJson({ a: 1 }))).toEqual({ a: 1 });
  });

  it('reject malformed frames with ToprfProtocolError only (fuzzed)', () => {
    const decoders = [
      (b: Uint8Array) => decodeElements(b),
      (b: Uint8Array) => decodeAnswers(b, 2),
      (b: Uint8Array) => decodeRows(b),
      (b: Uint8Array) => decodeCommit(b),
      (b: Uint8Array) => decodeGroups(b),
      (b: Uint8Array) => decodeCounts(b, 2),
      (b: Uint8Array) => decodeJson(b),
      (b: Uint8Array) => expectFrame(b, FrameType.Rows),
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 1, max: 7 }), (body, type) => {
        const frame = new Uint8Array([type, ...body]);
        for (const d of decoders) {
          try {
            d(frame);
          } catch (e) {
            if (!(e instanceof ToprfProtocolError)) throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
    // Specific lies: counts that disagree with lengths, offsets out of order, oversized claims.
    expect(() => decodeElements(Uint8Array.from([2, 0, 0, 0, 1, 0, 0, 0, 2, ...new Array(32).fill(0)]))).toThrow(ToprfProtocolError);
    expect(() => decodeGroups(encodeGroups(1, new Uint8Array(32), new Uint32Array([0, 2])).map((v, i, a) => (i === a.length - 5 ? 1 : v)))).toThrow(ToprfProtocolError);
    expect(() => decodeElements(Uint8Array.from([2, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]))).toThrow(/exceeds the limit/);
    expect(() => decodeJson(Uint8Array.from([1, 0x5b, 0x5d]))).toThrow(/not an object/);
    expect(() => decodeElements(null)).toThrow(/session ended/);
  });
});
