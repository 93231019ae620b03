/**
 * Maps failures to ErrorResponse/NoticeResponse fields. Every user-facing failure is a
 * `SqlError` and goes out as is (SQLSTATE, message, detail, hint, position). Anything else is a
 * bug or an infrastructure failure whose text may leak internals (paths, peer addresses, key
 * material), so the client gets a generic XX000 and the real error goes to the log.
 */
import { SqlError, SqlState } from '../../parser/errors.js';

export type Severity = 'ERROR' | 'FATAL';

/** A violation of the wire protocol by the client; FATAL ones end the connection. */
export class ProtocolViolation extends SqlError {
  readonly fatal: boolean;
  constructor(message: string, fatal = true, sqlstate: string = SqlState.protocolViolation) {
    super(sqlstate, message);
    this.name = 'ProtocolViolation';
    this.fatal = fatal;
  }
}

export interface ErrorLogger {
  error(message: string, meta?: Record<string, unknown>): void;
}

export const QUERY_CANCELED_MESSAGE = 'canceling statement due to user request';

export function queryCanceled(): SqlError {
  return new SqlError(SqlState.queryCanceled, QUERY_CANCELED_MESSAGE);
}

/** Normalises anything thrown into a SqlError, logging the ones the client must not see. */
export function toSqlError(err: unknown, logger?: ErrorLogger, context?: Record<string, unknown>): SqlError {
  if (err instanceof SqlError) return err;
  logger?.error('internal error while serving a client', {
    ...context,
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
  return new SqlError(SqlState.internalError, 'internal error', {
    hint: 'The server log has the details.',
  });
}

/**
 * ErrorResponse fields. `positionOffset` shifts the statement-relative position to the whole
 * query string: with several statements in one simple Query, Postgres (and psql's `^` marker)
 * count from the start of the message, not of the failing statement.
 */
export function errorFields(err: SqlError, severity: Severity = 'ERROR', positionOffset = 0): [string, string][] {
  const f: [string, string][] = [
    ['S', severity],
    ['V', severity],
    ['C', err.sqlstate],
    ['M', err.message],
  ];
  if (err.detail !== undefined) f.push(['D', err.detail]);
  if (err.hint !== undefined) f.push(['H', err.hint]);
  if (err.position !== undefined && err.position > 0) f.push(['P', String(err.position + positionOffset)]);
  return f;
}
