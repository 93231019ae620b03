/**
 * The Arrow codec of `arrow-contract.ts`, in one import: DuckDB results → Arrow batches
 * (party side), Arrow batches → a DuckDB temp table (requester side), and the IPC stream
 * framing used on the wire. The implementation lives in `connectors/arrow/`.
 */
export {
  duckdbResultToArrow,
  queryToArrow,
  DEFAULT_BATCH_BYTES,
  DEFAULT_BATCH_ROWS,
  type DuckDBChunkSource,
  type DuckDBToArrowOptions,
} from './arrow/duckdb-to-arrow.js';
export { loadArrowIntoDuckDB, type LoadArrowOptions, type LoadArrowResult } from './arrow/arrow-to-duckdb.js';
export { arrowToIpcStream, ipcStreamToArrow, IpcStreamEncoder, ARROW_STREAM_CONTENT_TYPE } from './arrow/ipc.js';
export { arrowFieldFor, duckdbTypeString, declaredTypeForField } from './arrow/duckdb-types.js';
