/**
 * From the revealed totals to the stage's rows: decodes each slot's values (signed integers of
 * their ring), drops groups whose total COUNT(*) is below min_group before anything is written,
 * computes every aggregate exactly from its integer sums (variances from n·Σx² − (Σx)² in BigInt;
 * GWAS statistics by executor/gwas), and writes the stage's temp table with the declared types.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Utf8, vectorFromArray, type DataType } from 'apache-arrow';
import { loadArrowIntoDuckDB } from '../../../connectors/arrow/arrow-to-duckdb.js';
import { DUCKDB_TYPE_METADATA_KEY } from '../../../connectors/connector.js';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import { FIXED_POINT_BITS, type OutputSpec, type SecureAggregateParams } from '../../../planner/operators/secure-aggregate-spec.js';
import { GWAS_ALLELIC_FIELDS, GWAS_MODEL_FIELDS, duckdbScalar } from '../../../planner/gwas/result-types.js';
import type { PrivateStage } from '../../../planner/physical-plan.js';
import { allelicTest, modelTest, type GenotypeCounts } from '../../gwas/association.js';
import { layoutWidth, readNumber, readSigned } from '../../protocols/mpc/ring.js';
import type { SlotAssignment } from './union-keys.js';

type Cell = string | number | bigint | null;

interface Column {
  name: string;
  type: string;
  value(slot: number): Cell;
}

export interface SnpAlleles {
  x: string[];
  y: string[];
}

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

  const columns: Column[] = [];
  params.outputs.forEach((o, i) => columns.push(...outputColumns(o, `o${i}`, big, num, alleles)));

  const kept: number[] = [];
  for (let s = 0; s < slots.slotCount; s++) if (num(s, params.countStar) >= params.minGroup) kept.push(s);

  const tot = `${prefix}_tot`;
  const fields = [
    new Field('__slot', new Int32(), false, new Map([[DUCKDB_TYPE_METADATA_KEY, 'INTEGER']])),
    ...columns.map((c) => new Field(c.name, arrowType(c.type), true, new Map([[DUCKDB_TYPE_METADATA_KEY, c.type]]))),
  ];
  const schema = new Schema(fields);
  const batches: RecordBatch[] = [];
  // Column-wise Arrow batches: typed buffers, one DuckDB load (much faster than row appends).
  for (let start = 0; start < kept.length || (start === 0 && batches.length === 0); start += BATCH_ROWS) {
    const rows = kept.slice(start, start + BATCH_ROWS);
    // Slot by slot, so per-slot work (a GWAS test shared by its fields) runs once.
    const cells = columns.map(() => new Array<unknown>(rows.length));
    rows.forEach((slot, r) => columns.forEach((c, k) => (cells[k][r] = cell(c.type, c.value(slot)))));
    const children = [
      makeData({ type: new Int32(), length: rows.length, nullCount: 0, data: Int32Array.from(rows) }),
      ...columns.map((c, k) => vectorFromArray(cells[k], arrowType(c.type)).data[0]),
    ];
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children })));
    if (rows.length === 0) break;
  }
  await loadArrowIntoDuckDB(connection, tot, schema, batches, { replace: true });

  const keyCount = params.groupCount;
  const select = stage.columns.map((c, i) => {
    if (i < keyCount) return `u.k${i} AS ${quoteIdent(c.name)}`;
    return `${outputExpr(params.outputs[i - keyCount], `o${i - keyCount}`, params.outputTypes[i - keyCount])} AS ${quoteIdent(c.name)}`;
  });
  const from = slots.table ? `${quoteIdent(tot)} t JOIN ${quoteIdent(slots.table)} u ON u.__slot = t.__slot` : `${quoteIdent(tot)} t`;
  await connection.run(`CREATE TEMP TABLE ${quoteIdent(stage.table)} AS SELECT ${select.join(', ')} FROM ${from}`);
  await connection.run(`DROP TABLE ${quoteIdent(tot)}`);
  if (slots.table) await connection.run(`DROP TABLE ${quoteIdent(slots.table)}`);
  return kept.length;
}

const BATCH_ROWS = 32_768;

function arrowType(type: string): DataType {
  switch (type) {
    case 'BIGINT': return new Int64();
    case 'INTEGER': return new Int32();
    case 'DOUBLE': return new Float64();
    default: return new Utf8();
  }
}

/** A value as its Arrow column expects it (HUGEINT travels as decimal text). */
function cell(type: string, v: Cell): unknown {
  if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return null;
  switch (type) {
    case 'BIGINT': return BigInt(v);
    case 'INTEGER': case 'DOUBLE': return Number(v);
    default: return String(v);
  }
}

