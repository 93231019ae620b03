/**
 * plink 1.9 case/control association tests from pooled genotype counts — the public math that
 * runs at the gateway once secure aggregation revealed the per-SNP totals. The same functions
 * serve the federated run and our plaintext pooled reference, so both are bit-identical.
 *
 * Counts are oriented by allele *name*: X and Y are the SNP's two alleles in name order
 * ('0' = an allele no party has observed). A1 is chosen like plink's `calc_marker_reverse_bin`
 * on a pooled file whose .bim lists X then Y: A1 = Y if the frequency of Y over all called
 * genotypes (all samples, phenotype or not) is below 0.5, else X (an exact 0.5 keeps X).
 *
 * --assoc: a = A1 alleles in cases, b = A2 in cases, c = A1 in controls, d = A2 in controls;
 *   CHISQ = Pearson 2×2 without continuity correction (NA if a+c = 0 or b+d = 0; 0 if a row is
 *   empty), P = Q(χ²,1), OR = a·d/(b·c) (NA if b·c = 0), F_A = a/(a+b), F_U = c/(c+d).
 * --model: GENO (2×3 genotype table, df 2, or 1 when a genotype column is empty), TREND
 *   (Cochran–Armitage), ALLELIC (as above), DOM (A1 dominant) and REC (A1 recessive); GENO, DOM
 *   and REC are NA when a cell of the 2×3 genotype table is below `cell` (plink --cell, default 5).
 */
import { chiSquareLog10P, chiSquareP } from './chi-square.js';

/** Pooled counts of one SNP, oriented by allele name (X before Y). */
export interface GenotypeCounts {
  caseXX: number;
  caseXY: number;
  caseYY: number;
  ctrlXX: number;
  ctrlXY: number;
  ctrlYY: number;
  /** X alleles over all called genotypes of all samples (cases, controls, missing phenotype). */
  allX: number;
  /** Called genotypes of all samples. */
  allCalled: number;
}

/**
 * Pooled allele counts of one SNP, oriented by name: all that the allelic test needs (a query
 * whose only GWAS aggregate is GWAS_ALLELIC aggregates these instead of genotype counts).
 */
export interface AlleleCounts {
  caseX: number;
  caseY: number;
  ctrlX: number;
  ctrlY: number;
  allX: number;
  allCalled: number;
}

export interface Orientation {
  a1: string;
  a2: string;
  /** True when A1 is X (the first allele by name). */
  a1IsX: boolean;
}

export function chooseA1(x: string, y: string, c: { allX: number; allCalled: number }): Orientation {
  // Frequency of Y < 0.5  ⇔  2·(Y alleles) < 2·called  ⇔  2·(2·called − allX) < 2·called.
  const yAlleles = 2 * c.allCalled - c.allX;
  const swap = c.allCalled > 0 && 2 * yAlleles < 2 * c.allCalled;
  return swap ? { a1: y, a2: x, a1IsX: false } : { a1: x, a2: y, a1IsX: true };
}

/** Case and control genotype counts as A1A1 / A1A2 / A2A2. */
export function a1Genotypes(c: GenotypeCounts, o: Orientation): { aff: [number, number, number]; unaff: [number, number, number] } {
  return o.a1IsX
    ? { aff: [c.caseXX, c.caseXY, c.caseYY], unaff: [c.ctrlXX, c.ctrlXY, c.ctrlYY] }
    : { aff: [c.caseYY, c.caseXY, c.caseXX], unaff: [c.ctrlYY, c.ctrlXY, c.ctrlXX] };
}

export interface AllelicResult {
  a1: string;
  a2: string;
  f_a: number | null;
  f_u: number | null;
  chisq: number | null;
  p: number | null;
  or: number | null;
  log10_p: number | null;
  c_a: number;
  c_u: number;
  n_a: number;
  n_u: number;
}

/** Pearson χ² of the 2×2 table [[a, b], [c, d]] without continuity correction (plink chi22). */
export function chi22(a: number, b: number, c: number, d: number): number | null {
  if (a + c === 0 || b + d === 0) return null;
  const rows1 = a + b;
  const rows2 = c + d;
  if (rows1 === 0 || rows2 === 0) return 0;
  const n = rows1 + rows2;
  const det = a * d - b * c;
  return (n * det * det) / (rows1 * rows2 * (a + c) * (b + d));
}

export function allelicTest(x: string, y: string, c: GenotypeCounts): AllelicResult {
  const o = chooseA1(x, y, c);
  const { aff, unaff } = a1Genotypes(c, o);
  return allelicFromA1Counts(o, 2 * aff[0] + aff[1], 2 * aff[2] + aff[1], 2 * unaff[0] + unaff[1], 2 * unaff[2] + unaff[1]);
}

/**
 * The allelic test from allele counts. The four cells are the same integers allelicTest derives
 * from genotype counts, so both give bit-identical results.
 */
export function allelicFromAlleles(x: string, y: string, c: AlleleCounts): AllelicResult {
  const o = chooseA1(x, y, c);
  return o.a1IsX ? allelicFromA1Counts(o, c.caseX, c.caseY, c.ctrlX, c.ctrlY) : allelicFromA1Counts(o, c.caseY, c.caseX, c.ctrlY, c.ctrlX);
}

/** a, b = A1 and A2 alleles in cases; cc, d = A1 and A2 alleles in controls. */
function allelicFromA1Counts(o: Orientation, a: number, b: number, cc: number, d: number): AllelicResult {
  const chisq = chi22(a, b, cc, d);
  return {
    a1: o.a1,
    a2: o.a2,
    f_a: a + b > 0 ? a / (a + b) : null,
    f_u: cc + d > 0 ? cc / (cc + d) : null,
    chisq,
    p: chisq === null ? null : chiSquareP(chisq, 1),
    or: b * cc !== 0 ? (a * d) / (b * cc) : null,
    log10_p: chisq === null ? null : chiSquareLog10P(chisq, 1),
    c_a: a,
    c_u: cc,
    n_a: a + b,
    n_u: cc + d,
  };
}

