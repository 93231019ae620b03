/**
 * Our own plaintext GWAS over one pooled PLINK fileset: the same counting (packed-counts.ts),
 * allele alignment and association math as the federated operator, without any protocol. The
 * federated result must equal it bit for bit, however the samples are split among parties; the
 * GWAS benchmark also times it as the in-process baseline.
 */
import { readFileset, type BimVariant } from '../../connectors/plink/plink-files.js';
import { alignAlleles, allelicTest, flipFor, modelTest, type AllelicResult, type GenotypeCounts, type ModelResult } from './association.js';
import { COUNTS_PER_SNP, countPacked } from './packed-counts.js';

export interface SnpReference {
  variant: BimVariant;
  counts: GenotypeCounts;
  allelic: AllelicResult;
  model: ModelResult;
}

/** Name-oriented counts of one SNP from counts by copies of its .bim allele1. */
export function orientCounts(c: Float64Array | number[], at: number, flip: boolean): GenotypeCounts {
  const [c2, c1, c0, u2, u1, u0, ax, called] = Array.from({ length: COUNTS_PER_SNP }, (_, k) => c[at + k]);
  return flip
    ? { caseXX: c0, caseXY: c1, caseYY: c2, ctrlXX: u0, ctrlXY: u1, ctrlYY: u2, allX: 2 * called - ax, allCalled: called }
    : { caseXX: c2, caseXY: c1, caseYY: c0, ctrlXX: u2, ctrlXY: u1, ctrlYY: u0, allX: ax, allCalled: called };
}

export function pooledReference(prefix: string): Map<string, SnpReference> {
  const set = readFileset(prefix);
  const classes = {
    phenotype: Uint8Array.from(set.samples, (s) => s.phenotype ?? 0),
    founder: Uint8Array.from(set.samples, (s) => (s.pat === '0' && s.mat === '0' ? 1 : 0)),
  };
  const counts = countPacked(set.bed, set.variants.length, classes);
  const out = new Map<string, SnpReference>();
  set.variants.forEach((v, s) => {
    const aligned = alignAlleles([[v.allele1, v.allele2]]);
    if ('conflict' in aligned) throw new Error(`SNP ${v.snp} has more than two alleles`);
    const c = orientCounts(counts, s * COUNTS_PER_SNP, flipFor(v.allele1, v.allele2, aligned.x, aligned.y) === 1);
    out.set(v.snp, { variant: v, counts: c, allelic: allelicTest(aligned.x, aligned.y, c), model: modelTest(aligned.x, aligned.y, c) });
  });
  return out;
}
