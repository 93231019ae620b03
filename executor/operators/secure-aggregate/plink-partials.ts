/**
 * The fast path of a party's GWAS partials over a PLINK-backed table: when the protocol input is
 * a plain projection of one PLINK table — variant columns as GROUP BY keys and (allele1, allele2,
 * genotype, phenotype) as the GWAS arguments, no filter — the party first has its policy check
 * run on exactly that input (as `SELECT * FROM (<input>) LIMIT 0`, so nothing is expanded), then
 * counts alleles straight from the packed .bed bytes (executor/gwas/packed-counts.ts) instead of
 * expanding samples × SNPs rows. Anything else returns undefined and takes the general path.
 * Like plink, A1 is chosen from founders' genotypes (samples without parents in the .fam).
 */
import type { DuckDBBlobValue } from '@duckdb/node-api';
import { queryToArrow } from '../../../connectors/arrow/duckdb-to-arrow.js';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { isPlinkTable, plinkStorage } from '../../../connectors/plink/plink-table.js';
import { parseStatement } from '../../../parser/index.js';
import type { SecureAggregateParams } from '../../../planner/operators/secure-aggregate-spec.js';
import type { ColumnUse } from '../../../planner/policy.js';
import { COUNTS_PER_SNP, countPacked } from '../../gwas/packed-counts.js';
import { collectIpc, type PartyPartials } from './party-partials.js';

const VARIANT_COLUMNS = new Set(['chr', 'snp', 'cm', 'bp', 'allele1', 'allele2']);
const GWAS_ARGUMENTS = ['allele1', 'allele2', 'genotype', 'phenotype'];

/** Source column names of a plain `SELECT t.a AS x, … FROM party.table AS t`, or undefined. */
function plainProjection(sql: string, party: string): { table: string; columns: string[] } | undefined {
  let statement;
  try {
    statement = parseStatement(sql);
  } catch {
    return undefined;
  }
  if (statement.kind !== 'query' || statement.with || statement.orderBy || statement.limit || statement.offset) return undefined;
  const body = statement.body;
  if (body.kind !== 'select' || body.where || body.groupBy || body.having || body.distinct || body.windows || body.from?.length !== 1) return undefined;
  const from = body.from[0];
  if (from.kind !== 'table') return undefined;
  const name = from.name;
  const table = name.length === 2 && name[0] === party ? name[1] : name.length === 1 ? name[0] : undefined;
  if (!table) return undefined;
  const alias = from.alias?.name;
  const columns: string[] = [];
  for (const item of body.items) {
    if (item.kind !== 'expr_item' || item.expr.kind !== 'column') return undefined;
    const parts = item.expr.name;
    if (parts.length === 2 && parts[0] !== (alias ?? table)) return undefined;
    if (parts.length > 2) return undefined;
    columns.push(parts[parts.length - 1]);
  }
  return { table, columns };
}

export async function plinkPartials(
  ctx: PartyProtocolContext,
  input: { sql: string; uses: ColumnUse[] },
  spec: SecureAggregateParams,
): Promise<PartyPartials | undefined> {
  const gwas = spec.values.find((v) => v.op === 'gwas');
  if (!gwas || gwas.op !== 'gwas' || spec.values.some((v) => v.op !== 'gwas' && v.op !== 'count_star')) return undefined;
  const shape = plainProjection(input.sql, ctx.party);
  if (!shape || shape.columns.length !== input.uses.length) return undefined;
  const keys = shape.columns.slice(0, spec.groupCount);
  if (!keys.every((k) => VARIANT_COLUMNS.has(k))) return undefined;
  if (!gwas.columns.every((c, i) => shape.columns[c] === GWAS_ARGUMENTS[i])) return undefined;
  if (gwas.phenotype !== 'plink') return undefined;

  const connection = await ctx.database();
  try {
    if (!(await isPlinkTable(connection, shape.table))) return undefined;
    // The party's own policy check of exactly this input, without expanding the long format.
    const check = await ctx.input(`SELECT * FROM (${input.sql}) AS q LIMIT 0`, input.uses);
    for await (const _ of check) void _;

    const storage = plinkStorage(shape.table);
    const samples = await connection.runAndReadAll(`SELECT phenotype, pat, mat FROM main.${quoteIdent(storage.samples)} ORDER BY idx`);
    const [pheno, pat, mat] = samples.getColumns() as [(number | null)[], string[], string[]];
    const n = pheno.length;
    const classes = {
      phenotype: Uint8Array.from(pheno, (p) => (p === 2 ? 2 : p === 1 ? 1 : 0)),
      founder: Uint8Array.from(pat, (p, j) => (p === '0' && mat[j] === '0' ? 1 : 0)),
    };
    const variants = await connection.runAndReadAll(`SELECT allele1, allele2 FROM main.${quoteIdent(storage.variants)} ORDER BY idx`);
    const [a1, a2] = variants.getColumns() as [string[], string[]];
    const snps = a1.length;
    const width = Math.ceil(n / 4);
    const bed = new Uint8Array(snps * width);
    const chunks = await connection.runAndReadAll(`SELECT first_snp, bytes FROM main.${quoteIdent(storage.bed)} ORDER BY first_snp`);
    for (const [first, bytes] of chunks.getRows() as [number, DuckDBBlobValue][]) bed.set(bytes.bytes, first * width);
    const counts = countPacked(bed, snps, classes);

    const values: number[][] = spec.values.map(() => new Array<number>(snps));
    spec.values.forEach((v, i) => {
      const column = values[i];
      if (v.op === 'count_star') column.fill(n);
      else if (v.op === 'gwas') for (let s = 0; s < snps; s++) column[s] = counts[s * COUNTS_PER_SNP + v.part];
    });
    const keyBytes = keys.length
      ? await collectIpc(await queryToArrow(connection, `SELECT ${keys.map((k, i) => `${quoteIdent(k)} AS k${i}`).join(', ')} FROM main.${quoteIdent(storage.variants)} ORDER BY idx`, { signal: ctx.signal }))
      : new Uint8Array(0);
    if (!keys.length && snps !== 1) {
      // Without GROUP BY every SNP falls into one group: sum the counts.
      for (const column of values) column.splice(0, snps, column.reduce((x, y) => x + y, 0));
      return { rows: 1, keys: keyBytes, alleles: [[a1[0] ?? '0', a2[0] ?? '0']], values };
    }
    return { rows: snps, keys: keyBytes, alleles: a1.map((x, s) => [x, a2[s]] as [string, string]), values };
  } finally {
    connection.closeSync();
  }
}
