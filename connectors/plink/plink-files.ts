/**
 * Readers and writers of PLINK 1 binary filesets (.bed/.bim/.fam):
 * - .fam: `FID IID PAT MAT SEX PHENO` per sample (whitespace separated);
 * - .bim: `CHR SNP CM BP A1 A2` per variant;
 * - .bed: magic `6c 1b 01` (SNP-major), then ⌈N/4⌉ bytes per SNP; sample j sits in bits
 *   2(j mod 4)…2(j mod 4)+1 of byte ⌊j/4⌋: 00 = homozygous A1 (.bim column 5), 01 = missing,
 *   10 = heterozygous, 11 = homozygous A2; unused high bits of the last byte are 00.
 * Errors name the file and line (SQLSTATE F0000), since a party that publishes a half-read
 * fileset would publish wrong statistics.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { SqlError, SqlState } from '../../parser/errors.js';

export const BED_MAGIC = Uint8Array.of(0x6c, 0x1b, 0x01);

export interface FamSample {
  fid: string;
  iid: string;
  pat: string;
  mat: string;
  /** 1 male, 2 female, 0 unknown. */
  sex: number;
  /** plink coding: 2 case, 1 control; null = missing (0, -9 or anything else). */
  phenotype: number | null;
}

export interface BimVariant {
  chr: string;
  snp: string;
  cm: number;
  bp: number;
  allele1: string;
  allele2: string;
}

export interface PlinkFileset {
  samples: FamSample[];
  variants: BimVariant[];
  /** Packed genotypes without the magic: `variants.length × bytesPerSnp(samples.length)` bytes. */
  bed: Uint8Array;
}

export const bytesPerSnp = (samples: number): number => Math.ceil(samples / 4);

function fail(file: string, line: number | undefined, message: string): never {
  throw new SqlError(SqlState.configFileError, `${file}${line !== undefined ? `:${line}` : ''}: ${message}`);
}

function lines(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail(file, undefined, `cannot read: ${(e as Error).message}`);
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0).map((l) => l.split(/\s+/));
}

export function readFam(file: string): FamSample[] {
  return lines(file).map((f, i) => {
    if (f.length < 6) fail(file, i + 1, `expected 6 columns (FID IID PAT MAT SEX PHENO), found ${f.length}`);
    const sex = f[4] === '1' ? 1 : f[4] === '2' ? 2 : 0;
    const phenotype = f[5] === '1' ? 1 : f[5] === '2' ? 2 : null;
    return { fid: f[0], iid: f[1], pat: f[2], mat: f[3], sex, phenotype };
  });
}

export function readBim(file: string): BimVariant[] {
  return lines(file).map((f, i) => {
    if (f.length < 6) fail(file, i + 1, `expected 6 columns (CHR SNP CM BP A1 A2), found ${f.length}`);
    const bp = Number(f[3]);
    const cm = Number(f[2]);
    if (!Number.isInteger(bp)) fail(file, i + 1, `base-pair position "${f[3]}" is not an integer`);
    if (!Number.isFinite(cm)) fail(file, i + 1, `centimorgan position "${f[2]}" is not a number`);
    return { chr: f[0], snp: f[1], cm, bp, allele1: f[4], allele2: f[5] };
  });
}

export function readBed(file: string, samples: number, variants: number): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    fail(file, undefined, `cannot read: ${(e as Error).message}`);
  }
  if (bytes.length < 3 || bytes[0] !== BED_MAGIC[0] || bytes[1] !== BED_MAGIC[1]) fail(file, undefined, 'not a PLINK .bed file (bad magic number)');
  if (bytes[2] !== BED_MAGIC[2]) fail(file, undefined, 'individual-major .bed files are not supported; rewrite it SNP-major with plink --make-bed');
  const expected = 3 + variants * bytesPerSnp(samples);
  if (bytes.length !== expected) {
    fail(file, undefined, `has ${bytes.length} bytes, but ${samples} samples × ${variants} SNPs need ${expected}`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset + 3, bytes.length - 3);
}

/** Reads `<prefix>.bed/.bim/.fam`. */
export function readFileset(prefix: string): PlinkFileset {
  const samples = readFam(`${prefix}.fam`);
  const variants = readBim(`${prefix}.bim`);
  return { samples, variants, bed: readBed(`${prefix}.bed`, samples.length, variants.length) };
}

export function writeFileset(prefix: string, set: PlinkFileset): void {
  writeFileSync(`${prefix}.fam`, set.samples.map((s) => `${s.fid} ${s.iid} ${s.pat} ${s.mat} ${s.sex} ${s.phenotype ?? -9}\n`).join(''));
  writeFileSync(`${prefix}.bim`, set.variants.map((v) => `${v.chr}\t${v.snp}\t${v.cm}\t${v.bp}\t${v.allele1}\t${v.allele2}\n`).join(''));
  const bed = new Uint8Array(3 + set.bed.byteLength);
  bed.set(BED_MAGIC, 0);
  bed.set(set.bed, 3);
  writeFileSync(`${prefix}.bed`, bed);
}

/** 2-bit .bed code of "copies of allele1" (2, 1, 0; null = missing). */
export function bedCode(copiesOfAllele1: number | null): number {
  return copiesOfAllele1 === null ? 1 : copiesOfAllele1 === 2 ? 0 : copiesOfAllele1 === 1 ? 2 : 3;
}

/** Copies of allele1 for each 2-bit code (index = code; -1 = missing). */
export const COPIES_OF_ALLELE1 = Int8Array.of(2, -1, 1, 0);
