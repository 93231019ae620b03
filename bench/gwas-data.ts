/**
 * Seeded synthetic GWAS cohorts written as PLINK filesets (research/anchors-gwas.md §3), for
 * the GWAS tests and `bench/gwas`: one fileset per party plus the pooled fileset plink1.9 runs on.
 *
 * - SNPs spread over chr 1–22 with increasing positions; MAF p ~ U(0.01, 0.5); genotypes in
 *   Hardy–Weinberg equilibrium, G ~ Binomial(2, p) copies of the minor allele (one uniform draw
 *   per genotype against the HWE thresholds).
 * - Planted multiplicative odds ratios ψ: in cases p_case = ψp / (1 + p(ψ − 1)); a cluster of
 *   ten on chr 6 (30–33 Mb, MHC-like) plus a few elsewhere.
 * - Edge SNPs: monomorphic everywhere, MAF exactly 0.5 in the population, a pooled tie (every
 *   called sample heterozygous: A1 must keep the name order), 15% missing calls, and SNPs some
 *   party never observes one allele of (its .bim then names that allele '0').
 * - Samples: ~1% missing genotype calls, ~1% sex 0, ~2% missing phenotype; every party has its
 *   own case fraction and `noControlsParty` has cases only.
 * - Each party's .bim lists its *local* minor allele first, as `plink --make-bed` would, so the
 *   parties disagree on A1 for many SNPs; the pooled .bim lists alleles in name order (the tie
 *   rule of GWAS_ALLELIC). Randomness: a seeded xorshift generator (test data, not secrets).
 */
import { join } from 'node:path';
import { bedCode, bytesPerSnp, COPIES_OF_ALLELE1, readFileset, writeFileset, type BimVariant, type FamSample } from '../connectors/plink/plink-files.js';

export interface GwasSimulationOptions {
  parties: number;
  samplesPerParty: number;
  snps: number;
  seed: number;
  /** Index of a party with cases only (default: the last one when there are ≥ 3 parties). */
  noControlsParty?: number;
  /** Also write the pooled fileset (default true). */
  pooled?: boolean;
}

export interface GwasSimulation {
  parties: string[];
  /** Path prefix of each party's fileset. */
  prefixes: string[];
  pooled?: string;
  /** SNP ids with a planted effect, chr-6 cluster first. */
  planted: string[];
  /** SNP ids of the edge cases, by kind. */
  edges: Record<'monomorphic' | 'maf_half' | 'tie' | 'high_missing' | 'local_zero', string>;
}

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed * 2654435761) >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
}

const CHR_MB = [249, 243, 198, 191, 181, 171, 159, 146, 141, 136, 135, 134, 115, 107, 103, 90, 81, 78, 59, 63, 48, 51];
const BASES = ['A', 'C', 'G', 'T'];

interface SnpDef {
  chr: number;
  bp: number;
  id: string;
  x: string;
  y: string;
  /** Frequency of Y (the effect allele) in controls. */
  p: number;
  or: number;
  missing: number;
  kind?: keyof GwasSimulation['edges'];
}

