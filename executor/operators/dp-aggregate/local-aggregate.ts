/**
 * The party's local step of a DP aggregate, in its own DuckDB: its policy-checked input rows
 * (privacy unit?, group keys…, arguments…) go into a temp table, and SQL written here — never by
 * the requester — bounds and aggregates them:
 *
 * 1. contribution bounding per privacy unit, as functions of each unit's own rows only (so one
 *    unit cannot change what another contributes): per (unit, group), counts are capped at
 *    max_rows_contributed and sums are the unit's mean per row times min(rows, cap) — at most
 *    the contribution of max_rows_contributed rows — and each unit keeps at most
 *    max_groups_contributed groups, chosen by a salted hash (COUNT(DISTINCT col) instead keeps
 *    at most max_rows_contributed hashed rows per unit and group);
 * 2. per row: NULL stays NULL; otherwise the argument is clamped to [lo, hi] in its own type,
 *    converted exactly to integer fine units and clamped again on that grid;
 * 3. per group: distinct units (rows without a unit) and one exact integer partial per cell.
 *
 * Errors here are reported without data (a DuckDB message could quote a value); the detail goes
 * to the party's audit log only.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { Field, makeData, RecordBatch, Schema, Struct, type Data } from 'apache-arrow';
import { loadArrowIntoDuckDB } from '../../../connectors/arrow/arrow-to-duckdb.js';
import type { FragmentStream } from '../../../connectors/connector.js';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import type { Calibration, CellPlan } from '../../protocols/dp/calibrate.js';
import type { LocalGroup } from '../../protocols/dp/contribution.js';
import { keyId } from '../../protocols/dp/messages.js';
import type { DpQuerySpec, MeasurementSpec } from '../../protocols/dp/spec.js';

export interface LocalAggregateOptions {
  /** Salt of the hash that picks which rows and groups of a unit are kept. */
  salt: bigint;
  /** Test-only negative control: skip bounding. */
  skipBounding?: boolean;
  signal?: AbortSignal;
}

const c = (i: number) => `c${i}`;

/** Input rows → a temp table with columns c0 … cN (the input's own names are the requester's). */
async function loadInput(db: DuckDBConnection, table: string, input: FragmentStream, signal?: AbortSignal): Promise<number> {
  const schema = new Schema(input.schema.fields.map((f, i) => new Field(c(i), f.type, f.nullable, f.metadata)), input.schema.metadata);
  const renamed = (async function* () {
    for await (const batch of input) {
      yield new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batch.numRows, nullCount: 0, children: (batch.data as Data<Struct>).children }));
    }
  })();
  await loadArrowIntoDuckDB(db, table, schema, renamed, { signal });
  return schema.fields.length;
}

/** A decimal string as a SQL numeric literal (validated by the spec parser). */
const literal = (text: string) => (text.startsWith('-') ? `(${text})` : text);

/** The clamped argument in integer fine units, NULL for NULL. */
function fineValue(m: MeasurementSpec, cell: CellPlan): string {
  const x = c(m.arg!);
  const fine = cell.fine!;
  const clamped = `least(greatest(${x}, ${literal(m.low!)}), ${literal(m.high!)})`;
  let units: string;
  switch (m.domain!.kind) {
    case 'integer':
      units = `CAST(round(${clamped}) AS HUGEINT)`;
      break;
    case 'decimal':
      units = `CAST(round(${clamped} * ${10n ** BigInt(m.domain!.scale)}) AS HUGEINT)`;
      break;
    case 'double': {
      // fine unit 2^e: multiplying by 2^-e is exact in floating point.
      const factor = 2 ** -(fine.exponent ?? 0);
      units = `CAST(round(CAST(${clamped} AS DOUBLE) * ${factor.toExponential()}) AS HUGEINT)`;
      break;
    }
  }
  const onGrid = `least(greatest(${units}, CAST('${fine.low}' AS HUGEINT)), CAST('${fine.high}' AS HUGEINT))`;
  return `CASE WHEN ${x} IS NULL THEN NULL ELSE ${onGrid} END`;
}

function cellExpression(spec: DpQuerySpec, cell: CellPlan): string {
  const m = spec.measurements[cell.measurement];
  switch (cell.role) {
    case 'count':
      if (m.kind === 'count_rows') return 'count(*)';
      if (m.kind === 'count_values') return `count(${c(m.arg!)})`;
      if (m.kind === 'count_units') return `count(DISTINCT ${c(0)})`;
      return `count(DISTINCT ${c(m.arg!)})`;
    case 'sum':
      return `coalesce(sum(${fineValue(m, cell)}), 0)`;
    case 'avg_sum':
      return `coalesce(sum(2 * (${fineValue(m, cell)}) - CAST('${cell.fine!.low + cell.fine!.high}' AS HUGEINT)), 0)`;
    case 'avg_count':
      return `count(${fineValue(m, cell)})`;
  }
}

