/**
 * The hub's in-memory token index against a naive model (a Set of rows) under random
 * add / remove / remove-lender / count sequences: every answer equal, idempotent adds, row
 * counts per lender right — including after growth past the initial capacity and hash
 * collisions on the first 32 bits (the probe key).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenIndex } from '../../executor/operators/dedupe/hub-index.js';

const LENDERS = 5;

function token(n: number, collide: boolean): Uint8Array {
  const t = new Uint8Array(16);
  // `collide`: every token shares its first 4 bytes (worst case for the open addressing).
  const v = new DataView(t.buffer);
  v.setUint32(0, collide ? 0xabcdef01 : (n * 2654435761) >>> 0);
  v.setUint32(12, n);
  return t;
}

type Op =
  | { kind: 'add' | 'remove'; t: number; lender: number; bucket: number }
  | { kind: 'removeLender'; lender: number }
  | { kind: 'count'; tokens: number[]; lo: number; hi: number; allowed: boolean[] };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const), t: fc.nat(60), lender: fc.nat(LENDERS - 1), bucket: fc.integer({ min: -3, max: 6 }) }),
  fc.record({ kind: fc.constant('removeLender' as const), lender: fc.nat(LENDERS - 1) }),
  fc.record({
    kind: fc.constant('count' as const),
    tokens: fc.array(fc.nat(60), { maxLength: 4 }),
    lo: fc.integer({ min: -4, max: 7 }),
    hi: fc.integer({ min: -4, max: 7 }),
    allowed: fc.array(fc.boolean(), { minLength: LENDERS, maxLength: LENDERS }),
  }),
);

describe('TokenIndex', () => {
  for (const collide of [false, true]) {
    it(`matches a naive model${collide ? ' when every token collides on its probe key' : ''}`, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
          const index = new TokenIndex(LENDERS, 4);
          const model = new Set<string>();
          for (const o of ops) {
            if (o.kind === 'add' || o.kind === 'remove') {
              const id = `${o.t}|${o.lender}|${o.bucket}`;
              const had = model.has(id);
              if (o.kind === 'add') {
                expect(index.add(token(o.t, collide), o.lender, o.bucket)).toBe(!had);
                model.add(id);
              } else {
                expect(index.remove(token(o.t, collide), o.lender, o.bucket)).toBe(had);
                model.delete(id);
              }
            } else if (o.kind === 'removeLender') {
              const mine = [...model].filter((r) => Number(r.split('|')[1]) === o.lender);
              expect(index.removeLender(o.lender)).toBe(mine.length);
              for (const r of mine) model.delete(r);
            } else {
              const tokens = new Uint8Array(o.tokens.length * 16);
              o.tokens.forEach((t, i) => tokens.set(token(t, collide), i * 16));
              const allowed = Uint8Array.from(o.allowed.map(Number));
              const expected = new Set(
                [...model].map((r) => r.split('|').map(Number)).filter(([t, l, b]) => o.tokens.includes(t) && b >= o.lo && b < o.hi && o.allowed[l]).map(([, l]) => l),
              ).size;
              expect(index.countLenders(tokens, 0, o.tokens.length, o.lo, o.hi, allowed)).toBe(expected);
            }
            expect(index.size).toBe(model.size);
          }
          for (let l = 0; l < LENDERS; l++) expect(index.rowsOf(l)).toBe([...model].filter((r) => Number(r.split('|')[1]) === l).length);
          expect(new Set([...index.rows()].map((r) => `${new DataView(r.token.buffer).getUint32(12)}|${r.lender}|${r.bucket}`))).toEqual(model);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('grows past its initial capacity (tokens and entries) without losing rows', () => {
    const index = new TokenIndex(3);
    for (let n = 0; n < 5000; n++) expect(index.add(token(n, false), n % 3, n % 7)).toBe(true);
    for (let n = 0; n < 5000; n += 3) expect(index.add(token(n, false), (n + 1) % 3, 1)).toBe(true);
    expect(index.tokens).toBe(5000);
    expect(index.size).toBe(5000 + 1667);
    for (let n = 0; n < 5000; n++) {
      expect(index.has(token(n, false), n % 3, n % 7)).toBe(true);
      expect(index.countLenders(token(n, false), 0, 1, -10, 10, Uint8Array.from([1, 1, 1]))).toBe(n % 3 === 0 && (n + 1) % 3 !== n % 3 ? 2 : 1);
    }
    expect(index.has(token(5001, false), 0, 0)).toBe(false);
  });

  it('refuses lenders outside its range and malformed tokens', () => {
    const index = new TokenIndex(2);
    expect(() => index.add(token(1, false), 2, 0)).toThrow(/lender index/);
    expect(() => index.add(new Uint8Array(15), 0, 0)).toThrow(/16 bytes/);
  });
});
