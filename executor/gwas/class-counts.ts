/**
 * The hot path of a federated GWAS at a party: genotype counts per SNP from the class-ordered
 * layout of a PLINK table (connectors/plink/class-layout.ts), where the samples of each class
 * (case / control / missing phenotype × founder or not) are one contiguous run of 2-bit codes.
 * Each run is counted 8 samples at a time with one lookup in a 65,536-entry table that packs
 * the numbers of codes 00 (two copies of allele1), 10 (one) and 11 (none) into 10-bit fields;
 * the run's first and last words are masked so that slots of other classes read as missing.
 *
 * Output: the eight counts per SNP of packed-counts.ts (`COUNTS_PER_SNP`, in the orientation of
 * the .bim's allele1), so both counters are interchangeable and tested against each other.
 */
import { classIsFounder, classPhenotype, SAMPLE_CLASSES } from '../../connectors/plink/class-layout.js';
import { COUNTS_PER_SNP } from './packed-counts.js';

const FIELD_BITS = 10;
const FIELD = (1 << FIELD_BITS) - 1;
/** Words a 10-bit field can absorb (≤ 8 counts each) before it must be flushed. */
const FLUSH_WORDS = Math.floor(FIELD / 8);

/** Reads two bytes as this platform's Uint16Array would (the layout is read through one). */
const wordOf = (() => {
  const bytes = new Uint8Array(2);
  const word = new Uint16Array(bytes.buffer);
  return (lo: number, hi: number): number => {
    bytes[0] = lo;
    bytes[1] = hi;
    return word[0];
  };
})();

/** All slots missing (code 01) as a word. */
const MISSING = wordOf(0x55, 0x55);

function buildLut(): Uint32Array {
  const lut = new Uint32Array(1 << 16);
  for (let lo = 0; lo < 256; lo++) {
    for (let hi = 0; hi < 256; hi++) {
      let hom1 = 0;
      let het = 0;
      let hom2 = 0;
      for (let k = 0; k < 8; k++) {
        const code = ((k < 4 ? lo : hi) >> (2 * (k & 3))) & 3;
        if (code === 0) hom1++;
        else if (code === 2) het++;
        else if (code === 3) hom2++;
      }
      lut[wordOf(lo, hi)] = hom1 | (het << FIELD_BITS) | (hom2 << (2 * FIELD_BITS));
    }
  }
  return lut;
}

const LUT = buildLut();

/** The word mask keeping slots [from, to) of 8 (both bits of each kept slot set). */
function keepMask(from: number, to: number): number {
  const bytes = [0, 0];
  for (let k = from; k < to; k++) bytes[k >> 2] |= 3 << (2 * (k & 3));
  return wordOf(bytes[0], bytes[1]);
}

/** Per non-empty class: its whole words and its (at most two) partial edge words. */
interface Run {
  cls: number;
  fullStart: number;
  fullEnd: number;
  edgeWords: number[];
  edgeKeeps: number[];
}

function runsOf(classSizes: readonly number[]): Run[] {
  const runs: Run[] = [];
  let start = 0;
  classSizes.forEach((size, cls) => {
    const end = start + size;
    if (size > 0) {
      const fw = start >> 3;
      const lw = (end - 1) >> 3;
      const run: Run = { cls, fullStart: 0, fullEnd: 0, edgeWords: [], edgeKeeps: [] };
      if (fw === lw && (start & 7 || end & 7)) {
        run.edgeWords.push(fw);
        run.edgeKeeps.push(keepMask(start - 8 * fw, end - 8 * fw));
      } else {
        run.fullStart = start & 7 ? fw + 1 : fw;
        run.fullEnd = end & 7 ? lw : lw + 1;
        if (start & 7) {
          run.edgeWords.push(fw);
          run.edgeKeeps.push(keepMask(start & 7, 8));
        }
        if (end & 7) {
          run.edgeWords.push(lw);
          run.edgeKeeps.push(keepMask(0, end & 7));
        }
      }
      runs.push(run);
    }
    start = end;
  });
  return runs;
}

export interface ClassCountLayout {
  classSizes: readonly number[];
  wordsPerSnp: number;
}

/**
 * Counts `snps` rows of `words` (class-ordered, `layout.wordsPerSnp` words each) into `out`
 * starting at SNP `outSnp` (`COUNTS_PER_SNP` numbers per SNP: case 2/1/0 copies of allele1,
 * control 2/1/0, founders' allele1 copies, founders' called genotypes).
 */
export function countClassOrdered(words: Uint16Array, snps: number, layout: ClassCountLayout, out: Float64Array, outSnp = 0): void {
  if (layout.classSizes.length !== SAMPLE_CLASSES) throw new RangeError(`a layout has ${SAMPLE_CLASSES} classes`);
  const width = layout.wordsPerSnp;
  if (words.length < snps * width) throw new RangeError(`${words.length} words hold fewer than ${snps} SNPs of ${width} words`);
  if (out.length < (outSnp + snps) * COUNTS_PER_SNP) throw new RangeError('the output holds fewer SNPs than counted');
  const runs = runsOf(layout.classSizes);
  // Where each class's three counts go: phenotype block (case 0, control 3, none -1) and founder flag.
  const block = runs.map((r) => [0, 3, -1][classPhenotype(r.cls)]);
  const founder = runs.map((r) => classIsFounder(r.cls));
  for (let s = 0; s < snps; s++) {
    const base = s * width;
    const o = (outSnp + s) * COUNTS_PER_SNP;
    let c2 = 0, c1 = 0, c0 = 0, u2 = 0, u1 = 0, u0 = 0, f2 = 0, f1 = 0, f0 = 0;
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r];
      let hom1 = 0, het = 0, hom2 = 0;
      let acc = 0;
      let pending = 0;
      for (let i = base + run.fullStart, end = base + run.fullEnd; i < end; i++) {
        acc += LUT[words[i]];
        if (++pending === FLUSH_WORDS) {
          hom1 += acc & FIELD; het += (acc >>> FIELD_BITS) & FIELD; hom2 += acc >>> (2 * FIELD_BITS);
          acc = 0;
          pending = 0;
        }
      }
      for (let e = 0; e < run.edgeWords.length; e++) {
        const keep = run.edgeKeeps[e];
        acc += LUT[(words[base + run.edgeWords[e]] & keep) | (MISSING & ~keep)];
      }
      hom1 += acc & FIELD; het += (acc >>> FIELD_BITS) & FIELD; hom2 += acc >>> (2 * FIELD_BITS);
      if (block[r] === 0) { c2 += hom1; c1 += het; c0 += hom2; }
      else if (block[r] === 3) { u2 += hom1; u1 += het; u0 += hom2; }
      if (founder[r]) { f2 += hom1; f1 += het; f0 += hom2; }
    }
    out[o] = c2; out[o + 1] = c1; out[o + 2] = c0;
    out[o + 3] = u2; out[o + 4] = u1; out[o + 5] = u0;
    out[o + 6] = 2 * f2 + f1;
    out[o + 7] = f2 + f1 + f0;
  }
}
