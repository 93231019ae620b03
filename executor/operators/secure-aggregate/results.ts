/**
 * From the revealed totals to the stage's rows: decodes each slot's values (signed integers of
 * their ring), drops groups whose total COUNT(*) is below min_group before anything is written,
 * computes every aggregate exactly from its integer sums (variances from n·Σx² − (Σx)² in BigInt;
 * GWAS statistics by executor/gwas), and writes the stage's temp table with the declared types.
 * Columns are filled as typed Arrow buffers (result-columns.ts) and loaded in one append.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { Field, Int32, makeData, RecordBatch, Schema, Struct } from 'apache-arrow';
import { loadArrowIntoDuckDB } from '../../../connectors/arrow/arrow-to-duckdb.js';
import { DUCKDB_TYPE_METADATA_KEY } from '../../../connectors/connector.js';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import { FIXED_POINT_BITS, type OutputSpec, type SecureAggregateParams } from '../../../planner/operators/secure-aggregate-spec.js';
import { GWAS_ALLELIC_FIELDS, GWAS_MODEL_FIELDS, duckdbScalar } from '../../../planner/gwas/result-types.js';
import type { PrivateStage } from '../../../planner/physical-plan.js';
import { allelicFromAlleles, allelicTest, modelTest, type AllelicResult } from '../../gwas/association.js';
import { layoutWidth, readNumber, readSigned } from '../../protocols/mpc/ring.js';
import { alleleCounts, genotypeCounts } from './gwas-values.js';
import { resultColumn, type ResultColumn } from './result-columns.js';
import type { SlotAssignment } from './union-keys.js';

export interface SnpAlleles {
  x: string[];
  y: string[];
}

/** Writes one output's cells for the kept slot at row `row`. */
type Filler = (slot: number, row: number) => void;

export async function writeStageRows(
  connection: DuckDBConnection,
  stage: PrivateStage,
  prefix: string,
  params: SecureAggregateParams,
  totals: Uint32Array,
  slots: SlotAssignment,
  alleles?: SnpAlleles,
): Promise<number> {
  const layout = params.values.map((v) => v.limbs);
  const width = layoutWidth(layout);
  const offsets: number[] = [];
  layout.reduce((o, l) => (offsets.push(o), o + l), 0);
  const big = (slot: number, v: number): bigint => readSigned(totals, slot * width + offsets[v], layout[v]);
  const num = (slot: number, v: number): number => {
    const n = readNumber(totals, slot * width + offsets[v], layout[v]);
    return Number.isNaN(n) ? Number(big(slot, v)) : n;
  };

  const kept: number[] = [];
  for (let s = 0; s < slots.slotCount; s++) if (num(s, params.countStar) >= params.minGroup) kept.push(s);
  const rows = kept.length;

  const columns: ResultColumn[] = [];
  const fillers: Filler[] = params.outputs.map((o, i) => outputFiller(o, `o${i}`, rows, columns, big, num, alleles));
  for (let r = 0; r < rows; r++) {
    const slot = kept[r];
    for (const fill of fillers) fill(slot, r);
  }

  const tot = `${prefix}_tot`;
  const fields = [
    new Field('__slot', new Int32(), false, new Map([[DUCKDB_TYPE_METADATA_KEY, 'INTEGER']])),
    ...columns.map((c) => c.field),
  ];
  const schema = new Schema(fields);
  const children = [makeData({ type: new Int32(), length: rows, nullCount: 0, data: Int32Array.from(kept) }), ...columns.map((c) => c.finish())];
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }));
  await loadArrowIntoDuckDB(connection, tot, schema, [batch], { replace: true });

  const keyCount = params.groupCount;
  const select = stage.columns.map((c, i) => {
    if (i < keyCount) return `u.k${i} AS ${quoteIdent(c.name)}`;
    return `${outputExpr(params.outputs[i - keyCount], `o${i - keyCount}`, params.outputTypes[i - keyCount])} AS ${quoteIdent(c.name)}`;
  });
  const from = slots.table ? `${quoteIdent(tot)} t JOIN ${quoteIdent(slots.table)} u ON u.__slot = t.__slot` : `${quoteIdent(tot)} t`;
  await connection.run(`CREATE TEMP TABLE ${quoteIdent(stage.table)} AS SELECT ${select.join(', ')} FROM ${from}`);
  await connection.run(`DROP TABLE ${quoteIdent(tot)}`);
  if (slots.table) await connection.run(`DROP TABLE ${quoteIdent(slots.table)}`);
  return rows;
}

const scaleOf = (encoding: string, scale: number): number => (encoding === 'fixed' ? 2 ** FIXED_POINT_BITS : encoding === 'decimal' ? 10 ** scale : 1);

