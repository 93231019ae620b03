/**
 * A party's partial aggregates over its (policy-checked) protocol input, computed in place by
 * its own DuckDB: the checked input SQL (`ctx.inputSql`) is grouped by the key columns into a
 * temp table of the session's private connection, so no input row is copied out of DuckDB;
 * every value of the spec becomes one exact integer per group (HUGEINT sums of integers,
 * unscaled decimals or fixed-point doubles; GWAS genotype counts). Nothing here leaves the
 * party except through the secure sum (values) and the announce payload (public keys and
 * allele names).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Vector } from 'apache-arrow';
import { queryToArrow } from '../../../connectors/arrow/duckdb-to-arrow.js';
import { encodeAlleleCodes, type AlleleCodes } from '../../../connectors/plink/class-layout.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { FIXED_POINT_BITS, type SecureAggregateParams, type ValueSpec } from '../../../planner/operators/secure-aggregate-spec.js';
import { NO_KEYS, sqlKeyList, type KeyList } from './key-list.js';

/**
 * One value's partial per group: a Float64Array when every partial is a safe integer (the
 * usual case: counts, moderate sums), else exact numbers and BigInts.
 */
export type PartialColumn = Float64Array | (bigint | number)[];

export interface PartyPartials {
  /** Groups (rows) of this party. */
  rows: number;
  /** The GROUP BY keys of the groups, in row order. */
  keys: KeyList;
  /** GWAS: (allele1, allele2) names per group, dictionary-coded. */
  alleles?: AlleleCodes;
  /** values[v][r]: partial of value v for group r. */
  values: PartialColumn[];
  /** Where the partials came from, for the audit log. */
  source: string;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const AGG = '__sa_agg';

/** An Arrow column of exact integers (BIGINT, or HUGEINT as decimal) as a partial column. */
export function toPartialColumn(chunks: Vector[], rows: number): PartialColumn {
  const fast = new Float64Array(rows);
  let exact: (bigint | number)[] | undefined;
  let r = 0;
  const put = (v: bigint) => {
    const safe = v <= SAFE && v >= -SAFE;
    if (!exact && safe) fast[r] = Number(v);
    else {
      exact ??= Array.from(fast.subarray(0, r));
      exact.push(safe ? Number(v) : v);
    }
    r++;
  };
  for (const column of chunks) {
    let base = 0;
    for (const data of column.data) {
      if (data.values instanceof BigInt64Array && data.nullCount === 0) {
        // BIGINT without NULLs: the typed buffer itself (no per-value objects).
        // Read as 32-bit halves: reading a BigInt64Array element allocates a BigInt, and
        // nearly every partial fits a double exactly (|v| < 2^53 ⇔ −2^21 < high word < 2^21).
        const values = data.values.subarray(data.offset, data.offset + data.length);
        const words = new Int32Array(values.buffer, values.byteOffset, 2 * values.length);
        for (let i = 0; i < values.length; i++) {
          const high = words[2 * i + 1];
          if (!exact && high > -0x20_0000 && high < 0x20_0000) fast[r++] = high * 0x1_0000_0000 + (words[2 * i] >>> 0);
          else put(values[i]);
        }
      } else {
        for (let i = 0; i < data.length; i++) {
          const x = column.get(base + i) as bigint | string | null;
          put(x === null ? 0n : typeof x === 'bigint' ? x : BigInt(x));
        }
      }
      base += data.length;
    }
  }
  return exact ?? fast;
}

/**
 * Groups the checked input `inputSql` (its columns are taken by position: keys first, then the
 * arguments) into this connection's temp table and reads the partials; the key list is served
 * from that table for the rest of the session (the caller closes the connection).
 */
export async function computePartials(
  connection: DuckDBConnection,
  inputSql: string,
  columnCount: number,
  spec: SecureAggregateParams,
  signal: AbortSignal,
): Promise<PartyPartials> {
  const names = Array.from({ length: columnCount }, (_, i) => `c${i}`);
  const input = `(${inputSql}) AS __sa_in(${names.join(', ')})`;
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
  // Sorted keys: parties holding the same groups announce identical key lists, which the
  // requester fetches once and maps without a join (union-keys.ts).
  const groupBy = spec.groupCount
    ? ` GROUP BY ${names.slice(0, spec.groupCount).join(', ')} ORDER BY ${keys.map((_, i) => `k${i} NULLS LAST`).join(', ')}`
    : '';
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${AGG} AS SELECT ${[...keys, ...values, ...alleleCols].join(', ')} FROM ${input}${groupBy}`);

  const chunks: Vector[][] = spec.values.map(() => []);
  let rows = 0;
  const stream = await queryToArrow(connection, `SELECT ${spec.values.map((_, i) => `v${i}`).join(', ')} FROM ${AGG} ORDER BY rowid`, { signal });
  for await (const batch of stream) {
    spec.values.forEach((_, i) => chunks[i].push(batch.getChildAt(i)!));
    rows += batch.numRows;
  }
  const out = chunks.map((c) => toPartialColumn(c, rows));
  let alleles: AlleleCodes | undefined;
  if (gwas) {
    const read = await connection.runAndReadAll(`SELECT x1, y1, x2, y2 FROM ${AGG} ORDER BY rowid`);
    const [x1, y1, x2, y2] = read.getColumns() as string[][];
    for (let r = 0; r < rows; r++) {
      if (x1[r] !== y1[r] || x2[r] !== y2[r]) {
        throw new SqlError(SqlState.invalidParameterValue, `GWAS: the allele columns of one SNP disagree between rows (${x1[r]}/${y1[r]}, ${x2[r]}/${y2[r]})`, {
          hint: 'Every row of a SNP must name the same allele1 and allele2.',
        });
      }
    }
    alleles = encodeAlleleCodes(x1, x2);
  }
  const keyList = spec.groupCount ? await sqlKeyList(connection, AGG, keys.map((_, i) => `k${i}`), 'rowid', signal) : NO_KEYS;
  return { rows, keys: keyList, alleles, values: out, source: 'its SQL input, aggregated in place' };
}

/** DuckDB SQL of one value's partial over the input columns `c`. */
function valueSql(v: ValueSpec, c: string[]): string {
  switch (v.op) {
    case 'count_star':
      return 'count(*)';
    case 'count':
      return `count(${c[v.column]})`;
    case 'sum':
      return `coalesce(sum(${encoded(v.encoding, v.scale, c[v.column])}), 0)`;
    case 'sumsq': {
      const x = encoded(v.encoding, v.scale, c[v.column]);
      return `coalesce(sum(${x} * ${x}), 0)`;
    }
    case 'gwas': {
      const g = `TRY_CAST(${c[v.columns[2]]} AS INTEGER)`;
      const y = c[v.columns[3]];
      const isCase = v.phenotype === 'boolean' ? `${y} IS TRUE` : `TRY_CAST(${y} AS DOUBLE) = 2`;
      const isCtrl = v.phenotype === 'boolean' ? `${y} IS FALSE` : `TRY_CAST(${y} AS DOUBLE) = 1`;
      const called = `${g} IN (0, 1, 2)`;
      // Counts by copies of the party's allele1; the SNP-wide orientation is applied later.
      if (v.counts === 'alleles') {
        switch (v.part) {
          case 0: return `coalesce(sum(${g}) FILTER (WHERE ${isCase} AND ${called}), 0)`;
          case 1: return `coalesce(sum(2 - ${g}) FILTER (WHERE ${isCase} AND ${called}), 0)`;
          case 2: return `coalesce(sum(${g}) FILTER (WHERE ${isCtrl} AND ${called}), 0)`;
          case 3: return `coalesce(sum(2 - ${g}) FILTER (WHERE ${isCtrl} AND ${called}), 0)`;
          case 4: return `coalesce(sum(${g}) FILTER (WHERE ${called}), 0)`;
          default: return `count(*) FILTER (WHERE ${called})`;
        }
      }
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