function panel(rng: Rng, snps: number): SnpDef[] {
  if (snps < 40) throw new Error('the simulated panel needs at least 40 SNPs');
  const defs: SnpDef[] = [];
  const total = CHR_MB.reduce((a, b) => a + b, 0);
  let made = 0;
  CHR_MB.forEach((mb, c) => {
    const count = c === CHR_MB.length - 1 ? snps - made : Math.floor((snps * mb) / total);
    for (let i = 0; i < count; i++) {
      const bp = Math.floor(((i + 0.5) / count) * mb * 1e6) + Math.floor(rng.next() * 1000);
      const [x, y] = pickAlleles(rng);
      defs.push({ chr: c + 1, bp, id: `rs${c + 1}_${bp}`, x, y, p: 0.01 + rng.next() * 0.49, or: 1, missing: 0.01 });
    }
    made += count;
  });
  // The chr-6 cluster: ten SNPs in 30–33 Mb with rising then falling odds ratios.
  const chr6 = defs.map((d, i) => (d.chr === 6 ? i : -1)).filter((i) => i >= 0);
  const cluster = [1.5, 1.7, 2.0, 2.4, 2.8, 3.0, 2.5, 2.1, 1.8, 1.6];
  cluster.forEach((or, k) => {
    const d = defs[chr6[Math.floor(chr6.length * 0.2) + k]];
    d.bp = 30_000_000 + k * 300_000 + Math.floor(rng.next() * 100_000);
    d.id = `rs6_mhc${k + 1}`;
    d.or = or;
    d.p = 0.15 + rng.next() * 0.2;
  });
  for (const [chr, or] of [[2, 1.6], [11, 1.4], [19, 1.8]] as const) {
    const d = defs.find((s) => s.chr === chr && s.or === 1)!;
    d.or = or;
    d.id = `rs${chr}_hit`;
  }
  defs.sort((a, b) => a.chr - b.chr || a.bp - b.bp);
  const nulls = defs.filter((d) => d.or === 1 && d.chr !== 6);
  const edge = (k: number, kind: keyof GwasSimulation['edges'], f: (d: SnpDef) => void) => {
    const d = nulls[k];
    d.kind = kind;
    d.id = `rs_${kind}`;
    f(d);
  };
  edge(3, 'monomorphic', (d) => (d.p = 1));
  edge(7, 'maf_half', (d) => (d.p = 0.5));
  edge(11, 'tie', () => undefined);
  edge(15, 'high_missing', (d) => (d.missing = 0.15));
  edge(19, 'local_zero', (d) => (d.p = 0.004));
  return defs;
}

function pickAlleles(rng: Rng): [string, string] {
  const a = Math.floor(rng.next() * 4);
  const b = (a + 1 + Math.floor(rng.next() * 3)) % 4;
  return BASES[a] < BASES[b] ? [BASES[a], BASES[b]] : [BASES[b], BASES[a]];
}

const CASE_FRACTIONS = [0.5, 0.35, 0.6, 0.45, 0.3, 0.55, 0.4, 0.25, 0.65, 0.5];

export function simulateGwas(dir: string, options: GwasSimulationOptions): GwasSimulation {
  const rng = new Rng(options.seed);
  const defs = panel(rng, options.snps);
  const n = options.samplesPerParty;
  const parties = Array.from({ length: options.parties }, (_, i) => `party_${i + 1}`);
  const noControls = options.noControlsParty ?? (options.parties >= 3 ? options.parties - 1 : -1);
  const writePooled = options.pooled ?? true;
  const pooledN = n * options.parties;
  const pooledWidth = bytesPerSnp(pooledN);
  const pooledBed = writePooled ? new Uint8Array(defs.length * pooledWidth) : new Uint8Array(0);
  const pooledSamples: FamSample[] = [];
  // Y copies (0, 1, 2; -1 missing) of one party, SNP-major.
  const dose = new Int8Array(defs.length * n);
  const prefixes: string[] = [];
  const observedX = new Uint8Array(defs.length);
  const observedY = new Uint8Array(defs.length);

  parties.forEach((party, p) => {
    const caseFraction = p === noControls ? 1 : CASE_FRACTIONS[p % CASE_FRACTIONS.length];
    const samples: FamSample[] = [];
    for (let j = 0; j < n; j++) {
      const u = rng.next();
      const phenotype = u < 0.02 ? null : rng.next() < caseFraction ? 2 : 1;
      const sex = rng.next() < 0.01 ? 0 : rng.next() < 0.5 ? 1 : 2;
      samples.push({ fid: `${party}_F${j + 1}`, iid: `${party}_${j + 1}`, pat: '0', mat: '0', sex, phenotype });
    }
    const localX = new Int32Array(defs.length);
    const localY = new Int32Array(defs.length);
    defs.forEach((d, s) => {
      const pCase = (d.or * d.p) / (1 + d.p * (d.or - 1));
      for (let j = 0; j < n; j++) {
        let g: number;
        if (rng.next() < d.missing) g = -1;
        else if (d.kind === 'tie') g = 1;
        else {
          const q = samples[j].phenotype === 2 ? pCase : d.p;
          const u = rng.next();
          g = u < q * q ? 2 : u < q * q + 2 * q * (1 - q) ? 1 : 0;
        }
        dose[s * n + j] = g;
        if (g >= 0) {
          localY[s] += g;
          localX[s] += 2 - g;
        }
      }
    });
    // The party's .bim: local minor allele first ('0' for an allele it never observed).
    const variants: BimVariant[] = [];
    const bed = new Uint8Array(defs.length * bytesPerSnp(n));
    const width = bytesPerSnp(n);
    defs.forEach((d, s) => {
      const yFirst = localY[s] < localX[s];
      const nameX = localX[s] > 0 ? d.x : '0';
      const nameY = localY[s] > 0 ? d.y : '0';
      if (localX[s] > 0) observedX[s] = 1;
      if (localY[s] > 0) observedY[s] = 1;
      variants.push({ chr: String(d.chr), snp: d.id, cm: 0, bp: d.bp, allele1: yFirst ? nameY : nameX, allele2: yFirst ? nameX : nameY });
      for (let j = 0; j < n; j++) {
        const g = dose[s * n + j];
        const copies = g < 0 ? null : yFirst ? g : 2 - g;
        bed[s * width + (j >> 2)] |= bedCode(copies) << (2 * (j & 3));
        if (writePooled) {
          const k = p * n + j;
          pooledBed[s * pooledWidth + (k >> 2)] |= bedCode(g < 0 ? null : 2 - g) << (2 * (k & 3));
        }
      }
    });
    const prefix = join(dir, party);
    writeFileset(prefix, { samples, variants, bed });
    prefixes.push(prefix);
    pooledSamples.push(...samples);
  });

  let pooled: string | undefined;
  if (writePooled) {
    pooled = join(dir, 'pooled');
    const variants = defs.map((d, s): BimVariant => ({
      chr: String(d.chr), snp: d.id, cm: 0, bp: d.bp,
      allele1: observedX[s] ? d.x : '0',
      allele2: observedY[s] ? d.y : '0',
    }));
    writeFileset(pooled, { samples: pooledSamples, variants, bed: pooledBed });
  }
  const planted = defs.filter((d) => d.or !== 1).sort((a, b) => (a.chr === 6 ? 0 : 1) - (b.chr === 6 ? 0 : 1) || b.or - a.or).map((d) => d.id);
  const edges = Object.fromEntries(defs.filter((d) => d.kind).map((d) => [d.kind!, d.id])) as GwasSimulation['edges'];
  return { parties, prefixes, pooled, planted, edges };
}