/** An exact decimal string of `unscaled` / 10^scale. */
function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${text}` : text;
}

/** Adds the columns of output `o` (named `name…`) to `columns` and returns what fills a row. */
function outputFiller(
  o: OutputSpec,
  name: string,
  rows: number,
  columns: ResultColumn[],
  big: (slot: number, v: number) => bigint,
  num: (slot: number, v: number) => number,
  alleles: SnpAlleles | undefined,
): Filler {
  const add = (column: string, type: string) => {
    const c = resultColumn(column, type, rows);
    columns.push(c);
    return c;
  };
  switch (o.kind) {
    case 'count': {
      const c = add(name, 'BIGINT');
      return (s, r) => c.set(r, num(s, o.value));
    }
    case 'sum': {
      // Integer sums that are safe numbers travel as BIGINT, others as exact decimal text;
      // the stage's SELECT casts either to the declared type.
      const c = add(name, o.encoding === 'int' ? 'HUGEINT' : o.encoding === 'decimal' ? 'VARCHAR' : 'DOUBLE');
      return (s, r) => {
        if (num(s, o.count) === 0) return c.set(r, null);
        const total = big(s, o.sum);
        if (o.encoding === 'int') return c.set(r, total);
        if (o.encoding === 'decimal') return c.set(r, decimalText(total, o.scale));
        return c.set(r, Number(total) / scaleOf(o.encoding, o.scale));
      };
    }
    case 'avg': {
      const c = add(name, 'DOUBLE');
      return (s, r) => {
        const n = num(s, o.count);
        c.set(r, n === 0 ? null : Number(big(s, o.sum)) / scaleOf(o.encoding, o.scale) / n);
      };
    }
    case 'var': {
      const c = add(name, 'DOUBLE');
      const sample = o.fn === 'var_samp' || o.fn === 'stddev_samp';
      const unit = scaleOf(o.encoding, o.scale);
      return (s, r) => {
        const n = big(s, o.count);
        if (n === 0n || (sample && n < 2n)) return c.set(r, null);
        // n·Σx² − (Σx)² is exact; one rounding at the end.
        const numerator = n * big(s, o.sumsq) - big(s, o.sum) ** 2n;
        const variance = Number(numerator) / (Number(n) * Number(sample ? n - 1n : n) * unit * unit);
        c.set(r, o.fn.startsWith('stddev') ? Math.sqrt(Math.max(0, variance)) : variance);
      };
    }
    case 'gwas': {
      const fields = o.test === 'allelic' ? GWAS_ALLELIC_FIELDS : GWAS_MODEL_FIELDS;
      const cols = fields.map((f) => add(`${name}_${f.name}`, duckdbScalar(f.type)));
      const names = (s: number): [string, string] => [alleles?.x[s] ?? '0', alleles?.y[s] ?? '0'];
      const at = (s: number) => (v: number) => num(s, v);
      return (s, r) => {
        const [x, y] = names(s);
        const record = o.test === 'allelic'
          ? allelicRecord(x, y, o.counts === 'alleles' ? allelicFromAlleles(x, y, alleleCounts(at(s), o.value)) : allelicTest(x, y, genotypeCounts(at(s), o.value)))
          : modelRecord(x, y, genotypeCounts(at(s), o.value));
        for (let k = 0; k < fields.length; k++) cols[k].set(r, record[fields[k].name] ?? null);
      };
    }
  }
}

function allelicRecord(_x: string, _y: string, result: AllelicResult): Record<string, string | number | null> {
  return result as unknown as Record<string, string | number | null>;
}

function modelRecord(x: string, y: string, c: ReturnType<typeof genotypeCounts>): Record<string, string | number | null> {
  const m = modelTest(x, y, c);
  const out: Record<string, string | number | null> = {
    a1: m.a1, a2: m.a2,
    aff_11: m.aff[0], aff_12: m.aff[1], aff_22: m.aff[2],
    unaff_11: m.unaff[0], unaff_12: m.unaff[1], unaff_22: m.unaff[2],
  };
  for (const t of ['geno', 'trend', 'allelic', 'dom', 'rec'] as const) {
    out[`chisq_${t}`] = m[t].chisq;
    out[`df_${t}`] = m[t].df;
    out[`p_${t}`] = m[t].p;
  }
  return out;
}

function outputExpr(o: OutputSpec, name: string, type: string): string {
  const c = `t.${quoteIdent(name)}`;
  if (o.kind === 'sum' && o.encoding === 'decimal') return `CAST(${c} AS ${type})`;
  if (o.kind === 'gwas') {
    const fields = o.test === 'allelic' ? GWAS_ALLELIC_FIELDS : GWAS_MODEL_FIELDS;
    return `struct_pack(${fields.map((f) => `${quoteIdent(f.name)} := t.${quoteIdent(`${name}_${f.name}`)}`).join(', ')})`;
  }
  return `CAST(${c} AS ${type})`;
}
