/**
 * Exact result and parameter types for Describe. A client that prepares a statement is told
 * its column types once and may decode every later execution with them: PgJDBC's sixth run of
 * a PreparedStatement sends Bind + Execute without Describe and decodes binary results with the
 * types it saw. So the types Describe reports must be exactly the types execution produces, and
 * the binder's inferred types are not (DuckDB decides `SUM(int)` is HUGEINT, `NULL` INTEGER, …).
 *
 * DuckDB itself answers: the planned query (the whole optimised logical plan, before it is cut
 * into fragments) is rendered as DuckDB SQL over the generation's *shadow* tables — empty
 * tables with each published table's exact types (`gateway-catalog.ts`) — and `prepare`d, which
 * types every column and parameter without running anything. Execution then checks the
 * columns it produced against the description and casts (`castBatches`) when they differ.
 */
import type { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement } from '@duckdb/node-api';
import { Field, Schema, type RecordBatch } from 'apache-arrow';
import { loadArrowIntoDuckDB } from '../../connectors/arrow/arrow-to-duckdb.js';
import { DUCKDB_TYPE_METADATA_KEY } from '../../connectors/connector.js';
import { queryToArrow } from '../../connectors/arrow/duckdb-to-arrow.js';
import { duckdbTypeString } from '../../connectors/arrow/duckdb-types.js';
import { connectWithPostgresSemantics, quoteIdent } from '../../connectors/duckdb-session.js';
import type { Expr } from '../../parser/ast.js';
import { print } from '../../parser/index.js';
import type { PlannedQuery } from '../../planner/index.js';
import { mapPlanExpressions, type TableSource } from '../../planner/logical-plan.js';
import { mapExpr } from '../../planner/expr-utils.js';
import { typeName } from '../../planner/parameters.js';
import { formatDuckDBType, isFlexible, parseDuckDBType, type SqlType } from '../../planner/types.js';
import { unparse } from '../../planner/unparser.js';
import type { ResultColumn } from '../session-types.js';
import type { CatalogGeneration } from './gateway-catalog.js';

export interface ExactTypes {
  /** DuckDB type of each `$n` (index n-1); undefined where DuckDB could not tell. */
  params: (string | undefined)[];
  /** DuckDB type of each result column. */
  columns: string[];
}

/**
 * Prepares the planned query on the shadow catalog. Returns undefined when DuckDB cannot type
 * it (a table without shadow, or SQL only the real data makes valid): callers then fall back to
 * the planner's types.
 */
export async function exactTypes(
  connection: DuckDBConnection,
  planned: PlannedQuery,
  hints: (SqlType | undefined)[],
  generation: CatalogGeneration,
): Promise<ExactTypes | undefined> {
  let missingShadow = false;
  const tableName = (s: TableSource): string[] => {
    if (s.kind === 'gateway') return s.duckdbName;
    const shadow = generation.shadowName(s.party, s.table.name);
    if (!shadow) missingShadow = true;
    return shadow ?? [s.party, s.table.name];
  };
  const inferred = planned.bound.ctx.paramTypes;
  const render = (cast: (index: number) => SqlType | undefined): { sql: string; count: number } => {
    let count = 0;
    const plan = mapPlanExpressions(planned.physical.logical, (e) =>
      mapExpr(e, {
        expr: (x): Expr | undefined => {
          if (x.kind !== 'parameter') return undefined;
          count = Math.max(count, x.index);
          const t = cast(x.index);
          return t ? { kind: 'cast', expr: { ...x }, type: typeName(t), syntax: 'cast' } : { ...x };
        },
      }),
    );
    const query = unparse(plan, { tableName, outputNames: planned.physical.columns.map((_, i) => `c${i}`) });
    return { sql: print(query, { dialect: 'duckdb' }), count };
  };
  const hinted = (i: number) => (hints[i - 1] && !isFlexible(hints[i - 1]!) ? hints[i - 1] : undefined);
  const first = render(hinted);
  if (missingShadow) return undefined;
  const attempt = await prepareTypes(connection, first.sql);
  if (attempt && attempt.params.every((p) => p !== undefined) && attempt.columns.every((c) => c !== undefined)) {
    return { params: attempt.params, columns: attempt.columns as string[] };
  }
  // DuckDB could not type some parameter on its own (`SELECT $1`): fix those to the planner's
  // inference, else text, as Postgres types an unknown-typed literal, and ask again.
  const known = attempt?.params ?? [];
  const fallback = (i: number): SqlType => {
    const k = known[i - 1];
    if (k !== undefined) return parseDuckDBType(k);
    const t = hinted(i) ?? inferred.get(i);
    return t && !isFlexible(t) ? t : { id: 'varchar' };
  };
  const second = await prepareTypes(connection, render(fallback).sql);
  if (!second || second.columns.some((c) => c === undefined)) return undefined;
  const params = Array.from({ length: first.count }, (_, i) => second.params[i] ?? formatDuckDBType(fallback(i + 1)));
  return { params, columns: second.columns as string[] };
}