export function localAggregateSql(spec: DpQuerySpec, calibration: Calibration, table: string, options: LocalAggregateOptions): string {
  const first = spec.unit ? 1 : 0;
  const groups = Array.from({ length: spec.groupColumns }, (_, i) => c(first + i));
  const keys = groups.map((g) => `CAST(${g} AS VARCHAR)`);
  const groupBy = groups.length ? ` GROUP BY ${groups.join(', ')}` : '';
  const t = quoteIdent(table);
  if (!spec.unit) {
    const cells = calibration.cells.map((cell) => `CAST(${cellExpression(spec, cell)} AS VARCHAR)`);
    return `SELECT ${[...keys, 'CAST(count(*) AS VARCHAR)', ...cells].join(', ')} FROM ${t}${groupBy}`;
  }
  const salt = `CAST('${options.salt}' AS UBIGINT)`;
  const unitAndGroups = [c(0), ...groups].join(', ');
  const groupOrder = [`hash(${[...groups, salt].join(', ')})`, ...groups].join(', ');
  const keepGroups = options.skipBounding ? 'true' : `__dp_group <= ${spec.maxGroupsContributed}`;
  if (spec.measurements.some((m) => m.kind === 'count_distinct')) {
    // Distinct values must be counted over rows: keep at most max_rows_contributed rows per
    // (unit, group), picked by a salted hash of the row, and rank groups per unit at row level.
    const rows = options.skipBounding
      ? t
      : `(SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY ${unitAndGroups} ORDER BY hash(rowid, ${salt}), rowid) AS __dp_row FROM ${t})
          WHERE __dp_row <= ${spec.maxRowsContributed})`;
    const cells = calibration.cells.map((cell) => `CAST(${cellExpression(spec, cell)} AS VARCHAR)`);
    return `SELECT ${[...keys, `CAST(count(DISTINCT ${c(0)}) AS VARCHAR)`, ...cells].join(', ')}
      FROM (SELECT *, dense_rank() OVER (PARTITION BY ${c(0)} ORDER BY ${groupOrder}) AS __dp_group FROM ${rows}) AS bounded
      WHERE ${keepGroups}${groupBy}`;
  }
  // Otherwise bound per (unit, group) on aggregates — no row-level window: counts are capped at
  // r, and sums keep the unit's mean per row scaled to at most r rows (|sum| ≤ r·max(|lo|, |hi|),
  // the same per-group sensitivity as keeping r rows). Then at most max_groups_contributed
  // groups per unit are kept, ranked on that (much smaller) relation.
  const r = spec.maxRowsContributed;
  const hi = (x: bigint) => `CAST('${x}' AS HUGEINT)`;
  const partials = calibration.cells.map((cell, i) => {
    const m = spec.measurements[cell.measurement];
    let e: string;
    const capped = (count: string) => (options.skipBounding ? count : `least(${count}, ${r})`);
    // sum × min(n, r)/n, rounded, then clamped to the r-row range (the clamp makes float rounding harmless).
    const scaled = (sum: string, n: string, low: bigint, high: bigint) =>
      options.skipBounding
        ? `coalesce(${sum}, 0)`
        : `least(greatest(CASE WHEN ${n} <= ${r} THEN coalesce(${sum}, 0) ELSE CAST(round(CAST(${sum} AS DOUBLE) * ${r} / ${n}) AS HUGEINT) END, ${hi(low)}), ${hi(high)})`;
    const R = BigInt(r);
    const zeroMin = (x: bigint) => (x < 0n ? x : 0n);
    const zeroMax = (x: bigint) => (x > 0n ? x : 0n);
    switch (cell.role) {
      case 'count':
        e = m.kind === 'count_units' ? '1' : m.kind === 'count_rows' ? capped('count(*)') : capped(`count(${c(m.arg!)})`);
        break;
      case 'sum': {
        const f = cell.fine!;
        e = scaled(`sum(${fineValue(m, cell)})`, `count(${c(m.arg!)})`, R * zeroMin(f.low), R * zeroMax(f.high));
        break;
      }
      case 'avg_sum': {
        const f = cell.fine!;
        const width = f.high - f.low;
        e = scaled(`sum(2 * (${fineValue(m, cell)}) - ${hi(f.low + f.high)})`, `count(${c(m.arg!)})`, -R * width, R * width);
        break;
      }
      case 'avg_count':
        e = capped(`count(${fineValue(m, cell)})`);
        break;
    }
    return `${e} AS __dp_p${i}`;
  });
  const perUnit = `SELECT ${[c(0), ...groups, ...partials].join(', ')} FROM ${t} AS r GROUP BY ${unitAndGroups}`;
  const ranked = `SELECT *, dense_rank() OVER (PARTITION BY ${c(0)} ORDER BY ${groupOrder}) AS __dp_group FROM (${perUnit}) AS per_unit`;
  const totals = calibration.cells.map((_, i) => `CAST(coalesce(sum(__dp_p${i}), 0) AS VARCHAR)`);
  return `SELECT ${[...keys, 'CAST(count(*) AS VARCHAR)', ...totals].join(', ')} FROM (${ranked}) AS bounded WHERE ${keepGroups}${groupBy}`;
}

/**
 * Loads the party's input and returns its bounded local groups (by key id). The temp table is
 * dropped whatever happens.
 */
export async function localGroups(
  db: DuckDBConnection,
  input: FragmentStream,
  spec: DpQuerySpec,
  calibration: Calibration,
  options: LocalAggregateOptions,
): Promise<Map<string, LocalGroup>> {
  const table = `__dp_in_${options.salt.toString(16)}`;
  try {
    const width = await loadInput(db, table, input, options.signal);
    const expected = (spec.unit ? 1 : 0) + spec.groupColumns;
    if (width < expected) throw new Error(`the input has ${width} columns, fewer than the unit and group keys`);
    const result = await db.runAndReadAll(localAggregateSql(spec, calibration, table, options));
    const groups = new Map<string, LocalGroup>();
    for (const row of result.getRows()) {
      const key = row.slice(0, spec.groupColumns).map((v) => (v === null ? null : String(v)));
      const units = BigInt(String(row[spec.groupColumns]));
      const fine = row.slice(spec.groupColumns + 1).map((v) => BigInt(String(v)));
      groups.set(keyId(key), { key, units, fine });
    }
    return groups;
  } finally {
    await db.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(table)}`).catch(() => undefined);
  }
}
