/**
 * The result rows of the federated GWAS aggregates, as the binder types them. Each aggregate
 * returns one STRUCT per group (per SNP) that `(GWAS_ALLELIC(…)).*` expands into columns; the
 * names follow plink 1.9's `.assoc` / `.model` headers in lower case.
 *
 * GWAS_ALLELIC(allele1, allele2, genotype, phenotype) — plink `--assoc` (case/control):
 *   a1, a2      A1 = the pooled minor allele (by allele name, across all parties), A2 the other
 *   f_a, f_u    A1 frequency in cases / controls
 *   chisq, p    Pearson 2×2 allelic chi-square (1 df, no continuity correction) and its P
 *   or          odds ratio (a·d)/(b·c) for A1
 *   log10_p     log10(P), finite even where P underflows to 0 (χ² > ~1400)
 *   c_a, c_u    A1 allele counts in cases / controls (plink `--assoc counts`)
 *   n_a, n_u    observed alleles in cases / controls
 * GWAS_MODEL(…) — plink `--model`: genotype counts and the GENO, TREND, ALLELIC, DOM and REC
 * tests of one SNP in one row (plink prints five rows per SNP).
 *
 * Arguments: allele names (text; '0' = unknown allele), genotype = copies of allele1 (0, 1, 2;
 * NULL = missing call), phenotype in plink coding (2 = case, 1 = control, anything else or NULL
 * = missing) or BOOLEAN (true = case).
 */
import { T, type SqlType } from '../types.js';

export const GWAS_FUNCTIONS = new Set(['gwas_allelic', 'gwas_model']);

const text = T.varchar;
const dbl = T.double;
const big = T.bigint;
const int = T.integer;

export const GWAS_ALLELIC_FIELDS: { name: string; type: SqlType }[] = [
  { name: 'a1', type: text },
  { name: 'f_a', type: dbl },
  { name: 'f_u', type: dbl },
  { name: 'a2', type: text },
  { name: 'chisq', type: dbl },
  { name: 'p', type: dbl },
  { name: 'or', type: dbl },
  { name: 'log10_p', type: dbl },
  { name: 'c_a', type: big },
  { name: 'c_u', type: big },
  { name: 'n_a', type: big },
  { name: 'n_u', type: big },
];

const TESTS = ['geno', 'trend', 'allelic', 'dom', 'rec'] as const;

export const GWAS_MODEL_FIELDS: { name: string; type: SqlType }[] = [
  { name: 'a1', type: text },
  { name: 'a2', type: text },
  { name: 'aff_11', type: big },
  { name: 'aff_12', type: big },
  { name: 'aff_22', type: big },
  { name: 'unaff_11', type: big },
  { name: 'unaff_12', type: big },
  { name: 'unaff_22', type: big },
  ...TESTS.flatMap((t) => [
    { name: `chisq_${t}`, type: dbl },
    { name: `df_${t}`, type: int },
    { name: `p_${t}`, type: dbl },
  ]),
];

export function gwasFields(name: string): { name: string; type: SqlType }[] | undefined {
  if (name === 'gwas_allelic') return GWAS_ALLELIC_FIELDS;
  if (name === 'gwas_model') return GWAS_MODEL_FIELDS;
  return undefined;
}

/** The STRUCT type a GWAS aggregate returns. */
export function gwasResultType(name: string): SqlType | undefined {
  const fields = gwasFields(name);
  if (!fields) return undefined;
  const inner = fields.map((f) => `"${f.name}" ${duckdbScalar(f.type)}`).join(', ');
  return { id: 'struct', fields, text: `STRUCT(${inner})` };
}

export function duckdbScalar(t: SqlType): string {
  switch (t.id) {
    case 'varchar': return 'VARCHAR';
    case 'double': return 'DOUBLE';
    case 'bigint': return 'BIGINT';
    case 'integer': return 'INTEGER';
    default: throw new Error(`no DuckDB spelling for ${t.id}`);
  }
}