async function prepareTypes(connection: DuckDBConnection, sql: string): Promise<{ params: (string | undefined)[]; columns: (string | undefined)[] } | undefined> {
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await connection.prepare(sql);
  } catch {
    return undefined;
  }
  try {
    const params: (string | undefined)[] = [];
    for (let i = 1; i <= prepared.parameterCount; i++) params.push(safe(() => duckdbTypeString(prepared.parameterType(i))));
    const columns: (string | undefined)[] = [];
    for (let i = 0; i < prepared.columnCount; i++) columns.push(safe(() => duckdbTypeString(prepared.columnType(i))));
    return { params, columns };
  } finally {
    prepared.destroySync();
  }
}

function safe(f: () => string): string | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/**
 * Re-types a result to `target` by loading it into a gateway temp table and selecting it back
 * with casts. Only used when execution produced other types than Describe announced (rare), so
 * the extra copy is acceptable.
 */
export async function castBatches(
  gateway: DuckDBInstance,
  columns: ResultColumn[],
  batches: AsyncIterable<RecordBatch>,
  target: ResultColumn[],
  signal: AbortSignal,
): Promise<{ columns: ResultColumn[]; batches: AsyncIterable<RecordBatch> }> {
  const connection = await connectWithPostgresSemantics(gateway);
  let closed = false;
  const close = () => {
    if (!closed) connection.closeSync();
    closed = true;
  };
  try {
    const iterator = batches[Symbol.asyncIterator]();
    const first = await iterator.next();
    const schema = first.done ? undefined : first.value.schema;
    // Types from the data itself and from the result's columns: a batch schema with equally
    // named fields has had their metadata merged by Arrow JS.
    const fields = first.done
      ? []
      : first.value.data.children.map((d, i) => new Field(`c${i}`, d.type, true, new Map([[DUCKDB_TYPE_METADATA_KEY, columns[i].type]])));
    const table = '__veil_recast';
    const rest: AsyncIterable<RecordBatch> = {
      async *[Symbol.asyncIterator]() {
        if (!first.done) yield first.value;
        for (let n = await iterator.next(); !n.done; n = await iterator.next()) yield n.value;
      },
    };
    let source: string;
    if (schema) {
      await loadArrowIntoDuckDB(connection, table, new Schema(fields), rest, { signal, replace: true });
      source = `FROM temp.main.${quoteIdent(table)}`;
    } else {
      // No batch at all: an empty result of the target types.
      source = 'WHERE false';
    }
    const select = target
      .map((t, i) => `CAST(${schema ? quoteIdent(`c${i}`) : 'NULL'} AS ${t.type}) AS ${quoteIdent(`c${i}`)}`)
      .join(', ');
    const stream = await queryToArrow(connection, `SELECT ${select} ${source}`, { signal });
    // The batches keep their positional names (Arrow JS merges the metadata of equally named
    // fields); the client sees the announced names through `columns`.
    return {
      columns: target,
      batches: {
        async *[Symbol.asyncIterator]() {
          try {
            yield* stream;
          } finally {
            close();
          }
        },
      },
    };
  } catch (e) {
    close();
    throw e;
  }
}