export interface ModelTest {
  chisq: number | null;
  df: number | null;
  p: number | null;
}

export interface ModelResult {
  a1: string;
  a2: string;
  aff: [number, number, number];
  unaff: [number, number, number];
  geno: ModelTest;
  trend: ModelTest;
  allelic: ModelTest;
  dom: ModelTest;
  rec: ModelTest;
}

const NA: ModelTest = { chisq: null, df: null, p: null };

function test(chisq: number | null, df: number): ModelTest {
  return chisq === null ? NA : { chisq, df, p: chiSquareP(chisq, df) };
}

/** Pearson χ² of a 2×3 table; df 1 when one genotype column is empty (plink chi23_evalx). */
export function chi23(m: [number, number, number], n: [number, number, number]): { chisq: number; df: number } | null {
  const r1 = m[0] + m[1] + m[2];
  const r2 = n[0] + n[1] + n[2];
  if (r1 === 0 || r2 === 0) return null;
  const cols = [m[0] + n[0], m[1] + n[1], m[2] + n[2]];
  if (cols[0] === 0) {
    const x = chi22(m[1], m[2], n[1], n[2]);
    return x === null ? null : { chisq: x, df: 1 };
  }
  if (cols[1] === 0 || cols[2] === 0) {
    const other = cols[1] === 0 ? 2 : 1;
    const x = chi22(m[0], m[other], n[0], n[other]);
    return x === null ? null : { chisq: x, df: 1 };
  }
  const total = r1 + r2;
  let chisq = 0;
  for (const [row, sum] of [[m, r1], [n, r2]] as const) {
    const share = sum / total;
    for (let j = 0; j < 3; j++) {
      const expect = share * cols[j];
      const delta = row[j] - expect;
      chisq += (delta * delta) / expect;
    }
  }
  return { chisq: chisq < 1e-14 ? 0 : chisq, df: 2 };
}

/** Cochran–Armitage trend χ² (1 df) over genotype counts; null when the dosage has no variance. */
export function trend(aff: [number, number, number], unaff: [number, number, number]): number | null {
  const caseCt = aff[0] + aff[1] + aff[2];
  const total = caseCt + unaff[0] + unaff[1] + unaff[2];
  const het = aff[1] + unaff[1];
  const hom = aff[0] + unaff[0];
  const caseDose = 2 * aff[0] + aff[1];
  const dose = het + 2 * hom;
  const cat = caseDose * total - dose * caseCt;
  let denom = total * (het + 4 * hom) - dose * dose;
  if (denom === 0) return null;
  denom *= caseCt * (total - caseCt);
  if (denom === 0) return null;
  return (cat * cat * total) / denom;
}

export function modelTest(x: string, y: string, c: GenotypeCounts, cell = 5): ModelResult {
  const o = chooseA1(x, y, c);
  const { aff, unaff } = a1Genotypes(c, o);
  const small = (...cells: number[]) => cells.some((v) => v < cell);
  const geno23 = chi23(aff, unaff);
  const a = 2 * aff[0] + aff[1];
  const b = 2 * aff[2] + aff[1];
  const cc = 2 * unaff[0] + unaff[1];
  const d = 2 * unaff[2] + unaff[1];
  const domTable: [number, number, number, number] = [aff[0] + aff[1], aff[2], unaff[0] + unaff[1], unaff[2]];
  const recTable: [number, number, number, number] = [aff[0], aff[1] + aff[2], unaff[0], unaff[1] + unaff[2]];
  // Like plink, one genotype cell below `cell` invalidates all three genotypic tests.
  const sparse = small(...aff, ...unaff);
  return {
    a1: o.a1,
    a2: o.a2,
    aff,
    unaff,
    geno: sparse || !geno23 ? NA : test(geno23.chisq, geno23.df),
    trend: test(trend(aff, unaff), 1),
    allelic: test(chi22(a, b, cc, d), 1),
    dom: sparse ? NA : test(chi22(...domTable), 1),
    rec: sparse ? NA : test(chi22(...recTable), 1),
  };
}

/**
 * The allele pair of a SNP from the names the parties report ('0' or empty = unknown allele),
 * in name order. More than two distinct names is an error for the caller to report.
 */
export function alignAlleles(pairs: Iterable<[string, string]>): { x: string; y: string } | { conflict: string[] } {
  const names = new Set<string>();
  for (const [p, q] of pairs) {
    for (const n of [p, q]) if (n && n !== '0') names.add(n);
  }
  const sorted = [...names].sort();
  if (sorted.length > 2) return { conflict: sorted };
  if (sorted.length === 2) return { x: sorted[0], y: sorted[1] };
  if (sorted.length === 1) return { x: '0', y: sorted[0] };
  return { x: '0', y: '0' };
}

/** 1 when a party whose rows count copies of `allele1` (other allele `allele2`) must swap to X/Y order. */
export function flipFor(allele1: string, allele2: string, x: string, y: string): 0 | 1 {
  const a1 = allele1 && allele1 !== '0' ? allele1 : undefined;
  const a2 = allele2 && allele2 !== '0' ? allele2 : undefined;
  if (a1 !== undefined) return a1 === x ? 0 : 1;
  if (a2 !== undefined) return a2 === x ? 1 : 0;
  return 0;
}
