/**
 * DuckDB query results → Arrow record batches, streaming: DuckDB produces 2048-row chunks on
 * demand (`connection.stream`), the builders copy them column-wise, and a batch is emitted every
 * ~64K rows or ~4 MB, whichever comes first. Nothing runs ahead of the consumer: the next chunk
 * is fetched only when the consumer asks for the next batch, so memory is bounded by one batch
 * plus one DuckDB chunk regardless of the result size.
 */
import duckdb from '@duckdb/node-bindings';
import type { DuckDBConnection, DuckDBDataChunk, DuckDBResult, DuckDBType } from '@duckdb/node-api';
import { makeData, RecordBatch, Schema, Struct, type Data, type Field } from 'apache-arrow';
import type { FragmentStream } from '../connector.js';
import { abortReason } from '../abort.js';
import { createColumnBuilder, type ColumnBuilder } from './column-readers.js';
import { arrowFieldFor, duckdbTypeString, quoteIdentifier, textCastType } from './duckdb-types.js';

export const DEFAULT_BATCH_ROWS = 65_536;
export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
const DUCKDB_CHUNK_ROWS = duckdb.vector_size();

export interface DuckDBToArrowOptions {
  /** Emit a batch once it holds this many rows (default 65,536). */
  batchRows?: number;
  /** Emit a batch once its buffers hold about this many bytes (default 4 MiB). */
  batchBytes?: number;
  /** Stops fetching; the iteration then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * The column types to describe in the schema when they differ from the result's (the result
   * of a cast wrapper, see `queryToArrow`). The Arrow types must be the same.
   */
  declaredTypes?: readonly DuckDBType[];
}

/** What `duckdbResultToArrow` needs from a result: node-api's `DuckDBResult` is one. */
export interface DuckDBChunkSource {
  readonly columnCount: number;
  columnName(index: number): string;
  columnType(index: number): DuckDBType;
  fetchChunk(): Promise<DuckDBDataChunk | null>;
}

/**
 * Streams a DuckDB result as Arrow. The schema is available immediately; iterate once to pull
 * the batches. An empty result yields no batches.
 */
export function duckdbResultToArrow(result: DuckDBChunkSource | DuckDBResult, options: DuckDBToArrowOptions = {}): FragmentStream {
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  const count = result.columnCount;
  const fields: Field[] = [];
  const actualTypes: DuckDBType[] = [];
  for (let i = 0; i < count; i++) {
    const actual = result.columnType(i);
    const declared = options.declaredTypes?.[i] ?? actual;
    fields.push(arrowFieldFor(result.columnName(i), declared));
    actualTypes.push(actual);
  }
  // Builders read the vectors' actual types and produce the declared fields' Arrow types. They
  // are made at the first chunk and sized by it: a result shorter than one DuckDB chunk (an
  // aggregate's single row) gets buffers for its rows, not for a full batch per column (which
  // was megabytes of zeroed garbage per fragment).
  let builders: ColumnBuilder[] = [];
  const makeBuilders = (firstChunkRows: number) => {
    const initialRows = firstChunkRows < DUCKDB_CHUNK_ROWS ? firstChunkRows : Math.min(batchRows, DEFAULT_BATCH_ROWS);
    builders = fields.map((f, i) => createColumnBuilder(actualTypes[i], f.type, initialRows));
  };
  const schema = new Schema(fields);
  const structType = new Struct(fields);
  let started = false;

  const flush = (length: number): RecordBatch => {
    const children: Data[] = builders.map((b) => b.flush());
    return new RecordBatch(schema, makeData({ type: structType, length, children, nullCount: 0 }));
  };

  async function* batches(): AsyncGenerator<RecordBatch> {
    if (started) throw new Error('a fragment stream can only be iterated once');
    started = true;
    let rows = 0;
    // Chunks are copied in slices so that wide rows (long strings, big lists) still cut batches
    // near the byte target instead of at DuckDB's 2048-row granularity. The slice length adapts
    // to the row width seen so far; it starts small because the first chunk could be huge.
    let sliceRows = 64;
    let seenRows = 0;
    let seenBytes = 0;
    for (;;) {
      throwIfAborted(options.signal);
      const chunk = await result.fetchChunk();
      throwIfAborted(options.signal);
      const n = chunk?.rowCount ?? 0;
      if (!chunk || n === 0) break;
      if (builders.length < count) makeBuilders(n);
      const raw = chunk.chunk;
      const vectors = Array.from({ length: count }, (_, c) => duckdbChunkVector(raw, c));
      for (let offset = 0; offset < n; ) {
        const take = Math.min(n - offset, sliceRows, batchRows - rows);
        const before = bufferedBytes(builders);
        for (let c = 0; c < count; c++) builders[c].append(vectors[c], n, offset, take);
        const after = bufferedBytes(builders);
        offset += take;
        rows += take;
        seenRows += take;
        seenBytes += after - before;
        if (rows >= batchRows || after >= batchBytes) {
          yield flush(rows);
          rows = 0;
        }
        const rowBytes = Math.max(1, seenBytes / seenRows);
        sliceRows = Math.max(16, Math.min(DUCKDB_CHUNK_ROWS, Math.floor(batchBytes / rowBytes / 4)));
      }
    }
    if (rows > 0) yield flush(rows);
  }

  return {
    schema,
    [Symbol.asyncIterator]: () => batches(),
  };
}

