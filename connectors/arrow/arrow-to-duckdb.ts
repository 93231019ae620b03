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
  const fields = schema.fields;
  if (fields.length === 0) {
    throw new SqlError(SqlState.featureNotSupported, `cannot create table "${tableName}" without columns`);
  }
  const storageTypes: DuckDBType[] = fields.map((f) => storageTypeForField(f, f.name));
  const writers: ColumnWriter[] = fields.map((f) => createColumnWriter(f));
  const columns = fields.map((f) => `${quoteIdentifier(f.name)} ${declaredTypeForField(f)}`).join(', ');
  const table = quoteIdentifier(tableName);
  await connection.run(`CREATE ${options.replace ? 'OR REPLACE ' : ''}TEMP TABLE ${table} (${columns})`);

  const appender = await connection.createAppender(tableName, 'main', 'temp');
  const chunkRows = duckdb.vector_size();
  let rows = 0;
  let batchCount = 0;
  try {
    for await (const batch of batches) {
      if (options.signal?.aborted) throw abortReason(options.signal);
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
    appender.flushSync();
  } catch (e) {
    try {
      appender.closeSync();
    } catch {
      // The append error is the one worth reporting.
    }
    await connection.run(`DROP TABLE IF EXISTS temp.main.${table}`).catch(() => undefined);
    throw e;
  }
  appender.closeSync();
  return { rows, batches: batchCount };
}