/**
 * Splits a pooled fileset into parties by `assign[j]` (party index of sample j), each party's
 * .bim again listing its local minor allele first ('0' for an allele it never observes): the same
 * cohort under a different split, for split-invariance tests.
 */
export function splitFileset(pooledPrefix: string, dir: string, parties: number, assign: (j: number) => number): { parties: string[]; prefixes: string[] } {
  const set = readFileset(pooledPrefix);
  const n = set.samples.length;
  const width = bytesPerSnp(n);
  const members = Array.from({ length: parties }, () => [] as number[]);
  for (let j = 0; j < n; j++) members[assign(j)].push(j);
  const names = members.map((_, p) => `split_${p + 1}`);
  const prefixes = names.map((name, p) => {
    const mine = members[p];
    const w = bytesPerSnp(mine.length);
    const bed = new Uint8Array(set.variants.length * w);
    const variants = set.variants.map((v, s): BimVariant => {
      // Copies of the pooled allele1 per member sample.
      const copies = mine.map((j) => COPIES_OF_ALLELE1[(set.bed[s * width + (j >> 2)] >> (2 * (j & 3))) & 3]);
      let c1 = 0;
      let c2 = 0;
      for (const c of copies) if (c >= 0) { c1 += c; c2 += 2 - c; }
      const swap = c2 < c1;
      const n1 = c1 > 0 ? v.allele1 : '0';
      const n2 = c2 > 0 ? v.allele2 : '0';
      copies.forEach((c, k) => {
        const local = c < 0 ? null : swap ? 2 - c : c;
        bed[s * w + (k >> 2)] |= bedCode(local) << (2 * (k & 3));
      });
      return { ...v, allele1: swap ? n2 : n1, allele2: swap ? n1 : n2 };
    });
    const prefix = join(dir, name);
    writeFileset(prefix, { samples: mine.map((j) => set.samples[j]), variants, bed });
    return prefix;
  });
  return { parties: names, prefixes };
}
