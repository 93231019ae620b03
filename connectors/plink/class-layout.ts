/**
 * The counting layout of a PLINK table's genotypes, built once when the table is loaded: the
 * same 2-bit .bed codes, but with the samples reordered by *sample class* and every SNP row
 * padded to whole 16-bit words. A class is (phenotype: case / control / missing) × (founder or
 * not), so for every SNP the samples of one class sit in one contiguous run of bit pairs, and a
 * party counts a class with one table lookup per 8 samples (executor/gwas/class-counts.ts)
 * instead of combining a per-sample membership mask with every byte.
 *
 * Why at load time: the classes come from the .fam, which is part of the table's version (a
 * changed .fam reloads the table), so the permutation is fixed between loads; permuting per
 * query would cost as much as counting.
 *
 * Padding slots and the unused slots of a row carry code 01 (missing), which no count includes.
 */

/** Number of sample classes; class = 2 · phenotypeRank + (founder ? 0 : 1). */
export const SAMPLE_CLASSES = 6;

/** Phenotype rank of a class: 0 case, 1 control, 2 missing phenotype. */
export const classPhenotype = (c: number): number => c >> 1;
/** True when class `c` holds founders (samples without parents in the fileset). */
export const classIsFounder = (c: number): boolean => (c & 1) === 0;

/** The class of one sample: phenotype in plink coding (2 case, 1 control, else missing). */
export function sampleClass(phenotype: number | null, founder: boolean): number {
  const rank = phenotype === 2 ? 0 : phenotype === 1 ? 1 : 2;
  return 2 * rank + (founder ? 0 : 1);
}

export interface ClassLayout {
  /** Samples per class, in class order. */
  classSizes: number[];
  /** 16-bit words per SNP row (⌈n / 8⌉). */
  wordsPerSnp: number;
  /** `order[k]` = the .fam index of the sample at position k of the layout. */
  order: Int32Array;
}

/** The stable class order of samples given their classes. */
export function classLayout(classes: ArrayLike<number>): ClassLayout {
  const n = classes.length;
  const classSizes = new Array<number>(SAMPLE_CLASSES).fill(0);
  for (let j = 0; j < n; j++) classSizes[classes[j]]++;
  const next: number[] = [];
  classSizes.reduce((at, size) => (next.push(at), at + size), 0);
  const order = new Int32Array(n);
  for (let j = 0; j < n; j++) order[next[classes[j]]++] = j;
  return { classSizes, wordsPerSnp: Math.ceil(n / 8), order };
}

/**
 * Rewrites SNP-major .bed rows (`⌈n/4⌉` bytes each) into the layout: `snps` rows of
 * `2 · wordsPerSnp` bytes, sample order[k] at slot k, every other slot 01 (missing).
 */
export function packClassOrdered(bed: Uint8Array, n: number, snps: number, layout: ClassLayout, firstSnp = 0): Uint8Array {
  const inWidth = Math.ceil(n / 4);
  const outWidth = 2 * layout.wordsPerSnp;
  const out = new Uint8Array(snps * outWidth).fill(0x55);
  const order = layout.order;
  // Source byte and bit shift of every layout slot, computed once for all SNPs.
  const srcByte = new Int32Array(n);
  const srcShift = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    srcByte[k] = order[k] >> 2;
    srcShift[k] = 2 * (order[k] & 3);
  }
  for (let s = 0; s < snps; s++) {
    const inBase = (firstSnp + s) * inWidth;
    const outBase = s * outWidth;
    for (let q = 0; q < inWidth; q++) {
      // Four layout slots per output byte; the missing code 01 is replaced slot by slot.
      const k0 = 4 * q;
      if (k0 >= n) break;
      let byte = 0;
      for (let t = 0; t < 4; t++) {
        const k = k0 + t;
        const code = k < n ? (bed[inBase + srcByte[k]] >> srcShift[k]) & 3 : 1;
        byte |= code << (2 * t);
      }
      out[outBase + q] = byte;
    }
  }
  return out;
}

/**
 * Allele names of a table's SNPs as a small dictionary and one code per SNP — what the party
 * announces to the requester (see executor/operators/secure-aggregate/messages.ts). With at
 * most 16 distinct names (A, C, G, T, 0, I, D, …) a SNP's pair is one byte (allele1 index in the
 * high nibble); otherwise two little-endian u16 indices.
 */
export interface AlleleCodes {
  names: string[];
  /** 1: one byte per SNP (nibbles); 4: two u16 per SNP. */
  width: 1 | 4;
  codes: Uint8Array;
}

export function encodeAlleleCodes(allele1: ArrayLike<string>, allele2: ArrayLike<string>): AlleleCodes {
  const rows = allele1.length;
  const index = new Map<string, number>();
  const id = (name: string): number => {
    let i = index.get(name);
    if (i === undefined) index.set(name, (i = index.size));
    return i;
  };
  const ids = new Uint32Array(2 * rows);
  for (let r = 0; r < rows; r++) {
    ids[2 * r] = id(allele1[r]);
    ids[2 * r + 1] = id(allele2[r]);
  }
  const names = [...index.keys()];
  if (names.length > 0xffff) throw new RangeError('more than 65535 distinct allele names');
  if (names.length <= 16) {
    const codes = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) codes[r] = (ids[2 * r] << 4) | ids[2 * r + 1];
    return { names, width: 1, codes };
  }
  const codes = new Uint8Array(4 * rows);
  const dv = new DataView(codes.buffer);
  for (let r = 0; r < rows; r++) {
    dv.setUint16(4 * r, ids[2 * r], true);
    dv.setUint16(4 * r + 2, ids[2 * r + 1], true);
  }
  return { names, width: 4, codes };
}

/** Dictionary index of row r's allele1. */
export function allele1Code(a: AlleleCodes, r: number): number {
  return a.width === 1 ? a.codes[r] >> 4 : a.codes[4 * r] | (a.codes[4 * r + 1] << 8);
}

/** Dictionary index of row r's allele2. */
export function allele2Code(a: AlleleCodes, r: number): number {
  return a.width === 1 ? a.codes[r] & 15 : a.codes[4 * r + 2] | (a.codes[4 * r + 3] << 8);
}
