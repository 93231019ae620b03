/**
 * A party table backed by a PLINK fileset (`format: plink`, `source: data/cohort` naming
 * `cohort.bed/.bim/.fam`). The party keeps the genotypes packed in storage tables and publishes
 * a long-format VIEW with one row per sample × SNP:
 *
 *   fid, iid, pat, mat, sex, phenotype, chr, snp, cm, bp, allele1, allele2, genotype
 *
 * where genotype = copies of allele1 (.bim column 5: 0, 1, 2; NULL = missing) and phenotype is
 * plink's coding (2 case, 1 control, NULL missing). Any SQL over the view works (DuckDB decodes
 * the 2-bit codes on the fly); the GWAS aggregates never expand it: the secure-aggregation party
 * handler (plink-partials.ts) counts straight from the *counting layout* stored next to it —
 * the codes reordered by sample class and padded to 16-bit words (class-layout.ts) — and
 * announces the SNPs' allele names from a dictionary-coded copy, both built here at load time.
 */
import { stat } from 'node:fs/promises';
import { INTEGER, LIST, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { SqlError, SqlState } from '../../parser/errors.js';
import type { TableConfig } from '../config-types.js';
import { quoteIdent, quoteLiteral } from '../duckdb-session.js';
import { classLayout, encodeAlleleCodes, packClassOrdered, sampleClass } from './class-layout.js';
import { bytesPerSnp, readFileset } from './plink-files.js';

/**
 * Names of the storage tables behind PLINK-backed table `name` (schema main). `variants` is the
 * table the loader checks to decide whether a stored version is current: it is named `_snps`
 * since the counting layout exists, so databases written before it are reloaded once.
 */
export function plinkStorage(name: string): { samples: string; variants: string; packed: string; layout: string } {
  return {
    samples: `__plink_${name}_samples`,
    variants: `__plink_${name}_snps`,
    packed: `__plink_${name}_packed`,
    layout: `__plink_${name}_layout`,
  };
}

/** Storage tables of the first version (raw-order chunks), dropped when a table is reloaded. */
const LEGACY_TABLES = (name: string) => [`__plink_${name}_variants`, `__plink_${name}_bed`];

/** SNPs per row of the counting-layout table: few, large BLOBs read fast. */
export const PACKED_CHUNK_SNPS = 8192;

export async function plinkSourceVersion(prefix: string): Promise<{ size: number; mtime: number }> {
  let size = 0;
  let mtime = 0;
  for (const ext of ['bed', 'bim', 'fam']) {
    const s = await stat(`${prefix}.${ext}`);
    size += s.size;
    mtime = Math.max(mtime, s.mtimeMs);
  }
  return { size, mtime };
}

/** (Re)creates the storage tables and the view of `table` inside the caller's transaction. */
export async function loadPlinkTable(connection: DuckDBConnection, table: TableConfig): Promise<number> {
  const prefix = table.source;
  if (!prefix) throw new SqlError(SqlState.configFileError, `table "${table.name}": format plink needs source: <path prefix of .bed/.bim/.fam>`);
  const set = readFileset(prefix);
  const { samples, variants, packed, layout } = plinkStorage(table.name);
  const q = quoteIdent;
  for (const legacy of LEGACY_TABLES(table.name)) await connection.run(`DROP TABLE IF EXISTS main.${q(legacy)}`);
  await connection.run(`CREATE OR REPLACE TABLE main.${q(samples)} (idx INTEGER, fid VARCHAR, iid VARCHAR, pat VARCHAR, mat VARCHAR, sex INTEGER, phenotype INTEGER)`);
  const sa = await connection.createAppender(samples, 'main');
  set.samples.forEach((s, i) => {
    sa.appendInteger(i);
    sa.appendVarchar(s.fid);
    sa.appendVarchar(s.iid);
    sa.appendVarchar(s.pat);
    sa.appendVarchar(s.mat);
    sa.appendInteger(s.sex);
    if (s.phenotype === null) sa.appendNull();
    else sa.appendInteger(s.phenotype);
    sa.endRow();
  });
  sa.flushSync();
  sa.closeSync();

  const staging = `${variants}_staging`;
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${q(staging)} (idx INTEGER, chr VARCHAR, snp VARCHAR, cm DOUBLE, bp BIGINT, allele1 VARCHAR, allele2 VARCHAR, geno BLOB)`);
  const va = await connection.createAppender(staging, 'main', 'temp');
  const width = bytesPerSnp(set.samples.length);
  set.variants.forEach((v, i) => {
    va.appendInteger(i);
    va.appendVarchar(v.chr);
    va.appendVarchar(v.snp);
    va.appendDouble(v.cm);
    va.appendBigInt(BigInt(v.bp));
    va.appendVarchar(v.allele1);
    va.appendVarchar(v.allele2);
    va.appendBlob(set.bed.subarray(i * width, (i + 1) * width));
    va.endRow();
  });
  va.flushSync();
  va.closeSync();
  // The BIT copy lets the view decode one genotype with get_bit.
  await connection.run(`CREATE OR REPLACE TABLE main.${q(variants)} AS SELECT * EXCLUDE (geno), CAST(geno AS BIT) AS bits FROM ${q(staging)} ORDER BY idx`);
  await connection.run(`DROP TABLE ${q(staging)}`);

  // The counting layout (class-ordered, word-padded codes) in chunks of whole SNPs.
  const n = set.samples.length;
  const counting = classLayout(set.samples.map((s) => sampleClass(s.phenotype, s.pat === '0' && s.mat === '0')));
  await connection.run(`CREATE OR REPLACE TABLE main.${q(packed)} (first_snp INTEGER, snps INTEGER, bytes BLOB)`);
  const pa = await connection.createAppender(packed, 'main');
  for (let first = 0; first < set.variants.length; first += PACKED_CHUNK_SNPS) {
    const count = Math.min(PACKED_CHUNK_SNPS, set.variants.length - first);
    pa.appendInteger(first);
    pa.appendInteger(count);
    pa.appendBlob(packClassOrdered(set.bed, n, count, counting, first));
    pa.endRow();
  }
  pa.flushSync();
  pa.closeSync();
  const alleles = encodeAlleleCodes(set.variants.map((v) => v.allele1), set.variants.map((v) => v.allele2));
  await connection.run(`CREATE OR REPLACE TABLE main.${q(layout)} (samples INTEGER, snps INTEGER, words_per_snp INTEGER, class_sizes INTEGER[], allele_names VARCHAR[], allele_width INTEGER, allele_codes BLOB)`);
  const insert = await connection.prepare(`INSERT INTO main.${q(layout)} VALUES ($1, $2, $3, $4, $5, $6, $7)`);
  insert.bindInteger(1, n);
  insert.bindInteger(2, set.variants.length);
  insert.bindInteger(3, counting.wordsPerSnp);
  insert.bindList(4, counting.classSizes, LIST(INTEGER));
  insert.bindList(5, alleles.names, LIST(VARCHAR));
  insert.bindInteger(6, alleles.width);
  insert.bindBlob(7, alleles.codes);
  await insert.run();
  insert.destroySync();
  const lo = `8 * (s.idx // 4) + 7 - 2 * (s.idx % 4)`;
  const hi = `8 * (s.idx // 4) + 6 - 2 * (s.idx % 4)`;
  await connection.run(`CREATE OR REPLACE VIEW main.${q(table.name)} AS
    SELECT s.fid, s.iid, s.pat, s.mat, s.sex, s.phenotype, v.chr, v.snp, v.cm, v.bp, v.allele1, v.allele2,
      CAST(CASE get_bit(v.bits, ${lo}) + 2 * get_bit(v.bits, ${hi}) WHEN 0 THEN 2 WHEN 2 THEN 1 WHEN 3 THEN 0 END AS INTEGER) AS genotype
    FROM main.${q(variants)} v CROSS JOIN main.${q(samples)} s`);
  return set.samples.length * set.variants.length;
}

/** True when `name` is a PLINK-backed table (with its counting layout) in this database. */
export async function isPlinkTable(connection: DuckDBConnection, name: string): Promise<boolean> {
  const r = await connection.runAndReadAll(
    `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ${quoteLiteral(plinkStorage(name).layout)}`,
  );
  return Number(r.getRows()[0][0]) > 0;
}
