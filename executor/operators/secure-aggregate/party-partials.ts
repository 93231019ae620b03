/**
 * A party's partial aggregates over its (policy-checked) protocol input, computed by its own
 * DuckDB: the input rows are loaded into a temp table of a private connection and grouped by
 * the key columns; every value of the spec becomes one exact integer per group (HUGEINT sums of
 * integers, unscaled decimals or fixed-point doubles; GWAS genotype counts). Nothing here leaves
 * the party except through the secure sum (values) and the announce payload (public keys and
 * allele names).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { loadArrowIntoDuckDB } from '../../../connectors/arrow/arrow-to-duckdb.js';
import { queryToArrow } from '../../../connectors/arrow/duckdb-to-arrow.js';
import { arrowToIpcStream } from '../../../connectors/arrow/ipc.js';
import type { FragmentStream } from '../../../connectors/connector.js';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { FIXED_POINT_BITS, type SecureAggregateParams, type ValueSpec } from '../../../planner/operators/secure-aggregate-spec.js';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export interface PartyPartials {
  /** Groups (rows) of this party. */
  rows: number;
  /** Arrow IPC stream of the key columns k0…, one row per group (empty without GROUP BY). */
  keys: Uint8Array;
  /** GWAS: (allele1, allele2) names per group. */
  alleles?: [string, string][];
  /** values[v][r]: partial of value v for group r. */
  values: (bigint | number)[][];
}

export async function collectIpc(stream: FragmentStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of arrowToIpcStream(stream)) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function computePartials(
  connection: DuckDBConnection,
  input: FragmentStream,
  spec: SecureAggregateParams,
  signal: AbortSignal,
): Promise<PartyPartials> {
  const table = '__sa_input';
  await loadArrowIntoDuckDB(connection, table, input.schema, input, { signal, replace: true });
  const names = input.schema.fields.map((f) => quoteIdent(f.name));
  const keys = names.slice(0, spec.groupCount).map((n, i) => `${n} AS k${i}`);
  // Values that fit 64 bits travel from DuckDB as BIGINT (typed Arrow buffers, no per-value objects).
  const values = spec.values.map((v, i) => (v.limbs <= 2 ? `CAST(${valueSql(v, names)} AS BIGINT) AS v${i}` : `${valueSql(v, names)} AS v${i}`));
  const gwas = spec.values.find((v): v is Extract<ValueSpec, { op: 'gwas' }> => v.op === 'gwas');
  const alleleCols = gwas
    ? [
        `min(coalesce(${names[gwas.columns[0]]}, '0')) AS x1`, `max(coalesce(${names[gwas.columns[0]]}, '0')) AS y1`,
        `min(coalesce(${names[gwas.columns[1]]}, '0')) AS x2`, `max(coalesce(${names[gwas.columns[1]]}, '0')) AS y2`,
      ]
    : [];
  // Sorted keys: parties holding the same groups announce byte-identical key lists, which the
  // requester maps without a join (union-keys.ts).
  const groupBy = spec.groupCount
    ? ` GROUP BY ${names.slice(0, spec.groupCount).join(', ')} ORDER BY ${keys.map((_, i) => `k${i} NULLS LAST`).join(', ')}`
    : '';
  await connection.run(`CREATE OR REPLACE TEMP TABLE __sa_agg AS SELECT ${[...keys, ...values, ...alleleCols].join(', ')} FROM ${table}${groupBy}`);
  await connection.run(`DROP TABLE ${table}`);

  const out: (bigint | number)[][] = spec.values.map(() => []);
  const stream = await queryToArrow(connection, `SELECT ${spec.values.map((_, i) => `v${i}`).join(', ')} FROM __sa_agg ORDER BY rowid`, { signal });
  for await (const batch of stream) {
    spec.values.forEach((_, i) => {
      const column = batch.getChildAt(i)!;
      const target = out[i];
      for (let r = 0; r < batch.numRows; r++) {
        const x = column.get(r) as bigint | string | null;
        if (x === null) target.push(0);
        else if (typeof x === 'bigint') target.push(x <= SAFE && x >= -SAFE ? Number(x) : x);
        else target.push(BigInt(x));
      }
    });
  }
  const rows = out[0].length;
  let alleles: [string, string][] | undefined;
  if (gwas) {
    const read = await connection.runAndReadAll('SELECT x1, y1, x2, y2 FROM __sa_agg ORDER BY rowid');
    const [x1, y1, x2, y2] = read.getColumns() as string[][];
    alleles = [];
    for (let r = 0; r < rows; r++) {
      if (x1[r] !== y1[r] || x2[r] !== y2[r]) {
        throw new SqlError(SqlState.invalidParameterValue, `GWAS: the allele columns of one SNP disagree between rows (${x1[r]}/${y1[r]}, ${x2[r]}/${y2[r]})`, {
          hint: 'Every row of a SNP must name the same allele1 and allele2.',
        });
      }
      alleles.push([x1[r], x2[r]]);
    }
  }
  const keyBytes = spec.groupCount ? await collectIpc(await queryToArrow(connection, `SELECT ${keys.map((_, i) => `k${i}`).join(', ')} FROM __sa_agg ORDER BY rowid`, { signal })) : new Uint8Array(0);
  await connection.run('DROP TABLE __sa_agg');
  return { rows, keys: keyBytes, alleles, values: out };
}

