/**
 * The GWAS value blocks of secure aggregation, on both sides of the protocol:
 * - at a party, each part of a block from its eight packed-genotype counts (copies of its own
 *   .bim allele1, executor/gwas/packed-counts.ts) and, for SNPs whose allele1 is the SNP's
 *   second allele by name, the *flip* that re-orients a part to the SNP's first allele X;
 * - at the requester, the pooled name-oriented counts a test needs from the block's totals.
 * Genotype blocks hold GWAS_PARTS (8 counts), allele blocks ALLELE_PARTS (6, allelic test only).
 */
import type { GwasCounts } from '../../../planner/operators/secure-aggregate-spec.js';
import type { AlleleCounts, GenotypeCounts } from '../../gwas/association.js';

/**
 * Part `part` of a block from the eight counts at `c[o…o+7]` (case 2/1/0 copies of allele1,
 * control 2/1/0, allele1 copies and called genotypes of all/founder samples).
 */
export function partFromPacked(counts: GwasCounts, part: number, c: Float64Array, o: number): number {
  if (counts === 'genotypes') return c[o + part];
  switch (part) {
    case 0: return 2 * c[o] + c[o + 1];
    case 1: return 2 * c[o + 2] + c[o + 1];
    case 2: return 2 * c[o + 3] + c[o + 4];
    case 3: return 2 * c[o + 5] + c[o + 4];
    case 4: return c[o + 6];
    default: return c[o + 7];
  }
}

/**
 * How a flipped row (its allele1 is the SNP's Y) contributes part `part`: the value of part
 * `from` of the same row, or for the "allele X over all samples" part, 2 · called − that.
 */
export function flipOf(counts: GwasCounts, part: number): { from: number; complementOf?: number } {
  if (counts === 'genotypes') {
    if (part === 6) return { from: 6, complementOf: 7 };
    return { from: [2, 1, 0, 5, 4, 3, 6, 7][part] };
  }
  if (part === 4) return { from: 4, complementOf: 5 };
  return { from: [1, 0, 3, 2, 4, 5][part] };
}

/** Name-oriented genotype counts of a genotype block whose totals start at value `v`. */
export function genotypeCounts(num: (v: number) => number, v: number): GenotypeCounts {
  return {
    caseXX: num(v), caseXY: num(v + 1), caseYY: num(v + 2),
    ctrlXX: num(v + 3), ctrlXY: num(v + 4), ctrlYY: num(v + 5),
    allX: num(v + 6), allCalled: num(v + 7),
  };
}

/** Name-oriented allele counts of an allele block whose totals start at value `v`. */
export function alleleCounts(num: (v: number) => number, v: number): AlleleCounts {
  return { caseX: num(v), caseY: num(v + 1), ctrlX: num(v + 2), ctrlY: num(v + 3), allX: num(v + 4), allCalled: num(v + 5) };
}
