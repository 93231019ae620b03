/**
 * Turns a dedupe query's conditions on the time column into the hub's bucket range [lo, hi).
 * The hub only knows buckets (of `bucketSeconds`, aligned to the Unix epoch), so a condition is
 * accepted only when the rows it selects are exactly a union of whole buckets — the answer must
 * equal the plaintext query's, never approximate it. The constants are evaluated by the
 * gateway's DuckDB (so `current_date - 7` means what it means in SQL), with the comparison's
 * own type rules: a DATE bound compared with a TIMESTAMP column is its midnight.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { DedupeParams } from '../../../planner/operators/dedupe.js';

export interface BucketRange {
  /** Inclusive lower bucket, or null (unbounded). */
  lo: number | null;
  /** Exclusive upper bucket, or null (unbounded). */
  hi: number | null;
  /** True when no row can satisfy the conditions (a NULL bound, an empty interval). */
  empty: boolean;
}

const DAY_MS = 86_400_000;
const I32 = 0x7fff_ffff;

const floorDiv = (a: number, b: number) => Math.floor(a / b);

export async function bucketRange(connection: DuckDBConnection, params: DedupeParams, timeColumn = 'the time column'): Promise<BucketRange> {
  const bucketMs = params.bucketSeconds * 1000;
  if (params.timeBounds.length === 0) return { lo: null, hi: null, empty: false };
  const castTo = params.timeType === 'timestamptz' ? 'TIMESTAMPTZ' : 'TIMESTAMP';
  const sql = `SELECT ${params.timeBounds.map((b) => `epoch_ms(CAST((${b.sql}) AS ${castTo}))`).join(', ')}`;
  const row = (await connection.runAndReadAll(sql)).getRows()[0];
  let lo = -Infinity;
  let hi = Infinity;
  let empty = false;
  const describe = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.000Z$/, '').replace(/ 00:00:00$/, '');
  const unit = params.bucketSeconds % 86_400 === 0 ? `${params.bucketSeconds / 86_400} day(s)` : `${params.bucketSeconds} second(s)`;
  const aligned = (ms: number, sqlText: string): number => {
    if (ms % bucketMs !== 0) {
      throw new SqlError(SqlState.featureNotSupported, `the dedupe hub of ${params.table} counts ${timeColumn} in buckets of ${unit}: the bound ${sqlText} (${describe(ms)}) is not on a bucket boundary, so the count could not equal the exact one`, {
        hint: `Compare with a bucket boundary, e.g. ${timeColumn} >= current_date - 7 (days are buckets of the hub).`,
      });
    }
    return ms / bucketMs;
  };
  const refuse = (op: string, sqlText: string): never => {
    throw new SqlError(SqlState.featureNotSupported, `the dedupe hub cannot answer ${timeColumn} ${op} ${sqlText} exactly for a ${params.timeType.toUpperCase()} column (only >= and < select whole buckets)`, {
      hint: `Write ${op === '>' ? '>=' : '<'} with a bucket boundary instead.`,
    });
  };
  params.timeBounds.forEach((b, i) => {
    const value = row[i];
    if (value === null || value === undefined) {
      empty = true; // comparison with NULL selects nothing
      return;
    }
    const ms = Number(value);
    const isDate = params.timeType === 'date';
    switch (b.op) {
      // A DATE column holds midnights: `d >= x` and `d < x` mean "from the first midnight ≥ x".
      case '>=':
        lo = Math.max(lo, aligned(isDate ? Math.ceil(ms / DAY_MS) * DAY_MS : ms, b.sql));
        break;
      case '<':
        hi = Math.min(hi, aligned(isDate ? Math.ceil(ms / DAY_MS) * DAY_MS : ms, b.sql));
        break;
      case '>': {
        if (!isDate) refuse('>', b.sql);
        // Dates (midnights) strictly after ms: from the next midnight on.
        lo = Math.max(lo, aligned((floorDiv(ms, DAY_MS) + 1) * DAY_MS, b.sql));
        break;
      }
      case '<=': {
        if (!isDate) refuse('<=', b.sql);
        hi = Math.min(hi, aligned((floorDiv(ms, DAY_MS) + 1) * DAY_MS, b.sql));
        break;
      }
      case '=': {
        if (!isDate) refuse('=', b.sql);
        if (ms % DAY_MS !== 0) {
          empty = true; // a date equals only a midnight
          break;
        }
        lo = Math.max(lo, aligned(ms, b.sql));
        hi = Math.min(hi, aligned(ms + DAY_MS, b.sql));
        break;
      }
    }
  });
  if (lo >= hi) empty = true;
  const clamp = (v: number) => Math.max(-I32 - 1, Math.min(I32, v));
  return { lo: Number.isFinite(lo) ? clamp(lo) : null, hi: Number.isFinite(hi) ? clamp(hi) : null, empty };
}