const scaleOf = (encoding: string, scale: number): number => (encoding === 'fixed' ? 2 ** FIXED_POINT_BITS : encoding === 'decimal' ? 10 ** scale : 1);

/** An exact decimal string of `unscaled` / 10^scale. */
function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${text}` : text;
}

function outputColumns(
  o: OutputSpec,
  name: string,
  big: (slot: number, v: number) => bigint,
  num: (slot: number, v: number) => number,
  alleles: SnpAlleles | undefined,
): Column[] {
  switch (o.kind) {
    case 'count':
      return [{ name, type: 'BIGINT', value: (s) => num(s, o.value) }];
    case 'sum': {
      const type = o.encoding === 'int' ? 'HUGEINT' : o.encoding === 'decimal' ? 'VARCHAR' : 'DOUBLE';
      return [{
        name,
        type,
        value: (s) => {
          if (num(s, o.count) === 0) return null;
          const total = big(s, o.sum);
          if (o.encoding === 'int') return total;
          if (o.encoding === 'decimal') return decimalText(total, o.scale);
          return Number(total) / scaleOf(o.encoding, o.scale);
        },
      }];
    }
    case 'avg':
      return [{
        name,
        type: 'DOUBLE',
        value: (s) => {
          const n = num(s, o.count);
          return n === 0 ? null : Number(big(s, o.sum)) / scaleOf(o.encoding, o.scale) / n;
        },
      }];
    case 'var':
      return [{
        name,
        type: 'DOUBLE',
        value: (s) => {
          const n = big(s, o.count);
          const sample = o.fn === 'var_samp' || o.fn === 'stddev_samp';
          if (n === 0n || (sample && n < 2n)) return null;
          // n·Σx² − (Σx)² is exact; one rounding at the end.
          const numerator = n * big(s, o.sumsq) - big(s, o.sum) ** 2n;
          const unit = scaleOf(o.encoding, o.scale);
          const variance = Number(numerator) / (Number(n) * Number(sample ? n - 1n : n) * unit * unit);
          return o.fn.startsWith('stddev') ? Math.sqrt(Math.max(0, variance)) : variance;
        },
      }];
    case 'gwas': {
      const counts = (s: number): GenotypeCounts => ({
        caseXX: num(s, o.value), caseXY: num(s, o.value + 1), caseYY: num(s, o.value + 2),
        ctrlXX: num(s, o.value + 3), ctrlXY: num(s, o.value + 4), ctrlYY: num(s, o.value + 5),
        allX: num(s, o.value + 6), allCalled: num(s, o.value + 7),
      });
      const names = (s: number): [string, string] => [alleles?.x[s] ?? '0', alleles?.y[s] ?? '0'];
      // Each field reads the test result of its slot; memoise per slot so the test runs once.
      let lastSlot = -1;
      let last: Record<string, Cell> = {};
      const result = (s: number): Record<string, Cell> => {
        if (s !== lastSlot) {
          lastSlot = s;
          const [x, y] = names(s);
          last = o.test === 'allelic' ? allelicRecord(x, y, counts(s)) : modelRecord(x, y, counts(s));
        }
        return last;
      };
      const fields = o.test === 'allelic' ? GWAS_ALLELIC_FIELDS : GWAS_MODEL_FIELDS;
      return fields.map((f) => ({ name: `${name}_${f.name}`, type: duckdbScalar(f.type), value: (s: number) => result(s)[f.name] ?? null }));
    }
  }
}

function allelicRecord(x: string, y: string, c: GenotypeCounts): Record<string, Cell> {
  return allelicTest(x, y, c) as unknown as Record<string, Cell>;
}

function modelRecord(x: string, y: string, c: GenotypeCounts): Record<string, Cell> {
  const m = modelTest(x, y, c);
  const out: Record<string, Cell> = {
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
