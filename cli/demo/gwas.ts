/**
 * Federated GWAS scenario (seed report: ankylosing spondylitis across hospitals; schema of
 * research/anchors-gwas.md §4). Each hospital (`hospital_1` … default 5) holds
 *   samples(sample_id, fid, iid, sex, pheno, age)     sex 1/2 (0 unknown), pheno 1 ctrl / 2 case / NULL
 *   variants(snp_id, chr, rsid, bp, allele1, allele2) the same SNP panel at every hospital
 *   genotypes(sample_id, snp_id, dosage)              long format, dosage = copies of allele1, NULL = missing
 * sample_id is globally unique (hospital × 100,000 + n), so the federated `hospitals.samples` ⋈
 * `hospitals.genotypes` on sample_id (declared `colocated`) equals the join of the unions.
 * `hospitals.variants` repeats every SNP once per hospital: join to one hospital's variants.
 *
 * Genotypes follow Hardy–Weinberg: G ~ Binomial(2, p) with a MAF p ~ U(0.05, 0.5) per SNP,
 * perturbed by ±0.03 per hospital. A cluster of causal SNPs on chr 6 (30.0–32.6 Mb, MHC-like) has a
 * multiplicative allelic odds ratio ψ for the minor allele: in cases p_case = ψp / (1 + p(ψ − 1)).
 * The case fraction differs per hospital (imbalanced design); ~1% of genotypes are missing, one SNP
 * has 15% missingness and one SNP is monomorphic. Allele1 is the minor allele for ~70% of SNPs and
 * the major one otherwise, so consumers must not assume allele1 = A1.
 */
import type { RawValue } from './csv.js';
import { col, type GeneratedTable } from './model.js';
import type { DemoRng } from './prng.js';

/** Approximate GRCh37 chromosome lengths in Mb (chr 1 … 22). */
const CHR_MB = [249, 243, 198, 191, 181, 171, 159, 146, 141, 136, 135, 134, 115, 107, 103, 90, 81, 78, 59, 63, 48, 51];
const CASE_FRACTIONS = [0.5, 0.35, 0.6, 0.45, 0.3];
const BASES = ['A', 'C', 'G', 'T'] as const;

export interface GwasInput {
  hospitals: number;
  samplesPerHospital: number;
  snps: number;
}

interface Snp {
  chr: number;
  bp: number;
  rsid: string;
  allele1: string;
  allele2: string;
  /** Minor allele frequency in the pooled population (0 for the monomorphic SNP). */
  maf: number;
  allele1IsMinor: boolean;
  /** Odds ratio of the minor allele (1 for null SNPs). */
  or: number;
  missingRate: number;
}

export interface GwasScenario {
  tables: GeneratedTable[];
  /** rsids of the planted chr-6 SNPs, strongest odds ratio first. */
  plantedSnps: string[];
  hospitals: string[];
}

export function hospitalNames(count: number): string[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`hospital count must be a positive integer, got ${count}`);
  return Array.from({ length: count }, (_, i) => `hospital_${i + 1}`);
}

function buildPanel(rng: DemoRng, total: number): Snp[] {
  if (total < 30) throw new Error(`the GWAS panel needs at least 30 SNPs, got ${total}`);
  const causal = Math.min(10, Math.floor(total / 10));
  const nulls = total - causal;
  const totalMb = CHR_MB.reduce((a, b) => a + b, 0);
  const perChr = CHR_MB.map((mb) => Math.floor((nulls * mb) / totalMb));
  let left = nulls - perChr.reduce((a, b) => a + b, 0);
  for (let c = 0; left > 0; c = (c + 1) % 22, left--) perChr[c]++;

  const rsids = new Set<string>();
  const newRsid = (): string => {
    let id: string;
    do id = 'rs' + String(rng.range(1_000, 99_999_999));
    while (rsids.has(id));
    rsids.add(id);
    return id;
  };
  const alleles = (): [string, string] => {
    const [a, b] = rng.sample(BASES, 2);
    return [a, b];
  };
  const snps: Snp[] = [];
  const usedBp = new Set<string>();
  const add = (chr: number, bp: number, maf: number, or: number): void => {
    while (usedBp.has(`${chr}:${bp}`)) bp++;
    usedBp.add(`${chr}:${bp}`);
    const [allele1, allele2] = alleles();
    snps.push({ chr, bp, rsid: newRsid(), allele1, allele2, maf, allele1IsMinor: rng.chance(0.7), or, missingRate: 0.01 });
  };
  perChr.forEach((n, i) => {
    const chr = i + 1;
    for (let k = 0; k < n; k++) add(chr, rng.range(100_000, CHR_MB[i] * 1_000_000), 0.05 + rng.float() * 0.45, 1);
  });
  // The planted MHC-like cluster: odds ratios rise towards the middle of the region.
  const peak = [1.7, 1.9, 2.2, 2.5, 2.9, 3.1, 2.6, 2.3, 2.0, 1.8];
  for (let j = 0; j < causal; j++) {
    add(6, 30_000_000 + Math.round((j * 2_600_000) / causal) + rng.range(0, 200_000), 0.2 + rng.float() * 0.2, peak[j % peak.length]);
  }
  snps.sort((a, b) => a.chr - b.chr || a.bp - b.bp);
  // Edge cases on null SNPs at fixed positions: one monomorphic, one with 15% missing calls.
  const nullIdx = snps.map((s, i) => (s.or === 1 ? i : -1)).filter((i) => i >= 0);
  snps[nullIdx[nullIdx.length - 1]].maf = 0;
  snps[nullIdx[3]].missingRate = 0.15;
  return snps;
}

