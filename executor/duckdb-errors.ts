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

const CLASSES: [RegExp, string][] = [
  [/^Conversion Error: /, SqlState.invalidTextRepresentation],
  [/^Out of Range Error: /, '22003'],
  [/^Invalid Input Error: /, SqlState.invalidParameterValue],
  [/^Binder Error: /, SqlState.datatypeMismatch],
  [/^Catalog Error: /, '42704'],
  [/^Parser Error: /, SqlState.syntaxError],
  [/^Not implemented Error: /, SqlState.featureNotSupported],
  [/^Out of Memory Error: /, '53200'],
  [/^INTERRUPT Error: |^Interrupted/, SqlState.queryCanceled],
];

export function fromDuckDBError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  // A party reports DuckDB failures of its fragment as XX000 with DuckDB's text (and its own
  // name): the same classes, so the same codes.
  if (e instanceof SqlError && e.sqlstate !== SqlState.internalError) return e;
  const lines = e.message.split('\n');
  const first = lines[0];
  const party = e instanceof SqlError ? / \(at party "[^"]+"\)$/.exec(lines[lines.length - 1])?.[0] ?? '' : '';
  for (const [re, code] of CLASSES) {
    if (!re.test(first)) continue;
    let message = first.replace(re, '').replace(/\bveil_g\d+_(pg_catalog|information_schema|shadow)\b/g, '$1');
    if (party && !message.endsWith(party)) message += party;
    if (/division by zero/i.test(message)) return new SqlError(SqlState.divisionByZero, `division by zero${party}`);
    if (code === SqlState.queryCanceled) message = 'canceling statement due to user request';
    const extra = e instanceof SqlError ? { detail: e.detail, hint: e.hint } : {};
    return new SqlError(code, message, extra);
  }
  return e;
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
