/**
 * The fast path of a party's GWAS partials over a PLINK-backed table: when the protocol input is
 * a plain projection of one PLINK table — variant columns as GROUP BY keys and (allele1, allele2,
 * genotype, phenotype) as the GWAS arguments, no filter — the party has its policy check done on
 * exactly that input (`ctx.inputSql`: checked, never run, so nothing is expanded), then counts
 * genotypes chunk by chunk straight from the table's class-ordered counting layout
 * (connectors/plink/class-layout.ts, executor/gwas/class-counts.ts) instead of expanding
 * samples × SNPs rows; allele names come dictionary-coded from the layout, the keys from the
 * variant table. Anything else returns undefined and takes the general path.
 * Like plink, A1 is chosen from founders' genotypes (samples without parents in the .fam).
 */
import type { DuckDBBlobValue, DuckDBConnection, DuckDBListValue } from '@duckdb/node-api';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import type { AlleleCodes } from '../../../connectors/plink/class-layout.js';
import { isPlinkTable, plinkStorage } from '../../../connectors/plink/plink-table.js';
import { parseStatement } from '../../../parser/index.js';
import type { SecureAggregateParams } from '../../../planner/operators/secure-aggregate-spec.js';
import type { ColumnUse } from '../../../planner/policy.js';
import { countClassOrdered } from '../../gwas/class-counts.js';
import { COUNTS_PER_SNP } from '../../gwas/packed-counts.js';
import { partFromPacked } from './gwas-values.js';
import { NO_KEYS, sqlKeyList } from './key-list.js';
import type { PartyPartials } from './party-partials.js';

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
  connection: DuckDBConnection,
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
  if (!(await isPlinkTable(connection, shape.table))) return undefined;

  // The party's own policy check of exactly this input (checked, not run).
  await ctx.inputSql(input.sql, input.uses);

  const storage = plinkStorage(shape.table);
  const q = quoteIdent;
  const layoutRow = (await connection.runAndReadAll(
    `SELECT samples, snps, words_per_snp, class_sizes, allele_names, allele_width, allele_codes FROM main.${q(storage.layout)}`,
  )).getRows()[0];
  const [n, snps, wordsPerSnp] = layoutRow.slice(0, 3) as number[];
  const classSizes = (layoutRow[3] as DuckDBListValue).items as number[];
  const alleles: AlleleCodes = {
    names: (layoutRow[4] as DuckDBListValue).items as string[],
    width: layoutRow[5] as 1 | 4,
    codes: (layoutRow[6] as DuckDBBlobValue).bytes,
  };

  // Chunk by chunk: memory is one chunk of packed codes plus the counts.
  const counts = new Float64Array(snps * COUNTS_PER_SNP);
  const result = await connection.stream(`SELECT first_snp, snps, bytes FROM main.${q(storage.packed)} ORDER BY first_snp`);
  for (;;) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const first = chunk.getColumnVector(0);
    const count = chunk.getColumnVector(1);
    const bytes = chunk.getColumnVector(2);
    for (let i = 0; i < chunk.rowCount; i++) {
      const blob = (bytes.getItem(i) as DuckDBBlobValue).bytes;
      // A Uint16Array view needs an even offset; copy the (rare) odd one.
      const aligned = blob.byteOffset % 2 === 0 ? blob : blob.slice();
      const words = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1);
      countClassOrdered(words, count.getItem(i) as number, { classSizes, wordsPerSnp }, counts, first.getItem(i) as number);
    }
  }

  const values: Float64Array[] = spec.values.map((v) => {
    const column = new Float64Array(snps);
    if (v.op === 'count_star') column.fill(n);
    else if (v.op === 'gwas') for (let s = 0; s < snps; s++) column[s] = partFromPacked(v.counts, v.part, counts, s * COUNTS_PER_SNP);
    return column;
  });
  const source = 'packed PLINK genotypes';
  if (!keys.length && snps !== 1) {
    // Without GROUP BY every SNP falls into one group: sum the counts.
    const sums = values.map((column) => Float64Array.of(column.reduce((x, y) => x + y, 0)));
    return { rows: 1, keys: NO_KEYS, alleles: { ...alleles, codes: alleles.codes.slice(0, alleles.width) }, values: sums, source };
  }
  const keyList = keys.length
    ? await sqlKeyList(connection, `main.${q(storage.variants)}`, keys.map((k) => q(k)), 'idx', ctx.signal)
    : NO_KEYS;
  return { rows: snps, keys: keyList, alleles, values, source };
}