export function buildGwas(rng: DemoRng, input: GwasInput): GwasScenario {
  const names = hospitalNames(input.hospitals);
  const snps = buildPanel(rng.fork('panel'), input.snps);
  const variantRows: RawValue[][] = snps.map((s, i) => [i + 1, String(s.chr), s.rsid, s.bp, s.allele1, s.allele2]);
  const tables: GeneratedTable[] = [];

  names.forEach((party, h) => {
    const r = rng.fork(party);
    const caseFraction = CASE_FRACTIONS[h % CASE_FRACTIONS.length];
    const sampleRows: RawValue[][] = [];
    const phenos: (number | null)[] = [];
    for (let i = 1; i <= input.samplesPerHospital; i++) {
      const pheno = r.chance(0.02) ? null : r.chance(caseFraction) ? 2 : 1;
      const sex = r.chance(0.01) ? 0 : r.chance(0.5) ? 1 : 2;
      const age = Math.round((20 + r.float() * 50 + (pheno === 2 ? 3 : 0)) * 10) / 10;
      sampleRows.push([(h + 1) * 100_000 + i, `H${h + 1}_F${String(i).padStart(4, '0')}`, `H${h + 1}_${String(i).padStart(4, '0')}`, sex, pheno, age]);
      phenos.push(pheno);
    }
    const genotypeRows: RawValue[][] = [];
    snps.forEach((s, j) => {
      const p = s.maf === 0 ? 0 : Math.min(0.99, Math.max(0.01, s.maf + (r.float() - 0.5) * 0.06));
      const pCase = (s.or * p) / (1 + p * (s.or - 1));
      for (let i = 0; i < input.samplesPerHospital; i++) {
        let dosage: number | null = null;
        const minorCopies = r.binomial(2, phenos[i] === 2 ? pCase : p);
        if (!r.chance(s.missingRate)) dosage = s.allele1IsMinor ? minorCopies : 2 - minorCopies;
        genotypeRows.push([(h + 1) * 100_000 + i + 1, j + 1, dosage]);
      }
    });
    tables.push(
      {
        party,
        name: 'samples',
        doc: `${party}'s study participants (case fraction ≈ ${caseFraction}); member of hospitals.samples.`,
        columns: [
          col('sample_id', 'INTEGER', 'public', 'pseudonymous sample number, unique across hospitals (hospital × 100,000 + n)'),
          col('fid', 'VARCHAR', 'private', 'PLINK family id'),
          col('iid', 'VARCHAR', 'private', 'PLINK individual id'),
          col('sex', 'INTEGER', 'aggregate', '1 male, 2 female, 0 unknown (PLINK coding)'),
          col('pheno', 'INTEGER', 'aggregate', '1 control, 2 case (ankylosing spondylitis), NULL missing'),
          col('age', 'DOUBLE', 'aggregate', 'age at recruitment in years (one decimal)'),
        ],
        rows: sampleRows,
        minGroup: 10,
      },
      {
        party,
        name: 'variants',
        doc: 'The genotyping panel, identical at every hospital (member of hospitals.variants).',
        columns: [
          col('snp_id', 'INTEGER', 'public', 'SNP number, the same at every hospital'),
          col('chr', 'VARCHAR', 'public', "chromosome '1' … '22' (text, as in PLINK files)"),
          col('rsid', 'VARCHAR', 'public', 'dbSNP-style identifier'),
          col('bp', 'BIGINT', 'public', 'base-pair position'),
          col('allele1', 'VARCHAR', 'public', 'the allele dosage counts (minor for ~70% of SNPs)'),
          col('allele2', 'VARCHAR', 'public', 'the other allele'),
        ],
        rows: variantRows,
        minGroup: 10,
      },
      {
        party,
        name: 'genotypes',
        doc: `${party}'s genotype calls in long format, one row per sample × SNP (member of hospitals.genotypes).`,
        columns: [
          col('sample_id', 'INTEGER', 'public', 'samples.sample_id'),
          col('snp_id', 'INTEGER', 'public', 'variants.snp_id'),
          col('dosage', 'INTEGER', 'aggregate', 'copies of allele1 (0, 1, 2); NULL = missing call'),
        ],
        rows: genotypeRows,
        minGroup: 10,
      },
    );
  });

  const planted = snps.filter((s) => s.or > 1).sort((a, b) => b.or - a.or || a.bp - b.bp);
  return { tables, plantedSnps: planted.map((s) => s.rsid), hospitals: names };
}