function duckdbChunkVector(chunk: duckdb.DataChunk, column: number): duckdb.Vector {
  return duckdb.data_chunk_get_vector(chunk, column);
}

function bufferedBytes(builders: ColumnBuilder[]): number {
  let n = 0;
  for (const b of builders) n += b.byteLength;
  return n;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Runs `sql` on `connection` and streams the result as Arrow. Columns whose type travels as
 * text (MAP, UNION, BIT, ARRAY, TIME WITH TIME ZONE, …, also inside lists and structs) are cast
 * to VARCHAR by DuckDB, so their text is exactly DuckDB's cast; the schema still names the
 * original types. Aborting `signal` interrupts the running query.
 */
export async function queryToArrow(connection: DuckDBConnection, sql: string, options: DuckDBToArrowOptions = {}): Promise<FragmentStream> {
  throwIfAborted(options.signal);
  const prepared = await connection.prepare(sql);
  const types: DuckDBType[] = [];
  const names: string[] = [];
  for (let i = 0; i < prepared.columnCount; i++) {
    types.push(prepared.columnType(i));
    names.push(prepared.columnName(i));
  }
  const casts = types.map((t) => textCastType(t));
  let result: DuckDBResult;
  const onAbort = () => connection.interrupt();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (casts.every((c) => c === undefined)) {
      result = await prepared.stream();
    } else {
      // Positional aliases make the wrapper immune to duplicate or odd column names.
      const inner = names.map((_, i) => quoteIdentifier(`c${i}`)).join(', ');
      const select = names
        .map((name, i) => {
          const col = quoteIdentifier(`c${i}`);
          const cast = casts[i];
          return `${cast ? `CAST(${col} AS ${duckdbTypeString(cast)})` : col} AS ${quoteIdentifier(name)}`;
        })
        .join(', ');
      result = await connection.stream(`SELECT ${select} FROM (\n${stripTrailingSemicolon(sql)}\n) AS q(${inner})`);
    }
  } catch (e) {
    options.signal?.removeEventListener('abort', onAbort);
    throw e;
  }
  const stream = duckdbResultToArrow(result, { ...options, declaredTypes: types });
  return {
    schema: stream.schema,
    async *[Symbol.asyncIterator]() {
      try {
        yield* stream;
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}

function stripTrailingSemicolon(sql: string): string {
  return sql.replace(/;\s*$/, '');
}
