/**
 * Genotype counting on PLINK-packed genotypes (2 bits per sample, see connectors/plink), the
 * hot path of a federated GWAS: no long format, one pass over ⌈N/4⌉ bytes per SNP. For each SNP
 * it produces the eight GWAS counts in the orientation of the .bim's allele1 (copies of allele1):
 * case/control genotype counts (2, 1, 0 copies) and, over founders, allele1 copies and called
 * genotypes (what plink uses to choose A1).
 *
 * Per byte the four samples' membership is combined into a lookup: for every (byte value,
 * membership mask of its 4 samples) pair the genotype counts are precomputed once.
 */

export interface SampleClasses {
  /** Per sample: 2 = case, 1 = control, 0 = neither (missing phenotype). */
  phenotype: Uint8Array;
  /** Per sample: 1 when a founder (no parents in the fileset). */
  founder: Uint8Array;
}

/** Counts of one SNP: [case2, case1, case0, ctrl2, ctrl1, ctrl0, founderAllele1, founderCalled]. */
export const COUNTS_PER_SNP = 8;

/**
 * For a byte (4 samples) and a 4-bit membership mask, how many of the member samples carry each
 * code: LUT[(mask << 8) | byte] packs counts of codes 0, 2, 3 (hom A1, het, hom A2) in 3 × 4 bits.
 */
function buildLut(): Uint16Array {
  const lut = new Uint16Array(16 * 256);
  for (let mask = 0; mask < 16; mask++) {
    for (let b = 0; b < 256; b++) {
      let hom1 = 0;
      let het = 0;
      let hom2 = 0;
      for (let k = 0; k < 4; k++) {
        if (!((mask >> k) & 1)) continue;
        const code = (b >> (2 * k)) & 3;
        if (code === 0) hom1++;
        else if (code === 2) het++;
        else if (code === 3) hom2++;
      }
      lut[(mask << 8) | b] = hom1 | (het << 4) | (hom2 << 8);
    }
  }
  return lut;
}

const LUT = buildLut();

/** Per byte position, the 4-sample membership mask of the samples for which `pick` holds. */
function maskOf(n: number, pick: (j: number) => boolean): Uint8Array {
  const m = new Uint8Array(Math.ceil(n / 4));
  for (let j = 0; j < n; j++) if (pick(j)) m[j >> 2] |= 1 << (j & 3);
  return m;
}

/** Byte positions where `mask` has any member (for sparse corrections). */
const positions = (mask: Uint8Array): Int32Array => Int32Array.from(mask.keys()).filter((q) => mask[q] !== 0);

/**
 * Counts every SNP of `bed` (SNP-major, `bytesPerSnp` bytes each) into `out`
 * (`COUNTS_PER_SNP` numbers per SNP). Two table reads per byte: all samples and cases; controls
 * are the rest minus the (usually few) samples without phenotype, founders all samples minus
 * the (usually no) non-founders — both corrections visit only the bytes that hold such samples.
 */
export function countPacked(bed: Uint8Array, snps: number, classes: SampleClasses, out: Float64Array = new Float64Array(snps * COUNTS_PER_SNP)): Float64Array {
  const n = classes.phenotype.length;
  const width = Math.ceil(n / 4);
  if (bed.byteLength < snps * width) throw new RangeError(`packed genotypes hold ${bed.byteLength} bytes, ${snps} SNPs need ${snps * width}`);
  const everyone = maskOf(n, () => true);
  const cases = maskOf(n, (j) => classes.phenotype[j] === 2);
  const none = maskOf(n, (j) => classes.phenotype[j] !== 1 && classes.phenotype[j] !== 2);
  const nonFounders = maskOf(n, (j) => !classes.founder[j]);
  const noneAt = positions(none);
  const nonFounderAt = positions(nonFounders);
  const last = width - 1;
  for (let s = 0; s < snps; s++) {
    let a2 = 0, a1 = 0, a0 = 0, c2 = 0, c1 = 0, c0 = 0;
    const base = s * width;
    for (let q = 0; q < last; q++) {
      const b = bed[base + q];
      const av = LUT[0xf00 | b];
      a2 += av & 15; a1 += (av >> 4) & 15; a0 += av >> 8;
      const cv = LUT[(cases[q] << 8) | b];
      c2 += cv & 15; c1 += (cv >> 4) & 15; c0 += cv >> 8;
    }
    if (width > 0) {
      // The last byte's unused slots read as homozygous A1: only count real samples.
      const b = bed[base + last];
      const av = LUT[(everyone[last] << 8) | b];
      a2 += av & 15; a1 += (av >> 4) & 15; a0 += av >> 8;
      const cv = LUT[(cases[last] << 8) | b];
      c2 += cv & 15; c1 += (cv >> 4) & 15; c0 += cv >> 8;
    }
    let n2 = 0, n1 = 0, n0 = 0;
    for (let k = 0; k < noneAt.length; k++) {
      const q = noneAt[k];
      const v = LUT[(none[q] << 8) | bed[base + q]];
      n2 += v & 15; n1 += (v >> 4) & 15; n0 += v >> 8;
    }
    let f2 = a2, f1 = a1, f0 = a0;
    for (let k = 0; k < nonFounderAt.length; k++) {
      const q = nonFounderAt[k];
      const v = LUT[(nonFounders[q] << 8) | bed[base + q]];
      f2 -= v & 15; f1 -= (v >> 4) & 15; f0 -= v >> 8;
    }
    const o = s * COUNTS_PER_SNP;
    out[o] = c2; out[o + 1] = c1; out[o + 2] = c0;
    out[o + 3] = a2 - c2 - n2; out[o + 4] = a1 - c1 - n1; out[o + 5] = a0 - c0 - n0;
    out[o + 6] = 2 * f2 + f1;
    out[o + 7] = f2 + f1 + f0;
  }
  return out;
}
