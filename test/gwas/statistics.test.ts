/**
 * The association math on its own: P and log10(P) in the extreme tail (plink prints P = 0 where
 * it underflows; our log10_p stays finite and continuous), plink's number printing, the A1 rule
 * on exact ties, and allele alignment by name.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, vi } from 'vitest';
import { writeFileset, bedCode } from '../../connectors/plink/plink-files.js';
import { alignAlleles, allelicTest, chooseA1, flipFor } from '../../executor/gwas/association.js';
import { chiSquareLog10P, chiSquareP } from '../../executor/gwas/chi-square.js';
import { formatPlinkG4 } from '../../executor/gwas/plink-format.js';

// Generous per-test time: the suite shares 2 cores with everything else npm test runs.
vi.setConfig({ testTimeout: 60_000 });

test('an extreme SNP prints P = 0 like plink while log10_p stays finite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'veilsql-extreme-'));
  try {
    const n = 4000;
    const samples = Array.from({ length: n }, (_, j) => ({ fid: `F${j}`, iid: `I${j}`, pat: '0', mat: '0', sex: 1, phenotype: j < n / 2 ? 2 : 1 }));
    const bed = new Uint8Array(n / 4);
    for (let j = 0; j < n; j++) bed[j >> 2] |= bedCode(j < n / 2 ? 2 : 0) << (2 * (j & 3));
    writeFileset(join(dir, 'x'), { samples, variants: [{ chr: '6', snp: 'rs_extreme', cm: 0, bp: 31_000_000, allele1: 'A', allele2: 'G' }], bed });
    execFileSync('plink1.9', ['--bfile', join(dir, 'x'), '--allow-no-sex', '--assoc', '--out', join(dir, 'x')], { stdio: 'pipe' });
    const [, row] = readFileSync(join(dir, 'x.assoc'), 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/));
    const ours = allelicTest('A', 'G', { caseXX: n / 2, caseXY: 0, caseYY: 0, ctrlXX: 0, ctrlXY: 0, ctrlYY: n / 2, allX: n, allCalled: n });
    expect([ours.a1, formatPlinkG4(ours.chisq), formatPlinkG4(ours.p), formatPlinkG4(ours.or)]).toEqual([row[3], row[7], row[8], row[9]]);
    expect(row[8]).toBe('0');
    // log10 erfc(s) ≈ −s²/ln10 − log10(s√π) − 1/(2s² ln10) for large s.
    const s = Math.sqrt(8000 / 2);
    expect(ours.log10_p).toBeCloseTo(-s * s / Math.LN10 - Math.log10(s * Math.sqrt(Math.PI)) - 1 / (2 * s * s * Math.LN10), 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('log10 P is continuous where the computation switches to the scaled erfc', () => {
  for (const chisq of [1, 50, 500, 1280, 1288, 1300, 4000]) {
    const direct = Math.log10(chiSquareP(chisq, 1));
    const l = chiSquareLog10P(chisq, 1);
    if (Number.isFinite(direct) && chiSquareP(chisq, 1) > 1e-300) expect(l).toBeCloseTo(direct, 9);
    expect(Number.isFinite(l)).toBe(true);
  }
  expect(chiSquareLog10P(10, 2)).toBeCloseTo(Math.log10(Math.exp(-5)), 12);
});

test('plink-style printing: 4 significant digits, ties half to even, exponents', () => {
  expect([0.43125, 116.7, 3.41e-27, 1 / 6, 12345, 0.00012345, 0, null].map(formatPlinkG4)).toEqual(['0.4312', '116.7', '3.41e-27', '0.1667', '1.234e+04', '0.0001234', '0', 'NA']);
});

test('A1 is the pooled minor allele by name; an exact tie keeps the name order', () => {
  const c = { caseXX: 0, caseXY: 10, caseYY: 0, ctrlXX: 0, ctrlXY: 10, ctrlYY: 0, allX: 20, allCalled: 20 };
  expect(chooseA1('C', 'T', c)).toEqual({ a1: 'C', a2: 'T', a1IsX: true });
  expect(chooseA1('C', 'T', { ...c, allX: 19 })).toEqual({ a1: 'C', a2: 'T', a1IsX: true });
  expect(chooseA1('C', 'T', { ...c, allX: 21 })).toEqual({ a1: 'T', a2: 'C', a1IsX: false });
  expect(alignAlleles([['T', 'C'], ['C', '0'], ['0', '0']])).toEqual({ x: 'C', y: 'T' });
  expect(alignAlleles([['A', 'C'], ['A', 'G']])).toEqual({ conflict: ['A', 'C', 'G'] });
  expect([flipFor('T', 'C', 'C', 'T'), flipFor('C', 'T', 'C', 'T'), flipFor('0', 'C', 'C', 'T'), flipFor('0', 'T', 'C', 'T')]).toEqual([1, 0, 1, 0]);
});

test('packed counting equals a per-sample count (cases, controls, missing phenotypes, non-founders)', async () => {
  const fc = (await import('fast-check')).default;
  const { countPacked, COUNTS_PER_SNP } = await import('../../executor/gwas/packed-counts.js');
  const { COPIES_OF_ALLELE1 } = await import('../../connectors/plink/plink-files.js');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 23 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (n, snps, seed) => {
      let x = seed >>> 0 || 1;
      const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
      const width = Math.ceil(n / 4);
      const bed = Uint8Array.from({ length: snps * width }, rnd);
      const phenotype = Uint8Array.from({ length: n }, () => rnd() % 3);
      const founder = Uint8Array.from({ length: n }, () => (rnd() % 4 ? 1 : 0));
      const got = countPacked(bed, snps, { phenotype, founder });
      for (let s = 0; s < snps; s++) {
        const want = new Array(COUNTS_PER_SNP).fill(0);
        for (let j = 0; j < n; j++) {
          const c = COPIES_OF_ALLELE1[(bed[s * width + (j >> 2)] >> (2 * (j & 3))) & 3];
          if (c < 0) continue;
          if (phenotype[j] === 2) want[2 - c]++;
          if (phenotype[j] === 1) want[3 + 2 - c]++;
          if (founder[j]) {
            want[6] += c;
            want[7]++;
          }
        }
        expect(Array.from(got.subarray(s * COUNTS_PER_SNP, (s + 1) * COUNTS_PER_SNP))).toEqual(want);
      }
    }),
    { numRuns: 200 },
  );
});