/** DuckDB SQL of one value's partial over the input columns `c`. */
function valueSql(v: ValueSpec, c: string[]): string {
  switch (v.op) {
    case 'count_star':
      return 'count(*)';
    case 'count':
      return `count(${c[v.column]})`;
    case 'sum':
      return `sum(${encoded(v.encoding, v.scale, c[v.column])})`;
    case 'sumsq': {
      const x = encoded(v.encoding, v.scale, c[v.column]);
      return `sum(${x} * ${x})`;
    }
    case 'gwas': {
      const g = `TRY_CAST(${c[v.columns[2]]} AS INTEGER)`;
      const y = c[v.columns[3]];
      const isCase = v.phenotype === 'boolean' ? `${y} IS TRUE` : `TRY_CAST(${y} AS DOUBLE) = 2`;
      const isCtrl = v.phenotype === 'boolean' ? `${y} IS FALSE` : `TRY_CAST(${y} AS DOUBLE) = 1`;
      // Counts by copies of the party's allele1; the SNP-wide orientation is applied later.
      switch (v.part) {
        case 0: return `count(*) FILTER (WHERE ${isCase} AND ${g} = 2)`;
        case 1: return `count(*) FILTER (WHERE ${isCase} AND ${g} = 1)`;
        case 2: return `count(*) FILTER (WHERE ${isCase} AND ${g} = 0)`;
        case 3: return `count(*) FILTER (WHERE ${isCtrl} AND ${g} = 2)`;
        case 4: return `count(*) FILTER (WHERE ${isCtrl} AND ${g} = 1)`;
        case 5: return `count(*) FILTER (WHERE ${isCtrl} AND ${g} = 0)`;
        case 6: return `coalesce(sum(${g}) FILTER (WHERE ${g} IN (0, 1, 2)), 0)`;
        default: return `count(*) FILTER (WHERE ${g} IN (0, 1, 2))`;
      }
    }
  }
}

function encoded(encoding: string, scale: number, c: string): string {
  if (encoding === 'int') return `CAST(${c} AS HUGEINT)`;
  if (encoding === 'decimal') return scale === 0 ? `CAST(${c} AS HUGEINT)` : `CAST(${c} * ${10n ** BigInt(scale)} AS HUGEINT)`;
  return `CAST(round(CAST(${c} AS DOUBLE) * ${2 ** FIXED_POINT_BITS}) AS HUGEINT)`;
}
