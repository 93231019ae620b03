/**
 * `SELECT 1`, `SELECT 'x' AS a, true, NULL`: a select of literals with no FROM or other clause.
 * Connection pools and health checks send these constantly (and pgbench measures them), and
 * they need neither parties nor DuckDB: the row is built here, with exactly the types DuckDB
 * would give the same select (an int32-sized integer literal is INTEGER, a larger one BIGINT, a
 * string VARCHAR, NULL INTEGER), so Describe and execution agree with the planned path.
 */
import { Bool, Field, Int32, Int64, makeData, RecordBatch, Schema, Struct, Utf8, vectorFromArray, type DataType } from 'apache-arrow';
import { DUCKDB_TYPE_METADATA_KEY } from '../connectors/connector.js';
import type { Expr, Query } from '../parser/ast.js';
import { figureLabel } from '../planner/binder/bind-query.js';
import type { ResultColumn } from './session-types.js';

type Value = number | bigint | string | boolean | null;

interface Constant {
  value: Value;
  type: 'INTEGER' | 'BIGINT' | 'VARCHAR' | 'BOOLEAN';
}

const INT32_MAX = 2147483647n;
const INT64_MAX = 9223372036854775807n;

function constant(e: Expr): Constant | undefined {
  switch (e.kind) {
    case 'number':
    case 'unary': {
      const negative = e.kind === 'unary';
      if (e.kind === 'unary' && (e.op !== '-' || e.operand.kind !== 'number')) return undefined;
      const text = e.kind === 'number' ? e.text : (e.operand as { text: string }).text;
      if (!/^\d+$/.test(text)) return undefined;
      const v = negative ? -BigInt(text) : BigInt(text);
      // DuckDB types an integer literal by its magnitude: INTEGER, then BIGINT.
      if (v <= INT32_MAX && v >= -INT32_MAX - 1n) return { value: Number(v), type: 'INTEGER' };
      if (v <= INT64_MAX && v >= -INT64_MAX - 1n) return { value: v, type: 'BIGINT' };
      return undefined;
    }
    case 'string':
      return { value: e.value, type: 'VARCHAR' };
    case 'boolean':
      return { value: e.value, type: 'BOOLEAN' };
    case 'null':
      return { value: null, type: 'INTEGER' };
    case 'cast': {
      const inner = constant(e.expr);
      const name = e.type.name;
      if (!inner || (e.type.arrayDims ?? 0) > 0 || e.type.args) return undefined;
      if ((name === 'varchar' || name === 'text') && (inner.type === 'VARCHAR' || inner.value === null)) return { value: inner.value, type: 'VARCHAR' };
      return undefined;
    }
    default:
      return undefined;
  }
}

export interface ConstantSelect {
  columns: ResultColumn[];
  values: Value[];
}

/** The columns and row of a select of literals, or undefined when `query` is anything else. */
export function constantSelect(query: Query): ConstantSelect | undefined {
  const s = query.body;
  if (query.with || query.orderBy || query.limit || query.offset || s.kind !== 'select') return undefined;
  if (s.distinct || s.from || s.where || s.groupBy || s.having || s.windows || s.privacy || s.items.length === 0) return undefined;
  const columns: ResultColumn[] = [];
  const values: Value[] = [];
  for (const item of s.items) {
    if (item.kind !== 'expr_item') return undefined;
    const c = constant(item.expr);
    if (!c) return undefined;
    columns.push({ name: item.alias ?? figureLabel(item.expr), type: c.type });
    values.push(c.value);
  }
  return { columns, values };
}

const ARROW: Record<Constant['type'], () => DataType> = {
  INTEGER: () => new Int32(),
  BIGINT: () => new Int64(),
  VARCHAR: () => new Utf8(),
  BOOLEAN: () => new Bool(),
};

/** The one-row result as an Arrow batch following connectors/arrow-contract.ts. */
export function constantBatch(c: ConstantSelect): RecordBatch {
  const fields = c.columns.map((col) => new Field(col.name, ARROW[col.type as Constant['type']](), true, new Map([[DUCKDB_TYPE_METADATA_KEY, col.type]])));
  const children = fields.map((f, i) => vectorFromArray([c.values[i]], f.type).data[0]);
  const schema = new Schema(fields);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: 1, nullCount: 0, children }));
}

/**
 * Results of selects whose text alone fixes the answer (`SELECT 1`: literals only, nothing the
 * session or the catalog could change), by SQL text, shared by all sessions. A pool's health
 * check then costs a map lookup: no parse, no rewrite, no Arrow building.
 */
const CACHE_SIZE = 256;
const cache = new Map<string, { columns: ResultColumn[]; batch: RecordBatch }>();

export function cachedConstant(sql: string): { columns: ResultColumn[]; batch: RecordBatch } | undefined {
  return cache.get(sql);
}

export function rememberConstant(sql: string, c: ConstantSelect, batch: RecordBatch): void {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(sql, { columns: c.columns, batch });
}

/** A single-batch result; cheaper than an async generator per query. */
export function oneBatch(batch: RecordBatch): AsyncIterable<RecordBatch> {
  return {
    [Symbol.asyncIterator]() {
      let done = false;
      return {
        next: async () => {
          if (done) return { done: true, value: undefined };
          done = true;
          return { done: false, value: batch };
        },
        return: async () => {
          done = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
}
