/**
 * Arrow record batches → a DuckDB TEMP table, for the requester side: fragment results from
 * remote parties land in the gateway's DuckDB so the final plaintext work (joins with local
 * data, ORDER BY, LIMIT) is plain SQL again.
 *
 * The table's column types come from each field's `veilsql.type` metadata (the source of truth
 * per arrow-contract.ts). Batches are written into data chunks whose types mirror the Arrow
 * buffers (`storageTypeForField`) and appended with DuckDB's appender, which casts to the table
 * types where they differ (text → HUGEINT/UUID/ENUM/MAP…, µs → TIMESTAMP_NS, …), so every type
 * round-trips exactly through DuckDB's own casts.
 */
import { DuckDBDataChunk, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import type { RecordBatch, Schema } from 'apache-arrow';
import { SqlError, SqlState } from '../../parser/errors.js';
import { abortReason } from '../abort.js';
import { createColumnWriter, type ColumnWriter } from './column-writers.js';
import { declaredTypeForField, quoteIdentifier, storageTypeForField } from './duckdb-types.js';

export interface LoadArrowOptions {
  signal?: AbortSignal;
  /** Replace an existing temp table of the same name instead of failing. */
  replace?: boolean;
}

export interface LoadArrowResult {
  rows: number;
  batches: number;
}

/**
 * Creates TEMP table `tableName` with the schema's DuckDB types and appends every batch.
 * Resolves when all batches are in (the appender is flushed); on error the partially loaded
 * table is dropped.
 */
export async function loadArrowIntoDuckDB(
  connection: DuckDBConnection,
  tableName: string,
  schema: Schema,
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  options: LoadArrowOptions = {},
): Promise<LoadArrowResult> {
  const target = await createArrowTable(connection, tableName, schema, options);
  try {
    const result = await target.append(schema, batches, options.signal);
    target.close();
    return result;
  } catch (e) {
    target.abandon();
    await connection.run(`DROP TABLE IF EXISTS temp.main.${quoteIdentifier(tableName)}`).catch(() => undefined);
    throw e;
  }
}

/** A TEMP table being filled from Arrow batches (possibly from several streams of one schema). */
export interface ArrowTable {
  /** Appends every batch; a batch must have the table's column count. Rows are buffered until `close`. */
  append(schema: Schema, batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>, signal?: AbortSignal): Promise<LoadArrowResult>;
  /** Flushes the buffered rows into the table and releases the appender. */
  close(): void;
  /** Releases the appender without flushing (the table is about to be dropped). */
  abandon(): void;
}

/**
 * Creates TEMP table `tableName` typed by the schema's `veilsql.type` metadata, with the
 * schema's field names or `columnNames`, and opens an appender on it. Every stream appended must
 * declare the same DuckDB types (DuckDB's appender does not convert, e.g., between DECIMAL
 * scales); callers with streams of different types load them separately.
 */
export async function createArrowTable(
  connection: DuckDBConnection,
  tableName: string,
  schema: Schema,
  options: { replace?: boolean; columnNames?: readonly string[] } = {},
): Promise<ArrowTable> {
  const fields = schema.fields;
  if (fields.length === 0) {
    throw new SqlError(SqlState.featureNotSupported, `cannot create table "${tableName}" without columns`);
  }
  const names = options.columnNames ?? fields.map((f) => f.name);
  const columns = fields.map((f, i) => `${quoteIdentifier(names[i])} ${declaredTypeForField(f)}`).join(', ');
  await connection.run(`CREATE ${options.replace ? 'OR REPLACE ' : ''}TEMP TABLE ${quoteIdentifier(tableName)} (${columns})`);
  const appender = await connection.createAppender(tableName, 'main', 'temp');
  const chunkRows = duckdb.vector_size();
  let open = true;
  /** Closes the appender once; when abandoning, its errors are not the ones worth reporting. */
  const finish = (flush: boolean) => {
    if (!open) return;
    open = false;
    try {
      if (flush) appender.flushSync();
    } finally {
      try {
        appender.closeSync();
      } catch (e) {
        if (flush) throw e;
      }
    }
  };
  return {
    async append(streamSchema, batches, signal) {
      const streamFields = streamSchema.fields;
      if (streamFields.length !== fields.length) {
        throw new SqlError(SqlState.protocolViolation, `a stream of ${streamFields.length} columns cannot fill "${tableName}", which has ${fields.length}`);
      }
      const storageTypes: DuckDBType[] = streamFields.map((f) => storageTypeForField(f, f.name));
      const writers: ColumnWriter[] = streamFields.map((f) => createColumnWriter(f));
      let rows = 0;
      let batchCount = 0;
      for await (const batch of batches) {
        if (signal?.aborted) throw abortReason(signal);
        if (batch.numCols !== fields.length) {
          throw new SqlError(SqlState.protocolViolation, `batch has ${batch.numCols} columns, the schema of "${tableName}" has ${fields.length}`);
        }
        const columnsData = batch.data.children;
        for (let start = 0; start < batch.numRows; start += chunkRows) {
          const count = Math.min(chunkRows, batch.numRows - start);
          // A fresh chunk per append: list child sizes and validity masks never leak between chunks.
          const chunk = DuckDBDataChunk.create(storageTypes);
          chunk.rowCount = count;
          for (let c = 0; c < writers.length; c++) {
            writers[c].write(duckdb.data_chunk_get_vector(chunk.chunk, c), columnsData[c], start, count);
          }
          appender.appendDataChunk(chunk);
        }
        rows += batch.numRows;
        batchCount++;
      }
      return { rows, batches: batchCount };
    },
    close: () => finish(true),
    abandon: () => finish(false),
  };
}
