/**
 * DuckDB errors raised while the gateway runs a statement's final SQL (over fragment results
 * and the emulated catalog), or reported by a party for its fragment (as XX000 with DuckDB's
 * text) → SqlError with the SQLSTATE Postgres uses for the same failure.
 * DuckDB prefixes its messages with an error class (`Conversion Error: …`); the class decides
 * the code, the rest is the message. Names of the gateway's internal catalog generations
 * (`veil_g7_pg_catalog`) are shown as the schemas the client wrote.
 */
import type { RecordBatch } from 'apache-arrow';
import { SqlError, SqlState } from '../parser/errors.js';

/**
 * SQLSTATE per DuckDB error type, keyed as DuckDB's C API names them (DUCKDB_ERROR_<TYPE>). The
 * class DuckDB prints ("Out of Range Error: …") is that name in words.
 */
const CODES: Record<string, string> = {
  CONVERSION: SqlState.invalidTextRepresentation,
  OUT_OF_RANGE: '22003',
  INVALID_INPUT: SqlState.invalidParameterValue,
  BINDER: SqlState.datatypeMismatch,
  CATALOG: '42704',
  PARSER: SqlState.syntaxError,
  NOT_IMPLEMENTED: SqlState.featureNotSupported,
  OUT_OF_MEMORY: '53200',
  INTERRUPT: SqlState.queryCanceled,
};

const CLASS_PREFIX = /^([A-Za-z][A-Za-z ]*?) Error: /;

/** The SQLSTATE and the message without DuckDB's class prefix, for a DuckDB error's first line. */
function classify(first: string): { code: string; message: string } | undefined {
  if (first.startsWith('Interrupted')) return { code: SqlState.queryCanceled, message: first };
  const m = CLASS_PREFIX.exec(first);
  const code = m ? CODES[m[1].toUpperCase().replace(/ /g, '_')] : undefined;
  return m && code ? { code, message: first.slice(m[0].length) } : undefined;
}

export function fromDuckDBError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  // A party reports DuckDB failures of its fragment as XX000 with DuckDB's text (and its own
  // name): the same classes, so the same codes.
  if (e instanceof SqlError && e.sqlstate !== SqlState.internalError) return e;
  const lines = e.message.split('\n');
  const classified = classify(lines[0]);
  if (!classified) return e;
  const { code } = classified;
  const party = e instanceof SqlError ? / \(at party "[^"]+"\)$/.exec(lines[lines.length - 1])?.[0] ?? '' : '';
  let message = classified.message.replace(/\bveil_g\d+_(pg_catalog|information_schema|shadow)\b/g, '$1');
  if (party && !message.endsWith(party)) message += party;
  if (/division by zero/i.test(message)) return new SqlError(SqlState.divisionByZero, `division by zero${party}`);
  if (code === SqlState.queryCanceled) message = 'canceling statement due to user request';
  const extra = e instanceof SqlError ? { detail: e.detail, hint: e.hint } : {};
  return new SqlError(code, message, extra);
}

/** The same batches, with DuckDB errors raised during iteration translated. */
export function translatingErrors(batches: AsyncIterable<RecordBatch>): AsyncIterable<RecordBatch> {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        yield* batches;
      } catch (e) {
        throw fromDuckDBError(e);
      }
    },
  };
}
